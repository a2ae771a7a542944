package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"jastar/storage"
)

// ReminderStore is what the sweep needs from the database.
type ReminderStore interface {
	// ClaimDueReminders removes up to limit reminders due at or before now,
	// earliest first, in one write transaction and returns them; a claimed
	// reminder is never returned again.
	ClaimDueReminders(ctx context.Context, now time.Time, limit int) ([]storage.Reminder, error)
	// PutBackReminders stores claimed reminders again in one write
	// transaction.
	PutBackReminders(ctx context.Context, rs []storage.Reminder) error
}

// Notifier sends one reminder to its person. The bot satisfies it. An error
// is about this reminder only; the sweep logs it and goes on. An error
// wrapping storage.ErrReminderObsolete means the reminder no longer applies
// and was dropped on purpose.
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

// SweepResult counts what one sweep did. PutBack counts the claimed
// reminders a sweep stopped at shutdown returned to the database unsent.
type SweepResult struct {
	Sent, Dropped, Failed, PutBack int
}

// Sweep sends every reminder due at now. Each batch is claimed (removed
// from the database) in one transaction before any of it is sent: a crash
// between the claim and the send loses those reminders but never sends one
// twice, and a second sweep running at the same time claims others. A
// reminder that came due while the bot was down is still sent if its
// appointment is ahead, and dropped with a log line if it is not.
//
// When ctx is cancelled (shutdown) the sweep claims and sends no more, and
// puts back in one transaction the claimed reminders it has not handed to
// the Notifier yet, so the next process sends them. One handed over counts
// as attempted and is never put back: it may have been delivered. A sweep
// stopped this way returns nil.
//
// The claim walks reminders_by_due from its start and stops at the first
// not yet due, so a sweep costs the number of due reminders, whatever the
// number stored.
func (s *Reminders) Sweep(ctx context.Context, now time.Time) error {
	_, err := s.sweep(ctx, now)
	return err
}

// StopOn is the sweep as a scheduler job that also stops when stop is
// cancelled. The scheduler runs jobs on a context that outlives the signal,
// so other jobs may finish; the sweep must instead stop at once, while the
// database is still open to take back what it claimed.
func (s *Reminders) StopOn(stop context.Context) JobFunc {
	return func(ctx context.Context, now time.Time) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(stop, cancel)()
		return s.Sweep(ctx, now)
	}
}

func (s *Reminders) sweep(ctx context.Context, now time.Time) (SweepResult, error) {
	var res SweepResult
	for ctx.Err() == nil {
		due, err := s.store.ClaimDueReminders(ctx, now, s.batch)
		if err != nil {
			if ctx.Err() != nil {
				break // the claim did not start: nothing was taken
			}
			return res, fmt.Errorf("claim due reminders: %w", err)
		}
		if err := s.send(ctx, now, due, &res); err != nil {
			return res, err
		}
		if len(due) < s.batch {
			break
		}
	}
	if res != (SweepResult{}) {
		s.log.Info("reminder sweep", "sent", res.Sent, "dropped", res.Dropped, "failed", res.Failed,
			"put_back", res.PutBack, "stopped", ctx.Err() != nil)
	}
	return res, nil
}

