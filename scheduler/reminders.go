package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"jastar/bot/ops"
	"jastar/storage"
)

// ReminderStore is what the sweep needs from the database.
type ReminderStore interface {
	// DueReminders returns up to limit reminders due at or before now,
	// earliest first, after the reminder after (the zero Reminder starts at
	// the first); it changes nothing.
	DueReminders(ctx context.Context, now time.Time, after storage.Reminder, limit int) ([]storage.Reminder, error)
	// ClaimReminder takes one due reminder and holds it as in flight, in
	// one write transaction; a claimed, cancelled or moved one gives
	// storage.ErrNotFound.
	ClaimReminder(ctx context.Context, id uint64) (storage.Reminder, error)
	// DropReminder deletes a due reminder not worth sending.
	DropReminder(ctx context.Context, id uint64) error
	// SettleReminder ends a claimed reminder's flight; uncertain keeps it
	// for the staff digest.
	SettleReminder(ctx context.Context, id uint64, uncertain bool) error
	// PutBackReminders stores claimed reminders again, for a later sweep.
	PutBackReminders(ctx context.Context, rs []storage.Reminder) error
	// SettleInFlightReminders settles as uncertain every reminder still in
	// flight, and returns them.
	SettleInFlightReminders(ctx context.Context) ([]storage.Reminder, error)
}

// Notifier sends one reminder to its person. The bot satisfies it. An error
// is about this reminder only; the sweep logs it and goes on. An error
// wrapping storage.ErrReminderObsolete means the reminder no longer applies
// and was dropped on purpose; one wrapping storage.ErrNotSent means nothing
// reached Telegram, and the sweep keeps the reminder for a later run; one
// wrapping storage.ErrMaybeSent means it may have reached the person, and
// the sweep settles it as uncertain.
type Notifier interface {
	Remind(ctx context.Context, r storage.Reminder) error
}

// sweepBatch is how many due reminders one read of the index takes. Reading
// claims nothing: each reminder is claimed on its own right before its send.
const sweepBatch = 100

// Reminders is the reminder sweep.
type Reminders struct {
	store    ReminderStore
	notifier Notifier
	log      *slog.Logger
	metrics  *ops.Metrics
	batch    int
}

// NewReminders builds the sweep over store, sending through notifier.
func NewReminders(store ReminderStore, notifier Notifier, log *slog.Logger) *Reminders {
	return &Reminders{store: store, notifier: notifier, log: log.With("component", "reminders"), batch: sweepBatch}
}

// WithMetrics counts the sweep's panics and uncertain reminders in m.
func (s *Reminders) WithMetrics(m *ops.Metrics) *Reminders {
	s.metrics = m
	return s
}

// SweepResult counts what one sweep did. PutBack counts the claimed
// reminders returned to the database unsent (the send was abandoned before
// it reached Telegram), Uncertain those whose send panicked or may have
// reached Telegram unanswered.
type SweepResult struct {
	Sent, Dropped, Failed, PutBack, Uncertain int
}

// Sweep sends every reminder due at now, earliest first. Each one is
// claimed (taken out of the due ones and held as in flight) in its own
// transaction right before it is handed to the Notifier, and settled once
// the send has an outcome. So a crash leaves at most the one reminder in
// flight unsettled: the next start reports it (RecoverInFlight) and never
// sends it again; every other due reminder is still in the database for
// the next sweep. Two sweeps at the same time never claim one reminder
// twice. A reminder that came due while the bot was down is still sent if
// its appointment is ahead, and dropped with a log line if it is not.
//
// When ctx is cancelled (shutdown) the sweep claims no more; a send
// abandoned before it reached Telegram (storage.ErrNotSent) is put back for
// the next process. A send in flight is not waited for past the stop: the
// stop cuts it, and its reminder is settled as uncertain
// (storage.ErrMaybeSent); if the process ends before even that, it stays in
// flight and the next start reports it as uncertain. A sweep stopped this
// way returns nil.
//
// Reading walks reminders_by_due from its start and stops at the first not
// yet due, so a sweep costs the number of due reminders, whatever the
// number stored.
func (s *Reminders) Sweep(ctx context.Context, now time.Time) error {
	_, err := s.sweep(ctx, now)
	return err
}

