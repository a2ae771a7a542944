package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/catalog"
)

// closeDialogueTimeout bounds closing a booking dialogue after its
// confirmation: a commit, which takes milliseconds.
const closeDialogueTimeout = 10 * time.Second

// The booking dialogue: type → where → day → time → (name shown to the
// center?) → (phone) → summary → confirm. Its state is a bookingState in
// the conversation store under flowBook; each button carries the
// dialogue's token, so buttons of a finished or replaced dialogue are
// answered politely and change nothing. Rescheduling runs the same
// dialogue from the day step with Resched set.
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

// keyDay is where closing time and extra sessions keep a day (yyyymmdd)
// in their untyped dialogues; removed once they are typed.
const keyDay = "day"

// bookingState is what the booking dialogue has collected.
type bookingState struct {
	TypeID   string `json:"type,omitempty"`
	CenterID string `json:"center,omitempty"`
	// AtCenter is set when the dialogue began on a center's card: the
	// center is chosen already, so the types are that center's and the
	// place step is skipped.
	AtCenter bool `json:"at_center,omitempty"`
	// Day is the day whose times are shown; zero before one is chosen.
	Day catalog.Date `json:"day,omitzero"`
	// Slot is the chosen time's start; zero before one is chosen.
	Slot time.Time `json:"slot,omitzero"`
	// Resched is the booking being moved; 0 for a new booking.
	Resched uint64 `json:"resched,omitempty"`
	// PhoneAsked is set once the phone question was answered.
	PhoneAsked bool `json:"phone_asked,omitempty"`
	// HideName is the answer to stepAnon: book with a code instead of the
	// name.
	HideName bool `json:"hide_name,omitempty"`
}

// moving reports whether the dialogue moves a booking rather than makes one.
func (s bookingState) moving() bool { return s.Resched != 0 }

// bookDialog is the booking dialogue with its state.
type bookDialog = dialogue[bookingState]

// bookingStore is what the booking dialogue reads and writes.
type bookingStore interface {
	dialogueStore
	UpdateUser(ctx context.Context, chatID int64, f func(*storage.User) error) (storage.User, error)
	Booking(ctx context.Context, id uint64) (storage.Booking, error)
	BookingsOf(ctx context.Context, chatID int64, from time.Time) ([]storage.Booking, error)
	Book(ctx context.Context, b storage.Booking, rules storage.BookRules) (storage.Booking, error)
	Reschedule(ctx context.Context, id uint64, start, end time.Time, rules storage.BookRules) (old, moved storage.Booking, err error)
}

// staffNotifier tells a center's staff of a booking made, moved or
// cancelled (staff.go), after the person's answer.
type staffNotifier interface {
	notifyStaffLater(bk storage.Booking, ev staffEvent, old storage.Booking)
}

// documentSender sends a file (the calendar file) through the shared
// sender; *tg.Sender is one.
type documentSender interface {
	Send(ctx context.Context, chatID int64, c tgbotapi.Chattable) (int, error)
}

// booking is the feature: the dialogue, from /book, a center's card, a
// reschedule of "My bookings" or the crisis answer's offer.
type booking struct {
	kit
	store bookingStore
	slots *slotFinder
	texts *bookingTexts
	staff staffNotifier
	docs  documentSender
}

// errUnavailable means the dialogue names a type or center the catalog no
// longer offers (edited catalog, forged button).
var errUnavailable = errors.New("consultation type or center unavailable")

// handleBook starts the dialogue (menu button and /book). A person at the
// limit hears so at once instead of after five taps.
func (f *booking) handleBook(ctx context.Context, r *tg.Request) error {
	return f.startBooking(ctx, r, "")
}

// handleBookAtCenter (bkc:<center id>) starts the dialogue from a center's
// card, with the place already chosen.
func (f *booking) handleBookAtCenter(ctx context.Context, r *tg.Request) error {
	c, ok := f.catalog().Center(r.Data.Arg(0))
	if !ok || !c.IsOpen() || len(f.centerTypes(c.ID)) == 0 {
		f.tx.Answer(ctx, r, r.L.T(locales.BookUnavailable))
		return nil
	}
	f.tx.Answer(ctx, r, "")
	return f.startBooking(ctx, r, c.ID)
}

