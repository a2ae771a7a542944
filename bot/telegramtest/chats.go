package telegramtest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// User is a Telegram user the test acts as.
type User struct {
	ID           int64
	FirstName    string
	LastName     string
	Username     string
	LanguageCode string
}

func (u User) wire() *tgbotapi.User {
	return &tgbotapi.User{
		ID:           u.ID,
		FirstName:    u.FirstName,
		LastName:     u.LastName,
		UserName:     u.Username,
		LanguageCode: u.LanguageCode,
	}
}

// Message is one message of a chat transcript, from a user or from the bot,
// with later edits applied. Slices and Data are shared with the server and
// must be treated as read-only; the server never mutates them in place.
type Message struct {
	ID      int
	ChatID  int64
	FromBot bool
	// From is the sender: the user, or the bot's own user when FromBot.
	From User
	// Text is the plain text (or the caption of a photo or document) after
	// parse_mode was applied; Entities are its formatting, offsets in UTF-16
	// code units as in the Bot API.
	Text      string
	ParseMode string
	Entities  []tgbotapi.MessageEntity
	// InlineKeyboard is the message's inline keyboard, replaced by edits.
	InlineKeyboard [][]Button
	// ReplyKeyboard is the custom keyboard the message showed the user.
	ReplyKeyboard  [][]KeyButton
	RemoveKeyboard bool
	ReplyTo        int
	Venue          *Venue
	Location       *Location
	Contact        *Contact
	Document       *Document
	Photo          *Photo
	Sticker        *Sticker
	Voice          *Voice
	// Edited counts successful edits; EditedAt is the last one.
	Edited   int
	EditedAt time.Time
	Deleted  bool
	Date     time.Time
}

// Button is an inline keyboard button.
type Button struct {
	Text         string
	CallbackData string
	URL          string
}

// KeyButton is a reply keyboard button.
type KeyButton struct {
	Text            string
	RequestLocation bool
	RequestContact  bool
}

// Venue is a sent venue.
type Venue struct {
	Latitude, Longitude float64
	Title, Address      string
}

// Location is a sent location.
type Location struct {
	Latitude, Longitude float64
}

// Contact is a shared phone contact.
type Contact struct {
	PhoneNumber string
	FirstName   string
	LastName    string
	UserID      int64
}

// Document is a sent document: the uploaded bytes, or only a FileID/URL
// when the bot reused a file.
type Document struct {
	FileID   string
	FileName string
	MimeType string
	Data     []byte
	URL      string
	Caption  string
}

// Photo is a sent photo, like Document.
type Photo struct {
	FileID   string
	FileName string
	Data     []byte
	URL      string
	Caption  string
}

// Sticker is a sticker a user sent.
type Sticker struct {
	FileID string
	Emoji  string
}

// Voice is a voice note a user sent.
type Voice struct {
	FileID   string
	Duration int
}

type storedMessage struct {
	Message
	ver uint64 // chat version of the last change, for WaitFor
}

// chat holds one chat's state behind its own lock, so traffic in different
// chats never contends.
type chat struct {
	mu      sync.Mutex
	id      int64
	typ     string
	title   string
	user    User // the other party of a private chat
	known   bool // a user wrote here or a test registered the chat
	blocked bool
	nextID  int
	msgs    []storedMessage // ordered by ID; msgs[head:] are live
	head    int
	bots    int // bot messages ever sent, including ones capped away
	ver     uint64
	changed chan struct{} // closed and replaced on every change
	limit   bucket
}

func chatType(id int64) string {
	switch {
	case id > 0:
		return "private"
	case id <= -1_000_000_000_000:
		// Supergroup ids are -100xxxxxxxxxx.
		return "supergroup"
	default:
		return "group"
	}
}

