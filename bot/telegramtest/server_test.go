package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

var alice = User{ID: 1001, FirstName: "Alice", Username: "alice", LanguageCode: "ru"}

// newBot connects the real client library to s; NewBotAPIWithAPIEndpoint
// itself calls getMe.
func newBot(t *testing.T, s *Server) *tgbotapi.BotAPI {
	t.Helper()
	bot, err := tgbotapi.NewBotAPIWithAPIEndpoint(s.Token(), s.Endpoint())
	if err != nil {
		t.Fatalf("NewBotAPIWithAPIEndpoint: %v", err)
	}
	return bot
}

// apiError extracts the Bot API error code and description.
func apiError(t *testing.T, err error) *tgbotapi.Error {
	t.Helper()
	var e *tgbotapi.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *tgbotapi.Error", err, err)
	}
	return e
}

func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestGetMe(t *testing.T) {
	s := NewServer(t)
	bot := newBot(t, s)
	if !bot.Self.IsBot || bot.Self.UserName != DefaultBotUsername || bot.Self.ID != 123456 {
		t.Errorf("getMe = %+v, want bot %q with id 123456", bot.Self, DefaultBotUsername)
	}
	if got := len(s.Calls("getMe")); got != 1 {
		t.Errorf("recorded %d getMe calls, want 1", got)
	}
}

func TestWrongTokenIsUnauthorized(t *testing.T) {
	s := NewServer(t)
	_, err := tgbotapi.NewBotAPIWithAPIEndpoint("42:WRONG", s.Endpoint())
	if err == nil {
		t.Fatal("NewBotAPI with a wrong token succeeded")
	}
	if e := apiError(t, err); e.Code != 401 || e.Message != "Unauthorized" {
		t.Errorf("error = %d %q, want 401 Unauthorized", e.Code, e.Message)
	}
	calls := s.Calls("getMe")
	if len(calls) != 1 || calls[0].Status != http.StatusUnauthorized {
		t.Errorf("calls = %+v, want one 401 getMe", calls)
	}
}

func TestGetUpdatesOffset(t *testing.T) {
	s := NewServer(t)
	bot := newBot(t, s)
	id1 := s.SendText(alice, "/start@jastar_test_bot promo")
	id2 := s.SendText(alice, "привет 👋")
	id3 := s.SendText(alice, "third")
	if !(id1 < id2 && id2 < id3) {
		t.Fatalf("update ids %d %d %d are not increasing", id1, id2, id3)
	}

	ups, err := bot.GetUpdates(tgbotapi.UpdateConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 3 {
		t.Fatalf("got %d updates, want 3", len(ups))
	}
	m := ups[0].Message
	if !m.IsCommand() || m.Command() != "start" || m.CommandWithAt() != "start@jastar_test_bot" || m.CommandArguments() != "promo" {
		t.Errorf("command parsing: %q %q %q from entities %+v", m.Command(), m.CommandWithAt(), m.CommandArguments(), m.Entities)
	}
	if m.Chat.ID != alice.ID || m.Chat.Type != "private" || m.From.UserName != "alice" || m.MessageID != 1 {
		t.Errorf("first message = %+v chat %+v", m, m.Chat)
	}
	if ups[1].Message.MessageID != 2 || ups[1].Message.Text != "привет 👋" {
		t.Errorf("second message = %+v", ups[1].Message)
	}

	// Updates below offset are confirmed and gone for good.
	ups, err = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: id3})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 1 || ups[0].UpdateID != id3 {
		t.Fatalf("after offset %d got %+v, want only update %d", id3, ups, id3)
	}
	ups, err = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: id1})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 1 || ups[0].UpdateID != id3 {
		t.Errorf("a lower offset brought back confirmed updates: %+v", ups)
	}
	if got := s.PendingUpdates(); got != 1 {
		t.Errorf("PendingUpdates = %d, want 1", got)
	}
	if _, err := bot.GetUpdates(tgbotapi.UpdateConfig{Offset: id3 + 1, Limit: 1}); err != nil {
		t.Fatal(err)
	}
	if got := s.PendingUpdates(); got != 0 {
		t.Errorf("PendingUpdates = %d after confirming all, want 0", got)
	}
}