// centerTypes are the consultation types a center takes bookings for.
func (f *booking) centerTypes(centerID string) []catalog.ConsultationType {
	var out []catalog.ConsultationType
	for _, t := range f.catalog().Types {
		if _, ok := f.catalog().ScheduleFor(centerID, t.ID); ok {
			out = append(out, t)
		}
	}
	return out
}

func (f *booking) startBooking(ctx context.Context, r *tg.Request, atCenter string) error {
	now := f.now()
	mine, err := f.store.BookingsOf(ctx, r.ChatID, now)
	if err != nil {
		return err
	}
	if len(mine) >= f.cfg.MaxBookings {
		_, err := f.tx.Reply(ctx, r, limitText(r.L, len(mine)), f.mainMenu(r.L))
		return err
	}
	d := newDialogue[bookingState](r.ChatID, flowBook, stepType, now)
	if atCenter != "" {
		d.State.AtCenter, d.State.CenterID = true, atCenter
	}
	if err := f.save(ctx, d); err != nil {
		return err
	}
	text, kb, err := f.renderBookStep(ctx, r, d)
	if err != nil {
		return err
	}
	_, err = f.tx.Reply(ctx, r, text, kb)
	return err
}

// save stores the dialogue, touched now.
func (f *booking) save(ctx context.Context, d bookDialog) error {
	conv, err := d.stored(f.now())
	if err != nil {
		return err
	}
	return f.store.SaveConversation(ctx, conv)
}

func limitText(l *locales.Localizer, n int) string {
	return l.N(locales.BookLimit, n)
}

// remindNote is the confirmation's line on reminders, from the reminders
// the store actually wrote for bk at now (the configured offsets, minus
// those already past), or "" when none is ahead.
func (bt *bookingTexts) remindNote(l *locales.Localizer, bk storage.Booking, now time.Time) string {
	var dayBefore, before bool
	for _, rem := range bt.cfg.Reminders.ForBooking(bk, now) {
		switch rem.Kind {
		case storage.ReminderBookingDayBefore:
			dayBefore = true
		case storage.ReminderBookingHourBefore:
			before = true
		}
	}
	p := bt.cfg.Reminders
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
// housekeeping closed it before the press or it is found idle now; so is
// one whose state does not decode (saved by an older version: dialogues
// live minutes, so a deploy may simply end them).
func (f *booking) bookDialogue(ctx context.Context, r *tg.Request) (bookDialog, bool, error) {
	conv, err := f.store.Conversation(ctx, r.ChatID)
	expired := errors.Is(err, storage.ErrDialogExpired)
	if expired {
		err = nil
	}
	switch {
	case errors.Is(err, storage.ErrNotFound) || (err == nil && (conv.Flow != flowBook || conv.Token != r.Data.Arg(0))):
		f.tx.Answer(ctx, r, r.L.T(locales.BookStale))
		return bookDialog{}, false, nil
	case err != nil:
		return bookDialog{}, false, err
	case expired:
		return bookDialog{}, false, f.tx.TellExpired(ctx, r, conv.Flow)
	}
	d, err := f.dialogueOf(conv)
	if err != nil {
		return d, false, f.tx.TellExpired(ctx, r, conv.Flow)
	}
	return d, true, nil
}

// dialogueOf decodes a booking dialogue, refusing one idle past the TTL
// (not yet closed by housekeeping) or saved before the state was typed.
func (f *booking) dialogueOf(conv storage.Conversation) (bookDialog, error) {
	if idle := f.now().Sub(conv.UpdatedAt); idle > f.cfg.DialogTTL {
		return bookDialog{Conversation: conv}, fmt.Errorf("booking dialogue of chat %d idle for %s: %w", conv.ChatID, idle, storage.ErrDialogExpired)
	}
	if len(conv.State) == 0 {
		return bookDialog{Conversation: conv}, fmt.Errorf("booking dialogue of chat %d has no typed state: %w", conv.ChatID, storage.ErrDialogExpired)
	}
	d, err := dialogueOf[bookingState](conv)
	if err != nil {
		return d, fmt.Errorf("%w: %w", storage.ErrDialogExpired, err)
	}
	return d, nil
}

// saveStep persists the dialogue at its new step and shows that step in the
// message the button belongs to.
func (f *booking) saveStep(ctx context.Context, r *tg.Request, d bookDialog) error {
	text, kb, err := f.renderBookStep(ctx, r, d)
	if errors.Is(err, errUnavailable) {
		return f.bookUnavailable(ctx, r)
	}
	if err != nil {
		return err
	}
	if err := f.save(ctx, d); err != nil {
		return err
	}
	f.tx.Answer(ctx, r, "")
	return f.tx.Edit(ctx, r, text, kb)
}

// bookUnavailable ends a dialogue whose type or center went away.
func (f *booking) bookUnavailable(ctx context.Context, r *tg.Request) error {
	if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
		return err
	}
	f.tx.Answer(ctx, r, r.L.T(locales.BookUnavailable))
	return f.tx.Edit(ctx, r, r.L.T(locales.BookUnavailable), nil)
}