// chatFor returns the chat record, creating an unknown one if needed.
func (s *Server) chatFor(id int64) *chat {
	s.chatsMu.RLock()
	c := s.chats[id]
	s.chatsMu.RUnlock()
	if c != nil {
		return c
	}
	s.chatsMu.Lock()
	defer s.chatsMu.Unlock()
	if c = s.chats[id]; c == nil {
		c = &chat{id: id, typ: chatType(id), changed: make(chan struct{})}
		s.chats[id] = c
	}
	return c
}

func (s *Server) lookupChat(id int64) *chat {
	s.chatsMu.RLock()
	defer s.chatsMu.RUnlock()
	return s.chats[id]
}

// AddGroup registers a group chat the bot is a member of, so it can send
// there before anyone wrote. Ids at or below -1000000000000 are supergroups.
func (s *Server) AddGroup(chatID int64, title string) {
	c := s.chatFor(chatID)
	c.mu.Lock()
	c.known = true
	c.title = title
	c.mu.Unlock()
}

// AddPrivateChat registers a private chat with u, as if u had started the
// bot earlier, without enqueueing an update.
func (s *Server) AddPrivateChat(u User) {
	c := s.chatFor(u.ID)
	c.mu.Lock()
	c.known = true
	c.user = u
	c.mu.Unlock()
}

// Block makes sends to chatID fail with 403, as after the user blocked the
// bot (or removed it from a group).
func (s *Server) Block(chatID int64) { s.setBlocked(chatID, true) }

// Unblock undoes Block.
func (s *Server) Unblock(chatID int64) { s.setBlocked(chatID, false) }

func (s *Server) setBlocked(chatID int64, b bool) {
	c := s.chatFor(chatID)
	c.mu.Lock()
	c.blocked = b
	c.mu.Unlock()
}

func (c *chat) forbidden() reply {
	if c.typ == "private" {
		return fail(403, "Forbidden: bot was blocked by the user")
	}
	return fail(403, "Forbidden: bot was kicked from the group chat")
}

// touch records a change: it bumps the version and wakes waiters.
// Callers hold c.mu.
func (c *chat) touch() uint64 {
	c.ver++
	close(c.changed)
	c.changed = make(chan struct{})
	return c.ver
}

// appendMessage stores m with the next message id, capping the transcript.
// Callers hold c.mu.
func (s *Server) appendMessage(c *chat, m Message) Message {
	c.nextID++
	m.ID = c.nextID
	m.ChatID = c.id
	if m.FromBot {
		c.bots++
	}
	c.msgs = append(c.msgs, storedMessage{Message: m, ver: c.touch()})
	if max := s.opts.MaxTranscript; max > 0 && len(c.msgs)-c.head > max {
		c.msgs[c.head] = storedMessage{}
		c.head++
		c.msgs, c.head = compact(c.msgs, c.head)
	}
	s.publish(Event{Kind: "message", ChatID: c.id, Message: m})
	return m
}

// find returns the index of message id in c.msgs, or -1. Ids are ordered,
// so this is a binary search. Callers hold c.mu.
func (c *chat) find(id int) int {
	live := c.msgs[c.head:]
	i := sort.Search(len(live), func(i int) bool { return live[i].ID >= id })
	if i < len(live) && live[i].ID == id {
		return c.head + i
	}
	return -1
}

// wireChat is the chat object of the Bot API. Callers hold c.mu.
func (c *chat) wireChat() *tgbotapi.Chat {
	w := &tgbotapi.Chat{ID: c.id, Type: c.typ}
	if c.typ == "private" {
		w.FirstName = c.user.FirstName
		w.LastName = c.user.LastName
		w.UserName = c.user.Username
	} else {
		w.Title = c.title
	}
	return w
}

