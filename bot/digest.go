package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/catalog"
)

// digestChunk keeps a digest message below Telegram's 4096-character limit
// (https://core.telegram.org/bots/api#sendmessage), with room for a line.
const digestChunk = 3800

// digestStore is what the morning and weekly digests read and mark.
type digestStore interface {
	Booking(ctx context.Context, id uint64) (storage.Booking, error)
	BookingsOn(ctx context.Context, centerIDs []string, from, to time.Time) ([]storage.Booking, error)
	MarkStaffNotified(ctx context.Context, bk storage.Booking) (bool, error)
	Closures(ctx context.Context, centerIDs []string, from, to time.Time) ([]storage.Closure, error)
	UncertainReminders(ctx context.Context) ([]storage.Reminder, error)
	ForgetUncertainReminders(ctx context.Context, ids []uint64) error
	User(ctx context.Context, chatID int64) (storage.User, error)
	UpcomingEvents(ctx context.Context, f storage.EventFilter, offset, limit int) ([]storage.Event, int, error)
}

// digestTexts says a booking as booking does (bookingTexts, booking.go).
type digestTexts interface {
	bookingData(l *locales.Localizer, bk storage.Booking) locales.Data
	anonymousWho(l *locales.Localizer, bk storage.Booking) (string, bool)
}

// digest is the feature: the scheduler's morning digest to staff chats
// and weekly digest of events to subscribers. It has no entry point of
// its own: the scheduler calls Bot.StaffDigest and Bot.EventDigest.
type digest struct {
	kit
	store digestStore
	texts digestTexts
	// bulk sends the digests at the pace of bulk messages, behind replies.
	bulk bulkSender
}

// StaffDigest is the morning digest (digest.staffDigest).
func (b *Bot) StaffDigest(ctx context.Context, now time.Time) error {
	return b.digest.staffDigest(ctx, now)
}

// EventDigest is the weekly digest of one subscriber (digest.eventDigest).
func (b *Bot) EventDigest(ctx context.Context, chatID int64, lang, districtID string, from, to time.Time) (bool, error) {
	return b.digest.eventDigest(ctx, chatID, lang, districtID, from, to)
}

// staffDigest sends each staff chat the day's bookings of the centers it
// serves (the scheduler's morning digest). Centers that share a chat share
// one digest; a chat with no bookings today hears "no bookings today".
// Bookings whose staff notification never arrived (StaffNotified false)
// from today on are listed too, and marked notified once a chat got the
// digest. So are bookings from today on whose reminder may not have reached
// the person (in flight at a crash, or its send panicked), for staff to
// call; they are forgotten once a chat got the digest.
func (f *digest) staffDigest(ctx context.Context, now time.Time) error {
	loc := f.cfg.Location
	day := catalog.DateOf(now.In(loc))
	from, to := day.At(0, loc), day.At(24*60, loc)
	horizon := from.AddDate(0, 0, f.cfg.BookingDays+1)

	// Chats in catalog order, each with its centers.
	var chats []int64
	centersOf := map[int64][]catalog.Center{}
	for _, c := range f.catalog().Centers {
		for _, chat := range f.staffTargets(c.ID) {
			if _, seen := centersOf[chat]; !seen {
				chats = append(chats, chat)
			}
			centersOf[chat] = append(centersOf[chat], c)
		}
	}
	uncertain, uncertainErr := f.uncertainBookings(ctx, from)
	var failed int
	for _, chat := range chats {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := f.staffDigestTo(ctx, chat, centersOf[chat], from, to, horizon, uncertain); err != nil {
			failed++
			f.log.Warn("staff digest not delivered", "chat_id", chat, "err", err)
		}
	}
	if err := uncertain.forget(ctx, f.store); err != nil {
		uncertainErr = errors.Join(uncertainErr, err)
	}
	if failed > 0 {
		uncertainErr = errors.Join(uncertainErr, fmt.Errorf("staff digest: %d of %d chats not reached", failed, len(chats)))
	}
	return uncertainErr
}

// uncertainSet is the bookings of reminders settled as uncertain, for the
// staff digest: each listed booking with the reminders it stands for, and
// which of them a chat has now shown to staff (or that need no call).
type uncertainSet struct {
	bookings  []storage.Booking
	reminders map[uint64][]uint64 // booking id -> its uncertain reminders
	done      []uint64            // reminders to forget once the digest ran
}

