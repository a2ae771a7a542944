package boltdb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

type bookingRecord struct {
	ChatID   int64  `json:"chat_id"`
	Name     string `json:"name,omitempty"`
	Username string `json:"username,omitempty"`
	Phone    string `json:"phone,omitempty"`
	// Anonymous was added later; older records read as false, as they
	// were booked with the name shown.
	Anonymous     bool      `json:"anonymous,omitempty"`
	Lang          string    `json:"lang,omitempty"`
	TypeID        string    `json:"type"`
	CenterID      string    `json:"center"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	Status        string    `json:"status"`
	CancelReason  string    `json:"cancel_reason,omitempty"`
	StaffNotified bool      `json:"staff_notified,omitempty"`
	// FeedbackQueued was added later; older records read as false, which
	// is right for them: no correction of a mark existed then.
	FeedbackQueued bool      `json:"feedback_queued,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func bookingToRecord(b storage.Booking) bookingRecord {
	return bookingRecord{
		ChatID: b.ChatID, Name: b.Name, Username: b.Username, Phone: b.Phone, Anonymous: b.Anonymous, Lang: string(b.Lang),
		TypeID: b.TypeID, CenterID: b.CenterID, Start: b.Start.UTC(), End: b.End.UTC(),
		Status: string(b.Status), CancelReason: b.CancelReason, StaffNotified: b.StaffNotified,
		FeedbackQueued: b.FeedbackQueued, CreatedAt: b.CreatedAt.UTC(), UpdatedAt: b.UpdatedAt.UTC(),
	}
}

