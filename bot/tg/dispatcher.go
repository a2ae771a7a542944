package tg

import (
	"context"
	"log/slog"
	"sync"

	"jastar/bot/ops"
)

// dispatcher runs jobs concurrently across keys (chats) and in order within
// one key, on a bounded pool of workers. A chat whose handler is slow keeps
// only its own later updates waiting; other chats go to other workers.
type Dispatcher struct {
	mu     sync.Mutex
	queues map[int64][]func() // pending jobs of chats that are being worked on
	ready  []int64            // chats with work and no worker yet, in arrival order
	// idle are the wake-up channels of the workers waiting for work, the
	// last to have gone idle last: new work wakes that one. A worker that
	// just finished has its stack grown and in the CPU's caches; waking
	// the longest idle instead (as sync.Cond does) cycled the work through
	// all the workers, and the garbage collector shrank the stacks of the
	// idle ones each time, so handlers spent 5% of the bot's CPU growing
	// them again.
	idle    []chan struct{}
	stopped bool
	slots   chan struct{} // bounds jobs accepted but not finished (backpressure)
	wg      sync.WaitGroup

	// A job that panics is logged and counted under component, and its
	// worker goes on with the next.
	log       *slog.Logger
	metrics   *ops.Metrics
	component string
}

func NewDispatcher(workers, maxPending int, component string, log *slog.Logger, metrics *ops.Metrics) *Dispatcher {
	d := &Dispatcher{
		queues: make(map[int64][]func()), slots: make(chan struct{}, maxPending),
		log: log, metrics: metrics, component: component,
	}
	for range workers {
		d.wg.Add(1)
		go d.work()
	}
	return d
}

// submit queues job for chat. It blocks while maxPending jobs are waiting, so
// a flood of updates slows polling instead of filling memory.
func (d *Dispatcher) Submit(ctx context.Context, chat int64, job func()) error {
	select {
	case d.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	d.enqueue(chat, job)
	return nil
}

// enqueue adds job, which holds a slot, to chat's queue.
func (d *Dispatcher) enqueue(chat int64, job func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	q, busy := d.queues[chat]
	d.queues[chat] = append(q, job)
	if !busy {
		d.ready = append(d.ready, chat)
		if n := len(d.idle); n > 0 {
			wake := d.idle[n-1]
			d.idle = d.idle[:n-1]
			wake <- struct{}{}
		}
	}
}

func (d *Dispatcher) work() {
	defer d.wg.Done()
	defer ops.Recovered(d.log, d.metrics, d.component, nil)
	wake := make(chan struct{}, 1)
	for {
		d.mu.Lock()
		for len(d.ready) == 0 && !d.stopped {
			d.idle = append(d.idle, wake)
			d.mu.Unlock()
			<-wake
			d.mu.Lock()
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
			d.run(job)
		}
	}
}

// run runs one job and frees its slot. A panic in the job is recovered
// here, so the worker, the chat's later jobs and the slot are not lost with
// it; what the job held is the job's to leave retryable (an update not
// marked handled is replayed at the next start; a staff notice not
// delivered leaves its booking to the digest).
func (d *Dispatcher) run(job func()) {
	defer func() { <-d.slots }()
	defer ops.Recovered(d.log, d.metrics, d.component, nil)
	job()
}

// trySubmit queues job for chat unless maxPending jobs are waiting; it
// never blocks, for callers that must not wait on a backlog.
func (d *Dispatcher) TrySubmit(chat int64, job func()) bool {
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
func (d *Dispatcher) Stop(ctx context.Context) bool {
	d.mu.Lock()
	d.stopped = true
	for _, wake := range d.idle {
		wake <- struct{}{}
	}
	d.idle = nil
	d.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer ops.Recovered(d.log, d.metrics, d.component, nil)
		d.wg.Wait()
	}()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		d.DropQueued()
		return false
	}
}

// dropQueued forgets every job not yet started. A worker in the middle of a
// chat finds its queue empty after the job it runs, and ends.
func (d *Dispatcher) DropQueued() {
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
