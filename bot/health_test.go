package bot

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestHealthy_TurnsUnhealthyWhenTheLoopStalls makes Telegram hang so no poll
// starts or ends, moves the clock on, and expects the health check to say so.
func TestHealthy_TurnsUnhealthyWhenTheLoopStalls(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := newHarness(t, withClock(clock))
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for h.bot.Healthy(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("never healthy: %v", h.bot.Healthy(ctx))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := h.bot.Ready(ctx); err != nil {
		t.Errorf("ready = %v after connecting and polling", err)
	}
	h.srv.SetLatency(time.Hour)         // every call, getUpdates included, now hangs
	time.Sleep(1500 * time.Millisecond) // let the in-flight 1 s poll end and the next one hang
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	// A live loop would have touched the clock again within its 1 s poll.
	time.Sleep(1500 * time.Millisecond)
	if err := h.bot.Healthy(ctx); err == nil {
		t.Fatal("healthy although no poll started or ended for two minutes")
	}
	h.srv.SetLatency(0)
}
