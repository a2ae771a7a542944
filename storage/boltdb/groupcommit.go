package boltdb

import (
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// groupCommit puts concurrent writes into shared transactions, as bbolt's
// Batch does, but without waiting when there is no company to wait for.
// Batch waits MaxBatchDelay (2 ms here) before every commit, even a lone
// write's, and under load several timed batches queued on the writer lock
// and committed one after another, each with its two fsyncs. Here a write
// that finds nobody committing commits at once, and writes that arrive
// while a commit is in flight go together in the next one. Only when the
// last group had company (the bot is busy) and few writes wait yet does the
// leader linger for groupLinger first, so that the burst of writes a
// batch of updates brings shares one commit: without it the bot made 40%
// more commits per update under load, and each costs CPU (the load tool's
// bot CPU per update fell 7–28% with it, commits per update 0.15 → 0.10).
// The commit is made by one of the callers (the leader), so no goroutine is
// started per group: a leader that has committed hands the lead to the
// first write still waiting.
//
// The contract is Batch's: fn may run more than once, and must have no
// effect outside the transaction until it has returned without error. A fn
// that fails or panics is taken out of the shared transaction and run
// again on its own, in its caller's goroutine, so its error (or panic)
// reaches its caller alone and the others commit without it.
type groupCommit struct {
	mu      sync.Mutex
	waiting []*groupCall
	leading bool // a caller is committing or about to
	busy    bool // the last group committed had more than one write
}

type groupCall struct {
	fn func(*bolt.Tx) error
	// done gets the call's result, or errLead: the caller is to commit
	// the next group.
	done chan error
}

// maxGroup bounds the writes in one transaction (bbolt's MaxBatchSize):
// a larger group holds the writer lock longer and makes every one of its
// callers wait for all of it.
const maxGroup = 1000

// groupLinger is how long a busy leader waits for company (a sleep here
// lasts about a millisecond however short it is asked to be), and
// lingerUntil how many waiting writes make it commit without waiting.
const (
	groupLinger = time.Millisecond
	lingerUntil = 8
)

var (
	// errLead hands the lead to a waiting caller.
	errLead = errors.New("boltdb: lead the next group commit")
	// errSolo tells a caller its fn failed in the group and is to run alone.
	errSolo = errors.New("boltdb: run this write on its own")
)

// updater runs a function in a write transaction, as bolt.DB.Update does.
type updater func(func(*bolt.Tx) error) error

// do runs fn in a transaction of update shared with the writes that wait with
// it, and returns once that transaction committed or failed.
func (g *groupCommit) do(update updater, fn func(*bolt.Tx) error) error {
	c := &groupCall{fn: fn, done: make(chan error, 1)}
	g.mu.Lock()
	g.waiting = append(g.waiting, c)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if !lead {
		if err := <-c.done; err != errLead {
			return finish(update, fn, err)
		}
	}
	g.commitNext(update)
	return finish(update, fn, <-c.done)
}

// commitNext commits the waiting writes (the leader's own among them) and
// passes the lead on, or gives it up when nobody waits. The lead is passed
// on however the commit ends, a panic included: otherwise every later
// write would wait for a leader that never comes.
func (g *groupCommit) commitNext(update updater) {
	g.mu.Lock()
	if g.busy && len(g.waiting) < lingerUntil {
		g.mu.Unlock()
		time.Sleep(groupLinger)
		g.mu.Lock()
	}
	n := min(len(g.waiting), maxGroup)
	g.busy = n > 1
	group := g.waiting[:n:n]
	g.waiting = g.waiting[n:]
	g.mu.Unlock()
	defer g.passLead()
	commitGroup(update, group)
}

func (g *groupCommit) passLead() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.waiting) == 0 {
		g.leading = false
		g.waiting = nil // let the backing array go
		return
	}
	g.waiting[0].done <- errLead
}

// commitGroup runs the group's functions in one transaction. One that
// fails or panics is told to run alone and the rest start over without
// it; a failed commit is every caller's error. A panic in the commit
// itself (bbolt's, or an OnCommit hook's) is every caller's error too, and
// goes on up the leader's own call.
func commitGroup(update updater, group []*groupCall) {
	defer func() {
		if p := recover(); p != nil {
			err := fmt.Errorf("commit panicked: %v", p)
			for _, c := range group {
				c.done <- err
			}
			panic(p)
		}
	}()
	for len(group) > 0 {
		failed := -1
		err := update(func(tx *bolt.Tx) error {
			for i, c := range group {
				if err := callRecovering(c.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed >= 0 {
			group[failed].done <- errSolo
			group = append(group[:failed:failed], group[failed+1:]...)
			continue
		}
		for _, c := range group {
			c.done <- err
		}
		return
	}
}

// finish is a caller's result: a write that failed in the group runs again
// alone, where its error or panic is its own.
func finish(update updater, fn func(*bolt.Tx) error, err error) error {
	if err == errSolo {
		return update(fn)
	}
	return err
}

// callRecovering runs fn, turning a panic into an error so one bad write
// does not take the leader, and with it everyone's commit, down. The write
// then runs alone, and panics there in its own caller.
func callRecovering(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write panicked: %v", p)
		}
	}()
	return fn(tx)
}
