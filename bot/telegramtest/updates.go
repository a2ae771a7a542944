package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// updateQueue holds updates not yet confirmed by getUpdates' offset.
// Updates are stored already encoded, so serving them is a copy.
type updateQueue struct {
	mu      sync.Mutex
	items   []queuedUpdate // items[head:] are pending, ids increasing
	head    int
	nextID  int
	waiting int           // long polls currently blocked
	wake    chan struct{} // closed and replaced when an update arrives
	pollGen uint64        // bumped by every getUpdates, to end older polls
	allowed map[string]bool
}

type queuedUpdate struct {
	id   int
	kind string // "message", "callback_query"...: the update's field
	raw  []byte
}

func (q *updateQueue) init() {
	q.wake = make(chan struct{})
}

// broadcast wakes blocked long polls. Callers hold q.mu.
func (q *updateQueue) broadcast() {
	if q.waiting > 0 {
		close(q.wake)
		q.wake = make(chan struct{})
	}
}

// updatePrefix is how json.Marshal starts every tgbotapi.Update; enqueue
// splices the real id in its place.
const updatePrefix = `{"update_id":0`

// enqueue assigns the next update_id to an encoded update that starts with
// updatePrefix and queues it.
func (s *Server) enqueue(kind string, encoded []byte) int {
	q := &s.q
	q.mu.Lock()
	defer q.mu.Unlock()
	q.nextID++
	id := q.nextID
	raw := make([]byte, 0, len(encoded)+10)
	raw = append(raw, `{"update_id":`...)
	raw = strconv.AppendInt(raw, int64(id), 10)
	raw = append(raw, encoded[len(updatePrefix):]...)
	q.items = append(q.items, queuedUpdate{id: id, kind: kind, raw: raw})
	q.broadcast()
	return id
}

// confirm drops updates below offset forever; a negative offset keeps only
// the last -offset updates. https://core.telegram.org/bots/api#getupdates
// Callers hold q.mu.
func (q *updateQueue) confirm(offset int64) {
	switch {
	case offset > 0:
		for q.head < len(q.items) && int64(q.items[q.head].id) < offset {
			q.drop()
		}
	case offset < 0:
		for int64(len(q.items)-q.head) > -offset {
			q.drop()
		}
	}
	q.items, q.head = compact(q.items, q.head)
}

func (q *updateQueue) drop() {
	q.items[q.head] = queuedUpdate{}
	q.head++
}

// collect returns up to limit pending updates the bot asked for. Updates of
// kinds not in allowed_updates at the front are dropped, since Telegram
// would never have delivered them. Callers hold q.mu.
func (q *updateQueue) collect(limit int) [][]byte {
	var out [][]byte
	for i := q.head; i < len(q.items) && len(out) < limit; i++ {
		u := q.items[i]
		if q.allowed != nil && !q.allowed[u.kind] {
			if i == q.head {
				q.drop()
			}
			continue
		}
		out = append(out, u.raw)
	}
	return out
}

// PendingUpdates is the number of updates not yet confirmed by the bot.
func (s *Server) PendingUpdates() int {
	s.q.mu.Lock()
	defer s.q.mu.Unlock()
	return len(s.q.items) - s.q.head
}

