package boltdb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

type userRecord struct {
	Lang                string    `json:"lang"`
	LangSet             bool      `json:"lang_set,omitempty"`
	FirstName           string    `json:"first_name,omitempty"`
	Username            string    `json:"username,omitempty"`
	Phone               string    `json:"phone,omitempty"`
	PhoneConsent        bool      `json:"phone_consent,omitempty"`
	Active              bool      `json:"active"`
	HasLocation         bool      `json:"has_location,omitempty"`
	Lat                 float64   `json:"lat,omitempty"`
	Lon                 float64   `json:"lon,omitempty"`
	SubscriptionOffered bool      `json:"subscription_offered,omitempty"`
	CreatedAt           time.Time `json:"created_at"`
	UpdatedAt           time.Time `json:"updated_at"`
}

func userToRecord(u storage.User) userRecord {
	r := userRecord{
		Lang: string(u.Lang), LangSet: u.LangSet, FirstName: u.FirstName, Username: u.Username,
		PhoneConsent: u.PhoneConsent, Active: u.Active, HasLocation: u.HasLocation,
		SubscriptionOffered: u.SubscriptionOffered, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(),
	}
	// A phone number is personal data: without consent it is never written.
	if u.PhoneConsent {
		r.Phone = u.Phone
	}
	if u.HasLocation {
		r.Lat, r.Lon = u.Lat, u.Lon
	}
	return r
}

func (r userRecord) toUser(chatID int64) storage.User {
	return storage.User{
		ChatID: chatID, Lang: storage.Lang(r.Lang), LangSet: r.LangSet, FirstName: r.FirstName,
		Username: r.Username, Phone: r.Phone, PhoneConsent: r.PhoneConsent, Active: r.Active,
		HasLocation: r.HasLocation, Lat: r.Lat, Lon: r.Lon, SubscriptionOffered: r.SubscriptionOffered,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

// User implements storage.UserStore, from the cache of people read lately
// when it has them (see recordCache).
func (db *DB) User(ctx context.Context, chatID int64) (storage.User, error) {
	return readThrough(ctx, db, &db.users, chatID, func(tx *bolt.Tx) (storage.User, error) { return getUser(tx, chatID) })
}

func getUser(tx *bolt.Tx, chatID int64) (storage.User, error) {
	r, err := getRecord[userRecord](tx, bucketUsers, encodeChatID(chatID), "user %d", chatID)
	if err != nil {
		return storage.User{}, err
	}
	return r.toUser(chatID), nil
}

func putUser(tx *bolt.Tx, u storage.User) error {
	raw, err := json.Marshal(userToRecord(u))
	if err != nil {
		return fmt.Errorf("encode user %d: %w", u.ChatID, err)
	}
	return tx.Bucket(bucketUsers).Put(encodeChatID(u.ChatID), raw)
}

// SaveUser implements storage.UserStore.
func (db *DB) SaveUser(ctx context.Context, u storage.User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.Batch(func(tx *bolt.Tx) error {
		db.users.changes(tx, u.ChatID)
		return putUser(tx, u)
	})
}

// UpdateUser implements storage.UserStore. It runs in a batched write
// transaction: change may be called more than once and must only modify u.
func (db *DB) UpdateUser(ctx context.Context, chatID int64, change func(*storage.User) error) (storage.User, error) {
	if err := ctx.Err(); err != nil {
		return storage.User{}, err
	}
	// A change that changes nothing is not written: choosing the language
	// one has, or sharing the same location again, then costs a read,
	// usually from the cache, instead of a commit the answer waits for
	// (people's writes were a fifth of all writes under load, many of them
	// such). Skipping is sound against a write that races it: the change
	// is then ordered before that write, when it changed nothing.
	if cur, err := db.User(ctx, chatID); err == nil {
		next := cur
		if err := change(&next); err != nil {
			return storage.User{}, err
		}
		if unchanged(cur, next) {
			return cur, nil
		}
	}
	var out storage.User
	err := db.bolt.Batch(func(tx *bolt.Tx) error {
		u, err := getUser(tx, chatID)
		if err != nil && !isNotFound(err) {
			return err
		}
		if err != nil {
			u = storage.User{ChatID: chatID}
		}
		if err := change(&u); err != nil {
			return err
		}
		u.ChatID = chatID
		out = u
		db.users.changes(tx, chatID)
		return putUser(tx, u)
	})
	return out, err
}

// unchanged reports whether next, a change applied to cur, stores the same
// person: every field but UpdatedAt equal.
func unchanged(cur, next storage.User) bool {
	if next.ChatID != cur.ChatID || !next.CreatedAt.Equal(cur.CreatedAt) {
		return false
	}
	next.CreatedAt, next.UpdatedAt = cur.CreatedAt, cur.UpdatedAt
	return next == cur
}
