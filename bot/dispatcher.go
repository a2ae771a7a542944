package bot

import (
	"context"
	"sync"
)

// dispatcher runs jobs concurrently across keys (chats) and in order within
// one key, on a bounded pool of workers. A chat whose handler is slow keeps
// only its own later updates waiting; other chats go to other workers.
type dispatcher struct {
	mu      sync.Mutex
	queues  map[int64][]func() // pending jobs of chats that are being worked on
	ready   []int64            // chats with work and no worker yet, in arrival order
	cond    *sync.Cond
	stopped bool
	slots   chan struct{} // bounds jobs accepted but not finished (backpressure)
	wg      sync.WaitGroup
}

func newDispatcher(workers, maxPending int) *dispatcher {
	d := &dispatcher{queues: make(map[int64][]func()), slots: make(chan struct{}, maxPending)}
	d.cond = sync.NewCond(&d.mu)
	for range workers {
		d.wg.Add(1)
		go d.work()
	}
	return d
}

// submit queues job for chat. It blocks while maxPending jobs are waiting, so
// a flood of updates slows polling instead of filling memory.
func (d *dispatcher) submit(ctx context.Context, chat int64, job func()) error {
	select {
	case d.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	d.enqueue(chat, job)
	return nil
}

// enqueue adds job, which holds a slot, to chat's queue.
func (d *dispatcher) enqueue(chat int64, job func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	q, busy := d.queues[chat]
	d.queues[chat] = append(q, job)
	if !busy {
		d.ready = append(d.ready, chat)
		d.cond.Signal()
	}
}

func (d *dispatcher) work() {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		for len(d.ready) == 0 && !d.stopped {
			d.cond.Wait()
		}
		if len(d.ready) == 0 && d.stopped {
			d.mu.Unlock()
			return
		}
		chat := d.ready[0]
		d.ready = d.ready[1:]
		d.mu.Unlock()
		// Run this chat's jobs until its queue is empty; the chat stays
		// "busy" meanwhile, so no other worker takes it and order holds.
		for {
			d.mu.Lock()
			q := d.queues[chat]
			if len(q) == 0 {
				delete(d.queues, chat)
				d.mu.Unlock()
				break
			}
			job := q[0]
			q[0] = nil
			d.queues[chat] = q[1:]
			d.mu.Unlock()
			job()
			<-d.slots
		}
	}
}

// trySubmit queues job for chat unless maxPending jobs are waiting; it
// never blocks, for callers that must not wait on a backlog.
func (d *dispatcher) trySubmit(chat int64, job func()) bool {
	select {
	case d.slots <- struct{}{}:
	default:
		return false
	}
	d.enqueue(chat, job)
	return true
}

// stop lets queued and running jobs finish, then ends the workers. If ctx
// ends first, it drops the jobs that have not started and returns false:
// jobs still running finish on their own (their contexts are the caller's
// to cancel), and no dropped job runs later with a cancelled context.
func (d *dispatcher) stop(ctx context.Context) bool {
	d.mu.Lock()
	d.stopped = true
	d.cond.Broadcast()
	d.mu.Unlock()
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		d.dropQueued()
		return false
	}
}

// dropQueued forgets every job not yet started. A worker in the middle of a
// chat finds its queue empty after the job it runs, and ends.
func (d *dispatcher) dropQueued() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for chat, q := range d.queues {
		for range q {
			<-d.slots
		}
		d.queues[chat] = nil
	}
	// A chat that waited for a worker has none: forget it, or a later job
	// of it would find it "busy" and never run. A chat a worker is on
	// keeps its (now empty) entry; the worker deletes it.
	for _, chat := range d.ready {
		delete(d.queues, chat)
	}
	d.ready = nil
}

// bgWork runs the bot's work outside handlers: callback answers, and staff
// notices in one FIFO queue per booking. Its guard keeps new work from
// being added while Run waits for the old: once shut, new work is refused,
// so the WaitGroup is never added to during its Wait (a "WaitGroup misuse"
// panic that skipped closing the database).
type bgWork struct {
	mu   sync.Mutex
	shut bool
	wg   sync.WaitGroup
	// staff holds the staff notices, keyed by booking, so the notices of
	// one booking arrive in the order of its changes.
	staff *dispatcher
	// ctx is the parent of all background contexts; cancelled at the drain
	// deadline, it stops what is still waiting for the rate limiter.
	ctx    context.Context
	cancel context.CancelFunc
}

// staffQueueWorkers is how many staff notices are sent at once (the
// sender still keeps each group under Telegram's limit), and staffQueueMax
// how many may wait: beyond it a notice is not sent and the morning digest
// lists its booking instead.
const (
	staffQueueWorkers = 8
	staffQueueMax     = 1024
)

func newBgWork() *bgWork {
	w := &bgWork{staff: newDispatcher(staffQueueWorkers, staffQueueMax)}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	return w
}

// run starts f in its own goroutine unless shutdown began; it reports
// whether f was started.
func (w *bgWork) run(f func(ctx context.Context)) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.shut {
		return false
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		f(w.ctx)
	}()
	return true
}

// queue adds f to the FIFO queue of key unless shutdown began or the queue
// is full; it reports whether f was queued.
func (w *bgWork) queue(key int64, f func(ctx context.Context)) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.shut {
		return false
	}
	return w.staff.trySubmit(key, func() { f(w.ctx) })
}

// stop refuses new work and waits until what was started or queued is
// done, or ctx ends. Then it cancels what still runs and drops what has not
// started; it does not wait for a call already on the wire, which the
// Telegram library cannot cut short. It reports whether all work finished.
func (w *bgWork) stop(ctx context.Context) bool {
	w.mu.Lock()
	w.shut = true
	w.mu.Unlock()
	ran := make(chan struct{})
	go func() { w.wg.Wait(); close(ran) }()
	queued := w.staff.stop(ctx)
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
