package boltdb

import (
	"context"
	"errors"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

var eventNow = time.Date(2026, 12, 1, 5, 0, 0, 0, time.UTC) // 10:00 in Almaty

func testEvent(center string, start time.Time, capacity int) storage.Event {
	return storage.Event{
		CenterID: center, TitleKK: "Тренинг", TitleRU: "Тренинг", Start: start, Minutes: 60, Capacity: capacity,
		CreatedAt: eventNow, UpdatedAt: eventNow,
	}
}

func mustCreate(t *testing.T, db *DB, e storage.Event) storage.Event {
	t.Helper()
	out, err := db.CreateEvent(context.Background(), e)
	if err != nil {
		t.Fatalf("create event: %v", err)
	}
	return out
}

func ids(events []storage.Event) []uint64 {
	var out []uint64
	for _, e := range events {
		out = append(out, e.ID)
	}
	return out
}

func sameIDs(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// indexEntries counts the keys of an index bucket.
func indexEntries(t *testing.T, db *DB, bucket []byte) int {
	t.Helper()
	n := 0
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucket).Stats().KeyN
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestUpcomingEvents_OrderAndFilters(t *testing.T) {
	db, path := openTemp(t)
	ctx := context.Background()
	// Created out of order, one in the past, one at another center.
	late := mustCreate(t, db, testEvent("karasai", eventNow.Add(72*time.Hour), 10))
	past := mustCreate(t, db, testEvent("karasai", eventNow.Add(-time.Hour), 10))
	soon := mustCreate(t, db, testEvent("karasai", eventNow.Add(2*time.Hour), 10))
	other := mustCreate(t, db, testEvent("balkhash", eventNow.Add(24*time.Hour), 10))
	_ = past

	check := func(db *DB, f storage.EventFilter, want []uint64) {
		t.Helper()
		got, total, err := db.UpcomingEvents(ctx, f, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if !sameIDs(ids(got), want) || total != len(want) {
			t.Errorf("UpcomingEvents(%v) = %v (total %d), want %v", f.CenterIDs, ids(got), total, want)
		}
	}
	check(db, storage.EventFilter{After: eventNow}, []uint64{soon.ID, other.ID, late.ID})
	check(db, storage.EventFilter{After: eventNow, CenterIDs: []string{"karasai"}}, []uint64{soon.ID, late.ID})
	check(db, storage.EventFilter{After: eventNow, CenterIDs: []string{"balkhash", "karasai"}}, []uint64{soon.ID, other.ID, late.ID})

	// Paging.
	page, total, err := db.UpcomingEvents(ctx, storage.EventFilter{After: eventNow}, 1, 1)
	if err != nil || total != 3 || !sameIDs(ids(page), []uint64{other.ID}) {
		t.Errorf("page 2 = %v, total %d, %v; want [%d] of 3", ids(page), total, err, other.ID)
	}

	// Reopen: the same answers from the file.
	db.Close()
	db2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db2.Close() })
	check(db2, storage.EventFilter{After: eventNow}, []uint64{soon.ID, other.ID, late.ID})
	got, err := db2.Event(ctx, late.ID)
	if err != nil || !got.Start.Equal(late.Start) || got.CenterID != "karasai" {
		t.Errorf("reopened event = %+v, %v", got, err)
	}
}

func TestCancelEvent_IndexesConsistent(t *testing.T) {
	db, _ := openTemp(t)
	ctx := context.Background()
	a := mustCreate(t, db, testEvent("karasai", eventNow.Add(time.Hour), 1))
	b := mustCreate(t, db, testEvent("karasai", eventNow.Add(2*time.Hour), 1))
	if _, _, err := db.Register(ctx, a.ID, 11, eventNow); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Register(ctx, a.ID, 12, eventNow); err != nil {
		t.Fatal(err)
	}
	ev, regs, err := db.CancelEvent(ctx, a.ID, eventNow)
	if err != nil || !ev.Cancelled || len(regs) != 2 {
		t.Fatalf("CancelEvent = %+v, %d registrations, %v", ev, len(regs), err)
	}
	if regs[0].ChatID != 11 || regs[0].Status != storage.Registered || regs[1].Status != storage.Waitlisted {
		t.Errorf("registrations = %+v, want the registered person first, then the waitlist", regs)
	}
	for _, bucket := range [][]byte{bucketEventsByStart, bucketEventsByCenter} {
		if n := indexEntries(t, db, bucket); n != 1 {
			t.Errorf("%s has %d entries after cancel, want 1 (only the other event)", bucket, n)
		}
	}
	got, _, _ := db.UpcomingEvents(ctx, storage.EventFilter{After: eventNow, CenterIDs: []string{"karasai"}}, 0, 10)
	if !sameIDs(ids(got), []uint64{b.ID}) {
		t.Errorf("upcoming after cancel = %v, want [%d]", ids(got), b.ID)
	}
	if _, _, err := db.CancelEvent(ctx, a.ID, eventNow); !errors.Is(err, storage.ErrEventClosed) {
		t.Errorf("second cancel = %v, want ErrEventClosed", err)
	}
	if _, _, err := db.Register(ctx, a.ID, 13, eventNow); !errors.Is(err, storage.ErrEventClosed) {
		t.Errorf("register for a cancelled event = %v, want ErrEventClosed", err)
	}

	// Moving an event re-indexes it under the new start.
	moved, _, err := db.UpdateEvent(ctx, b.ID, func(e *storage.Event) error {
		e.Start = eventNow.Add(48 * time.Hour)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := indexEntries(t, db, bucketEventsByStart); n != 1 {
		t.Errorf("events_by_start has %d entries after a move, want 1", n)
	}
	got, _, _ = db.UpcomingEvents(ctx, storage.EventFilter{After: eventNow.Add(24 * time.Hour)}, 0, 10)
	if !sameIDs(ids(got), []uint64{moved.ID}) {
		t.Errorf("upcoming after the move = %v, want [%d]", ids(got), moved.ID)
	}
}

func TestRegister_CapacityWaitlistAndPromotion(t *testing.T) {
	db, path := openTemp(t)
	ctx := context.Background()
	e := mustCreate(t, db, testEvent("karasai", eventNow.Add(time.Hour), 2))
	want := []storage.RegistrationStatus{storage.Registered, storage.Registered, storage.Waitlisted, storage.Waitlisted}
	for i, w := range want {
		reg, _, err := db.Register(ctx, e.ID, int64(100+i), eventNow)
		if err != nil || reg.Status != w {
			t.Fatalf("person %d: %+v, %v; want %s", i, reg, err, w)
		}
	}
	// A second press changes nothing.
	if _, _, err := db.Register(ctx, e.ID, 100, eventNow); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("double registration = %v, want ErrConflict", err)
	}
	ev, promoted, err := db.Unregister(ctx, e.ID, 101, eventNow)
	if err != nil || promoted == nil || promoted.ChatID != 102 {
		t.Fatalf("Unregister = %+v, %+v, %v; want person 102 moved up", ev, promoted, err)
	}
	if ev.Registered != 2 || ev.Waiting != 1 {
		t.Errorf("counts = %d registered, %d waiting; want 2 and 1", ev.Registered, ev.Waiting)
	}
	if _, _, err := db.Unregister(ctx, e.ID, 101, eventNow); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unregister twice = %v, want ErrNotFound", err)
	}
	// Raising capacity moves the rest of the waitlist up.
	_, moved, err := db.UpdateEvent(ctx, e.ID, func(e *storage.Event) error { e.Capacity = 5; return nil })
	if err != nil || len(moved) != 1 || moved[0].ChatID != 103 {
		t.Errorf("raise capacity moved %+v, %v; want person 103", moved, err)
	}
	if _, _, err := db.UpdateEvent(ctx, e.ID, func(e *storage.Event) error { e.Capacity = 1; return nil }); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("capacity below registered = %v, want ErrConflict", err)
	}
	// A past event takes no registration.
	if _, _, err := db.Register(ctx, e.ID, 200, eventNow.Add(2*time.Hour)); !errors.Is(err, storage.ErrEventClosed) {
		t.Errorf("register after the start = %v, want ErrEventClosed", err)
	}

	db.Close()
	db2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db2.Close() })
	regs, err := db2.EventRegistrations(ctx, e.ID)
	if err != nil || len(regs) != 3 {
		t.Fatalf("registrations after reopen = %+v, %v", regs, err)
	}
	for _, r := range regs {
		if r.Status != storage.Registered {
			t.Errorf("registration %+v, want registered", r)
		}
	}
	mine, err := db2.PersonRegistrations(ctx, 102)
	if err != nil || len(mine) != 1 || mine[0].EventID != e.ID {
		t.Errorf("PersonRegistrations(102) = %+v, %v", mine, err)
	}
}

func TestSeedEvents_Idempotent(t *testing.T) {
	db, _ := openTemp(t)
	ctx := context.Background()
	seed := testEvent("karasai", eventNow.Add(time.Hour), 5)
	seed.SeedID = "podcast_kaskelen_2612"
	for i, want := range []int{1, 0} {
		n, err := db.SeedEvents(ctx, []storage.Event{seed})
		if err != nil || n != want {
			t.Errorf("run %d: SeedEvents = %d, %v; want %d", i, n, err, want)
		}
	}
	// A staff event after the seeds gets the next id, not a seed's.
	e := mustCreate(t, db, testEvent("karasai", eventNow.Add(2*time.Hour), 5))
	if e.ID != 2 {
		t.Errorf("staff event id = %d, want 2", e.ID)
	}
}