// wire renders a stored message as the Bot API Message. Callers hold c.mu.
func (s *Server) wire(c *chat, m *Message, withReply bool) *tgbotapi.Message {
	w := &tgbotapi.Message{
		MessageID: m.ID,
		Date:      int(m.Date.Unix()),
		Chat:      c.wireChat(),
	}
	if m.FromBot {
		bot := s.botUser
		w.From = &bot
	} else {
		w.From = m.From.wire()
	}
	if m.Edited > 0 {
		w.EditDate = int(m.EditedAt.Unix())
	}
	caption := m.Document != nil || m.Photo != nil
	if caption {
		w.Caption = m.Text
		w.CaptionEntities = m.Entities
	} else {
		w.Text = m.Text
		w.Entities = m.Entities
	}
	if len(m.InlineKeyboard) > 0 {
		w.ReplyMarkup = wireInline(m.InlineKeyboard)
	}
	if m.Location != nil {
		w.Location = &tgbotapi.Location{Latitude: m.Location.Latitude, Longitude: m.Location.Longitude}
	}
	if m.Venue != nil {
		loc := tgbotapi.Location{Latitude: m.Venue.Latitude, Longitude: m.Venue.Longitude}
		w.Location = &loc
		w.Venue = &tgbotapi.Venue{Location: loc, Title: m.Venue.Title, Address: m.Venue.Address}
	}
	if m.Contact != nil {
		w.Contact = &tgbotapi.Contact{
			PhoneNumber: m.Contact.PhoneNumber,
			FirstName:   m.Contact.FirstName,
			LastName:    m.Contact.LastName,
			UserID:      m.Contact.UserID,
		}
	}
	if m.Document != nil {
		w.Document = &tgbotapi.Document{
			FileID:       m.Document.FileID,
			FileUniqueID: uniqueID(m.Document.FileID),
			FileName:     m.Document.FileName,
			MimeType:     m.Document.MimeType,
			FileSize:     len(m.Document.Data),
		}
	}
	if m.Photo != nil {
		id := m.Photo.FileID
		w.Photo = []tgbotapi.PhotoSize{
			{FileID: id + "-s", FileUniqueID: uniqueID(id + "-s"), Width: 90, Height: 67},
			{FileID: id, FileUniqueID: uniqueID(id), Width: 800, Height: 600, FileSize: len(m.Photo.Data)},
		}
	}
	if m.Sticker != nil {
		w.Sticker = &tgbotapi.Sticker{
			FileID: m.Sticker.FileID, FileUniqueID: uniqueID(m.Sticker.FileID),
			Width: 512, Height: 512, Emoji: m.Sticker.Emoji,
		}
	}
	if m.Voice != nil {
		w.Voice = &tgbotapi.Voice{
			FileID: m.Voice.FileID, FileUniqueID: uniqueID(m.Voice.FileID),
			Duration: m.Voice.Duration, MimeType: "audio/ogg",
		}
	}
	if withReply && m.ReplyTo != 0 {
		// Telegram includes the replied message one level deep only.
		if i := c.find(m.ReplyTo); i >= 0 && !c.msgs[i].Deleted {
			w.ReplyToMessage = s.wire(c, &c.msgs[i].Message, false)
		}
	}
	return w
}

func uniqueID(fileID string) string { return "U" + fileID }

func wireInline(rows [][]Button) *tgbotapi.InlineKeyboardMarkup {
	out := make([][]tgbotapi.InlineKeyboardButton, len(rows))
	for i, row := range rows {
		out[i] = make([]tgbotapi.InlineKeyboardButton, len(row))
		for j, b := range row {
			btn := tgbotapi.InlineKeyboardButton{Text: b.Text}
			if b.CallbackData != "" {
				data := b.CallbackData
				btn.CallbackData = &data
			}
			if b.URL != "" {
				u := b.URL
				btn.URL = &u
			}
			out[i][j] = btn
		}
	}
	return &tgbotapi.InlineKeyboardMarkup{InlineKeyboard: out}
}

// Transcript returns copies of the chat's messages, users' and the bot's, in
// order, with edits applied and deleted ones marked.
func (s *Server) Transcript(chatID int64) []Message {
	c := s.lookupChat(chatID)
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Message, 0, len(c.msgs)-c.head)
	for _, m := range c.msgs[c.head:] {
		out = append(out, m.Message)
	}
	return out
}

