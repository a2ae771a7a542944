package telegramtest

import (
	"context"
	"encoding/json"
	"math"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

func (s *Server) getMe(context.Context, *params) reply {
	return ok(s.botUser)
}

// chatParam reads chat_id. "@username" chat ids name channels, which this
// fake has none of.
func chatParam(p *params) (int64, reply, bool) {
	if !p.has("chat_id") {
		return 0, badRequest("chat_id is empty"), false
	}
	id, err := strconv.ParseInt(strings.TrimSpace(p.str("chat_id")), 10, 64)
	if err != nil || id == 0 {
		return 0, errChatNotFound, false
	}
	return id, reply{}, true
}

// openChat resolves chat_id and locks the chat, checking it exists and did
// not block the bot. On success the caller must unlock c.mu.
func (s *Server) openChat(p *params) (*chat, reply, bool) {
	id, rep, good := chatParam(p)
	if !good {
		return nil, rep, false
	}
	c := s.lookupChat(id)
	if c == nil {
		return nil, errChatNotFound, false
	}
	c.mu.Lock()
	switch {
	case c.blocked:
		rep = c.forbidden()
	case !c.known:
		rep = errChatNotFound
	default:
		return c, reply{}, true
	}
	c.mu.Unlock()
	return nil, rep, false
}

// send stores a bot message built by the handler in the target chat after
// the checks every sending method shares: chat, block, keyboard scope,
// reply target and flood limits.
func (s *Server) send(p *params, m Message, mk markup) reply {
	c, rep, good := s.openChat(p)
	if !good {
		return rep
	}
	defer c.mu.Unlock()
	if mk.requestsUser != "" && c.typ != "private" {
		return badRequest("%s", mk.requestsUser)
	}
	if p.has("reply_to_message_id") {
		id, err := strconv.Atoi(p.str("reply_to_message_id"))
		if err != nil {
			return badRequest("wrong reply_to_message_id specified")
		}
		if i := c.find(id); i >= 0 && !c.msgs[i].Deleted {
			m.ReplyTo = id
		} else if !p.boolean("allow_sending_without_reply") {
			return badRequest("message to reply not found")
		}
	}
	if rep, limited := s.flood(c); limited {
		return rep
	}
	m.FromBot = true
	m.From = User{ID: s.botUser.ID, FirstName: s.botUser.FirstName, Username: s.botUser.UserName}
	m.Date = s.now()
	m.InlineKeyboard = mk.inline
	m.ReplyKeyboard = mk.reply
	m.RemoveKeyboard = mk.remove
	m = s.appendMessage(c, m)
	return ok(s.wire(c, &m, true))
}

// textAndMarkup reads the text, its formatting and reply_markup, which
// sendMessage and editMessageText check alike; an edit (inlineOnly) takes
// no keyboard but an inline one.
func textAndMarkup(p *params, inlineOnly bool) (string, []tgbotapi.MessageEntity, markup, reply, bool) {
	if !p.has("text") {
		return "", nil, markup{}, badRequest("message text is empty"), false
	}
	text, ents, rep, good := formatText(p.str("text"), p.str("parse_mode"), p.str("entities"), false)
	if !good {
		return "", nil, markup{}, rep, false
	}
	mk, rep, good := parseMarkup(p.str("reply_markup"), inlineOnly)
	return text, ents, mk, rep, good
}

// https://core.telegram.org/bots/api#sendmessage
func (s *Server) sendMessage(_ context.Context, p *params) reply {
	text, ents, mk, rep, good := textAndMarkup(p, false)
	if !good {
		return rep
	}
	return s.send(p, Message{Text: text, ParseMode: p.str("parse_mode"), Entities: ents}, mk)
}

// https://core.telegram.org/bots/api#sendlocation
func (s *Server) sendLocation(_ context.Context, p *params) reply {
	lat, lon, rep, good := coordinates(p)
	if !good {
		return rep
	}
	mk, rep, good := parseMarkup(p.str("reply_markup"), false)
	if !good {
		return rep
	}
	return s.send(p, Message{Location: &Location{Latitude: lat, Longitude: lon}}, mk)
}

// https://core.telegram.org/bots/api#sendvenue
func (s *Server) sendVenue(_ context.Context, p *params) reply {
	lat, lon, rep, good := coordinates(p)
	if !good {
		return rep
	}
	if strings.TrimSpace(p.str("title")) == "" {
		return badRequest("venue title is empty")
	}
	if strings.TrimSpace(p.str("address")) == "" {
		return badRequest("venue address is empty")
	}
	mk, rep, good := parseMarkup(p.str("reply_markup"), false)
	if !good {
		return rep
	}
	v := &Venue{Latitude: lat, Longitude: lon, Title: p.str("title"), Address: p.str("address")}
	return s.send(p, Message{Venue: v}, mk)
}

func coordinates(p *params) (lat, lon float64, rep reply, good bool) {
	lat, err := strconv.ParseFloat(strings.TrimSpace(p.str("latitude")), 64)
	if err != nil || math.IsNaN(lat) || lat < -90 || lat > 90 {
		return 0, 0, badRequest("wrong latitude specified"), false
	}
	lon, err = strconv.ParseFloat(strings.TrimSpace(p.str("longitude")), 64)
	if err != nil || math.IsNaN(lon) || lon < -180 || lon > 180 {
		return 0, 0, badRequest("wrong longitude specified"), false
	}
	return lat, lon, reply{}, true
}

// storedFile is a file the bot uploaded or a test registered, addressable
// by file_id afterwards.
type storedFile struct {
	id    string
	name  string
	mime  string
	data  []byte
	url   string
	photo bool
}

func (s *Server) newFileID(prefix string) string {
	return prefix + "-" + strconv.FormatUint(s.fileSeq.Add(1), 36)
}

// AddFile registers a file the bot may send by file_id, as if it had been
// uploaded earlier.
func (s *Server) AddFile(fileID, fileName string, data []byte) {
	s.filesMu.Lock()
	defer s.filesMu.Unlock()
	s.files[fileID] = storedFile{id: fileID, name: fileName, data: data, mime: mime.TypeByExtension(path.Ext(fileName))}
}

// inputFile resolves an InputFile parameter: an upload, "attach://name", an
// HTTP URL or a known file_id. https://core.telegram.org/bots/api#sending-files
func (s *Server) inputFile(p *params, field string, photo bool) (storedFile, reply, bool) {
	up, uploaded := p.files[field]
	if !uploaded {
		if name, ok := strings.CutPrefix(p.str(field), "attach://"); ok {
			up, uploaded = p.files[name]
		}
	}
	if uploaded {
		limit := maxDocumentBytes
		if photo {
			limit = maxPhotoBytes
		}
		switch {
		case len(up.data) == 0:
			return storedFile{}, badRequest("file must be non-empty"), false
		case len(up.data) > limit:
			return storedFile{}, fail(http.StatusRequestEntityTooLarge, "Request Entity Too Large"), false
		case photo && !strings.HasPrefix(http.DetectContentType(up.data), "image/"):
			// Telegram decodes uploaded photos and rejects what is not an image.
			return storedFile{}, badRequest("IMAGE_PROCESS_FAILED"), false
		}
		f := storedFile{name: up.name, data: up.data, photo: photo}
		f.mime = mime.TypeByExtension(path.Ext(up.name))
		if f.mime == "" {
			f.mime = http.DetectContentType(up.data)
		}
		if photo {
			f.id = s.newFileID("AgAC")
		} else {
			f.id = s.newFileID("BQAC")
		}
		s.filesMu.Lock()
		s.files[f.id] = f
		s.filesMu.Unlock()
		return f, reply{}, true
	}
	v := strings.TrimSpace(p.str(field))
	switch {
	case v == "":
		return storedFile{}, badRequest("there is no %s in the request", field), false
	case strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://"):
		return storedFile{id: s.newFileID("URL"), url: v, name: path.Base(v), photo: photo}, reply{}, true
	}
	s.filesMu.Lock()
	f, known := s.files[v]
	s.filesMu.Unlock()
	if !known {
		return storedFile{}, badRequest("wrong file identifier/HTTP URL specified"), false
	}
	return f, reply{}, true
}

// https://core.telegram.org/bots/api#sendphoto
func (s *Server) sendPhoto(_ context.Context, p *params) reply {
	return s.sendFile(p, "photo", true)
}

// https://core.telegram.org/bots/api#senddocument
func (s *Server) sendDocument(_ context.Context, p *params) reply {
	return s.sendFile(p, "document", false)
}

// sendFile is sendPhoto (photo) and sendDocument: the file in field, its
// caption and reply_markup.
func (s *Server) sendFile(p *params, field string, photo bool) reply {
	f, rep, good := s.inputFile(p, field, photo)
	if !good {
		return rep
	}
	caption, ents, rep, good := formatText(p.str("caption"), p.str("parse_mode"), p.str("caption_entities"), true)
	if !good {
		return rep
	}
	mk, rep, good := parseMarkup(p.str("reply_markup"), false)
	if !good {
		return rep
	}
	m := Message{Text: caption, ParseMode: p.str("parse_mode"), Entities: ents}
	if photo {
		m.Photo = &Photo{FileID: f.id, FileName: f.name, Data: f.data, URL: f.url, Caption: caption}
	} else {
		m.Document = &Document{FileID: f.id, FileName: f.name, MimeType: f.mime, Data: f.data, URL: f.url, Caption: caption}
	}
	return s.send(p, m, mk)
}

// https://core.telegram.org/bots/api#sendchataction
func (s *Server) sendChatAction(_ context.Context, p *params) reply {
	switch p.str("action") {
	case "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
		"upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note":
	default:
		return badRequest("wrong parameter action in request")
	}
	c, rep, good := s.openChat(p)
	if !good {
		return rep
	}
	c.mu.Unlock()
	return ok(true)
}

// editTarget locks the chat and finds the bot message to edit.
func (s *Server) editTarget(p *params) (*chat, int, reply, bool) {
	if p.has("inline_message_id") {
		// Inline mode is not used by our bot, so no inline messages exist.
		return nil, 0, badRequest("MESSAGE_ID_INVALID"), false
	}
	if !p.has("message_id") {
		return nil, 0, badRequest("message identifier is not specified"), false
	}
	id, err := strconv.Atoi(strings.TrimSpace(p.str("message_id")))
	if err != nil {
		return nil, 0, badRequest("message identifier is not specified"), false
	}
	c, rep, good := s.openChat(p)
	if !good {
		return nil, 0, rep, false
	}
	i := c.find(id)
	switch {
	case i < 0 || c.msgs[i].Deleted:
		rep = badRequest("message to edit not found")
	case !c.msgs[i].FromBot:
		rep = badRequest("message can't be edited")
	default:
		return c, i, reply{}, true
	}
	c.mu.Unlock()
	return nil, 0, rep, false
}

const notModified = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"

// commitEdit stores the edited copy of message i. Callers hold c.mu.
func (s *Server) commitEdit(c *chat, i int, m Message) reply {
	m.Edited++
	m.EditedAt = s.now()
	c.msgs[i] = storedMessage{Message: m, ver: c.touch()}
	s.publish(Event{Kind: "edit", ChatID: c.id, Message: m})
	return ok(s.wire(c, &m, true))
}

// https://core.telegram.org/bots/api#editmessagetext
func (s *Server) editMessageText(_ context.Context, p *params) reply {
	text, ents, mk, rep, good := textAndMarkup(p, true)
	if !good {
		return rep
	}
	c, i, rep, good := s.editTarget(p)
	if !good {
		return rep
	}
	defer c.mu.Unlock()
	m := c.msgs[i].Message
	if m.Text == "" || m.Photo != nil || m.Document != nil {
		return badRequest("there is no text in the message to edit")
	}
	// An edit without reply_markup removes the inline keyboard.
	if m.Text == text && sameEntities(m.Entities, ents) && sameInline(m.InlineKeyboard, mk.inline) {
		return badRequest(notModified)
	}
	m.Text, m.Entities, m.ParseMode, m.InlineKeyboard = text, ents, p.str("parse_mode"), mk.inline
	return s.commitEdit(c, i, m)
}

// https://core.telegram.org/bots/api#editmessagereplymarkup
func (s *Server) editMessageReplyMarkup(_ context.Context, p *params) reply {
	mk, rep, good := parseMarkup(p.str("reply_markup"), true)
	if !good {
		return rep
	}
	c, i, rep, good := s.editTarget(p)
	if !good {
		return rep
	}
	defer c.mu.Unlock()
	m := c.msgs[i].Message
	if sameInline(m.InlineKeyboard, mk.inline) {
		return badRequest(notModified)
	}
	m.InlineKeyboard = mk.inline
	return s.commitEdit(c, i, m)
}

// https://core.telegram.org/bots/api#deletemessage
func (s *Server) deleteMessage(_ context.Context, p *params) reply {
	id, err := strconv.Atoi(strings.TrimSpace(p.str("message_id")))
	if err != nil {
		return badRequest("message identifier is not specified")
	}
	c, rep, good := s.openChat(p)
	if !good {
		return rep
	}
	defer c.mu.Unlock()
	i := c.find(id)
	if i < 0 || c.msgs[i].Deleted {
		return badRequest("message to delete not found")
	}
	m := c.msgs[i].Message
	m.Deleted = true
	c.msgs[i] = storedMessage{Message: m, ver: c.touch()}
	s.publish(Event{Kind: "delete", ChatID: c.id, Message: m})
	return ok(true)
}

// https://core.telegram.org/bots/api#answercallbackquery
func (s *Server) answerCallbackQuery(_ context.Context, p *params) reply {
	text := p.str("text")
	// The notification text is 0-200 characters.
	if utf16Len(text) > 200 {
		return badRequest("MESSAGE_TOO_LONG")
	}
	id := p.str("callback_query_id")
	s.cbMu.Lock()
	defer s.cbMu.Unlock()
	cb := s.callbacks[id]
	if cb == nil || cb.answered {
		return badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	cb.answered, cb.text, cb.showAlert = true, text, p.boolean("show_alert")
	s.publish(Event{Kind: "callback_answer", ChatID: cb.chatID, CallbackID: id, Text: text, ShowAlert: cb.showAlert,
		Message: Message{ID: cb.messageID, ChatID: cb.chatID}})
	return ok(true)
}

type commandKey struct {
	scope string // scope type, plus ":"+chat_id for chat scopes
	lang  string
}

var commandName = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// commandScope reads scope and language_code of the *MyCommands methods.
// https://core.telegram.org/bots/api#botcommandscope
func commandScope(p *params) (commandKey, reply, bool) {
	key := commandKey{scope: "default", lang: p.str("language_code")}
	if key.lang != "" && (len(key.lang) != 2 || strings.ToLower(key.lang) != key.lang) {
		return key, badRequest("invalid language code specified"), false
	}
	if !p.has("scope") {
		return key, reply{}, true
	}
	var sc struct {
		Type   string          `json:"type"`
		ChatID json.RawMessage `json:"chat_id"`
		UserID int64           `json:"user_id"`
	}
	if err := json.Unmarshal([]byte(p.str("scope")), &sc); err != nil {
		return key, badRequest("can't parse BotCommandScope JSON object"), false
	}
	switch sc.Type {
	case "default", "all_private_chats", "all_group_chats", "all_chat_administrators":
		key.scope = sc.Type
	case "chat", "chat_administrators":
		key.scope = sc.Type + ":" + string(sc.ChatID)
	case "chat_member":
		key.scope = sc.Type + ":" + string(sc.ChatID) + ":" + strconv.FormatInt(sc.UserID, 10)
	default:
		return key, badRequest("wrong bot command scope type specified"), false
	}
	return key, reply{}, true
}

// https://core.telegram.org/bots/api#setmycommands
func (s *Server) setMyCommands(_ context.Context, p *params) reply {
	var cmds []tgbotapi.BotCommand
	if err := json.Unmarshal([]byte(p.str("commands")), &cmds); err != nil {
		return badRequest("can't parse commands JSON array")
	}
	// At most 100 commands; command 1-32 of a-z, 0-9, _; description 1-256.
	if len(cmds) > 100 {
		return badRequest("too many commands specified")
	}
	for _, c := range cmds {
		if !commandName.MatchString(c.Command) {
			return badRequest("BOT_COMMAND_INVALID")
		}
		if n := utf16Len(strings.TrimSpace(c.Description)); n < 1 || n > 256 {
			return badRequest("command description must be 1-256 characters")
		}
	}
	key, rep, good := commandScope(p)
	if !good {
		return rep
	}
	s.cmdMu.Lock()
	defer s.cmdMu.Unlock()
	if len(cmds) == 0 {
		delete(s.commands, key)
	} else {
		s.commands[key] = cmds
	}
	return ok(true)
}

// https://core.telegram.org/bots/api#getmycommands
func (s *Server) getMyCommands(_ context.Context, p *params) reply {
	key, rep, good := commandScope(p)
	if !good {
		return rep
	}
	s.cmdMu.Lock()
	defer s.cmdMu.Unlock()
	cmds := s.commands[key]
	if cmds == nil {
		cmds = []tgbotapi.BotCommand{}
	}
	return ok(cmds)
}

// https://core.telegram.org/bots/api#deletemycommands
func (s *Server) deleteMyCommands(_ context.Context, p *params) reply {
	key, rep, good := commandScope(p)
	if !good {
		return rep
	}
	s.cmdMu.Lock()
	defer s.cmdMu.Unlock()
	delete(s.commands, key)
	return ok(true)
}

// Commands returns the default-scope commands set for languageCode ("" for
// all languages).
func (s *Server) Commands(languageCode string) []tgbotapi.BotCommand {
	s.cmdMu.Lock()
	defer s.cmdMu.Unlock()
	return append([]tgbotapi.BotCommand(nil), s.commands[commandKey{scope: "default", lang: languageCode}]...)
}

// bucket is a token bucket for flood limits.
type bucket struct {
	tokens float64
	last   time.Time
}

// wait refills the bucket and returns how long until a token is available.
func (b *bucket) wait(now time.Time, rate, burst float64) time.Duration {
	if b.last.IsZero() {
		b.tokens = burst
	} else {
		b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	}
	b.last = now
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) / rate * float64(time.Second))
}

