package boltdb

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

func openTemp(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jastar.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func TestOpen_FileModeAndSchema(t *testing.T) {
	db, path := openTemp(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("file mode = %o, want 600: the file holds personal data", mode)
	}
	v, err := db.SchemaVersion()
	if err != nil || v != schemaVersion {
		t.Errorf("schema version = %d, %v; want %d", v, err, schemaVersion)
	}
}

func TestOpen_SecondInstanceRefused(t *testing.T) {
	_, path := openTemp(t)
	start := time.Now()
	_, err := Open(path, Options{LockTimeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("second Open took %v; it must fail promptly", took)
	}
}

func TestOpen_NewerSchemaRefused(t *testing.T) {
	db, path := openTemp(t)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, encodeUint(schemaVersion+1))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(path, Options{})
	if !errors.Is(err, storage.ErrSchemaTooNew) {
		t.Fatalf("Open of a newer database = %v, want ErrSchemaTooNew", err)
	}
}

func TestUsers_SurviveReopenAndConsent(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	_, err := db.UpdateUser(ctx, 42, func(u *storage.User) error {
		u.Lang, u.FirstName, u.Active, u.CreatedAt = storage.Russian, "Айгерим", true, now
		u.Phone = "+77011234567" // no consent: must not be written
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	u, err := db2.User(ctx, 42)
	if err != nil {
		t.Fatal(err)
	}
	if u.Lang != storage.Russian || u.FirstName != "Айгерим" || !u.CreatedAt.Equal(now) {
		t.Errorf("reopened user = %+v", u)
	}
	if u.Phone != "" {
		t.Errorf("phone stored without consent: %q", u.Phone)
	}
	if _, err := db2.User(ctx, 43); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("missing user: err = %v, want ErrNotFound", err)
	}
}

func TestEncodeChatID_Order(t *testing.T) {
	ids := []int64{5, -1001234567890, 0, -1, 1 << 40, -(1 << 62), 42}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = string(encodeChatID(id))
		if got := decodeChatID([]byte(keys[i])); got != id {
			t.Errorf("decode(encode(%d)) = %d", id, got)
		}
	}
	sort.Strings(keys)
	sorted := append([]int64(nil), ids...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	for i, k := range keys {
		if got := decodeChatID([]byte(k)); got != sorted[i] {
			t.Fatalf("key order position %d = %d, want %d (negative ids first)", i, got, sorted[i])
		}
	}
}

func TestInbox_AcceptDedupAndReplay(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	batch := []storage.RawUpdate{{ID: 10, JSON: []byte(`{"update_id":10}`)}, {ID: 11, JSON: []byte(`{"update_id":11}`)}}
	acc, err := db.Accept(ctx, batch, 12, now)
	if err != nil || len(acc) != 2 {
		t.Fatalf("Accept = %v, %v", acc, err)
	}
	if err := db.Done(ctx, []int{10}, now); err != nil {
		t.Fatal(err)
	}
	// Telegram sends the same batch again (the confirming poll was cut):
	// neither the handled nor the pending one may be accepted twice.
	acc, err = db.Accept(ctx, batch, 12, now)
	if err != nil || len(acc) != 0 {
		t.Fatalf("re-Accept = %v, %v; want nothing new", acc, err)
	}
	db.Close()
	db2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	pending, err := db2.Pending(ctx)
	if err != nil || len(pending) != 1 || pending[0].ID != 11 || string(pending[0].JSON) != `{"update_id":11}` {
		t.Fatalf("pending after reopen = %+v, %v", pending, err)
	}
	off, last, err := db2.Offset(ctx)
	if err != nil || off != 12 || !last.Equal(now) {
		t.Errorf("offset = %d, %v, %v; want 12 at %v", off, last, err, now)
	}
	// A day later the handled id is forgotten.
	n, err := db2.ForgetHandled(ctx, now.Add(time.Hour))
	if err != nil || n != 1 {
		t.Errorf("ForgetHandled = %d, %v; want 1", n, err)
	}
}

// TestInbox_EraseLeavesNoCopy scans the raw file after Erase and Close,
// as the Forget test does: the text of an erased update is in no page,
// freed or live (bbolt keeps a deleted record in a freed page until the
// page is reused or the file compacted), while the other updates wait in
// the inbox as before.
func TestInbox_EraseLeavesNoCopy(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	const secret = "Erase-me-unique-7e1f"
	batch := []storage.RawUpdate{
		{ID: 20, JSON: []byte(`{"update_id":20,"message":{"text":"` + secret + `"}}`)},
		{ID: 21, JSON: []byte(`{"update_id":21,"message":{"text":"kept"}}`)},
	}
	if _, err := db.Accept(ctx, batch, 22, now); err != nil {
		t.Fatal(err)
	}
	if err := db.Erase(ctx, 20, now); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file, []byte(secret)) {
		t.Error("the database file still holds the erased update's text")
	}
	db2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	pending, err := db2.Pending(ctx)
	if err != nil || len(pending) != 1 || pending[0].ID != 21 {
		t.Errorf("pending after erase = %+v, %v; want update 21 alone", pending, err)
	}
	// The handling's own Done comes after, and finds nothing to delete; a
	// batch Telegram sends again does not bring the update back.
	if err := db2.Done(ctx, []int{20}, now); err != nil {
		t.Fatal(err)
	}
	if acc, err := db2.Accept(ctx, batch, 22, now); err != nil || len(acc) != 0 {
		t.Errorf("re-Accept = %v, %v; want nothing new", acc, err)
	}
}

func TestConversations_ExpireByIndex(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for i, chat := range []int64{1, 2, 3} {
		c := storage.Conversation{ChatID: chat, Flow: "book", Step: "day", State: []byte(`{"type":"career"}`), UpdatedAt: base.Add(time.Duration(i) * 10 * time.Minute)}
		if err := db.SaveConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// Chat 1 moves on: its old index entry must not expire it.
	if err := db.SaveConversation(ctx, storage.Conversation{ChatID: 1, Flow: "book", Step: "time", UpdatedAt: base.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	n, err := db.ExpireConversations(ctx, base.Add(15*time.Minute))
	// Chat 1 was touched at +60 min, chat 2 at +10, chat 3 at +20: only
	// chat 2 is idle past the cutoff of +15.
	if err != nil || n != 1 {
		t.Fatalf("expired %d, %v; want 1", n, err)
	}
	for _, chat := range []int64{1, 3} {
		if _, err := db.Conversation(ctx, chat); err != nil {
			t.Errorf("chat %d is recent and must stay: %v", chat, err)
		}
	}
	for _, chat := range []int64{2} {
		if _, err := db.Conversation(ctx, chat); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("chat %d: err = %v, want expired", chat, err)
		}
	}
}
