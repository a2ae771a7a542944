package boltdb

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
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
//
// It also counts the calls that start and finish, so an owed compaction can
// wait until nobody is using the database: two atomic adds per call, no
// clock read.
type handle struct {
	mu     sync.RWMutex
	db     *bolt.DB
	opts   *bolt.Options
	closed bool // under mu: Close ran, so a late Compact must not reopen

	started, finished atomic.Uint64
	group             groupCommit

	// writeEnded is told of every write transaction once it has ended,
	// committed or rolled back (the record caches settle there); nil is
	// nobody. Set before the handle is used.
	writeEnded func(*bolt.Tx)
}

func (h *handle) View(fn func(*bolt.Tx) error) error {
	h.begin()
	defer h.end()
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.db.View(fn)
}

func (h *handle) Update(fn func(*bolt.Tx) error) error {
	h.begin()
	defer h.end()
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.update(fn)
}

// update is h.db.Update, then writeEnded, however the transaction ended
// (a panic included).
func (h *handle) update(fn func(*bolt.Tx) error) error {
	var tx *bolt.Tx
	defer func() {
		if tx != nil && h.writeEnded != nil {
			h.writeEnded(tx)
		}
	}()
	return h.db.Update(func(t *bolt.Tx) error {
		tx = t
		return fn(t)
	})
}

// Batch is bbolt's Batch without its wait (see groupCommit): fn may run
// more than once and must only write.
func (h *handle) Batch(fn func(*bolt.Tx) error) error {
	h.begin()
	defer h.end()
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.group.do(h.update, fn)
}

func (h *handle) begin() { h.started.Add(1) }
func (h *handle) end()   { h.finished.Add(1) }

// idleSince reports whether no call is running and none has finished since
// mark, a value an earlier activity returned; that is, whether the
// database saw no call at all since mark was taken.
func (h *handle) idleSince(mark uint64) bool {
	// finished first: a call that starts after this read makes started
	// larger, so it is never missed.
	f := h.finished.Load()
	return f == mark && h.started.Load() == f
}

// activity is the mark idleSince compares against.
func (h *handle) activity() uint64 { return h.finished.Load() }

func (h *handle) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
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
// the database waits while it runs: about a second per 100 MB of data, which
// is why /forget does not call it directly but through compactSoon.
//
// The copy has the meta compact_owed flag cleared: the file it replaces is
// the one Forget owed a compaction.
func (db *DB) Compact() error {
	if db.bolt.opts.ReadOnly {
		return fmt.Errorf("compact %s: opened read-only", db.path)
	}
	db.bolt.mu.Lock()
	defer db.bolt.mu.Unlock()
	return db.compactLocked()
}

// compactTryFor is how long an owed compaction tries for the write lock
// before it gives up until the next check. Waiting on the lock itself would
// stop every new call behind a long read in flight (a hot backup streams
// for minutes, longer to a slow client), so it only tries, once a
// millisecond: ordinary transactions last well under one, and a moment
// with none running comes up almost at once.
const compactTryFor = 200 * time.Millisecond

// tryCompact is Compact for the throttle: it compacts only if it gets the
// write lock without waiting, within compactTryFor, and reports whether it
// did.
func (db *DB) tryCompact() (ran bool, err error) {
	h := db.bolt
	for deadline := time.Now().Add(compactTryFor); !h.mu.TryLock(); {
		if time.Now().After(deadline) {
			return false, nil
		}
		time.Sleep(time.Millisecond)
	}
	defer h.mu.Unlock()
	return true, db.compactLocked()
}

// compactLocked is Compact with the write lock held.
func (db *DB) compactLocked() (err error) {
	h := db.bolt
	if h.closed {
		// A compaction that was waiting for a quiet moment lost the race
		// with Close, which ran the owed one itself.
		return nil
	}
	tmp := db.path + ".compact"
	_ = os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType, NoSync: true})
	if err != nil {
		return fmt.Errorf("compact %s: %w", db.path, err)
	}
	err = bolt.Compact(dst, h.db, compactChunk)
	if err == nil {
		err = dst.Update(clearCompactOwed)
	}
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
	h.db = reopened
	if renameErr != nil {
		return fmt.Errorf("compact %s: %w", db.path, renameErr)
	}
	return nil
}

