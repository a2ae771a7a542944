package storage

import (
	"context"
	"slices"
	"time"
)

// Topic is a kind of announcement people can subscribe to.
type Topic string

// The topics of announcements. A topic's code is stored and sent in buttons:
// it never changes meaning.
const (
	TopicEvents Topic = "events" // events, trainings, meetings
	TopicJobs   Topic = "jobs"   // jobs and grants
	TopicNews   Topic = "news"   // news of the regional office
)

// AllTopics returns every topic in the order the bot shows them.
func AllTopics() []Topic { return []Topic{TopicEvents, TopicJobs, TopicNews} }

// Valid reports whether t is a known topic.
func (t Topic) Valid() bool { return slices.Contains(AllTopics(), t) }

// Subscription is what one person asked to receive. Only an active
// subscription with at least one topic gets broadcasts; a person who blocks
// the bot is deactivated and is never reactivated without choosing again.
type Subscription struct {
	ChatID int64
	Topics []Topic
	// DistrictID narrows district-targeted announcements to one district;
	// empty means every district.
	DistrictID string
	// Lang is the person's language when they last changed the subscription.
	Lang      Lang
	Active    bool
	UpdatedAt time.Time
}

// Has reports whether the subscription is active and includes topic t.
func (s Subscription) Has(t Topic) bool { return s.Active && slices.Contains(s.Topics, t) }

// Audience selects the subscribers a broadcast goes to. Zero fields mean
// "all": every topic, every district, both languages.
type Audience struct {
	Topic      Topic
	DistrictID string
	Lang       Lang
}

// Matches reports whether a subscriber whose current language is lang
// belongs to the audience. A subscriber without a district hears from every
// district; an announcement without a district reaches every subscriber.
func (a Audience) Matches(s Subscription, lang Lang) bool {
	if !s.Active || len(s.Topics) == 0 {
		return false
	}
	if a.Topic != "" && !s.Has(a.Topic) {
		return false
	}
	if a.DistrictID != "" && s.DistrictID != "" && s.DistrictID != a.DistrictID {
		return false
	}
	return a.Lang == "" || a.Lang == lang
}

// SubscriptionStore keeps subscriptions and selects audiences without
// loading every subscriber into memory.
type SubscriptionStore interface {
	// Subscription returns the chat's subscription or ErrNotFound.
	Subscription(ctx context.Context, chatID int64) (Subscription, error)
	// SaveSubscription creates or replaces the subscription and its index
	// entries in one transaction. It is active only with at least one topic.
	SaveSubscription(ctx context.Context, s Subscription) error
	// Unsubscribe deactivates the chat's subscription and reports whether it
	// was active.
	Unsubscribe(ctx context.Context, chatID int64, now time.Time) (bool, error)
	// CountAudience counts the active subscribers in a.
	CountAudience(ctx context.Context, a Audience) (int, error)
}
