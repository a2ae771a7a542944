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

// cardRecord is one card field staff set; its center and field are in the
// key (center_cards) or beside it (changeRecord).
type cardRecord struct {
	Text  string    `json:"text,omitempty"`
	Hours [][2]int  `json:"hours,omitempty"` // 7 days from Sunday: open, close minutes
	Lat   float64   `json:"lat,omitempty"`
	Lon   float64   `json:"lon,omitempty"`
	By    int64     `json:"by"`
	At    time.Time `json:"at"`
}

func cardToRecord(o storage.CardOverride) cardRecord {
	r := cardRecord{Text: o.Text, Lat: o.Lat, Lon: o.Lon, By: o.By, At: o.At.UTC()}
	if o.Field == storage.CardHours {
		for _, d := range o.Hours {
			r.Hours = append(r.Hours, [2]int{d.Open, d.Close})
		}
	}
	return r
}

func (r cardRecord) toCard(centerID string, f storage.CardField) storage.CardOverride {
	o := storage.CardOverride{CenterID: centerID, Field: f, Text: r.Text, Lat: r.Lat, Lon: r.Lon, By: r.By, At: r.At}
	for i, d := range r.Hours {
		if i < len(o.Hours) {
			o.Hours[i] = storage.DayHours{Open: d[0], Close: d[1]}
		}
	}
	return o
}

// sameValue reports whether two overrides of one field say the same.
func sameValue(a, b storage.CardOverride) bool {
	return a.Text == b.Text && a.Hours == b.Hours && a.Lat == b.Lat && a.Lon == b.Lon
}

func getCard(tx *bolt.Tx, center []byte, centerID string, f storage.CardField) (storage.CardOverride, bool, error) {
	raw := tx.Bucket(bucketCenterCards).Get(cardKey(center, f))
	if raw == nil {
		return storage.CardOverride{}, false, nil
	}
	var r cardRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return storage.CardOverride{}, false, fmt.Errorf("decode card %s of %s: %w", f, centerID, err)
	}
	return r.toCard(centerID, f), true, nil
}

// SetCard implements storage.CardStore. Setting the value a field already
// has writes nothing and logs nothing: the log lists changes.
func (db *DB) SetCard(ctx context.Context, o storage.CardOverride) (before storage.CardOverride, had bool, err error) {
	if err := ctx.Err(); err != nil {
		return before, false, err
	}
	err = o.Validate()
	center, ok := checkedCatalogID(o.CenterID)
	if err == nil && (!ok || o.At.IsZero()) {
		err = fmt.Errorf("center id %q at %v: %w", o.CenterID, o.At, storage.ErrInvalid)
	}
	if err == nil {
		o.At = o.At.UTC()
		err = db.bolt.Update(func(tx *bolt.Tx) error {
			var err error
			if before, had, err = getCard(tx, center, o.CenterID, o.Field); err != nil || (had && sameValue(before, o)) {
				return err
			}
			raw, err := json.Marshal(cardToRecord(o))
			if err != nil {
				return err
			}
			if err := tx.Bucket(bucketCenterCards).Put(cardKey(center, o.Field), raw); err != nil {
				return err
			}
			ch := storage.Change{At: o.At, By: o.By, CenterID: o.CenterID, Kind: storage.ChangeCardSet, Field: o.Field, After: &o}
			if had {
				ch.Before = &before
			}
			return logChange(tx, ch)
		})
	}
	if err != nil {
		return storage.CardOverride{}, false, fmt.Errorf("set card %s of %s: %w", o.Field, o.CenterID, err)
	}
	return before, had, nil
}

// ResetCard implements storage.CardStore.
func (db *DB) ResetCard(ctx context.Context, centerID string, field storage.CardField, by int64, now time.Time) (storage.CardOverride, error) {
	if err := ctx.Err(); err != nil {
		return storage.CardOverride{}, err
	}
	center, ok := checkedCatalogID(centerID)
	if !ok || cardFieldCode(field) == 0 {
		return storage.CardOverride{}, fmt.Errorf("reset card %s of %q: %w", field, centerID, storage.ErrInvalid)
	}
	var before storage.CardOverride
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var had bool
		var err error
		if before, had, err = getCard(tx, center, centerID, field); err != nil {
			return err
		}
		if !had {
			return fmt.Errorf("no value set: %w", storage.ErrNotFound)
		}
		if err := tx.Bucket(bucketCenterCards).Delete(cardKey(center, field)); err != nil {
			return err
		}
		return logChange(tx, storage.Change{At: now, By: by, CenterID: centerID, Kind: storage.ChangeCardReset, Field: field, Before: &before})
	})
	if err != nil {
		return storage.CardOverride{}, fmt.Errorf("reset card %s of %s: %w", field, centerID, err)
	}
	return before, nil
}