func TestGetUpdatesLimitAndNegativeOffset(t *testing.T) {
	s := NewServer(t)
	bot := newBot(t, s)
	for i := range 5 {
		s.SendText(alice, fmt.Sprint("m", i))
	}
	ups, err := bot.GetUpdates(tgbotapi.UpdateConfig{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 2 || ups[0].Message.Text != "m0" {
		t.Fatalf("limit 2: got %d updates", len(ups))
	}
	ups, err = bot.GetUpdates(tgbotapi.UpdateConfig{Offset: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 1 || ups[0].Message.Text != "m4" {
		t.Fatalf("offset -1: got %+v, want the last update", ups)
	}
	if got := s.PendingUpdates(); got != 1 {
		t.Errorf("PendingUpdates = %d, want 1: a negative offset forgets earlier updates", got)
	}
}

// waitForPoll blocks until a long poll is parked in the server, so the
// test knows the update it sends next wakes it rather than being found
// immediately.
func waitForPoll(t *testing.T, s *Server) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.q.mu.Lock()
		n := s.q.waiting
		s.q.mu.Unlock()
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no long poll started")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestLongPollWakesUp(t *testing.T) {
	s := NewServer(t)
	bot := newBot(t, s)
	type result struct {
		ups []tgbotapi.Update
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		ups, err := bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 30})
		done <- result{ups, err}
	}()
	waitForPoll(t, s)
	s.SendText(alice, "wake up")
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(r.ups) != 1 || r.ups[0].Message.Text != "wake up" {
		t.Errorf("got %+v, want the new update", r.ups)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("long poll took %v: it waited for the timeout instead of waking", d)
	}
}

func TestLongPollTimesOut(t *testing.T) {
	t.Parallel() // waits out a whole second of long poll
	s := NewServer(t)
	bot := newBot(t, s)
	start := time.Now()
	ups, err := bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 0 {
		t.Errorf("got %d updates, want none", len(ups))
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("returned after %v, before the 1s timeout", d)
	}
}

func TestLongPollEndsWithRequestContext(t *testing.T) {
	s := NewServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/bot"+s.Token()+"/getUpdates?timeout=60", nil)
	errc := make(chan error, 1)
	go func() {
		_, err := http.DefaultClient.Do(req)
		errc <- err
	}()
	waitForPoll(t, s)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Do = %v, want context.Canceled", err)
	}
	// The server side must let go too, not wait for the 60s timeout.
	deadline := time.Now().Add(5 * time.Second)
	for len(s.Calls("getUpdates")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("server still holds the cancelled long poll")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestNewerPollEndsOlderOne(t *testing.T) {
	s := NewServer(t)
	bot := newBot(t, s)
	errc := make(chan error, 1)
	go func() {
		_, err := bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 30})
		errc <- err
	}()
	waitForPoll(t, s)
	if _, err := bot.GetUpdates(tgbotapi.UpdateConfig{}); err != nil {
		t.Fatal(err)
	}
	err := <-errc
	if e := apiError(t, err); e.Code != http.StatusConflict {
		t.Errorf("older poll got %d %q, want 409", e.Code, e.Message)
	}
}