// handleBookType: bt:<tok>:<type>.
func (f *booking) handleBookType(ctx context.Context, r *tg.Request) error {
	d, ok, err := f.bookDialogue(ctx, r)
	if !ok || err != nil {
		return err
	}
	typeID := r.Data.Arg(1)
	if d.State.moving() || len(f.bookCenters(r.User, typeID)) == 0 {
		return f.bookUnavailable(ctx, r)
	}
	d.State.TypeID = typeID
	d.Step = stepCenter
	if d.State.AtCenter {
		if _, ok := f.catalog().ScheduleFor(d.State.CenterID, typeID); !ok {
			return f.bookUnavailable(ctx, r)
		}
		d.Step = stepDay
	}
	return f.saveStep(ctx, r, d)
}

// handleBookCenter: bc:<tok>:<center>.
func (f *booking) handleBookCenter(ctx context.Context, r *tg.Request) error {
	d, ok, err := f.bookDialogue(ctx, r)
	if !ok || err != nil {
		return err
	}
	centerID := r.Data.Arg(1)
	if d.State.moving() || !slices.ContainsFunc(f.bookCenters(r.User, d.State.TypeID), func(c catalog.Center) bool { return c.ID == centerID }) {
		return f.bookUnavailable(ctx, r)
	}
	d.State.CenterID = centerID
	d.Step = stepDay
	return f.saveStep(ctx, r, d)
}

