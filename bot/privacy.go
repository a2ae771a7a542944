package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
)

// forgetWindow is how long the confirmation button of /forget works: a
// button found in the chat days later is no longer a considered decision.
const forgetWindow = 15 * time.Minute

// statusText names a booking status for people (the staff lists use icons).
var statusText = map[storage.BookingStatus]string{
	storage.BookingBooked:    locales.StatusBooked,
	storage.BookingAttended:  locales.StatusAttended,
	storage.BookingNoShow:    locales.StatusNoShow,
	storage.BookingCancelled: locales.StatusCancelled,
}

// privacyStore is what /mydata reads and /forget erases.
type privacyStore interface {
	User(ctx context.Context, chatID int64) (storage.User, error)
	AllBookingsOf(ctx context.Context, chatID int64) ([]storage.Booking, error)
	BookingsOf(ctx context.Context, chatID int64, from time.Time) ([]storage.Booking, error)
	Conversation(ctx context.Context, chatID int64) (storage.Conversation, error)
	PersonRegistrations(ctx context.Context, chatID int64) ([]storage.Registration, error)
	Event(ctx context.Context, id uint64) (storage.Event, error)
	Unregister(ctx context.Context, eventID uint64, chatID int64, now time.Time, rem storage.ReminderPolicy) (storage.Event, *storage.Registration, error)
	Subscription(ctx context.Context, chatID int64) (storage.Subscription, error)
	DeliveriesOf(ctx context.Context, chatID int64) ([]storage.Delivery, error)
	Feedback(ctx context.Context, bookingID uint64) (storage.Feedback, error)
	Forget(ctx context.Context, chatID int64) (storage.ForgetReport, error)
	// Erase takes the update out of the inbox, owing the compaction.
	Erase(ctx context.Context, updateID int, now time.Time) error
}

// privacyTexts says a booking as booking does (bookingTexts, booking.go).
type privacyTexts interface {
	bookingData(l *locales.Localizer, bk storage.Booking) locales.Data
	anonymousWho(l *locales.Localizer, bk storage.Booking) (string, bool)
}

// personCanceller cancels as the person's own button does: seat freed,
// reminders deleted, staff told (myBookings, mybookings.go).
type personCanceller interface {
	cancelForPerson(ctx context.Context, id uint64) (storage.Booking, error)
}

// promotionNotifier tells the person a freed place went to (eventBoard,
// events.go).
type promotionNotifier interface {
	notifyPromoted(ctx context.Context, eventID uint64, chatID int64)
}

// pollAnswers is the part of /mydata the polls feature writes.
type pollAnswers interface {
	myData(ctx context.Context, l *locales.Localizer, chatID int64) (string, error)
}

// privacy is the feature: /mydata shows a person what is stored about
// them, /forget erases it.
type privacy struct {
	kit
	store    privacyStore
	texts    privacyTexts
	bookings personCanceller
	events   promotionNotifier
	polls    pollAnswers
}

