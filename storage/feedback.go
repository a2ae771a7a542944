package storage

import (
	"context"
	"time"
)

// Feedback is a person's answer to "how was it?" after a consultation they
// attended. It is kept for the statistics of the operations issue: by type,
// by center, over time. Comment is the person's own words and is never
// logged.
type Feedback struct {
	BookingID uint64
	ChatID    int64
	TypeID    string
	CenterID  string
	Rating    int // 1 to 5
	Comment   string
	At        time.Time
}

// MaxFeedbackComment bounds a stored comment, in characters.
const MaxFeedbackComment = 1000

// FeedbackStore keeps one feedback per booking.
type FeedbackStore interface {
	// SaveRating stores the rating of f.BookingID. A booking that already
	// has a rating keeps it: ErrConflict, with the stored feedback.
	SaveRating(ctx context.Context, f Feedback) (Feedback, error)
	// SaveFeedbackComment adds the comment to a rated booking's feedback.
	// One that already has a comment keeps it: ErrConflict. No rating yet:
	// ErrNotFound.
	SaveFeedbackComment(ctx context.Context, bookingID uint64, comment string) error
	// Feedback returns the feedback of a booking or ErrNotFound.
	Feedback(ctx context.Context, bookingID uint64) (Feedback, error)
	// FeedbackSince calls fn for each feedback given at or after from, in
	// the order given.
	FeedbackSince(ctx context.Context, from time.Time, fn func(Feedback) error) error
}
