package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
)

// errInactive: the person blocked the bot, so nothing is sent to them.
var errInactive = errors.New("person blocked the bot")

// errObsolete: what the reminder is about changed since it was written (a
// booking cancelled, marked or moved, an event moved); nothing is sent and
// the sweep logs the drop.
var errObsolete = storage.ErrReminderObsolete

// reminderStore is what sending reminders reads: the person, and the
// booking or event a reminder is about.
type reminderStore interface {
	User(ctx context.Context, chatID int64) (storage.User, error)
	Booking(ctx context.Context, id uint64) (storage.Booking, error)
	Event(ctx context.Context, id uint64) (storage.Event, error)
	Registration(ctx context.Context, eventID uint64, chatID int64) (storage.Registration, error)
}

// feedbackAsker sends the question after an attended consultation
// (feedback.go).
type feedbackAsker interface {
	askFeedback(ctx context.Context, r storage.Reminder, u storage.User) error
}

// reminders is the feature that sends what the scheduler's sweep finds due:
// booking and event reminders, event notices, the feedback question.
type reminders struct {
	kit
	store    reminderStore
	bulk     bulkSender
	texts    *bookingTexts
	feedback feedbackAsker
}

// Remind sends one reminder: the bot is the scheduler's Notifier, and its
// reminders feature does the work.
func (b *Bot) Remind(ctx context.Context, r storage.Reminder) error {
	return b.reminders.Remind(ctx, r)
}

// Remind sends one reminder. Reminders
// are time-critical but not interactive, so they go at bulk priority: a
// person waiting for a reply to a button comes first.
//
// A person Telegram told us blocked the bot (User.Active false) is skipped,
// so one 403 stops all their remaining reminders.
//
// A reminder that could not go out before its message reached Telegram (a
// shutdown, or a database read that failed) says so with
// storage.ErrNotSent, so the sweep keeps it for a later run; one that may
// have reached Telegram (a lost answer, or a shutdown that cut it on the
// wire) says storage.ErrMaybeSent, so the sweep reports it as uncertain.
func (f *reminders) Remind(ctx context.Context, r storage.Reminder) error {
	err := f.remind(ctx, r)
	var se *reminderSendError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se) && errors.Is(se.err, tg.ErrMaybeSent):
		return fmt.Errorf("reminder %d: %w: %w", r.ID, storage.ErrMaybeSent, se.err)
	case errors.As(err, &se):
		return se.err // the sender classified it: not sent, refused
	case errors.Is(err, errObsolete), errors.Is(err, errInactive), errors.Is(err, storage.ErrNotFound):
		return err // final: trying again would find the same
	}
	// Only reads come before the send, and nothing is written after it:
	// any other error was a read's, and nothing reached Telegram.
	return fmt.Errorf("reminder %d: %w: %w", r.ID, storage.ErrNotSent, err)
}

// reminderSendError marks the error of a reminder's send, as against one of
// the reads before it.
type reminderSendError struct{ err error }

func (e *reminderSendError) Error() string { return e.err.Error() }
func (e *reminderSendError) Unwrap() error { return e.err }

// bulkSender sends at bulk priority, behind the replies people wait for;
// *tg.Sender is one.
type bulkSender interface {
	SendBulk(ctx context.Context, chatID int64, c tgbotapi.Chattable) (int, error)
}

// sendReminder sends a reminder's message at bulk priority.
func sendReminder(ctx context.Context, s bulkSender, chatID int64, text string, markup any) error {
	if _, err := sendBulk(ctx, s, chatID, text, markup); err != nil {
		return &reminderSendError{err: err}
	}
	return nil
}

