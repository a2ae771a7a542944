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
	ForgetHandled(ctx context.Context, cutoff time.Time) (int, error)
}

// handledRetention is how long handled update ids are kept: long enough to
// recognise an update Telegram sends again, far less than a week.
const handledRetention = 24 * time.Hour

// Housekeeping expires idle dialogues and drops old handled-update ids. Both
// walks stop at the first fresh entry, so a busy bot pays only for what goes.
//
// It never compacts the database, so nothing heavy runs while the bot is
// busy: bbolt reuses freed pages, and compaction (bbolt compact) needs the
// file to itself, which only a stopped bot gives.
func Housekeeping(store HousekeepingStore, dialogTTL time.Duration, log *slog.Logger) JobFunc {
	return func(ctx context.Context, now time.Time) error {
		dialogs, err := store.ExpireConversations(ctx, now.Add(-dialogTTL))
		if err != nil {
			return fmt.Errorf("expire dialogues: %w", err)
		}
		updates, err := store.ForgetHandled(ctx, now.Add(-handledRetention))
		if err != nil {
			return fmt.Errorf("forget handled updates: %w", err)
		}
		if dialogs+updates > 0 {
			log.Info("housekeeping", "expired_dialogues", dialogs, "forgotten_update_ids", updates)
		}
		return nil
	}
}