// StopOn is the sweep as a scheduler job that also stops when stop is
// cancelled. The scheduler runs jobs on a context that outlives the signal,
// so other jobs may finish; the sweep must instead stop claiming at once.
func (s *Reminders) StopOn(stop context.Context) JobFunc {
	return func(ctx context.Context, now time.Time) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(stop, cancel)()
		return s.Sweep(ctx, now)
	}
}

// RecoverInFlight settles as uncertain the reminders a previous process
// left in flight (claimed, and killed before their send had an outcome).
// They may have reached their person, so they are never sent again; each
// is logged by id and counted in jastar_reminders_uncertain_total, and the
// morning staff digest lists their bookings so staff can call. Call it at
// start, before the first sweep.
func (s *Reminders) RecoverInFlight(ctx context.Context) error {
	rs, err := s.store.SettleInFlightReminders(ctx)
	if err != nil {
		return fmt.Errorf("settle reminders left in flight: %w", err)
	}
	for _, r := range rs {
		s.log.Warn("reminder was in flight at a crash: maybe delivered, not resent; the staff digest lists it",
			"reminder_id", r.ID, "kind", string(r.Kind), "booking_id", r.BookingID, "event_id", r.EventID, "chat_id", r.ChatID)
	}
	s.countUncertain(len(rs))
	return nil
}

func (s *Reminders) countUncertain(n int) {
	if s.metrics != nil && n > 0 {
		s.metrics.RemindersUncertain.Add(float64(n))
	}
}

func (s *Reminders) sweep(ctx context.Context, now time.Time) (SweepResult, error) {
	var (
		res   SweepResult
		after storage.Reminder
		err   error
	)
	for ctx.Err() == nil && err == nil {
		var due []storage.Reminder
		due, err = s.store.DueReminders(ctx, now, after, s.batch)
		if err != nil {
			if ctx.Err() != nil {
				err = nil // stopped: nothing was claimed
				break
			}
			err = fmt.Errorf("read due reminders: %w", err)
			break
		}
		latest := latestOf(due)
		for _, r := range due {
			if ctx.Err() != nil {
				break
			}
			if err = s.one(ctx, now, r, latest, &res); err != nil {
				break
			}
		}
		if len(due) < s.batch {
			break
		}
		// The cursor moves past what this batch held, so a reminder put
		// back or left by a failed claim is not read again by this sweep:
		// a failing database costs one attempt per reminder a minute.
		after = due[len(due)-1]
	}
	if res != (SweepResult{}) {
		s.log.Info("reminder sweep", "sent", res.Sent, "dropped", res.Dropped, "failed", res.Failed,
			"put_back", res.PutBack, "uncertain", res.Uncertain, "stopped", ctx.Err() != nil)
	}
	return res, err
}

