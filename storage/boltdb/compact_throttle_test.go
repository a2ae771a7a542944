package boltdb

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"jastar/storage"
)

// stepClock is the compaction throttle's clock and timer, stepped by hand:
// step moves time to the pending check and runs it on the test goroutine.
type stepClock struct {
	now     time.Time
	wait    time.Duration
	pending func()
}

func installStepClock(db *DB) *stepClock {
	c := &stepClock{now: testNow}
	db.compact.now = func() time.Time { return c.now }
	db.compact.after = func(d time.Duration, f func()) func() bool {
		c.wait, c.pending = d, f
		return func() bool {
			was := c.pending != nil
			c.pending = nil
			return was
		}
	}
	return c
}

func (c *stepClock) step(t *testing.T) {
	t.Helper()
	f := c.pending
	if f == nil {
		t.Fatal("no compaction check is scheduled")
	}
	c.pending = nil
	c.now = c.now.Add(c.wait)
	f()
}

// compactFixture is an open database with the given people in it and the
// throttle on a step clock.
type compactFixture struct {
	db    *DB
	path  string
	clock *stepClock
	file  os.FileInfo // the file as it was before any compaction
}

func newCompactFixture(t *testing.T, names map[int64]string) *compactFixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jastar.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for id, name := range names {
		if err := db.SaveUser(context.Background(), storage.User{ChatID: id, FirstName: name, Lang: storage.Kazakh, Active: true, CreatedAt: testNow}); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return &compactFixture{db: db, path: path, clock: installStepClock(db), file: fi}
}

func (f *compactFixture) forget(t *testing.T, chatID int64) {
	t.Helper()
	if _, err := f.db.Forget(context.Background(), chatID); err != nil {
		t.Fatal(err)
	}
}

// busy is one call of someone using the bot.
func (f *compactFixture) busy(t *testing.T) {
	t.Helper()
	if _, err := f.db.User(context.Background(), 999); !isNotFound(err) {
		t.Fatal(err)
	}
}

// rewritten reports whether Compact has replaced the file since f.file.
func (f *compactFixture) rewritten(t *testing.T) bool {
	t.Helper()
	fi, err := os.Stat(f.path)
	if err != nil {
		t.Fatal(err)
	}
	return !os.SameFile(fi, f.file)
}

// markRewritten makes the current file the one rewritten compares with.
func (f *compactFixture) markRewritten(t *testing.T) {
	t.Helper()
	fi, err := os.Stat(f.path)
	if err != nil {
		t.Fatal(err)
	}
	f.file = fi
}

func assertGone(t *testing.T, path string, names ...string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if bytes.Contains(raw, []byte(name)) {
			t.Errorf("%q is still in the database file", name)
		}
	}
}

// TestForget_CompactionWaitsForQuiet: while people keep using the bot the
// compaction /forget asked for waits; the first quiet period runs it, and
// the erased name is gone from the file.
func TestForget_CompactionWaitsForQuiet(t *testing.T) {
	const name = "Жансая-Тыныш"
	f := newCompactFixture(t, map[int64]string{101: name})
	f.forget(t, 101)
	if f.rewritten(t) {
		t.Fatal("/forget rewrote the file at once; want it to wait for a quiet moment")
	}
	for i := range 30 { // a minute of steady use
		f.busy(t)
		f.clock.step(t)
		if f.rewritten(t) {
			t.Fatalf("compacted after %d busy periods; want it to wait while the database is in use", i+1)
		}
	}
	f.clock.step(t) // nobody used the database during this period
	if !f.rewritten(t) {
		t.Fatal("no compaction after a quiet period")
	}
	assertGone(t, f.path, name)
	if f.clock.pending != nil {
		t.Error("a check is still scheduled with nothing owed")
	}
}

// TestForget_CompactionRunsAtTheBound: a bot that is never quiet still
// compacts, compactMaxDelay after the /forget.
func TestForget_CompactionRunsAtTheBound(t *testing.T) {
	const name = "Айбек-Бос-Емес"
	f := newCompactFixture(t, map[int64]string{102: name})
	asked := f.clock.now
	f.forget(t, 102)
	for !f.rewritten(t) {
		if waited := f.clock.now.Sub(asked); waited >= compactMaxDelay+compactQuiet {
			t.Fatalf("no compaction %v after /forget; want one at %v", waited, compactMaxDelay)
		}
		f.busy(t)
		f.clock.step(t)
	}
	if waited := f.clock.now.Sub(asked); waited < compactMaxDelay {
		t.Errorf("compacted %v after /forget while busy; want it to wait until %v", waited, compactMaxDelay)
	}
	assertGone(t, f.path, name)
}

// TestForget_CompactionThrottled: a second /forget right after a
// compaction waits for compactEvery to pass, even when the bot is quiet.
func TestForget_CompactionThrottled(t *testing.T) {
	names := map[int64]string{101: "Жансая-Бірінші", 102: "Айбек-Екінші"}
	f := newCompactFixture(t, names)
	f.forget(t, 101)
	f.clock.step(t)
	if !f.rewritten(t) {
		t.Fatal("first /forget: no compaction after a quiet period")
	}
	first := f.clock.now
	f.markRewritten(t)
	f.forget(t, 102)
	for !f.rewritten(t) {
		f.clock.step(t)
	}
	if gap := f.clock.now.Sub(first); gap < compactEvery {
		t.Errorf("second compaction %v after the first; want at least %v", gap, compactEvery)
	}
	assertGone(t, f.path, names[101], names[102])
}

// TestForget_CompactionOwedRunsAtClose: Close runs the compaction still
// waiting for a quiet moment, so nothing of the person survives the
// process.
func TestForget_CompactionOwedRunsAtClose(t *testing.T) {
	names := map[int64]string{101: "Жансая-Жабылу", 102: "Айбек-Жабылу"}
	f := newCompactFixture(t, names)
	f.forget(t, 101)
	f.forget(t, 102)
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	if f.clock.pending != nil {
		t.Error("the compaction check is still scheduled after Close")
	}
	assertGone(t, f.path, names[101], names[102])
}