// markCompactOwed records, in the transaction that erased someone, that the
// file owes a compaction: the erased bytes sit in freed pages until one
// runs, and a crash before it must not forget that (Open runs it).
func markCompactOwed(tx *bolt.Tx) error {
	return tx.Bucket(bucketMeta).Put(keyCompactOwed, []byte{1})
}

func clearCompactOwed(tx *bolt.Tx) error {
	return tx.Bucket(bucketMeta).Delete(keyCompactOwed)
}

func compactOwed(tx *bolt.Tx) bool {
	return tx.Bucket(bucketMeta).Get(keyCompactOwed) != nil
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

// compactQuiet is how long the database must have seen no call at all
// before an owed compaction runs: the pause people would feel then falls
// where nobody is waiting. It is also how often a waiting compaction looks.
const compactQuiet = 2 * time.Second

// compactMaxDelay bounds the wait for a quiet moment after a /forget: the
// erased data stays in freed pages until the compaction, so a bot that is
// never quiet still rewrites the file this soon, busy or not.
const compactMaxDelay = 10 * time.Minute

// compactBackoffMax caps the wait after failed compactions. Each failed
// try copies the whole file under the write lock, so a compaction that
// keeps failing (a full disk) waits 1, 2, 4 ... minutes between tries, up
// to this, rather than slowing the bot every minute.
const compactBackoffMax = time.Hour

// compactThrottle defers the compaction /forget asks for to a quiet moment
// (no database call for compactQuiet), at most one per compactEvery and no
// later than compactMaxDelay after the first request it covers; requests in
// between coalesce into one. Failed tries back off up to compactBackoffMax.
// An owed compaction runs at Close, and, if the process died owing one, at
// the next Open (the meta compact_owed flag).
//
// now and after are the clock and timer; nil means the real ones. Tests set
// them to step time by hand.
type compactThrottle struct {
	now   func() time.Time
	after func(d time.Duration, f func()) (stop func() bool)
	log   *slog.Logger

	mu        sync.Mutex
	next      time.Time   // no compaction starts before this
	failures  int         // failed tries in a row
	owedSince time.Time   // first request not covered yet; zero when none is owed
	stopTimer func() bool // the pending check, nil when none is scheduled
	closed    bool
}

func (t *compactThrottle) clock() time.Time {
	if t.now != nil {
		return t.now()
	}
	return time.Now()
}

// schedule arranges one call of f after d. Called with t.mu held.
func (t *compactThrottle) schedule(d time.Duration, f func()) {
	if t.after != nil {
		t.stopTimer = t.after(d, f)
		return
	}
	tm := time.AfterFunc(d, f)
	t.stopTimer = tm.Stop
}

// compactSoon records that the file owes a compaction and makes sure a
// check for a quiet moment is scheduled; it never compacts itself, so the
// /forget that asks returns at once.
func (db *DB) compactSoon() {
	t := &db.compact
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return // Close has compacted or is compacting
	}
	if t.owedSince.IsZero() {
		t.owedSince = t.clock()
	}
	if t.stopTimer == nil {
		db.scheduleCheck()
	}
}

// scheduleCheck schedules compactCheck one quiet period from now, with the
// database's activity as it is now. Called with t.mu held.
func (db *DB) scheduleCheck() { db.scheduleCheckIn(compactQuiet) }

// scheduleCheckIn schedules compactCheck d from now. A check that panics
// is logged, reported, and counts as a failed try: the next one comes
// after the backoff, so the owed compaction is neither lost nor retried in
// a loop. Called with t.mu held.
func (db *DB) scheduleCheckIn(d time.Duration) {
	mark := db.bolt.activity()
	db.compact.schedule(d, func() {
		var panicked bool
		defer func() {
			if panicked {
				db.checkAgainAfterPanic()
			}
		}()
		defer db.recovered("compaction", &panicked)
		db.compactCheck(mark)
	})
}