// handleBookDay: bd:<tok>:<yyyymmdd>. A day without free time (taken
// meanwhile, or forged) shows the day list again.
func (f *booking) handleBookDay(ctx context.Context, r *tg.Request) error {
	d, ok, err := f.bookDialogue(ctx, r)
	if !ok || err != nil {
		return err
	}
	day, good := parseDayArg(r.Data.Arg(1))
	if !good {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	d.State.Day = day
	d.Step = stepTime
	return f.saveStep(ctx, r, d)
}

// handleBookSlot: bs:<tok>:<start>. The slot must be free now; the phone
// question comes once, to people who have not shared a number.
func (f *booking) handleBookSlot(ctx context.Context, r *tg.Request) error {
	d, ok, err := f.bookDialogue(ctx, r)
	if !ok || err != nil {
		return err
	}
	unix, err := r.Data.Int(1)
	if err != nil {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	start := time.Unix(unix, 0)
	o, avail, err := f.slots.offerFor(ctx, d.State.CenterID, d.State.TypeID)
	if err != nil {
		return err
	}
	if !avail {
		return f.bookUnavailable(ctx, r)
	}
	if _, free := o.find(start); !free {
		textID := locales.BookSlotTaken
		if start.Before(f.slots.window().NotBefore(f.now())) {
			textID = locales.BookSlotClosed // past, or inside the minimum notice
		}
		return f.offerNearest(ctx, r, d, start, textID)
	}
	d.State.Slot = start
	d.State.Day = catalog.DateOf(start.In(f.cfg.Location))
	if f.asksAnonymity(d.State) {
		d.Step = stepAnon
		return f.saveStep(ctx, r, d)
	}
	return f.phoneOrSummary(ctx, r, d)
}

// phoneOrSummary goes on from a chosen time: the phone question comes
// once, to people who have not shared a number, then the summary.
func (f *booking) phoneOrSummary(ctx context.Context, r *tg.Request, d bookDialog) error {
	if !d.State.moving() && !r.User.PhoneConsent && !d.State.PhoneAsked {
		d.Step = stepPhone
		if err := f.save(ctx, d); err != nil {
			return err
		}
		f.tx.Answer(ctx, r, "")
		if err := f.tx.Edit(ctx, r, r.L.T(locales.BookTimeChosen, locales.Data{"When": esc(r.L.DateTime(d.State.Slot.In(f.cfg.Location)))}), nil); err != nil {
			return err
		}
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.BookAskPhone), phoneKeyboard(r.L))
		return err
	}
	d.Step = stepSummary
	return f.saveStep(ctx, r, d)
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
func (f *booking) handleBookStep(ctx context.Context, r *tg.Request, conv storage.Conversation) error {
	m := r.Message
	d, err := f.dialogueOf(conv)
	if err != nil {
		return f.tx.TellExpired(ctx, r, conv.Flow)
	}
	if d.Step != stepPhone {
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.BookUseButtons), nil)
		return err
	}
	var ack string
	switch {
	case m.Contact != nil:
		if r.From == nil || m.Contact.UserID != r.From.ID {
			_, err := f.tx.Reply(ctx, r, r.L.T(locales.BookPhoneNotOwn), phoneKeyboard(r.L))
			return err
		}
		user, err := f.savePhone(ctx, r.ChatID, m.Contact.PhoneNumber)
		if err != nil {
			return err
		}
		r.User = user
		ack = r.L.T(locales.BookPhoneSaved)
	case isLabel(m.Text, locales.BookSkipPhone, f.loc):
		ack = r.L.T(locales.BookPhoneSkipped)
	case isLabel(m.Text, locales.ButtonBack, f.loc):
		// Back to the times of the chosen day; the phone is asked again
		// once a time is picked.
		d.Step = stepTime
		d.State.Slot = time.Time{}
		return f.replyStep(ctx, r, d, r.L.T(locales.BookPhoneBack))
	default:
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.BookPhoneNotOwn), phoneKeyboard(r.L))
		return err
	}
	d.State.PhoneAsked = true
	d.Step = stepSummary
	return f.replyStep(ctx, r, d, ack)
}

// replyStep persists the dialogue at its new step after a reply-keyboard
// answer: ack (with the main menu back in place of the phone keyboard),
// then the step as a new message.
func (f *booking) replyStep(ctx context.Context, r *tg.Request, d bookDialog, ack string) error {
	text, kb, err := f.renderBookStep(ctx, r, d)
	if errors.Is(err, errUnavailable) {
		if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
			return err
		}
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.BookUnavailable), f.mainMenu(r.L))
		return err
	}
	if err != nil {
		return err
	}
	if err := f.save(ctx, d); err != nil {
		return err
	}
	if _, err := f.tx.Reply(ctx, r, ack, f.mainMenu(r.L)); err != nil {
		return err
	}
	_, err = f.tx.Reply(ctx, r, text, kb)
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
func (f *booking) savePhone(ctx context.Context, chatID int64, phone string) (storage.User, error) {
	phone = strings.TrimSpace(phone)
	if len(phone) > 32 {
		phone = phone[:32]
	}
	return f.store.UpdateUser(ctx, chatID, func(u *storage.User) error {
		u.Phone, u.PhoneConsent = phone, true
		u.UpdatedAt = f.now()
		return nil
	})
}

// handleContact takes a shared contact outside any dialogue: the person's
// own number is kept with consent, anyone else's is refused.
func (f *booking) handleContact(ctx context.Context, r *tg.Request) error {
	c := r.Message.Contact
	if r.From == nil || c.UserID != r.From.ID {
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.ContactNotOwn), f.mainMenu(r.L))
		return err
	}
	if _, err := f.savePhone(ctx, r.ChatID, c.PhoneNumber); err != nil {
		return err
	}
	_, err := f.tx.Reply(ctx, r, r.L.T(locales.ContactSaved), f.mainMenu(r.L))
	return err
}

