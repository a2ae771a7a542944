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

type conversationRecord struct {
	Flow      string            `json:"flow"`
	Step      string            `json:"step"`
	Data      map[string]string `json:"data,omitempty"`
	UpdatedAt time.Time         `json:"updated_at"`
}

func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }

// Conversation implements storage.ConversationStore.
func (db *DB) Conversation(ctx context.Context, chatID int64) (storage.Conversation, error) {
	if err := ctx.Err(); err != nil {
		return storage.Conversation{}, err
	}
	var c storage.Conversation
	err := db.bolt.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketConversations).Get(encodeChatID(chatID))
		if raw == nil {
			return fmt.Errorf("conversation %d: %w", chatID, storage.ErrNotFound)
		}
		var r conversationRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("decode conversation %d: %w", chatID, err)
		}
		c = storage.Conversation{ChatID: chatID, Flow: r.Flow, Step: r.Step, Data: r.Data, UpdatedAt: r.UpdatedAt}
		return nil
	})
	return c, err
}

// SaveConversation implements storage.ConversationStore.
func (db *DB) SaveConversation(ctx context.Context, c storage.Conversation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	raw, err := json.Marshal(conversationRecord{Flow: c.Flow, Step: c.Step, Data: c.Data, UpdatedAt: c.UpdatedAt.UTC()})
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
	return db.bolt.Batch(func(tx *bolt.Tx) error { return deleteConversation(tx, chatID) })
}

func deleteConversation(tx *bolt.Tx, chatID int64) error {
	key := encodeChatID(chatID)
	b := tx.Bucket(bucketConversations)
	raw := b.Get(key)
	if raw == nil {
		return nil
	}
	var r conversationRecord
	if err := json.Unmarshal(raw, &r); err == nil {
		if err := tx.Bucket(bucketConversationsByUpdated).Delete(compositeKey(encodeTime(r.UpdatedAt), key)); err != nil {
			return err
		}
	}
	return b.Delete(key)
}

// ExpireConversations implements storage.ConversationStore. It walks the
// by-updated index from the oldest entry and stops at cutoff, so its cost is
// the number of expired dialogues, not the number stored.
func (db *DB) ExpireConversations(ctx context.Context, cutoff time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		idx := tx.Bucket(bucketConversationsByUpdated)
		var expired [][]byte
		c := idx.Cursor()
		limit := encodeTime(cutoff)
		for k, _ := c.First(); k != nil && len(k) == 16 && string(k[:8]) < string(limit); k, _ = c.Next() {
			expired = append(expired, append([]byte(nil), k...))
		}
		for _, k := range expired {
			if err := idx.Delete(k); err != nil {
				return err
			}
			if err := tx.Bucket(bucketConversations).Delete(k[8:]); err != nil {
				return err
			}
		}
		n = len(expired)
		return nil
	})
	return n, err
}