// checkAgainAfterPanic schedules the next check of a compaction still owed
// after a check panicked, one backoff step later.
func (db *DB) checkAgainAfterPanic() {
	t := &db.compact
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.owedSince.IsZero() || t.stopTimer != nil {
		return
	}
	t.failures++
	db.scheduleCheckIn(compactBackoff(t.failures))
}

// compactCheck runs the owed compaction if the database saw no call since
// mark (one quiet period ago) or the wait has reached compactMaxDelay, and
// the throttle allows one now; otherwise, or if a read in flight holds the
// lock, it looks again one quiet period later.
func (db *DB) compactCheck(mark uint64) {
	owed, now, ok := db.compactDue(mark)
	if !ok {
		return
	}
	ran, err := db.tryCompactRecovered()
	t := &db.compact
	t.mu.Lock()
	defer t.mu.Unlock()
	if ran && err == nil {
		t.failures = 0
		return
	}
	// Still owed: the erased bytes stay in freed pages until a try works.
	if t.owedSince.IsZero() || owed.Before(t.owedSince) {
		t.owedSince = owed
	}
	if !ran {
		t.next = time.Time{} // nothing was copied: no reason to wait a minute
	} else {
		t.failed(now, err)
	}
	if !t.closed && t.stopTimer == nil {
		db.scheduleCheck()
	}
}

// compactDue decides under t.mu whether the owed compaction runs now; if
// it does, it clears the debt (returned as owed) and sets the next
// earliest run. The lock is released by defer, so a panic here leaves the
// throttle usable.
func (db *DB) compactDue(mark uint64) (owed, now time.Time, ok bool) {
	t := &db.compact
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopTimer = nil
	if t.closed || t.owedSince.IsZero() {
		return owed, now, false
	}
	now = t.clock()
	quiet := db.bolt.idleSince(mark)
	overdue := now.Sub(t.owedSince) >= compactMaxDelay
	if now.Before(t.next) || !(quiet || overdue) {
		db.scheduleCheck()
		return owed, now, false
	}
	// Cleared before compacting: a /forget that commits while the copy
	// waits for the lock asks again, and gets a compaction of its own.
	// next is set now too, so a check scheduled by such a /forget does not
	// start a second compaction right behind this one.
	owed = t.owedSince
	t.owedSince, t.next = time.Time{}, now.Add(compactEvery)
	return owed, now, true
}

// tryCompactRecovered is tryCompact that turns a panic into a failed try:
// the compaction stays owed and is tried again after the backoff, instead
// of the timer's goroutine dying with the erased data left in the file.
func (db *DB) tryCompactRecovered() (ran bool, err error) {
	var panicked bool
	defer func() {
		if panicked {
			ran, err = true, errors.New("compaction panicked")
		}
	}()
	defer db.recovered("compaction", &panicked)
	return db.tryCompact()
}

// compactAtOpen runs the compaction a crashed run owed (see Open); a
// failure counts as the throttle's first failed try.
func (db *DB) compactAtOpen() {
	err := db.Compact()
	if err == nil {
		return
	}
	t := &db.compact
	t.mu.Lock()
	t.failed(t.clock(), err)
	t.mu.Unlock()
	db.compactSoon()
}

// failed counts a failed try that started at now, sets the next one after
// the backoff and logs it, once per try. Called with t.mu held.
func (t *compactThrottle) failed(now time.Time, err error) {
	t.failures++
	t.next = now.Add(compactBackoff(t.failures))
	t.log.Error("compaction failed; the erased data stays in the file's free pages until it works",
		"err", err, "failures", t.failures, "next_attempt", t.next)
}

// compactBackoff is the wait after the n-th failed try in a row.
func compactBackoff(n int) time.Duration {
	d := compactEvery
	for i := 1; i < n && d < compactBackoffMax; i++ {
		d *= 2
	}
	return min(d, compactBackoffMax)
}

// stop cancels the pending check, refuses later requests and reports
// whether a compaction was owed.
func (t *compactThrottle) stop() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopTimer != nil {
		t.stopTimer()
		t.stopTimer = nil
	}
	t.closed = true
	owed := !t.owedSince.IsZero()
	t.owedSince = time.Time{}
	return owed
}
