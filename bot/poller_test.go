package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"jastar/bot/telegramtest"
	"jastar/locales"
)

// runBot stops the harness's own bot and runs a new one on the same
// database and fake Bot API, with setup applied before it connects and drain
// as its shutdown drain time.
func runBot(t *testing.T, h *harness, drain time.Duration, setup func(*Bot)) *runningBot {
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
	r := &runningBot{t: t, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- b.Run(ctx, drain) }()
	t.Cleanup(func() { r.stop() })
	return r
}

// runningBot is a bot whose Run goes on in the background.
type runningBot struct {
	t      *testing.T
	cancel context.CancelFunc
	done   chan error
	ended  bool
	result error
}

// wait waits up to d for Run to return by itself; ok is false if it did not.
func (r *runningBot) wait(d time.Duration) (err error, ok bool) {
	if r.ended {
		return r.result, true
	}
	select {
	case r.result = <-r.done:
		r.ended = true
		return r.result, true
	case <-time.After(d):
		return nil, false
	}
}

// stop sends the shutdown signal and returns what Run returned.
func (r *runningBot) stop() error {
	r.t.Helper()
	r.cancel()
	err, ok := r.wait(10 * time.Second)
	if !ok {
		r.t.Fatal("Run did not return within 10 s of the shutdown signal")
	}
	return err
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
	t.Parallel()
	h := newHarness(t)
	u := telegramtest.User{ID: 1201, FirstName: "Д", LanguageCode: "ru"}
	started, cancelled := make(chan struct{}), make(chan struct{})
	release, finished := make(chan struct{}), make(chan struct{})
	rb := runBot(t, h, 200*time.Millisecond, func(b *Bot) {
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

	if err := rb.stop(); err != nil {
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
	t.Parallel()
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

// TestConnect_NotABotAPI: a TELEGRAM_API_URL that answers getMe with a
// client error is no Bot API; retrying cannot help, so Connect fails at
// once and names the variable, instead of "unreachable, retrying" forever.
func TestConnect_NotABotAPI(t *testing.T) {
	t.Parallel()
	connect := func(t *testing.T, endpoint string) error {
		t.Helper()
		bt, err := New(Config{Token: telegramtest.DefaultToken, APIEndpoint: endpoint}, Deps{Locales: testLocales})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = bt.Connect(ctx)
		if ctx.Err() != nil {
			t.Fatalf("Connect kept retrying until the test's deadline: %v", err)
		}
		return err
	}
	t.Run("Bot API answers 404", func(t *testing.T) {
		srv := telegramtest.NewServer(t)
		srv.FailNext("getMe", 1, http.StatusNotFound, 0)
		err := connect(t, srv.Endpoint())
		if err == nil || !strings.Contains(err.Error(), "TELEGRAM_API_URL") || !strings.Contains(err.Error(), "404") {
			t.Errorf("Connect = %v, want an error naming TELEGRAM_API_URL and the 404", err)
		}
		if n := len(srv.Calls("getMe")); n != 1 {
			t.Errorf("getMe called %d times, want 1", n)
		}
	})
	t.Run("a web server's HTML 404 page", func(t *testing.T) {
		web := httptest.NewServer(http.NotFoundHandler())
		t.Cleanup(web.Close)
		err := connect(t, web.URL+"/bot%s/%s")
		if err == nil || !strings.Contains(err.Error(), "TELEGRAM_API_URL") || !strings.Contains(err.Error(), web.URL+" answered 404") {
			t.Errorf("Connect = %v, want an error naming TELEGRAM_API_URL, the URL and the 404", err)
		}
	})
}

// TestPoll_Conflict: 409 from getUpdates means another instance polls the
// token or a webhook is set. A short run of them (a deploy overlapping the
// old instance) is logged as an error naming the cause and polling resumes;
// a minute of them stops the bot with that cause.
func TestPoll_Conflict(t *testing.T) {
	t.Parallel()
	clockSleep := func(c *fakeClock) func(context.Context, time.Duration) error {
		return func(ctx context.Context, d time.Duration) error {
			c.Set(c.Now().Add(d))
			return ctx.Err()
		}
	}
	t.Run("a short one is logged and polling resumes", func(t *testing.T) {
		clock := &fakeClock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
		h := newHarness(t, withClock(clock.Now))
		runBot(t, h, 5*time.Second, func(b *Bot) {
			h.srv.FailNext("getUpdates", 2, http.StatusConflict, 0)
			b.pollSleep = clockSleep(clock)
		})
		u := telegramtest.User{ID: 1203, FirstName: "Ж", LanguageCode: "ru"}
		h.srv.SendText(u, "/help")
		h.waitText(u.ID, firstLine(plain(ru(locales.Help))))
		if logs := h.logs.String(); strings.Count(logs, `"level":"ERROR","msg":"getUpdates conflict: another instance is polling this bot token, or a webhook is set (remove it with deleteWebhook)"`) != 2 {
			t.Errorf("want two error lines naming the cause of the 409s:\n%s", logs)
		}
	})
	t.Run("a lasting one stops the bot", func(t *testing.T) {
		clock := &fakeClock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
		h := newHarness(t, withClock(clock.Now))
		start := clock.Now()
		rb := runBot(t, h, 5*time.Second, func(b *Bot) {
			h.srv.FailNext("getUpdates", 1000, http.StatusConflict, 0)
			b.pollSleep = clockSleep(clock)
		})
		err, ended := rb.wait(10 * time.Second)
		if !ended {
			t.Fatalf("the bot kept polling through 409s (%d getUpdates calls)", len(h.srv.Calls("getUpdates")))
		}
		if !errors.Is(err, ErrPollConflict) || !strings.Contains(err.Error(), "deleteWebhook") {
			t.Errorf("Run = %v, want ErrPollConflict naming deleteWebhook", err)
		}
		if waited := clock.Now().Sub(start); waited < conflictGiveUp {
			t.Errorf("gave up after %v of 409s, want at least %v", waited, conflictGiveUp)
		}
	})
}

// TestRun_LateWorkAfterTheDrainIsRefused: a handler that outlives the drain
// deadline and then asks for background work (a callback answer) must not
// add to the WaitGroup Run waits on ("WaitGroup misuse" panicked the
// process before it closed the database), and the update queued behind it
// in the same chat must not run with a cancelled context: it stays in the
// inbox and is handled after the restart.
func TestRun_LateWorkAfterTheDrainIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := telegramtest.User{ID: 1202, FirstName: "Д", LanguageCode: "ru"}
	started, release, finished := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var lateRan, queuedRan atomic.Bool
	rb := runBot(t, h, 200*time.Millisecond, func(b *Bot) {
		b.routes.commands["slow"] = func(ctx context.Context, r *Request) error {
			defer close(finished)
			close(started)
			<-release // past the deadline, as a send ignoring ctx would
			b.background(func(context.Context) { lateRan.Store(true) })
			return nil
		}
		b.routes.commands["after"] = func(ctx context.Context, r *Request) error {
			queuedRan.Store(true)
			return nil
		}
	})
	h.srv.SendText(u, "/slow")
	waitClosed(t, started, "the handler to start")
	h.srv.SendText(u, "/after")
	eventually(t, func() bool { // "/after" stored in the inbox and queued behind "/slow"
		p, err := h.db.Pending(context.Background())
		return err == nil && len(p) == 2
	})

	if err := rb.stop(); err != nil {
		t.Fatalf("Run = %v, want a clean stop", err)
	}
	close(release)
	waitClosed(t, finished, "the late handler to return")

	runBot(t, h, 5*time.Second, func(b *Bot) {
		b.routes.commands["slow"] = func(ctx context.Context, r *Request) error { return nil }
		b.routes.commands["after"] = func(ctx context.Context, r *Request) error {
			_, err := b.reply(ctx, r, "after replayed", nil)
			return err
		}
	})
	h.waitText(u.ID, "after replayed")
	if lateRan.Load() {
		t.Error("background work asked for after the drain deadline was started")
	}
	if queuedRan.Load() {
		t.Error("the update queued behind the late handler ran in the stopped bot")
	}
}
