package bot

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"jastar/bot/ops"
	"jastar/bot/telegramtest"
)

// TestHealthz_503WhileGetUpdatesHangs serves /healthz as main wires it and
// makes the fake Bot API stop answering getUpdates: once the loop has gone
// without a poll for too long, /healthz answers 503 (so the orchestrator
// restarts the bot); when getUpdates answers again, 200.
func TestHealthz_503WhileGetUpdatesHangs(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{}
	clock.Set(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	h := newHarness(t, withClock(clock.Now))
	srv := httptest.NewServer(ops.Handler(h.bot.metrics, []ops.Check{h.bot.Healthy, h.db.Ping}, []ops.Check{h.bot.Ready, h.db.Ping}))
	t.Cleanup(srv.Close)
	healthz := func() (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	waitHealthz := func(want int) string {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			code, body := healthz()
			if code == want {
				return body
			}
			if time.Now().After(deadline) {
				t.Fatalf("/healthz = %d %q, want %d", code, body, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitHealthz(http.StatusOK)

	held := make(chan struct{}, 1)
	release := make(chan struct{})
	h.srv.SetAfterCall(func(ctx context.Context, c telegramtest.Call) bool {
		if c.Method != "getUpdates" {
			return false
		}
		select {
		case held <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return false
	})
	<-held // a poll is hanging: the loop waits on it
	clock.Set(clock.Now().Add(2 * time.Minute))
	if code, body := healthz(); code != http.StatusServiceUnavailable || !strings.Contains(body, "stalled") {
		t.Errorf("/healthz while getUpdates hangs = %d %q, want 503 saying the loop stalled", code, body)
	}

	h.srv.SetAfterCall(nil)
	close(release)
	waitHealthz(http.StatusOK)
}
