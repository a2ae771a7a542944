package boltdb

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

// digestPage is how many entries of the events-topic index one read
// transaction of the weekly digest scans. A page is a few tens of kilobytes
// in memory and a millisecond of reading; the sends between pages take
// far longer, and no transaction stays open while they run.
const digestPage = 500

// eventSubscriber is one recipient of the weekly digest, copied out of a
// read transaction.
type eventSubscriber struct {
	chatID   int64
	lang     storage.Lang
	district string
}

// EventSubscribers calls fn for every active subscriber of the events topic,
// in chat order, with their current language and chosen district ("" for
// every district); it satisfies scheduler.EventSubscribers. A person the bot
// knows to be blocked is skipped.
//
// The topics index is read a page at a time, each page in its own short read
// transaction, and fn runs between transactions: it may send to Telegram and
// write (a 403 unsubscribes the person) without holding the database, and
// memory stays one page whatever the number of subscribers. A subscription
// changed during the walk is seen as it is when its page is read. A non-nil
// error from fn, or a cancelled ctx, stops the walk and is returned.
func (db *DB) EventSubscribers(ctx context.Context, fn func(chatID int64, lang, districtID string) error) error {
	return db.eventSubscribers(ctx, digestPage, fn)
}

func (db *DB) eventSubscribers(ctx context.Context, pageSize int, fn func(chatID int64, lang, districtID string) error) error {
	audience := storage.Audience{Topic: storage.TopicEvents}
	page := make([]eventSubscriber, 0, pageSize)
	var after int64
	hasAfter := false
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		page = page[:0]
		var last int64
		var end bool
		err := db.bolt.View(func(tx *bolt.Tx) error {
			var err error
			last, end, err = walkAudience(tx, audience, after, hasAfter, pageSize, func(r storage.Recipient) error {
				// walkAudience gives the chat and language; the district
				// and whether the person still reaches us are read here.
				if u, err := getUser(tx, r.ChatID); err == nil && !u.Active {
					return nil
				} else if err != nil && !isNotFound(err) {
					return err
				}
				s, err := getSubscription(tx, r.ChatID)
				if err != nil {
					return err
				}
				page = append(page, eventSubscriber{chatID: r.ChatID, lang: r.Lang, district: s.DistrictID})
				return nil
			})
			return err
		})
		if err != nil {
			return fmt.Errorf("read event subscribers after %d: %w", after, err)
		}
		for _, s := range page {
			if err := fn(s.chatID, string(s.lang), s.district); err != nil {
				return err
			}
		}
		if end {
			return nil
		}
		after, hasAfter = last, true
	}
}