// handleMyData shows the person everything stored about them, read fresh
// from the store, in their language.
func (f *privacy) handleMyData(ctx context.Context, r *tg.Request) error {
	u, err := f.store.User(ctx, r.ChatID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	bookings, err := f.store.AllBookingsOf(ctx, r.ChatID)
	if err != nil {
		return err
	}
	_, convErr := f.store.Conversation(ctx, r.ChatID)
	if convErr != nil && !errors.Is(convErr, storage.ErrNotFound) {
		return convErr
	}
	l, loc := r.L, f.cfg.Location
	parts := []string{l.T(locales.MyDataHeader)}

	username := l.T(locales.MyDataNoUsername)
	if u.Username != "" {
		username = "@" + esc(u.Username)
	}
	lang := l.T(locales.LanguageNameKK)
	if u.Lang == storage.Russian {
		lang = l.T(locales.LanguageNameRU)
	}
	parts = append(parts, l.T(locales.MyDataProfile, locales.Data{
		"Name": esc(u.FirstName), "Username": username, "Lang": lang, "Date": esc(l.DateWithYear(u.CreatedAt.In(loc))),
	}))
	var facts []string
	if u.PhoneConsent && u.Phone != "" {
		facts = append(facts, l.T(locales.MyDataPhone, locales.Data{"Phone": esc(u.Phone)}))
	} else {
		facts = append(facts, l.T(locales.MyDataNoPhone))
	}
	if u.HasLocation {
		facts = append(facts, l.T(locales.MyDataLocation, locales.Data{"Place": fmt.Sprintf("%.4f, %.4f", u.Lat, u.Lon)}))
	} else {
		facts = append(facts, l.T(locales.MyDataNoLocation))
	}
	if u.SubscriptionOffered {
		facts = append(facts, l.T(locales.MyDataOfferShown))
	}
	if !u.Active && !u.CreatedAt.IsZero() {
		facts = append(facts, l.T(locales.MyDataBlocked))
	}
	if convErr == nil {
		facts = append(facts, l.T(locales.MyDataDialogue))
	}
	parts = append(parts, strings.Join(facts, "\n"))
	regs, err := f.store.PersonRegistrations(ctx, r.ChatID)
	if err != nil {
		return err
	}
	if len(regs) > 0 {
		lines := []string{l.N(locales.MyDataRegistrationsHeader, len(regs))}
		for _, reg := range regs {
			e, err := f.store.Event(ctx, reg.EventID)
			if err != nil {
				return fmt.Errorf("event %d of a registration: %w", reg.EventID, err)
			}
			status := l.T(locales.StatusRegistered)
			if reg.Status == storage.Waitlisted {
				status = l.T(locales.StatusWaitlisted)
			}
			lines = append(lines, l.T(locales.MyDataRegistrationLine, locales.Data{
				"Title": esc(e.TitleIn(storage.Lang(l.Lang()))), "When": esc(f.when(l, e)), "Status": esc(status),
			}))
		}
		parts = append(parts, strings.Join(lines, "\n"))
	}
	sub, err := f.subscriptionPart(ctx, l, r.ChatID)
	if err != nil {
		return err
	}
	parts = append(parts, sub)
	deliveries, err := f.deliveriesPart(ctx, l, r.ChatID)
	if err != nil {
		return err
	}
	if deliveries != "" {
		parts = append(parts, deliveries)
	}
	answers, err := f.polls.myData(ctx, l, r.ChatID)
	if err != nil {
		return err
	}
	if answers != "" {
		parts = append(parts, answers)
	}
	feedback, err := f.feedbackPart(ctx, l, bookings)
	if err != nil {
		return err
	}
	if feedback != "" {
		parts = append(parts, feedback)
	}

	if len(bookings) == 0 {
		parts = append(parts, l.T(locales.MyDataNoBookings))
	} else {
		lines := []string{l.N(locales.MyDataBookingsHeader, len(bookings))}
		for _, bk := range bookings {
			d := f.texts.bookingData(l, bk)
			d["Status"] = esc(l.T(statusText[bk.Status]))
			line := l.T(locales.MyDataBookingLine, d)
			if who, ok := f.texts.anonymousWho(l, bk); ok {
				line += " · " + who // booked without the name: the code is what the center knows
			}
			lines = append(lines, line)
		}
		parts = append(parts, strings.Join(lines, "\n"))
	}
	parts = append(parts, l.T(locales.MyDataFooter))
	return f.replyLong(ctx, r, parts)
}

// subscriptionPart is the /mydata lines of the person's subscription: its
// topics and district, or that it is off, or that there is none.
func (f *privacy) subscriptionPart(ctx context.Context, l *locales.Localizer, chatID int64) (string, error) {
	s, err := f.store.Subscription(ctx, chatID)
	if errors.Is(err, storage.ErrNotFound) {
		return l.T(locales.MyDataNoSubscription), nil
	}
	if err != nil {
		return "", err
	}
	district := esc(f.districtName(l, s.DistrictID))
	if s.DistrictID != "" {
		if _, ok := f.catalog().District(s.DistrictID); !ok {
			district = esc(s.DistrictID) // no longer in the catalog: still stored
		}
	}
	if !s.Active || len(s.Topics) == 0 {
		return l.T(locales.MyDataSubscriptionOff, locales.Data{"District": district}), nil
	}
	var topics []string
	for _, t := range s.Topics {
		topics = append(topics, l.T(topicLabel(t)))
	}
	return l.T(locales.MyDataSubscriptionOn, locales.Data{"Topic": esc(strings.Join(topics, ", ")), "District": district}), nil
}

// feedbackPart is the /mydata lines of the ratings and comments the person
// gave, one per rated booking; empty when they gave none. Feedback is keyed
// by booking, and a person's bookings are few, so it reads them one by one.
func (f *privacy) feedbackPart(ctx context.Context, l *locales.Localizer, bookings []storage.Booking) (string, error) {
	var lines []string
	rated := 0
	for _, bk := range bookings {
		fb, err := f.store.Feedback(ctx, bk.ID)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return "", err
		}
		d := f.texts.bookingData(l, bk)
		d["Rating"] = l.Int(fb.Rating)
		rated++
		lines = append(lines, l.T(locales.MyDataFeedbackLine, d))
		if fb.Comment != "" {
			lines = append(lines, l.T(locales.MyDataFeedbackComment, locales.Data{"Comment": esc(fb.Comment)}))
		}
	}
	if rated == 0 {
		return "", nil
	}
	return l.N(locales.MyDataFeedbackHeader, rated) + "\n" + strings.Join(lines, "\n"), nil
}

