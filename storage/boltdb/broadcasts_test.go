package boltdb

import (
	"context"
	"errors"
	"testing"
	"time"

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
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
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
