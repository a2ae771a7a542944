package boltdb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

// AllBookingsOf implements storage.PrivacyStore: the person's whole part of
// bookings_by_chat.
func (db *DB) AllBookingsOf(ctx context.Context, chatID int64) ([]storage.Booking, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []storage.Booking
	err := db.bolt.View(func(tx *bolt.Tx) error {
		prefix := encodeChatID(chatID)
		c := tx.Bucket(bucketBookingsByChat).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			b, err := getBooking(tx, decodeUint(k[16:24]))
			if err != nil {
				return err
			}
			out = append(out, b)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bookings of %d: %w", chatID, err)
	}
	return out, nil
}

// AllBookingsOn implements storage.PrivacyStore. It skips through
// bookings_by_center_day center by center: a seek to the range's start
// within each center, a walk to its end, then a seek past the center. The
// cost is the bookings in range plus one seek per center ever booked, not
// the whole index.
func (db *DB) AllBookingsOn(ctx context.Context, from, to time.Time) ([]storage.Booking, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []storage.Booking
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketBookingsByCenterDay).Cursor()
		k, _ := c.First()
		for k != nil {
			if len(k) != idWidth+16 {
				return fmt.Errorf("bookings_by_center_day key of %d bytes", len(k))
			}
			center := append([]byte(nil), k[:idWidth]...)
			end := compositeKey(center, encodeTime(to))
			for k, _ = c.Seek(compositeKey(center, encodeTime(from))); k != nil && bytes.Compare(k, end) < 0; k, _ = c.Next() {
				b, err := getBooking(tx, decodeUint(k[idWidth+8:]))
				if err != nil {
					return err
				}
				out = append(out, b)
			}
			// The first key after every key of this center.
			k, _ = c.Seek(compositeKey(center, bytes.Repeat([]byte{0xff}, 16)))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bookings from %d to %d: %w", from.Unix(), to.Unix(), err)
	}
	slices.SortStableFunc(out, func(a, b storage.Booking) int { return a.Start.Compare(b.Start) })
	return out, nil
}

// Forget implements storage.PrivacyStore: one write transaction erases the
// person, then Compact rewrites the file so no erased byte survives in a
// freed page.
//
// Besides the records, the inbox holds the raw JSON of updates not yet
// handled, with the person's name: the update that asked to forget is one
// of them. They are dropped before compacting; the dispatcher's later "done"
// for them deletes nothing and records only the update id.
func (db *DB) Forget(ctx context.Context, chatID int64) (storage.ForgetReport, error) {
	if err := ctx.Err(); err != nil {
		return storage.ForgetReport{}, err
	}
	var rep storage.ForgetReport
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		rep = storage.ForgetReport{}
		var err error
		if rep.Anonymised, err = anonymiseBookings(tx, chatID); err != nil {
			return err
		}
		if rep.Reminders, err = deleteRemindersOfChat(tx, chatID); err != nil {
			return err
		}
		if err := tx.Bucket(bucketUsers).Delete(encodeChatID(chatID)); err != nil {
			return err
		}
		if err := deleteConversation(tx, chatID); err != nil {
			return err
		}
		if rep.Registrations, err = deleteRegistrationsOf(tx, chatID); err != nil {
			return err
		}
		// TODO(issue 7): delete subscriptions of the person once that
		// feature is merged. Feedback is anonymised with the bookings.
		rep.Updates, err = dropUpdatesOf(tx, chatID)
		return err
	})
	if err != nil {
		return rep, fmt.Errorf("forget %d: %w", chatID, err)
	}
	if err := db.Compact(); err != nil {
		return rep, fmt.Errorf("forget %d: %w", chatID, err)
	}
	return rep, nil
}

// anonymiseBookings strips the person from each of their bookings and drops
// the bookings_by_chat entries; the slot and center indexes name no person
// and stay, so statistics and seat counts are unchanged.
func anonymiseBookings(tx *bolt.Tx, chatID int64) (int, error) {
	prefix := encodeChatID(chatID)
	byChat := tx.Bucket(bucketBookingsByChat)
	var keys [][]byte
	c := byChat.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, append([]byte(nil), k...))
	}
	for _, k := range keys {
		id := decodeUint(k[16:24])
		b, err := getBooking(tx, id)
		if err != nil {
			return 0, err
		}
		if err := deleteRemindersOf(tx, id); err != nil {
			return 0, err
		}
		if err := anonymiseFeedback(tx, id); err != nil {
			return 0, err
		}
		if err := byChat.Delete(k); err != nil {
			return 0, err
		}
		b.ChatID, b.Name, b.Username, b.Phone, b.Lang = 0, "", "", "", ""
		if err := putBooking(tx, b); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// deleteRemindersOfChat deletes every reminder addressed to the person,
// whatever it belongs to (events too). Pending reminders are few: the
// sweep removes them as they fall due.
func deleteRemindersOfChat(tx *bolt.Tx, chatID int64) (int, error) {
	var doomed []storage.Reminder
	err := tx.Bucket(bucketReminders).ForEach(func(k, v []byte) error {
		var r reminderRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decode reminder %d: %w", decodeUint(k), err)
		}
		if r.ChatID == chatID {
			doomed = append(doomed, r.toReminder(decodeUint(k)))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, r := range doomed {
		if err := deleteReminder(tx, r); err != nil {
			return 0, err
		}
	}
	return len(doomed), nil
}

// dropUpdatesOf deletes the inbox entries sent by or to the person.
func dropUpdatesOf(tx *bolt.Tx, chatID int64) (int, error) {
	inbox := tx.Bucket(bucketInbox)
	var doomed [][]byte
	err := inbox.ForEach(func(k, v []byte) error {
		if updateConcerns(v, chatID) {
			doomed = append(doomed, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range doomed {
		if err := inbox.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(doomed), nil
}

// updateConcerns reports whether a raw Telegram update names the chat or
// user id anywhere as "from", "chat" or "user" (message, callback query,
// member changes...). An update that does not decode is kept: it cannot be
// told apart, and the dispatcher drops it anyway.
func updateConcerns(raw []byte, id int64) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return false
	}
	want := json.Number(fmt.Sprint(id))
	var walk func(any) bool
	walk = func(v any) bool {
		switch t := v.(type) {
		case map[string]any:
			for k, child := range t {
				if k == "from" || k == "chat" || k == "user" {
					if m, ok := child.(map[string]any); ok && m["id"] == want {
						return true
					}
				}
				if walk(child) {
					return true
				}
			}
		case []any:
			for _, child := range t {
				if walk(child) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

// deleteRegistrationsOf deletes the person's event registrations. The
// events' counts stay as they are: the bot unregisters the person from
// open events first (moving the waitlist up), so what is left are past or
// cancelled events, whose counts are their history.
func deleteRegistrationsOf(tx *bolt.Tx, chatID int64) (int, error) {
	prefix := encodeChatID(chatID)
	byChat := tx.Bucket(bucketRegistrationsByChat)
	var keys [][]byte
	c := byChat.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, append([]byte(nil), k...))
	}
	for _, k := range keys {
		if err := tx.Bucket(bucketRegistrations).Delete(registrationKey(decodeUint(k[8:16]), chatID)); err != nil {
			return 0, err
		}
		if err := byChat.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}
