package scheduler

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"jastar/storage"
	"jastar/storage/storagetest"
)

func TestHousekeeping_FakeClock(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t)
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, almaty(t))
	for chat, idle := range map[int64]time.Duration{1: 2 * time.Hour, 2: 10 * time.Minute, -100: 31 * time.Minute} {
		if err := db.SaveConversation(ctx, storage.Conversation{ChatID: chat, Flow: "book", Step: "day", UpdatedAt: now.Add(-idle)}); err != nil {
			t.Fatal(err)
		}
	}
	old := []storage.RawUpdate{{ID: 1, JSON: []byte(`{"update_id":1}`)}}
	fresh := []storage.RawUpdate{{ID: 2, JSON: []byte(`{"update_id":2}`)}}
	if _, err := db.Accept(ctx, old, 2, now.Add(-25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.Done(ctx, []int{1}, now.Add(-25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Accept(ctx, fresh, 3, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.Done(ctx, []int{2}, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}

	job := Housekeeping(db, 30*time.Minute, slog.New(slog.DiscardHandler))
	if err := job(ctx, now); err != nil {
		t.Fatal(err)
	}
	for chat, want := range map[int64]bool{1: false, 2: true, -100: false} {
		_, err := db.Conversation(ctx, chat)
		if got := err == nil; got != want {
			t.Errorf("dialogue of chat %d kept = %v, want %v", chat, got, want)
		}
		if !want && !errors.Is(err, storage.ErrDialogExpired) {
			t.Errorf("idle dialogue of chat %d: err = %v, want expired, so a late answer hears so", chat, err)
		}
	}
	// The forgotten id is accepted again; the one handled an hour ago is
	// still recognised as a duplicate.
	got, err := db.Accept(ctx, append(old, fresh...), 3, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != 1 {
		t.Errorf("accepted after housekeeping = %+v, want only update 1", got)
	}
	// A second run at the same time finds nothing more to do.
	if err := job(ctx, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Conversation(ctx, 2); err != nil {
		t.Errorf("fresh dialogue gone after a second run: %v", err)
	}
	// What is left of an expired dialogue goes a day after the person's
	// last answer: chat 1's (25 h ago) is gone, chat -100's (23.5 h ago)
	// stays, and chat 2, idle since, is expired in its turn.
	if err := job(ctx, now.Add(23*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for chat, want := range map[int64]error{1: storage.ErrNotFound, -100: storage.ErrDialogExpired, 2: storage.ErrDialogExpired} {
		_, err := db.Conversation(ctx, chat)
		if !errors.Is(err, want) || (want == storage.ErrNotFound && errors.Is(err, storage.ErrDialogExpired)) {
			t.Errorf("a day later, chat %d: err = %v, want %v", chat, err, want)
		}
	}
}
