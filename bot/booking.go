package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/catalog"
)

// The booking dialogue: type → where → day → time → (name shown to the
// center?) → (phone) → summary → confirm. Its state lives in the conversation store under flowBook; each
// button carries the dialogue's token, so buttons of a finished or replaced
// dialogue are answered politely and change nothing. Rescheduling runs the
// same dialogue from the day step with "resched" set.
const flowBook = "book"

// Steps of the booking dialogue.
const (
	stepType    = "type"
	stepCenter  = "center"
	stepDay     = "day"
	stepTime    = "time"
	stepPhone   = "phone"
	stepSummary = "summary"
)

// Keys of the dialogue's collected data.
const (
	keyType    = "type"
	keyCenter  = "center"
	keyDay     = "day"  // yyyymmdd
	keySlot    = "slot" // start, Unix seconds
	keyResched = "resched"
	keyPhone   = "phone" // "asked" once the phone question was answered
	// keyAtCenter is set when the dialogue began on a center's card: the
	// center is chosen already, so the types are that center's and the
	// place step is skipped.
	keyAtCenter = "at_center"
)

// errUnavailable means the dialogue names a type or center the catalog no
// longer offers (edited catalog, forged button).
var errUnavailable = errors.New("consultation type or center unavailable")

// handleBook starts the dialogue (menu button and /book). A person at the
// limit hears so at once instead of after five taps.
func (b *Bot) handleBook(ctx context.Context, r *Request) error {
	return b.startBooking(ctx, r, "")
}

// handleBookAtCenter (bkc:<center id>) starts the dialogue from a center's
// card, with the place already chosen.
func (b *Bot) handleBookAtCenter(ctx context.Context, r *Request) error {
	c, ok := b.cat().Center(r.Data.Arg(0))
	if !ok || !c.IsOpen() || len(b.centerTypes(c.ID)) == 0 {
		b.answer(ctx, r, r.L.T(locales.BookUnavailable))
		return nil
	}
	b.answer(ctx, r, "")
	return b.startBooking(ctx, r, c.ID)
}

// centerTypes are the consultation types a center takes bookings for.
func (b *Bot) centerTypes(centerID string) []catalog.ConsultationType {
	var out []catalog.ConsultationType
	for _, t := range b.cat().Types {
		if _, ok := b.cat().ScheduleFor(centerID, t.ID); ok {
			out = append(out, t)
		}
	}
	return out
}

func (b *Bot) startBooking(ctx context.Context, r *Request, atCenter string) error {
	now := b.now()
	mine, err := b.store.BookingsOf(ctx, r.ChatID, now)
	if err != nil {
		return err
	}
	if len(mine) >= b.cfg.MaxBookings {
		_, err := b.reply(ctx, r, b.limitText(r.L, len(mine)), b.mainMenu(r.L))
		return err
	}
	conv := storage.Conversation{ChatID: r.ChatID, Flow: flowBook, Step: stepType, UpdatedAt: now}
	conv.Token = newToken()
	if atCenter != "" {
		conv.Set(keyAtCenter, atCenter)
		conv.Set(keyCenter, atCenter)
	}
	if err := b.store.SaveConversation(ctx, conv); err != nil {
		return err
	}
	text, kb, err := b.renderBookStep(ctx, r, conv)
	if err != nil {
		return err
	}
	_, err = b.reply(ctx, r, text, kb)
	return err
}

func (b *Bot) limitText(l *locales.Localizer, n int) string {
	return l.N(locales.BookLimit, n)
}

// remindNote is the confirmation's line on reminders, from the reminders
// the store actually wrote for bk at now (the configured offsets, minus
// those already past), or "" when none is ahead.
func (b *Bot) remindNote(l *locales.Localizer, bk storage.Booking, now time.Time) string {
	var dayBefore, before bool
	for _, rem := range b.cfg.Reminders.ForBooking(bk, now) {
		switch rem.Kind {
		case storage.ReminderBookingDayBefore:
			dayBefore = true
		case storage.ReminderBookingHourBefore:
			before = true
		}
	}
	p := b.cfg.Reminders
	d := locales.Data{
		"Time":     l.Clock(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(p.DayBeforeAt)),
		"Duration": duration(l, p.Before),
	}
	var id string
	switch {
	case dayBefore && before:
		id = locales.BookRemindBoth
	case dayBefore:
		id = locales.BookRemindDayBefore
	case before:
		id = locales.BookRemindBefore
	default:
		return ""
	}
	return l.T(id, d) + "\n"
}

