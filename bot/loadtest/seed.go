package loadtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"jastar/bot/ops"
	"jastar/storage"
	"jastar/storage/catalog"
)

// seedSizes is how much history the load tool puts in the database before
// the bot starts, to measure memory and start-up at a realistic size.
type seedSizes struct{ users, bookings, subscribers int }

// seedDB fills the database at path with people, past bookings spread over
// the catalog's centers and types (two years up to now), and subscribers, through the same store
// methods the bot uses (so indexes are as the bot writes them).
func (c Command) seedDB(ctx context.Context, path string, n seedSizes, cat *catalog.Catalog, now time.Time) error {
	db, err := c.Open(path, BulkLoad)
	if err != nil {
		return err
	}
	defer db.Close()
	type offer struct{ center, typ string }
	var offers []offer
	for _, c := range cat.Centers {
		for _, s := range c.Schedules {
			offers = append(offers, offer{c.ID, s.Type})
		}
	}
	const firstChat = 50_000_000
	start := now.AddDate(-2, 0, 0).In(cat.Location())
	work := func(count int, do func(i int) error) error {
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 1)
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// A panic ends the seeding with an error, not the process
				// with the database open.
				var panicked bool
				defer func() {
					if panicked {
						select {
						case errs <- errors.New("seeding panicked"):
						default:
						}
					}
				}()
				defer ops.Recovered(slog.New(slog.NewTextHandler(os.Stderr, nil)), nil, "seed", &panicked)
				for {
					i := int(next.Add(1) - 1)
					if i >= count || ctx.Err() != nil {
						return
					}
					if err := do(i); err != nil {
						select {
						case errs <- err:
						default:
						}
						return
					}
				}
			}()
		}
		wg.Wait()
		select {
		case err := <-errs:
			return err
		default:
			return ctx.Err()
		}
	}
	err = work(n.users, func(i int) error {
		lang := storage.Kazakh
		if i%2 == 1 {
			lang = storage.Russian
		}
		return db.SaveUser(ctx, storage.User{
			ChatID: int64(firstChat + i), Lang: lang, LangSet: true, FirstName: fmt.Sprintf("Seed%d", i),
			Active: true, SubscriptionOffered: true, CreatedAt: now, UpdatedAt: now,
		})
	})
	if err != nil {
		return fmt.Errorf("seed users: %w", err)
	}
	err = work(n.subscribers, func(i int) error {
		topics := []storage.Topic{storage.TopicEvents}
		if i%3 == 0 {
			topics = append(topics, storage.TopicJobs)
		}
		return db.SaveSubscription(ctx, storage.Subscription{
			ChatID: int64(firstChat + i%max(n.users, 1)), Topics: topics, Active: true, UpdatedAt: now,
			Lang: storage.Kazakh,
		})
	})
	if err != nil {
		return fmt.Errorf("seed subscribers: %w", err)
	}
	err = work(n.bookings, func(i int) error {
		o := offers[i%len(offers)]
		// Past bookings, one an hour across two years: history, as a
		// region that has run the bot for a while has.
		at := start.Add(time.Duration(i/len(offers)) * time.Hour)
		_, err := db.Book(ctx, storage.Booking{
			ChatID: int64(firstChat + i%max(n.users, 1)), Name: "Seed", Lang: storage.Kazakh,
			TypeID: o.typ, CenterID: o.center, Start: at, End: at.Add(time.Hour),
		}, storage.BookRules{Capacity: 1 << 20, Now: at.Add(-2 * time.Hour), NotBefore: at.Add(-time.Hour)})
		return err
	})
	if err != nil {
		return fmt.Errorf("seed bookings: %w", err)
	}
	return db.Sync()
}
