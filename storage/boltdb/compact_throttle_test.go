package boltdb

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"jastar/storage"
)

// TestForget_CompactionThrottledButNeverSkipped: a second /forget within a
// minute does not rewrite the file again at once, but Close runs the
// compaction it is owed, so nothing of either person survives in the file.
func TestForget_CompactionThrottledButNeverSkipped(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jastar.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	names := map[int64]string{101: "Жансая-Бірінші", 102: "Айбек-Екінші"}
	for id, name := range names {
		if err := db.SaveUser(ctx, storage.User{ChatID: id, FirstName: name, Lang: storage.Kazakh, Active: true, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Forget(ctx, 101); err != nil {
		t.Fatal(err)
	}
	first := db.compact.last
	if _, err := db.Forget(ctx, 102); err != nil {
		t.Fatal(err)
	}
	if db.compact.last != first || !db.compact.pending {
		t.Fatalf("second forget compacted at once (last %v, pending %v); want it coalesced", db.compact.last, db.compact.pending)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if bytes.Contains(raw, []byte(name)) {
			t.Errorf("%q is still in the database file after Close", name)
		}
	}
}
