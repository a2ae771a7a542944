package boltdb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

type entityRecord struct {
	Type     string `json:"type"`
	Offset   int    `json:"offset"`
	Length   int    `json:"length"`
	URL      string `json:"url,omitempty"`
	Language string `json:"language,omitempty"`
	UserID   int64  `json:"user_id,omitempty"`
}

type versionRecord struct {
	Text     string           `json:"text,omitempty"`
	Entities []entityRecord   `json:"entities,omitempty"`
	PhotoID  string           `json:"photo_id,omitempty"`
	Buttons  [][]buttonRecord `json:"buttons,omitempty"`
}

type buttonRecord struct {
	Text string `json:"text"`
	Data string `json:"data"`
}

// broadcastRecord is what does not change while a broadcast runs.
type broadcastRecord struct {
	AdminChatID       int64                    `json:"admin_chat_id"`
	ProgressMessageID int                      `json:"progress_message_id,omitempty"`
	Versions          map[string]versionRecord `json:"versions"`
	Topic             string                   `json:"topic,omitempty"`
	DistrictID        string                   `json:"district_id,omitempty"`
	Lang              string                   `json:"lang,omitempty"`
	CreatedAt         time.Time                `json:"created_at"`
	PollID            uint64                   `json:"poll_id,omitempty"`
}

