package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// HousekeepingStore is what housekeeping cleans.
type HousekeepingStore interface {
	ExpireConversations(ctx context.Context, cutoff time.Time) (int, error)
	DropExpiredConversations(ctx context.Context, cutoff time.Time) (int, error)
	ForgetHandled(ctx context.Context, cutoff time.Time) (int, error)
}

// handledRetention is how long handled update ids are kept: long enough to
// recognise an update Telegram sends again, far less than a week.
const handledRetention = 24 * time.Hour

// expiredRetention is how long what is left of an expired dialogue (flow,
// step, token) is kept after the person's last answer: a person who comes
// back the same day to finish it is told it expired, rather than that the
// step is finished; after that a late answer is just one more message.
const expiredRetention = 24 * time.Hour

// Housekeeping expires idle dialogues, drops what is left of those expired a
// day ago, and drops old handled-update ids. Every walk stops at the first
// fresh entry, so a busy bot pays only for what goes.
//
// It sends nothing: a person who left a dialogue on purpose is not written
// to. One who comes back is told the dialogue expired at their next answer,
// from the expired record it leaves.
//
// It never compacts the database: bbolt reuses freed pages, and the store
// compacts on its own, in a quiet moment, only when /forget has left
// erased data in free pages (storage/boltdb/compact.go).
func Housekeeping(store HousekeepingStore, dialogTTL time.Duration, log *slog.Logger) JobFunc {
	return func(ctx context.Context, now time.Time) error {
		dialogs, err := store.ExpireConversations(ctx, now.Add(-dialogTTL))
		if err != nil {
			return fmt.Errorf("expire dialogues: %w", err)
		}
		dropped, err := store.DropExpiredConversations(ctx, now.Add(-expiredRetention))
		if err != nil {
			return fmt.Errorf("drop expired dialogues: %w", err)
		}
		updates, err := store.ForgetHandled(ctx, now.Add(-handledRetention))
		if err != nil {
			return fmt.Errorf("forget handled updates: %w", err)
		}
		if dialogs+dropped+updates > 0 {
			log.Info("housekeeping", "expired_dialogues", dialogs, "dropped_expired_dialogues", dropped, "forgotten_update_ids", updates)
		}
		return nil
	}
}
