package boltdb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

type reminderRecord struct {
	Kind      string `json:"kind"`
	BookingID uint64 `json:"booking_id,omitempty"`
	// EventID is decimal text, as records have always had it; the domain's
	// Reminder.EventID is the number.
	EventID string    `json:"event_id,omitempty"`
	ChatID  int64     `json:"chat_id"`
	Due     time.Time `json:"due"`
	Start   time.Time `json:"start"`
}

func (r reminderRecord) toReminder(id uint64) storage.Reminder {
	return storage.Reminder{
		ID: id, Kind: storage.ReminderKind(r.Kind), BookingID: r.BookingID, EventID: parseEventID(r.EventID),
		ChatID: r.ChatID, Due: r.Due, Start: r.Start,
	}
}

// parseEventID reads a record's event id; "" (a booking's reminder) and
// anything unreadable are 0, no event.
func parseEventID(s string) uint64 {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0
	}
	return id
}

// addReminders stores reminders with their due and booking indexes, inside
// the transaction of the change they belong to.
func addReminders(tx *bolt.Tx, rs []storage.Reminder) error {
	for _, r := range rs {
		id, err := tx.Bucket(bucketReminders).NextSequence()
		if err != nil {
			return err
		}
		r.ID = id
		if err := putReminder(tx, r); err != nil {
			return err
		}
	}
	return nil
}

// putReminder writes one reminder under r.ID with its index entries.
func putReminder(tx *bolt.Tx, r storage.Reminder) error {
	raw, err := encodeReminder(r)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketReminders).Put(encodeUint(r.ID), raw); err != nil {
		return err
	}
	if err := tx.Bucket(bucketRemindersByDue).Put(dueKey(r.Due, r.ID), nil); err != nil {
		return err
	}
	if r.BookingID != 0 {
		if err := tx.Bucket(bucketRemindersByBooking).Put(bookingReminderKey(r.BookingID, r.ID), nil); err != nil {
			return err
		}
	}
	if eventID, ok := reminderEventID(r); ok {
		if err := tx.Bucket(bucketRemindersByEvent).Put(eventReminderKey(eventID, r.ChatID, r.ID), nil); err != nil {
			return err
		}
	}
	return nil
}

func encodeReminder(r storage.Reminder) ([]byte, error) {
	raw, err := json.Marshal(reminderRecord{
		Kind: string(r.Kind), BookingID: r.BookingID, EventID: formatEventID(r.EventID),
		ChatID: r.ChatID, Due: r.Due.UTC(), Start: r.Start.UTC(),
	})
	if err != nil {
		return nil, fmt.Errorf("encode reminder %d: %w", r.ID, err)
	}
	return raw, nil
}

// formatEventID writes an event id as records hold it: "" for none.
func formatEventID(id uint64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatUint(id, 10)
}

// reminderEventID is the event id of an event reminder.
func reminderEventID(r storage.Reminder) (uint64, bool) { return r.EventID, r.EventID != 0 }

// deleteEventReminders removes the reminders and notices of one person's
// registration for an event, or of every registration when chatID is nil;
// with keep set, those it approves stay.
func deleteEventReminders(tx *bolt.Tx, eventID uint64, chatID *int64, keep func(storage.Reminder) bool) error {
	prefix := encodeUint(eventID)
	if chatID != nil {
		prefix = compositeKey(prefix, encodeChatID(*chatID))
	}
	var ids []uint64
	c := tx.Bucket(bucketRemindersByEvent).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ids = append(ids, decodeUint(k[16:]))
	}
	for _, id := range ids {
		r, err := getReminder(tx, id)
		if err != nil {
			return err
		}
		if keep != nil && keep(r) {
			continue
		}
		if err := deleteReminder(tx, r); err != nil {
			return err
		}
	}
	return nil
}

func getReminder(tx *bolt.Tx, id uint64) (storage.Reminder, error) {
	raw := tx.Bucket(bucketReminders).Get(encodeUint(id))
	if raw == nil {
		return storage.Reminder{}, fmt.Errorf("reminder %d: %w", id, storage.ErrNotFound)
	}
	var r reminderRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return storage.Reminder{}, fmt.Errorf("decode reminder %d: %w", id, err)
	}
	return r.toReminder(id), nil
}

// deleteReminder removes a reminder and its index entries.
func deleteReminder(tx *bolt.Tx, r storage.Reminder) error {
	if err := tx.Bucket(bucketRemindersByDue).Delete(dueKey(r.Due, r.ID)); err != nil {
		return err
	}
	if r.BookingID != 0 {
		if err := tx.Bucket(bucketRemindersByBooking).Delete(bookingReminderKey(r.BookingID, r.ID)); err != nil {
			return err
		}
	}
	if eventID, ok := reminderEventID(r); ok {
		if err := tx.Bucket(bucketRemindersByEvent).Delete(eventReminderKey(eventID, r.ChatID, r.ID)); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketReminders).Delete(encodeUint(r.ID))
}

