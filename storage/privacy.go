package storage

import (
	"context"
	"time"
)

// PrivacyStore is what /mydata, /forget, exports and statistics need beyond
// the stores of each feature.
type PrivacyStore interface {
	// AllBookingsOf returns every booking of the person, any status, past
	// and future, by start.
	AllBookingsOf(ctx context.Context, chatID int64) ([]Booking, error)
	// AllBookingsOn returns every booking (any status) of every center,
	// including centers no longer in the catalog, starting in [from, to),
	// by start.
	AllBookingsOn(ctx context.Context, from, to time.Time) ([]Booking, error)
	// Forget erases the person: their user record, dialogue, reminders,
	// event registrations and pending updates are deleted, and their bookings are kept only
	// anonymised (ChatID 0, no name, username, phone or language) for
	// statistics. Active future bookings must be cancelled before, through
	// the ordinary cancellation, so seats are freed and staff told; Forget
	// anonymises whatever it finds. When it returns, no byte of the erased
	// values is left in the database file, not even in freed pages.
	Forget(ctx context.Context, chatID int64) (ForgetReport, error)
}

// ForgetReport says what Forget did, for the log and the person.
type ForgetReport struct {
	Anonymised int // bookings kept for statistics without personal data
	Reminders  int // reminders deleted
	// Registrations are the event registrations deleted (past or
	// cancelled events: the bot unregisters from open ones first).
	Registrations int
	Updates       int // unhandled updates of the person dropped from the inbox
}
