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

type closureRecord struct {
	CenterID   string    `json:"center"`
	TypeID     string    `json:"type,omitempty"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Reason     string    `json:"reason"`
	By         int64     `json:"by"`
	At         time.Time `json:"at"`
	Cancelled  []uint64  `json:"cancelled,omitempty"`
	ReopenedBy int64     `json:"reopened_by,omitempty"`
	ReopenedAt time.Time `json:"reopened_at,omitzero"`
}

func closureToRecord(c storage.Closure) closureRecord {
	r := closureRecord{
		CenterID: c.CenterID, TypeID: c.TypeID, From: c.From.UTC(), To: c.To.UTC(), Reason: string(c.Reason),
		By: c.By, At: c.At.UTC(), Cancelled: c.Cancelled, ReopenedBy: c.ReopenedBy,
	}
	if !c.ReopenedAt.IsZero() {
		r.ReopenedAt = c.ReopenedAt.UTC()
	}
	return r
}

func (r closureRecord) toClosure(id uint64) storage.Closure {
	return storage.Closure{
		ID: id, CenterID: r.CenterID, TypeID: r.TypeID, From: r.From, To: r.To, Reason: storage.ClosureReason(r.Reason),
		By: r.By, At: r.At, Cancelled: r.Cancelled, ReopenedBy: r.ReopenedBy, ReopenedAt: r.ReopenedAt,
	}
}

type sessionRecord struct {
	CenterID    string    `json:"center"`
	TypeID      string    `json:"type"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	SlotMinutes int       `json:"slot_minutes"`
	Capacity    int       `json:"capacity"`
	By          int64     `json:"by"`
	At          time.Time `json:"at"`
}

func sessionToRecord(s storage.ExtraSession) sessionRecord {
	return sessionRecord{
		CenterID: s.CenterID, TypeID: s.TypeID, Start: s.Start.UTC(), End: s.End.UTC(),
		SlotMinutes: s.SlotMinutes, Capacity: s.Capacity, By: s.By, At: s.At.UTC(),
	}
}

func (r sessionRecord) toSession(id uint64) storage.ExtraSession {
	return storage.ExtraSession{
		ID: id, CenterID: r.CenterID, TypeID: r.TypeID, Start: r.Start, End: r.End,
		SlotMinutes: r.SlotMinutes, Capacity: r.Capacity, By: r.By, At: r.At,
	}
}

func getClosure(tx *bolt.Tx, id uint64) (storage.Closure, error) {
	r, err := getRecord[closureRecord](tx, bucketClosures, encodeUint(id), "closure %d", id)
	if err != nil {
		return storage.Closure{}, err
	}
	return r.toClosure(id), nil
}

func putClosure(tx *bolt.Tx, c storage.Closure) error {
	raw, err := json.Marshal(closureToRecord(c))
	if err != nil {
		return fmt.Errorf("encode closure %d: %w", c.ID, err)
	}
	return tx.Bucket(bucketClosures).Put(encodeUint(c.ID), raw)
}

func getSession(tx *bolt.Tx, id uint64) (storage.ExtraSession, error) {
	r, err := getRecord[sessionRecord](tx, bucketExtraSessions, encodeUint(id), "extra session %d", id)
	if err != nil {
		return storage.ExtraSession{}, err
	}
	return r.toSession(id), nil
}

// wholeSeconds drops what a key cannot hold, so a record and its index
// key always say the same instant.
func wholeSeconds(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// closureCovering returns a closure in force of the center that covers
// the slot of typeID from start to end: a walk of the center's closures
// ending after start, which are its current and future ones only.
func closureCovering(tx *bolt.Tx, centerID, typeID string, start, end time.Time) (storage.Closure, bool, error) {
	prefix := encodeCatalogID(centerID)
	c := tx.Bucket(bucketClosuresByCenterEnd).Cursor()
	for k, _ := c.Seek(compositeKey(prefix, encodeTime(start))); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		cl, err := getClosure(tx, decodeUint(k[idWidth+8:]))
		if err != nil {
			return storage.Closure{}, false, err
		}
		if cl.Covers(typeID, start, end) {
			return cl, true, nil
		}
	}
	return storage.Closure{}, false, nil
}

