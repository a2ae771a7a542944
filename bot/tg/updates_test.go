package tg

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
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
	if len(got) != 2 || !slices.EqualFunc(got, want, func(a PolledUpdate, b json.RawMessage) bool { return string(a.JSON) == string(b) }) {
		t.Fatalf("GetUpdates = %v, the library's = %s", got, want)
	}
	for i, p := range got {
		var u tgbotapi.Update
		if err := json.Unmarshal(want[i], &u); err != nil || p.Err != nil || !reflect.DeepEqual(*p.Update, u) {
			t.Errorf("update %d decoded as %+v (%v), the library's %+v", i, p.Update, p.Err, u)
		}
	}
	if u := got[1].Update; u == nil || u.Message == nil || u.Message.Text != "/start" {
		t.Errorf("second update = %s, want the /start message", got[1].JSON)
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

// TestGetUpdates_ReadsAnyAnswerTelegramCanSend: an update that does not fit
// the library's types is handed back with its error and its bytes (so the
// poller confirms it away) while the others decode; blanks, fields in
// another order, unknown fields and a null result read as Telegram meant
// them; an answer that is not JSON, or is cut off, is an error as a whole.
func TestGetUpdates_ReadsAnyAnswerTelegramCanSend(t *testing.T) {
	t.Parallel()
	cfg := tgbotapi.UpdateConfig{Limit: 100}
	poll := func(body string) ([]PolledUpdate, error) {
		return GetUpdates(fixedAnswer(body), "http://x/bot%s/%s", "T", cfg)
	}

	got, err := poll(`{"result": [ {"update_id":1,"message":{"message_id":5,"text":"hi","chat":{"id":7,"type":"private"}}} ,` +
		"\n\t" + `{"update_id":2,"message":{"message_id":"not a number"}},{"update_id":3,"future_field":{"x":[1,2]}}], "ok": true, "new_top_field": 1}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d updates, want 3", len(got))
	}
	if got[0].Err != nil || got[0].Update.UpdateID != 1 || got[0].Update.Message.Text != "hi" ||
		string(got[0].JSON) != `{"update_id":1,"message":{"message_id":5,"text":"hi","chat":{"id":7,"type":"private"}}}` {
		t.Errorf("first update = %s, %+v, %v", got[0].JSON, got[0].Update, got[0].Err)
	}
	if got[1].Err == nil || got[1].Update != nil || rawUpdateID(got[1].JSON) != 2 {
		t.Errorf("an update that does not decode = %s, %+v, %v; want its error and its id", got[1].JSON, got[1].Update, got[1].Err)
	}
	if got[2].Err != nil || got[2].Update.UpdateID != 3 || string(got[2].JSON) != `{"update_id":3,"future_field":{"x":[1,2]}}` {
		t.Errorf("an update with an unknown field = %s, %+v, %v", got[2].JSON, got[2].Update, got[2].Err)
	}

	if got, err := poll(`{"ok":true,"result":null}`); err != nil || len(got) != 0 {
		t.Errorf("null result = %v, %v; want no updates", got, err)
	}
	if got, err := poll(`{"ok":true,"result":[]}`); err != nil || len(got) != 0 {
		t.Errorf("empty result = %v, %v; want no updates", got, err)
	}
	for _, bad := range []string{
		`<html>502 Bad Gateway</html>`,
		`{"ok":true,"result":[{"update_id":1,"message":{`,
		`{"ok":true,"result":[{"update_id":1},]}`,
		`{"ok":true,"result":{"update_id":1}}`,
		``,
	} {
		if got, err := poll(bad); err == nil {
			t.Errorf("answer %q = %v, want an error", bad, got)
		}
	}
	_, err = poll(`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}`)
	var apiErr *APIError
	if err := Classify("getUpdates", "T", err); !errors.As(err, &apiErr) || apiErr.Code != 429 || apiErr.RetryAfter != 3 {
		t.Errorf("a 429 answer = %v, want code 429 with retry_after 3", err)
	}
}

// BenchmarkGetUpdates reads a poll's answer of 64 button presses (each with
// the message it belongs to, as Telegram sends them) into the updates' JSON
// and their decoding: through the library, the split and each update's
// decoding, as the poller did, and through GetUpdates.
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
			for _, it := range items {
				if err := json.Unmarshal(it, new(tgbotapi.Update)); err != nil {
					b.Fatal(err)
				}
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
