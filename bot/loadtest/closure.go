package loadtest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"jastar/bot/telegramtest"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/catalog"
)

// Closer is the Telegram user id of the staff member who closes time
// during the run: the bot under load gets it in JASTAR_ADMIN_IDS, as an
// admin may act on every center.
const Closer = 48_000_001

// closureVictims is the first chat of the people booked, before the run,
// in the time the closer closes: far from the simulated people's ids.
const closureVictims = 48_100_000

// Closure is the staff member's part of the run: halfway through, while
// people are booking, the closer closes one afternoon of one consultation
// type at one center through the bot's /close dialogue. People booked
// there before the run (Victims) must each get one cancellation.
type Closure struct {
	CenterID, TypeID string
	Day              catalog.Date
	Victims          []int64
}

// PrepareClosure picks the afternoon the run closes, the first from
// tomorrow (at now, on the bot's clock) in which a center holds afternoon
// slots of a type, and books every seat of those slots for people who
// play no part in the run, so the closure has bookings to cancel and the
// simulated people cannot book into the range before it is closed (their
// bookings cancelled mid-scenario would end their scenario early). The
// race of a closure and a booking of one slot is tested in the bot's own
// tests.
func (c Command) PrepareClosure(ctx context.Context, dbPath string, now time.Time, cat *catalog.Catalog) (*Closure, error) {
	db, err := c.Open(dbPath, ReadWrite)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	loc := cat.Location()
	today := catalog.DateOf(now.In(loc))
	// The closing dialogue offers a week of days from today.
	for i := 1; i < 7; i++ {
		day := catalog.DateOf(time.Date(today.Year, today.Month, today.Day+i, 12, 0, 0, 0, loc))
		for _, center := range cat.Centers {
			if center.Online || cat.IsHoliday(day) {
				continue
			}
			for _, sch := range center.Schedules {
				if _, ok := cat.Bookable(center.ID, sch.Type); !ok || !sch.OpenOn(day.Weekday()) {
					continue
				}
				plan := &Closure{CenterID: center.ID, TypeID: sch.Type, Day: day}
				from, to := plan.Span(loc)
				for _, clock := range sch.Slots() {
					start := day.At(clock, loc)
					if start.Before(from) || !start.Before(to) {
						continue
					}
					for range sch.Capacity {
						chat := int64(closureVictims + len(plan.Victims))
						lang := storage.Kazakh
						if len(plan.Victims)%2 == 1 {
							lang = storage.Russian
						}
						// Stamped before the run began: the check counts
						// the bookings made since as the run's own.
						at := now.Add(-time.Minute)
						_, err := db.Book(ctx, storage.Booking{ChatID: chat, Name: fmt.Sprintf("Closed%d", len(plan.Victims)), Lang: lang,
							TypeID: sch.Type, CenterID: center.ID, Start: start, End: start.Add(time.Duration(sch.SlotMinutes) * time.Minute)},
							storage.BookRules{Capacity: sch.Capacity, Now: at, NotBefore: at, Reminders: storage.DefaultReminderPolicy(loc)})
						if err != nil {
							return nil, fmt.Errorf("book the time the run closes: %w", err)
						}
						plan.Victims = append(plan.Victims, chat)
					}
				}
				if len(plan.Victims) > 0 {
					return plan, nil
				}
			}
		}
	}
	return nil, fmt.Errorf("no center has afternoon slots in the coming week to close")
}

// Span is the closed time: the afternoon of Day as the dialogue's
// "afternoon" button closes it, from 13:00 to the end of the day.
func (p Closure) Span(loc *time.Location) (from, to time.Time) {
	next := time.Date(p.Day.Year, p.Day.Month, p.Day.Day+1, 12, 0, 0, 0, loc)
	return p.Day.At(13*60, loc), catalog.DateOf(next).At(0, loc)
}

// CloseScenario is the closer's dialogue: /close, the center, the type,
// the day, "afternoon", a reason, confirm.
func CloseScenario(p Closure) Scenario {
	day := fmt.Sprintf("%04d%02d%02d", p.Day.Year, int(p.Day.Month), p.Day.Day)
	return Scenario{
		Text("close: start", "/close", WithKeyboard),
		pressOp("close: center", "c:"+p.CenterID, WithKeyboard),
		pressOp("close: type", "t:"+p.TypeID, WithKeyboard),
		pressOp("close: day", "d:"+day, WithKeyboard),
		pressOp("close: afternoon", "p:a", WithKeyboard),
		pressOp("close: reason", "y:"+string(storage.ReasonIllness), WithKeyboard),
		// Done: the dialogue's message loses its buttons.
		pressOp("close: confirm", "ok", func(e telegramtest.Event) bool { return e.Kind == "edit" && len(e.Message.InlineKeyboard) == 0 }),
	}
}

// pressOp presses the closing dialogue's button cls:<token>:<op>: the
// token is the dialogue's own, read from the keyboard.
func pressOp(name, op string, expect func(telegramtest.Event) bool) Step {
	return Step{Name: name, Kind: KindPress, Expect: expect, Do: func(srv *telegramtest.Server, p *Person) error {
		for _, row := range p.last.InlineKeyboard {
			for _, b := range row {
				parts := strings.SplitN(b.CallbackData, ":", 3)
				if len(parts) == 3 && parts[0] == "cls" && parts[2] == op {
					id, _ := srv.PressButton(p.User, p.last.ChatID, p.last.ID, b.CallbackData)
					p.pressed(id)
					return nil
				}
			}
		}
		return errNoButton
	}}
}

// ClosureNotice tells the message that tells a person the center
// cancelled their booking, in either language.
func ClosureNotice(texts *locales.Bundle) func(telegramtest.Event) bool {
	return botMessageOpening(texts, locales.ClosureCancelled)
}

// checkClosures adds to cc what the closures in force say of all: a
// booking inside a closed range that is not cancelled, or that was made
// after the closure, is a capacity error; the bookings each closure
// cancelled are counted per chat, for the notification check.
func checkClosures(closures []storage.Closure, all []storage.Booking, cc *Capacity) {
	cc.Closures = len(closures)
	cc.ClosedCancelled = map[int64]int{}
	byID := map[uint64]storage.Booking{}
	for _, b := range all {
		byID[b.ID] = b
	}
	for _, c := range closures {
		for _, id := range c.Cancelled {
			if b, ok := byID[id]; ok && b.ChatID > 0 {
				cc.ClosedCancelled[b.ChatID]++
			}
		}
		for _, b := range all {
			if b.CenterID != c.CenterID || !c.Covers(b.TypeID, b.Start, b.End) {
				continue
			}
			if b.Status != storage.BookingCancelled || b.CreatedAt.After(c.At) {
				cc.InsideClosed = append(cc.InsideClosed, fmt.Sprintf("booking %d (%s/%s at %s, %s) inside closure %d",
					b.ID, b.CenterID, b.TypeID, b.Start.UTC().Format(time.RFC3339), b.Status, c.ID))
			}
		}
	}
}
