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
// person and records that the file owes a compaction, which rewrites it
// soon (compactSoon) so no erased byte survives in a freed page. The record
// is in the same transaction so that a crash before the compaction leaves
// it owed, and the next Open runs it.
//
// Besides the records, the inbox holds the raw JSON of updates not yet
// handled, with the person's name. They are dropped before compacting; the
// dispatcher's later "done" for them deletes nothing and records only the
// update id. The update that asked to forget may not be stored yet (a batch
// is stored while it is handled): the caller marks it handled first
// (Erase), so it never is.
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
		db.users.changes(tx, chatID)
		if err := tx.Bucket(bucketUsers).Delete(encodeChatID(chatID)); err != nil {
			return err
		}
		if err := deleteConversation(tx, chatID); err != nil {
			return err
		}
		if rep.Registrations, err = deleteRegistrationsOf(tx, chatID); err != nil {
			return err
		}
		// Feedback is anonymised with the bookings it belongs to.
		if rep.Subscription, err = deleteSubscription(tx, chatID); err != nil {
			return err
		}
		if rep.Deliveries, err = deleteDeliveriesOf(tx, chatID); err != nil {
			return err
		}
		if err := eraseFromAudienceLists(tx, chatID); err != nil {
			return err
		}
		if err := scrubBroadcastPositions(tx, chatID); err != nil {
			return err
		}
		if rep.PollAnswers, err = unlinkPollAnswers(tx, chatID); err != nil {
			return err
		}
		if rep.Updates, err = dropUpdatesOf(tx, chatID); err != nil {
			return err
		}
		return markCompactOwed(tx)
	})
	if err != nil {
		return rep, fmt.Errorf("forget %d: %w", chatID, err)
	}
	db.compactSoon()
	return rep, nil
}

