package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/telegramtest"
	"jastar/storage/catalog"
)

var (
	aliya   = DefaultPersonas()[0]
	daniyar = DefaultPersonas()[1]
	staff   = DefaultPersonas()[4]
)

// fixture is the page over a fake with no bot: the test plays the bot
// through a real Bot API client, so what the page shows comes from the same
// wire format the real bot uses.
type fixture struct {
	t   *testing.T
	srv *telegramtest.Server
	api *tgbotapi.BotAPI
	web *httptest.Server
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := telegramtest.NewServer(t)
	srv.AddGroup(StaffChatID, StaffChatTitle)
	for _, p := range DefaultPersonas() {
		srv.AddPrivateChat(p.User())
	}
	api, err := tgbotapi.NewBotAPIWithAPIEndpoint(srv.Token(), srv.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	_, cat, err := CatalogTOML(StaffID, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(srv, Options{Catalog: cat, Heartbeat: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(h)
	t.Cleanup(web.Close)
	return &fixture{t: t, srv: srv, api: api, web: web}
}

// botSends sends c as the bot and returns the message id.
func (f *fixture) botSends(c tgbotapi.Chattable) int {
	f.t.Helper()
	m, err := f.api.Send(c)
	if err != nil {
		f.t.Fatalf("bot send: %v", err)
	}
	return m.MessageID
}

func (f *fixture) post(path string, body any) (int, map[string]any) {
	f.t.Helper()
	raw, _ := json.Marshal(body)
	res, err := http.Post(f.web.URL+path, "application/json", strings.NewReader(string(raw)))
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func (f *fixture) get(path string) (*http.Response, []byte) {
	f.t.Helper()
	res, err := http.Get(f.web.URL + path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

func (f *fixture) history(p Persona, chat int64) []message {
	f.t.Helper()
	res, body := f.get("/api/history?as=" + strconv.FormatInt(p.ID, 10) + "&chat=" + strconv.FormatInt(chat, 10))
	if res.StatusCode != http.StatusOK {
		f.t.Fatalf("history: %d %s", res.StatusCode, body)
	}
	var out []message
	if err := json.Unmarshal(body, &out); err != nil {
		f.t.Fatal(err)
	}
	return out
}

func TestHandler_SendBecomesUpdates(t *testing.T) {
	f := newFixture(t)
	if code, out := f.post("/api/send", map[string]any{"as": aliya.ID, "text": "/start"}); code != http.StatusOK {
		t.Fatalf("send: %d %v", code, out)
	}
	if code, out := f.post("/api/location", map[string]any{"as": aliya.ID, "lat": 43.199, "lon": 76.621}); code != http.StatusOK {
		t.Fatalf("location: %d %v", code, out)
	}
	if code, out := f.post("/api/contact", map[string]any{"as": aliya.ID}); code != http.StatusOK {
		t.Fatalf("contact: %d %v", code, out)
	}
	if code, out := f.post("/api/send", map[string]any{"as": staff.ID, "chat": StaffChatID, "text": "/today"}); code != http.StatusOK {
		t.Fatalf("staff send: %d %v", code, out)
	}
	if n := f.srv.PendingUpdates(); n != 4 {
		t.Errorf("pending updates = %d, want 4", n)
	}

	got := f.history(aliya, aliya.ID)
	if len(got) != 3 {
		t.Fatalf("history has %d messages, want 3: %+v", len(got), got)
	}
	if m := got[0]; m.Text != "/start" || !m.Own || len(m.Entities) != 1 || m.Entities[0].Type != "bot_command" {
		t.Errorf("first message = %+v, want Әлия's own /start with a bot_command entity", m)
	}
	if l := got[1].Location; l == nil || l.Lat != 43.199 || !strings.Contains(l.Map, "openstreetmap.org/?mlat=43.19900&mlon=76.62100") {
		t.Errorf("location = %+v, want 43.199, 76.621 with an OpenStreetMap link", l)
	}
	if c := got[2].Contact; c == nil || c.Phone != aliya.Phone {
		t.Errorf("contact = %+v, want Әлия's own number", c)
	}
	staffMsgs := f.history(aliya, StaffChatID)
	if len(staffMsgs) != 1 || staffMsgs[0].FromName != staff.Name || staffMsgs[0].Own {
		t.Errorf("staff group seen by Әлия = %+v, want Гүлнар's message, not Әлия's own", staffMsgs)
	}
}

func TestHandler_RejectsBadInput(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		path string
		body any
		want int
	}{
		{"unknown persona", "/api/send", map[string]any{"as": 42, "text": "hi"}, 400},
		{"another persona's chat", "/api/send", map[string]any{"as": aliya.ID, "chat": daniyar.ID, "text": "hi"}, 403},
		{"young person in the staff group", "/api/send", map[string]any{"as": aliya.ID, "chat": StaffChatID, "text": "hi"}, 403},
		{"empty text", "/api/send", map[string]any{"as": aliya.ID, "text": "  "}, 400},
		{"text over 4096", "/api/send", map[string]any{"as": aliya.ID, "text": strings.Repeat("ә", 4097)}, 400},
		{"unknown field", "/api/send", map[string]any{"as": aliya.ID, "text": "hi", "from": 1}, 400},
		{"body over 64 KiB", "/api/send", map[string]any{"as": aliya.ID, "text": strings.Repeat("a", 70_000)}, 400},
		{"latitude out of range", "/api/location", map[string]any{"as": aliya.ID, "lat": 91, "lon": 76}, 400},
		{"no longitude", "/api/location", map[string]any{"as": aliya.ID, "lat": 43}, 400},
		{"location to the staff group", "/api/location", map[string]any{"as": staff.ID, "chat": StaffChatID, "lat": 43, "lon": 76}, 403},
		{"contact to the staff group", "/api/contact", map[string]any{"as": staff.ID, "chat": StaffChatID}, 403},
		{"press without data", "/api/press", map[string]any{"as": aliya.ID, "message_id": 1}, 400},
		{"press a button that is not there", "/api/press", map[string]any{"as": aliya.ID, "message_id": 1, "data": "lang:ru"}, 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if code, out := f.post(tc.path, tc.body); code != tc.want {
				t.Errorf("status = %d (%v), want %d", code, out, tc.want)
			}
		})
	}
	t.Run("not JSON", func(t *testing.T) {
		res, err := http.Post(f.web.URL+"/api/send", "application/x-www-form-urlencoded", strings.NewReader("as=1&text=hi"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("status = %d, want 415", res.StatusCode)
		}
	})
	t.Run("history of another persona", func(t *testing.T) {
		if res, _ := f.get("/api/history?as=" + strconv.FormatInt(aliya.ID, 10) + "&chat=" + strconv.FormatInt(daniyar.ID, 10)); res.StatusCode != 400 {
			t.Errorf("status = %d, want 400", res.StatusCode)
		}
	})
	if n := f.srv.PendingUpdates(); n != 0 {
		t.Errorf("%d updates reached the bot from rejected requests", n)
	}
}

// TestHandler_RejectsForeignHost plays a DNS-rebinding page: its name now
// resolves to 127.0.0.1, so the browser reaches the sandbox, but the Host
// header keeps the attacker's name and the page must not act as anyone.
func TestHandler_RejectsForeignHost(t *testing.T) {
	f := newFixture(t)
	port := f.web.Listener.Addr().(*net.TCPAddr).Port
	do := func(host, method, path, body string) int {
		t.Helper()
		req, err := http.NewRequest(method, f.web.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	send := `{"as": ` + strconv.FormatInt(AdminID, 10) + `, "text": "/broadcast"}`
	for _, host := range []string{"rebind.example:" + strconv.Itoa(port), "rebind.example", "127.0.0.1.nip.io:" + strconv.Itoa(port), "10.0.0.1:8080"} {
		if code := do(host, http.MethodPost, "/api/send", send); code != http.StatusMisdirectedRequest {
			t.Errorf("Host %q: send answered %d, want 421", host, code)
		}
		if code := do(host, http.MethodGet, "/api/config", ""); code != http.StatusMisdirectedRequest {
			t.Errorf("Host %q: config answered %d, want 421", host, code)
		}
	}
	if n := f.srv.PendingUpdates(); n != 0 {
		t.Fatalf("%d updates reached the bot from a foreign Host", n)
	}
	for _, host := range []string{"localhost:" + strconv.Itoa(port), "LOCALHOST", "127.0.0.1:" + strconv.Itoa(port), "[::1]:" + strconv.Itoa(port), "127.0.0.2:8080"} {
		if code := do(host, http.MethodPost, "/api/send", send); code != http.StatusOK {
			t.Errorf("Host %q: send answered %d, want 200", host, code)
		}
	}
}

func TestHandler_PressOnlyShownButtons(t *testing.T) {
	f := newFixture(t)
	msg := tgbotapi.NewMessage(aliya.ID, "<b>Тіл</b>")
	msg.ParseMode = tgbotapi.ModeHTML
	msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData("Русский", "lang:ru")))
	id := f.botSends(msg)

	if code, out := f.post("/api/press", map[string]any{"as": daniyar.ID, "chat": aliya.ID, "message_id": id, "data": "lang:ru"}); code != 403 {
		t.Errorf("Данияр pressing Әлия's button: %d %v, want 403", code, out)
	}
	if code, out := f.post("/api/press", map[string]any{"as": aliya.ID, "message_id": id, "data": "lang:xx"}); code != 404 {
		t.Errorf("forged data: %d %v, want 404", code, out)
	}
	code, out := f.post("/api/press", map[string]any{"as": aliya.ID, "message_id": id, "data": "lang:ru"})
	if code != 200 || out["callback_query_id"] == "" {
		t.Fatalf("press: %d %v", code, out)
	}
	if n := f.srv.PendingUpdates(); n != 1 {
		t.Errorf("pending updates = %d, want the one callback query", n)
	}
}

func TestHandler_HistoryRendersWhatTheBotSent(t *testing.T) {
	f := newFixture(t)
	text := tgbotapi.NewMessage(aliya.ID, `Сәлем 👋 <b>тегін</b> <a href="https://example.org/x">сілтеме</a> <a href="javascript:alert(1)">x</a>`)
	text.ParseMode = tgbotapi.ModeHTML
	kb := tgbotapi.NewReplyKeyboard(tgbotapi.NewKeyboardButtonRow(
		tgbotapi.NewKeyboardButtonLocation("📍 Орналасу"), tgbotapi.NewKeyboardButtonContact("📞 Нөмір")))
	text.ReplyMarkup = kb
	textID := f.botSends(text)
	f.botSends(tgbotapi.NewVenue(aliya.ID, "Қарасай", "Қаскелең", 43.199, 76.621))
	docID := f.botSends(tgbotapi.NewDocument(aliya.ID, tgbotapi.FileBytes{Name: "bookings.csv", Bytes: []byte("id,name\n1,x\n")}))
	goneID := f.botSends(tgbotapi.NewMessage(aliya.ID, "soon gone"))
	if _, err := f.api.Request(tgbotapi.NewDeleteMessage(aliya.ID, goneID)); err != nil {
		t.Fatal(err)
	}

	got := f.history(aliya, aliya.ID)
	if len(got) != 3 {
		t.Fatalf("history has %d messages, want 3 (the deleted one left out): %+v", len(got), got)
	}
	m := got[0]
	if m.ID != textID || !m.FromBot || m.Own || m.Text != "Сәлем 👋 тегін сілтеме x" {
		t.Errorf("text message = %+v", m)
	}
	// "Сәлем 👋 " is 9 UTF-16 units: the emoji takes two.
	wantEnts := []entity{
		{Type: "bold", Offset: 9, Length: 5},
		{Type: "text_link", Offset: 15, Length: 7, URL: "https://example.org/x"},
		{Type: "text_link", Offset: 23, Length: 1, URL: ""},
	}
	if !slices.Equal(m.Entities, wantEnts) {
		t.Errorf("entities = %+v, want %+v (javascript: link dropped)", m.Entities, wantEnts)
	}
	if len(m.Keyboard) != 1 || !m.Keyboard[0][0].Location || !m.Keyboard[0][1].Contact {
		t.Errorf("reply keyboard = %+v, want a location and a contact button", m.Keyboard)
	}
	if v := got[1].Venue; v == nil || v.Title != "Қарасай" || v.Address != "Қаскелең" || !strings.HasPrefix(v.Map, "https://www.openstreetmap.org/") {
		t.Errorf("venue = %+v", v)
	}
	d := got[2].Document
	if d == nil || d.Name != "bookings.csv" || !strings.HasPrefix(d.URL, "/api/file?") {
		t.Fatalf("document = %+v", d)
	}

	res, body := f.get(d.URL)
	if res.StatusCode != 200 || string(body) != "id,name\n1,x\n" {
		t.Errorf("download: %d %q", res.StatusCode, body)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, "bookings.csv") {
		t.Errorf("Content-Disposition = %q, want an attachment named bookings.csv", cd)
	}
	other := "/api/file?as=" + strconv.FormatInt(daniyar.ID, 10) + "&chat=" + strconv.FormatInt(aliya.ID, 10) + "&message=" + strconv.Itoa(docID)
	if res, _ := f.get(other); res.StatusCode != 400 {
		t.Errorf("Данияр downloading from Әлия's chat: %d, want 400", res.StatusCode)
	}
}

// readEvents collects the events the page would receive.
func readEvents(t *testing.T, url string) (<-chan eventJSON, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type = %q", ct)
	}
	ch := make(chan eventJSON, 16)
	connected := make(chan struct{})
	go func() {
		defer close(ch)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			line := sc.Text()
			if line == ": connected" {
				close(connected)
			}
			data, ok := strings.CutPrefix(line, "data: ")
			if !ok {
				continue
			}
			var e eventJSON
			if json.Unmarshal([]byte(data), &e) == nil {
				ch <- e
			}
		}
	}()
	select {
	case <-connected:
	case <-time.After(5 * time.Second):
		t.Fatal("event stream did not start")
	}
	return ch, cancel
}

func next(t *testing.T, ch <-chan eventJSON) eventJSON {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	return eventJSON{}
}

func TestHandler_EventsOfOwnChatAndStaffGroup(t *testing.T) {
	f := newFixture(t)
	events, stop := readEvents(t, f.web.URL+"/api/events?as="+strconv.FormatInt(aliya.ID, 10))
	defer stop()

	f.botSends(tgbotapi.NewMessage(daniyar.ID, "not for Әлия"))
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("Иә", "ok:1")))
	msg := tgbotapi.NewMessage(aliya.ID, "Сұрақ?")
	msg.ReplyMarkup = kb
	id := f.botSends(msg)
	if e := next(t, events); e.Kind != "message" || e.Chat != aliya.ID || e.Message.Text != "Сұрақ?" {
		t.Fatalf("first event = %+v, want Әлия's message (Данияр's is not hers)", e)
	}

	code, out := f.post("/api/press", map[string]any{"as": aliya.ID, "message_id": id, "data": "ok:1"})
	if code != 200 {
		t.Fatalf("press: %d %v", code, out)
	}
	if _, err := f.api.Request(tgbotapi.NewCallback(out["callback_query_id"].(string), "Дайын ✅")); err != nil {
		t.Fatal(err)
	}
	if e := next(t, events); e.Kind != "callback_answer" || e.Text != "Дайын ✅" || e.MessageID != id {
		t.Errorf("event = %+v, want the callback answer", e)
	}
	if _, err := f.api.Send(tgbotapi.NewEditMessageText(aliya.ID, id, "Жауап берілді")); err != nil {
		t.Fatal(err)
	}
	if e := next(t, events); e.Kind != "edit" || e.Message.ID != id || !e.Message.Edited || len(e.Message.Inline) != 0 {
		t.Errorf("event = %+v, want the edit, keyboard gone", e)
	}
	if _, err := f.api.Request(tgbotapi.NewDeleteMessage(aliya.ID, id)); err != nil {
		t.Fatal(err)
	}
	if e := next(t, events); e.Kind != "delete" || e.MessageID != id {
		t.Errorf("event = %+v, want the delete", e)
	}
	f.botSends(tgbotapi.NewMessage(StaffChatID, "Жаңа жазылу"))
	if e := next(t, events); e.Chat != StaffChatID || e.Message.Text != "Жаңа жазылу" {
		t.Errorf("event = %+v, want the staff group's message", e)
	}
}

func TestHandler_Page(t *testing.T) {
	f := newFixture(t)
	res, body := f.get("/")
	if res.StatusCode != 200 || !strings.Contains(string(body), `<script src="app.js"`) {
		t.Fatalf("page: %d %.200s", res.StatusCode, body)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	for _, asset := range []string{"/app.js", "/style.css"} {
		if res, _ := f.get(asset); res.StatusCode != 200 {
			t.Errorf("%s: %d", asset, res.StatusCode)
		}
	}
	res, body = f.get("/api/config")
	var cfg struct {
		Personas    []personaJSON `json:"personas"`
		StaffChat   int64         `json:"staff_chat"`
		Settlements []settlement  `json:"settlements"`
	}
	if err := json.Unmarshal(body, &cfg); err != nil || res.StatusCode != 200 {
		t.Fatalf("config: %d %v", res.StatusCode, err)
	}
	if cfg.StaffChat != StaffChatID || len(cfg.Personas) != len(DefaultPersonas()) || cfg.Personas[0].Label != "Әлия (kk)" {
		t.Errorf("config = %+v", cfg)
	}
	if !slices.ContainsFunc(cfg.Settlements, func(s settlement) bool {
		return s.Center == "karasai" && s.KK == "Қаскелең" && s.RU == "Каскелен"
	}) {
		t.Errorf("settlements %+v lack Kaskelen of the Karasai center", cfg.Settlements)
	}
	if strings.Contains(string(body), aliya.Phone) {
		t.Error("config leaks persona phone numbers")
	}
}

func TestCatalogTOML_StaffOfEveryBookableCenter(t *testing.T) {
	_, cat, err := CatalogTOML(StaffID, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cat.Centers {
		if c.IsOpen() && !slices.Equal(c.StaffUserIDs, []int64{StaffID}) {
			t.Errorf("center %s staff = %v, want the staff persona", c.ID, c.StaffUserIDs)
		}
	}
	if len(cat.Centers) != len(catalog.Default(time.UTC).Centers) {
		t.Error("the sandbox catalog lost centers")
	}
}

func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:8080": true, "[::1]:0": true, "127.0.0.1:0": true,
		"0.0.0.0:8080": false, ":8080": false, "192.168.1.5:8080": false, "example.org:80": false,
		"127.0.0.1": false, "127.0.0.1:http": false,
	} {
		if err := CheckLoopback(addr); (err == nil) != ok {
			t.Errorf("CheckLoopback(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}

// page fetches the page with the browser's Accept-Language and cookies.
func (f *fixture) page(path, acceptLanguage string, cookies ...*http.Cookie) (*http.Response, string) {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.web.URL+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

// TestHandler_PageSpeaksTheBrowsersLanguage: staff and translators rehearse
// on the page, so its own texts (header, "Who are you?", hints) come in
// Kazakh, Russian or English by the browser's language, and the switch
// changes and remembers it.
func TestHandler_PageSpeaksTheBrowsersLanguage(t *testing.T) {
	f := newFixture(t)
	texts, err := loadTexts()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ accept, want string }{
		{"kk-KZ,kk;q=0.9,ru;q=0.8", "kk"},
		{"ru-RU,ru;q=0.9,en-US;q=0.8", "ru"},
		{"ru", "ru"},
		{"en-GB,en;q=0.9", "en"},
		{"de-DE,de;q=0.9", "en"}, // none of ours: English
		{"", "en"},
	} {
		res, body := f.page("/", tt.accept)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("Accept-Language %q: %d", tt.accept, res.StatusCode)
		}
		tx := texts[tt.want]
		if !strings.Contains(body, `<html lang="`+tt.want+`">`) {
			t.Errorf("Accept-Language %q: the page is not marked as %s", tt.accept, tt.want)
		}
		for _, want := range []string{tx["who_are_you"], tx["pick_hint"], tx["staff_group"], tx["notice"]} {
			if !strings.Contains(body, html.EscapeString(want)) {
				t.Errorf("Accept-Language %q: the page lacks %q", tt.accept, want)
			}
		}
		// The script gets the same language's texts.
		if !strings.Contains(body, `"who_are_you":"`+tx["who_are_you"]+`"`) {
			t.Errorf("Accept-Language %q: the script's texts are not in %s", tt.accept, tt.want)
		}
	}

	// The switch: ?lang= wins over the browser and is remembered.
	res, body := f.page("/?lang=kk", "ru-RU")
	if !strings.Contains(body, texts["kk"]["who_are_you"]) {
		t.Errorf("?lang=kk with a Russian browser: page not in Kazakh")
	}
	var remembered *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == langCookie {
			remembered = c
		}
	}
	if remembered == nil || remembered.Value != "kk" {
		t.Fatalf("?lang=kk set no cookie: %v", res.Cookies())
	}
	if _, body := f.page("/", "ru-RU", remembered); !strings.Contains(body, texts["kk"]["who_are_you"]) || !strings.Contains(body, `<option value="kk" selected>`) {
		t.Errorf("the remembered Kazakh is not used, or the switch does not show it")
	}
	if _, body := f.page("/?lang=xx", "ru-RU"); !strings.Contains(body, texts["ru"]["who_are_you"]) {
		t.Errorf("an unknown ?lang= should leave the browser's language")
	}
}
