package sandbox

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"mime"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
	"golang.org/x/text/language"

	"jastar/bot/telegramtest"
	"jastar/storage/catalog"
)

//go:embed web
var webFS embed.FS

// pageTOML holds the page's own texts in Kazakh, Russian and English.
//
//go:embed page.toml
var pageTOML []byte

// pageLangs are the languages of the page, in the order of its switch;
// English, first, is the one for a browser that asks for none of them.
var pageLangs = []string{"en", "kk", "ru"}

// langCookie remembers the language picked with the page's switch.
const langCookie = "jastar_sandbox_lang"

// Options configures the page.
type Options struct {
	// Personas the visitor can be; default DefaultPersonas.
	Personas []Persona
	// StaffChatID is the staff group shown beside the visitor's chat; it
	// must be registered with the fake (AddGroup). Default StaffChatID.
	StaffChatID    int64
	StaffChatTitle string
	// Catalog lists the settlements of the location picker; nil means the
	// picker offers typed coordinates only.
	Catalog *catalog.Catalog
	// Heartbeat is how often an idle event stream sends a comment, so
	// proxies and browsers keep it open. Default 15 s.
	Heartbeat time.Duration
}

// Limits of the JSON API. Texts follow Telegram's own: a message is 1-4096
// characters (https://core.telegram.org/bots/api#sendmessage), callback data
// 1-64 bytes (https://core.telegram.org/bots/api#inlinekeyboardbutton).
const (
	maxBodyBytes    = 64 << 10
	maxTextUnits    = 4096
	maxCallbackData = 64
)

type handler struct {
	srv      *telegramtest.Server
	opts     Options
	personas map[int64]Persona
	mux      *http.ServeMux
	page     *template.Template
	texts    map[string]map[string]string // language -> key -> text
	matcher  language.Matcher             // over pageLangs
}

// New returns the page and its JSON API under /api/, acting on srv.
func New(srv *telegramtest.Server, opts Options) (http.Handler, error) {
	if len(opts.Personas) == 0 {
		opts.Personas = DefaultPersonas()
	}
	if opts.StaffChatID == 0 {
		opts.StaffChatID, opts.StaffChatTitle = StaffChatID, StaffChatTitle
	}
	if opts.StaffChatID >= 0 {
		return nil, fmt.Errorf("staff chat id %d is not a group id (groups are negative)", opts.StaffChatID)
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 15 * time.Second
	}
	h := &handler{srv: srv, opts: opts, personas: make(map[int64]Persona), mux: http.NewServeMux()}
	for _, p := range opts.Personas {
		if p.ID <= 0 || (p.Lang != "kk" && p.Lang != "ru") {
			return nil, fmt.Errorf("persona %q: want a positive id and language kk or ru", p.Name)
		}
		if _, dup := h.personas[p.ID]; dup {
			return nil, fmt.Errorf("persona id %d used twice", p.ID)
		}
		h.personas[p.ID] = p
	}
	static, err := fs.Sub(webFS, "web")
	if err != nil {
		return nil, err
	}
	if h.texts, err = loadTexts(); err != nil {
		return nil, err
	}
	if h.page, err = template.New("index.html").Option("missingkey=error").ParseFS(static, "index.html"); err != nil {
		return nil, fmt.Errorf("sandbox page: %w", err)
	}
	var tags []language.Tag
	for _, l := range pageLangs {
		tags = append(tags, language.MustParse(l))
	}
	h.matcher = language.NewMatcher(tags)
	h.mux.HandleFunc("GET /{$}", h.index)
	h.mux.HandleFunc("GET /index.html", h.index)
	h.mux.Handle("GET /", http.FileServerFS(static))
	h.mux.HandleFunc("GET /api/config", h.config)
	h.mux.HandleFunc("GET /api/history", h.history)
	h.mux.HandleFunc("GET /api/events", h.events)
	h.mux.HandleFunc("GET /api/file", h.file)
	h.mux.HandleFunc("POST /api/send", h.send)
	h.mux.HandleFunc("POST /api/press", h.press)
	h.mux.HandleFunc("POST /api/location", h.location)
	h.mux.HandleFunc("POST /api/contact", h.contact)
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The page runs our own script only; nothing it shows may load or run
	// anything else (photos are served by us, links open in a new tab).
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if !loopbackHost(r.Host) {
		// DNS rebinding: a web page whose name now resolves to 127.0.0.1
		// reaches us as same-origin, but its Host header keeps its own name.
		apiError(w, http.StatusMisdirectedRequest, "Host: the sandbox answers only to localhost, 127.0.0.1 or [::1]")
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); r.Method == http.MethodPost && ct != "application/json" {
		// A cross-site form cannot send application/json without a CORS
		// preflight we never answer, so this stops drive-by posts too.
		apiError(w, http.StatusUnsupportedMediaType, "want Content-Type: application/json")
		return
	}
	h.mux.ServeHTTP(w, r)
}