func (s *Server) getUpdates(ctx context.Context, p *params) reply {
	offset, err := intParam(p, "offset", 0)
	if err != nil {
		return badRequest("wrong offset specified")
	}
	limit, err := intParam(p, "limit", 100)
	if err != nil {
		return badRequest("wrong limit specified")
	}
	// Limits 1-100, default 100: https://core.telegram.org/bots/api#getupdates
	limit = min(max(limit, 1), 100)
	timeout, err := intParam(p, "timeout", 0)
	if err != nil {
		return badRequest("wrong timeout specified")
	}
	var allowed map[string]bool
	setAllowed := p.has("allowed_updates")
	if setAllowed {
		var kinds []string
		if err := json.Unmarshal([]byte(p.str("allowed_updates")), &kinds); err != nil {
			return badRequest("can't parse allowed updates: %v", err)
		}
		if len(kinds) > 0 {
			allowed = make(map[string]bool, len(kinds))
			for _, k := range kinds {
				allowed[k] = true
			}
		}
	}

	q := &s.q
	q.mu.Lock()
	if setAllowed {
		// Telegram remembers allowed_updates until the next call sets it.
		q.allowed = allowed
	}
	q.confirm(offset)
	q.pollGen++
	gen := q.pollGen
	// A newer getUpdates ends the older one with 409, as on Telegram.
	if q.waiting > 0 {
		close(q.wake)
		q.wake = make(chan struct{})
	}
	var timer <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(time.Duration(timeout) * time.Second)
		defer t.Stop()
		timer = t.C
	}
	for {
		batch := q.collect(int(limit))
		if len(batch) > 0 || timer == nil {
			q.mu.Unlock()
			return ok(encodeUpdates(batch))
		}
		if q.pollGen != gen {
			q.mu.Unlock()
			return fail(http.StatusConflict, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running")
		}
		wake := q.wake
		q.waiting++
		q.mu.Unlock()
		select {
		case <-wake:
		case <-timer:
			timer = nil
		case <-ctx.Done():
			timer = nil
		case <-s.done:
			timer = nil
		}
		q.mu.Lock()
		q.waiting--
	}
}

func encodeUpdates(batch [][]byte) rawResult {
	return rawResult(append(append([]byte{'['}, bytes.Join(batch, []byte{','})...), ']'))
}

func intParam(p *params, key string, def int64) (int64, error) {
	if !p.has(key) {
		return def, nil
	}
	return strconv.ParseInt(strings.TrimSpace(p.str(key)), 10, 64)
}

// encodeUpdate marshals u with update_id 0, ready for enqueue.
func encodeUpdate(u *tgbotapi.Update) []byte {
	u.UpdateID = 0
	raw, err := json.Marshal(u)
	if err != nil || !bytes.HasPrefix(raw, []byte(updatePrefix)) {
		// tgbotapi.Update always marshals update_id first.
		panic("telegramtest: cannot encode update: " + string(raw))
	}
	return raw
}

// userMessage stores a message from a user in the chat and enqueues it as a
// "message" update. The chat lock is held while enqueueing so update order
// matches message ids.
func (s *Server) userMessage(chatID int64, title string, from User, fill func(*Message)) int {
	c := s.chatFor(chatID)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.known = true
	if c.typ == "private" {
		c.user = from
	} else if title != "" {
		c.title = title
	}
	m := Message{From: from, Date: s.now()}
	fill(&m)
	m = s.appendMessage(c, m)
	return s.enqueue("message", encodeUpdate(&tgbotapi.Update{Message: s.wire(c, &m, true)}))
}

// SendText sends text from the user in the private chat with them (chat id
// == user id) and returns the update_id. A leading "/command" gets a
// bot_command entity, like Telegram.
func (s *Server) SendText(from User, text string) int {
	return s.SendGroupText(from.ID, "", from, text)
}

// SendGroupText sends text from the user in a group chat (negative chatID)
// titled title, registering the group. It returns the update_id.
func (s *Server) SendGroupText(chatID int64, title string, from User, text string) int {
	return s.userMessage(chatID, title, from, func(m *Message) {
		m.Text = text
		m.Entities = commandEntities(text)
	})
}

// SendLocation shares a location from the user in the private chat, as a
// request_location button does.
func (s *Server) SendLocation(from User, lat, lon float64) int {
	return s.userMessage(from.ID, "", from, func(m *Message) {
		m.Location = &Location{Latitude: lat, Longitude: lon}
	})
}

// SendContact shares the user's own phone number, as a request_contact
// button does (contact.user_id == from.ID).
func (s *Server) SendContact(from User, phone string) int {
	return s.userMessage(from.ID, "", from, func(m *Message) {
		m.Contact = &Contact{PhoneNumber: phone, FirstName: from.FirstName, LastName: from.LastName, UserID: from.ID}
	})
}

// SendSticker sends a sticker, a message without text.
func (s *Server) SendSticker(from User) int {
	id := s.newFileID("CAAC")
	return s.userMessage(from.ID, "", from, func(m *Message) {
		m.Sticker = &Sticker{FileID: id, Emoji: "👍"}
	})
}