// uncertainBookings reads the uncertain reminders and keeps the bookings
// still worth a call: booked, from the digest's day (from) on. The rest
// (cancelled, passed, forgotten, or an event's or feedback's, which a call
// about a consultation cannot cover) are forgotten without a line: their
// ids were logged when they became uncertain.
func (f *digest) uncertainBookings(ctx context.Context, from time.Time) (*uncertainSet, error) {
	set := &uncertainSet{reminders: map[uint64][]uint64{}}
	rs, err := f.store.UncertainReminders(ctx)
	if err != nil {
		return set, fmt.Errorf("staff digest: %w", err)
	}
	for _, r := range rs {
		if r.Kind != storage.ReminderBookingDayBefore && r.Kind != storage.ReminderBookingHourBefore {
			set.done = append(set.done, r.ID)
			continue
		}
		if ids, seen := set.reminders[r.BookingID]; seen {
			set.reminders[r.BookingID] = append(ids, r.ID)
			continue
		}
		bk, err := f.store.Booking(ctx, r.BookingID)
		if errors.Is(err, storage.ErrNotFound) || (err == nil && (!bk.Active() || bk.Start.Before(from))) {
			set.done = append(set.done, r.ID)
			continue
		}
		if err != nil {
			// Kept for the next digest.
			return set, fmt.Errorf("staff digest: uncertain reminder %d: %w", r.ID, err)
		}
		set.bookings = append(set.bookings, bk)
		set.reminders[r.BookingID] = []uint64{r.ID}
	}
	return set, nil
}

// of returns the listed bookings of the centers ids.
func (u *uncertainSet) of(ids []string) []storage.Booking {
	var out []storage.Booking
	for _, bk := range u.bookings {
		if slices.Contains(ids, bk.CenterID) {
			out = append(out, bk)
		}
	}
	return out
}

// shown records that a chat got the digest listing bks.
func (u *uncertainSet) shown(bks []storage.Booking) {
	for _, bk := range bks {
		u.done = append(u.done, u.reminders[bk.ID]...)
	}
}

// forget drops what staff have seen and what needs no call; a booking no
// chat could be told of stays for the next digest.
func (u *uncertainSet) forget(ctx context.Context, store storage.UncertainReminderStore) error {
	if len(u.done) == 0 {
		return nil
	}
	slices.Sort(u.done)
	return store.ForgetUncertainReminders(ctx, slices.Compact(u.done))
}

func (f *digest) staffDigestTo(ctx context.Context, chat int64, centers []catalog.Center, from, to, horizon time.Time, uncertain *uncertainSet) error {
	l := f.staffL()
	loc := f.cfg.Location
	ids := make([]string, len(centers))
	for i, c := range centers {
		ids[i] = c.ID
	}
	today, err := f.store.BookingsOn(ctx, ids, from, to)
	if err != nil {
		return err
	}
	ahead, err := f.store.BookingsOn(ctx, ids, from, horizon)
	if err != nil {
		return err
	}
	byCenter := map[string][]storage.Booking{}
	listed := map[uint64]bool{}
	for _, bk := range today {
		if bk.Status == storage.BookingCancelled {
			continue
		}
		byCenter[bk.CenterID] = append(byCenter[bk.CenterID], bk)
		listed[bk.ID] = true
	}
	total := len(listed)
	// markNotified are the bookings staff hear of through this digest;
	// unnotified those not already in today's list.
	var markNotified, unnotified []storage.Booking
	for _, bk := range ahead {
		if bk.StaffNotified {
			continue
		}
		markNotified = append(markNotified, bk)
		if !listed[bk.ID] {
			unnotified = append(unnotified, bk)
		}
	}
	date := esc(l.Date(from))
	var parts []string
	if total == 0 {
		parts = append(parts, l.T(locales.StaffDigestEmpty, locales.Data{"Date": date}))
	} else {
		parts = append(parts, l.T(locales.StaffDigestHeader, locales.Data{"Date": date}))
		for _, c := range centers {
			list := byCenter[c.ID]
			if len(list) == 0 {
				continue
			}
			parts = append(parts, "\n"+l.T(locales.StaffDigestCenter, locales.Data{"Center": esc(c.Name.In(l.Lang())), "Count": len(list)}))
			for _, bk := range list {
				parts = append(parts, f.staffLine(l, bk, l.Clock(bk.Start.In(loc))))
			}
		}
	}
	closed, err := digestClosures(ctx, f.store, ids, from, to)
	if err != nil {
		return err
	}
	parts = append(parts, closureLines(l, f.catalog(), closed)...)
	if len(unnotified) > 0 {
		parts = append(parts, "\n"+l.T(locales.StaffDigestUnnotified))
		for _, bk := range unnotified {
			parts = append(parts, f.staffLine(l, bk, esc(l.ShortDate(bk.Start.In(loc)))+" "+l.Clock(bk.Start.In(loc))))
		}
	}
	callAbout := uncertain.of(ids)
	if len(callAbout) > 0 {
		parts = append(parts, "\n"+l.T(locales.StaffDigestUncertain))
		for _, bk := range callAbout {
			parts = append(parts, f.staffLine(l, bk, esc(l.ShortDate(bk.Start.In(loc)))+" "+l.Clock(bk.Start.In(loc))))
		}
	}
	var msg strings.Builder
	for _, p := range parts {
		if msg.Len() > 0 && msg.Len()+len(p) > digestChunk {
			if _, err := sendBulk(ctx, f.bulk, chat, msg.String(), nil); err != nil {
				return err
			}
			msg.Reset()
		}
		if msg.Len() > 0 {
			msg.WriteString("\n")
		}
		msg.WriteString(p)
	}
	if _, err := sendBulk(ctx, f.bulk, chat, msg.String(), nil); err != nil {
		return err
	}
	uncertain.shown(callAbout)
	for _, bk := range markNotified {
		// Only as the digest described it: a change made meanwhile stays
		// owed to staff.
		if _, err := f.store.MarkStaffNotified(ctx, bk); err != nil {
			return fmt.Errorf("record booking %d notified: %w", bk.ID, err)
		}
	}
	return nil
}

