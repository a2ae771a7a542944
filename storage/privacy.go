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
	// event registrations, subscription, broadcast deliveries and pending
	// updates are deleted; their poll answers lose their link to them, their
	// time and free text, and stay counted; their feedback loses its author and comment, and
	// their bookings are kept only anonymised (ChatID 0, no name, username,
	// phone or language) for statistics. Active future bookings must be cancelled before, through
	// the ordinary cancellation, so seats are freed and staff told; Forget
	// anonymises whatever it finds. The file is rewritten soon after (at a
	// quiet moment within about 10 minutes, at Close, or at the next Open
	// after a crash), and no byte of the erased values outlives that
	// rewrite, not even in freed pages.
	Forget(ctx context.Context, chatID int64) (ForgetReport, error)
	// DeliveriesOf returns the broadcast deliveries addressed to the person,
	// the ones Forget deletes, oldest broadcast first.
	DeliveriesOf(ctx context.Context, chatID int64) ([]Delivery, error)
	// CountSubscribers counts the active subscribers by topic and by
	// district from the subscription index, without collecting them.
	CountSubscribers(ctx context.Context) (SubscriberCounts, error)
}

// SubscriberCounts are the active subscribers, for /stats. A subscriber
// counts once in Total and once per topic chosen; ByDistrict counts each
// subscriber once, under "" when they hear from every district.
type SubscriberCounts struct {
	Total      int
	ByTopic    map[Topic]int
	ByDistrict map[string]int
}

// ForgetReport says what Forget did, for the log and the person.
type ForgetReport struct {
	Anonymised int // bookings kept for statistics without personal data
	Reminders  int // reminders deleted
	// Registrations are the event registrations deleted (past or
	// cancelled events: the bot unregisters from open ones first).
	Registrations int
	Updates       int // unhandled updates of the person dropped from the inbox
	// Subscription reports whether a subscription (active or not) was
	// deleted with its index entries.
	Subscription bool
	// Deliveries are the broadcast deliveries addressed to the person that
	// were deleted; the broadcasts' counts keep them.
	Deliveries int
	// PollAnswers are the person's poll answers unlinked from them: kept
	// without chat, time or free text, and still counted.
	PollAnswers int
}

// Delivery is one broadcast addressed to a person, for /mydata.
type Delivery struct {
	BroadcastID uint64
	State       DeliveryState
	// Lang is the language of the version the person gets; Version is
	// that version, or the other when it was left out.
	Lang    Lang
	Version Version
	// At is when the broadcast was created; zero (with no Version) when its
	// record is gone.
	At time.Time
}
