package tg

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/telegramtest"
)

// TestGetUpdates_AsTheLibrary: the poll gets the same updates, in the same
// bytes, as through the library, and an error answer is read the same way
// (a 429 with its retry_after, a 403).
func TestGetUpdates_AsTheLibrary(t *testing.T) {
	t.Parallel()
	srv := telegramtest.NewServer(t)
	dana := telegramtest.User{ID: 9, FirstName: "Dana", LanguageCode: "kk"}
	srv.AddPrivateChat(dana)
	srv.SendText(dana, "Сәлем")
	srv.SendText(dana, "/start")
	client := &http.Client{}
	cfg := tgbotapi.UpdateConfig{Limit: 100, AllowedUpdates: []string{"message", "callback_query"}}

	got, err := GetUpdates(client, srv.Endpoint(), srv.Token(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := newAPI(srv.Token(), srv.Endpoint(), client).Request(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var want []json.RawMessage
	if err := json.Unmarshal(resp.Result, &want); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !slices.EqualFunc(got, want, func(a, b json.RawMessage) bool { return string(a) == string(b) }) {
		t.Fatalf("GetUpdates = %s, the library's = %s", got, want)
	}
	var u tgbotapi.Update
	if err := json.Unmarshal(got[1], &u); err != nil || u.Message == nil || u.Message.Text != "/start" {
		t.Errorf("second update = %s (%v), want the /start message", got[1], err)
	}

	for _, tc := range []struct {
		code, retryAfter int
	}{{429, 5}, {403, 0}} {
		srv.FailNext("getUpdates", 1, tc.code, tc.retryAfter)
		_, err := GetUpdates(client, srv.Endpoint(), srv.Token(), cfg)
		var apiErr *APIError
		if err := Classify("getUpdates", srv.Token(), err); !errors.As(err, &apiErr) || apiErr.Code != tc.code || apiErr.RetryAfter != tc.retryAfter {
			t.Errorf("answer %d: err = %v, want code %d, retry_after %d", tc.code, err, tc.code, tc.retryAfter)
		}
	}
}

// BenchmarkGetUpdates reads a poll's answer of 64 button presses (each with
// the message it belongs to, as Telegram sends them) and splits it into the
// updates' JSON: through the library and then the split, as the poller did,
// and through GetUpdates.
//
//	go test -run '^$' -bench GetUpdates -benchmem ./bot/tg/
func BenchmarkGetUpdates(b *testing.B) {
	answer := []byte(`{"ok":true,"result":[`)
	for i := range 64 {
		if i > 0 {
			answer = append(answer, ',')
		}
		answer = fmt.Appendf(answer, `{"update_id":%d,"callback_query":{"id":"%d","from":{"id":%d,"is_bot":false,"first_name":"Dana","language_code":"kk"},`+
			`"message":{"message_id":%d,"from":{"id":100,"is_bot":true,"first_name":"Jastar","username":"jastar_bot"},"chat":{"id":%d,"first_name":"Dana","type":"private"},"date":1764583200,`+
			`"text":"Кеңес түрін таңдаңыз. Консультация тегін, ол 45 минутқа созылады.","reply_markup":{"inline_keyboard":[[{"text":"Психолог","callback_data":"bk:type:1"}],[{"text":"Заңгер","callback_data":"bk:type:2"}]]}},`+
			`"chat_instance":"-1","data":"bk:type:1"}}`, 1000+i, i, 500+i, 40+i, 500+i)
	}
	answer = append(answer, "]}"...)
	client := fixedAnswer(answer)
	cfg := tgbotapi.UpdateConfig{Limit: 100, Timeout: 30, AllowedUpdates: []string{"message", "callback_query"}}
	b.Run("library", func(b *testing.B) {
		api := newAPI("T", "http://x/bot%s/%s", client)
		b.ReportAllocs()
		for b.Loop() {
			resp, err := api.Request(cfg)
			if err != nil {
				b.Fatal(err)
			}
			var items []json.RawMessage
			if err := json.Unmarshal(resp.Result, &items); err != nil || len(items) != 64 {
				b.Fatal(err)
			}
		}
	})
	b.Run("GetUpdates", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			items, err := GetUpdates(client, "http://x/bot%s/%s", "T", cfg)
			if err != nil || len(items) != 64 {
				b.Fatal(err)
			}
		}
	})
}
