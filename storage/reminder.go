package storage

import (
	"context"
	"errors"
	"time"
)

// ErrReminderObsolete means what a reminder is about changed after it was
// written (the booking was cancelled or moved, the event moved, the person
// gave the place up): it is dropped, not sent.
var ErrReminderObsolete = errors.New("reminder no longer applies")

// ErrNotSent means a send was abandoned before it could reach the person
// (the process is stopping): what it carried may be kept and sent later,
// with no risk of a second copy.
var ErrNotSent = errors.New("not sent")

// ErrMaybeSent means a send may have reached the person though its answer
// never came back (a timeout, a dropped connection, or a stop that cut it
// on the wire): it must never be sent again, and since nobody knows whether
// it arrived, it is uncertain, like a send a crash cut.
var ErrMaybeSent = errors.New("maybe sent")

// ReminderKind says what a reminder is about and when it fires.
type ReminderKind string

// Reminder kinds.
const (
	ReminderBookingDayBefore  ReminderKind = "booking_day_before"
	ReminderBookingHourBefore ReminderKind = "booking_hour_before"
	// ReminderEventDayBefore and ReminderEventHourBefore remind a person of
	// an event they registered for; EventID is set.
	ReminderEventDayBefore  ReminderKind = "event_day_before"
	ReminderEventHourBefore ReminderKind = "event_hour_before"
	// ReminderFeedback asks "how was it?" after a consultation marked
	// attended; it is written with the mark, so it exists at most once.
	ReminderFeedback ReminderKind = "feedback"
	// ReminderEventCancelled, ReminderEventPromoted and ReminderEventChanged
	// are the notices of an event: it was cancelled, the person moved up
	// from the waitlist, its time changed. They are written due at once, in
	// the transaction of the change, so the sweep delivers them even when
	// the process stops part-way through thousands of them; EventID is set
	// and Start is the event's start at the change.
	ReminderEventCancelled ReminderKind = "event_cancelled"
	ReminderEventPromoted  ReminderKind = "event_promoted"
	ReminderEventChanged   ReminderKind = "event_changed"
)

// Notice reports whether the kind is an event notice, which says what
// happened rather than reminding of a time.
func (k ReminderKind) Notice() bool {
	return k == ReminderEventCancelled || k == ReminderEventPromoted || k == ReminderEventChanged
}

// EventNotice is a notice of kind to one person about event e, due at now.
func EventNotice(kind ReminderKind, e Event, chatID int64, now time.Time) Reminder {
	return Reminder{Kind: kind, EventID: e.ID, ChatID: chatID, Due: now.UTC(), Start: e.Start.UTC()}
}

// FeedbackAfter is how long after a consultation's end the feedback
// question is due: late enough that the person has left, early enough that
// they remember.
const FeedbackAfter = time.Hour

// FeedbackExpiry is how long a feedback question that could not be sent
// (the bot was down) stays worth asking.
const FeedbackExpiry = 48 * time.Hour

// Stale reports whether a reminder that comes due at now is no longer worth
// sending: its appointment began, or (for feedback) it is too old to ask.
func (r Reminder) Stale(now time.Time) bool {
	if r.Kind == ReminderFeedback {
		return now.Sub(r.Due) > FeedbackExpiry
	}
	return !r.Start.IsZero() && !now.Before(r.Start)
}

// FeedbackReminder is the feedback question of a booking marked attended at
// now: FeedbackAfter after its end, or at once when marked later than that.
func FeedbackReminder(b Booking, now time.Time) Reminder {
	due := b.End.Add(FeedbackAfter)
	if due.Before(now) {
		due = now
	}
	return Reminder{Kind: ReminderFeedback, BookingID: b.ID, ChatID: b.ChatID, Due: due.UTC(), Start: b.Start.UTC()}
}

// Reminder is one message due to one person at one time. It is written in
// the same transaction as the booking (or registration) it belongs to and
// deleted or moved with it.
type Reminder struct {
	ID        uint64
	Kind      ReminderKind
	BookingID uint64 // 0 for event reminders
	EventID   uint64 // 0 for booking reminders
	ChatID    int64
	Due       time.Time
	// Start is when the appointment begins, so a sweep after downtime can
	// drop a reminder whose appointment already passed.
	Start time.Time
}

// ReminderPolicy says when booking reminders are due.
type ReminderPolicy struct {
	// DayBeforeAt is the time of day, on the day before the appointment in
	// Location, of the day-before reminder (18:00 is 18*time.Hour); 0 turns
	// the reminder off.
	DayBeforeAt time.Duration
	// Before is how long before the start the second reminder is due
	// (one hour by default); 0 turns it off.
	Before   time.Duration
	Location *time.Location
}