// broadcastsShown is how many of the broadcasts addressed to a person
// /mydata lists; it counts them all.
const broadcastsShown = 3

// deliveryText names a delivery's outcome for the person.
var deliveryText = map[storage.DeliveryState]string{
	storage.DeliveryPending:   locales.DeliveryPending,
	storage.DeliveryClaimed:   locales.DeliveryPending,
	storage.DeliverySent:      locales.DeliverySent,
	storage.DeliveryBlocked:   locales.DeliveryFailed,
	storage.DeliveryFailed:    locales.DeliveryFailed,
	storage.DeliveryUncertain: locales.DeliveryUncertain,
}

// deliveriesPart is the /mydata lines of the broadcasts addressed to the
// person, which /forget deletes: how many, and the latest few with their
// date, beginning and outcome. "" when there are none.
func (f *privacy) deliveriesPart(ctx context.Context, l *locales.Localizer, chatID int64) (string, error) {
	list, err := f.store.DeliveriesOf(ctx, chatID)
	if err != nil || len(list) == 0 {
		return "", err
	}
	lines := []string{l.N(locales.MyDataBroadcastsHeader, len(list))}
	for i := len(list) - 1; i >= max(0, len(list)-broadcastsShown); i-- {
		d := list[i]
		date := "—" // the broadcast's record is gone
		if !d.At.IsZero() {
			date = l.DateWithYear(d.At.In(f.cfg.Location))
		}
		status, ok := deliveryText[d.State]
		if !ok {
			status = locales.DeliveryUncertain
		}
		lines = append(lines, l.T(locales.MyDataBroadcastLine, locales.Data{
			"Date": esc(date), "Text": esc(excerpt(d.Version)), "Status": l.T(status),
		}))
	}
	if older := len(list) - broadcastsShown; older > 0 {
		lines = append(lines, l.N(locales.MyDataBroadcastsOlder, older))
	}
	return strings.Join(lines, "\n"), nil
}

// excerpt is the beginning of a broadcast, enough to recognise it: its
// first line, at most excerptRunes long; a photo without a caption is 📷.
func excerpt(v storage.Version) string {
	const excerptRunes = 40
	text, _, _ := strings.Cut(strings.TrimSpace(v.Text), "\n")
	switch runes := []rune(text); {
	case len(runes) > excerptRunes:
		return strings.TrimSpace(string(runes[:excerptRunes])) + "…"
	case text == "" && v.PhotoID != "":
		return "📷"
	}
	return text
}

// replyLong sends parts joined by blank lines, split into messages below
// Telegram's 4096-character limit (https://core.telegram.org/bots/api#sendmessage)
// at part boundaries, and inside a part at line boundaries.
func (k kit) replyLong(ctx context.Context, r *tg.Request, parts []string) error {
	const limit = 3800
	var msg strings.Builder
	flush := func() error {
		if msg.Len() == 0 {
			return nil
		}
		_, err := k.tx.Reply(ctx, r, msg.String(), nil)
		msg.Reset()
		return err
	}
	for _, p := range parts {
		for _, line := range strings.Split(p, "\n") {
			if msg.Len()+len(line)+2 > limit {
				if err := flush(); err != nil {
					return err
				}
			}
			if msg.Len() > 0 {
				msg.WriteString("\n")
			}
			msg.WriteString(line)
		}
		msg.WriteString("\n")
	}
	return flush()
}