// loadTexts reads page.toml and checks that every language has every key,
// so the page never shows a key or a gap.
func loadTexts() (map[string]map[string]string, error) {
	var texts map[string]map[string]string
	if err := toml.Unmarshal(pageTOML, &texts); err != nil {
		return nil, fmt.Errorf("page.toml: %w", err)
	}
	for _, l := range pageLangs {
		if len(texts[l]) == 0 {
			return nil, fmt.Errorf("page.toml: no [%s] texts", l)
		}
		for k := range texts[pageLangs[0]] {
			if strings.TrimSpace(texts[l][k]) == "" {
				return nil, fmt.Errorf("page.toml: [%s] lacks %s", l, k)
			}
		}
		if len(texts[l]) != len(texts[pageLangs[0]]) {
			return nil, fmt.Errorf("page.toml: [%s] has keys [%s] lacks", l, pageLangs[0])
		}
	}
	return texts, nil
}

// pageLang is the language of the page for r: the switch's ?lang= (which
// the cookie then remembers), the cookie, else the browser's
// Accept-Language, else English.
func (h *handler) pageLang(r *http.Request) string {
	valid := func(l string) bool { return h.texts[l] != nil }
	if l := r.URL.Query().Get("lang"); valid(l) {
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && valid(c.Value) {
		return c.Value
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return pageLangs[0]
	}
	_, i, conf := h.matcher.Match(tags...)
	if conf == language.No {
		return pageLangs[0]
	}
	return pageLangs[i]
}

// index serves the page in its language.
func (h *handler) index(w http.ResponseWriter, r *http.Request) {
	lang := h.pageLang(r)
	if r.URL.Query().Get("lang") == lang {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteStrictMode, HttpOnly: true})
	}
	type option struct {
		Code, Name string
		Selected   bool
	}
	var langs []option
	for _, l := range pageLangs {
		langs = append(langs, option{Code: l, Name: h.texts[l]["lang_name"], Selected: l == lang})
	}
	var buf bytes.Buffer
	if err := h.page.Execute(&buf, struct {
		Lang  string
		T     map[string]string
		Langs []option
	}{lang, h.texts[lang], langs}); err != nil {
		apiError(w, http.StatusInternalServerError, "render the page: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", lang)
	w.Header().Set("Vary", "Accept-Language, Cookie")
	_, _ = w.Write(buf.Bytes())
}

// loopbackHost reports whether a Host header names this computer: localhost
// or a loopback address, with or without a port. The port needs no check: a
// page of another origin cannot send a Host of ours, and the listener
// already binds to loopback only.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else {
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// apiError answers {"error": msg}.
func apiError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// settlement is an entry of the location picker.
type settlement struct {
	Center string  `json:"center"`
	KK     string  `json:"kk"`
	RU     string  `json:"ru"`
	Lat    float64 `json:"lat"`
	Lon    float64 `json:"lon"`
}

type personaJSON struct {
	Persona
	Label string `json:"label"`
}