// handleBookBack: bb:<tok>:<step>, to one of the earlier steps.
func (f *booking) handleBookBack(ctx context.Context, r *tg.Request) error {
	d, ok, err := f.bookDialogue(ctx, r)
	if !ok || err != nil {
		return err
	}
	step := r.Data.Arg(1)
	allowed := []string{stepType, stepCenter, stepDay, stepTime}
	if f.asksAnonymity(d.State) {
		allowed = append(allowed, stepAnon)
	}
	if d.State.moving() {
		allowed = []string{stepDay, stepTime}
	}
	if !slices.Contains(allowed, step) {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	d.Step = step
	return f.saveStep(ctx, r, d)
}

// handleBookQuit: bq:<tok> ends the dialogue; a reschedule keeps the
// booking as it was.
func (f *booking) handleBookQuit(ctx context.Context, r *tg.Request) error {
	d, ok, err := f.bookDialogue(ctx, r)
	if !ok || err != nil {
		return err
	}
	if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
		return err
	}
	text := r.L.T(locales.Cancelled)
	if d.State.moving() {
		text = r.L.T(locales.BookRescheduleKept)
	}
	f.tx.Answer(ctx, r, "")
	return f.tx.Edit(ctx, r, text, nil)
}

// handleBookConfirm: bok:<tok>. The capacity, the limit and double booking
// are decided by the store in one transaction; a second press finds the
// dialogue finished and books nothing.
func (f *booking) handleBookConfirm(ctx context.Context, r *tg.Request) error {
	d, ok, err := f.bookDialogue(ctx, r)
	if !ok || err != nil {
		return err
	}
	if d.Step != stepSummary || d.State.Slot.IsZero() {
		f.tx.Answer(ctx, r, r.L.T(locales.BookStale))
		return nil
	}
	typ, center, err := f.bookChoice(d.State)
	if err != nil {
		return f.bookUnavailable(ctx, r)
	}
	start := d.State.Slot
	capacity, end, avail, err := f.slots.slotRules(ctx, center.ID, typ.ID, start)
	if err != nil {
		return err
	}
	if !avail {
		return f.bookUnavailable(ctx, r)
	}
	now := f.now()
	rules := storage.BookRules{
		Capacity: capacity, MaxActive: f.cfg.MaxBookings, Now: now,
		NotBefore: now.Add(f.cfg.BookingNotice), Reminders: f.cfg.Reminders,
	}
	var booked storage.Booking
	var old storage.Booking
	moving := d.State.moving()
	if moving {
		id := d.State.Resched
		var cur storage.Booking
		cur, err = f.store.Booking(ctx, id)
		if err == nil && cur.ChatID != r.ChatID {
			err = fmt.Errorf("booking %d of another chat: %w", id, storage.ErrNotFound)
		}
		if err == nil {
			old, booked, err = f.store.Reschedule(ctx, id, start, end, rules)
		}
		// Cancelled, marked or begun meanwhile: nothing left to move.
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrBookingSettled) || errors.Is(err, storage.ErrBookingStarted) {
			return f.endBooking(ctx, r, locales.BookingGone)
		}
	} else {
		u := r.User
		bk := storage.Booking{
			ChatID: r.ChatID, Name: u.FirstName, Username: u.Username, Phone: phoneIfConsent(u), Lang: u.Lang,
			TypeID: typ.ID, CenterID: center.ID, Start: start, End: end,
		}
		if f.hidesName(d.State) {
			bk = anonymised(bk)
		}
		booked, err = f.store.Book(ctx, bk, rules)
	}
	switch {
	case errors.Is(err, storage.ErrFull):
		return f.offerNearest(ctx, r, d, start, locales.BookSlotTaken)
	case errors.Is(err, storage.ErrClosedByCenter):
		return f.offerNearest(ctx, r, d, start, locales.BookClosedByCenter)
	case errors.Is(err, storage.ErrSlotClosed):
		return f.offerNearest(ctx, r, d, start, locales.BookSlotClosed)
	case errors.Is(err, storage.ErrAlreadyBooked):
		return f.endBooking(ctx, r, locales.BookAlreadyHave)
	case errors.Is(err, storage.ErrLimit):
		if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
			return err
		}
		f.tx.Answer(ctx, r, "")
		return f.tx.Edit(ctx, r, limitText(r.L, f.cfg.MaxBookings), nil)
	case err != nil:
		return err
	}
	if !moving {
		f.metrics.Bookings.WithLabelValues(booked.TypeID, booked.CenterID).Inc()
	}
	// The booking is committed: the person must hear so and staff must be
	// told, even if closing the dialogue fails. A dialogue left open
	// expires with its TTL, and a second confirm finds the booking made.
	// So the dialogue is closed after the answer, not before: its commit
	// (milliseconds of fsync) is not in the time the person waits for the
	// one step that already waited for the booking's. The chat's next
	// update waits for this handler, so it finds the dialogue closed. Its
	// own context: the sends before it may have used up the handler's
	// time (a long retry_after), and a dialogue left at its summary would
	// turn a replayed or second confirm into "you already have a booking"
	// over the confirmation.
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeDialogueTimeout)
		defer cancel()
		if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
			f.log.Warn("close booking dialogue after the booking", "chat_id", r.ChatID, "booking_id", booked.ID, "err", err)
		}
	}()
	f.tx.Answer(ctx, r, "✅")
	textID, data := locales.BookConfirmed, f.texts.bookingData(r.L, booked)
	if moving {
		textID = locales.BookRescheduled
	}
	data["Note"] = f.texts.remindNote(r.L, booked, now)
	if err := f.tx.Edit(ctx, r, r.L.T(textID, data)+f.texts.anonymousNote(r.L, booked), confirmedKeyboard(r.L, booked)); err != nil {
		return err
	}
	if err := f.sendICS(ctx, r, booked, moving); err != nil {
		f.log.Warn("send calendar file", "chat_id", r.ChatID, "booking_id", booked.ID, "err", err)
	}
	if moving {
		f.staff.notifyStaffLater(booked, staffRescheduled, old)
	} else {
		f.staff.notifyStaffLater(booked, staffNew, storage.Booking{})
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
func (f *booking) endBooking(ctx context.Context, r *tg.Request, textID string) error {
	if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
		return err
	}
	f.tx.Answer(ctx, r, "")
	return f.tx.Edit(ctx, r, r.L.T(textID), nil)
}