func TestSendMessageValidation(t *testing.T) {
	button := func(data string) tgbotapi.InlineKeyboardMarkup {
		return tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("Go", data)))
	}
	tests := []struct {
		name     string
		chatID   int64
		text     string
		mode     string
		markup   any
		wantErr  string // "" means success
		wantText string
	}{
		{name: "4096 chars", text: strings.Repeat("a", 4096), wantText: strings.Repeat("a", 4096)},
		{name: "4097 chars", text: strings.Repeat("a", 4097), wantErr: "Bad Request: message is too long"},
		{name: "2048 emoji are 4096 UTF-16 units", text: strings.Repeat("😀", 2048), wantText: strings.Repeat("😀", 2048)},
		{name: "2049 emoji", text: strings.Repeat("😀", 2049), wantErr: "Bad Request: message is too long"},
		{name: "4096 Cyrillic", text: strings.Repeat("ж", 4096), wantText: strings.Repeat("ж", 4096)},
		{name: "length counted after HTML", text: "<b>" + strings.Repeat("a", 4096) + "</b>", mode: "HTML", wantText: strings.Repeat("a", 4096)},
		{name: "entities unescaped", text: "<b>1 &lt; 2</b> &amp; ok", mode: "HTML", wantText: "1 < 2 & ok"},
		{name: "empty", text: "", wantErr: "Bad Request: message text is empty"},
		{name: "only tags", text: "<b> </b>", mode: "HTML", wantErr: "Bad Request: message text is empty"},
		{name: "unclosed tag", text: "<b>bold", mode: "HTML", wantErr: "Bad Request: can't parse entities: can't find end tag corresponding to start tag \"b\""},
		{name: "unsupported tag", text: "a<br>b", mode: "HTML", wantErr: "Bad Request: can't parse entities: unsupported start tag \"br\" at byte offset 1"},
		{name: "crossed tags", text: "<b><i>x</b></i>", mode: "HTML", wantErr: "Bad Request: can't parse entities: unmatched end tag at byte offset 7, expected \"</i>\", found \"</b>\""},
		{name: "bare less-than", text: "1 < 2", mode: "HTML", wantErr: "Bad Request: can't parse entities: unclosed start tag at byte offset 2"},
		{name: "less-than before greater-than", text: "1 < 2 > 0", mode: "HTML", wantErr: "Bad Request: can't parse entities: unsupported start tag \" 2 \" at byte offset 2"},
		{name: "unknown parse mode", text: "x", mode: "BBCode", wantErr: "Bad Request: unsupported parse_mode"},
		{name: "64-byte callback data", text: "x", markup: button(strings.Repeat("d", 64)), wantText: "x"},
		{name: "65-byte callback data", text: "x", markup: button(strings.Repeat("d", 65)), wantErr: "Bad Request: BUTTON_DATA_INVALID"},
		{name: "empty callback data", text: "x", markup: button(""), wantErr: "Bad Request: BUTTON_DATA_INVALID"},
		{name: "unknown chat", chatID: 777, text: "x", wantErr: "Bad Request: chat not found"},
		{name: "contact request in group", chatID: -42, text: "x",
			markup:  tgbotapi.NewReplyKeyboard(tgbotapi.NewKeyboardButtonRow(tgbotapi.NewKeyboardButtonContact("Phone"))),
			wantErr: "Bad Request: phone number can be requested in private chats only"},
	}
	s := NewServer(t)
	bot := newBot(t, s)
	s.SendText(alice, "/start")
	s.AddGroup(-42, "Almaty youth")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chatID := tt.chatID
			if chatID == 0 {
				chatID = alice.ID
			}
			msg := tgbotapi.NewMessage(chatID, tt.text)
			msg.ParseMode = tt.mode
			msg.ReplyMarkup = tt.markup
			got, err := bot.Send(msg)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Send succeeded, want %q", tt.wantErr)
				}
				if e := apiError(t, err); e.Code != 400 || e.Message != tt.wantErr {
					t.Errorf("error = %d %q, want 400 %q", e.Code, e.Message, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if got.Text != tt.wantText || got.Chat.ID != chatID || got.From.ID != s.Bot().ID {
				t.Errorf("sent %q in chat %d from %d, want %q", got.Text, got.Chat.ID, got.From.ID, tt.wantText)
			}
			last, found := s.LastMessage(chatID)
			if !found || last.ID != got.MessageID || last.Text != tt.wantText {
				t.Errorf("LastMessage = %+v, want message %d", last, got.MessageID)
			}
		})
	}
}

func TestParseHTML(t *testing.T) {
	tests := []struct {
		in       string
		text     string
		entities string // type@offset+length, space separated
	}{
		{"plain", "plain", ""},
		{"<b>bold</b> and <i>it</i>", "bold and it", "bold@0+4 italic@9+2"},
		{"<strong><em>x</em>y</strong>", "xy", "bold@0+2 italic@0+1"},
		{"😀<u>a</u>", "😀a", "underline@2+1"},
		{`<a href="https://example.kz/?a=1&amp;b=2">link</a>`, "link", "text_link@0+4"},
		{`<pre><code class="language-go">x := 1</code></pre>`, "x := 1", "pre@0+6"},
		{"<code>a</code><s>b</s><tg-spoiler>c</tg-spoiler>", "abc", "code@0+1 strikethrough@1+1 spoiler@2+1"},
		{`<span class="tg-spoiler">s</span><blockquote>q</blockquote>`, "sq", "spoiler@0+1 blockquote@1+1"},
		{"&#1046;&#x416; &quot;q&quot; &unknown; &", "ЖЖ \"q\" &unknown; &", ""},
		{"<B>upper</B>", "upper", "bold@0+5"},
		{"<b></b>x", "x", ""},
	}
	for _, tt := range tests {
		text, ents, err := parseHTML(tt.in)
		if err != nil {
			t.Errorf("parseHTML(%q): %v", tt.in, err)
			continue
		}
		var got []string
		for _, e := range ents {
			got = append(got, fmt.Sprintf("%s@%d+%d", e.Type, e.Offset, e.Length))
		}
		if text != tt.text || strings.Join(got, " ") != tt.entities {
			t.Errorf("parseHTML(%q) = %q [%s], want %q [%s]", tt.in, text, strings.Join(got, " "), tt.text, tt.entities)
		}
	}
}

