package boltdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

type feedbackRecord struct {
	ChatID   int64     `json:"chat_id"`
	TypeID   string    `json:"type_id"`
	CenterID string    `json:"center_id"`
	Rating   int       `json:"rating"`
	Comment  string    `json:"comment,omitempty"`
	At       time.Time `json:"at"`
}

func (r feedbackRecord) toFeedback(bookingID uint64) storage.Feedback {
	return storage.Feedback{
		BookingID: bookingID, ChatID: r.ChatID, TypeID: r.TypeID, CenterID: r.CenterID,
		Rating: r.Rating, Comment: r.Comment, At: r.At,
	}
}

func getFeedback(tx *bolt.Tx, bookingID uint64) (feedbackRecord, error) {
	var r feedbackRecord
	raw := tx.Bucket(bucketFeedback).Get(encodeUint(bookingID))
	if raw == nil {
		return r, fmt.Errorf("feedback of booking %d: %w", bookingID, storage.ErrNotFound)
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, fmt.Errorf("decode feedback of booking %d: %w", bookingID, err)
	}
	return r, nil
}

func putFeedback(tx *bolt.Tx, bookingID uint64, r feedbackRecord) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode feedback of booking %d: %w", bookingID, err)
	}
	return tx.Bucket(bucketFeedback).Put(encodeUint(bookingID), raw)
}

// SaveRating implements storage.FeedbackStore.
func (db *DB) SaveRating(ctx context.Context, f storage.Feedback) (storage.Feedback, error) {
	if err := ctx.Err(); err != nil {
		return storage.Feedback{}, err
	}
	if f.Rating < 1 || f.Rating > 5 {
		return storage.Feedback{}, fmt.Errorf("rating %d of booking %d: out of 1..5", f.Rating, f.BookingID)
	}
	out := f
	err := db.bolt.Batch(func(tx *bolt.Tx) error {
		old, err := getFeedback(tx, f.BookingID)
		if err == nil {
			out = old.toFeedback(f.BookingID)
			return fmt.Errorf("booking %d already rated: %w", f.BookingID, storage.ErrConflict)
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		rec := feedbackRecord{ChatID: f.ChatID, TypeID: f.TypeID, CenterID: f.CenterID, Rating: f.Rating, At: f.At.UTC()}
		if err := putFeedback(tx, f.BookingID, rec); err != nil {
			return err
		}
		out = rec.toFeedback(f.BookingID)
		return tx.Bucket(bucketFeedbackByAt).Put(feedbackAtKey(f.At, f.BookingID), nil)
	})
	if err != nil {
		return out, fmt.Errorf("save rating: %w", err)
	}
	return out, nil
}

// SaveFeedbackComment implements storage.FeedbackStore.
func (db *DB) SaveFeedbackComment(ctx context.Context, bookingID uint64, comment string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if r := []rune(comment); len(r) > storage.MaxFeedbackComment {
		comment = string(r[:storage.MaxFeedbackComment])
	}
	err := db.bolt.Batch(func(tx *bolt.Tx) error {
		rec, err := getFeedback(tx, bookingID)
		if err != nil {
			return err
		}
		if rec.Comment != "" {
			return storage.ErrConflict
		}
		rec.Comment = comment
		return putFeedback(tx, bookingID, rec)
	})
	if err != nil {
		return fmt.Errorf("save feedback comment of booking %d: %w", bookingID, err)
	}
	return nil
}

// Feedback implements storage.FeedbackStore.
func (db *DB) Feedback(ctx context.Context, bookingID uint64) (storage.Feedback, error) {
	if err := ctx.Err(); err != nil {
		return storage.Feedback{}, err
	}
	var out storage.Feedback
	err := db.bolt.View(func(tx *bolt.Tx) error {
		rec, err := getFeedback(tx, bookingID)
		out = rec.toFeedback(bookingID)
		return err
	})
	return out, err
}

// FeedbackSince implements storage.FeedbackStore. fn runs inside a read
// transaction: it must not write to the database.
func (db *DB) FeedbackSince(ctx context.Context, from time.Time, fn func(storage.Feedback) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketFeedbackByAt).Cursor()
		for k, _ := c.Seek(encodeTime(from)); k != nil; k, _ = c.Next() {
			id := decodeUint(k[8:])
			rec, err := getFeedback(tx, id)
			if err != nil {
				return err
			}
			if err := fn(rec.toFeedback(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

// anonymiseFeedback keeps a booking's rating for the statistics but drops
// who gave it and their own words, which could name them.
func anonymiseFeedback(tx *bolt.Tx, bookingID uint64) error {
	rec, err := getFeedback(tx, bookingID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	rec.ChatID, rec.Comment = 0, ""
	return putFeedback(tx, bookingID, rec)
}