// one handles one due reminder r: it drops it when a later one of the same
// appointment is due (latest) or its time has passed, and otherwise claims
// it, hands it to the Notifier and settles the outcome. An error is the
// database's, and ends the sweep: the next one tries again.
func (s *Reminders) one(ctx context.Context, now time.Time, r storage.Reminder, latest map[subjectKey]uint64, res *SweepResult) error {
	if latest[subject(r)] != r.ID || r.Stale(now) {
		if err := s.store.DropReminder(ctx, r.ID); err != nil {
			if errors.Is(err, storage.ErrNotFound) || ctx.Err() != nil {
				return nil // gone meanwhile, or stopped before the drop
			}
			return err
		}
		res.Dropped++
		if latest[subject(r)] != r.ID {
			// Both reminders of one appointment came due together (the
			// bot was down): the later one says all the person needs.
			s.log.Info("reminder dropped: a later one of the same appointment is due", "reminder_id", r.ID,
				"kind", string(r.Kind), "booking_id", r.BookingID, "event_id", r.EventID, "chat_id", r.ChatID)
		} else {
			s.log.Info("reminder dropped: its time has passed", "reminder_id", r.ID, "kind", string(r.Kind),
				"booking_id", r.BookingID, "event_id", r.EventID, "chat_id", r.ChatID, "due", r.Due.Unix())
		}
		return nil
	}
	claimed, err := s.store.ClaimReminder(ctx, r.ID)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) || ctx.Err() != nil {
			// Cancelled or moved since the read (its change removed it),
			// or stopped before the claim: nothing is held.
			return nil
		}
		return err
	}
	panicked, err := s.remind(ctx, claimed)
	// The outcome is recorded even when the stop came meanwhile: a send
	// that went out must not be reported uncertain at the next start.
	wctx := context.WithoutCancel(ctx)
	switch {
	case panicked:
		// Whether the message went out is unknown: never resend it, and
		// tell staff, as after a crash.
		res.Uncertain++
		s.countUncertain(1)
		s.log.Warn("reminder send panicked: maybe delivered, not resent; the staff digest lists it",
			"reminder_id", r.ID, "kind", string(r.Kind), "booking_id", r.BookingID, "event_id", r.EventID, "chat_id", r.ChatID)
		return s.settle(wctx, claimed, true)
	case errors.Is(err, storage.ErrMaybeSent):
		// Cut on the wire (a stop, a timeout): the same unknown as a
		// crash, so the same answer; settled as failed, staff would
		// never hear of a reminder that may not have arrived.
		res.Uncertain++
		s.countUncertain(1)
		s.log.Warn("reminder send had no answer: maybe delivered, not resent; the staff digest lists it",
			"reminder_id", r.ID, "kind", string(r.Kind), "booking_id", r.BookingID, "event_id", r.EventID, "chat_id", r.ChatID, "err", err)
		return s.settle(wctx, claimed, true)
	case err == nil:
		res.Sent++
	case errors.Is(err, storage.ErrReminderObsolete):
		res.Dropped++
		s.log.Info("reminder dropped: what it is about changed", "reminder_id", r.ID, "kind", string(r.Kind),
			"booking_id", r.BookingID, "event_id", r.EventID, "chat_id", r.ChatID, "err", err)
	case errors.Is(err, storage.ErrNotSent):
		// Nothing reached Telegram (a stop, or a read that failed before
		// the send): keep it for a later sweep.
		if perr := s.store.PutBackReminders(wctx, []storage.Reminder{claimed}); perr != nil {
			return fmt.Errorf("put back reminder %d, left in flight: %w", r.ID, perr)
		}
		res.PutBack++
		if ctx.Err() == nil {
			s.log.Warn("reminder not sent, kept for the next sweep", "reminder_id", r.ID, "kind", string(r.Kind),
				"booking_id", r.BookingID, "event_id", r.EventID, "chat_id", r.ChatID, "err", err)
		}
		return nil
	default:
		res.Failed++
		s.log.Warn("reminder not delivered", "reminder_id", r.ID, "kind", string(r.Kind),
			"booking_id", r.BookingID, "event_id", r.EventID, "chat_id", r.ChatID, "err", err)
	}
	return s.settle(wctx, claimed, false)
}

// remind hands r to the Notifier; a panic there is recovered, logged and
// counted, and reported as panicked.
func (s *Reminders) remind(ctx context.Context, r storage.Reminder) (panicked bool, err error) {
	defer ops.Recovered(s.log, s.metrics, "reminders", &panicked)
	return false, s.notifier.Remind(ctx, r)
}

func (s *Reminders) settle(ctx context.Context, r storage.Reminder, uncertain bool) error {
	if err := s.store.SettleReminder(ctx, r.ID, uncertain); err != nil {
		// It stays in flight: the next start reports it as uncertain,
		// and it is never sent twice.
		return fmt.Errorf("settle reminder %d, left in flight: %w", r.ID, err)
	}
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
	eventID   uint64
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