// duration says d in whole hours when it is some, else in minutes.
func duration(l *locales.Localizer, d time.Duration) string {
	if d >= time.Hour && d%time.Hour == 0 {
		return l.N(locales.BookHours, int(d/time.Hour))
	}
	return l.N(locales.BookMinutes, int(d/time.Minute))
}

// newToken names one dialogue; 32 random bits make a stale keyboard's token
// match a new dialogue's only by a one-in-four-billion chance.
func newToken() string { return tg.B36(uint64(rand.Uint32())) }

// bookDialogue loads the dialogue a pressed booking button belongs to. It
// answers the press itself and returns ok=false when the dialogue is gone,
// another one, or expired. An expired one is told so the same way whether
// housekeeping closed it before the press or it is found idle now.
func (b *Bot) bookDialogue(ctx context.Context, r *Request) (storage.Conversation, bool, error) {
	conv, err := b.openDialogue(ctx, r.ChatID)
	expired := errors.Is(err, storage.ErrDialogExpired)
	if expired {
		err = nil
	}
	switch {
	case errors.Is(err, storage.ErrNotFound) || (err == nil && (conv.Flow != flowBook || conv.Token != r.Data.Arg(0))):
		b.answer(ctx, r, r.L.T(locales.BookStale))
		return conv, false, nil
	case err != nil:
		return conv, false, err
	case expired:
		return conv, false, b.tellExpired(ctx, r, conv.Flow)
	}
	return conv, true, nil
}

// saveStep persists the dialogue at its new step and shows that step in the
// message the button belongs to.
func (b *Bot) saveStep(ctx context.Context, r *Request, conv storage.Conversation) error {
	conv.UpdatedAt = b.now()
	text, kb, err := b.renderBookStep(ctx, r, conv)
	if errors.Is(err, errUnavailable) {
		return b.bookUnavailable(ctx, r)
	}
	if err != nil {
		return err
	}
	if err := b.store.SaveConversation(ctx, conv); err != nil {
		return err
	}
	b.answer(ctx, r, "")
	return b.edit(ctx, r, text, kb)
}

// bookUnavailable ends a dialogue whose type or center went away.
func (b *Bot) bookUnavailable(ctx context.Context, r *Request) error {
	if err := b.store.DeleteConversation(ctx, r.ChatID); err != nil {
		return err
	}
	b.answer(ctx, r, r.L.T(locales.BookUnavailable))
	return b.edit(ctx, r, r.L.T(locales.BookUnavailable), nil)
}

// handleBookType: bt:<tok>:<type>.
func (b *Bot) handleBookType(ctx context.Context, r *Request) error {
	conv, ok, err := b.bookDialogue(ctx, r)
	if !ok || err != nil {
		return err
	}
	typeID := r.Data.Arg(1)
	if conv.Get(keyResched) != "" || len(b.bookCenters(r.User, typeID)) == 0 {
		return b.bookUnavailable(ctx, r)
	}
	conv.Set(keyType, typeID)
	conv.Step = stepCenter
	if at := conv.Get(keyAtCenter); at != "" {
		if _, ok := b.cat().ScheduleFor(at, typeID); !ok {
			return b.bookUnavailable(ctx, r)
		}
		conv.Step = stepDay
	}
	return b.saveStep(ctx, r, conv)
}

// handleBookCenter: bc:<tok>:<center>.
func (b *Bot) handleBookCenter(ctx context.Context, r *Request) error {
	conv, ok, err := b.bookDialogue(ctx, r)
	if !ok || err != nil {
		return err
	}
	centerID := r.Data.Arg(1)
	if conv.Get(keyResched) != "" || !slices.ContainsFunc(b.bookCenters(r.User, conv.Get(keyType)), func(c catalog.Center) bool { return c.ID == centerID }) {
		return b.bookUnavailable(ctx, r)
	}
	conv.Set(keyCenter, centerID)
	conv.Step = stepDay
	return b.saveStep(ctx, r, conv)
}