func (r bookingRecord) toBooking(id uint64) storage.Booking {
	return storage.Booking{
		ID: id, ChatID: r.ChatID, Name: r.Name, Username: r.Username, Phone: r.Phone, Anonymous: r.Anonymous, Lang: storage.Lang(r.Lang),
		TypeID: r.TypeID, CenterID: r.CenterID, Start: r.Start, End: r.End,
		Status: storage.BookingStatus(r.Status), CancelReason: r.CancelReason, StaffNotified: r.StaffNotified,
		FeedbackQueued: r.FeedbackQueued, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

func getBooking(tx *bolt.Tx, id uint64) (storage.Booking, error) {
	r, err := getRecord[bookingRecord](tx, bucketBookings, encodeUint(id), "booking %d", id)
	if err != nil {
		return storage.Booking{}, err
	}
	return r.toBooking(id), nil
}

func putBooking(tx *bolt.Tx, b storage.Booking) error {
	raw, err := json.Marshal(bookingToRecord(b))
	if err != nil {
		return fmt.Errorf("encode booking %d: %w", b.ID, err)
	}
	return tx.Bucket(bucketBookings).Put(encodeUint(b.ID), raw)
}

// indexBooking writes the index entries of b: by chat and by center always,
// by slot unless cancelled (an attended or no-show booking used its seat).
// An anonymised booking (ChatID 0, see Forget) belongs to nobody and has no
// entry by chat.
func indexBooking(tx *bolt.Tx, b storage.Booking) error {
	if b.ChatID != 0 {
		if err := tx.Bucket(bucketBookingsByChat).Put(chatBookingKey(b.ChatID, b.Start, b.ID), nil); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bucketBookingsByCenterDay).Put(centerDayKey(b.CenterID, b.Start, b.ID), nil); err != nil {
		return err
	}
	if b.Status != storage.BookingCancelled {
		return tx.Bucket(bucketBookingsBySlot).Put(slotKey(b.CenterID, b.TypeID, b.Start, b.ID), nil)
	}
	return nil
}

func unindexBooking(tx *bolt.Tx, b storage.Booking) error {
	if err := tx.Bucket(bucketBookingsByChat).Delete(chatBookingKey(b.ChatID, b.Start, b.ID)); err != nil {
		return err
	}
	if err := tx.Bucket(bucketBookingsByCenterDay).Delete(centerDayKey(b.CenterID, b.Start, b.ID)); err != nil {
		return err
	}
	return tx.Bucket(bucketBookingsBySlot).Delete(slotKey(b.CenterID, b.TypeID, b.Start, b.ID))
}

// slotCount counts the seats taken in one slot: a prefix walk over at most
// the slot's capacity keys.
func slotCount(tx *bolt.Tx, centerID, typeID string, start time.Time) int {
	prefix := slotPrefix(centerID, typeID, start)
	c := tx.Bucket(bucketBookingsBySlot).Cursor()
	n := 0
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	return n
}

// activeOf returns the person's active bookings starting after from, except
// the one with id skip.
func activeOf(tx *bolt.Tx, chatID int64, from time.Time, skip uint64) ([]storage.Booking, error) {
	prefix := encodeChatID(chatID)
	c := tx.Bucket(bucketBookingsByChat).Cursor()
	var out []storage.Booking
	for k, _ := c.Seek(compositeKey(prefix, encodeTime(from))); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		id := decodeUint(k[16:24])
		if id == skip {
			continue
		}
		b, err := getBooking(tx, id)
		if err != nil {
			return nil, err
		}
		if b.Active() && !b.Start.Before(from) {
			out = append(out, b)
		}
	}
	return out, nil
}

// checkSlot applies the rules of BookRules to a booking about to take the
// slot running from start to end; skip is a booking of the person being
// moved. The closures and extra sessions it reads are in the same write
// transaction as the booking, so a closure or a session's removal
// committed a moment earlier is seen, and one committed a moment later
// finds the booking (bbolt has one writer).
func checkSlot(tx *bolt.Tx, chatID int64, centerID, typeID string, start, end time.Time, rules storage.BookRules, skip uint64) error {
	if start.Before(rules.NotBefore) || !start.After(rules.Now) {
		return fmt.Errorf("slot %s starts before %s: %w", start.UTC().Format(time.RFC3339), rules.NotBefore.UTC().Format(time.RFC3339), storage.ErrSlotClosed)
	}
	if !end.After(start) {
		end = start.Add(time.Second) // a slot is never empty: its start is inside it
	}
	closure, closed, err := closureCovering(tx, centerID, typeID, start, end)
	if err != nil {
		return err
	}
	if closed {
		return fmt.Errorf("closure %d: %w", closure.ID, storage.ErrClosedByCenter)
	}
	mine, err := activeOf(tx, chatID, rules.Now, skip)
	if err != nil {
		return err
	}
	for _, b := range mine {
		if b.Start.Equal(start) {
			return fmt.Errorf("person's booking %d: %w", b.ID, storage.ErrAlreadyBooked)
		}
	}
	if rules.MaxActive > 0 && len(mine) >= rules.MaxActive {
		return fmt.Errorf("%d active bookings of %d: %w", len(mine), rules.MaxActive, storage.ErrLimit)
	}
	places, err := sessionPlaces(tx, centerID, typeID, start)
	if err != nil {
		return err
	}
	if n, capacity := slotCount(tx, centerID, typeID, start), rules.Capacity+places; n >= capacity {
		return fmt.Errorf("slot holds %d of %d: %w", n, capacity, storage.ErrFull)
	}
	return nil
}

// Book implements storage.BookingStore. The checks and the write are one
// bbolt write transaction (never Batch, whose function may run twice and
// whose failure would fail unrelated bookings): bbolt's single writer makes
// the capacity rule race-free.
func (db *DB) Book(ctx context.Context, b storage.Booking, rules storage.BookRules) (storage.Booking, error) {
	if err := ctx.Err(); err != nil {
		return storage.Booking{}, err
	}
	err := db.batchCheck(func(tx *bolt.Tx) error {
		if err := checkSlot(tx, b.ChatID, b.CenterID, b.TypeID, b.Start, b.End, rules, 0); err != nil {
			return err
		}
		id, err := tx.Bucket(bucketBookings).NextSequence()
		if err != nil {
			return err
		}
		b.ID = id
		b.Status = storage.BookingBooked
		b.CancelReason = ""
		b.CreatedAt, b.UpdatedAt = rules.Now.UTC(), rules.Now.UTC()
		b.Start, b.End = b.Start.UTC(), b.End.UTC()
		if err := putBooking(tx, b); err != nil {
			return err
		}
		if err := indexBooking(tx, b); err != nil {
			return err
		}
		return addReminders(tx, rules.Reminders.ForBooking(b, rules.Now))
	})
	if err != nil {
		return storage.Booking{}, fmt.Errorf("book %s/%s at %d for %d: %w", b.CenterID, b.TypeID, b.Start.Unix(), b.ChatID, err)
	}
	return b, nil
}

// Cancel implements storage.BookingStore.
func (db *DB) Cancel(ctx context.Context, id uint64, reason string, now time.Time) (storage.Booking, error) {
	if err := ctx.Err(); err != nil {
		return storage.Booking{}, err
	}
	var out storage.Booking
	err := db.batchCheck(func(tx *bolt.Tx) error {
		b, err := getBooking(tx, id)
		if err != nil {
			return err
		}
		out = b
		if !b.Active() {
			return fmt.Errorf("booking is %s: %w", b.Status, storage.ErrBookingSettled)
		}
		// A booking under way or over is marked by staff, not cancelled.
		if !b.Start.After(now) {
			return fmt.Errorf("booking at %s: %w", b.Start.Format(time.RFC3339), storage.ErrBookingStarted)
		}
		out, err = cancelBooking(tx, b, reason, now)
		return err
	})
	if err != nil {
		return out, fmt.Errorf("cancel booking %d: %w", id, err)
	}
	return out, nil
}

// cancelBooking cancels the active booking b with a reason code: frees its
// seat, deletes its reminders. Cancel and the closures share it, so a
// booking a closure cancels is cancelled exactly as staff would.
func cancelBooking(tx *bolt.Tx, b storage.Booking, reason string, now time.Time) (storage.Booking, error) {
	if err := unindexBooking(tx, b); err != nil {
		return b, err
	}
	b.Status, b.CancelReason, b.UpdatedAt, b.StaffNotified = storage.BookingCancelled, reason, now.UTC(), false
	if err := putBooking(tx, b); err != nil {
		return b, err
	}
	if err := indexBooking(tx, b); err != nil {
		return b, err
	}
	return b, deleteRemindersOf(tx, b.ID)
}

// Reschedule implements storage.BookingStore.
func (db *DB) Reschedule(ctx context.Context, id uint64, start, end time.Time, rules storage.BookRules) (old, moved storage.Booking, err error) {
	if err := ctx.Err(); err != nil {
		return old, moved, err
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := getBooking(tx, id)
		if err != nil {
			return err
		}
		old = b
		if !b.Active() {
			return fmt.Errorf("booking is %s: %w", b.Status, storage.ErrBookingSettled)
		}
		// A booking that began meanwhile stays where it is: moving it would
		// rewrite a consultation that is under way or over.
		if !b.Start.After(rules.Now) {
			return fmt.Errorf("booking at %s: %w", b.Start.Format(time.RFC3339), storage.ErrBookingStarted)
		}
		if b.Start.Equal(start) {
			return fmt.Errorf("booking %d: %w", id, storage.ErrAlreadyBooked)
		}
		if err := checkSlot(tx, b.ChatID, b.CenterID, b.TypeID, start, end, rules, id); err != nil {
			return err
		}
		if err := unindexBooking(tx, b); err != nil {
			return err
		}
		b.Start, b.End, b.UpdatedAt, b.StaffNotified = start.UTC(), end.UTC(), rules.Now.UTC(), false
		if err := putBooking(tx, b); err != nil {
			return err
		}
		if err := indexBooking(tx, b); err != nil {
			return err
		}
		if err := deleteRemindersOf(tx, id); err != nil {
			return err
		}
		moved = b
		return addReminders(tx, rules.Reminders.ForBooking(b, rules.Now))
	})
	if err != nil {
		return old, storage.Booking{}, fmt.Errorf("reschedule booking %d: %w", id, err)
	}
	return old, moved, nil
}

