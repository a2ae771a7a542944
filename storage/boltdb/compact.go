package boltdb

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// handle is the open bbolt file behind a lock. Every transaction holds the
// read side; Compact holds the write side while it swaps the file, so no
// transaction ever sees a closed database. It offers the three calls the
// store uses, so the methods read as plain bbolt.
//
// A transaction must not start another one of its own (STYLE.md forbids a
// read inside a write already): with Compact waiting, the inner call would
// wait for it and it for the outer one.
type handle struct {
	mu   sync.RWMutex
	db   *bolt.DB
	opts *bolt.Options
}

func (h *handle) View(fn func(*bolt.Tx) error) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.db.View(fn)
}

func (h *handle) Update(fn func(*bolt.Tx) error) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.db.Update(fn)
}

// Batch is bbolt's Batch: fn may run more than once and must only write.
func (h *handle) Batch(fn func(*bolt.Tx) error) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.db.Batch(fn)
}

func (h *handle) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.db.Close()
}

// compactChunk bounds the memory of one copy transaction.
const compactChunk = 32 << 20

// Compact rewrites the database file with only its live data.
//
// bbolt never overwrites a freed page: an old version of a record (a user's
// name before it was erased, a handled update's raw JSON) stays readable in
// the file until the page happens to be reused. Copying every bucket into a
// fresh file and renaming it over the old one leaves none of that behind;
// bucket sequences are copied too, so ids keep growing. Every other call on
// the database waits while it runs: about a second per 100 MB of data.
func (db *DB) Compact() (err error) {
	h := db.bolt
	if h.opts.ReadOnly {
		return fmt.Errorf("compact %s: opened read-only", db.path)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	tmp := db.path + ".compact"
	_ = os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType, NoSync: true})
	if err != nil {
		return fmt.Errorf("compact %s: %w", db.path, err)
	}
	err = bolt.Compact(dst, h.db, compactChunk)
	if err == nil {
		// NoSync made the copy fast; one sync makes it durable before the
		// rename makes it the database.
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("compact %s: %w", db.path, err)
	}
	if err := h.db.Close(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("compact %s: close: %w", db.path, err)
	}
	// From here the old handle is closed: whatever happens, reopen a file.
	renameErr := os.Rename(tmp, db.path)
	if renameErr == nil {
		syncDir(filepath.Dir(db.path))
	} else {
		_ = os.Remove(tmp)
	}
	reopened, err := bolt.Open(db.path, 0o600, h.opts)
	if err != nil {
		return fmt.Errorf("compact %s: reopen: %w", db.path, err)
	}
	reopened.MaxBatchDelay, reopened.MaxBatchSize = h.db.MaxBatchDelay, h.db.MaxBatchSize
	h.db = reopened
	if renameErr != nil {
		return fmt.Errorf("compact %s: %w", db.path, renameErr)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// compactEvery bounds how often /forget rewrites the file. Every other call
// waits while Compact runs (about a second per 100 MB), so without a bound
// anyone could slow the bot for everyone by asking it to forget them again
// and again.
const compactEvery = time.Minute

// compactThrottle runs at most one compaction per compactEvery; a request in
// between is coalesced into one at the end of the interval (or at Close).
type compactThrottle struct {
	mu      sync.Mutex
	last    time.Time
	timer   *time.Timer
	pending bool
}

// compactSoon compacts now if the last compaction is old enough, and
// otherwise schedules one for when it is.
func (db *DB) compactSoon() error {
	t := &db.compact
	t.mu.Lock()
	wait := compactEvery - time.Since(t.last)
	if wait <= 0 && !t.pending {
		t.last = time.Now()
		t.mu.Unlock()
		return db.Compact()
	}
	if !t.pending {
		t.pending = true
		t.timer = time.AfterFunc(max(wait, 0), func() {
			t.mu.Lock()
			if !t.pending {
				t.mu.Unlock()
				return
			}
			t.pending = false
			t.last = time.Now()
			t.mu.Unlock()
			// A failure here leaves freed pages until the next compaction;
			// Close retries a pending one, so keep it pending on error.
			if err := db.Compact(); err != nil {
				t.mu.Lock()
				t.pending = true
				t.mu.Unlock()
			}
		})
	}
	t.mu.Unlock()
	return nil
}

// stop cancels the timer and reports whether a compaction was pending.
func (t *compactThrottle) stop() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.timer != nil {
		t.timer.Stop()
	}
	p := t.pending
	t.pending = false
	return p
}
