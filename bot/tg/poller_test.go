package tg

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"jastar/bot/telegramtest"
	"jastar/storage/boltdb"
	"jastar/storage/storagetest"
)

// TestRun_HandlerOutlivingTheDrainIsCancelledAndReplayed: a deploy while a
// handler is stuck (a slow send) must not crash the process when the
// handler finally returns after shutdown; its context is cancelled at the
// drain deadline, Run returns cleanly, and the update is handled again
// after the restart.
func TestRun_HandlerOutlivingTheDrainIsCancelledAndReplayed(t *testing.T) {
	t.Parallel()
	h := newRig(t)
	u := telegramtest.User{ID: 1201, FirstName: "Д", LanguageCode: "ru"}
	started, cancelled := make(chan struct{}), make(chan struct{})
	release, finished := make(chan struct{}), make(chan struct{})
	rb := h.run(200*time.Millisecond, func(tr *Transport) {
		tr.Routes().Command("slow", func(ctx context.Context, r *Request) error {
			defer close(finished)
			close(started)
			select {
			case <-ctx.Done():
				close(cancelled)
			case <-release:
			}
			<-release // keeps going after the deadline, as a send ignoring ctx would
			return nil
		})
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

	h.run(5*time.Second, func(tr *Transport) {
		tr.Routes().Command("slow", func(ctx context.Context, r *Request) error {
			_, err := tr.Reply(ctx, r, "replayed", nil)
			return err
		})
	})
	h.waitText(u.ID, "replayed")
}

// TestPoll_UndecodableUpdateIsConfirmed: an update the library cannot
// decode, last in its batch, is still confirmed, so Telegram stops serving
// it (before, getUpdates returned it at once, forever, in a busy loop) and
// later messages are answered.
func TestPoll_UndecodableUpdateIsConfirmed(t *testing.T) {
	t.Parallel()
	h := newRig(t)
	h.run(5*time.Second, func(tr *Transport) { tr.Routes().Command("echo", echo(tr)) })
	u := telegramtest.User{ID: 1202, FirstName: "Е", LanguageCode: "ru"}
	h.srv.SendText(u, "/echo 1")
	bad := h.srv.PushUpdate([]byte(`{"message":{"message_id":7,"date":"yesterday"}}`))
	h.waitText(u.ID, "echo 1")
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
	h.srv.SendText(u, "/echo 2")
	h.waitText(u.ID, "echo 2")
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
		h := newRig(t)
		h.now = clock.Now
		h.run(5*time.Second, func(tr *Transport) {
			h.srv.FailNext("getUpdates", 2, http.StatusConflict, 0)
			tr.pollSleep = clockSleep(clock)
			tr.Routes().Command("echo", echo(tr))
		})
		u := telegramtest.User{ID: 1203, FirstName: "Ж", LanguageCode: "ru"}
		h.srv.SendText(u, "/echo")
		h.waitText(u.ID, "echo")
		if logs := h.logs.String(); strings.Count(logs, `"level":"ERROR","msg":"getUpdates conflict: another instance is polling this bot token, or a webhook is set (remove it with deleteWebhook)"`) != 2 {
			t.Errorf("want two error lines naming the cause of the 409s:\n%s", logs)
		}
	})
	t.Run("a lasting one stops the bot", func(t *testing.T) {
		clock := &fakeClock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
		h := newRig(t)
		h.now = clock.Now
		start := clock.Now()
		rb := h.run(5*time.Second, func(tr *Transport) {
			h.srv.FailNext("getUpdates", 1000, http.StatusConflict, 0)
			tr.pollSleep = clockSleep(clock)
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
	h := newRig(t)
	u := telegramtest.User{ID: 1202, FirstName: "Д", LanguageCode: "ru"}
	started, release, finished := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var lateRan, queuedRan atomic.Bool
	rb := h.run(200*time.Millisecond, func(tr *Transport) {
		tr.Routes().Command("slow", func(ctx context.Context, r *Request) error {
			defer close(finished)
			close(started)
			<-release // past the deadline, as a send ignoring ctx would
			tr.Go(func(context.Context) { lateRan.Store(true) })
			return nil
		})
		tr.Routes().Command("after", func(ctx context.Context, r *Request) error {
			queuedRan.Store(true)
			return nil
		})
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

	h.run(5*time.Second, func(tr *Transport) {
		tr.Routes().Command("slow", func(ctx context.Context, r *Request) error { return nil })
		tr.Routes().Command("after", func(ctx context.Context, r *Request) error {
			_, err := tr.Reply(ctx, r, "after replayed", nil)
			return err
		})
	})
	h.waitText(u.ID, "after replayed")
	if lateRan.Load() {
		t.Error("background work asked for after the drain deadline was started")
	}
	if queuedRan.Load() {
		t.Error("the update queued behind the late handler ran in the stopped bot")
	}
}

// TestPoll_HandlesABatchWhileItIsStored: a person's answer does not wait
// for the commit that stores their update (two fsyncs, the largest part of
// a reply's time on a slow disk), but the update is confirmed to Telegram
// only once it is stored: while the commit hangs, Telegram still holds it,
// so a crash then would have it sent again.
func TestPoll_HandlesABatchWhileItIsStored(t *testing.T) {
	t.Parallel()
	h := newRig(t)
	store := storagetest.Wrap(t, h.db)
	h.store = func(*boltdb.DB) Store { return store }
	stored, release := store.Stall("Accept", 1)
	h.run(5*time.Second, func(tr *Transport) { tr.Routes().Command("echo", echo(tr)) })
	u := telegramtest.User{ID: 1204, FirstName: "З", LanguageCode: "ru"}
	h.srv.SendText(u, "/echo first")
	waitClosed(t, stored, "the batch to be stored")
	h.waitText(u.ID, "echo first")
	if n := h.srv.PendingUpdates(); n != 1 {
		t.Fatalf("%d updates unconfirmed while their batch is not stored, want 1: the next poll must wait for the commit", n)
	}
	release()
	eventually(t, func() bool { return h.srv.PendingUpdates() == 0 })
	h.srv.SendText(u, "/echo second")
	h.waitText(u.ID, "echo second")
}

// TestPoll_StoringFailsThenSucceeds: when storing a batch fails (a full
// disk), the batch is not fetched and handled again: it is stored once the
// disk takes it, after a backoff, and only then confirmed; each update is
// handled once.
func TestPoll_StoringFailsThenSucceeds(t *testing.T) {
	t.Parallel()
	h := newRig(t)
	store := storagetest.Wrap(t, h.db)
	h.store = func(*boltdb.DB) Store { return store }
	store.FailOn("Accept", 1, nil)
	store.FailOn("Accept", 2, nil)
	var handled atomic.Int32
	var waits []time.Duration
	var mu sync.Mutex
	h.run(5*time.Second, func(tr *Transport) {
		tr.pollSleep = func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			waits = append(waits, d)
			mu.Unlock()
			return ctx.Err()
		}
		tr.Routes().Command("count", func(ctx context.Context, r *Request) error {
			_, err := tr.Reply(ctx, r, fmt.Sprintf("handled %d", handled.Add(1)), nil)
			return err
		})
	})
	u := telegramtest.User{ID: 1205, FirstName: "И", LanguageCode: "ru"}
	h.srv.SendText(u, "/count")
	h.waitText(u.ID, "handled 1")
	eventually(t, func() bool { return h.srv.PendingUpdates() == 0 })
	h.srv.SendText(u, "/count")
	h.waitText(u.ID, "handled 2")
	if n := store.Calls("Accept"); n < 3 {
		t.Errorf("Accept called %d times, want the failing batch stored on the third try", n)
	}
	if got := h.srv.Transcript(u.ID); countFromBot(got, "handled") != 2 {
		t.Errorf("the bot answered %d times to two messages: a batch was handled again", countFromBot(got, "handled"))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(waits) < 2 || waits[1] <= waits[0]/2 {
		t.Errorf("backoffs between tries %v, want two, growing", waits)
	}
	if logs := h.logs.String(); strings.Count(logs, "store fetched updates, retrying") != 2 {
		t.Errorf("want each failed try logged:\n%s", logs)
	}
}

func countFromBot(msgs []telegramtest.Message, text string) int {
	n := 0
	for _, m := range msgs {
		if m.FromBot && strings.Contains(m.Text, text) {
			n++
		}
	}
	return n
}