// send hands one claimed batch (earliest first) to the Notifier. Once ctx
// is cancelled it stops and puts the rest back at once, without waiting for
// a send in flight: that one can take as long as the HTTP client's timeout,
// longer than the shutdown leaves the database open. A reminder whose send
// was abandoned before reaching Telegram (storage.ErrNotSent) is put back
// too; one that may have reached it is not.
func (s *Reminders) send(ctx context.Context, now time.Time, due []storage.Reminder, res *SweepResult) error {
	latest := latestOf(due)
	var (
		mu      sync.Mutex // guards next, stopped and res against the watcher
		next    int        // due[next:] were never handed to the Notifier
		stopped bool       // the rest was put back
		stopErr error
	)
	putBackRest := func() {
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			stopped = true
			stopErr = errors.Join(stopErr, s.putBack(ctx, now, due[next:], latest, res))
		}
	}
	defer context.AfterFunc(ctx, putBackRest)()
	for i, r := range due {
		if ctx.Err() != nil {
			putBackRest() // the watcher may not have run yet
		}
		mu.Lock()
		if stopped {
			mu.Unlock()
			break
		}
		next = i + 1 // r is handed over now, or dropped below
		if latest[subject(r)] != r.ID {
			// Both reminders of one appointment came due together (the
			// bot was down): the later one says all the person needs.
			res.Dropped++
			mu.Unlock()
			s.log.Info("reminder dropped: a later one of the same appointment is due", "reminder_id", r.ID,
				"kind", string(r.Kind), "booking_id", r.BookingID, "event_id", r.EventID, "chat_id", r.ChatID)
			continue
		}
		if r.Stale(now) {
			res.Dropped++
			mu.Unlock()
			s.log.Info("reminder dropped: its time has passed", "reminder_id", r.ID, "kind", string(r.Kind),
				"booking_id", r.BookingID, "event_id", r.EventID, "chat_id", r.ChatID, "due", r.Due.Unix())
			continue
		}
		mu.Unlock()
		err := s.notifier.Remind(ctx, r)
		mu.Lock()
		switch {
		case err == nil:
			res.Sent++
		case errors.Is(err, storage.ErrReminderObsolete):
			res.Dropped++
			s.log.Info("reminder dropped: what it is about changed", "reminder_id", r.ID, "kind", string(r.Kind),
				"booking_id", r.BookingID, "event_id", r.EventID, "chat_id", r.ChatID, "err", err)
		case errors.Is(err, storage.ErrNotSent):
			// Stopped before it reached Telegram: keep it for the next
			// process, with the rest or on its own if the rest is back.
			stopErr = errors.Join(stopErr, s.putBack(ctx, now, due[i:i+1], latest, res))
		default:
			res.Failed++
			s.log.Warn("reminder not delivered", "reminder_id", r.ID, "kind", string(r.Kind),
				"booking_id", r.BookingID, "event_id", r.EventID, "chat_id", r.ChatID, "err", err)
		}
		mu.Unlock()
	}
	mu.Lock()
	defer mu.Unlock()
	return stopErr
}

// putBack returns the claimed reminders never handed to the Notifier,
// except those a later one of the same appointment replaces and those
// whose appointment has begun. It runs after ctx was cancelled, so the
// write gets a context without that cancellation.
func (s *Reminders) putBack(ctx context.Context, now time.Time, rest []storage.Reminder, latest map[subjectKey]uint64, res *SweepResult) error {
	var keep []storage.Reminder
	for _, r := range rest {
		if latest[subject(r)] != r.ID || r.Stale(now) {
			res.Dropped++
			continue
		}
		keep = append(keep, r)
	}
	if len(keep) == 0 {
		return nil
	}
	if err := s.store.PutBackReminders(context.WithoutCancel(ctx), keep); err != nil {
		return fmt.Errorf("sweep stopped: %w", err)
	}
	res.PutBack += len(keep)
	return nil
}

// subjectKey names what a reminder is about: one person's booking or event
// registration, a feedback question, or one kind of event notice. The two
// timed reminders of an appointment share a subject; a notice (cancelled,
// moved up, time changed) says something a reminder does not, so each kind
// is its own.
type subjectKey struct {
	chatID    int64
	bookingID uint64
	eventID   string
	kind      storage.ReminderKind // "" for the timed reminders
}

func subject(r storage.Reminder) subjectKey {
	k := subjectKey{chatID: r.ChatID, bookingID: r.BookingID, eventID: r.EventID}
	if r.Kind == storage.ReminderFeedback || r.Kind.Notice() {
		k.kind = r.Kind
	}
	return k
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
