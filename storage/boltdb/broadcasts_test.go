package boltdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

func subscribe(t *testing.T, db *DB, chatID int64, lang storage.Lang, district string, topics ...storage.Topic) {
	t.Helper()
	s := storage.Subscription{ChatID: chatID, Topics: topics, DistrictID: district, Lang: lang, Active: true, UpdatedAt: time.Now()}
	if err := db.SaveSubscription(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

func TestSubscriptions_IndexFollowsChanges(t *testing.T) {
	db, _ := openTemp(t)
	ctx := context.Background()
	subscribe(t, db, 1, storage.Kazakh, "a", storage.TopicEvents, storage.TopicJobs)
	subscribe(t, db, 2, storage.Russian, "", storage.TopicJobs)
	subscribe(t, db, 3, storage.Kazakh, "b", storage.TopicEvents)
	tests := []struct {
		name string
		a    storage.Audience
		want int
	}{
		{"everyone", storage.Audience{}, 3},
		{"events", storage.Audience{Topic: storage.TopicEvents}, 2},
		{"jobs in a (no district hears all)", storage.Audience{Topic: storage.TopicJobs, DistrictID: "a"}, 2},
		{"events in b, kazakh", storage.Audience{Topic: storage.TopicEvents, DistrictID: "b", Lang: storage.Kazakh}, 1},
		{"news", storage.Audience{Topic: storage.TopicNews}, 0},
		{"unknown topic", storage.Audience{Topic: "weather"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n, err := db.CountAudience(ctx, tt.a); err != nil || n != tt.want {
				t.Errorf("CountAudience(%+v) = %d, %v; want %d", tt.a, n, err, tt.want)
			}
		})
	}
	// Dropping a topic removes its index entry; unsubscribing removes all.
	subscribe(t, db, 1, storage.Kazakh, "a", storage.TopicJobs)
	if n, _ := db.CountAudience(ctx, storage.Audience{Topic: storage.TopicEvents}); n != 1 {
		t.Errorf("events after chat 1 dropped it = %d, want 1", n)
	}
	if was, err := db.Unsubscribe(ctx, 2, time.Now()); !was || err != nil {
		t.Errorf("Unsubscribe = %v, %v", was, err)
	}
	if was, _ := db.Unsubscribe(ctx, 2, time.Now()); was {
		t.Error("second Unsubscribe reported an active subscription")
	}
	if n, _ := db.CountAudience(ctx, storage.Audience{}); n != 2 {
		t.Errorf("everyone after an unsubscribe = %d, want 2", n)
	}
}

func TestBroadcasts_RecipientsClaimsAndRestart(t *testing.T) {
	db, path := openTemp(t)
	ctx := context.Background()
	// Groups sort before people; the walk is in chat order across pages.
	chats := []int64{-5, 7, 8, 9, 10, 11, 12}
	for _, id := range chats {
		subscribe(t, db, id, storage.Russian, "", storage.TopicNews)
	}
	b, err := db.CreateBroadcast(ctx, storage.Broadcast{AdminChatID: 1, Versions: map[storage.Lang]storage.Version{
		storage.Kazakh: {Text: "x", Entities: []storage.Entity{{Type: "bold", Offset: 0, Length: 1}}},
	}, Audience: storage.Audience{Topic: storage.TopicNews}, CreatedAt: time.Now()})
	if err != nil || b.Status != storage.BroadcastPreparing {
		t.Fatalf("CreateBroadcast = %+v, %v", b, err)
	}
	// Two per transaction: the fill resumes where the last one stopped.
	for calls := 0; ; calls++ {
		_, done, err := db.AddRecipients(ctx, b.ID, 2)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
		if calls > 10 {
			t.Fatal("AddRecipients never finished")
		}
	}
	b, _ = db.Broadcast(ctx, b.ID)
	if b.Status != storage.BroadcastRunning || b.Total != len(chats) || b.Versions[storage.Kazakh].Entities[0].Type != "bold" {
		t.Fatalf("after the fill: %+v", b)
	}
	page, err := db.PendingRecipients(ctx, b.ID, 0, false, 3)
	if err != nil || len(page) != 3 || page[0].ChatID != -5 || page[2].ChatID != 8 || page[0].Lang != storage.Russian {
		t.Fatalf("first page = %+v, %v", page, err)
	}
	for _, r := range page {
		if ok, err := db.ClaimDelivery(ctx, b.ID, r.ChatID); !ok || err != nil {
			t.Fatalf("claim %d = %v, %v", r.ChatID, ok, err)
		}
	}
	if ok, _ := db.ClaimDelivery(ctx, b.ID, -5); ok {
		t.Error("a recipient was claimed twice")
	}
	db.SettleDelivery(ctx, b.ID, -5, storage.DeliverySent)
	db.SettleDelivery(ctx, b.ID, 7, storage.DeliveryBlocked)
	// Chat 8 stays claimed: the process dies here.
	db = restart(t, db, path)
	if n, err := db.SettleStaleClaims(ctx, b.ID); n != 1 || err != nil {
		t.Errorf("SettleStaleClaims = %d, %v; want the one claim", n, err)
	}
	page, _ = db.PendingRecipients(ctx, b.ID, 0, false, 100)
	if len(page) != 4 || page[0].ChatID != 9 {
		t.Errorf("pending after the restart = %+v; want 9..12, never 8 again", page)
	}
	b, _ = db.Broadcast(ctx, b.ID)
	if b.Counts != (storage.DeliveryCounts{Sent: 1, Blocked: 1, Uncertain: 1}) || b.Left() != 4 {
		t.Errorf("counts = %+v, left %d", b.Counts, b.Left())
	}
	// Paused: nothing can be claimed; cancelled: final.
	if _, err := db.SetBroadcastStatus(ctx, b.ID, storage.BroadcastPaused, time.Now()); err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.ClaimDelivery(ctx, b.ID, 9); ok {
		t.Error("claimed while paused")
	}
	if _, err := db.SetBroadcastStatus(ctx, b.ID, storage.BroadcastCancelled, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetBroadcastStatus(ctx, b.ID, storage.BroadcastRunning, time.Now()); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("resume of a cancelled broadcast = %v, want ErrConflict", err)
	}
	if list, _ := db.UnfinishedBroadcasts(ctx); len(list) != 0 {
		t.Errorf("unfinished = %+v, want none", list)
	}
}

// restart closes db, as a stopping process would, and opens its file again.
func restart(t *testing.T, db *DB, path string) *DB {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// fill runs AddRecipients pages of size until the broadcast is running,
// and fails after more than calls of them.
func fill(t *testing.T, db *DB, id uint64, size, calls int) {
	t.Helper()
	for range calls {
		_, done, err := db.AddRecipients(context.Background(), id, size)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			return
		}
	}
	t.Fatalf("broadcast %d still preparing after %d pages", id, calls)
}

// recipientsOf returns the chats broadcast id is addressed to.
func recipientsOf(t *testing.T, db *DB, id uint64) []int64 {
	t.Helper()
	page, err := db.PendingRecipients(context.Background(), id, 0, false, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, r := range page {
		out = append(out, r.ChatID)
	}
	return out
}

func sameChats(a, b []int64) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// TestBroadcasts_RecipientsFixedAtConfirm: whoever subscribes or
// unsubscribes after the admin confirms (while the recipients are being
// written, even across a restart) does not change who gets the broadcast;
// only a person who asked to be forgotten is left out.
func TestBroadcasts_RecipientsFixedAtConfirm(t *testing.T) {
	db, path := openTemp(t)
	ctx := context.Background()
	for _, id := range []int64{1, 2, 3, 4, 5} {
		subscribe(t, db, id, storage.Russian, "", storage.TopicNews)
	}
	news := storage.Audience{Topic: storage.TopicNews}
	b, err := db.CreateBroadcast(ctx, storage.Broadcast{AdminChatID: 99, Versions: map[storage.Lang]storage.Version{storage.Russian: {Text: "x"}}, Audience: news, CreatedAt: testNow})
	if err != nil {
		t.Fatal(err)
	}
	// After the confirm: someone new, someone leaving, someone forgotten.
	subscribe(t, db, 6, storage.Russian, "", storage.TopicNews)
	if _, err := db.Unsubscribe(ctx, 2, testNow); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Forget(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if listed(t, db, b.ID, 3) {
		t.Error("the forgotten person is in the broadcast's stored recipient list")
	}
	// One page written, then more changes, then the process dies.
	if _, done, err := db.AddRecipients(ctx, b.ID, 2); err != nil || done {
		t.Fatalf("first page: done %v, %v; want more to come", done, err)
	}
	if got, _ := db.Broadcast(ctx, b.ID); got.Status != storage.BroadcastPreparing {
		t.Errorf("status after one page = %s; want preparing until every recipient is written", got.Status)
	}
	if ok, _ := db.ClaimDelivery(ctx, b.ID, 1); ok {
		t.Error("a recipient was claimed before every recipient was written")
	}
	subscribe(t, db, -7, storage.Kazakh, "", storage.TopicNews)
	if _, err := db.Unsubscribe(ctx, 5, testNow); err != nil {
		t.Fatal(err)
	}
	db = restart(t, db, path)
	list, err := db.UnfinishedBroadcasts(ctx)
	if err != nil || len(list) != 1 || list[0].ID != b.ID {
		t.Fatalf("unfinished after the restart = %+v, %v; want the preparing broadcast", list, err)
	}
	fill(t, db, b.ID, 2, 5)

	if got, want := recipientsOf(t, db, b.ID), []int64{1, 2, 4, 5}; !sameChats(got, want) {
		t.Errorf("recipients = %v, want %v: the subscribers at confirm but the forgotten one", got, want)
	}
	got, _ := db.Broadcast(ctx, b.ID)
	if got.Status != storage.BroadcastRunning || got.Total != 4 {
		t.Errorf("after the fill: status %s, total %d; want running, 4", got.Status, got.Total)
	}
	if n := bucketLen(t, db, bucketBroadcastSnapshots); n != 0 {
		t.Errorf("%d recipient lists left after the fill; want none", n)
	}
}

// TestBroadcasts_SnapshotIsTheAudience: the list read at confirm is what
// is written, even when a subscription changes between the read and the
// write that stores the job; the total equals the list. Only a person
// forgotten in between is dropped: Forget could not blank a list not yet
// stored, so the write must not store their chat id.
func TestBroadcasts_SnapshotIsTheAudience(t *testing.T) {
	db, _ := openTemp(t)
	ctx := context.Background()
	for _, id := range []int64{10, 20, 30, 40} {
		subscribe(t, db, id, storage.Kazakh, "", storage.TopicEvents)
	}
	events := storage.Audience{Topic: storage.TopicEvents}
	snap := readAudience(t, db, events)
	subscribe(t, db, 15, storage.Kazakh, "", storage.TopicEvents)
	if _, err := db.Unsubscribe(ctx, 30, testNow); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Forget(ctx, 40); err != nil {
		t.Fatal(err)
	}
	b, err := db.createBroadcast(storage.Broadcast{AdminChatID: 99, Versions: map[storage.Lang]storage.Version{storage.Kazakh: {Text: "x"}}, Audience: events, CreatedAt: testNow}, snap)
	if err != nil {
		t.Fatal(err)
	}
	if listed(t, db, b.ID, 40) {
		t.Error("the forgotten person is in the broadcast's stored recipient list")
	}
	fill(t, db, b.ID, 1000, 1)
	if got, want := recipientsOf(t, db, b.ID), []int64{10, 20, 30}; !sameChats(got, want) {
		t.Errorf("recipients = %v, want the snapshot %v without the forgotten one", got, want)
	}
	if got, _ := db.Broadcast(ctx, b.ID); got.Total != 3 {
		t.Errorf("total = %d, want 3", got.Total)
	}
}

// TestBroadcasts_CancelWhilePreparingDropsTheList: a broadcast cancelled
// before its recipients are written keeps no list of them.
func TestBroadcasts_CancelWhilePreparingDropsTheList(t *testing.T) {
	db, _ := openTemp(t)
	ctx := context.Background()
	subscribe(t, db, 1, storage.Kazakh, "", storage.TopicNews)
	b, err := db.CreateBroadcast(ctx, storage.Broadcast{AdminChatID: 99, Versions: map[storage.Lang]storage.Version{storage.Kazakh: {Text: "x"}}, CreatedAt: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetBroadcastStatus(ctx, b.ID, storage.BroadcastCancelled, testNow); err != nil {
		t.Fatal(err)
	}
	if n := bucketLen(t, db, bucketBroadcastSnapshots); n != 0 {
		t.Errorf("%d recipient lists left after the cancel; want none", n)
	}
	if _, done, err := db.AddRecipients(ctx, b.ID, 10); err != nil || !done {
		t.Errorf("AddRecipients after the cancel = %v, %v; want done, nothing to write", done, err)
	}
	if got := recipientsOf(t, db, b.ID); len(got) != 0 {
		t.Errorf("cancelled broadcast has recipients %v", got)
	}
}

// listed reports whether chatID is in broadcast id's stored recipient list.
func listed(t *testing.T, db *DB, id uint64, chatID int64) bool {
	t.Helper()
	var in bool
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		in = bytes.Contains(tx.Bucket(bucketBroadcastSnapshots).Get(encodeUint(id)), encodeChatID(chatID))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return in
}

// readAudience is CreateBroadcast's read of the audience, on its own, so a
// test can change things before the write.
func readAudience(t *testing.T, db *DB, a storage.Audience) []byte {
	t.Helper()
	var snap []byte
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		snap, err = audienceSnapshot(tx, a)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return snap
}

func bucketLen(t *testing.T, db *DB, name []byte) int {
	t.Helper()
	n := 0
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(name).Stats().KeyN
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}