// handleBookDay: bd:<tok>:<yyyymmdd>. A day without free time (taken
// meanwhile, or forged) shows the day list again.
func (b *Bot) handleBookDay(ctx context.Context, r *Request) error {
	conv, ok, err := b.bookDialogue(ctx, r)
	if !ok || err != nil {
		return err
	}
	day, good := parseDayArg(r.Data.Arg(1))
	if !good {
		b.answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	conv.Set(keyDay, dayArg(day))
	conv.Step = stepTime
	return b.saveStep(ctx, r, conv)
}

// handleBookSlot: bs:<tok>:<start>. The slot must be free now; the phone
// question comes once, to people who have not shared a number.
func (b *Bot) handleBookSlot(ctx context.Context, r *Request) error {
	conv, ok, err := b.bookDialogue(ctx, r)
	if !ok || err != nil {
		return err
	}
	unix, err := r.Data.Int(1)
	if err != nil {
		b.answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	start := time.Unix(unix, 0)
	o, avail, err := b.offerFor(ctx, conv.Get(keyCenter), conv.Get(keyType))
	if err != nil {
		return err
	}
	if !avail {
		return b.bookUnavailable(ctx, r)
	}
	if _, free := o.find(start); !free {
		textID := locales.BookSlotTaken
		if start.Before(b.window().NotBefore(b.now())) {
			textID = locales.BookSlotClosed // past, or inside the minimum notice
		}
		return b.offerNearest(ctx, r, conv, start, textID)
	}
	conv.Set(keySlot, strconv.FormatInt(unix, 10))
	conv.Set(keyDay, dayArg(catalog.DateOf(start.In(b.cfg.Location))))
	if b.asksAnonymity(conv) {
		conv.Step = stepAnon
		return b.saveStep(ctx, r, conv)
	}
	return b.phoneOrSummary(ctx, r, conv)
}

// phoneOrSummary goes on from a chosen time: the phone question comes
// once, to people who have not shared a number, then the summary.
func (b *Bot) phoneOrSummary(ctx context.Context, r *Request, conv storage.Conversation) error {
	if conv.Get(keyResched) == "" && !r.User.PhoneConsent && conv.Get(keyPhone) == "" {
		unix, _ := strconv.ParseInt(conv.Get(keySlot), 10, 64)
		start := time.Unix(unix, 0)
		conv.Step = stepPhone
		conv.UpdatedAt = b.now()
		if err := b.store.SaveConversation(ctx, conv); err != nil {
			return err
		}
		b.answer(ctx, r, "")
		if err := b.edit(ctx, r, r.L.T(locales.BookTimeChosen, locales.Data{"When": esc(r.L.DateTime(start.In(b.cfg.Location)))}), nil); err != nil {
			return err
		}
		_, err := b.reply(ctx, r, r.L.T(locales.BookAskPhone), phoneKeyboard(r.L))
		return err
	}
	conv.Step = stepSummary
	return b.saveStep(ctx, r, conv)
}

func phoneKeyboard(l *locales.Localizer) tgbotapi.ReplyKeyboardMarkup {
	kb := tgbotapi.NewReplyKeyboard(
		tgbotapi.NewKeyboardButtonRow(tgbotapi.NewKeyboardButtonContact(l.T(locales.BookSharePhone))),
		tgbotapi.NewKeyboardButtonRow(tgbotapi.NewKeyboardButton(l.T(locales.BookSkipPhone))),
		tgbotapi.NewKeyboardButtonRow(tgbotapi.NewKeyboardButton(l.T(locales.ButtonBack))),
	)
	kb.ResizeKeyboard = true
	kb.OneTimeKeyboard = true
	return kb
}

// handleBookStep takes messages while the booking dialogue is open: the
// contact or "skip" at the phone step; anything else points to the buttons.
func (b *Bot) handleBookStep(ctx context.Context, r *Request, conv storage.Conversation) error {
	m := r.Message
	if conv.Step != stepPhone {
		_, err := b.reply(ctx, r, r.L.T(locales.BookUseButtons), nil)
		return err
	}
	var ack string
	switch {
	case m.Contact != nil:
		if r.From == nil || m.Contact.UserID != r.From.ID {
			_, err := b.reply(ctx, r, r.L.T(locales.BookPhoneNotOwn), phoneKeyboard(r.L))
			return err
		}
		user, err := b.savePhone(ctx, r.ChatID, m.Contact.PhoneNumber)
		if err != nil {
			return err
		}
		r.User = user
		ack = r.L.T(locales.BookPhoneSaved)
	case isLabel(m.Text, locales.BookSkipPhone, b.loc):
		ack = r.L.T(locales.BookPhoneSkipped)
	case isLabel(m.Text, locales.ButtonBack, b.loc):
		// Back to the times of the chosen day; the phone is asked again
		// once a time is picked.
		conv.Step = stepTime
		conv.Set(keySlot, "")
		return b.replyStep(ctx, r, conv, r.L.T(locales.BookPhoneBack))
	default:
		_, err := b.reply(ctx, r, r.L.T(locales.BookPhoneNotOwn), phoneKeyboard(r.L))
		return err
	}
	conv.Set(keyPhone, "asked")
	conv.Step = stepSummary
	return b.replyStep(ctx, r, conv, ack)
}

// replyStep persists the dialogue at its new step after a reply-keyboard
// answer: ack (with the main menu back in place of the phone keyboard),
// then the step as a new message.
func (b *Bot) replyStep(ctx context.Context, r *Request, conv storage.Conversation, ack string) error {
	conv.UpdatedAt = b.now()
	text, kb, err := b.renderBookStep(ctx, r, conv)
	if errors.Is(err, errUnavailable) {
		if err := b.store.DeleteConversation(ctx, r.ChatID); err != nil {
			return err
		}
		_, err := b.reply(ctx, r, r.L.T(locales.BookUnavailable), b.mainMenu(r.L))
		return err
	}
	if err != nil {
		return err
	}
	if err := b.store.SaveConversation(ctx, conv); err != nil {
		return err
	}
	if _, err := b.reply(ctx, r, ack, b.mainMenu(r.L)); err != nil {
		return err
	}
	_, err = b.reply(ctx, r, text, kb)
	return err
}

// isLabel reports whether text is the label id in either language.
func isLabel(text, id string, bundle *locales.Bundle) bool {
	text = strings.TrimSpace(text)
	for _, lang := range locales.Languages {
		if text == strings.TrimSpace(bundle.For(lang).T(id)) {
			return true
		}
	}
	return false
}

// savePhone stores the person's own number with their consent.
func (b *Bot) savePhone(ctx context.Context, chatID int64, phone string) (storage.User, error) {
	phone = strings.TrimSpace(phone)
	if len(phone) > 32 {
		phone = phone[:32]
	}
	return b.store.UpdateUser(ctx, chatID, func(u *storage.User) error {
		u.Phone, u.PhoneConsent = phone, true
		u.UpdatedAt = b.now()
		return nil
	})
}

// handleContact takes a shared contact outside any dialogue: the person's
// own number is kept with consent, anyone else's is refused.
func (b *Bot) handleContact(ctx context.Context, r *Request) error {
	c := r.Message.Contact
	if r.From == nil || c.UserID != r.From.ID {
		_, err := b.reply(ctx, r, r.L.T(locales.ContactNotOwn), b.mainMenu(r.L))
		return err
	}
	if _, err := b.savePhone(ctx, r.ChatID, c.PhoneNumber); err != nil {
		return err
	}
	_, err := b.reply(ctx, r, r.L.T(locales.ContactSaved), b.mainMenu(r.L))
	return err
}

// handleBookBack: bb:<tok>:<step>, to one of the earlier steps.
func (b *Bot) handleBookBack(ctx context.Context, r *Request) error {
	conv, ok, err := b.bookDialogue(ctx, r)
	if !ok || err != nil {
		return err
	}
	step := r.Data.Arg(1)
	allowed := []string{stepType, stepCenter, stepDay, stepTime}
	if b.asksAnonymity(conv) {
		allowed = append(allowed, stepAnon)
	}
	if conv.Get(keyResched) != "" {
		allowed = []string{stepDay, stepTime}
	}
	if !slices.Contains(allowed, step) {
		b.answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	conv.Step = step
	return b.saveStep(ctx, r, conv)
}

// handleBookQuit: bq:<tok> ends the dialogue; a reschedule keeps the
// booking as it was.
func (b *Bot) handleBookQuit(ctx context.Context, r *Request) error {
	conv, ok, err := b.bookDialogue(ctx, r)
	if !ok || err != nil {
		return err
	}
	if err := b.store.DeleteConversation(ctx, r.ChatID); err != nil {
		return err
	}
	text := r.L.T(locales.Cancelled)
	if conv.Get(keyResched) != "" {
		text = r.L.T(locales.BookRescheduleKept)
	}
	b.answer(ctx, r, "")
	return b.edit(ctx, r, text, nil)
}

// handleBookConfirm: bok:<tok>. The capacity, the limit and double booking
// are decided by the store in one transaction; a second press finds the
// dialogue finished and books nothing.
func (b *Bot) handleBookConfirm(ctx context.Context, r *Request) error {
	conv, ok, err := b.bookDialogue(ctx, r)
	if !ok || err != nil {
		return err
	}
	if conv.Step != stepSummary {
		b.answer(ctx, r, r.L.T(locales.BookStale))
		return nil
	}
	typ, center, err := b.bookChoice(conv)
	if err != nil {
		return b.bookUnavailable(ctx, r)
	}
	unix, _ := strconv.ParseInt(conv.Get(keySlot), 10, 64)
	start := time.Unix(unix, 0)
	capacity, end, avail, err := b.slotRules(ctx, center.ID, typ.ID, start)
	if err != nil {
		return err
	}
	if !avail {
		return b.bookUnavailable(ctx, r)
	}
	now := b.now()
	rules := storage.BookRules{
		Capacity: capacity, MaxActive: b.cfg.MaxBookings, Now: now,
		NotBefore: now.Add(b.cfg.BookingNotice), Reminders: b.cfg.Reminders,
	}
	var booked storage.Booking
	var old storage.Booking
	moving := conv.Get(keyResched) != ""
	if moving {
		id, _ := strconv.ParseUint(conv.Get(keyResched), 10, 64)
		var cur storage.Booking
		cur, err = b.store.Booking(ctx, id)
		if err == nil && cur.ChatID != r.ChatID {
			err = fmt.Errorf("booking %d of another chat: %w", id, storage.ErrNotFound)
		}
		if err == nil {
			old, booked, err = b.store.Reschedule(ctx, id, start, end, rules)
		}
		// Cancelled, marked or begun meanwhile: nothing left to move.
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrBookingSettled) || errors.Is(err, storage.ErrBookingStarted) {
			return b.endBooking(ctx, r, locales.BookingGone)
		}
	} else {
		u := r.User
		bk := storage.Booking{
			ChatID: r.ChatID, Name: u.FirstName, Username: u.Username, Phone: phoneIfConsent(u), Lang: u.Lang,
			TypeID: typ.ID, CenterID: center.ID, Start: start, End: end,
		}
		if b.hidesName(conv) {
			bk = anonymised(bk)
		}
		booked, err = b.store.Book(ctx, bk, rules)
	}
	switch {
	case errors.Is(err, storage.ErrFull):
		return b.offerNearest(ctx, r, conv, start, locales.BookSlotTaken)
	case errors.Is(err, storage.ErrClosedByCenter):
		return b.offerNearest(ctx, r, conv, start, locales.BookClosedByCenter)
	case errors.Is(err, storage.ErrSlotClosed):
		return b.offerNearest(ctx, r, conv, start, locales.BookSlotClosed)
	case errors.Is(err, storage.ErrAlreadyBooked):
		return b.endBooking(ctx, r, locales.BookAlreadyHave)
	case errors.Is(err, storage.ErrLimit):
		if err := b.store.DeleteConversation(ctx, r.ChatID); err != nil {
			return err
		}
		b.answer(ctx, r, "")
		return b.edit(ctx, r, b.limitText(r.L, b.cfg.MaxBookings), nil)
	case err != nil:
		return err
	}
	if !moving {
		b.metrics.Bookings.WithLabelValues(booked.TypeID, booked.CenterID).Inc()
	}
	// The booking is committed: the person must hear so and staff must be
	// told, even if closing the dialogue fails. A dialogue left open
	// expires with its TTL, and a second confirm finds the booking made.
	if err := b.store.DeleteConversation(ctx, r.ChatID); err != nil {
		b.log.Warn("close booking dialogue after the booking", "chat_id", r.ChatID, "booking_id", booked.ID, "err", err)
	}
	b.answer(ctx, r, "✅")
	textID, data := locales.BookConfirmed, b.bookingData(r.L, booked)
	if moving {
		textID = locales.BookRescheduled
	}
	data["Note"] = b.remindNote(r.L, booked, now)
	if err := b.edit(ctx, r, r.L.T(textID, data)+b.anonymousNote(r.L, booked), confirmedKeyboard(r.L, booked)); err != nil {
		return err
	}
	if err := b.sendICS(ctx, r, booked, moving); err != nil {
		b.log.Warn("send calendar file", "chat_id", r.ChatID, "booking_id", booked.ID, "err", err)
	}
	if moving {
		b.notifyStaffLater(booked, staffRescheduled, old)
	} else {
		b.notifyStaffLater(booked, staffNew, storage.Booking{})
	}
	return nil
}

func phoneIfConsent(u storage.User) string {
	if u.PhoneConsent {
		return u.Phone
	}
	return ""
}

func clockOf(t time.Time) catalog.Clock { return catalog.Clock(t.Hour()*60 + t.Minute()) }

// endBooking ends the dialogue with a final text in the summary message.
func (b *Bot) endBooking(ctx context.Context, r *Request, textID string) error {
	if err := b.store.DeleteConversation(ctx, r.ChatID); err != nil {
		return err
	}
	b.answer(ctx, r, "")
	return b.edit(ctx, r, r.L.T(textID), nil)
}

// offerNearest tells the person their time (lost) is gone and offers the
// nearest free times of the same center and type after it. The free times
// are read here, after the write that failed: free times read before it,
// when the race was still on, hold the very time just lost. The lost time
// is left out even if it freed up meanwhile, since the text says it was
// taken.
func (b *Bot) offerNearest(ctx context.Context, r *Request, conv storage.Conversation, lost time.Time, textID string) error {
	o, avail, err := b.offerFor(ctx, conv.Get(keyCenter), conv.Get(keyType))
	if err != nil {
		return err
	}
	if !avail {
		return b.bookUnavailable(ctx, r)
	}
	o = o.without(lost)
	conv.Step = stepTime
	conv.Set(keyDay, "")
	conv.Set(keySlot, "")
	conv.UpdatedAt = b.now()
	if err := b.store.SaveConversation(ctx, conv); err != nil {
		return err
	}
	tok := conv.Token
	near := o.from(lost, 6)
	if len(near) == 0 {
		near = o.from(time.Time{}, 6)
	}
	var rows [][]tgbotapi.InlineKeyboardButton
	for _, s := range near {
		st := s.Start.In(b.cfg.Location)
		label := r.L.T(locales.BookDayLabel, locales.Data{"Weekday": r.L.Weekday(st), "Date": r.L.ShortDate(st)}) + " " + r.L.Clock(st)
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(label, cbBookSlot, tok, tg.I36(s.Start.Unix()))))
	}
	text := r.L.T(textID)
	if len(near) == 0 {
		text = r.L.T(locales.BookSlotTakenNone)
	}
	rows = append(rows, b.navRow(r.L, conv, stepDay))
	b.answer(ctx, r, "")
	kb := tgbotapi.NewInlineKeyboardMarkup(rows...)
	return b.edit(ctx, r, text, &kb)
}

