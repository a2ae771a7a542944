package boltdb

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

// Offset implements storage.Inbox.
func (db *DB) Offset(ctx context.Context) (int, time.Time, error) {
	if err := ctx.Err(); err != nil {
		return 0, time.Time{}, err
	}
	var off int
	var last time.Time
	err := db.bolt.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		off = int(decodeUint(meta.Get(keyNextOffset)))
		if raw := meta.Get(keyLastUpdateAt); raw != nil {
			last = decodeTime(raw)
		}
		return nil
	})
	return off, last, err
}

// Accept implements storage.Inbox. Updates already pending or handled are
// dropped here: the poller handles a batch while it is stored, so an
// update's handling may be marked (Done, Erase) before its batch is
// stored, and then it must not enter the inbox to be replayed.
func (db *DB) Accept(ctx context.Context, updates []storage.RawUpdate, nextOffset int, now time.Time) ([]storage.RawUpdate, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var accepted []storage.RawUpdate
	// Batched, so the batch shares the handlers' commit (see Done); the
	// function may run twice, and starts over each time.
	err := db.bolt.Batch(func(tx *bolt.Tx) error {
		accepted = accepted[:0]
		inbox, handled, meta := tx.Bucket(bucketInbox), tx.Bucket(bucketHandled), tx.Bucket(bucketMeta)
		for _, u := range updates {
			key := encodeUint(uint64(u.ID))
			if inbox.Get(key) != nil || handled.Get(key) != nil {
				continue
			}
			if err := inbox.Put(key, u.JSON); err != nil {
				return err
			}
			accepted = append(accepted, u)
		}
		if err := meta.Put(keyNextOffset, encodeUint(uint64(nextOffset))); err != nil {
			return err
		}
		if len(updates) > 0 {
			return meta.Put(keyLastUpdateAt, encodeTime(now))
		}
		return nil
	})
	return accepted, err
}

// Unseen implements storage.Inbox.
func (db *DB) Unseen(ctx context.Context, updates []storage.RawUpdate) ([]storage.RawUpdate, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var unseen []storage.RawUpdate
	err := db.bolt.View(func(tx *bolt.Tx) error {
		inbox, handled := tx.Bucket(bucketInbox), tx.Bucket(bucketHandled)
		for _, u := range updates {
			key := encodeUint(uint64(u.ID))
			if inbox.Get(key) == nil && handled.Get(key) == nil {
				unseen = append(unseen, u)
			}
		}
		return nil
	})
	return unseen, err
}

// Pending implements storage.Inbox.
func (db *DB) Pending(ctx context.Context) ([]storage.RawUpdate, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []storage.RawUpdate
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketInbox).ForEach(func(k, v []byte) error {
			out = append(out, storage.RawUpdate{ID: int(decodeUint(k)), JSON: append([]byte(nil), v...)})
			return nil
		})
	})
	return out, err
}

// Done implements storage.Inbox. The marks join the handlers' shared
// commit (groupCommit) instead of committing on their own: under load
// the done log's own commits were nearly half of all the bot's commits,
// each with its two fsyncs. The function may run twice; deleting and
// marking again changes nothing.
func (db *DB) Done(ctx context.Context, updateIDs []int, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.Batch(func(tx *bolt.Tx) error {
		inbox, handled := tx.Bucket(bucketInbox), tx.Bucket(bucketHandled)
		at := encodeTime(now)
		for _, id := range updateIDs {
			key := encodeUint(uint64(id))
			if err := inbox.Delete(key); err != nil {
				return err
			}
			if err := handled.Put(key, at); err != nil {
				return err
			}
		}
		return nil
	})
}

// Erase implements storage.Inbox. The compaction is owed in the same
// transaction that deletes the update, so a crash before it runs leaves it
// owed, and the next Open runs it.
func (db *DB) Erase(ctx context.Context, updateID int, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		key := encodeUint(uint64(updateID))
		if err := tx.Bucket(bucketInbox).Delete(key); err != nil {
			return err
		}
		if err := tx.Bucket(bucketHandled).Put(key, encodeTime(now)); err != nil {
			return err
		}
		return markCompactOwed(tx)
	})
	if err != nil {
		return fmt.Errorf("erase update %d: %w", updateID, err)
	}
	db.compactSoon()
	return nil
}

// ForgetHandled implements storage.Inbox. Update ids only grow within a week,
// so handled ids older than a day are no longer needed for de-duplication.
func (db *DB) ForgetHandled(ctx context.Context, cutoff time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketHandled)
		var old [][]byte
		// Update ids grow, so the oldest handled ids come first and the walk
		// stops at the first one still fresh: cost is the number dropped.
		c := b.Cursor()
		for k, v := c.First(); k != nil && decodeTime(v).Before(cutoff); k, v = c.Next() {
			old = append(old, append([]byte(nil), k...))
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	return n, err
}
