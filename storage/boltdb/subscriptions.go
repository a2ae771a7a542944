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

type subscriptionRecord struct {
	Topics     []string  `json:"topics,omitempty"`
	DistrictID string    `json:"district_id,omitempty"`
	Lang       string    `json:"lang,omitempty"`
	Active     bool      `json:"active"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func (r subscriptionRecord) toSubscription(chatID int64) storage.Subscription {
	s := storage.Subscription{ChatID: chatID, DistrictID: r.DistrictID, Lang: storage.Lang(r.Lang), Active: r.Active, UpdatedAt: r.UpdatedAt}
	for _, t := range r.Topics {
		s.Topics = append(s.Topics, storage.Topic(t))
	}
	return s
}

// Subscription implements storage.SubscriptionStore.
func (db *DB) Subscription(ctx context.Context, chatID int64) (storage.Subscription, error) {
	return viewOne(ctx, db, func(tx *bolt.Tx) (storage.Subscription, error) { return getSubscription(tx, chatID) })
}

func getSubscription(tx *bolt.Tx, chatID int64) (storage.Subscription, error) {
	r, err := getRecord[subscriptionRecord](tx, bucketSubscriptions, encodeChatID(chatID), "subscription %d", chatID)
	if err != nil {
		return storage.Subscription{}, err
	}
	return r.toSubscription(chatID), nil
}

// SaveSubscription implements storage.SubscriptionStore.
func (db *DB) SaveSubscription(ctx context.Context, s storage.Subscription) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.Batch(func(tx *bolt.Tx) error { return putSubscription(tx, s) })
}

// putSubscription replaces the record and its index entries: the old
// entries go, and an active subscription gets one entry per topic plus the
// any-topic one.
func putSubscription(tx *bolt.Tx, s storage.Subscription) error {
	idx := tx.Bucket(bucketSubscriptionsByTopic)
	if old, err := getSubscription(tx, s.ChatID); err == nil {
		if err := idx.Delete(topicKey(topicAny, s.ChatID)); err != nil {
			return err
		}
		for _, t := range old.Topics {
			if err := idx.Delete(topicKey(topicCode(t), s.ChatID)); err != nil {
				return err
			}
		}
	} else if !isNotFound(err) {
		return err
	}
	r := subscriptionRecord{DistrictID: s.DistrictID, Lang: string(s.Lang), UpdatedAt: s.UpdatedAt.UTC()}
	for _, t := range s.Topics {
		if t.Valid() {
			r.Topics = append(r.Topics, string(t))
		}
	}
	r.Active = s.Active && len(r.Topics) > 0
	if r.Active {
		if err := idx.Put(topicKey(topicAny, s.ChatID), nil); err != nil {
			return err
		}
		for _, t := range r.Topics {
			if err := idx.Put(topicKey(topicCode(storage.Topic(t)), s.ChatID), nil); err != nil {
				return err
			}
		}
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode subscription %d: %w", s.ChatID, err)
	}
	return tx.Bucket(bucketSubscriptions).Put(encodeChatID(s.ChatID), raw)
}

// Unsubscribe implements storage.SubscriptionStore. The topics are dropped
// too: coming back means choosing again, never a silent resubscription.
func (db *DB) Unsubscribe(ctx context.Context, chatID int64, now time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	was := false
	err := db.bolt.Batch(func(tx *bolt.Tx) error {
		s, err := getSubscription(tx, chatID)
		if isNotFound(err) {
			was = false
			return nil
		}
		if err != nil {
			return err
		}
		was = s.Active
		s.Active, s.Topics, s.UpdatedAt = false, nil, now
		return putSubscription(tx, s)
	})
	return was, err
}

// CountAudience implements storage.SubscriptionStore.
func (db *DB) CountAudience(ctx context.Context, a storage.Audience) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := db.bolt.View(func(tx *bolt.Tx) error {
		_, _, err := walkAudience(tx, a, 0, false, -1, func(storage.Recipient) error { n++; return nil })
		return err
	})
	return n, err
}

// walkAudience calls f for each subscriber of a after the chat after (from
// the first when hasAfter is false), in chat order, stopping after limit
// scanned index entries (limit < 0: no limit). It returns the last chat
// scanned and whether the walk reached the end.
func walkAudience(tx *bolt.Tx, a storage.Audience, after int64, hasAfter bool, limit int, f func(storage.Recipient) error) (last int64, end bool, err error) {
	code := topicAny
	if a.Topic != "" {
		code = topicCode(a.Topic)
		if code == topicAny {
			return 0, true, nil // an unknown topic has no subscribers
		}
	}
	prefix := []byte{code}
	c := tx.Bucket(bucketSubscriptionsByTopic).Cursor()
	var k []byte
	if hasAfter {
		seek := topicKey(code, after)
		k, _ = c.Seek(seek)
		if k != nil && bytes.Equal(k, seek) {
			k, _ = c.Next()
		}
	} else {
		k, _ = c.Seek(prefix)
	}
	scanned := 0
	for ; k != nil && bytes.HasPrefix(k, prefix) && len(k) == 9; k, _ = c.Next() {
		if limit >= 0 && scanned >= limit {
			return last, false, nil
		}
		scanned++
		chatID := decodeChatID(k[1:])
		last = chatID
		s, err := getSubscription(tx, chatID)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return last, false, err
		}
		// The person's current language decides, not the one they had
		// when they subscribed.
		lang := s.Lang
		if u, err := getUser(tx, chatID); err == nil && u.Lang.Valid() {
			lang = u.Lang
		}
		if !lang.Valid() {
			lang = storage.Kazakh
		}
		if !a.Matches(s, lang) {
			continue
		}
		if err := f(storage.Recipient{ChatID: chatID, Lang: lang}); err != nil {
			return last, false, err
		}
	}
	return last, true, nil
}