// navRow is the "back" and "cancel" row of a step.
func (b *Bot) navRow(l *locales.Localizer, conv storage.Conversation, back string) []tgbotapi.InlineKeyboardButton {
	tok := conv.Token
	quit := button(l.T(locales.ButtonCancel), cbBookQuit, tok)
	if back == "" {
		return tgbotapi.NewInlineKeyboardRow(quit)
	}
	return tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonBack), cbBookBack, tok, back), quit)
}

// bookChoice resolves the dialogue's type and center in the catalog.
func (b *Bot) bookChoice(conv storage.Conversation) (catalog.ConsultationType, catalog.Center, error) {
	typ, ok := b.cat().Type(conv.Get(keyType))
	if !ok {
		return typ, catalog.Center{}, errUnavailable
	}
	center, ok := b.cat().Center(conv.Get(keyCenter))
	if !ok || !center.IsOpen() {
		return typ, center, errUnavailable
	}
	if _, ok := b.cat().ScheduleFor(center.ID, typ.ID); !ok {
		return typ, center, errUnavailable
	}
	return typ, center, nil
}

// bookCenters lists the open centers offering a type, nearest first when
// the person shared a location, the online desk last.
func (b *Bot) bookCenters(u storage.User, typeID string) []catalog.Center {
	var places, online []catalog.Center
	for _, c := range b.cat().CentersOffering(typeID) {
		switch {
		case !c.IsOpen():
		case c.Online:
			online = append(online, c)
		default:
			places = append(places, c)
		}
	}
	if u.HasLocation {
		slices.SortStableFunc(places, func(x, y catalog.Center) int {
			return cmp.Compare(catalog.Distance(u.Lat, u.Lon, x.Lat, x.Lon), catalog.Distance(u.Lat, u.Lon, y.Lat, y.Lon))
		})
	}
	return append(places, online...)
}