func (f *reminders) remind(ctx context.Context, r storage.Reminder) error {
	u, err := f.store.User(ctx, r.ChatID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("load user %d: %w", r.ChatID, err)
	}
	if err == nil && !u.Active {
		return errInactive
	}
	switch r.Kind {
	case storage.ReminderBookingDayBefore, storage.ReminderBookingHourBefore:
		return f.remindBooking(ctx, r, u)
	case storage.ReminderEventDayBefore, storage.ReminderEventHourBefore:
		return f.remindEvent(ctx, r, u)
	case storage.ReminderFeedback:
		return f.feedback.askFeedback(ctx, r, u)
	case storage.ReminderEventCancelled, storage.ReminderEventPromoted, storage.ReminderEventChanged:
		return f.sendEventNotice(ctx, r, u)
	}
	return fmt.Errorf("reminder %d: unknown kind %q: %w", r.ID, r.Kind, errObsolete)
}

// personL is the localizer of a person: their chosen language, else the one
// they booked in.
func personL(loc *locales.Bundle, u storage.User, fallback storage.Lang) *locales.Localizer {
	if u.Lang.Valid() {
		return loc.For(string(u.Lang))
	}
	return loc.For(string(fallback))
}

func (f *reminders) remindBooking(ctx context.Context, r storage.Reminder, u storage.User) error {
	bk, err := f.store.Booking(ctx, r.BookingID)
	if err != nil {
		return fmt.Errorf("reminder %d: %w", r.ID, err)
	}
	if !bk.Active() || bk.ChatID != r.ChatID {
		return fmt.Errorf("reminder %d of booking %d (%s): %w", r.ID, bk.ID, bk.Status, errObsolete)
	}
	// A reschedule between the claim and now wrote the new time's own
	// reminders; this one would announce the new time at the old one's hour.
	if !bk.Start.Equal(r.Start) {
		return fmt.Errorf("reminder %d of booking %d: written for %d, now at %d: %w",
			r.ID, bk.ID, r.Start.Unix(), bk.Start.Unix(), errObsolete)
	}
	l := personL(f.loc, u, bk.Lang)
	d := f.texts.bookingData(l, bk)
	d["Time"] = l.Clock(bk.Start.In(f.cfg.Location))
	id := locales.ReminderSoon
	if r.Kind == storage.ReminderBookingDayBefore && f.beforeDayOf(bk.Start) {
		id = locales.ReminderDayBefore
	}
	id = f.texts.discreetReminder(id, bk)
	// The cancel button is the one of "My bookings": it asks to confirm and
	// checks that the booking is the presser's.
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		button(l.T(locales.MyBookingCancel), cbMyCancel, tg.B36(bk.ID)),
	))
	return sendReminder(ctx, f.bulk, r.ChatID, l.T(id, d)+f.texts.anonymousNote(l, bk), kb)
}

// sendBulk sends an HTML message at bulk priority.
func sendBulk(ctx context.Context, s bulkSender, chatID int64, text string, markup any) (int, error) {
	m := tgbotapi.NewMessage(chatID, text)
	m.ParseMode = tgbotapi.ModeHTML
	m.DisableWebPagePreview = true
	if markup != nil {
		m.ReplyMarkup = markup
	}
	return s.SendBulk(ctx, chatID, m)
}

// beforeDayOf reports whether now is on an earlier local day than start, so
// a day-before reminder that went out late (the bot was down) never says
// "tomorrow" on the day itself.
func (f *reminders) beforeDayOf(start time.Time) bool {
	loc := f.cfg.Location
	n, s := f.now().In(loc), start.In(loc)
	ny, nm, nd := n.Date()
	sy, sm, sd := s.Date()
	return time.Date(ny, nm, nd, 0, 0, 0, 0, loc).Before(time.Date(sy, sm, sd, 0, 0, 0, 0, loc))
}