// SetStatus implements storage.BookingStore.
func (db *DB) SetStatus(ctx context.Context, id uint64, status storage.BookingStatus, now time.Time) (storage.Booking, error) {
	if err := ctx.Err(); err != nil {
		return storage.Booking{}, err
	}
	if status != storage.BookingAttended && status != storage.BookingNoShow {
		return storage.Booking{}, fmt.Errorf("set booking %d to %q: not a staff status", id, status)
	}
	var out storage.Booking
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := getBooking(tx, id)
		if err != nil {
			return err
		}
		out = b
		if b.Status == status || b.Status == storage.BookingCancelled {
			return fmt.Errorf("booking is %s: %w", b.Status, storage.ErrBookingSettled)
		}
		// Nobody can have come, or failed to come, to a consultation that
		// has not begun.
		if now.Before(b.Start) {
			return fmt.Errorf("booking starts at %s: %w", b.Start.Format(time.RFC3339), storage.ErrBookingNotStarted)
		}
		// A correction away from attended takes back a question still
		// waiting; one the sweep already claimed has gone out, so the
		// booking stays FeedbackQueued and never gets a second. (Judged by
		// the reminder, not the flag, so bookings marked before the flag
		// existed are covered too.)
		rs, err := remindersOf(tx, id)
		if err != nil {
			return err
		}
		if b.Status == storage.BookingAttended {
			b.FeedbackQueued = !slices.ContainsFunc(rs, func(r storage.Reminder) bool { return r.Kind == storage.ReminderFeedback })
		}
		for _, r := range rs {
			if err := deleteReminder(tx, r); err != nil {
				return err
			}
		}
		// The seat stays taken: a marked booking is over, or under way.
		b.Status, b.UpdatedAt = status, now.UTC()
		var feedback []storage.Reminder
		if status == storage.BookingAttended && !b.FeedbackQueued {
			b.FeedbackQueued = true
			feedback = append(feedback, storage.FeedbackReminder(b, now))
		}
		if err := putBooking(tx, b); err != nil {
			return err
		}
		out = b
		return addReminders(tx, feedback)
	})
	if err != nil {
		return out, fmt.Errorf("set booking %d to %s: %w", id, status, err)
	}
	return out, nil
}

