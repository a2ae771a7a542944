package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"jastar/bot/telegramtest"
	"jastar/locales"
	"jastar/storage/catalog"
)

// rehearsedDates are the moments the flows below run at: the suite must
// pass on any date, so each stands for a kind of day that once broke, or
// could break, a test leaning on dated content. The main package's load
// and sandbox tests run at the same kinds of day.
var rehearsedDates = []struct {
	name string
	now  func(loc *time.Location) time.Time
	// firstDay is the first day Karasai offers a career consultation
	// (Monday to Friday, 09:00-18:00, an hour's notice), worked out by
	// hand from the law's days off, not from the catalog.
	firstDay string
}{
	{"in 2026", func(loc *time.Location) time.Time { return time.Date(2026, 12, 10, 10, 30, 0, 0, loc) }, "2026-12-10"},
	{"after every example event", func(loc *time.Location) time.Time { return time.Date(2027, 6, 15, 10, 30, 0, 0, loc) }, "2027-06-15"},
	{"leap day", func(loc *time.Location) time.Time { return time.Date(2028, 2, 29, 9, 30, 0, 0, loc) }, "2028-02-29"},
	// Nauryz: 22 and 23 March, and 24 March for the 21st, a Sunday.
	{"on Nauryz", func(loc *time.Location) time.Time { return time.Date(2027, 3, 22, 12, 0, 0, 0, loc) }, "2027-03-25"},
	// New Year: 1 and 2 January, in a year the catalog lists nothing for.
	{"New Year's Eve late", func(loc *time.Location) time.Time { return time.Date(2029, 12, 31, 23, 10, 0, 0, loc) }, "2030-01-03"},
	{"after the last slot of a day", func(loc *time.Location) time.Time { return time.Date(2034, 6, 15, 17, 0, 0, 0, loc) }, "2034-06-16"},
}

// TestFlows_OnAnyDate books a consultation and registers for an event,
// through the buttons a person presses, with the bot's clock at each of
// rehearsedDates: the first day offered is a working day after now, never
// a holiday, and an event made relative to the clock can be found and
// joined.
func TestFlows_OnAnyDate(t *testing.T) {
	t.Parallel()
	for _, d := range rehearsedDates {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			clock := &fakeClock{t: d.now(almaty(t))}
			h := newHarness(t, withClock(clock.Now))
			now := clock.Now()
			cat := h.bot.cat()
			l := tl("kk")
			u := telegramtest.User{ID: 700, FirstName: "Әлия", LanguageCode: "kk"}

			withPrefix := func(prefix string) func(telegramtest.Message) bool {
				return func(m telegramtest.Message) bool { return hasButtonData(m, prefix) }
			}
			h.srv.SendText(u, "/book")
			m := h.waitMatch(u.ID, "consultation types", withPrefix(cbBookType+":"))
			h.press(u, m, "Мансап")
			m = h.waitMatch(u.ID, "places", withPrefix(cbBookCenter+":"))
			h.press(u, m, "Қарасай")
			m = h.waitMatch(u.ID, "days", withPrefix(cbBookDay+":"))
			h.pressData(u, m, firstButtonData(m, cbBookDay+":"))
			m = h.waitMatch(u.ID, "times", withPrefix(cbBookSlot+":"))
			h.pressData(u, m, firstButtonData(m, cbBookSlot+":"))
			before := h.lastID(u.ID)
			h.waitNew(u.ID, before-1, firstLine(l.T(locales.BookAskPhone)))
			h.srv.SendText(u, l.T(locales.BookSkipPhone))
			m = h.waitMatch(u.ID, "summary", withPrefix(cbBookConfirm+":"))
			h.pressData(u, m, firstButtonData(m, cbBookConfirm+":"))
			h.waitMessage(u.ID, m.ID, plain(firstLine(l.T(locales.BookConfirmed))))

			booked, err := h.db.BookingsOf(context.Background(), u.ID, time.Time{})
			if err != nil || len(booked) != 1 {
				t.Fatalf("bookings = %v, %v; want one", booked, err)
			}
			start := booked[0].Start.In(cat.Location())
			if got := catalog.DateOf(start).String(); got != d.firstDay || !start.After(now) {
				t.Errorf("at %v the first slot offered was %v; want one on %s", now, start, d.firstDay)
			}

			title := "Күн сынағы"
			h.addEvent("karasai", title, now.AddDate(0, 0, 3).Truncate(time.Hour), 10)
			card := h.openCard(u, title)
			h.press(u, card, plain(l.T(locales.ButtonRegister)))
			h.waitMessage(u.ID, card.ID, plain(firstLine(l.T(locales.EventYouRegistered))))
		})
	}
}

// hasButtonData reports whether m has an inline button whose data starts
// with prefix.
func hasButtonData(m telegramtest.Message, prefix string) bool {
	return firstButtonData(m, prefix) != ""
}

// firstButtonData is the data of m's first inline button whose data starts
// with prefix, or "".
func firstButtonData(m telegramtest.Message, prefix string) string {
	for _, row := range m.InlineKeyboard {
		for _, b := range row {
			if strings.HasPrefix(b.CallbackData, prefix) {
				return b.CallbackData
			}
		}
	}
	return ""
}
