package boltdb

import (
	"context"
	"errors"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

// TestConversations_ExpiredKeepsTokenForADay: an idle dialogue is closed,
// not deleted: a late answer can still be told "expired" from its flow and
// token, the rest of what it collected is gone, and a day later nothing of
// it is left.
func TestConversations_ExpiredKeepsTokenForADay(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	idle := storage.Conversation{ChatID: -7, Flow: "book", Step: "phone", Token: "k3x9", State: []byte(`{"center":"karasai"}`), UpdatedAt: base}
	busy := storage.Conversation{ChatID: 8, Flow: "book", Step: "day", UpdatedAt: base.Add(50 * time.Minute)}
	for _, c := range []storage.Conversation{idle, busy} {
		if err := db.SaveConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := db.ExpireConversations(ctx, base.Add(30*time.Minute)); err != nil || n != 1 {
		t.Fatalf("expired %d, %v; want 1", n, err)
	}
	// A second run finds the expired one no more: it is out of the index
	// of open dialogues.
	if n, err := db.ExpireConversations(ctx, base.Add(30*time.Minute)); err != nil || n != 0 {
		t.Fatalf("second run expired %d, %v; want 0", n, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	got, err := db.Conversation(ctx, idle.ChatID)
	if !errors.Is(err, storage.ErrDialogExpired) || !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("expired dialogue: err = %v, want ErrDialogExpired, which is an ErrNotFound", err)
	}
	if got.Flow != "book" || got.Step != "phone" || !got.UpdatedAt.Equal(base) || got.State != nil || got.Token != "k3x9" {
		t.Errorf("expired dialogue = %+v; want flow, step, time and token only", got)
	}
	if _, err := db.Conversation(ctx, busy.ChatID); err != nil {
		t.Errorf("busy dialogue: %v", err)
	}

	// Nothing expired yet is dropped before its day is over, and the
	// open dialogue is never dropped.
	if n, err := db.DropExpiredConversations(ctx, base); err != nil || n != 0 {
		t.Fatalf("dropped %d, %v at the expiry's own time; want 0", n, err)
	}
	if n, err := db.DropExpiredConversations(ctx, base.Add(24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("dropped %d, %v a day later; want 1", n, err)
	}
	if _, err := db.Conversation(ctx, idle.ChatID); !errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrDialogExpired) {
		t.Errorf("after a day: err = %v, want plain not found", err)
	}
	if _, err := db.Conversation(ctx, busy.ChatID); err != nil {
		t.Errorf("busy dialogue after the drop: %v", err)
	}
	assertIndexes(t, db, map[string]int{"conversations_by_updated": 1, "conversations_by_expired": 0})
}

// TestConversations_NewDialogueReplacesExpired: starting again replaces the
// expired record and its index entry, so neither the drop a day later nor
// a lookup mistakes the new dialogue for the old.
func TestConversations_NewDialogueReplacesExpired(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	saveExpired(t, db, 5, base)
	fresh := storage.Conversation{ChatID: 5, Flow: "book", Step: "type", UpdatedAt: base.Add(2 * time.Hour)}
	fresh.Token = "new"
	if err := db.SaveConversation(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	assertIndexes(t, db, map[string]int{"conversations_by_updated": 1, "conversations_by_expired": 0})
	if n, err := db.DropExpiredConversations(ctx, base.Add(48*time.Hour)); err != nil || n != 0 {
		t.Errorf("dropped %d, %v; want nothing", n, err)
	}
	got, err := db.Conversation(ctx, 5)
	if err != nil || got.Token != "new" {
		t.Errorf("dialogue = %+v, %v; want the new one open", got, err)
	}
}

// TestForget_ErasesExpiredDialogue: what is left of an expired dialogue
// names the chat in two keys; Forget removes both.
func TestForget_ErasesExpiredDialogue(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	saveExpired(t, db, 77, base)
	if _, err := db.Forget(ctx, 77); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Conversation(ctx, 77); !errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrDialogExpired) {
		t.Errorf("after Forget: err = %v, want plain not found", err)
	}
	assertIndexes(t, db, map[string]int{"conversations": 0, "conversations_by_updated": 0, "conversations_by_expired": 0})
}

// saveExpired stores a booking dialogue of chatID last touched at base and
// expires it.
func saveExpired(t *testing.T, db *DB, chatID int64, base time.Time) {
	t.Helper()
	ctx := context.Background()
	c := storage.Conversation{ChatID: chatID, Flow: "book", Step: "phone", Token: "old", UpdatedAt: base}
	if err := db.SaveConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	if n, err := db.ExpireConversations(ctx, base.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("expired %d, %v; want 1", n, err)
	}
}

// assertIndexes checks how many keys each named bucket holds.
func assertIndexes(t *testing.T, db *DB, want map[string]int) {
	t.Helper()
	err := db.bolt.View(func(tx *bolt.Tx) error {
		for name, n := range want {
			if got := tx.Bucket([]byte(name)).Stats().KeyN; got != n {
				t.Errorf("bucket %s holds %d keys, want %d", name, got, n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestConversations_ReadsTokenOfEarlierRecords: a dialogue saved before the
// token had its own field kept it in its data; after the upgrade its
// buttons still match, open or expired.
func TestConversations_ReadsTokenOfEarlierRecords(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	// The record as the version before wrote it: the token and the
	// choices in one untyped map.
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		key := encodeChatID(9)
		raw := `{"flow":"book","step":"day","data":{"tok":"a1b2","center":"karasai"},"updated_at":"2026-11-22T10:00:00Z"}`
		if err := tx.Bucket(bucketConversations).Put(key, []byte(raw)); err != nil {
			return err
		}
		return tx.Bucket(bucketConversationsByUpdated).Put(compositeKey(encodeTime(base), key), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	// Its token still matches its buttons; its choices are no state a
	// flow can read, so the flow ends it.
	if got, err := db.Conversation(ctx, 9); err != nil || got.Token != "a1b2" || got.State != nil {
		t.Fatalf("open dialogue = %+v, %v; want token a1b2 and no state", got, err)
	}
	if n, err := db.ExpireConversations(ctx, base.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("expired %d, %v; want 1", n, err)
	}
	got, err := db.Conversation(ctx, 9)
	if !errors.Is(err, storage.ErrDialogExpired) || got.Token != "a1b2" {
		t.Errorf("expired dialogue = %+v, %v; want the token only", got, err)
	}
}

// TestDeleteConversation_NoDialogueNoCommit: closing a dialogue that is not
// there (a menu button outside any dialogue) commits nothing, so nobody
// waits for a commit; an open or expired one is deleted with its index.
func TestDeleteConversation_NoDialogueNoCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTemp(t)
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	before := lastCommit(t, db)
	if err := db.DeleteConversation(ctx, 41); err != nil {
		t.Fatal(err)
	}
	if after := lastCommit(t, db); after != before {
		t.Errorf("closing no dialogue committed (transaction %d → %d)", before, after)
	}

	saveExpired(t, db, 42, base)
	if err := db.SaveConversation(ctx, storage.Conversation{ChatID: 41, Flow: "book", Step: "day", UpdatedAt: base.Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for _, chat := range []int64{41, 42} {
		if err := db.DeleteConversation(ctx, chat); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Conversation(ctx, chat); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("chat %d: after closing, Conversation = %v; want not found", chat, err)
		}
	}
	assertIndexes(t, db, map[string]int{"conversations": 0, "conversations_by_updated": 0, "conversations_by_expired": 0})
}
