package boltdb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

// collectEventSubscribers walks with the given page size and returns
// "chat:lang:district" per subscriber.
func collectEventSubscribers(t *testing.T, db *DB, page int) []string {
	t.Helper()
	var got []string
	err := db.eventSubscribers(context.Background(), page, func(chatID int64, lang, district string) error {
		got = append(got, fmt.Sprintf("%d:%s:%s", chatID, lang, district))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestDB_EventSubscribers(t *testing.T) {
	db, path := openTemp(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	user := func(chatID int64, lang storage.Lang, active bool) {
		t.Helper()
		if err := db.SaveUser(ctx, storage.User{ChatID: chatID, Lang: lang, LangSet: true, Active: active, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	subscribe(t, db, 30, storage.Kazakh, "karasai", storage.TopicEvents)
	subscribe(t, db, 10, storage.Russian, "", storage.TopicNews, storage.TopicEvents)
	subscribe(t, db, -100, storage.Russian, "kegen", storage.TopicEvents) // a group sorts first
	subscribe(t, db, 20, storage.Kazakh, "", storage.TopicJobs)
	subscribe(t, db, 40, storage.Russian, "", storage.TopicEvents)
	if _, err := db.Unsubscribe(ctx, 40, now); err != nil {
		t.Fatal(err)
	}
	subscribe(t, db, 50, storage.Kazakh, "", storage.TopicEvents)
	user(50, storage.Kazakh, false) // blocked the bot
	subscribe(t, db, 60, storage.Kazakh, "ili", storage.TopicEvents)
	user(60, storage.Russian, true) // switched language since subscribing

	want := []string{"-100:ru:kegen", "10:ru:", "30:kk:karasai", "60:ru:ili"}
	for _, page := range []int{1, 2, 3, 4, 5, digestPage} {
		t.Run(fmt.Sprintf("page of %d", page), func(t *testing.T) {
			if got := collectEventSubscribers(t, db, page); !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
	t.Run("after reopening", func(t *testing.T) {
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		db2, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db2.Close() })
		var got []string
		err = db2.EventSubscribers(ctx, func(chatID int64, lang, district string) error {
			got = append(got, fmt.Sprintf("%d:%s:%s", chatID, lang, district))
			return nil
		})
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("got %v, %v; want %v", got, err, want)
		}
	})
}

func TestDB_EventSubscribers_StopsOnError(t *testing.T) {
	db, _ := openTemp(t)
	for chat := int64(1); chat <= 5; chat++ {
		subscribe(t, db, chat, storage.Kazakh, "", storage.TopicEvents)
	}
	stop := errors.New("stop")
	var seen []int64
	err := db.eventSubscribers(context.Background(), 2, func(chatID int64, _, _ string) error {
		seen = append(seen, chatID)
		if chatID == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || !slices.Equal(seen, []int64{1, 2, 3}) {
		t.Errorf("got %v after %v, want stop after [1 2 3]", err, seen)
	}
	ctx, cancel := context.WithCancel(context.Background())
	seen = nil
	err = db.eventSubscribers(ctx, 2, func(chatID int64, _, _ string) error {
		seen = append(seen, chatID)
		cancel()
		return nil
	})
	// The page already read is finished; the next is never read.
	if !errors.Is(err, context.Canceled) || !slices.Equal(seen, []int64{1, 2}) {
		t.Errorf("got %v after %v, want context.Canceled after [1 2]", err, seen)
	}
}

// TestDB_EventSubscribers_ManyPagesWithWritesBetween walks more than two
// default pages while fn writes to the database, as the digest does when a
// 403 unsubscribes someone: no transaction is open while fn runs, so the
// writes neither deadlock nor disturb the walk.
func TestDB_EventSubscribers_ManyPagesWithWritesBetween(t *testing.T) {
	t.Parallel()
	db, path := openTemp(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	const n = 2*digestPage + 201
	// One transaction for the setup: a Batch per subscriber would take
	// seconds.
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		for chat := int64(1); chat <= n; chat++ {
			topics := []storage.Topic{storage.TopicEvents}
			if chat%7 == 0 {
				topics = []storage.Topic{storage.TopicJobs} // not in the walk
			}
			s := storage.Subscription{ChatID: chat, Topics: topics, Lang: storage.Russian, Active: true, UpdatedAt: now}
			if err := putSubscription(tx, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	var seen, unsubscribed []int64
	go func() {
		done <- db.EventSubscribers(ctx, func(chatID int64, _, _ string) error {
			if open := db.bolt.db.Stats().OpenTxN; open != 0 {
				return fmt.Errorf("fn called with %d read transactions open", open)
			}
			seen = append(seen, chatID)
			if chatID%10 == 0 {
				if _, err := db.Unsubscribe(ctx, chatID, now); err != nil {
					return err
				}
				unsubscribed = append(unsubscribed, chatID)
			}
			return nil
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("walk with writes in fn did not finish: deadlock?")
	}
	var want []int64
	for chat := int64(1); chat <= n; chat++ {
		if chat%7 != 0 {
			want = append(want, chat)
		}
	}
	if !slices.Equal(seen, want) {
		t.Errorf("walked %d subscribers (first %v), want %d in chat order", len(seen), seen[:min(len(seen), 5)], len(want))
	}

	// The writes made in fn are on disk.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db2.Close() })
	left, err := db2.CountAudience(ctx, storage.Audience{Topic: storage.TopicEvents})
	if err != nil || left != len(want)-len(unsubscribed) {
		t.Errorf("events subscribers after the walk = %d, %v; want %d", left, err, len(want)-len(unsubscribed))
	}
}
