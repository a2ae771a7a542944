package bot

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/catalog"
)

// A center as people see it is the catalog's center with what its staff
// set (catalog.CardOf). Every card, list, booking text and reminder shows
// a center through shownCenter, so a change shows everywhere at once.
// The staff's values are held in memory, read from the store at start and
// again after each change the bot makes: a list of twelve centers costs no
// database read, and texts built without a context (bookingData) see them.

// cardCache holds every center's overrides. Reloads are serialised, so
// the last one to finish started after the last change and the cache
// never goes back to an older state.
type cardCache struct {
	mu   sync.Mutex
	byID atomic.Pointer[map[string]storage.CardOverrides]
}

// cardReader reads the overrides of every center.
type cardReader interface {
	Cards(ctx context.Context) (map[string]storage.CardOverrides, error)
}

// reload reads every center's overrides from the store.
func (c *cardCache) reload(ctx context.Context, st cardReader) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	all, err := st.Cards(ctx)
	if err != nil {
		return fmt.Errorf("load center cards: %w", err)
	}
	c.byID.Store(&all)
	return nil
}

// of returns one center's overrides (nil before the first load).
func (c *cardCache) of(centerID string) storage.CardOverrides {
	if all := c.byID.Load(); all != nil {
		return (*all)[centerID]
	}
	return nil
}

// loadCards reads the staff's card values into the cache.
func (f *centerGuide) loadCards(ctx context.Context) error { return f.cards.reload(ctx, f.store) }

// shownCenter is c as people see it.
func (f *centerGuide) shownCenter(c catalog.Center) catalog.Card { return f.cards.shownCenter(c) }

// shownCenter is c as people see it: the catalog's values under the
// staff's.
func (c *cardCache) shownCenter(center catalog.Center) catalog.Card {
	return catalog.CardOf(center, c.of(center.ID))
}

// hoursText is a card's opening hours in l's language: the week staff set,
// or the catalog's text, or "ask the center".
func hoursText(l *locales.Localizer, card catalog.Card) string {
	if !card.HasWeek {
		return orAsk(l, card.Hours.In(l.Lang()))
	}
	return esc(weekText(l, card.Week))
}

// weekText shows opening hours Monday first, consecutive days with the
// same hours together: "Дс–Жм 09:00–18:00 · Сн 10:00–14:00 · Жс жабық".
func weekText(l *locales.Localizer, w storage.WeekHours) string {
	var parts []string
	for i := 0; i < 7; {
		wd := dayFromMon(i)
		j := i
		for j+1 < 7 && w[dayFromMon(j+1)] == w[wd] {
			j++
		}
		days := l.T(fmt.Sprintf("WeekdayShort%d", int(wd)))
		if j > i {
			days += "–" + l.T(fmt.Sprintf("WeekdayShort%d", int(dayFromMon(j))))
		}
		parts = append(parts, days+" "+dayHoursText(l, w[wd]))
		i = j + 1
	}
	return strings.Join(parts, " · ")
}

// dayHoursText is one day's hours, "09:00–18:00", or "closed".
func dayHoursText(l *locales.Localizer, d storage.DayHours) string {
	if d.Closed() {
		return l.T(locales.CardDayClosed)
	}
	return catalog.Clock(d.Open).String() + "–" + clockText(d.Close)
}

// clockText is a clock, midnight at the end of a day as 24:00.
func clockText(minutes int) string {
	if minutes == 24*60 {
		return "24:00"
	}
	return catalog.Clock(minutes).String()
}

// dayFromMon is the weekday i days after Monday.
func dayFromMon(i int) time.Weekday { return time.Weekday((i + 1) % 7) }

// handleCenterPhoto (cph:<centerID>) sends the entrance photo staff set.
func (f *centerGuide) handleCenterPhoto(ctx context.Context, r *tg.Request) error {
	c, ok := f.catalog().Center(r.Data.Arg(0))
	card := f.shownCenter(c)
	if !ok || card.Photo == "" {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	f.tx.Answer(ctx, r, "")
	photo := tgbotapi.NewPhoto(r.ChatID, tgbotapi.FileID(card.Photo))
	photo.Caption = c.Name.In(r.L.Lang())
	_, err := f.send.Send(ctx, r.ChatID, photo)
	return err
}
