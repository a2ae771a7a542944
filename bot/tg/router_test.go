package tg

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"jastar/bot/telegramtest"
	"jastar/locales"
)

// TestDispatch_OrderPerChatConcurrencyAcross blocks one chat's handler and
// checks another chat is served meanwhile, and that the blocked chat's
// updates are handled in order afterwards.
func TestDispatch_OrderPerChatConcurrencyAcross(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var mu sync.Mutex
	var seen []string
	h := newRig(t)
	h.run(5*time.Second, func(tr *Transport) {
		tr.Routes().Command("echo", echo(tr))
		tr.Routes().Command("slow", func(ctx context.Context, r *Request) error {
			<-release
			return nil
		})
		tr.Routes().Command("seq", func(ctx context.Context, r *Request) error {
			mu.Lock()
			seen = append(seen, r.Args)
			mu.Unlock()
			_, err := tr.Reply(ctx, r, "seq "+r.Args, nil)
			return err
		})
	})
	slow := telegramtest.User{ID: 701, FirstName: "A", LanguageCode: "ru"}
	fast := telegramtest.User{ID: 702, FirstName: "B", LanguageCode: "ru"}
	h.srv.SendText(slow, "/slow")
	for i := range 20 {
		h.srv.SendText(slow, fmt.Sprintf("/seq %d", i))
	}
	h.srv.SendText(fast, "/echo fast")
	h.waitText(fast.ID, "echo fast")
	mu.Lock()
	early := len(seen)
	mu.Unlock()
	if early != 0 {
		t.Fatalf("%d updates of the blocked chat ran before its first finished", early)
	}
	close(release)
	h.waitText(slow.ID, "seq 19")
	mu.Lock()
	defer mu.Unlock()
	for i, s := range seen {
		if s != fmt.Sprint(i) {
			t.Fatalf("chat order broken: %v", seen)
		}
	}
}

// TestPanic_AnsweredWithLocalizedError: a handler that panics is
// recovered: the person is told in their language, the panic is logged
// with its update id and counted, and the chat goes on working.
func TestPanic_AnsweredWithLocalizedError(t *testing.T) {
	t.Parallel()
	h := newRig(t)
	h.run(5*time.Second, func(tr *Transport) {
		tr.Routes().Command("echo", echo(tr))
		tr.Routes().Command("boom", func(ctx context.Context, r *Request) error { panic("boom") })
	})
	u := telegramtest.User{ID: 801, FirstName: "Ә", LanguageCode: "kk"}
	h.srv.SendText(u, "/boom")
	h.waitText(u.ID, testLocales.For("kk").T(locales.SomethingWentWrong))
	if logs := h.logs.String(); !strings.Contains(logs, "handler panicked") || !strings.Contains(logs, `"update_id"`) {
		t.Errorf("panic not logged with its update id:\n%s", logs)
	}
	eventually(t, func() bool { return metricSum(t, h.tr.metrics, "jastar_handler_errors_total") == 1 })
	// The transport keeps working for the same person.
	h.srv.SendText(u, "/echo again")
	h.waitText(u.ID, "echo again")
}
