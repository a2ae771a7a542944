package bot

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"jastar/bot/telegramtest"
	"jastar/bot/tg"
)

// TestHealthy_TurnsUnhealthyWhenTheLoopStalls jams the update loop (one
// worker, a handler that never returns, a full queue), moves the clock on,
// and expects the health check to say so; once the jam clears, the loop
// polls again and the check recovers.
func TestHealthy_TurnsUnhealthyWhenTheLoopStalls(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	release := make(chan struct{})
	h := newHarness(t, withClock(clock), withConfig(func(c *Config) { c.Workers = 1 }),
		withRoute("jam", func(ctx context.Context, r *tg.Request) error { <-release; return nil }))
	ctx := context.Background()
	waitHealth := func(healthy bool) {
		t.Helper()
		if !eventuallyOK(15*time.Second, func() bool { return (h.bot.Healthy(ctx) == nil) == healthy }) {
			t.Fatalf("healthy = %v, want %v (%v)", h.bot.Healthy(ctx) == nil, healthy, h.bot.Healthy(ctx))
		}
	}
	waitHealth(true)
	if err := h.bot.Ready(ctx); err != nil {
		t.Errorf("ready = %v after connecting and polling", err)
	}

	u := telegramtest.User{ID: 77, FirstName: "J", LanguageCode: "ru"}
	// One worker stuck on /jam; 1×32 queued updates fill the dispatcher, so
	// the loop blocks handing over the next one and polls no more.
	h.srv.SendText(u, "/jam")
	for i := range 40 {
		h.srv.SendText(u, fmt.Sprintf("/help %d", i))
	}
	// A live loop polls at least once a second (PollTimeout); a jammed one
	// stops. Wait until no poll happened for 2.5 s.
	deadline := time.Now().Add(20 * time.Second)
	for polls := -1; ; {
		n := len(h.srv.Calls("getUpdates"))
		if n == polls {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the loop never jammed")
		}
		polls = n
		time.Sleep(2500 * time.Millisecond)
	}
	advance(2 * time.Minute)
	waitHealth(false)

	close(release) // unjam: the loop hands over, polls, and is alive again
	advance(time.Second)
	waitHealth(true)
}