// MarkStaffNotified implements storage.BookingStore. Status and start are
// compared beside UpdatedAt so that two changes within one clock tick still
// differ.
func (db *DB) MarkStaffNotified(ctx context.Context, seen storage.Booking) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	marked := false
	err := db.bolt.Batch(func(tx *bolt.Tx) error {
		marked = false // Batch may run the function again
		b, err := getBooking(tx, seen.ID)
		if err != nil {
			return err
		}
		if !b.UpdatedAt.Equal(seen.UpdatedAt) || b.Status != seen.Status || !b.Start.Equal(seen.Start) {
			return nil
		}
		marked = true
		if b.StaffNotified {
			return nil
		}
		b.StaffNotified = true
		return putBooking(tx, b)
	})
	if err != nil {
		return false, fmt.Errorf("mark booking %d staff notified: %w", seen.ID, err)
	}
	return marked, nil
}

// Booking implements storage.BookingStore.
func (db *DB) Booking(ctx context.Context, id uint64) (storage.Booking, error) {
	return viewOne(ctx, db, func(tx *bolt.Tx) (storage.Booking, error) { return getBooking(tx, id) })
}

// BookingsOf implements storage.BookingStore: a seek into the person's part
// of bookings_by_chat, so its cost does not grow with other people's
// bookings.
func (db *DB) BookingsOf(ctx context.Context, chatID int64, from time.Time) ([]storage.Booking, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []storage.Booking
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		out, err = activeOf(tx, chatID, from, 0)
		return err
	})
	return out, err
}

// SlotCounts implements storage.BookingStore: one range walk over the
// center and type's part of bookings_by_slot.
func (db *DB) SlotCounts(ctx context.Context, centerID, typeID string, from, to time.Time) (map[int64]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make(map[int64]int)
	err := db.bolt.View(func(tx *bolt.Tx) error {
		prefix := compositeKey(encodeCatalogID(centerID), encodeCatalogID(typeID))
		end := compositeKey(prefix, encodeTime(to))
		c := tx.Bucket(bucketBookingsBySlot).Cursor()
		for k, _ := c.Seek(compositeKey(prefix, encodeTime(from))); k != nil && bytes.Compare(k, end) < 0; k, _ = c.Next() {
			out[int64(decodeUint(k[2*idWidth:2*idWidth+8]))]++
		}
		return nil
	})
	return out, err
}

// BookingsOn implements storage.BookingStore.
func (db *DB) BookingsOn(ctx context.Context, centerIDs []string, from, to time.Time) ([]storage.Booking, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []storage.Booking
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketBookingsByCenterDay).Cursor()
		for _, center := range centerIDs {
			prefix := encodeCatalogID(center)
			end := compositeKey(prefix, encodeTime(to))
			for k, _ := c.Seek(compositeKey(prefix, encodeTime(from))); k != nil && bytes.Compare(k, end) < 0; k, _ = c.Next() {
				b, err := getBooking(tx, decodeUint(k[idWidth+8:]))
				if err != nil {
					return err
				}
				out = append(out, b)
			}
		}
		return nil
	})
	slices.SortStableFunc(out, func(a, b storage.Booking) int { return a.Start.Compare(b.Start) })
	return out, err
}

// jsonBooking encodes a booking record as putBooking does.
func jsonBooking(b storage.Booking) ([]byte, error) { return json.Marshal(bookingToRecord(b)) }

// batchCheck runs fn in a batched write transaction, so bookings made at the
// same moment share one commit (one fsync) instead of queueing for the
// single writer one by one; bbolt runs the batch's functions one after
// another in one transaction, so every capacity check still sees the seats
// the earlier ones took. fn must make all its checks before its first
// write: a refusal it returns (a storage sentinel error) then has written
// nothing and is handed back without failing the batch, which would make
// bbolt rerun everyone else's function alone.
func (db *DB) batchCheck(fn func(tx *bolt.Tx) error) error {
	var refused error
	err := db.bolt.Batch(func(tx *bolt.Tx) error {
		refused = nil
		err := fn(tx)
		if isRefusal(err) {
			refused = err
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	return refused
}

// isRefusal reports whether err is a decision of the store rather than a
// failure of the database.
func isRefusal(err error) bool {
	return errors.Is(err, storage.ErrFull) || errors.Is(err, storage.ErrLimit) ||
		errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound)
}