// LastMessage returns the bot's last message in the chat that was not
// deleted.
func (s *Server) LastMessage(chatID int64) (Message, bool) {
	c := s.lookupChat(chatID)
	if c == nil {
		return Message{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.msgs) - 1; i >= c.head; i-- {
		if m := c.msgs[i]; m.FromBot && !m.Deleted {
			return m.Message, true
		}
	}
	return Message{}, false
}

// WaitFor waits until a bot message in the chat, already there or new or
// edited later, satisfies pred, and returns it. pred runs without any server
// lock held. The error wraps ctx.Err().
func (s *Server) WaitFor(ctx context.Context, chatID int64, pred func(Message) bool) (Message, error) {
	c := s.chatFor(chatID)
	var seen uint64
	var last string
	for {
		c.mu.Lock()
		var batch []Message
		for _, m := range c.msgs[c.head:] {
			if m.ver > seen && m.FromBot && !m.Deleted {
				batch = append(batch, m.Message)
			}
		}
		seen = c.ver
		changed := c.changed
		c.mu.Unlock()

		for _, m := range batch {
			if pred(m) {
				return m, nil
			}
			last = m.Text
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return Message{}, fmt.Errorf("telegramtest: no matching bot message in chat %d (last checked: %q): %w", chatID, last, ctx.Err())
		}
	}
}

// WaitMessages waits until the bot has sent at least n messages to the chat
// and returns the bot's messages still in the transcript.
func (s *Server) WaitMessages(ctx context.Context, chatID int64, n int) ([]Message, error) {
	c := s.chatFor(chatID)
	for {
		c.mu.Lock()
		bots := c.bots
		var out []Message
		if bots >= n {
			for _, m := range c.msgs[c.head:] {
				if m.FromBot {
					out = append(out, m.Message)
				}
			}
		}
		changed := c.changed
		c.mu.Unlock()
		if bots >= n {
			return out, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("telegramtest: chat %d has %d bot messages, want %d: %w", chatID, bots, n, ctx.Err())
		}
	}
}

// Event is a change the sandbox page can render.
type Event struct {
	// Kind is "message" (from a user or the bot), "edit", "delete" or
	// "callback_answer".
	Kind    string
	ChatID  int64
	Message Message
	// CallbackID, Text and ShowAlert describe a "callback_answer".
	CallbackID string
	Text       string
	ShowAlert  bool
}

// subscriberBuffer bounds each subscriber's queue; beyond it events are
// dropped so a slow page never slows the server.
const subscriberBuffer = 1024

type subscriber struct {
	ch     chan Event
	closed bool // guarded by Server.subMu
}

func (sub *subscriber) close() {
	if !sub.closed {
		sub.closed = true
		close(sub.ch)
	}
}

// Subscribe streams every change. The returned function unsubscribes and
// closes the channel; Close does the same. A subscriber that falls more
// than subscriberBuffer events behind loses events rather than blocking the
// server.
func (s *Server) Subscribe() (<-chan Event, func()) {
	sub := &subscriber{ch: make(chan Event, subscriberBuffer)}
	s.subMu.Lock()
	select {
	case <-s.done:
		sub.close()
	default:
		s.subs[sub] = struct{}{}
		s.nsubs.Add(1)
	}
	s.subMu.Unlock()
	return sub.ch, func() {
		s.subMu.Lock()
		defer s.subMu.Unlock()
		if _, ok := s.subs[sub]; ok {
			delete(s.subs, sub)
			s.nsubs.Add(-1)
		}
		sub.close()
	}
}

func (s *Server) publish(e Event) {
	if s.opts.Observe != nil {
		s.opts.Observe(e)
	}
	if s.nsubs.Load() == 0 {
		return
	}
	s.subMu.Lock()
	defer s.subMu.Unlock()
	for sub := range s.subs {
		select {
		case sub.ch <- e:
		default:
		}
	}
}
