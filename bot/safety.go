package bot

import (
	"context"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/catalog"
)

// The safety net (issue 17). The bot is not a crisis service: it points,
// at once and kindly, to the people who are. A free-text message that
// signals crisis (locales.Crisis) gets, before anything else, a calm
// answer with the help lines of the catalog and an offer of the soonest
// free psychologist's time; the 🆘 button shows the help lines anywhere it
// is. The text of such a message is never logged, stored or forwarded: it
// is counted, and its raw update is erased from the inbox with a
// compaction owed, so no copy stays in the database file.

// safetyStore is what the safety net reads and writes.
type safetyStore interface {
	// Erase takes the update out of the inbox, owing the compaction.
	Erase(ctx context.Context, updateID int, now time.Time) error
	// Subscription gives the district a person chose, for the nearest
	// center when they shared no location.
	Subscription(ctx context.Context, chatID int64) (storage.Subscription, error)
}

// soonestBooker is the booking dialogue as the crisis answer uses it;
// the booking feature implements it (booking_safety.go).
type soonestBooker interface {
	// hasFreeSlot reports whether a type has a free slot at any center.
	hasFreeSlot(ctx context.Context, u storage.User, typeID string) (bool, error)
	// bookSoonest starts the dialogue at the type's soonest free slot;
	// false when there is none.
	bookSoonest(ctx context.Context, r *tg.Request, typeID string) (bool, error)
}

// safety is the feature.
type safety struct {
	kit
	store  safetyStore
	crisis *locales.Crisis
	book   soonestBooker
}

func newSafety(k kit, store safetyStore, crisis *locales.Crisis, book soonestBooker) *safety {
	return &safety{kit: k, store: store, crisis: crisis, book: book}
}

// signals reports whether a free-text message signals crisis.
func (s *safety) signals(text string) bool { return s.crisis.Signals(text) }

// handleCrisis answers a message that signals crisis: that the person is
// not alone, the help lines, and the soonest psychologist's time (or, when
// there is none, that the lines answer now). The router sends the message
// here before any other reply to it. Nothing of the text is kept: the log
// lines of this path name the chat and the update, and the raw update
// leaves the inbox whatever happens to the answer.
func (s *safety) handleCrisis(ctx context.Context, r *tg.Request) error {
	s.metrics.CrisisAnswers.Inc()
	defer s.erase(ctx, r)
	l := r.L
	text := l.T(locales.CrisisAnswer) + "\n\n" + s.card(ctx, r)
	if _, ok := s.catalog().Type(psychologyType); !ok {
		_, err := s.tx.Reply(ctx, r, text, nil)
		return err
	}
	free, err := s.book.hasFreeSlot(ctx, r.User, psychologyType)
	if err != nil {
		// The button checks again when pressed; the help lines must not
		// wait for the database.
		s.log.Warn("read free psychologist's time for a crisis answer", "chat_id", r.ChatID, "err", err)
		free = true
	}
	if !free {
		_, err := s.tx.Reply(ctx, r, text+"\n\n"+l.T(locales.CrisisBookNoSlots), nil)
		return err
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(button(l.T(locales.CrisisBookButton), cbCrisisBook)))
	_, err = s.tx.Reply(ctx, r, text+"\n\n"+l.T(locales.CrisisBookOffer), kb)
	return err
}

// erase takes the update out of the inbox. It runs even if the handler's
// context was cancelled (a shutdown): the text must not stay behind.
func (s *safety) erase(ctx context.Context, r *tg.Request) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.store.Erase(ctx, r.Update.UpdateID, s.now()); err != nil {
		s.log.Error("erase the update of a crisis message", "update_id", r.Update.UpdateID, "chat_id", r.ChatID, "err", err)
	}
}

// handleHelpLines: sos, the 🆘 button, sends the help lines in a new
// message, so the one it was pressed on stays as it was.
func (s *safety) handleHelpLines(ctx context.Context, r *tg.Request) error {
	s.tx.Answer(ctx, r, "")
	_, err := s.tx.Reply(ctx, r, s.card(ctx, r), nil)
	return err
}

// handleCrisisBook: crb, the crisis answer's offer, starts booking the
// soonest free psychologist's time in a new message; the help lines stay
// on screen above it.
func (s *safety) handleCrisisBook(ctx context.Context, r *tg.Request) error {
	s.tx.Answer(ctx, r, "")
	started, err := s.book.bookSoonest(ctx, r, psychologyType)
	if err != nil || started {
		return err
	}
	_, err = s.tx.Reply(ctx, r, r.L.T(locales.CrisisBookNoSlots), nil)
	return err
}

// helpLinesButton is the 🆘 button; the other features put it on /help,
// the psychologist's card and the confirmation of such a booking.
func helpLinesButton(l *locales.Localizer) tgbotapi.InlineKeyboardButton {
	return button(l.T(locales.HelpButton), cbHelpLines)
}

