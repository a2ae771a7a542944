package bot

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/tg"
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

// statsStore is what /stats reads.
type statsStore interface {
	AllBookingsOn(ctx context.Context, from, to time.Time) ([]storage.Booking, error)
	UpcomingEvents(ctx context.Context, f storage.EventFilter, offset, limit int) ([]storage.Event, int, error)
	CountSubscribers(ctx context.Context) (storage.SubscriberCounts, error)
	FeedbackSince(ctx context.Context, from time.Time, fn func(storage.Feedback) error) error
}

// stats is the feature: /stats, the admins' figures of a period.
type stats struct {
	kit
	store statsStore
	files fileSender
}

// handleStats: /stats [DD.MM.YYYY [DD.MM.YYYY]], admins only. The default
// period is the last 30 days, today included.
func (f *stats) handleStats(ctx context.Context, r *tg.Request) error {
	if r.From == nil || !f.isAdmin(r.From.ID) {
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.NotAllowed), nil)
		return err
	}
	loc := f.cfg.Location
	now := f.now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 12, 0, 0, 0, loc)
	from, to, ok := parsePeriod(r.Args, loc, [2]catalog.Date{catalog.DateOf(today.AddDate(0, 0, -29)), catalog.DateOf(today)})
	if !ok {
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.StatsUsage), nil)
		return err
	}
	list, err := f.store.AllBookingsOn(ctx, from.At(0, loc), to.At(24*60, loc))
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
		if n := closureCancelled(list); n > 0 {
			parts[len(parts)-1] += "\n" + l.T(locales.StatsClosureCancelled, locales.Data{"Count": l.Int(n), "Left": l.Int(st.ByStatus[storage.BookingCancelled] - n)})
		}
		lines := []string{l.T(locales.StatsByType)}
		for _, row := range st.ByType {
			name := row.Label
			if t, ok := f.catalog().Type(row.Label); ok {
				name = t.Name.In(l.Lang())
			}
			lines = append(lines, l.T(locales.StatsLine, locales.Data{"Name": esc(name), "ID": esc(row.Label), "Count": l.Int(row.total())}))
		}
		parts = append(parts, strings.Join(lines, "\n"))
		lines = []string{l.T(locales.StatsByCenter)}
		for _, row := range st.ByCenter {
			name := row.Label
			if c, ok := f.catalog().Center(row.Label); ok {
				name = c.Name.In(l.Lang())
			}
			lines = append(lines, l.T(locales.StatsLine, locales.Data{"Name": esc(name), "ID": esc(row.Label), "Count": l.Int(row.total())}))
		}
		parts = append(parts, strings.Join(lines, "\n"))
	}
	events, registered, waiting, err := f.eventFigures(ctx, from.At(0, loc), to.At(24*60, loc))
	if err != nil {
		return err
	}
	if events > 0 {
		parts = append(parts, l.N(locales.StatsEvents, events, locales.Data{"Registered": l.Int(registered), "Waiting": l.Int(waiting)}))
	}
	subs, err := f.subscriberPart(ctx, l)
	if err != nil {
		return err
	}
	parts = append(parts, subs...)
	fb, err := f.feedbackStatsPart(ctx, l, from.At(0, loc), to.At(24*60, loc))
	if err != nil {
		return err
	}
	parts = append(parts, fb...)
	if err := f.replyLong(ctx, r, parts); err != nil {
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
	_, err = f.files.Send(ctx, r.ChatID, photo)
	return err
}