func (h *handler) config(w http.ResponseWriter, _ *http.Request) {
	out := struct {
		Personas    []personaJSON `json:"personas"`
		StaffChat   int64         `json:"staff_chat"`
		StaffTitle  string        `json:"staff_title"`
		BotName     string        `json:"bot_name"`
		BotUsername string        `json:"bot_username"`
		Settlements []settlement  `json:"settlements"`
	}{StaffChat: h.opts.StaffChatID, StaffTitle: h.opts.StaffChatTitle}
	for _, p := range h.opts.Personas {
		out.Personas = append(out.Personas, personaJSON{Persona: p, Label: p.Label()})
	}
	bot := h.srv.Bot()
	out.BotName, out.BotUsername = bot.FirstName, bot.UserName
	out.Settlements = []settlement{}
	if h.opts.Catalog != nil {
		for _, c := range h.opts.Catalog.Centers {
			if c.Online {
				continue
			}
			out.Settlements = append(out.Settlements, settlement{
				Center: c.ID, KK: c.Settlement.In("kk"), RU: c.Settlement.In("ru"), Lat: c.Lat, Lon: c.Lon,
			})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// persona resolves the "as" parameter.
func (h *handler) persona(raw string) (Persona, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return Persona{}, errors.New("as: not a persona id")
	}
	p, ok := h.personas[id]
	if !ok {
		return Persona{}, errors.New("as: unknown persona")
	}
	return p, nil
}

// chatOf checks that the persona may see chat: their own private chat or
// the staff group, which every persona may watch to see what staff get.
func (h *handler) chatOf(p Persona, chat int64) error {
	if chat == p.ID || chat == h.opts.StaffChatID {
		return nil
	}
	return errors.New("chat: not this persona's chat nor the staff group")
}

// query resolves ?as=&chat= of a GET.
func (h *handler) query(r *http.Request) (Persona, int64, error) {
	p, err := h.persona(r.URL.Query().Get("as"))
	if err != nil {
		return p, 0, err
	}
	chat, err := strconv.ParseInt(r.URL.Query().Get("chat"), 10, 64)
	if err != nil {
		return p, 0, errors.New("chat: not a chat id")
	}
	return p, chat, h.chatOf(p, chat)
}

func (h *handler) history(w http.ResponseWriter, r *http.Request) {
	p, chat, err := h.query(r)
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	out := []message{}
	for _, m := range h.srv.Transcript(chat) {
		if !m.Deleted {
			out = append(out, h.convert(p, m))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// request is the body of every POST.
type request struct {
	As        int64    `json:"as"`
	Chat      int64    `json:"chat"`
	Text      string   `json:"text"`
	MessageID int      `json:"message_id"`
	Data      string   `json:"data"`
	Lat       *float64 `json:"lat"`
	Lon       *float64 `json:"lon"`
}

// decode reads and checks a POST body: size, JSON, persona, chat.
func (h *handler) decode(w http.ResponseWriter, r *http.Request) (Persona, request, bool) {
	var req request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, "body: not a JSON request of at most 64 KiB")
		return Persona{}, req, false
	}
	p, ok := h.personas[req.As]
	if !ok {
		apiError(w, http.StatusBadRequest, "as: unknown persona")
		return p, req, false
	}
	if req.Chat == 0 {
		req.Chat = p.ID
	}
	if err := h.chatOf(p, req.Chat); err != nil {
		apiError(w, http.StatusForbidden, err.Error())
		return p, req, false
	}
	return p, req, true
}

func (h *handler) send(w http.ResponseWriter, r *http.Request) {
	p, req, ok := h.decode(w, r)
	if !ok {
		return
	}
	units := 0
	for _, c := range req.Text {
		units += utf16.RuneLen(c)
	}
	switch {
	case !utf8.ValidString(req.Text) || strings.TrimSpace(req.Text) == "":
		apiError(w, http.StatusBadRequest, "text: empty")
		return
	case units > maxTextUnits:
		apiError(w, http.StatusBadRequest, "text: longer than Telegram's 4096 characters")
		return
	}
	var update int
	if req.Chat == h.opts.StaffChatID {
		if p.Role == RoleYoung {
			apiError(w, http.StatusForbidden, "chat: only staff and admins write in the staff group")
			return
		}
		update = h.srv.SendGroupText(req.Chat, h.opts.StaffChatTitle, p.User(), req.Text)
	} else {
		update = h.srv.SendText(p.User(), req.Text)
	}
	writeJSON(w, http.StatusOK, map[string]int{"update_id": update})
}

func (h *handler) press(w http.ResponseWriter, r *http.Request) {
	p, req, ok := h.decode(w, r)
	if !ok {
		return
	}
	if req.Data == "" || len(req.Data) > maxCallbackData {
		apiError(w, http.StatusBadRequest, "data: want 1-64 bytes of callback data")
		return
	}
	// A Telegram client can only press buttons it shows: the data must be
	// on an inline button of that bot message, still there.
	if !h.hasButton(req.Chat, req.MessageID, req.Data) {
		apiError(w, http.StatusNotFound, "message_id: no such button on a bot message of this chat")
		return
	}
	id, update := h.srv.PressButton(p.User(), req.Chat, req.MessageID, req.Data)
	writeJSON(w, http.StatusOK, map[string]any{"callback_query_id": id, "update_id": update})
}

func (h *handler) hasButton(chat int64, messageID int, data string) bool {
	m, ok := h.find(chat, messageID)
	if !ok || !m.FromBot {
		return false
	}
	for _, row := range m.InlineKeyboard {
		for _, b := range row {
			if b.CallbackData == data {
				return true
			}
		}
	}
	return false
}

// find returns a message of the chat that was not deleted.
func (h *handler) find(chat int64, id int) (telegramtest.Message, bool) {
	for _, m := range h.srv.Transcript(chat) {
		if m.ID == id && !m.Deleted {
			return m, true
		}
	}
	return telegramtest.Message{}, false
}

func (h *handler) location(w http.ResponseWriter, r *http.Request) {
	p, req, ok := h.decode(w, r)
	if !ok {
		return
	}
	if req.Chat != p.ID {
		apiError(w, http.StatusForbidden, "chat: locations are shared in the private chat only")
		return
	}
	if req.Lat == nil || req.Lon == nil || !finiteIn(*req.Lat, 90) || !finiteIn(*req.Lon, 180) {
		apiError(w, http.StatusBadRequest, "lat, lon: want latitude -90..90 and longitude -180..180")
		return
	}
	update := h.srv.SendLocation(p.User(), *req.Lat, *req.Lon)
	writeJSON(w, http.StatusOK, map[string]int{"update_id": update})
}

func finiteIn(x, limit float64) bool {
	return !math.IsNaN(x) && x >= -limit && x <= limit
}

func (h *handler) contact(w http.ResponseWriter, r *http.Request) {
	p, req, ok := h.decode(w, r)
	if !ok {
		return
	}
	if req.Chat != p.ID {
		apiError(w, http.StatusForbidden, "chat: a contact is shared in the private chat only")
		return
	}
	// As with a request_contact button, the persona shares their own number.
	update := h.srv.SendContact(p.User(), p.Phone)
	writeJSON(w, http.StatusOK, map[string]int{"update_id": update})
}

// file serves the bytes of a document or photo the bot uploaded.
func (h *handler) file(w http.ResponseWriter, r *http.Request) {
	_, chat, err := h.query(r)
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	id, err := strconv.Atoi(r.URL.Query().Get("message"))
	if err != nil {
		apiError(w, http.StatusBadRequest, "message: not a message id")
		return
	}
	m, ok := h.find(chat, id)
	var data []byte
	var name, ctype string
	switch {
	case !ok:
	case m.Document != nil:
		data, name, ctype = m.Document.Data, m.Document.FileName, m.Document.MimeType
	case m.Photo != nil:
		data, name = m.Photo.Data, m.Photo.FileName
		ctype = http.DetectContentType(data)
		if !strings.HasPrefix(ctype, "image/") {
			data = nil
		}
	}
	if len(data) == 0 {
		apiError(w, http.StatusNotFound, "message: no uploaded file in this message")
		return
	}
	if name == "" {
		name = "file"
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	disposition := "attachment"
	if m.Photo != nil {
		disposition = "inline"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": path.Base(name)}))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	// A document is whatever the bot uploaded; never let the browser run it
	// as a page of ours.
	w.Header().Set("Content-Security-Policy", "sandbox")
	_, _ = w.Write(data)
}

// events streams the changes of the persona's chat and of the staff group
// as Server-Sent Events. A page that missed events (the fake drops them for
// a subscriber that falls far behind) reloads the history on reconnect.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	p, err := h.persona(r.URL.Query().Get("as"))
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	rc := http.NewResponseController(w)
	ch, unsubscribe := h.srv.Subscribe()
	defer unsubscribe()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 1000\n: connected\n\n")
	if err := rc.Flush(); err != nil {
		return
	}
	tick := time.NewTicker(h.opts.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			fmt.Fprint(w, ": ping\n\n")
		case e, open := <-ch:
			if !open {
				return // the fake is closing
			}
			if h.chatOf(p, e.ChatID) != nil {
				continue
			}
			raw, err := json.Marshal(h.event(p, e))
			if err != nil {
				return
			}
			fmt.Fprintf(w, "data: %s\n\n", raw)
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

type eventJSON struct {
	Kind      string   `json:"kind"`
	Chat      int64    `json:"chat"`
	Message   *message `json:"message,omitempty"`
	MessageID int      `json:"message_id,omitempty"`
	Text      string   `json:"text,omitempty"`
	ShowAlert bool     `json:"show_alert,omitempty"`
}

func (h *handler) event(p Persona, e telegramtest.Event) eventJSON {
	out := eventJSON{Kind: e.Kind, Chat: e.ChatID}
	switch e.Kind {
	case "callback_answer":
		out.MessageID, out.Text, out.ShowAlert = e.Message.ID, e.Text, e.ShowAlert
	case "delete":
		out.MessageID = e.Message.ID
	default:
		m := h.convert(p, e.Message)
		out.Message = &m
	}
	return out
}