func FuzzParseHTML(f *testing.F) {
	for _, seed := range []string{"<b>x</b>", "<a href='u'>l</a>", "&lt;&#128512;", "<pre><code class=\"language-go\">x</code></pre>", "<b><i>x</b>", "😀<u>😀</u>"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		text, ents, err := parseHTML(in)
		if err != nil {
			return
		}
		n := utf16Len(text)
		for _, e := range ents {
			if e.Offset < 0 || e.Length <= 0 || e.Offset+e.Length > n {
				t.Errorf("parseHTML(%q): entity %+v outside text of %d units", in, e, n)
			}
		}
	})
}

func TestEditMessage(t *testing.T) {
	s := NewServer(t)
	bot := newBot(t, s)
	s.SendText(alice, "/start")

	_, err := bot.Send(tgbotapi.NewEditMessageText(alice.ID, 999, "new"))
	if e := apiError(t, err); e.Code != 400 || e.Message != "Bad Request: message to edit not found" {
		t.Errorf("edit of a missing message: %d %q", e.Code, e.Message)
	}
	_, err = bot.Send(tgbotapi.NewEditMessageText(alice.ID, 1, "new"))
	if e := apiError(t, err); e.Message != "Bad Request: message can't be edited" {
		t.Errorf("edit of the user's message: %q", e.Message)
	}

	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("Yes", "y")))
	msg := tgbotapi.NewMessage(alice.ID, "Book?")
	msg.ReplyMarkup = kb
	sent, err := bot.Send(msg)
	if err != nil {
		t.Fatal(err)
	}
	if sent.MessageID != 2 {
		t.Errorf("bot message id = %d, want 2 (after the user's 1)", sent.MessageID)
	}

	same := tgbotapi.NewEditMessageTextAndMarkup(alice.ID, sent.MessageID, "Book?", kb)
	_, err = bot.Send(same)
	if e := apiError(t, err); !strings.HasPrefix(e.Message, "Bad Request: message is not modified") {
		t.Errorf("identical edit: %q", e.Message)
	}

	edited, err := bot.Send(tgbotapi.NewEditMessageText(alice.ID, sent.MessageID, "Booked"))
	if err != nil {
		t.Fatal(err)
	}
	if edited.Text != "Booked" || edited.ReplyMarkup != nil || edited.EditDate == 0 {
		t.Errorf("edited = %+v: want new text, keyboard removed, edit_date set", edited)
	}
	last, _ := s.LastMessage(alice.ID)
	if last.Edited != 1 || last.Text != "Booked" || last.InlineKeyboard != nil {
		t.Errorf("stored after edit = %+v", last)
	}

	_, err = bot.Request(tgbotapi.NewEditMessageReplyMarkup(alice.ID, sent.MessageID, kb))
	if err != nil {
		t.Fatalf("editMessageReplyMarkup: %v", err)
	}
	if last, _ := s.LastMessage(alice.ID); last.Edited != 2 || len(last.InlineKeyboard) != 1 || last.InlineKeyboard[0][0].CallbackData != "y" {
		t.Errorf("after markup edit = %+v", last)
	}

	if _, err := bot.Request(tgbotapi.NewDeleteMessage(alice.ID, sent.MessageID)); err != nil {
		t.Fatal(err)
	}
	_, err = bot.Request(tgbotapi.NewDeleteMessage(alice.ID, sent.MessageID))
	if e := apiError(t, err); e.Message != "Bad Request: message to delete not found" {
		t.Errorf("second delete: %q", e.Message)
	}
	tr := s.Transcript(alice.ID)
	if len(tr) != 2 || !tr[1].Deleted || tr[0].FromBot || tr[0].Text != "/start" {
		t.Errorf("transcript = %+v", tr)
	}
}

func TestBlockedChat(t *testing.T) {
	s := NewServer(t)
	bot := newBot(t, s)
	s.SendText(alice, "hi")
	s.Block(alice.ID)
	_, err := bot.Send(tgbotapi.NewMessage(alice.ID, "news"))
	if e := apiError(t, err); e.Code != 403 || e.Message != "Forbidden: bot was blocked by the user" {
		t.Errorf("send to blocked chat: %d %q", e.Code, e.Message)
	}
	s.Unblock(alice.ID)
	if _, err := bot.Send(tgbotapi.NewMessage(alice.ID, "news")); err != nil {
		t.Errorf("send after Unblock: %v", err)
	}
}