// flood applies Telegram's broadcast limits when RateLimit is on: 1 message
// per second per private chat (burst 3), 20 per minute per group, and
// GlobalRate per second overall.
// https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
// Callers hold c.mu; a message is counted against both buckets only if
// both allow it.
func (s *Server) flood(c *chat) (reply, bool) {
	if !s.rateLimit.Load() {
		return reply{}, false
	}
	now := time.Now()
	rate, burst := 1.0, 3.0
	if c.typ != "private" {
		rate, burst = 20.0/60, 20
	}
	w := c.limit.wait(now, rate, burst)
	g := float64(s.opts.GlobalRate)
	s.globalMu.Lock()
	defer s.globalMu.Unlock()
	w = max(w, s.global.wait(now, g, g))
	if w > 0 {
		return tooManyRequests(int(math.Ceil(w.Seconds()))), true
	}
	c.limit.tokens--
	s.global.tokens--
	return reply{}, false
}

// ChatCommands returns the commands set for one chat (scope chat), in any
// language_code.
func (s *Server) ChatCommands(chatID int64) []tgbotapi.BotCommand {
	s.cmdMu.Lock()
	defer s.cmdMu.Unlock()
	return append([]tgbotapi.BotCommand(nil), s.commands[commandKey{scope: "chat:" + strconv.FormatInt(chatID, 10)}]...)
}
