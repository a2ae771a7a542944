package boltdb

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

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

// owedFlag reads the meta compact_owed flag of the file at path.
func owedFlag(t *testing.T, path string) bool {
	t.Helper()
	db, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var owed bool
	if err := db.bolt.View(func(tx *bolt.Tx) error { owed = compactOwed(tx); return nil }); err != nil {
		t.Fatal(err)
	}
	return owed
}

// copyFile copies the file as a kill -9 would leave it: every commit is on
// disk, the in-memory throttle is lost.
func copyFile(t *testing.T, from string) string {
	t.Helper()
	raw, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(t.TempDir(), "crashed.db")
	if err := os.WriteFile(to, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return to
}

// TestForget_CompactionOwedSurvivesCrash: the process dies after /forget
// and before the compaction; the next run compacts at Open, so the name
// does not stay in the file, and the owed flag is cleared. (In a file this
// small Open's own write may happen to reuse the freed page; in a real one
// it need not, and the flag is what tells the next run.)
func TestForget_CompactionOwedSurvivesCrash(t *testing.T) {
	const name = "Жансая-Құлады"
	f := newCompactFixture(t, map[int64]string{101: name})
	f.forget(t, 101)
	crashed := copyFile(t, f.path)
	raw, _ := os.ReadFile(crashed)
	if !bytes.Contains(raw, []byte(name)) {
		t.Fatal("test setup: the name is not in the freed pages before the compaction")
	}

	db, err := Open(crashed, Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertGone(t, crashed, name)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if owedFlag(t, crashed) {
		t.Error("the owed flag is still set after the compaction at Open")
	}

	// The running process's own compaction clears it too.
	f.clock.step(t)
	if !f.rewritten(t) {
		t.Fatal("no compaction after a quiet period")
	}
	f.db.Close()
	if owedFlag(t, f.path) {
		t.Error("the owed flag is still set after the throttled compaction")
	}
}

// stalledWriter is a backup client that stops reading: its first Write
// blocks until release is closed.
type stalledWriter struct {
	writing chan struct{}
	release chan struct{}
	once    sync.Once
}

func (w *stalledWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.writing) })
	<-w.release
	return len(p), nil
}

// TestForget_OverdueCompactionWaitsOutLongRead: a hot backup holds a read
// transaction while its client stalls. An overdue compaction must not queue
// for the write lock behind it (that stops every new call until the backup
// ends); it tries again later, and runs once the backup is over.
func TestForget_OverdueCompactionWaitsOutLongRead(t *testing.T) {
	t.Parallel()
	const name = "Айбек-Сақтық"
	f := newCompactFixture(t, map[int64]string{102: name})
	asked := f.clock.now
	f.forget(t, 102)

	w := &stalledWriter{writing: make(chan struct{}), release: make(chan struct{})}
	backup := make(chan error, 1)
	go func() {
		_, err := f.db.WriteBackup(context.Background(), w)
		backup <- err
	}()
	<-w.writing

	stepped := make(chan struct{})
	go func() {
		defer close(stepped)
		for f.clock.now.Sub(asked) < compactMaxDelay+compactQuiet {
			f.clock.step(t)
		}
	}()
	select {
	case <-stepped:
	case <-time.After(30 * time.Second):
		close(w.release) // let the stuck compaction through, so the test ends
		<-stepped
		t.Fatal("the overdue compaction waited for the write lock behind the backup")
	}
	f.busy(t) // a read goes through while the compaction is still owed
	if f.rewritten(t) {
		t.Fatal("compacted while the backup's read transaction was open")
	}

	close(w.release)
	if err := <-backup; err != nil {
		t.Fatal(err)
	}
	f.clock.step(t)
	if !f.rewritten(t) {
		t.Fatal("no compaction once the backup ended")
	}
	assertGone(t, f.path, name)
}

// TestForget_FailingCompactionBacksOff: a compaction that keeps failing
// (here the scratch path is taken, as a full disk would fail it) is tried
// after 1, 2, 4 ... minutes up to an hour, each failure logged once with
// the next try's time; once the cause is gone the next try erases the name.
func TestForget_FailingCompactionBacksOff(t *testing.T) {
	const name = "Жансая-Толы"
	f := newCompactFixture(t, map[int64]string{101: name})
	var logs bytes.Buffer
	f.db.compact.log = slog.New(slog.NewJSONHandler(&logs, nil))
	blocker := f.path + ".compact"
	if err := os.MkdirAll(filepath.Join(blocker, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	f.forget(t, 101)

	type failure struct {
		at   time.Time // when the try ran
		next time.Time // when its log line says the next one runs
	}
	var failures []failure
	for f.clock.now.Sub(testNow) < 4*time.Hour {
		f.clock.step(t)
		for _, line := range bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			var rec struct {
				Next time.Time `json:"next_attempt"`
			}
			if err := json.Unmarshal(line, &rec); err != nil {
				t.Fatal(err)
			}
			failures = append(failures, failure{at: f.clock.now, next: rec.Next})
		}
		logs.Reset()
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60}
	if len(failures) < len(want) {
		t.Fatalf("%d failed tries logged in 4 hours, want at least %d", len(failures), len(want))
	}
	for i, w := range want {
		gap := failures[i+1].at.Sub(failures[i].at)
		if w *= time.Minute; gap < w || gap > w+compactQuiet {
			t.Errorf("try %d came %v after try %d, want %v", i+2, gap, i+1, w)
		}
		if !failures[i].next.Equal(failures[i].at.Add(w)) {
			t.Errorf("try %d logged next attempt %v, want %v", i+1, failures[i].next, failures[i].at.Add(w))
		}
	}

	if err := os.RemoveAll(blocker); err != nil {
		t.Fatal(err)
	}
	for start := f.clock.now; !f.rewritten(t); f.clock.step(t) {
		if f.clock.now.Sub(start) > compactBackoffMax+compactQuiet {
			t.Fatal("no compaction within the backoff cap after the disk was freed")
		}
	}
	assertGone(t, f.path, name)
	if logs.Len() != 0 {
		t.Errorf("the successful compaction logged %s", logs.Bytes())
	}
}
