package storage

import (
	"context"
	"time"
)

// Lang is a language the bot speaks.
type Lang string

// The languages the bot speaks. Kazakh comes first: it is the state language
// and the default for a region office that does not configure one.
const (
	Kazakh  Lang = "kk"
	Russian Lang = "ru"
)

// Valid reports whether l is a language the bot speaks.
func (l Lang) Valid() bool { return l == Kazakh || l == Russian }

// Other returns the other supported language, for the one-tap switch.
func (l Lang) Other() Lang {
	if l == Kazakh {
		return Russian
	}
	return Kazakh
}

// User is what the bot keeps about one person who wrote to it. It holds only
// what the features need: the Telegram id and name for bookings, the language,
// a phone number only with consent.
type User struct {
	ChatID    int64
	Lang      Lang
	LangSet   bool // chosen by the person or guessed from a supported language_code
	FirstName string
	Username  string
	// Phone is stored only when PhoneConsent is true.
	Phone        string
	PhoneConsent bool
	// Active is false once Telegram told us the person blocked the bot; it
	// turns true again when they write to us.
	Active bool
	// Location is the last location the person shared, used to sort centers
	// nearest first; it is part of /mydata and removed by /forget.
	HasLocation bool
	Lat, Lon    float64
	// SubscriptionOffered records that the one-time subscription offer was
	// shown, so the bot never nags.
	SubscriptionOffered bool
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// UserStore keeps user records.
type UserStore interface {
	// User returns the stored user or ErrNotFound.
	User(ctx context.Context, chatID int64) (User, error)
	// SaveUser creates or replaces the user record.
	SaveUser(ctx context.Context, u User) error
	// UpdateUser loads the user (a zero User with ChatID set when absent),
	// applies change and stores the result in one transaction. change may
	// run more than once. A change that leaves the stored user as it was,
	// UpdatedAt aside, may be left unwritten: the stored user is returned.
	UpdateUser(ctx context.Context, chatID int64, change func(*User) error) (User, error)
}