// sessionsNear returns the center's extra sessions starting in [from, to).
func sessionsNear(tx *bolt.Tx, centerID string, from, to time.Time) ([]storage.ExtraSession, error) {
	prefix := encodeCatalogID(centerID)
	end := compositeKey(prefix, encodeTime(to))
	c := tx.Bucket(bucketExtraSessionsByCenter).Cursor()
	var out []storage.ExtraSession
	for k, _ := c.Seek(compositeKey(prefix, encodeTime(from))); k != nil && bytes.Compare(k, end) < 0; k, _ = c.Next() {
		s, err := getSession(tx, decodeUint(k[idWidth+8:]))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// sessionPlaces is how many places the extra sessions of a center and type
// give the slot starting at start. A session lasts at most a day
// (ExtraSession.Validate), so only the sessions that started in the day
// before can hold the slot.
func sessionPlaces(tx *bolt.Tx, centerID, typeID string, start time.Time) (int, error) {
	near, err := sessionsNear(tx, centerID, start.Add(-24*time.Hour), start.Add(time.Second))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range near {
		if s.TypeID == typeID && s.HasSlot(start) {
			n += s.Capacity
		}
	}
	return n, nil
}

// bookingsCovered returns the active bookings of the closure's center that
// it covers and that have not begun by now, by start. A booking lasts at
// most a day (a slot fits in a day of the schedule), so those starting up
// to a day before the closure are all that can reach into it.
func bookingsCovered(tx *bolt.Tx, cl storage.Closure, now time.Time) ([]storage.Booking, error) {
	prefix := encodeCatalogID(cl.CenterID)
	end := compositeKey(prefix, encodeTime(cl.To))
	c := tx.Bucket(bucketBookingsByCenterDay).Cursor()
	var out []storage.Booking
	for k, _ := c.Seek(compositeKey(prefix, encodeTime(cl.From.Add(-24*time.Hour)))); k != nil && bytes.Compare(k, end) < 0; k, _ = c.Next() {
		b, err := getBooking(tx, decodeUint(k[idWidth+8:]))
		if err != nil {
			return nil, err
		}
		end := b.End
		if !end.After(b.Start) {
			end = b.Start.Add(time.Second) // as checkSlot reads it
		}
		if b.Active() && b.Start.After(now) && cl.Covers(b.TypeID, b.Start, end) {
			out = append(out, b)
		}
	}
	return out, nil
}

// cancelAll cancels books with reason and returns them as cancelled.
func cancelAll(tx *bolt.Tx, bookings []storage.Booking, reason string, now time.Time) ([]storage.Booking, error) {
	out := make([]storage.Booking, 0, len(bookings))
	for _, b := range bookings {
		cancelled, err := cancelBooking(tx, b, reason, now)
		if err != nil {
			return nil, fmt.Errorf("cancel booking %d: %w", b.ID, err)
		}
		out = append(out, cancelled)
	}
	return out, nil
}

func bookingIDs(bs []storage.Booking) []uint64 {
	if len(bs) == 0 {
		return nil
	}
	ids := make([]uint64, len(bs))
	for i, b := range bs {
		ids[i] = b.ID
	}
	return ids
}

// checkClosure normalises and validates a closure about to be made at now.
func checkClosure(c storage.Closure, now time.Time) (storage.Closure, error) {
	c.From, c.To = wholeSeconds(c.From), wholeSeconds(c.To)
	if err := c.Validate(); err != nil {
		return c, err
	}
	if !c.To.After(now) {
		return c, fmt.Errorf("closure ended at %s: %w", c.To.Format(time.RFC3339), storage.ErrInvalid)
	}
	if _, ok := checkedCatalogID(c.CenterID); !ok {
		return c, fmt.Errorf("center id %q: %w", c.CenterID, storage.ErrInvalid)
	}
	return c, nil
}

// AddClosure implements storage.ClosureStore. Its own write transaction
// (never Batch, whose function may run twice) orders it against every
// booking: a Book committed before it is found and cancelled here, one
// after it finds the closure in checkSlot.
func (db *DB) AddClosure(ctx context.Context, c storage.Closure, now time.Time) (storage.Closure, []storage.Booking, error) {
	if err := ctx.Err(); err != nil {
		return storage.Closure{}, nil, err
	}
	c, err := checkClosure(c, now)
	if err != nil {
		return storage.Closure{}, nil, fmt.Errorf("close %s: %w", c.CenterID, err)
	}
	c.At, c.Cancelled, c.ReopenedBy, c.ReopenedAt = now.UTC(), nil, 0, time.Time{}
	var cancelled []storage.Booking
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		id, err := tx.Bucket(bucketClosures).NextSequence()
		if err != nil {
			return err
		}
		c.ID = id
		covered, err := bookingsCovered(tx, c, now)
		if err != nil {
			return err
		}
		if cancelled, err = cancelAll(tx, covered, c.Reason.CancelReason(), now); err != nil {
			return err
		}
		c.Cancelled = bookingIDs(cancelled)
		if err := putClosure(tx, c); err != nil {
			return err
		}
		if err := tx.Bucket(bucketClosuresByCenterEnd).Put(closureEndKey(encodeCatalogID(c.CenterID), c.To, c.ID), nil); err != nil {
			return err
		}
		return logChange(tx, storage.Change{
			At: now, By: c.By, CenterID: c.CenterID, Kind: storage.ChangeClose, Closure: &c, Cancelled: c.Cancelled,
		})
	})
	if err != nil {
		return storage.Closure{}, nil, fmt.Errorf("close %s/%s %d-%d: %w", c.CenterID, c.TypeID, c.From.Unix(), c.To.Unix(), err)
	}
	return c, cancelled, nil
}