// anonymiseBookings strips the person from each of their bookings and drops
// the bookings_by_chat entries; the slot and center indexes name no person
// and stay, so statistics and seat counts are unchanged.
func anonymiseBookings(tx *bolt.Tx, chatID int64) (int, error) {
	prefix := encodeChatID(chatID)
	byChat := tx.Bucket(bucketBookingsByChat)
	keys := keysWithPrefix(byChat, prefix)
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
	// A reminder in flight or uncertain names the person too; the sweep
	// and the digest find nothing to do once it is gone. Both buckets hold
	// only the few reminders of a crash, so a walk costs nothing.
	n := len(doomed)
	for _, bucket := range [][]byte{bucketRemindersInFlight, bucketRemindersUncertain} {
		var keys [][]byte
		err := tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			r, err := decodeReminder(k, v)
			if err != nil {
				return err
			}
			if r.ChatID == chatID {
				keys = append(keys, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
		for _, k := range keys {
			if err := tx.Bucket(bucket).Delete(k); err != nil {
				return 0, err
			}
		}
		n += len(keys)
	}
	return n, nil
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
	keys := keysWithPrefix(byChat, prefix)
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

// deleteSubscription deletes the person's subscription with every index
// entry it could have: the any-topic one and one per topic, whatever the
// record says, so a stale entry cannot outlive the person.
func deleteSubscription(tx *bolt.Tx, chatID int64) (bool, error) {
	subs := tx.Bucket(bucketSubscriptions)
	found := subs.Get(encodeChatID(chatID)) != nil
	idx := tx.Bucket(bucketSubscriptionsByTopic)
	codes := []byte{topicAny}
	for _, t := range storage.AllTopics() {
		codes = append(codes, topicCode(t))
	}
	for _, code := range codes {
		if err := idx.Delete(topicKey(code, chatID)); err != nil {
			return false, err
		}
	}
	return found, subs.Delete(encodeChatID(chatID))
}

// DeliveriesOf implements storage.PrivacyStore through deliveries_by_chat,
// whose keys chatID | broadcastID list the person's in broadcast order.
func (db *DB) DeliveriesOf(ctx context.Context, chatID int64) ([]storage.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []storage.Delivery
	err := db.bolt.View(func(tx *bolt.Tx) error {
		prefix := encodeChatID(chatID)
		deliveries := tx.Bucket(bucketDeliveries)
		c := tx.Bucket(bucketDeliveriesByChat).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			id := decodeUint(k[8:16])
			raw := deliveries.Get(deliveryKey(id, chatID))
			if raw == nil {
				continue // the index outlived its entry; Forget drops both
			}
			d := storage.Delivery{BroadcastID: id}
			d.State, d.Lang = decodeDelivery(raw)
			b, err := getBroadcast(tx, id)
			switch {
			case isNotFound(err):
			case err != nil:
				return err
			default:
				d.At = b.CreatedAt
				d.Version, _, _ = b.VersionFor(d.Lang)
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("deliveries of %d: %w", chatID, err)
	}
	return out, nil
}

// deleteDeliveriesOf deletes the person's deliveries through
// deliveries_by_chat. A delivery still pending in a broadcast that is not
// over leaves its recipients, so the total shrinks; one claimed (the
// message in flight) counts as uncertain, as after a crash, and the sender's
// later outcome finds nothing to record. Outcomes already recorded stay
// in the broadcast's counts.
func deleteDeliveriesOf(tx *bolt.Tx, chatID int64) (int, error) {
	prefix := encodeChatID(chatID)
	byChat := tx.Bucket(bucketDeliveriesByChat)
	keys := keysWithPrefix(byChat, prefix)
	deliveries := tx.Bucket(bucketDeliveries)
	n := 0
	for _, k := range keys {
		id := decodeUint(k[8:16])
		key := deliveryKey(id, chatID)
		if raw := deliveries.Get(key); raw != nil {
			state, _ := decodeDelivery(raw)
			if state == storage.DeliveryPending || state == storage.DeliveryClaimed {
				err := updateProgress(tx, id, func(p *progressRecord) error {
					if storage.BroadcastStatus(p.Status).Final() {
						return nil
					}
					if state == storage.DeliveryPending {
						p.Total--
					} else {
						p.Uncertain++
					}
					return nil
				})
				if err != nil && !isNotFound(err) {
					return 0, err
				}
			}
			if err := deliveries.Delete(key); err != nil {
				return 0, err
			}
			n++
		}
		if err := byChat.Delete(k); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// scrubBroadcastPositions removes the person's chat id from the broadcasts'
// cursor and fill position. Each names the last chat handled, which may be
// the person's even when they were not a recipient (the fill position is
// the last subscriber scanned). A position a broadcast still needs moves
// to the chat before the person's, which resumes at the same place since
// the person's entries are gone; one it no longer needs is cleared.
// Broadcasts are few and their progress records small, so a scan is fine.
// Call it after the person's deliveries and index entries are deleted.
func scrubBroadcastPositions(tx *bolt.Tx, chatID int64) error {
	type fix struct {
		id uint64
		p  progressRecord
	}
	var fixes []fix
	err := tx.Bucket(bucketBroadcastProgress).ForEach(func(k, v []byte) error {
		var p progressRecord
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("decode broadcast progress %d: %w", decodeUint(k), err)
		}
		if (p.HasCursor && p.Cursor == chatID) || (p.HasFilled && p.FilledTo == chatID) {
			fixes = append(fixes, fix{decodeUint(k), p})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, f := range fixes {
		p, status := f.p, storage.BroadcastStatus(f.p.Status)
		if p.HasCursor && p.Cursor == chatID {
			p.Cursor, p.HasCursor = 0, false
			if !status.Final() {
				p.Cursor, p.HasCursor = previousKey(tx.Bucket(bucketDeliveries), encodeUint(f.id), deliveryKey(f.id, chatID))
			}
		}
		if p.HasFilled && p.FilledTo == chatID {
			p.FilledTo, p.HasFilled = 0, false
			if status == storage.BroadcastPreparing {
				b, err := getBroadcast(tx, f.id)
				if err != nil {
					return err
				}
				code := topicAny
				if b.Audience.Topic != "" {
					code = topicCode(b.Audience.Topic)
				}
				p.FilledTo, p.HasFilled = previousKey(tx.Bucket(bucketSubscriptionsByTopic), []byte{code}, topicKey(code, chatID))
			}
		}
		if err := putProgress(tx, f.id, p); err != nil {
			return err
		}
	}
	return nil
}

// previousKey returns the chat id in the last 8 bytes of the last key
// under prefix that sorts before key, and false when there is none.
func previousKey(b *bolt.Bucket, prefix, key []byte) (int64, bool) {
	c := b.Cursor()
	k, _ := c.Seek(key)
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	if k == nil || !bytes.HasPrefix(k, prefix) || len(k) < 8 {
		return 0, false
	}
	return decodeChatID(k[len(k)-8:]), true
}

// CountSubscribers implements storage.PrivacyStore. Topic counts are the
// lengths of the topics' index runs, read without opening a record; the
// districts need each active subscriber's record, read one at a time from
// the any-topic run and counted, never collected.
func (db *DB) CountSubscribers(ctx context.Context) (storage.SubscriberCounts, error) {
	if err := ctx.Err(); err != nil {
		return storage.SubscriberCounts{}, err
	}
	out := storage.SubscriberCounts{ByTopic: map[storage.Topic]int{}, ByDistrict: map[string]int{}}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSubscriptionsByTopic).Cursor()
		run := func(code byte, f func(chatID int64) error) error {
			prefix := []byte{code}
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				if len(k) != 9 {
					continue
				}
				if err := f(decodeChatID(k[1:])); err != nil {
					return err
				}
			}
			return nil
		}
		for _, t := range storage.AllTopics() {
			if err := run(topicCode(t), func(int64) error { out.ByTopic[t]++; return nil }); err != nil {
				return err
			}
		}
		return run(topicAny, func(chatID int64) error {
			s, err := getSubscription(tx, chatID)
			if isNotFound(err) {
				return nil
			}
			if err != nil {
				return err
			}
			out.Total++
			out.ByDistrict[s.DistrictID]++
			return nil
		})
	})
	if err != nil {
		return storage.SubscriberCounts{}, fmt.Errorf("count subscribers: %w", err)
	}
	return out, nil
}

// eraseFromAudienceLists blanks the person's entries in the recipient lists
// of broadcasts still being prepared: the lists are read by position, so
// the entry stays, as zeros that match no subscriber and are skipped.
func eraseFromAudienceLists(tx *bolt.Tx, chatID int64) error {
	lists := tx.Bucket(bucketBroadcastSnapshots)
	who := encodeChatID(chatID)
	var changed [][2][]byte
	err := lists.ForEach(func(k, v []byte) error {
		var blanked []byte
		for i := 0; i+snapshotEntry <= len(v); i += snapshotEntry {
			if !bytes.Equal(v[i:i+8], who) {
				continue
			}
			if blanked == nil {
				blanked = append([]byte(nil), v...) // bbolt's values are read-only
			}
			clear(blanked[i : i+snapshotEntry])
		}
		if blanked != nil {
			changed = append(changed, [2][]byte{append([]byte(nil), k...), blanked})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, kv := range changed {
		if err := lists.Put(kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}
