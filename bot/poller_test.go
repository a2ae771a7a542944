package bot

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"jastar/bot/telegramtest"
	"jastar/locales"
)

// runBot stops the harness's own bot and runs a new one on the same
// database and fake Bot API, with setup applied before it starts and drain
// as its shutdown drain time. stop cancels it and returns what Run returned.
func runBot(t *testing.T, h *harness, drain time.Duration, setup func(*Bot)) (stop func() error) {
	t.Helper()
	h.stop()
	b, err := New(h.cfg, Deps{Store: h.db, Locales: testLocales, Log: slogJSON(h.logs), Now: h.now, Catalog: h.cat})
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := b.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	h.bot = b
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx, drain) }()
	stopped, result := false, error(nil)
	stop = func() error {
		t.Helper()
		if stopped {
			return result
		}
		stopped = true
		cancel()
		select {
		case result = <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return within 10 s of the shutdown signal")
		}
		return result
	}
	t.Cleanup(func() { stop() })
	return stop
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting: %s", what)
	}
}

// TestRun_HandlerOutlivingTheDrainIsCancelledAndReplayed: a deploy while a
// handler is stuck (a slow send) must not crash the process when the
// handler finally returns after shutdown; its context is cancelled at the
// drain deadline, Run returns cleanly, and the update is handled again
// after the restart.
func TestRun_HandlerOutlivingTheDrainIsCancelledAndReplayed(t *testing.T) {
	h := newHarness(t)
	u := telegramtest.User{ID: 1201, FirstName: "Д", LanguageCode: "ru"}
	started, cancelled := make(chan struct{}), make(chan struct{})
	release, finished := make(chan struct{}), make(chan struct{})
	stop := runBot(t, h, 200*time.Millisecond, func(b *Bot) {
		b.routes.commands["slow"] = func(ctx context.Context, r *Request) error {
			defer close(finished)
			close(started)
			select {
			case <-ctx.Done():
				close(cancelled)
			case <-release:
			}
			<-release // keeps going after the deadline, as a send ignoring ctx would
			return nil
		}
	})
	h.srv.SendText(u, "/slow")
	waitClosed(t, started, "the handler to start")

	if err := stop(); err != nil {
		t.Fatalf("Run = %v, want a clean stop", err)
	}
	waitClosed(t, cancelled, "the late handler's context to be cancelled at the drain deadline")
	if !strings.Contains(h.logs.String(), "handlers still running at the shutdown deadline") {
		t.Errorf("the shutdown did not say handlers were cut short:\n%s", h.logs.String())
	}

	// The handler returns after shutdown; marking its update handled
	// used to send on the closed done log and panic the process.
	close(release)
	waitClosed(t, finished, "the late handler to return")

	runBot(t, h, 5*time.Second, func(b *Bot) {
		b.routes.commands["slow"] = func(ctx context.Context, r *Request) error {
			_, err := b.reply(ctx, r, "replayed", nil)
			return err
		}
	})
	h.waitText(u.ID, "replayed")
}

// TestPoll_UndecodableUpdateIsConfirmed: an update the library cannot
// decode, last in its batch, is still confirmed, so Telegram stops serving
// it (before, getUpdates returned it at once, forever, in a busy loop) and
// later messages are answered.
func TestPoll_UndecodableUpdateIsConfirmed(t *testing.T) {
	h := newHarness(t)
	u := telegramtest.User{ID: 1202, FirstName: "Е", LanguageCode: "ru"}
	h.srv.SendText(u, "/help")
	bad := h.srv.PushUpdate([]byte(`{"message":{"message_id":7,"date":"yesterday"}}`))
	h.waitText(u.ID, firstLine(plain(ru(locales.Help))))
	deadline := time.Now().Add(10 * time.Second)
	for h.srv.PendingUpdates() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("update %d that does not decode is still unconfirmed after 10 s (%d getUpdates calls)", bad, len(h.srv.Calls("getUpdates")))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if logs := h.logs.String(); !strings.Contains(logs, fmt.Sprintf(`"update_id":%d`, bad)) {
		t.Errorf("the skipped update %d is not logged with its id:\n%s", bad, logs)
	}
	h.srv.SendText(u, "/menu")
	h.waitText(u.ID, ru(locales.MenuPrompt))
}