// PreviewClosure implements storage.ClosureStore.
func (db *DB) PreviewClosure(ctx context.Context, c storage.Closure, now time.Time) ([]storage.Booking, error) {
	c, err := checkClosure(c, now)
	if err != nil {
		return nil, fmt.Errorf("preview closure of %s: %w", c.CenterID, err)
	}
	c.ReopenedAt = time.Time{}
	return viewOne(ctx, db, func(tx *bolt.Tx) ([]storage.Booking, error) { return bookingsCovered(tx, c, now) })
}

// Reopen implements storage.ClosureStore.
func (db *DB) Reopen(ctx context.Context, id uint64, by int64, now time.Time) (storage.Closure, error) {
	if err := ctx.Err(); err != nil {
		return storage.Closure{}, err
	}
	var out storage.Closure
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		c, err := getClosure(tx, id)
		if err != nil {
			return err
		}
		if !c.InForce() {
			return fmt.Errorf("reopened at %s: %w", c.ReopenedAt.Format(time.RFC3339), storage.ErrInPast)
		}
		if !c.To.After(now) {
			return fmt.Errorf("ended at %s: %w", c.To.Format(time.RFC3339), storage.ErrInPast)
		}
		if err := tx.Bucket(bucketClosuresByCenterEnd).Delete(closureEndKey(encodeCatalogID(c.CenterID), c.To, c.ID)); err != nil {
			return err
		}
		c.ReopenedBy, c.ReopenedAt = by, now.UTC()
		if err := putClosure(tx, c); err != nil {
			return err
		}
		out = c
		return logChange(tx, storage.Change{At: now, By: by, CenterID: c.CenterID, Kind: storage.ChangeReopen, Closure: &c})
	})
	if err != nil {
		return storage.Closure{}, fmt.Errorf("reopen closure %d: %w", id, err)
	}
	return out, nil
}