// remindEvent reminds a person of an event they hold a place at, with a
// button that gives the place up (the events flow's own, which acts on the
// presser's registration only).
func (f *reminders) remindEvent(ctx context.Context, r storage.Reminder, u storage.User) error {
	e, reg, found, err := f.reminderEvent(ctx, r)
	if err != nil {
		return err
	}
	if !found || reg.Status != storage.Registered || e.Cancelled {
		return fmt.Errorf("reminder %d of event %d: %w", r.ID, e.ID, errObsolete)
	}
	if !e.Start.Equal(r.Start) {
		return fmt.Errorf("reminder %d of event %d: written for %d, now at %d: %w",
			r.ID, e.ID, r.Start.Unix(), e.Start.Unix(), errObsolete)
	}
	l := personL(f.loc, u, storage.Kazakh)
	d := locales.Data{
		"Title": esc(e.TitleIn(storage.Lang(l.Lang()))), "Center": esc(f.centerName(l, e.CenterID)),
		"When": esc(f.when(l, e)), "Time": l.Clock(e.Start.In(f.cfg.Location)), "Address": esc(l.T(locales.AskTheCenter)),
	}
	if c, ok := f.catalog().Center(e.CenterID); ok {
		d["Address"] = esc(f.texts.addressOf(l, f.texts.cards.shownCenter(c).Center))
	}
	text := locales.EventReminderSoon
	if r.Kind == storage.ReminderEventDayBefore && f.beforeDayOf(e.Start) {
		text = locales.EventReminderDayBefore
	}
	args := append([]string{tg.B36(e.ID)}, eventList{kind: listMine}.args()...)
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonUnregister), cbUnregister, args...)))
	return sendReminder(ctx, f.bulk, r.ChatID, l.T(text, d), kb)
}

// sendEventNotice sends a stored event notice (cancelled, moved up, time
// changed) in the person's language, unless what it says no longer holds:
// the person gave the place up or was forgotten, the event was cancelled
// after they moved up, or it moved again (the newer notice says so).
func (f *reminders) sendEventNotice(ctx context.Context, r storage.Reminder, u storage.User) error {
	e, reg, applies, err := f.reminderEvent(ctx, r)
	if err != nil {
		return err
	}
	var text string
	switch r.Kind {
	case storage.ReminderEventCancelled:
		text = locales.EventCancelledNotice
		applies = applies && e.Cancelled
	case storage.ReminderEventPromoted:
		text = locales.EventPromoted
		applies = applies && !e.Cancelled && reg.Status == storage.Registered
	default:
		text = locales.EventChangedNotice
		applies = applies && !e.Cancelled && e.Start.Equal(r.Start)
	}
	if !applies {
		return fmt.Errorf("notice %d (%s) of event %d: %w", r.ID, r.Kind, e.ID, errObsolete)
	}
	l := personL(f.loc, u, storage.Kazakh)
	msg := l.T(text, locales.Data{
		"Title": esc(e.TitleIn(storage.Lang(l.Lang()))), "When": f.when(l, e), "Center": esc(f.centerName(l, e.CenterID)),
	})
	var kb any
	if r.Kind != storage.ReminderEventCancelled {
		kb = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
			button(l.T(locales.ButtonMyEvents), cbEventList, eventList{kind: listMine}.args()...)))
	}
	return sendReminder(ctx, f.bulk, r.ChatID, msg, kb)
}

// reminderEvent loads the event of an event reminder or notice and the
// person's registration; found is false when they have none.
func (f *reminders) reminderEvent(ctx context.Context, r storage.Reminder) (e storage.Event, reg storage.Registration, found bool, err error) {
	id := r.EventID
	if id == 0 {
		return e, reg, false, fmt.Errorf("reminder %d: no event: %w", r.ID, errObsolete)
	}
	if e, err = f.store.Event(ctx, id); err != nil {
		return e, reg, false, fmt.Errorf("reminder %d: %w", r.ID, err)
	}
	reg, err = f.store.Registration(ctx, id, r.ChatID)
	if errors.Is(err, storage.ErrNotFound) {
		return e, reg, false, nil
	}
	if err != nil {
		return e, reg, false, fmt.Errorf("reminder %d: %w", r.ID, err)
	}
	return e, reg, true, nil
}