// offerNearest tells the person their time (lost) is gone and offers the
// nearest free times of the same center and type after it. The free times
// are read here, after the write that failed: free times read before it,
// when the race was still on, hold the very time just lost. The lost time
// is left out even if it freed up meanwhile, since the text says it was
// taken.
func (f *booking) offerNearest(ctx context.Context, r *tg.Request, d bookDialog, lost time.Time, textID string) error {
	o, avail, err := f.slots.offerFor(ctx, d.State.CenterID, d.State.TypeID)
	if err != nil {
		return err
	}
	if !avail {
		return f.bookUnavailable(ctx, r)
	}
	o = o.without(lost)
	d.Step = stepTime
	d.State.Day, d.State.Slot = catalog.Date{}, time.Time{}
	if err := f.save(ctx, d); err != nil {
		return err
	}
	tok := d.Token
	near := o.from(lost, 6)
	if len(near) == 0 {
		near = o.from(time.Time{}, 6)
	}
	var rows [][]tgbotapi.InlineKeyboardButton
	for _, s := range near {
		st := s.Start.In(f.cfg.Location)
		label := r.L.T(locales.BookDayLabel, locales.Data{"Weekday": r.L.Weekday(st), "Date": r.L.ShortDate(st)}) + " " + r.L.Clock(st)
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(label, cbBookSlot, tok, tg.I36(s.Start.Unix()))))
	}
	text := r.L.T(textID)
	if len(near) == 0 {
		text = r.L.T(locales.BookSlotTakenNone)
	}
	rows = append(rows, f.navRow(r.L, d, stepDay))
	f.tx.Answer(ctx, r, "")
	kb := tgbotapi.NewInlineKeyboardMarkup(rows...)
	return f.tx.Edit(ctx, r, text, &kb)
}

// navRow is the "back" and "cancel" row of a step.
func (f *booking) navRow(l *locales.Localizer, d bookDialog, back string) []tgbotapi.InlineKeyboardButton {
	tok := d.Token
	quit := button(l.T(locales.ButtonCancel), cbBookQuit, tok)
	if back == "" {
		return tgbotapi.NewInlineKeyboardRow(quit)
	}
	return tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonBack), cbBookBack, tok, back), quit)
}

