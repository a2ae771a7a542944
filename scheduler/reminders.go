package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"jastar/storage"
)

// ReminderStore is what the sweep needs from the database.
type ReminderStore interface {
	// ClaimDueReminders removes up to limit reminders due at or before now,
	// earliest first, in one write transaction and returns them; a claimed
	// reminder is never returned again.
	ClaimDueReminders(ctx context.Context, now time.Time, limit int) ([]storage.Reminder, error)
}

// Notifier sends one reminder to its person. The bot satisfies it. An error
// is about this reminder only; the sweep logs it and goes on.
type Notifier interface {
	Remind(ctx context.Context, r storage.Reminder) error
}

// sweepBatch is how many reminders one claim takes. The claimed batch is
// what a crash during sending can lose, so it stays small; a busy minute
// just takes several claims.
const sweepBatch = 100

// Reminders is the reminder sweep.
type Reminders struct {
	store    ReminderStore
	notifier Notifier
	log      *slog.Logger
	batch    int
}

// NewReminders builds the sweep over store, sending through notifier.
func NewReminders(store ReminderStore, notifier Notifier, log *slog.Logger) *Reminders {
	return &Reminders{store: store, notifier: notifier, log: log.With("component", "reminders"), batch: sweepBatch}
}

// SweepResult counts what one sweep did.
type SweepResult struct {
	Sent, Dropped, Failed int
}

// Sweep sends every reminder due at now. Each batch is claimed (removed
// from the database) in one transaction before any of it is sent: a crash
// between the claim and the send loses those reminders but never sends one
// twice, and a second sweep running at the same time claims others. A
// reminder that came due while the bot was down is still sent if its
// appointment is ahead, and dropped with a log line if it is not.
//
// The claim walks reminders_by_due from its start and stops at the first
// not yet due, so a sweep costs the number of due reminders, whatever the
// number stored.
func (s *Reminders) Sweep(ctx context.Context, now time.Time) error {
	_, err := s.sweep(ctx, now)
	return err
}

func (s *Reminders) sweep(ctx context.Context, now time.Time) (SweepResult, error) {
	var res SweepResult
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		due, err := s.store.ClaimDueReminders(ctx, now, s.batch)
		if err != nil {
			return res, fmt.Errorf("claim due reminders: %w", err)
		}
		latest := latestOf(due)
		for _, r := range due {
			if latest[subject(r)] != r.ID {
				// Both reminders of one appointment came due together (the
				// bot was down): the later one says all the person needs.
				res.Dropped++
				s.log.Info("reminder dropped: a later one of the same appointment is due", "reminder_id", r.ID,
					"kind", string(r.Kind), "booking_id", r.BookingID, "event_id", r.EventID, "chat_id", r.ChatID)
				continue
			}
			if r.Stale(now) {
				res.Dropped++
				s.log.Info("reminder dropped: its time has passed", "reminder_id", r.ID, "kind", string(r.Kind),
					"booking_id", r.BookingID, "event_id", r.EventID, "chat_id", r.ChatID, "due", r.Due.Unix())
				continue
			}
			if err := s.notifier.Remind(ctx, r); err != nil {
				if errors.Is(err, context.Canceled) {
					return res, err
				}
				res.Failed++
				s.log.Warn("reminder not delivered", "reminder_id", r.ID, "kind", string(r.Kind),
					"booking_id", r.BookingID, "event_id", r.EventID, "chat_id", r.ChatID, "err", err)
				continue
			}
			res.Sent++
		}
		if len(due) < s.batch {
			break
		}
	}
	if res != (SweepResult{}) {
		s.log.Info("reminder sweep", "sent", res.Sent, "dropped", res.Dropped, "failed", res.Failed)
	}
	return res, nil
}

// subjectKey names what a reminder is about: one person's booking or event
// registration, or a feedback question.
type subjectKey struct {
	chatID    int64
	bookingID uint64
	eventID   string
	feedback  bool
}

func subject(r storage.Reminder) subjectKey {
	return subjectKey{r.ChatID, r.BookingID, r.EventID, r.Kind == storage.ReminderFeedback}
}

// latestOf maps each subject in a batch (earliest first) to the id of its
// last-due reminder.
func latestOf(batch []storage.Reminder) map[subjectKey]uint64 {
	m := make(map[subjectKey]uint64, len(batch))
	for _, r := range batch {
		m[subject(r)] = r.ID
	}
	return m
}