func TestRateLimit(t *testing.T) {
	s := NewServer(t, Options{RateLimit: true})
	bot := newBot(t, s)
	s.SendText(alice, "hi")
	var limited *tgbotapi.Error
	for i := range 10 {
		_, err := bot.Send(tgbotapi.NewMessage(alice.ID, fmt.Sprint("n", i)))
		if err != nil {
			limited = apiError(t, err)
			if i < 3 {
				t.Errorf("message %d limited, want a burst of 3 allowed", i)
			}
			break
		}
	}
	if limited == nil {
		t.Fatal("10 messages in a row to one private chat were not limited")
	}
	if limited.Code != 429 || limited.RetryAfter < 1 || !strings.HasPrefix(limited.Message, "Too Many Requests: retry after ") {
		t.Errorf("limit error = %+v, want 429 with retry_after", limited)
	}
	// Another chat has its own budget.
	bob := User{ID: 2002, FirstName: "Bob"}
	s.SendText(bob, "hi")
	if _, err := bot.Send(tgbotapi.NewMessage(bob.ID, "x")); err != nil {
		t.Errorf("other chat limited too: %v", err)
	}
	s.SetRateLimit(false)
	if _, err := bot.Send(tgbotapi.NewMessage(alice.ID, "x")); err != nil {
		t.Errorf("limited after SetRateLimit(false): %v", err)
	}
}

func TestGlobalRateLimit(t *testing.T) {
	s := NewServer(t, Options{RateLimit: true, GlobalRate: 5})
	bot := newBot(t, s)
	var err error
	for i := range 10 {
		u := User{ID: int64(3000 + i), FirstName: "U"}
		s.SendText(u, "hi")
		if _, err = bot.Send(tgbotapi.NewMessage(u.ID, "x")); err != nil {
			if i < 5 {
				t.Errorf("message %d limited below the global rate", i)
			}
			break
		}
	}
	if err == nil || apiError(t, err).Code != 429 {
		t.Errorf("10 messages across chats at 5/s: err = %v, want 429", err)
	}
}

func TestFailNext(t *testing.T) {
	s := NewServer(t)
	bot := newBot(t, s)
	s.SendText(alice, "hi")
	s.FailNext("sendMessage", 2, 429, 7)
	for range 2 {
		_, err := bot.Send(tgbotapi.NewMessage(alice.ID, "x"))
		if e := apiError(t, err); e.Code != 429 || e.RetryAfter != 7 || e.Message != "Too Many Requests: retry after 7" {
			t.Errorf("scripted failure = %+v", e)
		}
	}
	if _, err := bot.Send(tgbotapi.NewMessage(alice.ID, "x")); err != nil {
		t.Errorf("third call: %v, want success", err)
	}
	for _, tt := range []struct {
		code int
		desc string
	}{{500, "Internal Server Error"}, {502, "Bad Gateway"}, {403, "Forbidden: bot was blocked by the user"}} {
		s.FailNext("getMe", 1, tt.code, 0)
		_, err := bot.GetMe()
		if e := apiError(t, err); e.Code != tt.code || e.Message != tt.desc {
			t.Errorf("FailNext %d: got %d %q, want %q", tt.code, e.Code, e.Message, tt.desc)
		}
	}
	calls := s.Calls("sendMessage")
	if len(calls) != 3 || calls[0].Status != 429 || calls[2].Status != 200 || calls[2].Params.Get("text") != "x" {
		t.Errorf("recorded calls = %+v", calls)
	}
}

func TestSendDocumentMultipart(t *testing.T) {
	s := NewServer(t)
	bot := newBot(t, s)
	s.SendText(alice, "/report")
	data := []byte("name,visits\nJastar Almaty,42\n")
	doc := tgbotapi.NewDocument(alice.ID, tgbotapi.FileBytes{Name: "report.csv", Bytes: data})
	doc.Caption = "<b>Отчёт</b>"
	doc.ParseMode = tgbotapi.ModeHTML
	sent, err := bot.Send(doc)
	if err != nil {
		t.Fatal(err)
	}
	if sent.Document == nil || sent.Document.FileName != "report.csv" || sent.Document.FileSize != len(data) || sent.Caption != "Отчёт" {
		t.Fatalf("answer = %+v document %+v", sent, sent.Document)
	}
	last, _ := s.LastMessage(alice.ID)
	if last.Document == nil || !bytes.Equal(last.Document.Data, data) || last.Document.Caption != "Отчёт" || len(last.Entities) != 1 {
		t.Errorf("stored = %+v", last)
	}
	calls := s.Calls("sendDocument")
	if len(calls) != 1 || calls[0].Params.Get("document") != "report.csv" || calls[0].Params.Get("chat_id") != fmt.Sprint(alice.ID) {
		t.Errorf("calls = %+v", calls)
	}

	// Resending by file_id reuses the stored file.
	again, err := bot.Send(tgbotapi.NewDocument(alice.ID, tgbotapi.FileID(sent.Document.FileID)))
	if err != nil {
		t.Fatal(err)
	}
	if last, _ := s.LastMessage(alice.ID); last.ID != again.MessageID || !bytes.Equal(last.Document.Data, data) {
		t.Errorf("resent = %+v", last)
	}
	_, err = bot.Send(tgbotapi.NewDocument(alice.ID, tgbotapi.FileID("nope")))
	if e := apiError(t, err); e.Message != "Bad Request: wrong file identifier/HTTP URL specified" {
		t.Errorf("unknown file_id: %q", e.Message)
	}
}

