package boltdb

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

type eventRecord struct {
	SeedID        string    `json:"seed_id,omitempty"`
	CenterID      string    `json:"center_id"`
	TitleKK       string    `json:"title_kk"`
	TitleRU       string    `json:"title_ru"`
	DescriptionKK string    `json:"description_kk,omitempty"`
	DescriptionRU string    `json:"description_ru,omitempty"`
	Start         time.Time `json:"start"`
	Minutes       int       `json:"minutes"`
	Capacity      int       `json:"capacity"`
	Cancelled     bool      `json:"cancelled,omitempty"`
	Registered    int       `json:"registered"`
	Waiting       int       `json:"waiting"`
	CreatedBy     int64     `json:"created_by,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func eventToRecord(e storage.Event) eventRecord {
	return eventRecord{
		SeedID: e.SeedID, CenterID: e.CenterID, TitleKK: e.TitleKK, TitleRU: e.TitleRU,
		DescriptionKK: e.DescriptionKK, DescriptionRU: e.DescriptionRU, Start: e.Start.UTC(),
		Minutes: e.Minutes, Capacity: e.Capacity, Cancelled: e.Cancelled, Registered: e.Registered,
		Waiting: e.Waiting, CreatedBy: e.CreatedBy, CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC(),
	}
}

func (r eventRecord) toEvent(id uint64) storage.Event {
	return storage.Event{
		ID: id, SeedID: r.SeedID, CenterID: r.CenterID, TitleKK: r.TitleKK, TitleRU: r.TitleRU,
		DescriptionKK: r.DescriptionKK, DescriptionRU: r.DescriptionRU, Start: r.Start, Minutes: r.Minutes,
		Capacity: r.Capacity, Cancelled: r.Cancelled, Registered: r.Registered, Waiting: r.Waiting,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

type registrationRecord struct {
	Status    string    `json:"status"`
	Seq       uint64    `json:"seq"`
	CreatedAt time.Time `json:"created_at"`
}

func getEvent(tx *bolt.Tx, id uint64) (storage.Event, error) {
	r, err := getRecord[eventRecord](tx, bucketEvents, encodeUint(id), "event %d", id)
	if err != nil {
		return storage.Event{}, err
	}
	return r.toEvent(id), nil
}

// putEvent writes the event's record; the cache neither serves nor keeps
// the event until tx has ended (recordCache).
func (db *DB) putEvent(tx *bolt.Tx, e storage.Event) error {
	db.events.changes(tx, e.ID)
	raw, err := json.Marshal(eventToRecord(e))
	if err != nil {
		return fmt.Errorf("encode event %d: %w", e.ID, err)
	}
	return tx.Bucket(bucketEvents).Put(encodeUint(e.ID), raw)
}

// indexEvent adds (add=true) or removes the event's index entries. Only
// events not cancelled are indexed.
func indexEvent(tx *bolt.Tx, e storage.Event, add bool) error {
	center, ok := checkedCatalogID(e.CenterID)
	if !ok {
		return fmt.Errorf("event %d: center id %q does not fit a key: %w", e.ID, e.CenterID, storage.ErrConflict)
	}
	keys := []struct {
		bucket []byte
		key    []byte
	}{
		{bucketEventsByStart, eventStartKey(e.Start, e.ID)},
		{bucketEventsByCenter, eventCenterKey(center, e.Start, e.ID)},
	}
	for _, k := range keys {
		var err error
		if add {
			err = tx.Bucket(k.bucket).Put(k.key, nil)
		} else {
			err = tx.Bucket(k.bucket).Delete(k.key)
		}
		if err != nil {
			return fmt.Errorf("index event %d: %w", e.ID, err)
		}
	}
	return nil
}

func validEvent(e storage.Event) error {
	switch {
	case e.TitleKK == "" && e.TitleRU == "":
		return fmt.Errorf("event without a title: %w", storage.ErrConflict)
	case e.Capacity < 1 || e.Minutes < 1 || e.Start.IsZero():
		return fmt.Errorf("event with capacity %d, %d minutes, start %v: %w", e.Capacity, e.Minutes, e.Start, storage.ErrConflict)
	}
	if _, ok := checkedCatalogID(e.CenterID); !ok {
		return fmt.Errorf("event center id %q: %w", e.CenterID, storage.ErrConflict)
	}
	return nil
}

// insertEvent stores a new event under the next id and indexes it.
func (db *DB) insertEvent(tx *bolt.Tx, e storage.Event) (storage.Event, error) {
	if err := validEvent(e); err != nil {
		return e, err
	}
	id, err := tx.Bucket(bucketEvents).NextSequence()
	if err != nil {
		return e, fmt.Errorf("next event id: %w", err)
	}
	e.ID = id
	e.Registered, e.Waiting = 0, 0
	if err := db.putEvent(tx, e); err != nil {
		return e, err
	}
	if e.Cancelled {
		return e, nil
	}
	return e, indexEvent(tx, e, true)
}

// SeedEvents implements storage.EventStore.
func (db *DB) SeedEvents(ctx context.Context, seeds []storage.Event) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	added := 0
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		added = 0
		bySeed := tx.Bucket(bucketEventsBySeed)
		for _, s := range seeds {
			key, ok := checkedCatalogID(s.SeedID)
			if !ok {
				return fmt.Errorf("seed event id %q does not fit a key: %w", s.SeedID, storage.ErrConflict)
			}
			if bySeed.Get(key) != nil {
				continue
			}
			e, err := db.insertEvent(tx, s)
			if err != nil {
				return fmt.Errorf("seed event %s: %w", s.SeedID, err)
			}
			if err := bySeed.Put(key, encodeUint(e.ID)); err != nil {
				return err
			}
			added++
		}
		return nil
	})
	return added, err
}

// CreateEvent implements storage.EventStore.
func (db *DB) CreateEvent(ctx context.Context, e storage.Event) (storage.Event, error) {
	if err := ctx.Err(); err != nil {
		return e, err
	}
	e.SeedID = ""
	var out storage.Event
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var err error
		out, err = db.insertEvent(tx, e)
		return err
	})
	return out, err
}

// Event implements storage.EventStore, from the cache of events read
// lately when it has the event (see recordCache).
func (db *DB) Event(ctx context.Context, id uint64) (storage.Event, error) {
	return readThrough(ctx, db, &db.events, id, func(tx *bolt.Tx) (storage.Event, error) { return getEvent(tx, id) })
}

// UpdateEvent implements storage.EventStore.
func (db *DB) UpdateEvent(ctx context.Context, id uint64, change func(*storage.Event) error, rem storage.ReminderPolicy, now time.Time) (storage.Event, []storage.Registration, error) {
	if err := ctx.Err(); err != nil {
		return storage.Event{}, nil, err
	}
	var (
		out      storage.Event
		promoted []storage.Registration
	)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		promoted = nil
		old, err := getEvent(tx, id)
		if err != nil {
			return err
		}
		if old.Cancelled {
			return fmt.Errorf("update event %d: %w", id, storage.ErrEventClosed)
		}
		e := old
		if err := change(&e); err != nil {
			return err
		}
		// What the store owns is not the caller's to change.
		e.ID, e.SeedID, e.Cancelled = old.ID, old.SeedID, old.Cancelled
		e.Registered, e.Waiting, e.CreatedAt, e.CreatedBy = old.Registered, old.Waiting, old.CreatedAt, old.CreatedBy
		if err := validEvent(e); err != nil {
			return err
		}
		if e.Capacity < e.Registered {
			return fmt.Errorf("event %d: capacity %d below %d registered: %w", id, e.Capacity, e.Registered, storage.ErrConflict)
		}
		if err := indexEvent(tx, old, false); err != nil {
			return err
		}
		if err := indexEvent(tx, e, true); err != nil {
			return err
		}
		for e.Registered < e.Capacity && e.Waiting > 0 {
			reg, err := promoteFirst(tx, &e)
			if err != nil {
				return err
			}
			if reg == nil {
				break
			}
			promoted = append(promoted, *reg)
		}
		out = e
		if err := db.putEvent(tx, e); err != nil {
			return err
		}
		return updateEventReminders(tx, old, e, promoted, rem, now)
	})
	return out, promoted, err
}

// updateEventReminders writes, with an update of event old to e, the
// reminders of the people moved up and the notices: "moved up" to each of
// them, "time changed" to everyone else registered or waiting when the start
// moved (a moved-up person's notice, new or still pending, names the new
// time).
func updateEventReminders(tx *bolt.Tx, old, e storage.Event, promoted []storage.Registration, rem storage.ReminderPolicy, now time.Time) error {
	var notices []storage.Reminder
	told := make(map[int64]bool, len(promoted))
	for _, reg := range promoted {
		told[reg.ChatID] = true
		notices = append(notices, storage.EventNotice(storage.ReminderEventPromoted, e, reg.ChatID, now))
	}
	if e.Start.Equal(old.Start) {
		for _, reg := range promoted {
			if err := addEventReminders(tx, e, reg.ChatID, rem, now); err != nil {
				return err
			}
		}
		return addReminders(tx, notices)
	}
	regs, err := eventRegistrations(tx, e.ID)
	if err != nil {
		return err
	}
	if err := rewriteEventReminders(tx, e, regs, rem, now, told); err != nil {
		return err
	}
	for _, reg := range regs {
		if !told[reg.ChatID] {
			notices = append(notices, storage.EventNotice(storage.ReminderEventChanged, e, reg.ChatID, now))
		}
	}
	return addReminders(tx, notices)
}

// CancelEvent implements storage.EventStore.
func (db *DB) CancelEvent(ctx context.Context, id uint64, now time.Time) (storage.Event, []storage.Registration, error) {
	if err := ctx.Err(); err != nil {
		return storage.Event{}, nil, err
	}
	var (
		out  storage.Event
		regs []storage.Registration
	)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		e, err := getEvent(tx, id)
		if err != nil {
			return err
		}
		if e.Cancelled {
			return fmt.Errorf("cancel event %d: %w", id, storage.ErrEventClosed)
		}
		if err := indexEvent(tx, e, false); err != nil {
			return err
		}
		e.Cancelled = true
		e.UpdatedAt = now
		if regs, err = eventRegistrations(tx, id); err != nil {
			return err
		}
		out = e
		if err := deleteEventReminders(tx, id, nil, nil); err != nil {
			return err
		}
		// The notices go with the cancellation: a crash after this commit
		// still tells everyone, and a replayed press finds the event
		// cancelled and writes none twice.
		notices := make([]storage.Reminder, 0, len(regs))
		for _, reg := range regs {
			notices = append(notices, storage.EventNotice(storage.ReminderEventCancelled, e, reg.ChatID, now))
		}
		if err := addReminders(tx, notices); err != nil {
			return err
		}
		return db.putEvent(tx, e)
	})
	return out, regs, err
}

// UpcomingEvents implements storage.EventStore. For all centers it walks
// events_by_start from f.After; for a set of centers it walks each center's
// range of events_by_center from f.After and merges. Either way it reads only
// index entries of events still to come, never the history.
func (db *DB) UpcomingEvents(ctx context.Context, f storage.EventFilter, offset, limit int) ([]storage.Event, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	offset = max(offset, 0)
	var (
		out   []storage.Event
		total int
	)
	mark := db.events.mark()
	err := db.bolt.View(func(tx *bolt.Tx) error {
		type ref struct {
			start []byte // 8-byte start, compared as bytes
			id    uint64
		}
		var refs []ref
		after := encodeTime(f.After.Add(time.Second))
		if len(f.CenterIDs) == 0 {
			c := tx.Bucket(bucketEventsByStart).Cursor()
			for k, _ := c.Seek(after); k != nil; k, _ = c.Next() {
				if len(k) != 16 {
					continue
				}
				refs = append(refs, ref{start: bytes.Clone(k[:8]), id: decodeUint(k[8:])})
			}
		} else {
			seen := make(map[string]bool)
			for _, id := range f.CenterIDs {
				center, ok := checkedCatalogID(id)
				if !ok || seen[id] {
					continue
				}
				seen[id] = true
				c := tx.Bucket(bucketEventsByCenter).Cursor()
				for k, _ := c.Seek(compositeKey(center, after)); k != nil && bytes.HasPrefix(k, center); k, _ = c.Next() {
					if len(k) != idWidth+16 {
						continue
					}
					refs = append(refs, ref{start: bytes.Clone(k[idWidth : idWidth+8]), id: decodeUint(k[idWidth+8:])})
				}
			}
			slices.SortFunc(refs, func(a, b ref) int {
				if c := bytes.Compare(a.start, b.start); c != 0 {
					return c
				}
				return cmp.Compare(a.id, b.id)
			})
		}
		total = len(refs)
		if offset >= len(refs) {
			return nil
		}
		refs = refs[offset:]
		if limit > 0 && len(refs) > limit {
			refs = refs[:limit]
		}
		for _, r := range refs {
			// The cache may hold an event newer than this transaction's
			// index (moved to another time or center, or cancelled
			// since): then it is read from tx, so the page is of one
			// moment.
			e, ok := db.events.get(r.id)
			if !ok || e.Cancelled || !bytes.Equal(encodeTime(e.Start), r.start) ||
				(len(f.CenterIDs) > 0 && !slices.Contains(f.CenterIDs, e.CenterID)) {
				var err error
				if e, err = getEvent(tx, r.id); err != nil {
					return err
				}
				db.events.fill(r.id, e, mark)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, total, err
}

func getRegistration(tx *bolt.Tx, eventID uint64, chatID int64) (storage.Registration, error) {
	raw := tx.Bucket(bucketRegistrations).Get(registrationKey(eventID, chatID))
	if raw == nil {
		return storage.Registration{}, fmt.Errorf("registration %d/%d: %w", eventID, chatID, storage.ErrNotFound)
	}
	return decodeRegistration(eventID, chatID, raw)
}

func decodeRegistration(eventID uint64, chatID int64, raw []byte) (storage.Registration, error) {
	var r registrationRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return storage.Registration{}, fmt.Errorf("decode registration %d/%d: %w", eventID, chatID, err)
	}
	return storage.Registration{
		EventID: eventID, ChatID: chatID, Status: storage.RegistrationStatus(r.Status), Seq: r.Seq, CreatedAt: r.CreatedAt,
	}, nil
}

func putRegistration(tx *bolt.Tx, reg storage.Registration) error {
	raw, err := json.Marshal(registrationRecord{Status: string(reg.Status), Seq: reg.Seq, CreatedAt: reg.CreatedAt.UTC()})
	if err != nil {
		return fmt.Errorf("encode registration %d/%d: %w", reg.EventID, reg.ChatID, err)
	}
	if err := tx.Bucket(bucketRegistrations).Put(registrationKey(reg.EventID, reg.ChatID), raw); err != nil {
		return err
	}
	return tx.Bucket(bucketRegistrationsByChat).Put(registrationChatKey(reg.ChatID, reg.EventID), nil)
}

// eventRegistrations reads an event's registrations with a prefix scan and
// orders them registered first, then by Seq (waitlist order).
func eventRegistrations(tx *bolt.Tx, eventID uint64) ([]storage.Registration, error) {
	var out []storage.Registration
	prefix := encodeUint(eventID)
	c := tx.Bucket(bucketRegistrations).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(k) != 16 {
			continue
		}
		reg, err := decodeRegistration(eventID, decodeChatID(k[8:]), v)
		if err != nil {
			return nil, err
		}
		out = append(out, reg)
	}
	slices.SortFunc(out, func(a, b storage.Registration) int {
		ra, rb := a.Status != storage.Registered, b.Status != storage.Registered
		if ra != rb {
			if ra {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
	return out, nil
}

// promoteFirst gives the free place to the person waiting longest and
// updates the counts in e; nil when nobody waits.
func promoteFirst(tx *bolt.Tx, e *storage.Event) (*storage.Registration, error) {
	regs, err := eventRegistrations(tx, e.ID)
	if err != nil {
		return nil, err
	}
	for _, reg := range regs {
		if reg.Status != storage.Waitlisted {
			continue
		}
		reg.Status = storage.Registered
		if err := putRegistration(tx, reg); err != nil {
			return nil, err
		}
		e.Registered++
		e.Waiting--
		return &reg, nil
	}
	return nil, nil
}

// Register implements storage.EventStore. The capacity check and the write
// are one transaction: bbolt has one writer, so two people can never take
// the last place together.
func (db *DB) Register(ctx context.Context, eventID uint64, chatID int64, now time.Time, rem storage.ReminderPolicy) (storage.Registration, storage.Event, error) {
	if err := ctx.Err(); err != nil {
		return storage.Registration{}, storage.Event{}, err
	}
	var (
		reg storage.Registration
		ev  storage.Event
	)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		e, err := getEvent(tx, eventID)
		if err != nil {
			return err
		}
		ev = e
		if !e.Open(now) {
			return fmt.Errorf("register for event %d: %w", eventID, storage.ErrEventClosed)
		}
		if existing, err := getRegistration(tx, eventID, chatID); err == nil {
			reg = existing
			return fmt.Errorf("register for event %d: already %s: %w", eventID, existing.Status, storage.ErrConflict)
		} else if !isNotFound(err) {
			return err
		}
		seq, err := tx.Bucket(bucketRegistrations).NextSequence()
		if err != nil {
			return fmt.Errorf("next registration seq: %w", err)
		}
		reg = storage.Registration{EventID: eventID, ChatID: chatID, Status: storage.Registered, Seq: seq, CreatedAt: now}
		if e.Registered >= e.Capacity {
			reg.Status = storage.Waitlisted
			e.Waiting++
		} else {
			e.Registered++
		}
		if err := putRegistration(tx, reg); err != nil {
			return err
		}
		if reg.Status == storage.Registered {
			if err := addEventReminders(tx, e, chatID, rem, now); err != nil {
				return err
			}
		}
		ev = e
		return db.putEvent(tx, e)
	})
	return reg, ev, err
}

// Unregister implements storage.EventStore.
func (db *DB) Unregister(ctx context.Context, eventID uint64, chatID int64, now time.Time, rem storage.ReminderPolicy) (storage.Event, *storage.Registration, error) {
	if err := ctx.Err(); err != nil {
		return storage.Event{}, nil, err
	}
	var (
		ev       storage.Event
		promoted *storage.Registration
	)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		promoted = nil
		e, err := getEvent(tx, eventID)
		if err != nil {
			return err
		}
		reg, err := getRegistration(tx, eventID, chatID)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketRegistrations).Delete(registrationKey(eventID, chatID)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketRegistrationsByChat).Delete(registrationChatKey(chatID, eventID)); err != nil {
			return err
		}
		if reg.Status == storage.Registered {
			e.Registered = max(e.Registered-1, 0)
			// Nobody moves up to an event that is over or called off.
			if e.Open(now) {
				if promoted, err = promoteFirst(tx, &e); err != nil {
					return err
				}
			}
		} else {
			e.Waiting = max(e.Waiting-1, 0)
		}
		if err := deleteEventReminders(tx, eventID, &chatID, nil); err != nil {
			return err
		}
		if promoted != nil {
			if err := addEventReminders(tx, e, promoted.ChatID, rem, now); err != nil {
				return err
			}
			notice := storage.EventNotice(storage.ReminderEventPromoted, e, promoted.ChatID, now)
			if err := addReminders(tx, []storage.Reminder{notice}); err != nil {
				return err
			}
		}
		ev = e
		return db.putEvent(tx, e)
	})
	return ev, promoted, err
}

// Registration implements storage.EventStore.
func (db *DB) Registration(ctx context.Context, eventID uint64, chatID int64) (storage.Registration, error) {
	return viewOne(ctx, db, func(tx *bolt.Tx) (storage.Registration, error) { return getRegistration(tx, eventID, chatID) })
}

// EventRegistrations implements storage.EventStore.
func (db *DB) EventRegistrations(ctx context.Context, eventID uint64) ([]storage.Registration, error) {
	return viewOne(ctx, db, func(tx *bolt.Tx) ([]storage.Registration, error) { return eventRegistrations(tx, eventID) })
}

// PersonRegistrations implements storage.EventStore.
func (db *DB) PersonRegistrations(ctx context.Context, chatID int64) ([]storage.Registration, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []storage.Registration
	err := db.bolt.View(func(tx *bolt.Tx) error {
		prefix := encodeChatID(chatID)
		c := tx.Bucket(bucketRegistrationsByChat).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if len(k) != 16 {
				continue
			}
			reg, err := getRegistration(tx, decodeUint(k[8:]), chatID)
			if err != nil {
				return err
			}
			out = append(out, reg)
		}
		return nil
	})
	return out, err
}