// Closure implements storage.ClosureStore.
func (db *DB) Closure(ctx context.Context, id uint64) (storage.Closure, error) {
	return viewOne(ctx, db, func(tx *bolt.Tx) (storage.Closure, error) { return getClosure(tx, id) })
}

// Closures implements storage.ClosureStore: per center, a walk of the
// closures in force ending after from.
func (db *DB) Closures(ctx context.Context, centerIDs []string, from, to time.Time) ([]storage.Closure, error) {
	out, err := viewOne(ctx, db, func(tx *bolt.Tx) ([]storage.Closure, error) {
		var out []storage.Closure
		c := tx.Bucket(bucketClosuresByCenterEnd).Cursor()
		for _, center := range centerIDs {
			prefix := encodeCatalogID(center)
			for k, _ := c.Seek(compositeKey(prefix, encodeTime(from))); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				cl, err := getClosure(tx, decodeUint(k[idWidth+8:]))
				if err != nil {
					return nil, err
				}
				if cl.To.After(from) && cl.From.Before(to) {
					out = append(out, cl)
				}
			}
		}
		return out, nil
	})
	slices.SortStableFunc(out, func(a, b storage.Closure) int { return a.From.Compare(b.From) })
	return out, err
}

// sessionBookings returns the active bookings of a session's slots that
// have not begun by now: a prefix walk of bookings_by_slot per slot.
func sessionBookings(tx *bolt.Tx, s storage.ExtraSession, now time.Time) ([]storage.Booking, error) {
	var out []storage.Booking
	c := tx.Bucket(bucketBookingsBySlot).Cursor()
	for _, start := range s.Slots() {
		prefix := slotPrefix(s.CenterID, s.TypeID, start)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			b, err := getBooking(tx, decodeUint(k[len(prefix):]))
			if err != nil {
				return nil, err
			}
			if b.Active() && b.Start.After(now) {
				out = append(out, b)
			}
		}
	}
	return out, nil
}

// AddExtraSession implements storage.ExtraSessionStore.
func (db *DB) AddExtraSession(ctx context.Context, s storage.ExtraSession, now time.Time) (storage.ExtraSession, error) {
	if err := ctx.Err(); err != nil {
		return storage.ExtraSession{}, err
	}
	s.Start, s.End, s.At = wholeSeconds(s.Start), wholeSeconds(s.End), now.UTC()
	err := s.Validate()
	if err == nil && !s.Start.After(now) {
		err = fmt.Errorf("starts at %s: %w", s.Start.Format(time.RFC3339), storage.ErrInvalid)
	}
	center, ok := checkedCatalogID(s.CenterID)
	if err == nil && !ok {
		err = fmt.Errorf("center id %q: %w", s.CenterID, storage.ErrInvalid)
	}
	if err == nil {
		err = db.bolt.Update(func(tx *bolt.Tx) error {
			near, err := sessionsNear(tx, s.CenterID, s.Start.Add(-24*time.Hour), s.End)
			if err != nil {
				return err
			}
			for _, o := range near {
				if o.TypeID == s.TypeID && o.Start.Before(s.End) && o.End.After(s.Start) {
					return fmt.Errorf("overlaps extra session %d: %w", o.ID, storage.ErrConflict)
				}
			}
			id, err := tx.Bucket(bucketExtraSessions).NextSequence()
			if err != nil {
				return err
			}
			s.ID = id
			raw, err := json.Marshal(sessionToRecord(s))
			if err != nil {
				return err
			}
			if err := tx.Bucket(bucketExtraSessions).Put(encodeUint(id), raw); err != nil {
				return err
			}
			if err := tx.Bucket(bucketExtraSessionsByCenter).Put(sessionCenterKey(center, s.Start, id), nil); err != nil {
				return err
			}
			return logChange(tx, storage.Change{At: now, By: s.By, CenterID: s.CenterID, Kind: storage.ChangeSessionAdd, Session: &s})
		})
	}
	if err != nil {
		return storage.ExtraSession{}, fmt.Errorf("add extra session %s/%s at %d: %w", s.CenterID, s.TypeID, s.Start.Unix(), err)
	}
	return s, nil
}