func typeLabel(l *locales.Localizer, t catalog.ConsultationType) string {
	if t.Emoji == "" {
		return t.Name.In(l.Lang())
	}
	return t.Emoji + " " + t.Name.In(l.Lang())
}

// renderBookStep renders the dialogue's current step.
func (b *Bot) renderBookStep(ctx context.Context, r *Request, conv storage.Conversation) (string, *tgbotapi.InlineKeyboardMarkup, error) {
	l := r.L
	tok := conv.Token
	loc := b.cfg.Location
	var rows [][]tgbotapi.InlineKeyboardButton
	kb := func() *tgbotapi.InlineKeyboardMarkup {
		m := tgbotapi.NewInlineKeyboardMarkup(rows...)
		return &m
	}
	if conv.Step == stepType {
		types := b.cat().Types
		if at := conv.Get(keyAtCenter); at != "" {
			types = b.centerTypes(at)
		}
		for _, t := range types {
			if len(b.bookCenters(r.User, t.ID)) > 0 {
				rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(typeLabel(l, t), cbBookType, tok, t.ID)))
			}
		}
		text := l.T(locales.BookChooseType)
		if len(rows) == 0 {
			text = l.T(locales.BookNoTypes)
		}
		rows = append(rows, b.navRow(l, conv, ""))
		return text, kb(), nil
	}
	typ, ok := b.cat().Type(conv.Get(keyType))
	if !ok {
		return "", nil, errUnavailable
	}
	typeText := "<b>" + esc(typeLabel(l, typ)) + "</b>"
	if conv.Step == stepCenter {
		centers := b.bookCenters(r.User, typ.ID)
		for _, c := range centers {
			label := c.Name.In(l.Lang())
			if r.User.HasLocation && !c.Online {
				label += " · " + l.Km(catalog.Distance(r.User.Lat, r.User.Lon, c.Lat, c.Lon))
			}
			rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(label, cbBookCenter, tok, c.ID)))
		}
		text := l.T(locales.BookChooseCenter, locales.Data{"Type": typeText})
		if r.User.HasLocation {
			text += "\n" + l.T(locales.BookNearestNote)
		}
		if len(centers) == 0 {
			text = l.T(locales.BookNoCenters, locales.Data{"Type": typeText})
		}
		if sos := helpLinesRow(l, typ.ID); sos != nil {
			rows = append(rows, sos)
		}
		rows = append(rows, b.navRow(l, conv, stepType))
		return text, kb(), nil
	}
	_, center, err := b.bookChoice(conv)
	if err != nil {
		return "", nil, err
	}
	o, avail, err := b.offerFor(ctx, center.ID, typ.ID)
	if err != nil {
		return "", nil, err
	}
	if !avail {
		return "", nil, errUnavailable
	}
	data := locales.Data{"Type": typeText, "Place": esc(center.Name.In(l.Lang()))}
	resched := conv.Get(keyResched) != ""
	dayBack := stepCenter
	if conv.Get(keyAtCenter) != "" {
		dayBack = stepType
	}
	if resched {
		dayBack = ""
	}
	switch conv.Step {
	case stepDay:
		days := o.days(loc)
		var row []tgbotapi.InlineKeyboardButton
		for _, d := range days {
			t := d.At(12*60, loc)
			row = append(row, button(l.T(locales.BookDayLabel, locales.Data{"Weekday": l.Weekday(t), "Date": l.ShortDate(t)}), cbBookDay, tok, dayArg(d)))
			if len(row) == 2 {
				rows = append(rows, row)
				row = nil
			}
		}
		if row != nil {
			rows = append(rows, row)
		}
		text := l.T(locales.BookChooseDay, data)
		if len(days) == 0 {
			text = l.N(locales.BookNoDays, b.cfg.BookingDays, data)
		}
		if resched {
			text = l.T(locales.BookRescheduleHint) + "\n\n" + text
		} else if sos := helpLinesRow(l, typ.ID); sos != nil && conv.Get(keyAtCenter) != "" {
			// Begun on a center's card, the dialogue skips the place step,
			// the one that shows the 🆘 button otherwise.
			rows = append(rows, sos)
		}
		rows = append(rows, b.navRow(l, conv, dayBack))
		return text, kb(), nil
	case stepTime:
		day, ok := parseDayArg(conv.Get(keyDay))
		if !ok {
			conv.Step = stepDay
			return b.renderBookStep(ctx, r, conv)
		}
		data["Date"] = esc(l.Date(day.At(12*60, loc)))
		var row []tgbotapi.InlineKeyboardButton
		slots := o.on(day, loc)
		for _, s := range slots {
			row = append(row, button(l.Clock(s.Start.In(loc)), cbBookSlot, tok, tg.I36(s.Start.Unix())))
			if len(row) == 4 {
				rows = append(rows, row)
				row = nil
			}
		}
		if row != nil {
			rows = append(rows, row)
		}
		text := l.T(locales.BookChooseTime, data)
		if len(slots) == 0 {
			text = l.T(locales.BookNoTimes, data)
		}
		rows = append(rows, b.navRow(l, conv, stepDay))
		return text, kb(), nil
	case stepSummary, stepPhone:
		unix, err := strconv.ParseInt(conv.Get(keySlot), 10, 64)
		if err != nil {
			conv.Step = stepDay
			return b.renderBookStep(ctx, r, conv)
		}
		start := time.Unix(unix, 0).In(loc)
		phone := ""
		if r.User.PhoneConsent && r.User.Phone != "" && !resched && !b.hidesName(conv) {
			phone = "\n" + l.T(locales.BookPhoneLine, locales.Data{"Phone": esc(r.User.Phone)})
		}
		data["Address"] = esc(b.addressOf(l, b.shownCenter(center).Center))
		data["When"] = esc(l.DateTime(start))
		data["Phone"] = phone
		confirm := locales.BookConfirm
		if resched {
			confirm = locales.BookConfirmMove
		}
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(confirm), cbBookConfirm, tok)))
		rows = append(rows, b.navRow(l, conv, b.summaryBack(conv)))
		return l.T(locales.BookSummary, data), kb(), nil
	case stepAnon:
		text, anonKB := b.renderAnonStep(l, conv)
		return text, anonKB, nil
	}
	return "", nil, errUnavailable
}

