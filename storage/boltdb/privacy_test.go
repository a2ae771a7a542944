package boltdb

import (
	"bytes"
	"context"
	"fmt"
	"maps"
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
	if err := db.SaveConversation(ctx, storage.Conversation{ChatID: me, Flow: "book", Step: "day", State: []byte(`{"note":"` + name + `"}`), UpdatedAt: testNow}); err != nil {
		t.Fatal(err)
	}
	mine := booking(me, "karasai", "career", at(2, 11))
	mine.Name, mine.Username, mine.Phone = name, username, phone
	past, err := db.Book(ctx, mine, rules(2, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetStatus(ctx, past.ID, storage.BookingAttended, at(2, 12)); err != nil {
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

	// A subscription, one broadcast received (done) and one still running
	// with the person pending, whose cursor names them.
	for _, id := range []int64{me, other} {
		if err := db.SaveSubscription(ctx, storage.Subscription{ChatID: id, Topics: []storage.Topic{storage.TopicEvents, storage.TopicNews}, DistrictID: "karasai", Lang: storage.Kazakh, Active: true, UpdatedAt: testNow}); err != nil {
			t.Fatal(err)
		}
	}
	runBroadcast := func() uint64 {
		b, err := db.CreateBroadcast(ctx, storage.Broadcast{Versions: map[storage.Lang]storage.Version{storage.Kazakh: {Text: "Жаңалық"}}, CreatedAt: testNow})
		if err != nil {
			t.Fatal(err)
		}
		if _, done, err := db.AddRecipients(ctx, b.ID, 100); err != nil || !done {
			t.Fatalf("add recipients: %v, %v", done, err)
		}
		return b.ID
	}
	done := runBroadcast()
	for _, id := range []int64{me, other} {
		if ok, err := db.ClaimDelivery(ctx, done, id); err != nil || !ok {
			t.Fatalf("claim %d: %v %v", id, ok, err)
		}
		if err := db.SettleDelivery(ctx, done, id, storage.DeliverySent); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.AdvanceCursor(ctx, done, other); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetBroadcastStatus(ctx, done, storage.BroadcastDone, testNow); err != nil {
		t.Fatal(err)
	}
	running := runBroadcast()
	if err := db.AdvanceCursor(ctx, running, me); err != nil { // as if me's page were over
		t.Fatal(err)
	}

	rep, err := db.Forget(ctx, me)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Anonymised != 2 || rep.Updates != 1 || !rep.Subscription || rep.Deliveries != 2 {
		t.Errorf("report = %+v, want 2 bookings anonymised, 1 update dropped, the subscription and 2 deliveries deleted", rep)
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
	if _, err := db.Subscription(ctx, me); !isNotFound(err) {
		t.Errorf("subscription after forget: %v, want not found", err)
	}
	if n, _ := db.CountAudience(ctx, storage.Audience{Topic: storage.TopicNews}); n != 1 {
		t.Errorf("news audience after forget = %d, want the other person only", n)
	}
	if b, _ := db.Broadcast(ctx, done); b.Counts.Sent != 2 || b.Total != 2 || b.Cursor != other {
		t.Errorf("done broadcast after forget = %+v; want its counts and the other person's cursor kept", b)
	}
	b, _ := db.Broadcast(ctx, running)
	left, _ := db.PendingRecipients(ctx, running, b.Cursor, b.HasCursor, 10)
	if b.Total != 1 || b.HasCursor || len(left) != 1 || left[0].ChatID != other {
		t.Errorf("running broadcast after forget: total %d, cursor %v/%d, pending %v; want the other person only", b.Total, b.HasCursor, b.Cursor, left)
	}
	err = db.bolt.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketDeliveries, bucketDeliveriesByChat, bucketSubscriptionsByTopic} {
			_ = tx.Bucket(name).ForEach(func(k, _ []byte) error {
				if bytes.Contains(k, encodeChatID(me)) {
					t.Errorf("%s still has key %x of the person", name, k)
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkIndexes(t, db)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode after compaction = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
}

func TestDB_CountSubscribers(t *testing.T) {
	ctx := context.Background()
	db, err := Open(filepath.Join(t.TempDir(), "jastar.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	subs := []storage.Subscription{
		{ChatID: -5, Topics: []storage.Topic{storage.TopicEvents}, DistrictID: "karasai", Active: true},
		{ChatID: 1, Topics: []storage.Topic{storage.TopicEvents, storage.TopicJobs}, DistrictID: "karasai", Active: true},
		{ChatID: 2, Topics: []storage.Topic{storage.TopicNews}, Active: true},
		{ChatID: 3, Topics: []storage.Topic{storage.TopicJobs}, DistrictID: "talgar", Active: false},
		{ChatID: 4, Topics: nil, DistrictID: "talgar", Active: true}, // no topic: not active
	}
	for _, s := range subs {
		if err := db.SaveSubscription(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.CountSubscribers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantTopics := map[storage.Topic]int{storage.TopicEvents: 2, storage.TopicJobs: 1, storage.TopicNews: 1}
	wantDistricts := map[string]int{"karasai": 2, "": 1}
	if got.Total != 3 || !maps.Equal(got.ByTopic, wantTopics) || !maps.Equal(got.ByDistrict, wantDistricts) {
		t.Errorf("counts = %+v, want 3 in all, %v, %v", got, wantTopics, wantDistricts)
	}
}

func TestMigrate_IndexesDeliveriesByChat(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jastar.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SaveSubscription(ctx, storage.Subscription{ChatID: 42, Topics: []storage.Topic{storage.TopicNews}, Active: true}); err != nil {
		t.Fatal(err)
	}
	b, err := db.CreateBroadcast(ctx, storage.Broadcast{CreatedAt: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.AddRecipients(ctx, b.ID, 10); err != nil {
		t.Fatal(err)
	}
	// Make the file a schema 1 file, from before the index.
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketDeliveriesByChat); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, encodeUint(1))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rep, err := db.Forget(ctx, 42)
	if err != nil || rep.Deliveries != 1 {
		t.Errorf("forget after the migration = %+v, %v; want 1 delivery found through the new index", rep, err)
	}
}