func TestSendPhotoLocationVenue(t *testing.T) {
	s := NewServer(t)
	bot := newBot(t, s)
	s.SendText(alice, "/centers")
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	if _, err := bot.Send(tgbotapi.NewPhoto(alice.ID, tgbotapi.FileBytes{Name: "map.png", Bytes: png})); err != nil {
		t.Fatal(err)
	}
	_, err := bot.Send(tgbotapi.NewPhoto(alice.ID, tgbotapi.FileBytes{Name: "x.png", Bytes: []byte("not an image")}))
	if e := apiError(t, err); e.Message != "Bad Request: IMAGE_PROCESS_FAILED" {
		t.Errorf("non-image photo: %q", e.Message)
	}
	if _, err := bot.Send(tgbotapi.NewLocation(alice.ID, 43.238, 76.945)); err != nil {
		t.Fatal(err)
	}
	v, err := bot.Send(tgbotapi.NewVenue(alice.ID, "Jastar Talgar", "Talgar, Abaya 1", 43.30, 77.24))
	if err != nil {
		t.Fatal(err)
	}
	if v.Venue == nil || v.Venue.Title != "Jastar Talgar" || v.Location == nil {
		t.Errorf("venue answer = %+v", v)
	}
	_, err = bot.Send(tgbotapi.NewLocation(alice.ID, 91, 0))
	if e := apiError(t, err); e.Message != "Bad Request: wrong latitude specified" {
		t.Errorf("latitude 91: %q", e.Message)
	}
	tr := s.Transcript(alice.ID)
	if len(tr) != 4 || tr[1].Photo == nil || !bytes.Equal(tr[1].Photo.Data, png) || tr[2].Location == nil || tr[3].Venue.Address != "Talgar, Abaya 1" {
		t.Errorf("transcript = %+v", tr)
	}
}

func TestCallbackQuery(t *testing.T) {
	s := NewServer(t)
	bot := newBot(t, s)
	s.SendText(alice, "/events")
	msg := tgbotapi.NewMessage(alice.ID, "Pick")
	msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("Concert", "ev:7")))
	sent, err := bot.Send(msg)
	if err != nil {
		t.Fatal(err)
	}
	cbID, updID := s.PressButton(alice, alice.ID, sent.MessageID, "ev:7")
	ups, err := bot.GetUpdates(tgbotapi.UpdateConfig{Offset: updID})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 1 || ups[0].CallbackQuery == nil {
		t.Fatalf("updates = %+v", ups)
	}
	cq := ups[0].CallbackQuery
	if cq.ID != cbID || cq.Data != "ev:7" || cq.Message.MessageID != sent.MessageID || cq.Message.ReplyMarkup == nil || cq.From.ID != alice.ID {
		t.Errorf("callback query = %+v", cq)
	}
	if _, _, answered := s.AnsweredCallback(cbID); answered {
		t.Error("answered before the bot answered")
	}
	if _, err := bot.Request(tgbotapi.NewCallbackWithAlert(cbID, "Booked!")); err != nil {
		t.Fatal(err)
	}
	if text, alert, answered := s.AnsweredCallback(cbID); !answered || text != "Booked!" || !alert {
		t.Errorf("AnsweredCallback = %q %v %v", text, alert, answered)
	}
	_, err = bot.Request(tgbotapi.NewCallback(cbID, ""))
	if e := apiError(t, err); !strings.Contains(e.Message, "query ID is invalid") {
		t.Errorf("second answer: %q", e.Message)
	}
	_, err = bot.Request(tgbotapi.NewCallback("123", strings.Repeat("x", 201)))
	if e := apiError(t, err); e.Code != 400 {
		t.Errorf("201-char answer: %+v", e)
	}
}