// card is the help lines: each line of the catalog with its number, what
// it is for, its hours and whether the call is free; the nearest center's
// phone when it is open now; and that the bot itself cannot help.
func (s *safety) card(ctx context.Context, r *tg.Request) string {
	l := r.L
	lang := l.Lang()
	parts := []string{l.T(locales.HelpLinesHeader)}
	for _, h := range s.catalog().HelpLines {
		free := l.T(locales.HelpLinePaid)
		if h.Free {
			free = l.T(locales.HelpLineFree)
		}
		parts = append(parts, l.T(locales.HelpLine, locales.Data{
			"Number": esc(h.Number), "Name": esc(h.Name.In(lang)), "Description": esc(h.Description.In(lang)),
			"Hours": esc(helpHours(l, h.Hours)), "Free": free,
		}))
	}
	if c, ok := s.nearestOpen(ctx, r); ok {
		parts = append(parts, l.T(locales.HelpLinesNearestCenter, locales.Data{"Center": esc(c.Name.In(lang)), "Phone": esc(c.Phone)}))
	}
	parts = append(parts, l.T(locales.HelpLinesNotAService))
	return strings.Join(parts, "\n\n")
}

// helpHours says when a line answers: around the clock, or its days and
// times ("Пн–Пт, 09:00–18:00").
func helpHours(l *locales.Localizer, h catalog.HelpHours) string {
	if h.Always {
		return l.T(locales.HelpLineAlways)
	}
	return l.T(locales.HelpLineHours, locales.Data{"Days": weekdays(l, h.Days), "From": h.Open.String(), "To": h.Close.String()})
}

// weekdays names days in week order from Monday: a run of several as
// "Пн–Пт", others one by one, "Пн, Ср, Пт".
func weekdays(l *locales.Localizer, days []time.Weekday) string {
	// 4 January 2026 is a Sunday: day d of the week is 4+d January.
	name := func(d time.Weekday) string { return l.Weekday(time.Date(2026, 1, 4+int(d), 12, 0, 0, 0, time.UTC)) }
	if len(days) == 0 {
		return ""
	}
	run := len(days) > 2
	for i := 1; i < len(days); i++ {
		run = run && (days[i-1]+1)%7 == days[i]
	}
	if run {
		return name(days[0]) + "–" + name(days[len(days)-1])
	}
	names := make([]string, len(days))
	for i, d := range days {
		names[i] = name(d)
	}
	return strings.Join(names, ", ")
}

// nearestOpen is the center nearest the person, when it is open now and
// has a phone: the nearest by the location they shared, or a center of the
// district they subscribed to. Open now means one of its consultation
// schedules runs now (catalog.ConsultingAt), the one thing the catalog
// knows for sure; without a location or district, or if the nearest center
// is closed or has no phone, there is no such center, and the card leaves
// the line out rather than guess.
func (s *safety) nearestOpen(ctx context.Context, r *tg.Request) (catalog.Center, bool) {
	now := s.now()
	usable := func(c catalog.Center) bool { return c.Phone != "" && s.catalog().ConsultingAt(c.ID, now) }
	u := r.User
	if u.HasLocation {
		list, far := s.catalog().Nearest(u.Lat, u.Lon, 1)
		if far || len(list) == 0 || !usable(list[0].Center) {
			return catalog.Center{}, false
		}
		return list[0].Center, true
	}
	sub, err := s.store.Subscription(ctx, r.ChatID)
	if err != nil || sub.DistrictID == "" {
		return catalog.Center{}, false
	}
	for _, c := range s.catalog().CentersIn(sub.DistrictID) {
		if !c.Online && usable(c) {
			return c, true
		}
	}
	return catalog.Center{}, false
}

// stepTakesText reports whether the chat's open dialogue waits for typed
// text at its step (a broadcast's text, an event's title or date, a
// comment after a consultation): a message there is its answer, not a
// message to hear for crisis. The booking dialogue takes buttons and a
// contact only. A dialogue that cannot be read counts as none: the help
// lines are never held back by a database error.
func (b *Bot) stepTakesText(ctx context.Context, chatID int64) bool {
	conv, err := b.transport.OpenDialogue(ctx, chatID)
	if err != nil {
		return false
	}
	switch conv.Flow {
	case flowBroadcast:
		return conv.Step == "kk" || conv.Step == "ru"
	case flowEvent:
		return conv.Step != evStepCenter && conv.Step != evStepConfirm
	case flowFeedback, flowPollOther:
		return true
	case flowPoll, flowClose, flowCard, flowSession:
		// Staff and admins typing a poll, hours, an address or a note:
		// their words are content, not a cry for help.
		return true
	}
	return false
}