// bookChoice resolves the dialogue's type and center in the catalog.
func (f *booking) bookChoice(s bookingState) (catalog.ConsultationType, catalog.Center, error) {
	typ, ok := f.catalog().Type(s.TypeID)
	if !ok {
		return typ, catalog.Center{}, errUnavailable
	}
	center, ok := f.catalog().Center(s.CenterID)
	if !ok || !center.IsOpen() {
		return typ, center, errUnavailable
	}
	if _, ok := f.catalog().ScheduleFor(center.ID, typ.ID); !ok {
		return typ, center, errUnavailable
	}
	return typ, center, nil
}

// bookCenters lists the open centers offering a type, nearest first when
// the person shared a location, the online desk last.
func (f *booking) bookCenters(u storage.User, typeID string) []catalog.Center {
	offering := f.catalog().CentersOffering(typeID)
	places := make([]catalog.Center, 0, len(offering))
	var online []catalog.Center
	for _, c := range offering {
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
func (f *booking) renderBookStep(ctx context.Context, r *tg.Request, d bookDialog) (string, *tgbotapi.InlineKeyboardMarkup, error) {
	l := r.L
	tok := d.Token
	loc := f.cfg.Location
	var rows [][]tgbotapi.InlineKeyboardButton
	kb := func() *tgbotapi.InlineKeyboardMarkup {
		m := tgbotapi.NewInlineKeyboardMarkup(rows...)
		return &m
	}
	if d.Step == stepType {
		types := f.catalog().Types
		if d.State.AtCenter {
			types = f.centerTypes(d.State.CenterID)
		}
		for _, t := range types {
			if f.catalog().OpenCenterOffers(t.ID) {
				rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(typeLabel(l, t), cbBookType, tok, t.ID)))
			}
		}
		text := l.T(locales.BookChooseType)
		if len(rows) == 0 {
			text = l.T(locales.BookNoTypes)
		}
		rows = append(rows, f.navRow(l, d, ""))
		return text, kb(), nil
	}
	typ, ok := f.catalog().Type(d.State.TypeID)
	if !ok {
		return "", nil, errUnavailable
	}
	typeText := "<b>" + esc(typeLabel(l, typ)) + "</b>"
	if d.Step == stepCenter {
		centers := f.bookCenters(r.User, typ.ID)
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
		rows = append(rows, f.navRow(l, d, stepType))
		return text, kb(), nil
	}
	_, center, err := f.bookChoice(d.State)
	if err != nil {
		return "", nil, err
	}
	o, avail, err := f.slots.offerFor(ctx, center.ID, typ.ID)
	if err != nil {
		return "", nil, err
	}
	if !avail {
		return "", nil, errUnavailable
	}
	data := locales.Data{"Type": typeText, "Place": esc(center.Name.In(l.Lang()))}
	resched := d.State.moving()
	dayBack := stepCenter
	if d.State.AtCenter {
		dayBack = stepType
	}
	if resched {
		dayBack = ""
	}
	switch d.Step {
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
			text = l.N(locales.BookNoDays, f.cfg.BookingDays, data)
		}
		if resched {
			text = l.T(locales.BookRescheduleHint) + "\n\n" + text
		} else if sos := helpLinesRow(l, typ.ID); sos != nil && d.State.AtCenter {
			// Begun on a center's card, the dialogue skips the place step,
			// the one that shows the 🆘 button otherwise.
			rows = append(rows, sos)
		}
		rows = append(rows, f.navRow(l, d, dayBack))
		return text, kb(), nil
	case stepTime:
		day := d.State.Day
		if day == (catalog.Date{}) {
			d.Step = stepDay
			return f.renderBookStep(ctx, r, d)
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
		rows = append(rows, f.navRow(l, d, stepDay))
		return text, kb(), nil
	case stepSummary, stepPhone:
		if d.State.Slot.IsZero() {
			d.Step = stepDay
			return f.renderBookStep(ctx, r, d)
		}
		start := d.State.Slot.In(loc)
		phone := ""
		if r.User.PhoneConsent && r.User.Phone != "" && !resched && !f.hidesName(d.State) {
			phone = "\n" + l.T(locales.BookPhoneLine, locales.Data{"Phone": esc(r.User.Phone)})
		}
		data["Address"] = esc(f.texts.addressOf(l, f.texts.cards.shownCenter(center).Center))
		data["When"] = esc(l.DateTime(start))
		data["Phone"] = phone
		confirm := locales.BookConfirm
		if resched {
			confirm = locales.BookConfirmMove
		}
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(confirm), cbBookConfirm, tok)))
		rows = append(rows, f.navRow(l, d, f.summaryBack(d.State)))
		return l.T(locales.BookSummary, data), kb(), nil
	case stepAnon:
		text, anonKB := f.renderAnonStep(l, d)
		return text, anonKB, nil
	}
	return "", nil, errUnavailable
}

