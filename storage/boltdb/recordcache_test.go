package boltdb

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

// TestUserCache_ReadsNeverLagBehindWrites: people are served from memory
// after the first read, yet every read that starts after a write returns
// the write, however reads and writes interleave (the race detector and
// the concurrent readers would catch a read that put an older record back
// in the cache), and a person erased is gone at once.
func TestUserCache_ReadsNeverLagBehindWrites(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	ctx := context.Background()
	const chat = 4242
	if err := db.SaveUser(ctx, storage.User{ChatID: chat, Lang: storage.Kazakh, FirstName: "v0", Active: true}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := db.User(ctx, chat); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := 1; i <= 60; i++ {
		name := fmt.Sprintf("v%d", i)
		if i%2 == 0 {
			if err := db.SaveUser(ctx, storage.User{ChatID: chat, Lang: storage.Kazakh, FirstName: name, Active: true}); err != nil {
				t.Fatal(err)
			}
		} else if _, err := db.UpdateUser(ctx, chat, func(u *storage.User) error { u.FirstName = name; return nil }); err != nil {
			t.Fatal(err)
		}
		got, err := db.User(ctx, chat)
		if err != nil || got.FirstName != name {
			t.Fatalf("after writing %q, User = %q, %v", name, got.FirstName, err)
		}
	}
	close(stop)
	readers.Wait()

	if _, err := db.Forget(ctx, chat); err != nil {
		t.Fatal(err)
	}
	if u, err := db.User(ctx, chat); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("after Forget, User = %+v, %v; want not found", u, err)
	}
}