// eventFigures counts the events (not cancelled) starting in [from, to) and
// their registrations: places taken and people waiting.
func (f *stats) eventFigures(ctx context.Context, from, to time.Time) (events, registered, waiting int, err error) {
	const page = 200
	for offset := 0; ; offset += page {
		list, total, err := f.store.UpcomingEvents(ctx, storage.EventFilter{After: from.Add(-time.Second)}, offset, page)
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

// subscriberPart is the /stats lines of today's subscribers: the total,
// then by topic and by district, most first.
func (f *stats) subscriberPart(ctx context.Context, l *locales.Localizer) ([]string, error) {
	counts, err := f.store.CountSubscribers(ctx)
	if err != nil {
		return nil, err
	}
	if counts.Total == 0 {
		return []string{l.T(locales.StatsSubscribersNone)}, nil
	}
	lines := []string{l.T(locales.StatsByTopic)}
	for _, t := range storage.AllTopics() {
		lines = append(lines, l.N(locales.StatsSubscriberLine, counts.ByTopic[t], locales.Data{"Name": esc(l.T(topicLabel(t)))}))
	}
	byTopic := strings.Join(lines, "\n")
	type row struct {
		name string
		n    int
	}
	var rows []row
	for id, n := range counts.ByDistrict {
		name := f.districtName(l, id)
		if _, ok := f.catalog().District(id); id != "" && !ok {
			name = id // no longer in the catalog
		}
		rows = append(rows, row{name, n})
	}
	slices.SortFunc(rows, func(a, b row) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.name, b.name)) })
	lines = []string{l.T(locales.StatsByDistrict)}
	for _, r := range rows {
		lines = append(lines, l.N(locales.StatsSubscriberLine, r.n, locales.Data{"Name": esc(r.name)}))
	}
	return []string{l.N(locales.StatsSubscribers, counts.Total), byTopic, strings.Join(lines, "\n")}, nil
}

// ratingRow sums the ratings of one consultation type or center.
type ratingRow struct {
	ID         string
	Sum, Count int
}

func (r ratingRow) average() float64 { return float64(r.Sum) / float64(r.Count) }

// errEnoughFeedback stops the walk over feedback at the period's end.
var errEnoughFeedback = errors.New("past the period")

// feedbackStatsPart is the /stats lines of the ratings given in [from, to):
// the overall average, then by type and by center, each with its count.
// The walk is by rating time, so it reads only the period's feedback.
func (f *stats) feedbackStatsPart(ctx context.Context, l *locales.Localizer, from, to time.Time) ([]string, error) {
	var all ratingRow
	byType, byCenter := map[string]*ratingRow{}, map[string]*ratingRow{}
	add := func(m map[string]*ratingRow, id string, rating int) {
		r, ok := m[id]
		if !ok {
			r = &ratingRow{ID: id}
			m[id] = r
		}
		r.Sum += rating
		r.Count++
	}
	err := f.store.FeedbackSince(ctx, from, func(f storage.Feedback) error {
		if !f.At.Before(to) {
			return errEnoughFeedback
		}
		all.Sum += f.Rating
		all.Count++
		add(byType, f.TypeID, f.Rating)
		add(byCenter, f.CenterID, f.Rating)
		return nil
	})
	if err != nil && !errors.Is(err, errEnoughFeedback) {
		return nil, err
	}
	if all.Count == 0 {
		return []string{l.T(locales.StatsFeedbackNone)}, nil
	}
	section := func(header string, m map[string]*ratingRow, name func(id string) string) string {
		rows := make([]ratingRow, 0, len(m))
		for _, r := range m {
			rows = append(rows, *r)
		}
		slices.SortFunc(rows, func(a, b ratingRow) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.ID, b.ID)) })
		lines := []string{l.T(header)}
		for _, r := range rows {
			lines = append(lines, l.N(locales.StatsFeedbackLine, r.Count, locales.Data{
				"Name": esc(name(r.ID)), "ID": esc(r.ID), "Rating": l.Decimal(r.average()),
			}))
		}
		return strings.Join(lines, "\n")
	}
	typeName := func(id string) string {
		if t, ok := f.catalog().Type(id); ok {
			return t.Name.In(l.Lang())
		}
		return id
	}
	centerName := func(id string) string {
		if c, ok := f.catalog().Center(id); ok {
			return c.Name.In(l.Lang())
		}
		return id
	}
	return []string{
		l.N(locales.StatsFeedback, all.Count, locales.Data{"Rating": l.Decimal(all.average())}),
		section(locales.StatsFeedbackByType, byType, typeName),
		section(locales.StatsFeedbackByCenter, byCenter, centerName),
	}, nil
}