// progressRecord is what changes with every outcome; it is kept apart so
// that recording one costs a small write, not a rewrite of the texts.
type progressRecord struct {
	Status    string `json:"status"`
	Total     int    `json:"total"`
	Sent      int    `json:"sent,omitempty"`
	Blocked   int    `json:"blocked,omitempty"`
	Failed    int    `json:"failed,omitempty"`
	Uncertain int    `json:"uncertain,omitempty"`
	Cursor    int64  `json:"cursor,omitempty"`
	HasCursor bool   `json:"has_cursor,omitempty"`
	// Snapshot: the recipients fixed at confirm wait in
	// broadcast_snapshots; Filled of them are deliveries already.
	Snapshot bool `json:"snapshot,omitempty"`
	Filled   int  `json:"filled,omitempty"`
	// FilledTo is the fill position in the subscriber index of a broadcast
	// confirmed before recipients were fixed at confirm.
	FilledTo   int64     `json:"filled_to,omitempty"`
	HasFilled  bool      `json:"has_filled,omitempty"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

func broadcastToRecord(b storage.Broadcast) broadcastRecord {
	r := broadcastRecord{
		AdminChatID: b.AdminChatID, ProgressMessageID: b.ProgressMessageID, Versions: map[string]versionRecord{},
		Topic: string(b.Audience.Topic), DistrictID: b.Audience.DistrictID, Lang: string(b.Audience.Lang),
		CreatedAt: b.CreatedAt.UTC(), PollID: b.PollID,
	}
	for lang, v := range b.Versions {
		vr := versionRecord{Text: v.Text, PhotoID: v.PhotoID}
		for _, e := range v.Entities {
			vr.Entities = append(vr.Entities, entityRecord(e))
		}
		for _, row := range v.Buttons {
			var rr []buttonRecord
			for _, btn := range row {
				rr = append(rr, buttonRecord(btn))
			}
			vr.Buttons = append(vr.Buttons, rr)
		}
		r.Versions[string(lang)] = vr
	}
	return r
}

func (r broadcastRecord) toBroadcast(id uint64, p progressRecord) storage.Broadcast {
	b := storage.Broadcast{
		ID: id, AdminChatID: r.AdminChatID, ProgressMessageID: r.ProgressMessageID, Versions: map[storage.Lang]storage.Version{},
		Audience:  storage.Audience{Topic: storage.Topic(r.Topic), DistrictID: r.DistrictID, Lang: storage.Lang(r.Lang)},
		Status:    storage.BroadcastStatus(p.Status),
		Total:     p.Total,
		Counts:    storage.DeliveryCounts{Sent: p.Sent, Blocked: p.Blocked, Failed: p.Failed, Uncertain: p.Uncertain},
		Cursor:    p.Cursor,
		HasCursor: p.HasCursor,
		CreatedAt: r.CreatedAt, FinishedAt: p.FinishedAt, PollID: r.PollID,
	}
	for lang, vr := range r.Versions {
		v := storage.Version{Text: vr.Text, PhotoID: vr.PhotoID}
		for _, e := range vr.Entities {
			v.Entities = append(v.Entities, storage.Entity(e))
		}
		for _, rr := range vr.Buttons {
			var row []storage.Button
			for _, btn := range rr {
				row = append(row, storage.Button(btn))
			}
			v.Buttons = append(v.Buttons, row)
		}
		b.Versions[storage.Lang(lang)] = v
	}
	return b
}

func getBroadcast(tx *bolt.Tx, id uint64) (storage.Broadcast, error) {
	r, err := getRecord[broadcastRecord](tx, bucketBroadcasts, encodeUint(id), "broadcast %d", id)
	if err != nil {
		return storage.Broadcast{}, err
	}
	p, err := getProgress(tx, id)
	if err != nil {
		return storage.Broadcast{}, err
	}
	return r.toBroadcast(id, p), nil
}

func getProgress(tx *bolt.Tx, id uint64) (progressRecord, error) {
	return getRecord[progressRecord](tx, bucketBroadcastProgress, encodeUint(id), "broadcast progress %d", id)
}

func putProgress(tx *bolt.Tx, id uint64, p progressRecord) error {
	raw, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode broadcast progress %d: %w", id, err)
	}
	return tx.Bucket(bucketBroadcastProgress).Put(encodeUint(id), raw)
}

// updateProgress loads, changes and stores a broadcast's progress.
func updateProgress(tx *bolt.Tx, id uint64, change func(*progressRecord) error) error {
	p, err := getProgress(tx, id)
	if err != nil {
		return err
	}
	if err := change(&p); err != nil {
		return err
	}
	return putProgress(tx, id, p)
}

// CreateBroadcast implements storage.BroadcastStore. The recipients are
// fixed here, at confirm: one read transaction, which sees the
// subscriptions as they were at one instant, lists the audience, and the
// write that stores the job stores that list beside it. AddRecipients then
// turns the list into deliveries a page at a time, so nobody who subscribes
// or unsubscribes in the meantime changes the audience.
//
// The read decodes every subscription of the audience; in a read
// transaction it holds up no writer. A /forget that commits between the
// read and the write is caught there (see createBroadcast).
func (db *DB) CreateBroadcast(ctx context.Context, b storage.Broadcast) (storage.Broadcast, error) {
	if err := ctx.Err(); err != nil {
		return storage.Broadcast{}, err
	}
	var snap []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		snap, err = audienceSnapshot(tx, b.Audience)
		return err
	})
	if err != nil {
		return storage.Broadcast{}, fmt.Errorf("read broadcast audience: %w", err)
	}
	return db.createBroadcast(b, snap)
}

// snapshotEntry is the size of one recipient in a broadcast_snapshots
// value: chatID (8) | lang (2 ASCII).
const snapshotEntry = 10

// audienceSnapshot lists the subscribers of a, in chat order, as a
// broadcast_snapshots value: about 1 MB per 100,000 people. walkAudience
// gives every recipient a valid language, two letters.
func audienceSnapshot(tx *bolt.Tx, a storage.Audience) ([]byte, error) {
	var snap []byte
	_, _, err := walkAudience(tx, a, 0, false, -1, func(r storage.Recipient) error {
		snap = append(append(snap, encodeChatID(r.ChatID)...), r.Lang...)
		return nil
	})
	return snap, err
}

// createBroadcast stores the job, in status preparing, with the recipients
// snap fixed for it, in one write transaction: a crash leaves either both
// or neither.
//
// snap was read before this transaction; a person forgotten in between is
// in it, and Forget's eraseFromAudienceLists, which blanks only stored
// lists, did not see it. They are dropped here, against the subscriptions
// bucket (Forget deletes the record; an unsubscribe keeps it): one lookup
// per recipient, no decoding.
func (db *DB) createBroadcast(b storage.Broadcast, snap []byte) (storage.Broadcast, error) {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var err error
		b, err = insertBroadcast(tx, b, snap)
		return err
	})
	return b, err
}

// insertBroadcast stores the job b in status preparing with its recipient
// list snap, less whoever was forgotten since it was read, and returns b
// with its ID. SendPoll and SendPollSummary call it inside their own
// transaction, so a poll and its broadcast are written together.
func insertBroadcast(tx *bolt.Tx, b storage.Broadcast, snap []byte) (storage.Broadcast, error) {
	snap = withoutForgotten(tx, snap)
	bucket := tx.Bucket(bucketBroadcasts)
	id, err := bucket.NextSequence()
	if err != nil {
		return b, err
	}
	raw, err := json.Marshal(broadcastToRecord(b))
	if err != nil {
		return b, fmt.Errorf("encode broadcast: %w", err)
	}
	if err := bucket.Put(encodeUint(id), raw); err != nil {
		return b, err
	}
	if err := tx.Bucket(bucketBroadcastSnapshots).Put(encodeUint(id), snap); err != nil {
		return b, err
	}
	b.ID, b.Status, b.Total, b.Counts, b.HasCursor = id, storage.BroadcastPreparing, 0, storage.DeliveryCounts{}, false
	return b, putProgress(tx, id, progressRecord{Status: string(storage.BroadcastPreparing), Snapshot: true})
}

// withoutForgotten returns the entries of the recipient list snap whose
// subscription record still exists.
func withoutForgotten(tx *bolt.Tx, snap []byte) []byte {
	subs := tx.Bucket(bucketSubscriptions)
	kept := make([]byte, 0, len(snap))
	for i := 0; i+snapshotEntry <= len(snap); i += snapshotEntry {
		if e := snap[i : i+snapshotEntry]; subs.Get(e[:8]) != nil {
			kept = append(kept, e...)
		}
	}
	return kept
}

// AddRecipients implements storage.BroadcastStore. One call is one write
// transaction that writes at most max deliveries from the recipients fixed
// at CreateBroadcast, resuming where the last call stopped, so a crash
// while preparing resumes with the same audience. The last call drops the
// list and makes the broadcast running: nothing is sent before every
// recipient is written.
func (db *DB) AddRecipients(ctx context.Context, id uint64, max int) (added int, done bool, err error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		added, done = 0, false
		p, err := getProgress(tx, id)
		if err != nil {
			return err
		}
		if storage.BroadcastStatus(p.Status) != storage.BroadcastPreparing {
			done = true
			return nil
		}
		var end bool
		if p.Snapshot {
			added, end, err = fillFromSnapshot(tx, id, &p, max)
		} else {
			added, end, err = fillFromIndex(tx, id, &p, max)
		}
		if err != nil {
			return err
		}
		p.Total += added
		if end {
			p.Status = string(storage.BroadcastRunning)
			done = true
		}
		return putProgress(tx, id, p)
	})
	return added, done, err
}

// fillFromSnapshot writes up to max deliveries from the broadcast's stored
// recipients, from entry p.Filled on, and reports whether the list is
// done, dropping it then.
//
// An entry Forget blanked (eraseFromAudienceLists: zeros, which match no
// subscription record) is skipped; so is an entry already written, so a
// repeated page never counts anyone twice.
func fillFromSnapshot(tx *bolt.Tx, id uint64, p *progressRecord, max int) (added int, end bool, err error) {
	snaps := tx.Bucket(bucketBroadcastSnapshots)
	snap := snaps.Get(encodeUint(id))
	deliveries, subs := tx.Bucket(bucketDeliveries), tx.Bucket(bucketSubscriptions)
	n := len(snap) / snapshotEntry
	stop := min(n, p.Filled+max)
	for i := p.Filled; i < stop; i++ {
		e := snap[i*snapshotEntry : (i+1)*snapshotEntry]
		chatID, lang := decodeChatID(e[:8]), storage.Lang(e[8:])
		if subs.Get(e[:8]) == nil || deliveries.Get(deliveryKey(id, chatID)) != nil {
			continue
		}
		if err := putPendingDelivery(tx, id, chatID, lang); err != nil {
			return added, false, err
		}
		added++
	}
	p.Filled = stop
	if stop < n {
		return added, false, nil
	}
	p.Snapshot, p.Filled = false, 0
	return added, true, snaps.Delete(encodeUint(id))
}

// putPendingDelivery writes one recipient of broadcast id, not yet sent,
// with the by-chat entry /forget and /mydata find it by.
func putPendingDelivery(tx *bolt.Tx, id uint64, chatID int64, lang storage.Lang) error {
	if err := tx.Bucket(bucketDeliveriesByChat).Put(deliveryChatKey(chatID, id), nil); err != nil {
		return err
	}
	return tx.Bucket(bucketDeliveries).Put(deliveryKey(id, chatID), encodeDelivery(storage.DeliveryPending, lang))
}

// fillFromIndex fills a broadcast confirmed before recipients were fixed at
// confirm (it has no stored list): it walks the live subscriber index from
// where the last call stopped, scanning at most 4*max entries, so a narrow
// audience in a large index still keeps transactions short.
func fillFromIndex(tx *bolt.Tx, id uint64, p *progressRecord, max int) (added int, end bool, err error) {
	b, err := getBroadcast(tx, id)
	if err != nil {
		return 0, false, err
	}
	last, end, err := walkAudience(tx, b.Audience, p.FilledTo, p.HasFilled, 4*max, func(r storage.Recipient) error {
		added++
		return putPendingDelivery(tx, id, r.ChatID, r.Lang)
	})
	if err != nil {
		return added, false, err
	}
	if added > 0 || !end {
		p.FilledTo, p.HasFilled = last, true
	}
	return added, end, nil
}

// Broadcast implements storage.BroadcastStore.
func (db *DB) Broadcast(ctx context.Context, id uint64) (storage.Broadcast, error) {
	return viewOne(ctx, db, func(tx *bolt.Tx) (storage.Broadcast, error) { return getBroadcast(tx, id) })
}

// RecentBroadcasts implements storage.BroadcastStore.
func (db *DB) RecentBroadcasts(ctx context.Context, n int) ([]storage.Broadcast, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []storage.Broadcast
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketBroadcasts).Cursor()
		for k, _ := c.Last(); k != nil && len(out) < n; k, _ = c.Prev() {
			b, err := getBroadcast(tx, decodeUint(k))
			if err != nil {
				return err
			}
			out = append(out, b)
		}
		return nil
	})
	return out, err
}

// UnfinishedBroadcasts implements storage.BroadcastStore. It reads only the
// small progress records; there are few broadcasts, so a scan is fine.
func (db *DB) UnfinishedBroadcasts(ctx context.Context) ([]storage.Broadcast, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []storage.Broadcast
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBroadcastProgress).ForEach(func(k, v []byte) error {
			var p progressRecord
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("decode broadcast progress %d: %w", decodeUint(k), err)
			}
			s := storage.BroadcastStatus(p.Status)
			if s != storage.BroadcastPreparing && s != storage.BroadcastRunning {
				return nil
			}
			b, err := getBroadcast(tx, decodeUint(k))
			if err != nil {
				return err
			}
			out = append(out, b)
			return nil
		})
	})
	return out, err
}

// SetBroadcastStatus implements storage.BroadcastStore.
func (db *DB) SetBroadcastStatus(ctx context.Context, id uint64, next storage.BroadcastStatus, now time.Time) (storage.Broadcast, error) {
	if err := ctx.Err(); err != nil {
		return storage.Broadcast{}, err
	}
	var b storage.Broadcast
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		err := updateProgress(tx, id, func(p *progressRecord) error {
			cur := storage.BroadcastStatus(p.Status)
			if !cur.CanBecome(next) {
				return fmt.Errorf("broadcast %d from %s to %s: %w", id, cur, next, storage.ErrConflict)
			}
			p.Status = string(next)
			if next.Final() {
				p.FinishedAt = now.UTC()
				p.Snapshot, p.Filled = false, 0
			}
			return nil
		})
		if err != nil {
			return err
		}
		// A broadcast cancelled while preparing needs its list no more.
		if next.Final() {
			if err := tx.Bucket(bucketBroadcastSnapshots).Delete(encodeUint(id)); err != nil {
				return err
			}
		}
		b, err = getBroadcast(tx, id)
		if err != nil {
			return err
		}
		// A poll's delivery is over: whoever got it may still answer.
		if next.Final() && b.PollID != 0 {
			return pollDelivered(tx, b.PollID)
		}
		return nil
	})
	return b, err
}

// SetProgressMessage implements storage.BroadcastStore.
func (db *DB) SetProgressMessage(ctx context.Context, id uint64, messageID int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		bucket := tx.Bucket(bucketBroadcasts)
		raw := bucket.Get(encodeUint(id))
		if raw == nil {
			return fmt.Errorf("broadcast %d: %w", id, storage.ErrNotFound)
		}
		var r broadcastRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("decode broadcast %d: %w", id, err)
		}
		r.ProgressMessageID = messageID
		raw, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("encode broadcast %d: %w", id, err)
		}
		return bucket.Put(encodeUint(id), raw)
	})
}

// PendingRecipients implements storage.BroadcastStore.
func (db *DB) PendingRecipients(ctx context.Context, id uint64, after int64, hasAfter bool, limit int) ([]storage.Recipient, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []storage.Recipient
	err := db.bolt.View(func(tx *bolt.Tx) error {
		walkDeliveries(tx, id, after, hasAfter, func(chatID int64, state storage.DeliveryState, lang storage.Lang) bool {
			if state == storage.DeliveryPending {
				out = append(out, storage.Recipient{ChatID: chatID, Lang: lang})
			}
			return len(out) < limit
		})
		return nil
	})
	return out, err
}

// walkDeliveries calls f for the deliveries of broadcast id after the chat
// after, in chat order, while f returns true.
func walkDeliveries(tx *bolt.Tx, id uint64, after int64, hasAfter bool, f func(chatID int64, state storage.DeliveryState, lang storage.Lang) bool) {
	prefix := encodeUint(id)
	c := tx.Bucket(bucketDeliveries).Cursor()
	var k, v []byte
	if hasAfter {
		seek := deliveryKey(id, after)
		k, v = c.Seek(seek)
		if k != nil && bytes.Equal(k, seek) {
			k, v = c.Next()
		}
	} else {
		k, v = c.Seek(prefix)
	}
	for ; k != nil && bytes.HasPrefix(k, prefix) && len(k) == 16; k, v = c.Next() {
		state, lang := decodeDelivery(v)
		if !f(decodeChatID(k[8:]), state, lang) {
			return
		}
	}
}

// ClaimDelivery implements storage.BroadcastStore. The claim is its own
// committed transaction before the send, so a crash can leave at most the
// messages in flight uncertain, never send one twice. It checks the status
// in the same transaction, so no claim follows a pause or a cancel.
func (db *DB) ClaimDelivery(ctx context.Context, id uint64, chatID int64) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	claimed := false
	err := db.bolt.Batch(func(tx *bolt.Tx) error {
		claimed = false
		p, err := getProgress(tx, id)
		if err != nil {
			return err
		}
		if storage.BroadcastStatus(p.Status) != storage.BroadcastRunning {
			return nil
		}
		b := tx.Bucket(bucketDeliveries)
		key := deliveryKey(id, chatID)
		state, lang := decodeDelivery(b.Get(key))
		if state != storage.DeliveryPending {
			return nil
		}
		claimed = true
		return b.Put(key, encodeDelivery(storage.DeliveryClaimed, lang))
	})
	return claimed && err == nil, err
}

// SettleDelivery implements storage.BroadcastStore.
func (db *DB) SettleDelivery(ctx context.Context, id uint64, chatID int64, state storage.DeliveryState) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.Batch(func(tx *bolt.Tx) error { return settle(tx, id, chatID, state) })
}

func settle(tx *bolt.Tx, id uint64, chatID int64, state storage.DeliveryState) error {
	b := tx.Bucket(bucketDeliveries)
	key := deliveryKey(id, chatID)
	raw := b.Get(key)
	if raw == nil {
		// The person was forgotten while their message was in flight:
		// Forget counted it as uncertain and left nothing to record.
		return nil
	}
	cur, lang := decodeDelivery(raw)
	if cur != storage.DeliveryClaimed {
		return fmt.Errorf("settle delivery %d of broadcast %d in state %d: %w", chatID, id, cur, storage.ErrConflict)
	}
	if err := b.Put(key, encodeDelivery(state, lang)); err != nil {
		return err
	}
	return updateProgress(tx, id, func(p *progressRecord) error {
		switch state {
		case storage.DeliverySent:
			p.Sent++
		case storage.DeliveryBlocked:
			p.Blocked++
		case storage.DeliveryFailed:
			p.Failed++
		case storage.DeliveryUncertain:
			p.Uncertain++
		}
		return nil
	})
}

// AdvanceCursor implements storage.BroadcastStore.
func (db *DB) AdvanceCursor(ctx context.Context, id uint64, chatID int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.Batch(func(tx *bolt.Tx) error {
		return updateProgress(tx, id, func(p *progressRecord) error {
			p.Cursor, p.HasCursor = chatID, true
			return nil
		})
	})
}

// SettleStaleClaims implements storage.BroadcastStore. Every recipient up
// to the cursor has an outcome, so stale claims can only lie after it: the
// walk covers what is left of the broadcast, once per start.
func (db *DB) SettleStaleClaims(ctx context.Context, id uint64) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		n = 0
		p, err := getProgress(tx, id)
		if err != nil {
			return err
		}
		var stale []int64
		walkDeliveries(tx, id, p.Cursor, p.HasCursor, func(chatID int64, state storage.DeliveryState, _ storage.Lang) bool {
			if state == storage.DeliveryClaimed {
				stale = append(stale, chatID)
			}
			return true
		})
		for _, chatID := range stale {
			if err := settle(tx, id, chatID, storage.DeliveryUncertain); err != nil {
				return err
			}
		}
		n = len(stale)
		return nil
	})
	return n, err
}
