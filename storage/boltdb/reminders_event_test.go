package boltdb

import (
	"context"
	"fmt"
	"testing"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

func TestEventReminders_DeletedPerPersonAndPerEvent(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	p := storage.DefaultReminderPolicy(testAlmaty)
	var rs []storage.Reminder
	rs = append(rs, p.ForEvent(7, 1, at(5, 15), testNow)...)
	rs = append(rs, p.ForEvent(7, -2, at(5, 15), testNow)...)
	rs = append(rs, p.ForEvent(8, 1, at(6, 15), testNow)...)
	if err := db.AddReminders(ctx, rs); err != nil {
		t.Fatal(err)
	}
	one := int64(1)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		if err := deleteEventReminders(tx, 7, &one, nil); err != nil {
			return err
		}
		return deleteEventReminders(tx, 8, nil, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := claimDue(ctx, db, at(31, 0), 100)
	if err != nil {
		t.Fatal(err)
	}
	var desc []string
	for _, r := range got {
		desc = append(desc, fmt.Sprintf("%d/%d/%s", r.EventID, r.ChatID, r.Kind))
	}
	if want := "[7/-2/event_day_before 7/-2/event_hour_before]"; fmt.Sprint(desc) != want {
		t.Errorf("left %v, want %s", desc, want)
	}
	// Claiming removed the index entries too.
	err = db.bolt.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketRemindersByEvent).Cursor().First(); k != nil {
			return fmt.Errorf("reminders_by_event keeps %x", k)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// pendingFor lists the pending reminders of chat as "kind@local due".
func pendingFor(t *testing.T, db *DB, chat int64) []string {
	t.Helper()
	var out []string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketReminders).ForEach(func(k, _ []byte) error {
			r, err := getReminder(tx, decodeUint(k))
			if err != nil {
				return err
			}
			if r.ChatID == chat {
				out = append(out, fmt.Sprintf("%s@%s", r.Kind, r.Due.In(testAlmaty).Format("02 15:04")))
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEventReminders_WithRegistrations(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	p := storage.DefaultReminderPolicy(testAlmaty)
	e := mustCreate(t, db, testEvent("karasai", at(5, 15), 1))
	if _, _, err := db.Register(ctx, e.ID, 1, eventNow, p); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Register(ctx, e.ID, 2, eventNow, p); err != nil { // waitlisted
		t.Fatal(err)
	}
	if got := fmt.Sprint(pendingFor(t, db, 1)); got != "[event_day_before@04 18:00 event_hour_before@05 14:00]" {
		t.Errorf("registered person's reminders = %s", got)
	}
	if got := pendingFor(t, db, 2); len(got) != 0 {
		t.Errorf("waitlisted person has reminders %v", got)
	}
	// 1 gives the place up: their reminders go, 2 moves up and gets them.
	if _, promoted, err := db.Unregister(ctx, e.ID, 1, eventNow, p); err != nil || promoted == nil || promoted.ChatID != 2 {
		t.Fatalf("unregister = %+v, %v", promoted, err)
	}
	if got := pendingFor(t, db, 1); len(got) != 0 {
		t.Errorf("reminders left after unregistering: %v", got)
	}
	// The "moved up" notice is due at once, written with the move.
	if got := fmt.Sprint(pendingFor(t, db, 2)); got != "[event_day_before@04 18:00 event_hour_before@05 14:00 event_promoted@01 10:00]" {
		t.Errorf("promoted person's reminders = %s", got)
	}
	// Staff move the event: the reminders move with it. The pending "moved
	// up" notice will name the new time, so no "time changed" joins it.
	if _, _, err := db.UpdateEvent(ctx, e.ID, func(e *storage.Event) error { e.Start = at(7, 11); return nil }, p, eventNow); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(pendingFor(t, db, 2)); got != "[event_promoted@01 10:00 event_day_before@06 18:00 event_hour_before@07 10:00]" {
		t.Errorf("reminders after the move = %s", got)
	}
	// Cancelling the event drops them all for the cancellation notice.
	if _, _, err := db.CancelEvent(ctx, e.ID, eventNow); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(pendingFor(t, db, 2)); got != "[event_cancelled@01 10:00]" {
		t.Errorf("reminders after the event was cancelled: %v", got)
	}
	if got := pendingFor(t, db, 1); len(got) != 0 {
		t.Errorf("a person who gave the place up has %v", got)
	}
}

// TestCancelEvent_NoticesInTheSameTransaction: the cancellation and a
// notice to everyone registered or waiting are one commit, so a process
// that stops right after it (before any send) still owes each person
// exactly one notice, found after reopening the file.
func TestCancelEvent_NoticesInTheSameTransaction(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)
	p := storage.DefaultReminderPolicy(testAlmaty)
	e := mustCreate(t, db, testEvent("karasai", at(5, 15), 2))
	for _, chat := range []int64{11, -12, 13, 14} { // two places, two waiting
		if _, _, err := db.Register(ctx, e.ID, chat, eventNow, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, regs, err := db.CancelEvent(ctx, e.ID, eventNow); err != nil || len(regs) != 4 {
		t.Fatalf("CancelEvent = %d registrations, %v", len(regs), err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	due, err := claimDue(ctx, db, eventNow, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[int64]int)
	for _, r := range due {
		if r.Kind != storage.ReminderEventCancelled || r.EventID != e.ID || !r.Start.Equal(e.Start) {
			t.Errorf("unexpected due reminder %+v", r)
		}
		got[r.ChatID]++
	}
	if fmt.Sprint(got) != "map[-12:1 11:1 13:1 14:1]" {
		t.Errorf("cancel notices per chat = %v, want one each for the registered and the waiting", got)
	}
}

// TestPutBackReminders_KeepsIdAndIndexes: a reminder a stopped sweep puts
// back is due again under its own id, and still goes when its booking is
// cancelled, as if it had never been claimed.
func TestPutBackReminders_KeepsIdAndIndexes(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	kept, err := db.Book(ctx, booking(7, "karasai", "career", at(2, 11)), rules(2, 3))
	if err != nil {
		t.Fatal(err)
	}
	gone, err := db.Book(ctx, booking(8, "karasai", "career", at(2, 11)), rules(2, 3))
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := claimDue(ctx, db, at(1, 18), 100)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim = %+v, %v", claimed, err)
	}
	if err := db.PutBackReminders(ctx, claimed); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Cancel(ctx, gone.ID, "person", testNow); err != nil {
		t.Fatal(err)
	}
	again, err := claimDue(ctx, db, at(1, 18), 100)
	if err != nil || len(again) != 1 || again[0].ID != claimed[0].ID || again[0].BookingID != kept.ID {
		t.Errorf("after put-back and a cancel, claim = %+v, %v; want reminder %d of booking %d", again, err, claimed[0].ID, kept.ID)
	}
}
