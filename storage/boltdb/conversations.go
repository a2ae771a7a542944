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

// conversationRecord is an open dialogue, or what is left of an expired
// one: flow, step, UpdatedAt and the token, with Expired set.
type conversationRecord struct {
	Flow  string          `json:"flow"`
	Step  string          `json:"step"`
	Token string          `json:"token,omitempty"`
	State json.RawMessage `json:"state,omitempty"`
	// Data is the untyped state of records written before State: only
	// their token is read from it; the rest a flow cannot use.
	Data      map[string]string `json:"data,omitempty"`
	UpdatedAt time.Time         `json:"updated_at"`
	Expired   bool              `json:"expired,omitempty"`
}

// index is the bucket that lists the record: open and expired dialogues
// are walked apart, each from its oldest.
func (r conversationRecord) index(tx *bolt.Tx) *bolt.Bucket {
	if r.Expired {
		return tx.Bucket(bucketConversationsByExpired)
	}
	return tx.Bucket(bucketConversationsByUpdated)
}

// legacyTokenKey is where records written before the token had its own
// field keep it, in the untyped data.
const legacyTokenKey = "tok"

// token is the dialogue's token, from its field or, in a record written
// before the field existed, from its data.
func (r conversationRecord) token() string {
	if r.Token != "" {
		return r.Token
	}
	return r.Data[legacyTokenKey]
}

func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }

// Conversation implements storage.ConversationStore. An expired dialogue
// comes back with storage.ErrDialogExpired, its flow and step filled in.
func (db *DB) Conversation(ctx context.Context, chatID int64) (storage.Conversation, error) {
	return viewOne(ctx, db, func(tx *bolt.Tx) (storage.Conversation, error) {
		r, err := getRecord[conversationRecord](tx, bucketConversations, encodeChatID(chatID), "conversation %d", chatID)
		if err != nil {
			return storage.Conversation{}, err
		}
		c := storage.Conversation{ChatID: chatID, Flow: r.Flow, Step: r.Step, Token: r.token(), State: r.State, UpdatedAt: r.UpdatedAt}
		if r.Expired {
			return c, fmt.Errorf("conversation %d: %w", chatID, storage.ErrDialogExpired)
		}
		return c, nil
	})
}

// SaveConversation implements storage.ConversationStore.
func (db *DB) SaveConversation(ctx context.Context, c storage.Conversation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	raw, err := json.Marshal(conversationRecord{Flow: c.Flow, Step: c.Step, Token: c.Token, State: c.State, UpdatedAt: c.UpdatedAt.UTC()})
	if err != nil {
		return fmt.Errorf("encode conversation %d: %w", c.ChatID, err)
	}
	return db.bolt.Batch(func(tx *bolt.Tx) error {
		if err := deleteConversation(tx, c.ChatID); err != nil {
			return err
		}
		key := encodeChatID(c.ChatID)
		if err := tx.Bucket(bucketConversations).Put(key, raw); err != nil {
			return err
		}
		return tx.Bucket(bucketConversationsByUpdated).Put(compositeKey(encodeTime(c.UpdatedAt), key), nil)
	})
}

// DeleteConversation implements storage.ConversationStore.
func (db *DB) DeleteConversation(ctx context.Context, chatID int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Most calls close a dialogue that is there; those that find none (a
	// menu button pressed outside any dialogue) need no commit to wait
	// for. Skipping is sound against a racing save: the delete is then
	// ordered before it, when there was nothing to delete.
	var exists bool
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		exists = tx.Bucket(bucketConversations).Get(encodeChatID(chatID)) != nil
		return nil
	}); err != nil || !exists {
		return err
	}
	return db.bolt.Batch(func(tx *bolt.Tx) error { return deleteConversation(tx, chatID) })
}

// deleteConversation removes the chat's dialogue, open or expired, with its
// index entry. Forget erases a person's dialogue through it.
func deleteConversation(tx *bolt.Tx, chatID int64) error {
	key := encodeChatID(chatID)
	b := tx.Bucket(bucketConversations)
	raw := b.Get(key)
	if raw == nil {
		return nil
	}
	// Only what finds the index entry: every step of a dialogue replaces
	// its record, and decoding the state and data too was wasted.
	var r struct {
		UpdatedAt time.Time `json:"updated_at"`
		Expired   bool      `json:"expired,omitempty"`
	}
	if err := json.Unmarshal(raw, &r); err == nil {
		idx := conversationRecord{Expired: r.Expired}.index(tx)
		if err := idx.Delete(compositeKey(encodeTime(r.UpdatedAt), key)); err != nil {
			return err
		}
	}
	return b.Delete(key)
}

// ExpireConversations implements storage.ConversationStore. It walks the
// by-updated index from the oldest entry and stops at cutoff, so its cost is
// the number of expired dialogues, not the number stored. Each record is
// cut down to flow, step and token and moves to the by-expired index, keyed
// by the same time.
func (db *DB) ExpireConversations(ctx context.Context, cutoff time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		n = 0
		expired := olderThan(tx.Bucket(bucketConversationsByUpdated), cutoff)
		for _, k := range expired {
			if err := expireConversation(tx, k); err != nil {
				return err
			}
		}
		n = len(expired)
		return nil
	})
	return n, err
}

// expireConversation turns the dialogue of the by-updated index entry k
// into its expired record.
func expireConversation(tx *bolt.Tx, k []byte) error {
	if err := tx.Bucket(bucketConversationsByUpdated).Delete(k); err != nil {
		return err
	}
	convs := tx.Bucket(bucketConversations)
	var r conversationRecord
	if err := json.Unmarshal(convs.Get(k[8:]), &r); err != nil {
		// Unreadable: nothing worth keeping to explain.
		return convs.Delete(k[8:])
	}
	r.Token, r.Expired, r.State, r.Data = r.token(), true, nil, nil
	raw, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode expired conversation %d: %w", decodeChatID(k[8:]), err)
	}
	if err := convs.Put(k[8:], raw); err != nil {
		return err
	}
	return tx.Bucket(bucketConversationsByExpired).Put(k, nil)
}

// DropExpiredConversations implements storage.ConversationStore, walking the
// by-expired index from its oldest entry up to cutoff.
func (db *DB) DropExpiredConversations(ctx context.Context, cutoff time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		n = 0
		idx, convs := tx.Bucket(bucketConversationsByExpired), tx.Bucket(bucketConversations)
		dropped := olderThan(idx, cutoff)
		for _, k := range dropped {
			if err := idx.Delete(k); err != nil {
				return err
			}
			// Only the expired record: a new dialogue of the chat
			// replaced the entry when it was saved, but a stray entry
			// must not take an open dialogue with it.
			var r conversationRecord
			if json.Unmarshal(convs.Get(k[8:]), &r) != nil || !r.Expired {
				continue
			}
			if err := convs.Delete(k[8:]); err != nil {
				return err
			}
		}
		n = len(dropped)
		return nil
	})
	return n, err
}

// olderThan copies the keys (time | chatID) of idx before cutoff, oldest
// first; the copies outlive the deletes that follow.
func olderThan(idx *bolt.Bucket, cutoff time.Time) [][]byte {
	var keys [][]byte
	limit := string(encodeTime(cutoff))
	c := idx.Cursor()
	for k, _ := c.First(); k != nil && len(k) == 16 && string(k[:8]) < limit; k, _ = c.Next() {
		keys = append(keys, append([]byte(nil), k...))
	}
	return keys
}