// SendPhoto sends a photo without caption.
func (s *Server) SendPhoto(from User) int {
	id := s.newFileID("AgAC")
	return s.userMessage(from.ID, "", from, func(m *Message) {
		m.Photo = &Photo{FileID: id}
	})
}

// SendVoice sends a voice note.
func (s *Server) SendVoice(from User) int {
	id := s.newFileID("AwAC")
	return s.userMessage(from.ID, "", from, func(m *Message) {
		m.Voice = &Voice{FileID: id, Duration: 3}
	})
}

// commandEntities marks "/command" and "/command@bot" at the start of the
// text or after whitespace, as Telegram's client-side parsing does; offsets
// and lengths are in UTF-16 code units.
func commandEntities(text string) []tgbotapi.MessageEntity {
	var out []tgbotapi.MessageEntity
	u16 := 0
	prevSpace := true
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if r == '/' && prevSpace {
			j := i + 1
			for j < len(text) && isCommandByte(text[j]) {
				j++
			}
			if j > i+1 {
				if j < len(text) && text[j] == '@' {
					k := j + 1
					for k < len(text) && isCommandByte(text[k]) {
						k++
					}
					if k > j+1 {
						j = k
					}
				}
				// The command is ASCII, so bytes equal UTF-16 units.
				out = append(out, tgbotapi.MessageEntity{Type: "bot_command", Offset: u16, Length: j - i})
				u16 += j - i
				i = j
				prevSpace = false
				continue
			}
		}
		prevSpace = r == ' ' || r == '\n' || r == '\t'
		u16 += utf16.RuneLen(r)
		i += size
	}
	return out
}

