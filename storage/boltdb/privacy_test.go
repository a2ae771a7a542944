package boltdb

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

func TestDB_AllBookingsOn(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	// Centers in key order "a_center" < "karasai" < "online" < "zz": the
	// skip-scan must visit each and keep only the range.
	var want []uint64
	for i, c := range []string{"zz", "karasai", "a_center", "online"} {
		for d := 2; d <= 6; d++ {
			b, err := db.Book(ctx, booking(int64(100+i*10+d), c, "career", at(d, 11)), rules(5, 0))
			if err != nil {
				t.Fatal(err)
			}
			if d >= 3 && d <= 4 {
				want = append(want, b.ID)
			}
		}
	}
	got, err := db.AllBookingsOn(ctx, at(3, 0), at(5, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d bookings, want %d", len(got), len(want))
	}
	seen := map[uint64]bool{}
	for i, b := range got {
		seen[b.ID] = true
		if i > 0 && b.Start.Before(got[i-1].Start) {
			t.Errorf("bookings out of order at %d", i)
		}
	}
	for _, id := range want {
		if !seen[id] {
			t.Errorf("booking %d missing", id)
		}
	}
}

// TestDB_Forget scans the raw file, as an attacker with a copy of it would:
// bbolt keeps freed pages, so only the compaction makes this pass.
func TestDB_Forget(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jastar.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const me, other = int64(777001), int64(777002)
	const name, username, phone = "Zhanargul-Unique", "zhanargul_unique", "+77015550199"
	if err := db.SaveUser(ctx, storage.User{ChatID: me, Lang: storage.Kazakh, FirstName: name, Username: username,
		Phone: phone, PhoneConsent: true, HasLocation: true, Lat: 43.2, Lon: 76.9, Active: true, CreatedAt: testNow}); err != nil {
		t.Fatal(err)
	}
	// Neighbours, so the users bucket spans pages as in real life.
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		for i := range 300 {
			if err := putUser(tx, storage.User{ChatID: int64(1000 + i), Lang: storage.Russian, FirstName: fmt.Sprintf("Neighbour %d", i), Active: true}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Rewrite the user a few times so old versions land in freed pages.
	for i := range 5 {
		if _, err := db.UpdateUser(ctx, me, func(u *storage.User) error { u.UpdatedAt = testNow.Add(time.Duration(i) * time.Minute); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SaveConversation(ctx, storage.Conversation{ChatID: me, Flow: "book", Step: "day", Data: map[string]string{"note": name}, UpdatedAt: testNow}); err != nil {
		t.Fatal(err)
	}
	mine := booking(me, "karasai", "career", at(2, 11))
	mine.Name, mine.Username, mine.Phone = name, username, phone
	past, err := db.Book(ctx, mine, rules(2, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetStatus(ctx, past.ID, storage.BookingAttended, testNow); err != nil {
		t.Fatal(err)
	}
	mine.Start, mine.End = at(3, 11), at(3, 12)
	future, err := db.Book(ctx, mine, rules(2, 0))
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := db.Book(ctx, booking(other, "karasai", "career", at(3, 11)), rules(2, 0))
	if err != nil {
		t.Fatal(err)
	}
	// An update of the person still in the inbox, one handled, one of
	// someone else.
	raw := func(id int, from int64) []byte {
		return fmt.Appendf(nil, `{"update_id":%d,"message":{"message_id":1,"from":{"id":%d,"first_name":%q,"username":%q},"chat":{"id":%d,"type":"private"},"date":1,"text":"hi"}}`, id, from, name, username, from)
	}
	if _, err := db.Accept(ctx, []storage.RawUpdate{{ID: 1, JSON: raw(1, me)}, {ID: 2, JSON: raw(2, me)}, {ID: 3, JSON: []byte(`{"update_id":3,"message":{"from":{"id":777002},"chat":{"id":777002}}}`)}}, 4, testNow); err != nil {
		t.Fatal(err)
	}
	if err := db.Done(ctx, []int{1}, testNow); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Cancel(ctx, future.ID, "by_person", testNow); err != nil {
		t.Fatal(err)
	}

	rep, err := db.Forget(ctx, me)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Anonymised != 2 || rep.Updates != 1 {
		t.Errorf("report = %+v, want 2 bookings anonymised and 1 update dropped", rep)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{name, username, phone, "77015550199"} {
		if bytes.Contains(file, []byte(secret)) {
			t.Errorf("the database file still contains %q", secret)
		}
	}
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The store keeps working on the compacted file.
	if _, err := db.User(ctx, me); !isNotFound(err) {
		t.Errorf("user after forget: %v, want not found", err)
	}
	if _, err := db.Conversation(ctx, me); !isNotFound(err) {
		t.Errorf("conversation after forget: %v, want not found", err)
	}
	if got, _ := db.AllBookingsOf(ctx, me); len(got) != 0 {
		t.Errorf("person still has %d bookings", len(got))
	}
	kept, err := db.Booking(ctx, past.ID)
	if err != nil {
		t.Fatal(err)
	}
	if kept.ChatID != 0 || kept.Name != "" || kept.Phone != "" || kept.Username != "" ||
		kept.Status != storage.BookingAttended || kept.CenterID != "karasai" || kept.TypeID != "career" || !kept.Start.Equal(at(2, 11)) {
		t.Errorf("anonymised booking = %+v", kept)
	}
	day, err := db.BookingsOn(ctx, []string{"karasai"}, at(2, 0), at(4, 0))
	if err != nil || len(day) != 3 {
		t.Errorf("center list after forget: %d bookings, %v; want 3", len(day), err)
	}
	if n, _ := db.SlotCounts(ctx, "karasai", "career", at(3, 0), at(4, 0)); n[at(3, 11).Unix()] != 1 {
		t.Errorf("slot count after forget = %v, want the other person's seat only", n)
	}
	pending, _ := db.Pending(ctx)
	if len(pending) != 1 || pending[0].ID != 3 {
		t.Errorf("inbox after forget = %v, want only update 3", pending)
	}
	// New ids keep growing after the compaction.
	next, err := db.Book(ctx, booking(other, "karasai", "career", at(4, 11)), rules(2, 0))
	if err != nil || next.ID <= theirs.ID {
		t.Errorf("booking after compaction got id %d (%v), want > %d", next.ID, err, theirs.ID)
	}
	checkIndexes(t, db)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode after compaction = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
}