// DefaultReminderPolicy is 18:00 the day before and one hour before.
func DefaultReminderPolicy(loc *time.Location) ReminderPolicy {
	return ReminderPolicy{DayBeforeAt: 18 * time.Hour, Before: time.Hour, Location: loc}
}

// ForEvent returns the reminders of a registration for an event starting at
// start, with the same rules as ForBooking.
func (p ReminderPolicy) ForEvent(eventID uint64, chatID int64, start, now time.Time) []Reminder {
	rs := p.ForBooking(Booking{ChatID: chatID, Start: start}, now)
	for i := range rs {
		rs[i].EventID = eventID
		switch rs[i].Kind {
		case ReminderBookingDayBefore:
			rs[i].Kind = ReminderEventDayBefore
		case ReminderBookingHourBefore:
			rs[i].Kind = ReminderEventHourBefore
		}
	}
	return rs
}

// ForBooking returns the reminders of a booking that are still ahead at now.
// A reminder whose due time has passed is skipped: a person who books at
// 20:00 for tomorrow morning gets no "tomorrow" reminder after the fact.
func (p ReminderPolicy) ForBooking(b Booking, now time.Time) []Reminder {
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	var out []Reminder
	add := func(kind ReminderKind, due time.Time) {
		if due.After(now) && due.Before(b.Start) {
			out = append(out, Reminder{Kind: kind, BookingID: b.ID, ChatID: b.ChatID, Due: due.UTC(), Start: b.Start.UTC()})
		}
	}
	if p.DayBeforeAt > 0 {
		s := b.Start.In(loc)
		y, m, d := s.Date()
		// time.Date normalizes day 0 to the last day of the previous month.
		add(ReminderBookingDayBefore, time.Date(y, m, d-1, 0, 0, 0, 0, loc).Add(p.DayBeforeAt))
	}
	if p.Before > 0 {
		add(ReminderBookingHourBefore, b.Start.Add(-p.Before))
	}
	return out
}

// ReminderStore is what the reminder sweep needs. The sweep claims a
// reminder right before its send and settles it after, so a crash can
// leave only the one in flight unsettled: it is reported at the next start
// (SettleInFlightReminders) and never sent again.
type ReminderStore interface {
	// DueReminders returns up to limit reminders due at or before now,
	// earliest first, after the reminder after (its due time and id; the
	// zero Reminder starts at the first). It changes nothing.
	DueReminders(ctx context.Context, now time.Time, after Reminder, limit int) ([]Reminder, error)
	// ClaimReminder takes one reminder out of the due ones and holds it as
	// in flight, in one write transaction, and returns it as stored. A
	// claimed reminder is never returned again by DueReminders or
	// ClaimReminder; one already claimed, cancelled or moved gives
	// ErrNotFound.
	ClaimReminder(ctx context.Context, id uint64) (Reminder, error)
	// DropReminder deletes a due reminder that is not worth sending;
	// ErrNotFound if it is gone already.
	DropReminder(ctx context.Context, id uint64) error
	// SettleReminder ends the flight of a claimed reminder once its send
	// has an outcome. With uncertain set (the outcome is unknown: the send
	// panicked) it is kept for UncertainReminders.
	SettleReminder(ctx context.Context, id uint64, uncertain bool) error
	// PutBackReminders stores claimed reminders again, under their ids, in
	// one write transaction: a send abandoned before it could reach the
	// person leaves its reminder to a later sweep.
	PutBackReminders(ctx context.Context, rs []Reminder) error
	// SettleInFlightReminders settles every reminder still in flight as
	// uncertain and returns them. Called at start, before any sweep: they
	// were in flight when the last process died.
	SettleInFlightReminders(ctx context.Context) ([]Reminder, error)
	// RemindersOf returns the pending reminders of a booking, by due time.
	RemindersOf(ctx context.Context, bookingID uint64) ([]Reminder, error)
}

// UncertainReminderStore is what the staff digest needs of the reminders
// that may or may not have reached their person.
type UncertainReminderStore interface {
	// UncertainReminders returns the reminders settled as uncertain and
	// not yet forgotten, by id.
	UncertainReminders(ctx context.Context) ([]Reminder, error)
	// ForgetUncertainReminders drops them once staff heard of them (or
	// there is nothing left to call about).
	ForgetUncertainReminders(ctx context.Context, ids []uint64) error
}
