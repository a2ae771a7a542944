package storage

import (
	"context"
	"errors"
	"time"
)

// ErrEventClosed means the event takes no registrations any more: it was
// cancelled or has already started.
var ErrEventClosed = errors.New("event cancelled or past")

// Event is an event of a center: a training, a workshop, a meeting. Seed
// events come from the catalog (SeedID set); staff create the rest in the
// chat.
type Event struct {
	ID       uint64
	SeedID   string // the catalog id of a seed event, "" for one staff created
	CenterID string
	// Titles and descriptions in both languages; TitleIn and DescriptionIn
	// pick one.
	TitleKK, TitleRU             string
	DescriptionKK, DescriptionRU string
	Start                        time.Time
	Minutes                      int
	Capacity                     int
	Cancelled                    bool
	// Registered and Waiting count the registrations of each status. The
	// store keeps them in the same transaction as the registrations.
	Registered int
	Waiting    int
	CreatedBy  int64 // Telegram user id of the staff member; 0 for seeds
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// End is when the event ends.
func (e Event) End() time.Time { return e.Start.Add(time.Duration(e.Minutes) * time.Minute) }

// SeatsLeft is how many places are free.
func (e Event) SeatsLeft() int { return max(e.Capacity-e.Registered, 0) }

// Open reports whether the event still takes registrations at now.
func (e Event) Open(now time.Time) bool { return !e.Cancelled && e.Start.After(now) }

// TitleIn returns the title in lang ("kk" or "ru"), falling back to the
// other language when empty.
func (e Event) TitleIn(lang Lang) string { return pick(lang, e.TitleKK, e.TitleRU) }

// DescriptionIn returns the description in lang, like TitleIn.
func (e Event) DescriptionIn(lang Lang) string { return pick(lang, e.DescriptionKK, e.DescriptionRU) }

func pick(lang Lang, kk, ru string) string {
	first, second := kk, ru
	if lang == Russian {
		first, second = ru, kk
	}
	if first != "" {
		return first
	}
	return second
}

// RegistrationStatus says whether a person has a place or waits for one.
type RegistrationStatus string

// Registration statuses.
const (
	Registered RegistrationStatus = "registered"
	Waitlisted RegistrationStatus = "waitlisted"
)

// Registration is one person's place (or place in the queue) at one event.
// There is at most one per person and event. A reminder needs the event
// (its start and center) and the chat; the language is the user's.
type Registration struct {
	EventID uint64
	ChatID  int64
	Status  RegistrationStatus
	// Seq orders the waitlist: the lowest waiting Seq moves up first.
	Seq       uint64
	CreatedAt time.Time
}

// EventFilter selects upcoming events.
type EventFilter struct {
	// CenterIDs limits the list to these centers; empty means all.
	CenterIDs []string
	// After: only events starting strictly after it.
	After time.Time
}

// EventStore keeps events and registrations.
type EventStore interface {
	// SeedEvents stores every event whose SeedID is not stored yet and
	// returns how many it added; running it again adds nothing.
	SeedEvents(ctx context.Context, seeds []Event) (int, error)
	// CreateEvent stores a new event with the next id and returns it.
	CreateEvent(ctx context.Context, e Event) (Event, error)
	// Event returns the event or ErrNotFound.
	Event(ctx context.Context, id uint64) (Event, error)
	// UpdateEvent applies change to the stored event in one transaction and
	// keeps the indexes current. A raised capacity moves waiting people up;
	// they are returned. Capacity below the registered count is ErrConflict.
	// Reminders of people moved up are written, and a moved start moves
	// every registered person's reminders, by rem at now, in the same
	// transaction. So are the notices, due at now: "moved up" to each person
	// moved up and, when the start moved, "time changed" to everyone else
	// registered or waiting.
	UpdateEvent(ctx context.Context, id uint64, change func(*Event) error, rem ReminderPolicy, now time.Time) (Event, []Registration, error)
	// CancelEvent marks the event cancelled, takes it out of every list, and
	// returns the registrations (registered and waiting); their reminders
	// are deleted, and a "cancelled" notice due at now is written for each,
	// in the same transaction.
	// Cancelling a cancelled event is ErrEventClosed.
	CancelEvent(ctx context.Context, id uint64, now time.Time) (Event, []Registration, error)
	// UpcomingEvents returns page [offset, offset+limit) of the events that
	// match, soonest first, and how many match in all. Cancelled events are
	// never listed.
	UpcomingEvents(ctx context.Context, f EventFilter, offset, limit int) ([]Event, int, error)
	// Register gives the person a place, or a place on the waitlist when the
	// event is full, checking capacity in the same transaction. It returns
	// ErrConflict when the person already has a registration, ErrEventClosed
	// for a cancelled or past event, ErrNotFound for an unknown one. A place
	// (not the waitlist) comes with its reminders by rem, in the same
	// transaction.
	Register(ctx context.Context, eventID uint64, chatID int64, now time.Time, rem ReminderPolicy) (Registration, Event, error)
	// Unregister removes the person's registration (ErrNotFound without
	// one). When it freed a place of an open event, the first person waiting
	// moves up and is returned. The person's reminders and pending notices
	// go, and the promoted person's reminders (by rem) and "moved up" notice
	// are written, in the same transaction.
	Unregister(ctx context.Context, eventID uint64, chatID int64, now time.Time, rem ReminderPolicy) (Event, *Registration, error)
	// ClaimNotices removes the person's pending notices of the event in one
	// write transaction and returns them, as the sweep's ClaimReminder does: a handler
	// that moved one person up sends theirs at once, and the sweep, which
	// claims the same records, never sends it again.
	ClaimNotices(ctx context.Context, eventID uint64, chatID int64) ([]Reminder, error)
	// Registration returns one person's registration or ErrNotFound.
	Registration(ctx context.Context, eventID uint64, chatID int64) (Registration, error)
	// EventRegistrations lists an event's registrations, waitlist order
	// (registered people first).
	EventRegistrations(ctx context.Context, eventID uint64) ([]Registration, error)
	// PersonRegistrations lists a person's registrations, by event id.
	PersonRegistrations(ctx context.Context, chatID int64) ([]Registration, error)
}