func TestWaitFor(t *testing.T) {
	s := NewServer(t)
	bot := newBot(t, s)
	s.SendText(alice, "/start")
	go func() {
		m, err := bot.Send(tgbotapi.NewMessage(alice.ID, "Loading…"))
		if err == nil {
			bot.Send(tgbotapi.NewEditMessageText(alice.ID, m.MessageID, "Сәлем, Alice!"))
		}
	}()
	ctx := waitCtx(t)
	m, err := s.WaitFor(ctx, alice.ID, func(m Message) bool { return strings.HasPrefix(m.Text, "Сәлем") })
	if err != nil {
		t.Fatal(err)
	}
	if m.Edited != 1 || !m.FromBot {
		t.Errorf("WaitFor = %+v, want the edited bot message", m)
	}
	msgs, err := s.WaitMessages(ctx, alice.ID, 1)
	if err != nil || len(msgs) != 1 {
		t.Errorf("WaitMessages = %v, %v", msgs, err)
	}

	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.WaitFor(short, alice.ID, func(Message) bool { return false }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitFor without a match = %v, want DeadlineExceeded", err)
	}
}

// TestEchoBotLoop runs a real update loop against the fake, the way the bot
// and the load tool use it.
func TestEchoBotLoop(t *testing.T) {
	s := NewServer(t)
	bot := newBot(t, s)
	u := tgbotapi.NewUpdate(0)
	u.Timeout = 30
	updates := bot.GetUpdatesChan(u)
	defer bot.StopReceivingUpdates()
	go func() {
		for up := range updates {
			if up.Message != nil {
				bot.Send(tgbotapi.NewMessage(up.Message.Chat.ID, "echo: "+up.Message.Text))
			}
		}
	}()
	const users = 20
	for i := range users {
		s.SendText(User{ID: int64(5000 + i), FirstName: "U"}, fmt.Sprint("hello ", i))
	}
	ctx := waitCtx(t)
	for i := range users {
		want := fmt.Sprint("echo: hello ", i)
		if _, err := s.WaitFor(ctx, int64(5000+i), func(m Message) bool { return m.Text == want }); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConcurrentTraffic(t *testing.T) {
	s := NewServer(t, Options{MaxTranscript: 5, MaxCalls: 50})
	bot := newBot(t, s)
	events, unsubscribe := s.Subscribe()
	defer unsubscribe()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := User{ID: int64(7000 + g), FirstName: "U"}
			for i := range 20 {
				s.SendText(u, fmt.Sprint(i))
				if _, err := bot.Send(tgbotapi.NewMessage(u.ID, fmt.Sprint("r", i))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for g := range 8 {
		tr := s.Transcript(int64(7000 + g))
		if len(tr) != 5 || tr[4].ID != 40 || tr[4].Text != "r19" {
			t.Errorf("capped transcript = %+v", tr)
		}
	}
	if n := len(s.Calls("")); n != 50 {
		t.Errorf("kept %d calls, want MaxCalls 50", n)
	}
	if got := s.PendingUpdates(); got != 160 {
		t.Errorf("PendingUpdates = %d, want 160", got)
	}
	if e := <-events; e.Kind != "message" {
		t.Errorf("first event = %+v", e)
	}
}

func TestQueueFreesConfirmedUpdates(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	bot := newBot(t, s)
	var last int
	// Past the 1,024 confirmed updates at which the queue compacts, with
	// room (10,000 took 2 s of CPU under the race detector for nothing
	// more): below it the dropped slots are kept on purpose.
	for i := range 3000 {
		last = s.SendText(User{ID: int64(i + 1), FirstName: "U"}, "x")
	}
	if _, err := bot.GetUpdates(tgbotapi.UpdateConfig{Offset: last + 1}); err != nil {
		t.Fatal(err)
	}
	s.q.mu.Lock()
	n := len(s.q.items)
	s.q.mu.Unlock()
	if n != 0 {
		t.Errorf("queue still holds %d items after confirming all", n)
	}
}

func TestJSONBodyAndPushUpdate(t *testing.T) {
	s := NewServer(t)
	id := s.PushUpdate(json.RawMessage(`{"update_id":5,"message":{"message_id":17,"date":1700000000,"chat":{"id":-1001234567890,"type":"supergroup","title":"Jastar"},"from":{"id":9,"is_bot":false,"first_name":"Dana"},"text":"hi"}}`))
	if id != 1 {
		t.Errorf("PushUpdate id = %d, want 1", id)
	}
	body := `{"chat_id":-1001234567890,"text":"Hello","reply_markup":{"inline_keyboard":[[{"text":"Site","url":"https://jastar.kz"}]]}}`
	resp, err := http.Post(s.URL()+"/bot"+s.Token()+"/sendMessage", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		OK     bool             `json:"ok"`
		Result tgbotapi.Message `json:"result"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &got); err != nil || !got.OK {
		t.Fatalf("answer %s: %v", raw, err)
	}
	if got.Result.MessageID != 18 || got.Result.Chat.Type != "supergroup" || *got.Result.ReplyMarkup.InlineKeyboard[0][0].URL != "https://jastar.kz" {
		t.Errorf("result = %s", raw)
	}
}

func TestCommands(t *testing.T) {
	s := NewServer(t)
	bot := newBot(t, s)
	cmds := []tgbotapi.BotCommand{{Command: "start", Description: "Бастау"}, {Command: "centers", Description: "Орталықтар"}}
	if _, err := bot.Request(tgbotapi.NewSetMyCommandsWithScopeAndLanguage(tgbotapi.NewBotCommandScopeDefault(), "kk", cmds...)); err != nil {
		t.Fatal(err)
	}
	if got := s.Commands("kk"); len(got) != 2 || got[1].Command != "centers" {
		t.Errorf("Commands(kk) = %+v", got)
	}
	if got := s.Commands("ru"); len(got) != 0 {
		t.Errorf("Commands(ru) = %+v, want none", got)
	}
	_, err := bot.Request(tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "Bad-Name", Description: "x"}))
	if e := apiError(t, err); e.Message != "Bad Request: BOT_COMMAND_INVALID" {
		t.Errorf("bad command: %q", e.Message)
	}
	got, err := bot.GetMyCommandsWithConfig(tgbotapi.NewGetMyCommandsWithScopeAndLanguage(tgbotapi.NewBotCommandScopeDefault(), "kk"))
	if err != nil || len(got) != 2 {
		t.Errorf("getMyCommands = %+v, %v", got, err)
	}
}

// errorRecorder captures t.Errorf from the server instead of failing.
type errorRecorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *errorRecorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestUnknownMethodFailsTest(t *testing.T) {
	rec := &errorRecorder{TB: t}
	s := NewServer(rec)
	bot := newBot(t, s)
	_, err := bot.MakeRequest("sendDice", nil)
	if e := apiError(t, err); e.Code != 404 || e.Message != "Not Found: method not found" {
		t.Errorf("unknown method: %d %q", e.Code, e.Message)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "sendDice") {
		t.Errorf("reported %q, want one error naming sendDice", rec.errs)
	}
}

func TestNewRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:8080", "example.com:80"} {
		if s, err := New(Options{Addr: addr}); err == nil {
			s.Close()
			t.Errorf("New(Addr %q) succeeded, want an error", addr)
		}
	}
	s, err := New(Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close()
}

func TestLatency(t *testing.T) {
	s := NewServer(t, Options{Latency: 30 * time.Millisecond})
	bot := newBot(t, s)
	s.SetLatency(80 * time.Millisecond)
	start := time.Now()
	if _, err := bot.GetMe(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Errorf("getMe answered in %v, want at least the 80ms latency", d)
	}
}

func TestPushedCallbackIsAnswerable(t *testing.T) {
	s := NewServer(t)
	bot := newBot(t, s)
	s.PushUpdate(json.RawMessage(`{"update_id":1,"callback_query":{"id":"4382bfdwdsb323b2d9","from":{"id":9,"is_bot":false,"first_name":"Dana"},"chat_instance":"1","data":"x","message":{"message_id":3,"date":1700000000,"chat":{"id":9,"type":"private","first_name":"Dana"},"text":"Pick"}}}`))
	if _, err := bot.Request(tgbotapi.NewCallback("4382bfdwdsb323b2d9", "ok")); err != nil {
		t.Fatal(err)
	}
	if _, err := bot.Send(tgbotapi.NewMessage(9, "the chat is known now")); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkRoundTrip measures one user message, its delivery by getUpdates
// and the bot's answer: the load tool's unit of work.
func BenchmarkRoundTrip(b *testing.B) {
	s, err := New(Options{MaxTranscript: 10, MaxCalls: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	bot, err := tgbotapi.NewBotAPIWithAPIEndpoint(s.Token(), s.Endpoint())
	if err != nil {
		b.Fatal(err)
	}
	offset := 0
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		u := User{ID: int64(i%1000 + 1), FirstName: "U"}
		s.SendText(u, "/start")
		ups, err := bot.GetUpdates(tgbotapi.UpdateConfig{Offset: offset})
		if err != nil || len(ups) != 1 {
			b.Fatal(err, len(ups))
		}
		offset = ups[0].UpdateID + 1
		if _, err := bot.Send(tgbotapi.NewMessage(u.ID, "hi")); err != nil {
			b.Fatal(err)
		}
	}
}
