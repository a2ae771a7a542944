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
	d.mu.Lock()
	defer d.mu.Unlock()
	q, busy := d.queues[chat]
	d.queues[chat] = append(q, job)
	if !busy {
		d.ready = append(d.ready, chat)
		d.cond.Signal()
	}
	return nil
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

// stop lets queued and running jobs finish, then ends the workers. It
// returns false if ctx ended first.
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
		return false
	}
}
