package tg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// TestSender_ReturnsTheMessageID: the id Send returns is the message's, for
// a message, a document and an edit, so the bot edits and deletes the
// message the person sees (the answer is cut to the id before the library
// reads it).
func TestSender_ReturnsTheMessageID(t *testing.T) {
	t.Parallel()
	srv, chatID, s := senderChat(t, &http.Client{}, testLimits())
	ctx := context.Background()
	msg := tgbotapi.NewMessage(chatID, "Сәлем")
	msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("Иә", "y")))
	sent, err := s.Send(ctx, chatID, msg)
	if err != nil {
		t.Fatal(err)
	}
	if last, _ := srv.LastMessage(chatID); sent == 0 || last.ID != sent {
		t.Fatalf("Send returned id %d, the chat's message is %d", sent, last.ID)
	}
	edited, err := s.Send(ctx, chatID, tgbotapi.NewEditMessageText(chatID, sent, "Сау болыңыз"))
	if err != nil {
		t.Fatal(err)
	}
	if last, _ := srv.LastMessage(chatID); edited != sent || last.Text != "Сау болыңыз" {
		t.Errorf("edit returned id %d (want %d), text %q", edited, sent, last.Text)
	}
	doc, err := s.Send(ctx, chatID, tgbotapi.NewDocument(chatID, tgbotapi.FileBytes{Name: "a.ics", Bytes: []byte("BEGIN:VCALENDAR")}))
	if err != nil {
		t.Fatal(err)
	}
	if last, _ := srv.LastMessage(chatID); doc == sent || last.ID != doc {
		t.Errorf("document: Send returned id %d, the chat's last message is %d", doc, last.ID)
	}
}

// TestSender_ErrorAnswersReachTheLibraryWhole: an error's code and
// retry_after still reach the sender, for a message call whose successful
// answers are cut.
func TestSender_ErrorAnswersReachTheLibraryWhole(t *testing.T) {
	t.Parallel()
	srv, chatID, s := senderChat(t, &http.Client{}, testLimits())
	srv.FailNext("sendMessage", 1, 403, 0)
	_, err := s.Send(context.Background(), chatID, tgbotapi.NewMessage(chatID, "Сәлем"))
	if !errors.Is(err, ErrBlocked) {
		t.Errorf("403: err = %v, want ErrBlocked", err)
	}
	srv.FailNext("sendMessage", 1, 429, 7)
	_, err = s.SendPaced(context.Background(), context.Background(), chatID, tgbotapi.NewMessage(chatID, "Сәлем"), NewPacer(100), nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 429 || apiErr.RetryAfter != 7 {
		t.Errorf("429: err = %v, want code 429 with retry_after 7", err)
	}
}

// TestLeadingMessageID: only an answer in Telegram's own shape is cut; any
// other shape goes to the library whole, which reads it as before.
func TestLeadingMessageID(t *testing.T) {
	for _, tc := range []struct {
		body string
		id   int64
		ok   bool
	}{
		{`{"ok":true,"result":{"message_id":42,"from":{"id":1},"reply_to_message":{"message_id":7}}}`, 42, true},
		{`{"ok":true,"result":{"message_id":42}}`, 42, true},
		{`{"ok":true,"result":{"message_id":9007199254740993,"date":1}}`, 9007199254740993, true},
		{`{"ok":true,"result":{"message_id":42`, 0, false},            // cut short
		{`{"ok":true,"result":{"message_id":4x2}}`, 0, false},         // not a number
		{`{"ok":true,"result":{"message_id":-42}}`, 0, false},         // not an id
		{`{"ok":true,"result":{"message_id":"42"}}`, 0, false},        // a string
		{`{"ok":true,"result":{"date":1,"message_id":42}}`, 0, false}, // another order
		{`{"ok": true, "result": {"message_id": 42}}`, 0, false},      // spaced
		{`{"ok":true,"result":true}`, 0, false},                       // an edit of an inline message
		{`{"ok":false,"error_code":400,"description":"Bad Request"}`, 0, false},
	} {
		id, ok := leadingMessageID([]byte(tc.body))
		if id != tc.id || ok != tc.ok {
			t.Errorf("%s: got %d, %v; want %d, %v", tc.body, id, ok, tc.id, tc.ok)
		}
		// Whatever the shape, the library reads the same id from what
		// idOnlyClient hands it as from the answer itself.
		api := newAPI("T", "http://x/bot%s/%s", idOnlyClient{fixedAnswer(tc.body)})
		resp, err := api.Request(tgbotapi.NewMessage(1, "x"))
		want, wantErr := newAPI("T", "http://x/bot%s/%s", fixedAnswer(tc.body)).Request(tgbotapi.NewMessage(1, "x"))
		if (err == nil) != (wantErr == nil) {
			t.Errorf("%s: err %v, the library alone: %v", tc.body, err, wantErr)
			continue
		}
		if err == nil && messageID(resp.Result) != messageID(want.Result) {
			t.Errorf("%s: id %d, the library alone: %d", tc.body, messageID(resp.Result), messageID(want.Result))
		}
	}
}

// fixedAnswer is an HTTP client that answers every request with body.
type fixedAnswer string

func (f fixedAnswer) Do(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(bytes.NewReader([]byte(f))), Header: http.Header{}}, nil
}

// BenchmarkAnswer reads Telegram's answer to a sendMessage with a
// keyboard, as Telegram writes it (the whole message echoed), through the
// library alone and through idOnlyClient: the bot's share of reading an
// answer, without the HTTP round trip.
//
//	go test -run '^$' -bench Answer -benchmem ./bot/tg/
func BenchmarkAnswer(b *testing.B) {
	var kb strings.Builder
	for i := range 6 {
		if i > 0 {
			kb.WriteByte(',')
		}
		fmt.Fprintf(&kb, `[{"text":"Кеңес түрі %d: психолог","callback_data":"bk:type:%d:tok123"}]`, i, i)
	}
	body := fixedAnswer(`{"ok":true,"result":{"message_id":4711,"from":{"id":100,"is_bot":true,"first_name":"Jastar","username":"jastar_bot"},` +
		`"chat":{"id":71,"first_name":"Dana","type":"private"},"date":1764583200,` +
		`"text":"Кеңес түрін таңдаңыз. Консультация тегін, ол 45 минутқа созылады; орталық сізге ыңғайлы уақытта күтеді.",` +
		`"entities":[{"offset":0,"length":20,"type":"bold"}],"reply_markup":{"inline_keyboard":[` + kb.String() + `]}}}`)
	msg := tgbotapi.NewMessage(71, "x")
	for _, tc := range []struct {
		name   string
		client tgbotapi.HTTPClient
	}{{"library", body}, {"id only", idOnlyClient{body}}} {
		b.Run(tc.name, func(b *testing.B) {
			api := newAPI("T", "http://x/bot%s/%s", tc.client)
			b.ReportAllocs()
			for b.Loop() {
				resp, err := api.Request(msg)
				if err != nil || messageID(resp.Result) != 4711 {
					b.Fatal(err)
				}
			}
		})
	}
}