func isCommandByte(b byte) bool {
	return b == '_' || '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}

// PressButton presses an inline button with callback data on the bot's
// message messageID in chatID, and enqueues the callback_query update. The
// query carries the message as currently stored (omitted if it is gone, as
// for very old messages). It returns the callback query id, to check with
// AnsweredCallback, and the update_id. from need not be the private chat's
// person: a test forges a press on someone else's message that way, which
// real Telegram does not deliver but the bot must refuse.
func (s *Server) PressButton(from User, chatID int64, messageID int, data string) (callbackQueryID string, updateID int) {
	c := s.chatFor(chatID)
	c.mu.Lock()
	defer c.mu.Unlock()
	cq := &tgbotapi.CallbackQuery{
		From:         from.wire(),
		ChatInstance: strconv.FormatInt(c.id*7919+int64(s.botUser.ID), 10),
		Data:         data,
	}
	if i := c.find(messageID); i >= 0 && !c.msgs[i].Deleted {
		cq.Message = s.wire(c, &c.msgs[i].Message, true)
	}
	cq.ID = s.issueCallback(chatID, messageID)
	return cq.ID, s.enqueue("callback_query", encodeUpdate(&tgbotapi.Update{CallbackQuery: cq}))
}

type callbackState struct {
	chatID    int64
	messageID int
	answered  bool
	text      string
	showAlert bool
}

// issueCallback remembers a new callback query, forgetting the oldest once
// MaxCallbacks are held.
func (s *Server) issueCallback(chatID int64, messageID int) string {
	s.cbMu.Lock()
	defer s.cbMu.Unlock()
	s.cbSeq++
	id := strconv.FormatUint(s.cbSeq, 10)
	s.rememberCallback(id, chatID, messageID)
	return id
}

// rememberCallback makes id answerable. Callers hold s.cbMu.
func (s *Server) rememberCallback(id string, chatID int64, messageID int) {
	s.callbacks[id] = &callbackState{chatID: chatID, messageID: messageID}
	s.cbOrder = append(s.cbOrder, id)
	if len(s.cbOrder)-s.cbHead > s.opts.MaxCallbacks {
		delete(s.callbacks, s.cbOrder[s.cbHead])
		s.cbOrder[s.cbHead] = ""
		s.cbHead++
		s.cbOrder, s.cbHead = compact(s.cbOrder, s.cbHead)
	}
}

// AnsweredCallback reports how the bot answered callback query id.
func (s *Server) AnsweredCallback(id string) (text string, showAlert bool, answered bool) {
	s.cbMu.Lock()
	defer s.cbMu.Unlock()
	cb := s.callbacks[id]
	if cb == nil || !cb.answered {
		return "", false, false
	}
	return cb.text, cb.showAlert, true
}

// CallbackChat returns the chat of a callback query the server issued and
// still remembers (see Options.MaxCallbacks): an answerCallbackQuery names
// no chat, and a load tool that counts calls per chat needs it.
func (s *Server) CallbackChat(id string) (int64, bool) {
	s.cbMu.Lock()
	defer s.cbMu.Unlock()
	cb := s.callbacks[id]
	if cb == nil {
		return 0, false
	}
	return cb.chatID, true
}

// PushUpdate enqueues a raw update, for example one captured from real
// Telegram. Its update_id is replaced by the next one, which is returned.
// Chats it mentions become known, message ids there continue after the
// pushed ones, and a callback query id becomes answerable. It returns 0
// (and fails the test under NewServer) if raw is not a JSON object.
func (s *Server) PushUpdate(raw json.RawMessage) int {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		s.violation("PushUpdate: %v", err)
		return 0
	}
	delete(fields, "update_id")
	kind := ""
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
		if kind == "" || k < kind {
			kind = k
		}
	}
	var body bytes.Buffer
	body.WriteString(updatePrefix)
	for _, k := range keys {
		kb, _ := json.Marshal(k)
		body.WriteByte(',')
		body.Write(kb)
		body.WriteByte(':')
		body.Write(fields[k])
	}
	body.WriteByte('}')

	var probe struct {
		Message       *pushedMessage `json:"message"`
		EditedMessage *pushedMessage `json:"edited_message"`
		CallbackQuery *struct {
			ID      string         `json:"id"`
			Message *pushedMessage `json:"message"`
		} `json:"callback_query"`
	}
	json.Unmarshal(raw, &probe)
	var c *chat
	switch {
	case probe.Message != nil && probe.Message.Chat.ID != 0:
		c = s.registerPushed(probe.Message, true)
	case probe.EditedMessage != nil && probe.EditedMessage.Chat.ID != 0:
		c = s.registerPushed(probe.EditedMessage, false)
	case probe.CallbackQuery != nil && probe.CallbackQuery.Message != nil && probe.CallbackQuery.Message.Chat.ID != 0:
		c = s.registerPushed(probe.CallbackQuery.Message, false)
		if id := probe.CallbackQuery.ID; id != "" {
			s.cbMu.Lock()
			s.rememberCallback(id, c.id, probe.CallbackQuery.Message.MessageID)
			s.cbMu.Unlock()
		}
	}
	if c == nil {
		return s.enqueue(kind, body.Bytes())
	}
	defer c.mu.Unlock()
	return s.enqueue(kind, body.Bytes())
}

type pushedMessage struct {
	MessageID int                      `json:"message_id"`
	Text      string                   `json:"text"`
	Entities  []tgbotapi.MessageEntity `json:"entities"`
	From      *tgbotapi.User           `json:"from"`
	Chat      tgbotapi.Chat            `json:"chat"`
}

// registerPushed makes the pushed message's chat known and, for a new
// message, records it in the transcript. It returns the chat locked.
func (s *Server) registerPushed(pm *pushedMessage, store bool) *chat {
	c := s.chatFor(pm.Chat.ID)
	c.mu.Lock()
	c.known = true
	if pm.Chat.Type != "" {
		c.typ = pm.Chat.Type
	}
	if pm.Chat.Title != "" {
		c.title = pm.Chat.Title
	}
	var from User
	if pm.From != nil {
		from = User{ID: pm.From.ID, FirstName: pm.From.FirstName, LastName: pm.From.LastName, Username: pm.From.UserName, LanguageCode: pm.From.LanguageCode}
		if c.typ == "private" {
			c.user = from
		}
	}
	if store && pm.MessageID > c.nextID {
		c.nextID = pm.MessageID - 1
		s.appendMessage(c, Message{From: from, Text: pm.Text, Entities: pm.Entities, Date: s.now()})
	}
	return c
}