func remindersOf(tx *bolt.Tx, bookingID uint64) ([]storage.Reminder, error) {
	prefix := encodeUint(bookingID)
	c := tx.Bucket(bucketRemindersByBooking).Cursor()
	var out []storage.Reminder
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		r, err := getReminder(tx, decodeUint(k[8:]))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func deleteRemindersOf(tx *bolt.Tx, bookingID uint64) error {
	rs, err := remindersOf(tx, bookingID)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if err := deleteReminder(tx, r); err != nil {
			return err
		}
	}
	return nil
}

// RemindersOf implements storage.ReminderStore.
func (db *DB) RemindersOf(ctx context.Context, bookingID uint64) ([]storage.Reminder, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []storage.Reminder
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		out, err = remindersOf(tx, bookingID)
		return err
	})
	// Reminder ids grow with creation, not with due time.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Due.Before(out[j-1].Due); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, err
}

// DueReminders implements storage.ReminderStore. It walks reminders_by_due
// from after (or its first key) and stops at the first reminder not yet
// due, so a pass costs the number of due reminders, not the number stored.
func (db *DB) DueReminders(ctx context.Context, now time.Time, after storage.Reminder, limit int) ([]storage.Reminder, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 1000
	}
	var out []storage.Reminder
	err := db.bolt.View(func(tx *bolt.Tx) error {
		// Keys strictly below the next second are due at or before now.
		end := encodeTime(now.Add(time.Second))
		c := tx.Bucket(bucketRemindersByDue).Cursor()
		k, _ := c.First()
		if after.ID != 0 {
			from := dueKey(after.Due, after.ID)
			if k, _ = c.Seek(from); k != nil && bytes.Equal(k, from) {
				k, _ = c.Next()
			}
		}
		for ; k != nil && len(out) < limit && bytes.Compare(k[:8], end) < 0; k, _ = c.Next() {
			r, err := getReminder(tx, decodeUint(k[8:]))
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read reminders due by %d: %w", now.Unix(), err)
	}
	return out, nil
}

// ClaimReminder implements storage.ReminderStore: in one write
// transaction the reminder leaves reminders and its indexes (so a cancel
// or a second sweep no longer finds it) and is written to
// reminders_inflight until SettleReminder or PutBackReminders.
func (db *DB) ClaimReminder(ctx context.Context, id uint64) (storage.Reminder, error) {
	if err := ctx.Err(); err != nil {
		return storage.Reminder{}, err
	}
	var r storage.Reminder
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var err error
		if r, err = getReminder(tx, id); err != nil {
			return err
		}
		if err := deleteReminder(tx, r); err != nil {
			return err
		}
		return putReminderIn(tx, bucketRemindersInFlight, r)
	})
	if err != nil {
		return storage.Reminder{}, fmt.Errorf("claim reminder %d: %w", id, err)
	}
	return r, nil
}

// DropReminder implements storage.ReminderStore.
func (db *DB) DropReminder(ctx context.Context, id uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		r, err := getReminder(tx, id)
		if err != nil {
			return err
		}
		return deleteReminder(tx, r)
	})
	if err != nil {
		return fmt.Errorf("drop reminder %d: %w", id, err)
	}
	return nil
}

// SettleReminder implements storage.ReminderStore.
func (db *DB) SettleReminder(ctx context.Context, id uint64, uncertain bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		key := encodeUint(id)
		raw := tx.Bucket(bucketRemindersInFlight).Get(key)
		if raw == nil {
			return storage.ErrNotFound
		}
		if uncertain {
			if err := tx.Bucket(bucketRemindersUncertain).Put(key, append([]byte(nil), raw...)); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketRemindersInFlight).Delete(key)
	})
	if err != nil {
		return fmt.Errorf("settle reminder %d: %w", id, err)
	}
	return nil
}

// SettleInFlightReminders implements storage.ReminderStore: every reminder
// still in reminders_inflight moves to reminders_uncertain in one write
// transaction.
func (db *DB) SettleInFlightReminders(ctx context.Context) ([]storage.Reminder, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []storage.Reminder
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		out = nil
		inflight := tx.Bucket(bucketRemindersInFlight)
		var keys [][]byte
		err := inflight.ForEach(func(k, v []byte) error {
			r, err := decodeReminder(k, v)
			if err != nil {
				return err
			}
			out = append(out, r)
			keys = append(keys, append([]byte(nil), k...))
			return tx.Bucket(bucketRemindersUncertain).Put(keys[len(keys)-1], append([]byte(nil), v...))
		})
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := inflight.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("settle reminders in flight: %w", err)
	}
	return out, nil
}

