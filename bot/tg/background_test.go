package tg

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBackground_PanicSparesTheNextJobsAndStopWaits: background work runs
// on runners that are reused; a job that panics is logged with its
// component and the jobs after it still run; Stop waits for the running
// ones, refuses new ones, and ends the parked runners.
func TestBackground_PanicSparesTheNextJobsAndStopWaits(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	w := NewBackground(slog.New(slog.NewJSONHandler(&logs, nil)), nil)
	var mu sync.Mutex
	ran := 0
	for i := range 200 {
		done := make(chan struct{})
		started := w.Run(func(context.Context) {
			defer close(done)
			if i == 3 {
				panic("answer broke")
			}
			mu.Lock()
			ran++
			mu.Unlock()
		})
		if !started {
			t.Fatalf("job %d refused before shutdown", i)
		}
		<-done
	}
	if ran != 199 {
		t.Errorf("%d jobs ran after one panicked, want 199", ran)
	}
	// The job's done is closed as its panic unwinds, before the runner
	// recovers and logs it: the log may come after the later jobs.
	logged := func() bool {
		return strings.Contains(logs.String(), `"component":"background"`) && strings.Contains(logs.String(), "answer broke")
	}
	for deadline := time.Now().Add(10 * time.Second); !logged() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if !logged() {
		t.Errorf("the panic is not logged with its component:\n%s", logs.String())
	}

	release := make(chan struct{})
	finished := make(chan struct{})
	w.Run(func(context.Context) { <-release; close(finished) })
	stopped := make(chan bool)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stopped <- w.Stop(ctx)
	}()
	eventually(t, func() bool { w.mu.Lock(); defer w.mu.Unlock(); return w.shut })
	if w.Run(func(context.Context) { t.Error("a job ran after Stop began") }) {
		t.Error("a job was accepted after Stop began")
	}
	close(release)
	if !<-stopped {
		t.Error("Stop reported unfinished work")
	}
	select {
	case <-finished:
	default:
		t.Error("Stop returned before the running job finished")
	}
	w.mu.Lock()
	parked := len(w.idle)
	w.mu.Unlock()
	if parked != 0 {
		t.Errorf("%d runners still parked after Stop", parked)
	}
}