// TestUserCache_Bounded: the cache holds at most its limit of people,
// however many are read, and every one still reads right.
func TestUserCache_Bounded(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	ctx := context.Background()
	db.users.limit = 100
	const people = 150
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		for i := range people {
			if err := putUser(tx, storage.User{ChatID: int64(i + 1), Lang: storage.Russian, FirstName: fmt.Sprint(i), Active: true}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		for i := range people {
			u, err := db.User(ctx, int64(i+1))
			if err != nil || u.FirstName != fmt.Sprint(i) {
				t.Fatalf("round %d, person %d: %+v, %v", round, i+1, u, err)
			}
		}
	}
	db.users.mu.Lock()
	n := len(db.users.items)
	db.users.mu.Unlock()
	if n != db.users.limit {
		t.Errorf("the cache holds %d people, want its limit, %d", n, db.users.limit)
	}
}

// TestUserCache_OtherPeoplesWritesDoNotBlockFilling: a read raced by a
// write of someone else still fills the cache, one raced by a write of the
// same person does not, and a read older than all the writes the cache
// remembers does not either.
func TestUserCache_OtherPeoplesWritesDoNotBlockFilling(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	ctx := context.Background()
	for _, id := range []int64{1, 2} {
		if err := db.SaveUser(ctx, storage.User{ChatID: id, Lang: storage.Russian, FirstName: "first", Active: true}); err != nil {
			t.Fatal(err)
		}
	}
	cached := func(id int64) bool {
		_, ok := db.users.get(id)
		return ok
	}
	rename := func(id int64, name string) {
		t.Helper()
		if _, err := db.UpdateUser(ctx, id, func(u *storage.User) error { u.FirstName = name; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	read := func(id int64) storage.User {
		t.Helper()
		u, err := db.User(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}

	// A read of person 1 that began before person 2 was written.
	mark := db.users.mark()
	one := read(1)
	db.users.mu.Lock()
	delete(db.users.items, 1) // as if that read had not filled yet
	db.users.mu.Unlock()
	rename(2, "second")
	db.users.fill(1, one, mark)
	if !cached(1) {
		t.Error("a write of someone else kept the read from filling the cache")
	}

	// A read of person 1 that began before person 1 was written must not
	// put the old record back.
	mark = db.users.mark()
	stale := read(1)
	rename(1, "renamed")
	db.users.fill(1, stale, mark)
	if got := read(1); got.FirstName != "renamed" {
		t.Fatalf("after a raced fill, User = %q, want the write's", got.FirstName)
	}

	// A read older than every write the cache remembers does not fill.
	mark = db.users.mark()
	old := read(1)
	db.users.mu.Lock()
	delete(db.users.items, 1)
	db.users.mu.Unlock()
	for i := range recentWrites + 1 {
		rename(2, fmt.Sprint(i))
	}
	db.users.fill(1, old, mark)
	if cached(1) {
		t.Error("a read older than the writes remembered filled the cache")
	}
}

// TestEventCache_ReadsFollowEveryWrite: events are served from memory
// after the first read, yet a registration, a change of time and a
// cancellation each show at once, in the card and in the list.
func TestEventCache_ReadsFollowEveryWrite(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	ctx := context.Background()
	early := mustCreate(t, db, testEvent("karasai", eventNow.Add(24*time.Hour), 10))
	late := mustCreate(t, db, testEvent("karasai", eventNow.Add(48*time.Hour), 10))
	list := func() []storage.Event {
		t.Helper()
		events, _, err := db.UpcomingEvents(ctx, storage.EventFilter{After: eventNow}, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		return events
	}
	card := func(id uint64) storage.Event {
		t.Helper()
		e, err := db.Event(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	// Both read once, so both are cached.
	card(early.ID)
	list()
	if _, ok := db.events.get(early.ID); !ok {
		t.Fatal("an event read is not cached")
	}

	if _, _, err := db.Register(ctx, early.ID, 77, eventNow, storage.ReminderPolicy{}); err != nil {
		t.Fatal(err)
	}
	if got := card(early.ID).Registered; got != 1 {
		t.Errorf("after a registration the card shows %d registered, want 1", got)
	}
	if got := list()[0]; got.ID != early.ID || got.Registered != 1 {
		t.Errorf("after a registration the list shows %+v first, want the early event with 1 registered", got)
	}

	moved := eventNow.Add(72 * time.Hour)
	if _, _, err := db.UpdateEvent(ctx, early.ID, func(e *storage.Event) error { e.Start = moved; return nil }, storage.ReminderPolicy{}, eventNow); err != nil {
		t.Fatal(err)
	}
	if got := ids(list()); !sameIDs(got, []uint64{late.ID, early.ID}) {
		t.Errorf("after moving the early event past the late one, the list is %v, want %v", got, []uint64{late.ID, early.ID})
	}
	if got := card(early.ID).Start; !got.Equal(moved) {
		t.Errorf("after moving it, the card starts at %v, want %v", got, moved)
	}

	if _, _, err := db.CancelEvent(ctx, late.ID, eventNow); err != nil {
		t.Fatal(err)
	}
	if got := ids(list()); !sameIDs(got, []uint64{early.ID}) {
		t.Errorf("after cancelling the late event, the list is %v, want only %d", got, early.ID)
	}
	if !card(late.ID).Cancelled {
		t.Error("after cancelling it, the card does not show the event cancelled")
	}
}

// TestUpdateUser_ChangingNothingWritesNothing: choosing the language one
// has, or sharing the same place again, answers without a commit (and so
// without waiting for one), while a real change is written as ever.
func TestUpdateUser_ChangingNothingWritesNothing(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	ctx := context.Background()
	created := time.Date(2026, 12, 1, 5, 0, 0, 0, time.UTC)
	if err := db.SaveUser(ctx, storage.User{ChatID: 5, Lang: storage.Russian, LangSet: true, Active: true, HasLocation: true, Lat: 43.2, Lon: 76.6, CreatedAt: created, UpdatedAt: created}); err != nil {
		t.Fatal(err)
	}
	lastCommit := func() int { return lastCommit(t, db) }
	before := lastCommit()
	later := created.Add(time.Hour)
	u, err := db.UpdateUser(ctx, 5, func(u *storage.User) error {
		u.Lang, u.LangSet, u.HasLocation, u.Lat, u.Lon, u.UpdatedAt = storage.Russian, true, true, 43.2, 76.6, later
		return nil
	})
	if err != nil || u.Lang != storage.Russian || !u.UpdatedAt.Equal(created) {
		t.Fatalf("a change of nothing = %+v, %v; want the stored person", u, err)
	}
	if after := lastCommit(); after != before {
		t.Errorf("a change of nothing committed (transaction %d → %d)", before, after)
	}

	u, err = db.UpdateUser(ctx, 5, func(u *storage.User) error { u.Lang, u.UpdatedAt = storage.Kazakh, later; return nil })
	if err != nil || u.Lang != storage.Kazakh {
		t.Fatalf("a change of language = %+v, %v", u, err)
	}
	if after := lastCommit(); after == before {
		t.Error("a change of language was not committed")
	}
	if got, err := db.User(ctx, 5); err != nil || got.Lang != storage.Kazakh || !got.UpdatedAt.Equal(later) {
		t.Errorf("after the change, User = %+v, %v", got, err)
	}
}

// lastCommit is the id of the last write transaction committed to db.
func lastCommit(t *testing.T, db *DB) int {
	t.Helper()
	var id int
	if err := db.bolt.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestRecordCache_NothingStaleBetweenCommitAndItsEnd: bbolt makes a commit
// visible before its transaction returns; in that gap a read must not be
// served the record the write replaced, which the file no longer holds.
func TestRecordCache_NothingStaleBetweenCommitAndItsEnd(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	ctx := context.Background()
	const chat = 99
	if err := db.SaveUser(ctx, storage.User{ChatID: chat, Lang: storage.Kazakh, FirstName: "old", Active: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.User(ctx, chat); err != nil { // now cached
		t.Fatal(err)
	}
	committed, release, done := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		done <- db.bolt.Update(func(tx *bolt.Tx) error {
			// Holds the transaction between its commit and its end, as a
			// descheduled goroutine would.
			tx.OnCommit(func() { close(committed); <-release })
			db.users.changes(tx, chat)
			return putUser(tx, storage.User{ChatID: chat, Lang: storage.Kazakh, FirstName: "new", Active: true})
		})
	}()
	<-committed
	got, err := db.User(ctx, chat)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err != nil || got.FirstName != "new" {
		t.Errorf("after the commit, before its transaction returned, User = %q, %v; want the new record", got.FirstName, err)
	}
	if got, err := db.User(ctx, chat); err != nil || got.FirstName != "new" {
		t.Errorf("after the write, User = %q, %v", got.FirstName, err)
	}
}

// TestEventCache_PageOfOneCenterNeverListsAnother: a page is read in one
// transaction, and the cache may hold an event newer than it (moved to
// another center since the page's transaction began, then read by a card).
// The page lists the event as its transaction saw it. The cache is set
// here as it would be in that race, which a test cannot hold open: a read
// transaction kept across a write can block bbolt's remap.
func TestEventCache_PageOfOneCenterNeverListsAnother(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	ctx := context.Background()
	ev := mustCreate(t, db, testEvent("karasai", eventNow.Add(24*time.Hour), 10))
	moved := ev
	moved.CenterID = "kegen"
	db.events.fill(ev.ID, moved, db.events.mark())
	page, _, err := db.UpcomingEvents(ctx, storage.EventFilter{CenterIDs: []string{"karasai"}, After: eventNow}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 1 || page[0].CenterID != "karasai" {
		t.Errorf("the karasai page = %+v; want the event at karasai, as its transaction saw it", page)
	}
}
