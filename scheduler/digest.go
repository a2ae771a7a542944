package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Default digest specs; the operator may set others (JASTAR_DIGEST_SPEC,
// JASTAR_WEEKLY_SPEC), checked with ParseSpec at start.
const (
	// SpecMorningDigest fires daily at 08:30: staff see the day before the
	// centers open at 09:00.
	SpecMorningDigest = "30 8 * * *"
	// SpecWeeklyDigest fires on Mondays at 10:00, after the morning rush.
	SpecWeeklyDigest = "0 10 * * 1"
)

// StaffDigester sends each center's staff the bookings of the day of now.
// The bot satisfies it: which chats and what text are its business.
type StaffDigester interface {
	StaffDigest(ctx context.Context, now time.Time) error
}

// StaffDigest is the morning digest job.
func StaffDigest(d StaffDigester) JobFunc {
	return func(ctx context.Context, now time.Time) error {
		if err := d.StaffDigest(ctx, now); err != nil {
			return fmt.Errorf("staff digest: %w", err)
		}
		return nil
	}
}

// EventSubscribers lists the people subscribed to the events topic, with
// their language and the district they chose ("" for every district). The
// subscription store satisfies it; a nil error from fn continues the walk.
// fn is called outside any database transaction, so it may send and write.
type EventSubscribers interface {
	EventSubscribers(ctx context.Context, fn func(chatID int64, lang, districtID string) error) error
}

// EventDigester sends one person the events starting in [from, to), only
// those of districtID's centers (and online ones) when districtID is set;
// sent is false when there were none (or the person blocked the bot), and
// no message went.
type EventDigester interface {
	EventDigest(ctx context.Context, chatID int64, lang, districtID string, from, to time.Time) (sent bool, err error)
}

// weeklySpan is the week a weekly digest covers, from the moment it runs.
const weeklySpan = 7 * 24 * time.Hour

// WeeklyDigest is the job that sends the coming week's events to every
// subscriber of the events topic. One failed chat is logged and the walk
// goes on; a cancelled context stops it.
func WeeklyDigest(subs EventSubscribers, d EventDigester, log *slog.Logger) JobFunc {
	log = log.With("component", "weekly_digest")
	return func(ctx context.Context, now time.Time) error {
		var sent, empty, failed int
		err := subs.EventSubscribers(ctx, func(chatID int64, lang, districtID string) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			ok, err := d.EventDigest(ctx, chatID, lang, districtID, now, now.Add(weeklySpan))
			switch {
			case errors.Is(err, context.Canceled):
				return err
			case err != nil:
				failed++
				log.Warn("weekly digest not delivered", "chat_id", chatID, "err", err)
			case !ok:
				empty++
			default:
				sent++
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("weekly digest after %d sent: %w", sent, err)
		}
		log.Info("weekly digest", "sent", sent, "nothing_to_send", empty, "failed", failed)
		return nil
	}
}