// Card implements storage.CardStore: a prefix walk of the center's fields.
func (db *DB) Card(ctx context.Context, centerID string) (storage.CardOverrides, error) {
	return viewOne(ctx, db, func(tx *bolt.Tx) (storage.CardOverrides, error) {
		out := storage.CardOverrides{}
		prefix := encodeCatalogID(centerID)
		c := tx.Bucket(bucketCenterCards).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if err := addCard(out, centerID, k, v); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
}

// Cards implements storage.CardStore: the bucket holds a few fields per
// center, so one walk reads every card.
func (db *DB) Cards(ctx context.Context) (map[string]storage.CardOverrides, error) {
	return viewOne(ctx, db, func(tx *bolt.Tx) (map[string]storage.CardOverrides, error) {
		out := map[string]storage.CardOverrides{}
		err := tx.Bucket(bucketCenterCards).ForEach(func(k, v []byte) error {
			if len(k) != idWidth+1 {
				return fmt.Errorf("center_cards key of %d bytes", len(k))
			}
			centerID := string(bytes.TrimRight(k[:idWidth], "\x00"))
			if out[centerID] == nil {
				out[centerID] = storage.CardOverrides{}
			}
			return addCard(out[centerID], centerID, k, v)
		})
		return out, err
	})
}

// addCard decodes one center_cards entry into into; a field code of a
// newer program is skipped, not an error.
func addCard(into storage.CardOverrides, centerID string, k, v []byte) error {
	f, ok := cardField(k[len(k)-1])
	if !ok {
		return nil
	}
	var r cardRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return fmt.Errorf("decode card %s of %s: %w", f, centerID, err)
	}
	into[f] = r.toCard(centerID, f)
	return nil
}

// changeRecord is one entry of the change log.
type changeRecord struct {
	At        time.Time      `json:"at"`
	By        int64          `json:"by"`
	CenterID  string         `json:"center"`
	Kind      string         `json:"kind"`
	Field     string         `json:"field,omitempty"`
	Before    *cardRecord    `json:"before,omitempty"`
	After     *cardRecord    `json:"after,omitempty"`
	ClosureID uint64         `json:"closure_id,omitempty"`
	Closure   *closureRecord `json:"closure,omitempty"`
	SessionID uint64         `json:"session_id,omitempty"`
	Session   *sessionRecord `json:"session,omitempty"`
	Cancelled []uint64       `json:"cancelled,omitempty"`
}

// logChange appends ch to the change log, in the caller's transaction: a
// change and its entry commit together or not at all.
func logChange(tx *bolt.Tx, ch storage.Change) error {
	r := changeRecord{
		At: ch.At.UTC(), By: ch.By, CenterID: ch.CenterID, Kind: string(ch.Kind), Field: string(ch.Field), Cancelled: ch.Cancelled,
	}
	if ch.Before != nil {
		cr := cardToRecord(*ch.Before)
		r.Before = &cr
	}
	if ch.After != nil {
		cr := cardToRecord(*ch.After)
		r.After = &cr
	}
	if ch.Closure != nil {
		cr := closureToRecord(*ch.Closure)
		r.ClosureID, r.Closure = ch.Closure.ID, &cr
	}
	if ch.Session != nil {
		sr := sessionToRecord(*ch.Session)
		r.SessionID, r.Session = ch.Session.ID, &sr
	}
	id, err := tx.Bucket(bucketChanges).NextSequence()
	if err != nil {
		return err
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode change: %w", err)
	}
	return tx.Bucket(bucketChanges).Put(encodeUint(id), raw)
}

func (r changeRecord) toChange(id uint64) storage.Change {
	ch := storage.Change{
		ID: id, At: r.At, By: r.By, CenterID: r.CenterID, Kind: storage.ChangeKind(r.Kind),
		Field: storage.CardField(r.Field), Cancelled: r.Cancelled,
	}
	if r.Before != nil {
		o := r.Before.toCard(r.CenterID, ch.Field)
		ch.Before = &o
	}
	if r.After != nil {
		o := r.After.toCard(r.CenterID, ch.Field)
		ch.After = &o
	}
	if r.Closure != nil {
		c := r.Closure.toClosure(r.ClosureID)
		ch.Closure = &c
	}
	if r.Session != nil {
		s := r.Session.toSession(r.SessionID)
		ch.Session = &s
	}
	return ch
}

// MaxChangesPage bounds one page of Changes.
const MaxChangesPage = 100

// Changes implements storage.ChangeStore: a reverse cursor walk from
// before, so a page costs its length whatever the log's size.
func (db *DB) Changes(ctx context.Context, before uint64, limit int) ([]storage.Change, error) {
	limit = min(max(limit, 1), MaxChangesPage)
	return viewOne(ctx, db, func(tx *bolt.Tx) ([]storage.Change, error) {
		c := tx.Bucket(bucketChanges).Cursor()
		var k, v []byte
		if before == 0 {
			k, v = c.Last()
		} else if k, v = c.Seek(encodeUint(before)); k == nil {
			k, v = c.Last() // every entry is older than before
		} else {
			k, v = c.Prev()
		}
		var out []storage.Change
		for ; k != nil && len(out) < limit; k, v = c.Prev() {
			var r changeRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return nil, fmt.Errorf("decode change %d: %w", decodeUint(k), err)
			}
			out = append(out, r.toChange(decodeUint(k)))
		}
		return out, nil
	})
}