// UncertainReminders implements storage.UncertainReminderStore.
func (db *DB) UncertainReminders(ctx context.Context) ([]storage.Reminder, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []storage.Reminder
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRemindersUncertain).ForEach(func(k, v []byte) error {
			r, err := decodeReminder(k, v)
			if err == nil {
				out = append(out, r)
			}
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read uncertain reminders: %w", err)
	}
	return out, nil
}

// ForgetUncertainReminders implements storage.UncertainReminderStore.
func (db *DB) ForgetUncertainReminders(ctx context.Context, ids []uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		for _, id := range ids {
			if err := tx.Bucket(bucketRemindersUncertain).Delete(encodeUint(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("forget %d uncertain reminders: %w", len(ids), err)
	}
	return nil
}

// putReminderIn writes r's record under its id into one of the buckets
// that hold reminders out of the sweep's reach (in flight, uncertain).
func putReminderIn(tx *bolt.Tx, bucket []byte, r storage.Reminder) error {
	raw, err := encodeReminder(r)
	if err != nil {
		return err
	}
	return tx.Bucket(bucket).Put(encodeUint(r.ID), raw)
}

func decodeReminder(k, v []byte) (storage.Reminder, error) {
	var r reminderRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return storage.Reminder{}, fmt.Errorf("decode reminder %d: %w", decodeUint(k), err)
	}
	return r.toReminder(decodeUint(k)), nil
}

// ClaimNotices implements storage.EventStore.
func (db *DB) ClaimNotices(ctx context.Context, eventID uint64, chatID int64) ([]storage.Reminder, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []storage.Reminder
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		out = nil
		keep := func(r storage.Reminder) bool {
			if r.Kind.Notice() {
				out = append(out, r)
				return false
			}
			return true
		}
		return deleteEventReminders(tx, eventID, &chatID, keep)
	})
	if err != nil {
		return nil, fmt.Errorf("claim notices of event %d to %d: %w", eventID, chatID, err)
	}
	return out, nil
}

// PutBackReminders implements storage.ReminderStore: each reminder leaves
// reminders_inflight and is stored again with its indexes. The reminders
// keep their ids, so a log line before and after a restart names the same
// one. Ids are never reused (NextSequence), so a put-back cannot collide.
func (db *DB) PutBackReminders(ctx context.Context, rs []storage.Reminder) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		for _, r := range rs {
			if err := putReminder(tx, r); err != nil {
				return fmt.Errorf("reminder %d: %w", r.ID, err)
			}
			if err := tx.Bucket(bucketRemindersInFlight).Delete(encodeUint(r.ID)); err != nil {
				return fmt.Errorf("reminder %d: %w", r.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put back %d reminders: %w", len(rs), err)
	}
	return nil
}

// AddReminders stores reminders that belong to no change of a booking or
// registration: tests, benchmarks and tools. Product code writes reminders
// inside the transaction of the change they belong to.
func (db *DB) AddReminders(ctx context.Context, rs []storage.Reminder) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := db.bolt.Update(func(tx *bolt.Tx) error { return addReminders(tx, rs) }); err != nil {
		return fmt.Errorf("add %d reminders: %w", len(rs), err)
	}
	return nil
}

// addEventReminders writes the reminders of one person's place at an event.
func addEventReminders(tx *bolt.Tx, e storage.Event, chatID int64, rem storage.ReminderPolicy, now time.Time) error {
	return addReminders(tx, rem.ForEvent(e.ID, chatID, e.Start, now))
}

// rewriteEventReminders replaces the reminders of everyone registered for
// an event whose start moved (regs, the event's registrations). A pending "moved up" notice stays, and its
// person is marked in told: the notice names the event's time when it is
// sent. A pending "time changed" notice goes, since the new move brings its
// own.
func rewriteEventReminders(tx *bolt.Tx, e storage.Event, regs []storage.Registration, rem storage.ReminderPolicy, now time.Time, told map[int64]bool) error {
	keep := func(r storage.Reminder) bool {
		if r.Kind != storage.ReminderEventPromoted {
			return false
		}
		told[r.ChatID] = true
		return true
	}
	if err := deleteEventReminders(tx, e.ID, nil, keep); err != nil {
		return err
	}
	for _, reg := range regs {
		if reg.Status != storage.Registered {
			continue
		}
		if err := addEventReminders(tx, e, reg.ChatID, rem, now); err != nil {
			return err
		}
	}
	return nil
}
