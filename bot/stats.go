package bot

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/locales"
	"jastar/storage"
	"jastar/storage/catalog"
)

// statusOrder is the order of statuses in the chart and the message.
var statusOrder = [4]storage.BookingStatus{
	storage.BookingAttended, storage.BookingBooked, storage.BookingNoShow, storage.BookingCancelled,
}

// bookingStats are the booking figures of a period.
type bookingStats struct {
	Total    int
	ByStatus map[storage.BookingStatus]int
	ByType   []chartRow // label = type id, most booked first
	ByCenter []chartRow // label = center id
}

// countBookings groups bookings by status, type and center.
func countBookings(list []storage.Booking) bookingStats {
	s := bookingStats{Total: len(list), ByStatus: map[storage.BookingStatus]int{}}
	byType, byCenter := map[string]*chartRow{}, map[string]*chartRow{}
	add := func(m map[string]*chartRow, key string, i int) {
		r, ok := m[key]
		if !ok {
			r = &chartRow{Label: key}
			m[key] = r
		}
		r.Counts[i]++
	}
	for _, bk := range list {
		s.ByStatus[bk.Status]++
		i := slices.Index(statusOrder[:], bk.Status)
		if i < 0 {
			continue
		}
		add(byType, bk.TypeID, i)
		add(byCenter, bk.CenterID, i)
	}
	sorted := func(m map[string]*chartRow) []chartRow {
		var out []chartRow
		for _, r := range m {
			out = append(out, *r)
		}
		slices.SortFunc(out, func(a, b chartRow) int {
			return cmp.Or(cmp.Compare(b.total(), a.total()), cmp.Compare(a.Label, b.Label))
		})
		return out
	}
	s.ByType, s.ByCenter = sorted(byType), sorted(byCenter)
	return s
}

// handleStats: /stats [DD.MM.YYYY [DD.MM.YYYY]], admins only. The default
// period is the last 30 days, today included.
func (b *Bot) handleStats(ctx context.Context, r *Request) error {
	if r.From == nil || !b.isAdmin(r.From.ID) {
		_, err := b.reply(ctx, r, r.L.T(locales.NotAllowed), nil)
		return err
	}
	loc := b.cfg.Location
	now := b.now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 12, 0, 0, 0, loc)
	from, to, ok := parsePeriod(r.Args, loc, [2]catalog.Date{catalog.DateOf(today.AddDate(0, 0, -29)), catalog.DateOf(today)})
	if !ok {
		_, err := b.reply(ctx, r, r.L.T(locales.StatsUsage), nil)
		return err
	}
	list, err := b.store.AllBookingsOn(ctx, from.At(0, loc), to.At(24*60, loc))
	if err != nil {
		return err
	}
	l := r.L
	period := locales.Data{"From": from.At(0, loc).Format("02.01.2006"), "To": to.At(0, loc).Format("02.01.2006")}
	st := countBookings(list)
	parts := []string{l.T(locales.StatsHeader, period)}
	if st.Total == 0 {
		parts = append(parts, l.T(locales.StatsNone))
	} else {
		parts = append(parts, l.N(locales.StatsTotal, st.Total)+"\n"+l.T(locales.StatsByStatus, locales.Data{
			"Booked": l.Int(st.ByStatus[storage.BookingBooked]), "Attended": l.Int(st.ByStatus[storage.BookingAttended]),
			"NoShow": l.Int(st.ByStatus[storage.BookingNoShow]), "Cancelled": l.Int(st.ByStatus[storage.BookingCancelled]),
		}))
		lines := []string{l.T(locales.StatsByType)}
		for _, row := range st.ByType {
			name := row.Label
			if t, ok := b.cat.Type(row.Label); ok {
				name = t.Name.In(l.Lang())
			}
			lines = append(lines, l.T(locales.StatsLine, locales.Data{"Name": esc(name), "ID": esc(row.Label), "Count": l.Int(row.total())}))
		}
		parts = append(parts, strings.Join(lines, "\n"))
		lines = []string{l.T(locales.StatsByCenter)}
		for _, row := range st.ByCenter {
			name := row.Label
			if c, ok := b.cat.Center(row.Label); ok {
				name = c.Name.In(l.Lang())
			}
			lines = append(lines, l.T(locales.StatsLine, locales.Data{"Name": esc(name), "ID": esc(row.Label), "Count": l.Int(row.total())}))
		}
		parts = append(parts, strings.Join(lines, "\n"))
	}
	events, registered, waiting, err := b.eventFigures(ctx, from.At(0, loc), to.At(24*60, loc))
	if err != nil {
		return err
	}
	if events > 0 {
		parts = append(parts, l.N(locales.StatsEvents, events, locales.Data{"Registered": l.Int(registered), "Waiting": l.Int(waiting)}))
	}
	// TODO(issue 7): subscribers by topic and district and feedback
	// averages, once those features are merged.
	if err := b.replyLong(ctx, r, parts); err != nil {
		return err
	}
	if st.Total == 0 {
		return nil
	}
	chart, err := drawChart([]chartSection{{Rows: st.ByType}, {Rows: st.ByCenter}})
	if err != nil {
		return err
	}
	photo := tgbotapi.NewPhoto(r.ChatID, tgbotapi.FileBytes{Name: "jastar-stats.png", Bytes: chart})
	photo.Caption = l.T(locales.StatsChartCaption, period)
	photo.ParseMode = tgbotapi.ModeHTML
	_, err = b.send.Send(ctx, r.ChatID, photo)
	return err
}

// eventFigures counts the events (not cancelled) starting in [from, to) and
// their registrations: places taken and people waiting.
func (b *Bot) eventFigures(ctx context.Context, from, to time.Time) (events, registered, waiting int, err error) {
	const page = 200
	for offset := 0; ; offset += page {
		list, total, err := b.store.UpcomingEvents(ctx, storage.EventFilter{After: from.Add(-time.Second)}, offset, page)
		if err != nil {
			return 0, 0, 0, err
		}
		for _, e := range list {
			if !e.Start.Before(to) {
				return events, registered, waiting, nil
			}
			events++
			registered += e.Registered
			waiting += e.Waiting
		}
		if offset+page >= total || len(list) == 0 {
			return events, registered, waiting, nil
		}
	}
}