// handleForget asks before erasing: it cannot be undone.
func (f *privacy) handleForget(ctx context.Context, r *tg.Request) error {
	upcoming, err := f.store.BookingsOf(ctx, r.ChatID, f.now())
	if err != nil {
		return err
	}
	d := locales.Data{"Upcoming": ""}
	if len(upcoming) > 0 {
		d["Upcoming"] = r.L.N(locales.ForgetUpcoming, len(upcoming))
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		button(r.L.T(locales.ForgetYes), cbForgetYes, strconv.FormatInt(f.now().Unix(), 36)),
		button(r.L.T(locales.ForgetNo), cbForgetNo),
	))
	_, err = f.tx.Reply(ctx, r, r.L.T(locales.ForgetAsk, d), kb)
	return err
}

// handleForgetNo: fgn.
func (f *privacy) handleForgetNo(ctx context.Context, r *tg.Request) error {
	f.tx.Answer(ctx, r, "")
	return f.tx.Edit(ctx, r, r.L.T(locales.ForgetKept), nil)
}

// handleForgetYes: fgy:<asked>. Upcoming bookings are cancelled one by one
// through the person's own cancellation (seat freed, reminders deleted,
// staff told); then the store erases the rest and compacts the file. The
// button acts only on the chat that pressed it: r.ChatID, never an argument.
func (f *privacy) handleForgetYes(ctx context.Context, r *tg.Request) error {
	asked, err := strconv.ParseInt(r.Data.Arg(0), 36, 64)
	now := f.now()
	if !r.Private || err != nil || now.Sub(time.Unix(asked, 0)) > forgetWindow || time.Unix(asked, 0).After(now.Add(time.Minute)) {
		f.tx.Answer(ctx, r, r.L.T(locales.ForgetStale))
		return f.tx.Edit(ctx, r, r.L.T(locales.ForgetStale), nil)
	}
	upcoming, err := f.store.BookingsOf(ctx, r.ChatID, now)
	if err != nil {
		return err
	}
	cancelled := 0
	for _, bk := range upcoming {
		_, err := f.bookings.cancelForPerson(ctx, bk.ID)
		if errors.Is(err, storage.ErrConflict) {
			continue // cancelled or marked meanwhile: Forget anonymises it as it is
		}
		if err != nil {
			return fmt.Errorf("cancel booking %d before forgetting: %w", bk.ID, err)
		}
		cancelled++
	}
	if err := f.unregisterForForget(ctx, r.ChatID, now); err != nil {
		return err
	}
	// The press itself carries the person's name, and its batch is stored
	// while it is handled (tg's poller): stored after Forget, it would sit
	// in the inbox past the compaction Forget owes. Marked handled first,
	// it is never stored.
	if err := f.store.Erase(ctx, r.Update.UpdateID, now); err != nil {
		return err
	}
	rep, err := f.store.Forget(ctx, r.ChatID)
	if err != nil {
		return err
	}
	f.log.Info("person forgotten", "chat_id", r.ChatID, "cancelled", cancelled, "anonymised", rep.Anonymised,
		"reminders", rep.Reminders, "registrations", rep.Registrations, "updates_dropped", rep.Updates,
		"subscription", rep.Subscription, "deliveries", rep.Deliveries)
	details := ""
	if cancelled > 0 {
		details += r.L.N(locales.ForgetCancelledBookings, cancelled)
	}
	if kept := rep.Anonymised - cancelled; kept > 0 {
		details += r.L.N(locales.ForgetAnonymisedBookings, kept)
	}
	f.tx.Answer(ctx, r, "")
	if err := f.tx.Edit(ctx, r, r.L.T(locales.ForgetDone, locales.Data{"Details": details}), nil); err != nil {
		return err
	}
	return nil
}

// unregisterForForget gives up the person's places at events still open,
// as their own "unregister" button does, so the first person waiting moves
// up and is told. Registrations of past or cancelled events are left to
// Forget, which deletes them without touching the events' history.
func (f *privacy) unregisterForForget(ctx context.Context, chatID int64, now time.Time) error {
	regs, err := f.store.PersonRegistrations(ctx, chatID)
	if err != nil {
		return err
	}
	for _, reg := range regs {
		e, err := f.store.Event(ctx, reg.EventID)
		if err != nil {
			return fmt.Errorf("event %d of a registration: %w", reg.EventID, err)
		}
		if !e.Open(now) {
			continue
		}
		e, promoted, err := f.store.Unregister(ctx, e.ID, chatID, now, f.cfg.Reminders)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("unregister %d from event %d before forgetting: %w", chatID, reg.EventID, err)
		}
		if promoted != nil {
			f.events.notifyPromoted(ctx, e.ID, promoted.ChatID)
		}
	}
	return nil
}