// addressOf is the center's address, "online" for the online desk, or
// "ask the center" when the catalog does not know it: never invented.
func (b *Bot) addressOf(l *locales.Localizer, c catalog.Center) string {
	switch {
	case c.Online:
		return l.T(locales.BookOnlineAddress)
	case c.Address.IsZero():
		return l.T(locales.AskTheCenter)
	}
	addr := c.Address.In(l.Lang())
	if s := c.Settlement.In(l.Lang()); s != "" && !strings.Contains(addr, s) {
		addr = s + ", " + addr
	}
	return addr
}

// bookingData is the template data of a booking shown to the person.
func (b *Bot) bookingData(l *locales.Localizer, bk storage.Booking) locales.Data {
	d := locales.Data{"When": esc(l.DateTime(bk.Start.In(b.cfg.Location)))}
	if t, ok := b.cat().Type(bk.TypeID); ok {
		d["Type"] = "<b>" + esc(typeLabel(l, t)) + "</b>"
		d["Bring"] = esc(t.Bring.In(l.Lang()))
		if t.Bring.IsZero() {
			d["Bring"] = esc(l.T(locales.AskTheCenter))
		}
	} else {
		d["Type"], d["Bring"] = esc(bk.TypeID), esc(l.T(locales.AskTheCenter))
	}
	if c, ok := b.cat().Center(bk.CenterID); ok {
		c = b.shownCenter(c).Center
		d["Place"] = esc(c.Name.In(l.Lang()))
		d["Address"] = esc(b.addressOf(l, c))
	} else {
		d["Place"], d["Address"] = esc(bk.CenterID), esc(l.T(locales.AskTheCenter))
	}
	return d
}

