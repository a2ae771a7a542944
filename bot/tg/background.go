package tg

import (
	"context"
	"log/slog"
	"sync"

	"jastar/bot/ops"
)

// Background runs the bot's work outside handlers: callback answers, and staff
// notices in one FIFO queue per booking. Its guard keeps new work from
// being added while Run waits for the old: once shut, new work is refused,
// so the WaitGroup is never added to during its Wait (a "WaitGroup misuse"
// panic that skipped closing the database).
type Background struct {
	mu   sync.Mutex
	shut bool
	wg   sync.WaitGroup
	// idle are the job channels of parked runners, the last parked last:
	// a callback answer (one for most updates) reuses a goroutine whose
	// stack has already grown rather than start one whose stack grows on
	// the way to the wire.
	idle []chan func(context.Context)
	// staff holds the staff notices, keyed by booking, so the notices of
	// one booking arrive in the order of its changes.
	staff *Dispatcher
	// ctx is the parent of all background contexts; cancelled at the drain
	// deadline, it stops what is still waiting for the rate limiter.
	ctx    context.Context
	cancel context.CancelFunc
	// log and metrics record a panic in background work: it is recovered,
	// so one bad callback answer or notice does not kill the bot.
	log     *slog.Logger
	metrics *ops.Metrics
}

// staffQueueWorkers is how many staff notices are sent at once (the
// sender still keeps each group under Telegram's limit), and staffQueueMax
// how many may wait: beyond it a notice is not sent and the morning digest
// lists its booking instead.
const (
	staffQueueWorkers = 8
	staffQueueMax     = 1024
)

func NewBackground(log *slog.Logger, metrics *ops.Metrics) *Background {
	w := &Background{staff: NewDispatcher(staffQueueWorkers, staffQueueMax, "staff_notice", log, metrics), log: log, metrics: metrics}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	return w
}

// maxIdleRunners bounds the goroutines kept parked for Run's next job.
const maxIdleRunners = 64

// Run starts f at once, on a parked runner or a new goroutine, unless
// shutdown began; it reports whether f was started. A panic in f is
// recovered, logged and counted (component "background"); f is a callback
// answer or the like, which nothing retries: the person's spinner stops on
// its own.
func (w *Background) Run(f func(ctx context.Context)) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.shut {
		return false
	}
	w.wg.Add(1)
	if n := len(w.idle); n > 0 {
		jobs := w.idle[n-1]
		w.idle = w.idle[:n-1]
		jobs <- f
		return true
	}
	go w.runner(f)
	return true
}

// runner runs f, then parks for the next job, unless enough runners are
// parked already or shutdown began; a nil job (Stop's) ends it.
func (w *Background) runner(f func(ctx context.Context)) {
	jobs := make(chan func(context.Context), 1)
	for f != nil {
		w.runOne(f)
		w.mu.Lock()
		if w.shut || len(w.idle) >= maxIdleRunners {
			w.mu.Unlock()
			return
		}
		w.idle = append(w.idle, jobs)
		w.mu.Unlock()
		f = <-jobs
	}
}

func (w *Background) runOne(f func(ctx context.Context)) {
	defer w.wg.Done()
	defer ops.Recovered(w.log, w.metrics, "background", nil)
	f(w.ctx)
}

// queue adds f to the FIFO queue of key unless shutdown began or the queue
// is full; it reports whether f was queued.
func (w *Background) Queue(key int64, f func(ctx context.Context)) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.shut {
		return false
	}
	return w.staff.TrySubmit(key, func() { f(w.ctx) })
}

// stop refuses new work and waits until what was started or queued is
// done, or ctx ends. Then it cancels what still runs and drops what has not
// started; it does not wait for a call already on the wire, which the
// Telegram library cannot cut short. It reports whether all work finished.
func (w *Background) Stop(ctx context.Context) bool {
	w.mu.Lock()
	w.shut = true
	for _, jobs := range w.idle {
		jobs <- nil
	}
	w.idle = nil
	w.mu.Unlock()
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		defer ops.Recovered(w.log, w.metrics, "background", nil)
		w.wg.Wait()
	}()
	queued := w.staff.Stop(ctx)
	select {
	case <-ran:
	case <-ctx.Done():
	}
	w.cancel()
	select {
	case <-ran:
		return queued
	default:
		return false
	}
}
