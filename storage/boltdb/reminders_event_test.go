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
	rs = append(rs, p.ForEvent("7", 1, at(5, 15), testNow)...)
	rs = append(rs, p.ForEvent("7", -2, at(5, 15), testNow)...)
	rs = append(rs, p.ForEvent("8", 1, at(6, 15), testNow)...)
	if err := db.AddReminders(ctx, rs); err != nil {
		t.Fatal(err)
	}
	one := int64(1)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		if err := deleteEventReminders(tx, 7, &one); err != nil {
			return err
		}
		return deleteEventReminders(tx, 8, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.ClaimDueReminders(ctx, at(31, 0), 100)
	if err != nil {
		t.Fatal(err)
	}
	var desc []string
	for _, r := range got {
		desc = append(desc, fmt.Sprintf("%s/%d/%s", r.EventID, r.ChatID, r.Kind))
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
