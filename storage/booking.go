package storage

import (
	"context"
	"time"
)

// BookingStatus is where a booking stands.
type BookingStatus string

// Booking statuses. Only a booked booking holds a seat of its slot in the
// future and counts toward the per-person limit; attended and no-show are set
// by staff, cancelled by the person or by staff.
const (
	BookingBooked    BookingStatus = "booked"
	BookingAttended  BookingStatus = "attended"
	BookingNoShow    BookingStatus = "no_show"
	BookingCancelled BookingStatus = "cancelled"
)

// OnlineCenterID is the center id of the online desk in the default catalog;
// bookings there have no address, a specialist writes in Telegram.
const OnlineCenterID = "online"

// Booking is one consultation booked by a young person. Name, Username and
// Phone are snapshots taken when booking, so staff see who is coming even if
// the person later changes their Telegram profile; Phone is set only when the
// person consented to share it.
type Booking struct {
	ID       uint64
	ChatID   int64
	Name     string
	Username string
	Phone    string
	// Anonymous is set when the person chose not to let the center see
	// their name: Name, Username and Phone stay empty, and staff see the
	// code AnonymousCode makes from the type's letter and the ID instead.
	// The booking is still the person's own by ChatID.
	Anonymous bool
	Lang      Lang
	TypeID    string
	CenterID  string
	// Start and End are instants (stored in UTC); the bot shows them in its
	// configured time zone.
	Start, End time.Time
	Status     BookingStatus
	// CancelReason is a short code (for example "by_person" or a staff
	// reason), never free text.
	CancelReason string
	// StaffNotified is false while no staff chat has heard of the latest
	// change of the booking; the morning digest picks such bookings up so a
	// failed notification is never silently lost.
	StaffNotified bool
	// FeedbackQueued is true once a "how was it?" question was written for
	// the booking and may have gone out; a staff correction that marks it
	// attended again then writes no second question.
	FeedbackQueued bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Active reports whether the booking holds its seat (neither cancelled nor
// marked by staff).
func (b Booking) Active() bool { return b.Status == BookingBooked }

// BookRules are the rules Book and Reschedule check inside their write
// transaction, so no interleaving of requests can break them.
type BookRules struct {
	// Capacity is how many bookings the weekly schedule gives the slot
	// (specialists at once; catalog.ScheduledCapacity), 0 when the slot is
	// not one of the schedule's. The store adds the places of an extra
	// session's slot starting at the same time, read in its transaction, so
	// a session removed meanwhile takes no booking.
	Capacity int
	// MaxActive is how many upcoming active bookings one person may hold;
	// 0 means no limit.
	MaxActive int
	// Now is the time of the request; upcoming means starting after it.
	Now time.Time
	// NotBefore is the earliest start accepted: Now plus the minimum notice.
	NotBefore time.Time
	// Reminders are written for the booking in the same transaction.
	Reminders ReminderPolicy
}

// BookingStore keeps bookings and their indexes by slot, by person and by
// center and day. Every method that changes a booking also writes or deletes
// its reminders in the same transaction.
type BookingStore interface {
	// Book stores b (ID, Status, timestamps are set) after checking, in one
	// write transaction: the slot starts at or after rules.NotBefore
	// (ErrSlotClosed), the person holds no active booking starting at the
	// same time (ErrAlreadyBooked), the person holds fewer than rules.MaxActive upcoming active bookings
	// (ErrLimit), no closure in force of b's center covers b's slot for
	// its type (ErrClosedByCenter), and the slot of b's center, type and
	// start holds fewer active bookings than rules.Capacity plus the places
	// of an extra session slot starting then (ErrFull).
	Book(ctx context.Context, b Booking, rules BookRules) (Booking, error)
	// Cancel cancels an active booking with a reason code, frees its seat
	// and deletes its reminders. A booking that is not active:
	// ErrBookingSettled; one that has started by now: ErrBookingStarted.
	Cancel(ctx context.Context, id uint64, reason string, now time.Time) (Booking, error)
	// Reschedule moves an active booking to a new slot of the same center
	// and type, checking the new slot like Book (without counting the
	// booking itself toward the person's limit; a move to the time it
	// already has is ErrAlreadyBooked). A booking that is not active:
	// ErrBookingSettled; one that has started by rules.Now:
	// ErrBookingStarted. The booking is
	// untouched unless the move succeeds; its reminders move with it.
	Reschedule(ctx context.Context, id uint64, start, end time.Time, rules BookRules) (old, moved Booking, err error)
	// SetStatus records attended or no-show, or corrects one into the
	// other. Setting the status a booking already has, or changing a
	// cancelled one: ErrBookingSettled; marking one that has not started by
	// now: ErrBookingNotStarted. All of them are ErrConflict. The
	// feedback question is written at most once per booking, however often
	// the mark is corrected.
	SetStatus(ctx context.Context, id uint64, status BookingStatus, now time.Time) (Booking, error)
	// MarkStaffNotified records that staff heard of seen, the booking as a
	// notice described it, only if the booking has not changed since
	// (same UpdatedAt, status and start): a notice about an older state
	// must not mark a newer change as heard of. It reports whether it did.
	MarkStaffNotified(ctx context.Context, seen Booking) (bool, error)
	// Booking returns one booking or ErrNotFound.
	Booking(ctx context.Context, id uint64) (Booking, error)
	// BookingsOf returns the person's active bookings starting at or after
	// from, soonest first.
	BookingsOf(ctx context.Context, chatID int64, from time.Time) ([]Booking, error)
	// SlotCounts returns, for one center and type, how many active bookings
	// each slot starting in [from, to) holds, keyed by the slot's start in
	// Unix seconds. Slots without bookings are absent.
	SlotCounts(ctx context.Context, centerID, typeID string, from, to time.Time) (map[int64]int, error)
	// BookingsOn returns every booking (any status) of the given centers
	// starting in [from, to), by start time.
	BookingsOn(ctx context.Context, centerIDs []string, from, to time.Time) ([]Booking, error)
}