// staffLine is one booking in a staff list: when, status, type, place, who.
func (f *digest) staffLine(l *locales.Localizer, bk storage.Booking, when string) string {
	status := map[storage.BookingStatus]string{
		storage.BookingBooked: locales.StaffStatusBooked, storage.BookingAttended: locales.StaffStatusAttended,
		storage.BookingNoShow: locales.StaffStatusNoShow, storage.BookingCancelled: locales.StaffStatusCancelled,
	}
	d := f.texts.bookingData(l, bk)
	who := esc(bk.Name)
	if bk.Username != "" {
		who += " @" + esc(bk.Username)
	}
	if bk.Phone != "" {
		who += " · " + esc(bk.Phone)
	}
	if who == "" {
		who = "#" + tg.B36(bk.ID)
	}
	if anon, ok := f.texts.anonymousWho(l, bk); ok {
		who = anon
	}
	return l.T(locales.StaffDayLine, locales.Data{
		"Time": when, "Status": l.T(status[bk.Status]), "Type": d["Type"], "Place": d["Place"], "Who": who,
	})
}

// weeklyMax is how many events one weekly digest lists; the rest are a
// button away.
const weeklyMax = 10

// eventDigest sends one subscriber the events starting in [from, to), in
// lang (the scheduler's weekly digest). A subscriber with a district gets
// the events of that district's centers and of the online desk; one without
// (or whose district the catalog no longer has) gets every event. A week
// without events for them, or a person who blocked the bot, gets no message
// (sent false).
func (f *digest) eventDigest(ctx context.Context, chatID int64, lang, districtID string, from, to time.Time) (bool, error) {
	if u, err := f.store.User(ctx, chatID); err == nil && !u.Active {
		return false, nil
	}
	l := f.loc.For(lang)
	header := l.T(locales.WeeklyEventsHeader)
	filter := storage.EventFilter{After: from}
	cat := f.catalog()
	if d, ok := cat.District(districtID); ok {
		for _, c := range cat.CentersIn(districtID) {
			filter.CenterIDs = append(filter.CenterIDs, c.ID)
		}
		if online, ok := cat.OnlineDesk(); ok {
			filter.CenterIDs = append(filter.CenterIDs, online.ID)
		}
		if len(filter.CenterIDs) == 0 {
			return false, nil // an empty filter would mean every center
		}
		header = l.T(locales.WeeklyEventsDistrictHeader, locales.Data{"District": esc(d.Name.In(l.Lang()))})
	}
	events, _, err := f.store.UpcomingEvents(ctx, filter, 0, weeklyMax+1)
	if err != nil {
		return false, fmt.Errorf("weekly events: %w", err)
	}
	var lines []string
	more := false
	for i, e := range events {
		if !e.Start.Before(to) {
			break
		}
		if i == weeklyMax {
			more = true
			break
		}
		lines = append(lines, l.T(locales.WeeklyEventLine, locales.Data{
			"Title": esc(e.TitleIn(storage.Lang(l.Lang()))), "When": esc(f.when(l, e)), "Center": esc(f.centerName(l, e.CenterID)),
		}))
	}
	if len(lines) == 0 {
		return false, nil
	}
	text := header + "\n\n" + strings.Join(lines, "\n\n")
	if more {
		text += "\n\n" + l.T(locales.WeeklyEventsMore)
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		button(l.T(locales.WeeklyEventsButton), cbEventList, eventList{kind: listAll}.args()...)))
	if _, err := sendBulk(ctx, f.bulk, chatID, text, kb); err != nil {
		return false, err
	}
	return true, nil
}