// bookingTexts says a booking to people and staff: its place, time and
// type, the reminders ahead, the code of an anonymous one. Booking, "My
// bookings", reminders, feedback and the staff's lists share it.
type bookingTexts struct {
	cat   func() *catalog.Catalog
	cfg   Config
	cards cardShower
}

// cardShower gives a center as people see it, with what its staff set on
// its card (cards.go).
type cardShower interface {
	shownCenter(c catalog.Center) catalog.Card
}

// addressOf is the center's address, "online" for the online desk, or
// "ask the center" when the catalog does not know it: never invented.
func (bt *bookingTexts) addressOf(l *locales.Localizer, c catalog.Center) string {
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
func (bt *bookingTexts) bookingData(l *locales.Localizer, bk storage.Booking) locales.Data {
	d := locales.Data{"When": esc(l.DateTime(bk.Start.In(bt.cfg.Location)))}
	if t, ok := bt.cat().Type(bk.TypeID); ok {
		d["Type"] = "<b>" + esc(typeLabel(l, t)) + "</b>"
		d["Bring"] = esc(t.Bring.In(l.Lang()))
		if t.Bring.IsZero() {
			d["Bring"] = esc(l.T(locales.AskTheCenter))
		}
	} else {
		d["Type"], d["Bring"] = esc(bk.TypeID), esc(l.T(locales.AskTheCenter))
	}
	if c, ok := bt.cat().Center(bk.CenterID); ok {
		c = bt.cards.shownCenter(c).Center
		d["Place"] = esc(c.Name.In(l.Lang()))
		d["Address"] = esc(bt.addressOf(l, c))
	} else {
		d["Place"], d["Address"] = esc(bk.CenterID), esc(l.T(locales.AskTheCenter))
	}
	return d
}

// sendICS sends the "add to calendar" file of a booking.
func (f *booking) sendICS(ctx context.Context, r *tg.Request, bk storage.Booking, moved bool) error {
	l := r.L
	summary, place, desc := bk.TypeID, bk.CenterID, ""
	if t, ok := f.catalog().Type(bk.TypeID); ok {
		summary = t.Name.In(l.Lang())
		desc = t.Bring.In(l.Lang())
	}
	if c, ok := f.catalog().Center(bk.CenterID); ok {
		place = c.Name.In(l.Lang()) + ", " + f.texts.addressOf(l, f.texts.cards.shownCenter(c).Center)
		if t, ok := f.catalog().Type(bk.TypeID); ok && t.Discreet {
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
		Summary: summary, Location: place, Description: desc, Stamp: f.now(),
	}, f.cfg.Location)
	doc := tgbotapi.NewDocument(r.ChatID, tgbotapi.FileBytes{Name: fmt.Sprintf("jastar-%d.ics", bk.ID), Bytes: data})
	doc.Caption = l.T(locales.BookIcsCaption)
	_, err := f.docs.Send(ctx, r.ChatID, doc)
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

// beginMove starts the dialogue at the day step for the same type and
// center as bk, to move it; bk keeps its time until the new one is
// confirmed. It is "My bookings"' reschedule button.
func (f *booking) beginMove(ctx context.Context, r *tg.Request, bk storage.Booking) error {
	d := newDialogue[bookingState](r.ChatID, flowBook, stepDay, f.now())
	d.State.TypeID, d.State.CenterID, d.State.Resched = bk.TypeID, bk.CenterID, bk.ID
	text, kb, err := f.renderBookStep(ctx, r, d)
	if errors.Is(err, errUnavailable) {
		f.tx.Answer(ctx, r, r.L.T(locales.BookUnavailable))
		return nil
	}
	if err != nil {
		return err
	}
	if err := f.save(ctx, d); err != nil {
		return err
	}
	f.tx.Answer(ctx, r, "")
	_, err = f.tx.Reply(ctx, r, text, kb)
	return err
}