// sendICS sends the "add to calendar" file of a booking.
func (b *Bot) sendICS(ctx context.Context, r *Request, bk storage.Booking, moved bool) error {
	l := r.L
	summary, place, desc := bk.TypeID, bk.CenterID, ""
	if t, ok := b.cat().Type(bk.TypeID); ok {
		summary = t.Name.In(l.Lang())
		desc = t.Bring.In(l.Lang())
	}
	if c, ok := b.cat().Center(bk.CenterID); ok {
		place = c.Name.In(l.Lang()) + ", " + b.addressOf(l, b.shownCenter(c).Center)
		if t, ok := b.cat().Type(bk.TypeID); ok && t.Discreet {
			// A calendar's alarm shows the title on the lock screen, as a
			// reminder's preview does: the center, not the type.
			summary = c.Name.In(l.Lang())
		}
	}
	seq := 0
	if moved {
		seq = int(bk.UpdatedAt.Unix() - bk.CreatedAt.Unix())
	}
	data := icsFile(icsEvent{
		UID: fmt.Sprintf("booking-%d@jastar", bk.ID), Sequence: seq, Start: bk.Start, End: bk.End,
		Summary: summary, Location: place, Description: desc, Stamp: b.now(),
	}, b.cfg.Location)
	doc := tgbotapi.NewDocument(r.ChatID, tgbotapi.FileBytes{Name: fmt.Sprintf("jastar-%d.ics", bk.ID), Bytes: data})
	doc.Caption = l.T(locales.BookIcsCaption)
	_, err := b.send.Send(ctx, r.ChatID, doc)
	return err
}

// dayArg encodes a date for a callback argument and the dialogue: yyyymmdd.
func dayArg(d catalog.Date) string { return fmt.Sprintf("%04d%02d%02d", d.Year, int(d.Month), d.Day) }

func parseDayArg(s string) (catalog.Date, bool) {
	if len(s) != 8 {
		return catalog.Date{}, false
	}
	t, err := time.Parse("20060102", s)
	if err != nil {
		return catalog.Date{}, false
	}
	return catalog.DateOf(t), true
}
