package boltdb

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// holdCommit starts a write that stays inside its transaction until the
// returned release is called, so the test can queue writes behind it.
func holdCommit(t *testing.T, h *handle) (release func(), done <-chan error) {
	t.Helper()
	entered, hold, result := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	var once sync.Once
	go func() {
		result <- h.Batch(func(tx *bolt.Tx) error {
			once.Do(func() { close(entered) })
			<-hold
			return tx.Bucket(bucketMeta).Put([]byte("test-held"), []byte("1"))
		})
	}()
	<-entered
	return func() { close(hold) }, result
}

// waitQueued waits until n writes wait for the commit in flight.
func waitQueued(t *testing.T, h *handle, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		h.group.mu.Lock()
		queued := len(h.group.waiting)
		h.group.mu.Unlock()
		if queued >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", queued, n)
		}
	}
}

// TestGroupCommit_WritesWaitingForACommitShareTheNext: the writes that
// arrive while a commit is in flight go in one transaction right after it
// (one commit, one pair of fsyncs, for all of them), and every one of them
// is stored.
func TestGroupCommit_WritesWaitingForACommitShareTheNext(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	h := db.bolt
	release, held := holdCommit(t, h)

	const writers = 20
	txIDs := make([]int, writers)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- h.Batch(func(tx *bolt.Tx) error {
				txIDs[i] = tx.ID()
				return tx.Bucket(bucketMeta).Put(fmt.Appendf(nil, "test-%d", i), []byte("1"))
			})
		}()
	}
	waitQueued(t, h, writers)
	release()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range writers {
		if txIDs[i] != txIDs[0] {
			t.Fatalf("the queued writes committed in transactions %v, want one shared", txIDs)
		}
	}
	err := h.View(func(tx *bolt.Tx) error {
		for i := range writers {
			if tx.Bucket(bucketMeta).Get(fmt.Appendf(nil, "test-%d", i)) == nil {
				return fmt.Errorf("write %d is not stored", i)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGroupCommit_AFailingWriteFailsAlone: a write that returns an error,
// or panics, in a shared transaction gets its own error or panic back, and
// leaves nothing behind; the writes beside it commit.
func TestGroupCommit_AFailingWriteFailsAlone(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	h := db.bolt
	release, held := holdCommit(t, h)

	errBroken := errors.New("broken write")
	put := func(key string, then func() error) func(*bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			if err := tx.Bucket(bucketMeta).Put([]byte(key), []byte("1")); err != nil {
				return err
			}
			return then()
		}
	}
	ok := func() error { return nil }
	var wg sync.WaitGroup
	results := map[string]any{}
	var mu sync.Mutex
	run := func(key string, fn func(*bolt.Tx) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var got any
			defer func() {
				if p := recover(); p != nil {
					got = fmt.Sprint("panic: ", p)
				}
				mu.Lock()
				results[key] = got
				mu.Unlock()
			}()
			got = h.Batch(fn)
		}()
	}
	run("test-good-1", put("test-good-1", ok))
	run("test-failing", put("test-failing", func() error { return errBroken }))
	run("test-good-2", put("test-good-2", ok))
	run("test-panicking", put("test-panicking", func() error { panic("write broke") }))
	run("test-good-3", put("test-good-3", ok))
	waitQueued(t, h, 5)
	release()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	for _, key := range []string{"test-good-1", "test-good-2", "test-good-3"} {
		if results[key] != error(nil) {
			t.Errorf("%s: %v, want it committed", key, results[key])
		}
	}
	if err, _ := results["test-failing"].(error); !errors.Is(err, errBroken) {
		t.Errorf("the failing write got %v, want its own error", results["test-failing"])
	}
	if results["test-panicking"] != "panic: write broke" {
		t.Errorf("the panicking write got %v, want its own panic", results["test-panicking"])
	}
	err := h.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		for key, want := range map[string]bool{"test-good-1": true, "test-good-2": true, "test-good-3": true, "test-failing": false, "test-panicking": false} {
			if stored := meta.Get([]byte(key)) != nil; stored != want {
				return fmt.Errorf("%s stored = %v, want %v", key, stored, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// TestGroupCommit_APanicInTheCommitDoesNotJamTheNext: a panic inside the
// commit itself, not in a write (here an OnCommit hook), reaches the caller
// that led the commit, and the writes after it still commit: the lead is
// passed on however a commit ends, and closing the database does not wait
// for a leader that never comes.
func TestGroupCommit_APanicInTheCommitDoesNotJamTheNext(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	h := db.bolt
	func() {
		defer func() {
			if p := recover(); fmt.Sprint(p) != "hook broke" {
				t.Errorf("the leader's call panicked with %v, want the hook's panic", p)
			}
		}()
		_ = h.Batch(func(tx *bolt.Tx) error {
			tx.OnCommit(func() { panic("hook broke") })
			return tx.Bucket(bucketMeta).Put([]byte("test-hooked"), []byte("1"))
		})
	}()
	done := make(chan error, 1)
	go func() {
		done <- h.Batch(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put([]byte("test-after"), []byte("1")) })
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a write after a commit that panicked never committed")
	}
}