// RemoveExtraSession implements storage.ExtraSessionStore. The bookings
// are read and cancelled in the transaction that removes the session, and
// Book reads the session in its own: a booking either lands before and is
// cancelled here, or after and finds no places.
func (db *DB) RemoveExtraSession(ctx context.Context, id uint64, by int64, now time.Time, cancelWith storage.ClosureReason) (storage.ExtraSession, []storage.Booking, error) {
	if err := ctx.Err(); err != nil {
		return storage.ExtraSession{}, nil, err
	}
	if cancelWith != "" && !slices.Contains(storage.ClosureReasons, cancelWith) {
		return storage.ExtraSession{}, nil, fmt.Errorf("remove extra session %d: reason %q: %w", id, cancelWith, storage.ErrInvalid)
	}
	var s storage.ExtraSession
	var cancelled []storage.Booking
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var err error
		if s, err = getSession(tx, id); err != nil {
			return err
		}
		if !s.Start.After(now) {
			return fmt.Errorf("started at %s: %w", s.Start.Format(time.RFC3339), storage.ErrInPast)
		}
		booked, err := sessionBookings(tx, s, now)
		if err != nil {
			return err
		}
		if len(booked) > 0 && cancelWith == "" {
			return fmt.Errorf("%d bookings: %w", len(booked), storage.ErrHasBookings)
		}
		if cancelled, err = cancelAll(tx, booked, cancelWith.CancelReason(), now); err != nil {
			return err
		}
		if err := tx.Bucket(bucketExtraSessions).Delete(encodeUint(id)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketExtraSessionsByCenter).Delete(sessionCenterKey(encodeCatalogID(s.CenterID), s.Start, id)); err != nil {
			return err
		}
		return logChange(tx, storage.Change{
			At: now, By: by, CenterID: s.CenterID, Kind: storage.ChangeSessionRemove, Session: &s, Cancelled: bookingIDs(cancelled),
		})
	})
	if err != nil {
		return storage.ExtraSession{}, nil, fmt.Errorf("remove extra session %d: %w", id, err)
	}
	return s, cancelled, nil
}

// ExtraSessionBookings implements storage.ExtraSessionStore.
func (db *DB) ExtraSessionBookings(ctx context.Context, id uint64, now time.Time) ([]storage.Booking, error) {
	return viewOne(ctx, db, func(tx *bolt.Tx) ([]storage.Booking, error) {
		s, err := getSession(tx, id)
		if err != nil {
			return nil, err
		}
		return sessionBookings(tx, s, now)
	})
}

// ExtraSession implements storage.ExtraSessionStore.
func (db *DB) ExtraSession(ctx context.Context, id uint64) (storage.ExtraSession, error) {
	return viewOne(ctx, db, func(tx *bolt.Tx) (storage.ExtraSession, error) { return getSession(tx, id) })
}

// ExtraSessions implements storage.ExtraSessionStore.
func (db *DB) ExtraSessions(ctx context.Context, centerIDs []string, from, to time.Time) ([]storage.ExtraSession, error) {
	out, err := viewOne(ctx, db, func(tx *bolt.Tx) ([]storage.ExtraSession, error) {
		var out []storage.ExtraSession
		for _, center := range centerIDs {
			near, err := sessionsNear(tx, center, from, to)
			if err != nil {
				return nil, err
			}
			out = append(out, near...)
		}
		return out, nil
	})
	slices.SortStableFunc(out, func(a, b storage.ExtraSession) int { return a.Start.Compare(b.Start) })
	return out, err
}
