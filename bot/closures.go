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

// Closing time (issue 16): staff pick a consultation type (or all), a day,
// a part of it or a range of days, and a reason; a preview says whom it
// touches; on confirm the store closes the time and cancels the bookings
// inside it in one transaction (AddClosure), and each person is told in
// their own language with buttons of the three nearest free times
// (catalog.Rebook), one tap to rebook through the normal booking rules.
// Closures still in the future can be reopened; their cancelled bookings
// stay cancelled.
const flowClose = "close"

// Steps of the closing dialogue; the dialogue's state lives in the
// conversation, so its buttons carry only the token and the choice.
const (
	stepCloseType    = "type"
	stepCloseDay     = "day"
	stepClosePart    = "part"
	stepCloseHours   = "hours" // a typed "14:00-18:00"
	stepCloseEnd     = "end"
	stepCloseReason  = "reason"
	stepClosePreview = "preview"
)

// closeState is what the closing dialogue has chosen so far.
type closeState struct {
	Center string       `json:"center,omitempty"`
	Type   string       `json:"type,omitempty"` // a type id, or allTypes
	Day    catalog.Date `json:"day"`            // the (first) day, zero until chosen
	// From and To are the closed span, zero until chosen.
	From   time.Time             `json:"from"`
	To     time.Time             `json:"to"`
	Reason storage.ClosureReason `json:"reason,omitempty"`
}

// centerID is the center the dialogue is about.
func (s closeState) centerID() string { return s.Center }

// allTypes is the type of a closure of every type (cls:<tok>:t:_).
const allTypes = "_"

// hasDay reports whether the day is chosen.
func (s closeState) hasDay() bool { return s.Day != (catalog.Date{}) }

// closeDialogue is the closing dialogue.
type closeDialogue = dialogue[closeState]

// Parts of a day (cls:<tok>:p:<part>): the whole day, the morning (until
// 13:00), the afternoon (from 13:00), hours typed, or until another day.
const (
	partDay       = "w"
	partMorning   = "m"
	partAfternoon = "a"
	partHours     = "h"
	partRange     = "r"
	middayClock   = 13 * 60
)

// rebookOffers is how many free times a cancelled person is offered.
const rebookOffers = 3

// closureStore is what closing time reads and writes.
type closureStore interface {
	dialogueStore
	AddClosure(ctx context.Context, c storage.Closure, now time.Time) (storage.Closure, []storage.Booking, error)
	PreviewClosure(ctx context.Context, c storage.Closure, now time.Time) ([]storage.Booking, error)
	Reopen(ctx context.Context, id uint64, by int64, now time.Time) (storage.Closure, error)
	Closure(ctx context.Context, id uint64) (storage.Closure, error)
	Closures(ctx context.Context, centerIDs []string, from, to time.Time) ([]storage.Closure, error)
	Booking(ctx context.Context, id uint64) (storage.Booking, error)
	BookingsOf(ctx context.Context, chatID int64, from time.Time) ([]storage.Booking, error)
	Book(ctx context.Context, b storage.Booking, rules storage.BookRules) (storage.Booking, error)
}

// rebookSlots finds where the people of a closed day can go, as booking
// does (slotFinder, slots.go).
type rebookSlots interface {
	offerFor(ctx context.Context, centerID, typeID string) (offer, bool, error)
	slotRules(ctx context.Context, centerID, typeID string, start time.Time) (int, time.Time, bool, error)
}

// rebookTexts says a booking as booking does (bookingTexts, booking.go).
type rebookTexts interface {
	bookingData(l *locales.Localizer, bk storage.Booking) locales.Data
	remindNote(l *locales.Localizer, bk storage.Booking, now time.Time) string
}

// staffNotices is what closing time asks of the staff side (staff.go).
type staffNotices interface {
	notifyStaffLater(bk storage.Booking, ev staffEvent, old storage.Booking)
	// staffWho names the person of a booking for staff: the code of an
	// anonymous booking, never its name.
	staffWho(l *locales.Localizer, bk storage.Booking) string
}

// closures is the feature: /close, the dialogue, reopening, and the
// rebooking buttons of the people it touched.
type closures struct {
	kit
	store closureStore
	slots rebookSlots
	texts rebookTexts
	staff staffNotices
}

// handleClose: /close. One center run: straight to the type; several (an
// admin): which center.
func (f *closures) handleClose(ctx context.Context, r *tg.Request) error {
	cat := f.catalog()
	centers := f.centersRunBy(cat, fromID(r))
	if len(centers) == 0 {
		return f.refuseCenter(ctx, r, "", "close")
	}
	d := newDialogue[closeState](r.ChatID, flowClose, stepCloseType, f.now())
	if len(centers) == 1 {
		d.State.Center = centers[0].ID
	}
	if err := saveDialogue(ctx, f.store, d, f.now()); err != nil {
		return err
	}
	text, kb := f.render(r.L, cat, d)
	_, err := f.tx.Reply(ctx, r, text, kb)
	return err
}

// handleBegin: clb:<center>, "close time" on the card editor.
func (f *closures) handleBegin(ctx context.Context, r *tg.Request) error {
	return beginAtCenter(ctx, f.kit, f.store, r, flowClose, stepCloseType, "close", func(center string) closeState { return closeState{Center: center} }, f.render)
}

// handleStep: cls:<tok>:<op>[:<arg>], every button of the dialogue.
func (f *closures) handleStep(ctx context.Context, r *tg.Request) error {
	conv, ok, err := staffDialogue[closeState](ctx, f.kit, f.store, r, flowClose, r.Data.Arg(0))
	if !ok || err != nil {
		return err
	}
	cat := f.catalog()
	op, arg := r.Data.Arg(1), r.Data.Arg(2)
	if op == "q" {
		if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
			return err
		}
		f.tx.Answer(ctx, r, "")
		return f.tx.Edit(ctx, r, r.L.T(locales.Cancelled), nil)
	}
	if op == "c" {
		conv.State.Center = arg
		conv.Step = stepCloseType
	}
	// Every step acts on the dialogue's center: checked on each press, so
	// a forged center, or rights taken away meanwhile, change nothing.
	center := conv.State.Center
	if !f.runs(cat, fromID(r), center) {
		return f.refuseCenter(ctx, r, center, "close")
	}
	loc := cat.Location()
	switch op {
	case "c":
	case "t":
		if _, known := cat.Type(arg); arg != allTypes && (!known || !slices.Contains(closableTypes(cat, center), arg)) {
			f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
			return nil
		}
		conv.State.Type = arg
		conv.Step = stepCloseDay
	case "d":
		d, ok := parseDayArg(arg)
		if !ok {
			f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
			return nil
		}
		conv.State.Day = d
		conv.Step = stepClosePart
	case "p":
		d := conv.State.Day
		if !conv.State.hasDay() || conv.Step != stepClosePart {
			f.tx.Answer(ctx, r, r.L.T(locales.StaffStepStale))
			return nil
		}
		switch arg {
		case partDay:
			f.span(&conv, d.At(0, loc), nextDay(d, loc))
		case partMorning:
			f.span(&conv, d.At(0, loc), d.At(middayClock, loc))
		case partAfternoon:
			f.span(&conv, d.At(middayClock, loc), nextDay(d, loc))
		case partHours:
			conv.Step = stepCloseHours
		case partRange:
			conv.Step = stepCloseEnd
		default:
			f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
			return nil
		}
	case "e":
		start := conv.State.Day
		end, ok := parseDayArg(arg)
		if !conv.State.hasDay() || !ok || conv.Step != stepCloseEnd || !end.At(0, loc).After(start.At(0, loc)) {
			f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
			return nil
		}
		f.span(&conv, start.At(0, loc), nextDay(end, loc))
	case "y":
		if !slices.Contains(storage.ClosureReasons, storage.ClosureReason(arg)) || conv.Step != stepCloseReason {
			f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
			return nil
		}
		conv.State.Reason = storage.ClosureReason(arg)
		conv.Step = stepClosePreview
	case "ok":
		if conv.Step != stepClosePreview {
			f.tx.Answer(ctx, r, r.L.T(locales.StaffStepStale))
			return nil
		}
		return f.confirm(ctx, r, cat, conv)
	default:
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	if err := saveDialogue(ctx, f.store, conv, f.now()); err != nil {
		return err
	}
	f.tx.Answer(ctx, r, "")
	if conv.Step == stepClosePreview {
		return f.preview(ctx, r, cat, conv)
	}
	text, kb := f.render(r.L, cat, conv)
	return f.tx.Edit(ctx, r, text, kb)
}

// span sets the closed time and moves on to the reason.
func (f *closures) span(conv *closeDialogue, from, to time.Time) {
	conv.State.From, conv.State.To = from, to
	conv.Step = stepCloseReason
}

// handleHoursStep takes the typed hours "14:00-18:00" of the chosen day.
func (f *closures) handleHoursStep(ctx context.Context, r *tg.Request, stored storage.Conversation) error {
	conv, ok, err := staffTextStep[closeState](ctx, f.kit, f.store, r, stored, stepCloseHours, "close")
	if !ok || err != nil {
		return err
	}
	cat := f.catalog()
	d := conv.State.Day
	open, end, okHours := parseHours(r.Message.Text)
	if !conv.State.hasDay() || !okHours {
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.StaffBadHours), nil)
		return err
	}
	loc := cat.Location()
	f.span(&conv, d.At(open, loc), d.At(end, loc))
	if err := saveDialogue(ctx, f.store, conv, f.now()); err != nil {
		return err
	}
	text, kb := f.render(r.L, cat, conv)
	_, err = f.tx.Reply(ctx, r, text, kb)
	return err
}

// parseHours reads "14:00-18:00" (or with an en dash, or spaces): a start
// before an end, within one day.
func parseHours(s string) (from, to catalog.Clock, ok bool) {
	s = strings.NewReplacer("–", "-", "—", "-", " ", "", ".", ":").Replace(strings.TrimSpace(s))
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	from, err1 := catalog.ParseClock(a)
	if b == "24:00" {
		b, to = "", 24*60
	}
	var err2 error
	if b != "" {
		to, err2 = catalog.ParseClock(b)
	}
	return from, to, err1 == nil && err2 == nil && to > from
}

func nextDay(d catalog.Date, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day+1, 0, 0, 0, 0, loc)
}

// closableTypes are the types a center offers, which it can close.
func closableTypes(cat *catalog.Catalog, centerID string) []string {
	c, _ := cat.Center(centerID)
	var out []string
	for _, s := range c.Schedules {
		out = append(out, s.Type)
	}
	return out
}

// closureOf is the closure the dialogue describes.
func closureOf(s closeState, by int64) storage.Closure {
	typ := s.Type
	if typ == allTypes {
		typ = ""
	}
	return storage.Closure{CenterID: s.Center, TypeID: typ, From: s.From, To: s.To, Reason: s.Reason, By: by}
}

// render is the text and buttons of the dialogue's current step.
func (f *closures) render(l *locales.Localizer, cat *catalog.Catalog, conv closeDialogue) (string, *tgbotapi.InlineKeyboardMarkup) {
	tok := conv.Token
	quit := tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonCancel), cbClose, tok, "q"))
	center, ok := cat.Center(conv.State.Center)
	var rows [][]tgbotapi.InlineKeyboardButton
	if !ok {
		for _, c := range f.centersRunBy(cat, conv.ChatID) {
			rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(c.Name.In(l.Lang()), cbClose, tok, "c", c.ID)))
		}
		rows = append(rows, quit)
		kb := tgbotapi.NewInlineKeyboardMarkup(rows...)
		return l.T(locales.CloseChooseCenter), &kb
	}
	head := closeHead(l, cat, center, conv.State)
	loc := cat.Location()
	var text string
	switch conv.Step {
	case stepCloseType:
		text = l.T(locales.CloseChooseType, head)
		for _, id := range closableTypes(cat, center.ID) {
			if t, ok := cat.Type(id); ok {
				rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(typeLabel(l, t), cbClose, tok, "t", id)))
			}
		}
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.CloseAllTypes), cbClose, tok, "t", allTypes)))
	case stepCloseDay:
		text = l.T(locales.CloseChooseDay, head)
		rows = f.dayRows(l, cat, localDay(cat, f.now()), cbClose, tok, "d")
	case stepClosePart:
		text = l.T(locales.CloseChoosePart, head)
		rows = [][]tgbotapi.InlineKeyboardButton{
			{button(l.T(locales.ClosePartDay), cbClose, tok, "p", partDay)},
			{button(l.T(locales.ClosePartMorning), cbClose, tok, "p", partMorning), button(l.T(locales.ClosePartAfternoon), cbClose, tok, "p", partAfternoon)},
			{button(l.T(locales.ClosePartHours), cbClose, tok, "p", partHours), button(l.T(locales.ClosePartRange), cbClose, tok, "p", partRange)},
		}
	case stepCloseHours:
		text = l.T(locales.CloseAskHours, head)
	case stepCloseEnd:
		text = l.T(locales.CloseChooseEnd, head)
		rows = f.dayRows(l, cat, catalog.DateOf(nextDay(conv.State.Day, loc)), cbClose, tok, "e")
	case stepCloseReason:
		text = l.T(locales.CloseChooseReason, head)
		for _, why := range storage.ClosureReasons {
			rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(reasonLabel(why)), cbClose, tok, "y", string(why))))
		}
	}
	rows = append(rows, quit)
	kb := tgbotapi.NewInlineKeyboardMarkup(rows...)
	return text, &kb
}

// closeHead is the template data of what the dialogue has chosen so far.
func closeHead(l *locales.Localizer, cat *catalog.Catalog, center catalog.Center, s closeState) locales.Data {
	d := locales.Data{"Center": esc(center.Name.In(l.Lang())), "Type": esc(l.T(locales.CloseAllTypes)), "When": "", "Reason": ""}
	if t, ok := cat.Type(s.Type); ok {
		d["Type"] = esc(typeLabel(l, t))
	}
	loc := cat.Location()
	if s.hasDay() {
		d["When"] = esc(l.Date(s.Day.At(12*60, loc)))
	}
	if !s.To.IsZero() {
		d["When"] = esc(spanText(l, loc, s.From, s.To))
	}
	if s.Reason != "" {
		d["Reason"] = esc(l.T(reasonLabel(s.Reason)))
	}
	return d
}

// spanText shows a closed span: "3 декабря, четверг, 14:00–18:00", a whole
// day as the date alone, several days as "3 декабря, четверг – 5 декабря,
// суббота".
func spanText(l *locales.Localizer, loc *time.Location, from, to time.Time) string {
	from, to = from.In(loc), to.In(loc)
	last := to.Add(-time.Nanosecond)
	fromDay, lastDay := catalog.DateOf(from), catalog.DateOf(last)
	wholeDays := from.Equal(fromDay.At(0, loc)) && to.Equal(nextDay(lastDay, loc))
	switch {
	case wholeDays && fromDay == lastDay:
		return l.Date(from)
	case wholeDays:
		return l.Date(from) + " – " + l.Date(last)
	case fromDay == lastDay:
		end := l.Clock(to)
		if to.Equal(nextDay(lastDay, loc)) {
			end = "24:00"
		}
		return l.Date(from) + ", " + l.Clock(from) + "–" + end
	}
	return l.DateTime(from) + " – " + l.DateTime(to)
}

// dayRows are day buttons (prefix:tok:op:<yyyymmdd>) from first on, over
// the booking window, two to a row: "today" and "tomorrow" by name.
func (k kit) dayRows(l *locales.Localizer, cat *catalog.Catalog, first catalog.Date, prefix, tok, op string) [][]tgbotapi.InlineKeyboardButton {
	loc := cat.Location()
	today := localDay(cat, k.now())
	var rows [][]tgbotapi.InlineKeyboardButton
	var row []tgbotapi.InlineKeyboardButton
	for i := range max(k.cfg.BookingDays, 7) {
		t := time.Date(first.Year, first.Month, first.Day+i, 12, 0, 0, 0, loc)
		d := catalog.DateOf(t)
		label := l.T(locales.BookDayLabel, locales.Data{"Weekday": l.Weekday(t), "Date": l.ShortDate(t)})
		switch d {
		case today:
			label = l.T(locales.CloseToday)
		case catalog.DateOf(time.Date(today.Year, today.Month, today.Day+1, 12, 0, 0, 0, loc)):
			label = l.T(locales.CloseTomorrow)
		}
		row = append(row, button(label, prefix, tok, op, dayArg(d)))
		if len(row) == 2 {
			rows, row = append(rows, row), nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	return rows
}

// reasonLabel is the message of a reason's button, which staff and the
// change log read.
func reasonLabel(r storage.ClosureReason) string {
	switch r {
	case storage.ReasonIllness:
		return locales.ClosureReasonIllness
	case storage.ReasonTraining:
		return locales.ClosureReasonTraining
	case storage.ReasonEventInHall:
		return locales.ClosureReasonEvent
	}
	return locales.ClosureReasonOther
}

// personReason is how a reason reads to the person whose booking it
// cancelled.
func personReason(r storage.ClosureReason) string {
	switch r {
	case storage.ReasonIllness:
		return locales.ClosureWhyIllness
	case storage.ReasonTraining:
		return locales.ClosureWhyTraining
	case storage.ReasonEventInHall:
		return locales.ClosureWhyEvent
	}
	return locales.ClosureWhyOther
}

// maxListed is how many touched bookings a preview names; the rest are
// counted.
const maxListed = 20

// preview says how many bookings the closure touches and whose, before
// staff confirm.
func (f *closures) preview(ctx context.Context, r *tg.Request, cat *catalog.Catalog, conv closeDialogue) error {
	c := closureOf(conv.State, fromID(r))
	touched, err := f.store.PreviewClosure(ctx, c, f.now())
	if errors.Is(err, storage.ErrInvalid) {
		return f.tx.Edit(ctx, r, r.L.T(locales.CloseInPast), nil)
	}
	if err != nil {
		return fmt.Errorf("preview closure of %s: %w", c.CenterID, err)
	}
	center, _ := cat.Center(c.CenterID)
	d := closeHead(r.L, cat, center, conv.State)
	d["Text"] = touchedText(r.L, cat, touched, f.staff.staffWho)
	tok := conv.Token
	kb := tgbotapi.NewInlineKeyboardMarkup(
		tgbotapi.NewInlineKeyboardRow(button(r.L.T(locales.CloseConfirm), cbClose, tok, "ok")),
		tgbotapi.NewInlineKeyboardRow(button(r.L.T(locales.ButtonCancel), cbClose, tok, "q")),
	)
	return f.tx.Edit(ctx, r, r.L.T(locales.ClosePreview, d), &kb)
}

// touchedText lists the bookings a closure cancels, for staff.
func touchedText(l *locales.Localizer, cat *catalog.Catalog, touched []storage.Booking, who func(*locales.Localizer, storage.Booking) string) string {
	if len(touched) == 0 {
		return l.T(locales.CloseTouchesNone)
	}
	lines := []string{l.N(locales.CloseTouches, len(touched))}
	for i, bk := range touched {
		if i == maxListed {
			lines = append(lines, l.N(locales.CloseTouchesMore, len(touched)-maxListed))
			break
		}
		what := bk.TypeID
		if t, ok := cat.Type(bk.TypeID); ok {
			what = typeLabel(l, t)
		}
		lines = append(lines, "• "+esc(l.DateTime(bk.Start.In(cat.Location())))+" · "+who(l, bk)+" · "+esc(what))
	}
	return strings.Join(lines, "\n")
}

// confirm closes the time: the store cancels the bookings inside it in the
// same transaction, then each person is told once. The dialogue ends
// before anyone is told, so a second press of "close" finds it gone.
func (f *closures) confirm(ctx context.Context, r *tg.Request, cat *catalog.Catalog, conv closeDialogue) error {
	now := f.now()
	c, cancelled, err := f.store.AddClosure(ctx, closureOf(conv.State, fromID(r)), now)
	if errors.Is(err, storage.ErrInvalid) {
		f.tx.Answer(ctx, r, "")
		return f.tx.Edit(ctx, r, r.L.T(locales.CloseInPast), nil)
	}
	if err != nil {
		return fmt.Errorf("close time of %s: %w", conv.State.Center, err)
	}
	f.log.Info("time closed", "closure_id", c.ID, "center_id", c.CenterID, "user_id", c.By, "cancelled", len(cancelled))
	if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
		f.log.Warn("end closing dialogue", "chat_id", r.ChatID, "err", err)
	}
	f.tx.Answer(ctx, r, "🔒")
	center, _ := cat.Center(c.CenterID)
	d := closeHead(r.L, cat, center, conv.State)
	d["Text"] = r.L.N(locales.CloseDone, len(cancelled))
	if err := f.tx.Edit(ctx, r, r.L.T(locales.CloseClosed, d), nil); err != nil {
		f.log.Warn("show closure done", "chat_id", r.ChatID, "err", err)
	}
	f.tellCancelled(ctx, cat, c.Reason, cancelled)
	return nil
}

// tellCancelled tells each person whose booking the center cancelled, in
// their language, with the nearest free times to rebook. The free times
// are read after the cancellation, per type and center once for all.
func (f *closures) tellCancelled(ctx context.Context, cat *catalog.Catalog, why storage.ClosureReason, cancelled []storage.Booking) {
	free := map[string]map[string][]slot{} // type -> center -> free slots
	for _, bk := range cancelled {
		if bk.ChatID <= 0 {
			continue // anonymised: nobody to tell
		}
		if err := f.tellOne(ctx, cat, why, bk, free); err != nil {
			f.log.Error("tell a person of a cancellation by the center", "chat_id", bk.ChatID, "booking_id", bk.ID, "err", err)
		}
	}
}

func (f *closures) tellOne(ctx context.Context, cat *catalog.Catalog, why storage.ClosureReason, bk storage.Booking, free map[string]map[string][]slot) error {
	offers, err := f.offers(ctx, cat, bk, free)
	if err != nil {
		return err
	}
	l := f.loc.For(string(bk.Lang))
	text, kb := f.cancelledText(l, cat, why, bk, offers, locales.ClosureRebookPrompt)
	_, err = f.tx.SendText(ctx, bk.ChatID, text, kb)
	return err
}

// cancelledText is the cancellation a person reads, with their offers.
func (f *closures) cancelledText(l *locales.Localizer, cat *catalog.Catalog, why storage.ClosureReason, bk storage.Booking, offers []catalog.Rebooking, prompt string) (string, any) {
	d := f.texts.bookingData(l, bk)
	d["Reason"] = esc(l.T(personReason(why)))
	d["Text"] = l.T(prompt)
	if len(offers) == 0 {
		d["Text"] = l.T(locales.ClosureRebookNone)
		return l.T(locales.ClosureCancelled, d), nil
	}
	return l.T(locales.ClosureCancelled, d), rebookKeyboard(l, cat, bk, offers)
}

// rebookKeyboard is a button per offered time: rbk:<booking>:<center>:<start>.
func rebookKeyboard(l *locales.Localizer, cat *catalog.Catalog, bk storage.Booking, offers []catalog.Rebooking) tgbotapi.InlineKeyboardMarkup {
	var rows [][]tgbotapi.InlineKeyboardButton
	for _, o := range offers {
		st := o.Slot.Start.In(cat.Location())
		place := o.Center.Settlement.In(l.Lang())
		if o.Center.Online || place == "" {
			place = o.Center.Name.In(l.Lang())
		}
		label := l.ShortDate(st) + ", " + l.Clock(st) + " · " + place
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(label, cbRebook, tg.B36(bk.ID), o.Center.ID, tg.I36(o.Slot.Start.Unix()))))
	}
	return tgbotapi.NewInlineKeyboardMarkup(rows...)
}

// offers are the nearest free times of bk's type for its person
// (catalog.Rebook), less the times they hold another booking at. free
// caches the free slots read, by type and center.
func (f *closures) offers(ctx context.Context, cat *catalog.Catalog, bk storage.Booking, free map[string]map[string][]slot) ([]catalog.Rebooking, error) {
	byCenter, ok := free[bk.TypeID]
	if !ok {
		byCenter = map[string][]slot{}
		for _, c := range cat.CentersOffering(bk.TypeID) {
			o, avail, err := f.slots.offerFor(ctx, c.ID, bk.TypeID)
			if err != nil {
				return nil, err
			}
			if avail {
				byCenter[c.ID] = o.slots
			}
		}
		free[bk.TypeID] = byCenter
	}
	mine, err := f.store.BookingsOf(ctx, bk.ChatID, f.now())
	if err != nil {
		return nil, fmt.Errorf("bookings of %d: %w", bk.ChatID, err)
	}
	var busy []time.Time
	for _, m := range mine {
		if m.Active() {
			busy = append(busy, m.Start)
		}
	}
	return cat.Rebook(bk, byCenter, busy, rebookOffers), nil
}

// handleRebook: rbk:<booking>:<center>:<start>, one tap to book a time
// offered after the center cancelled the booking. The booking must be the
// presser's and cancelled by the center; it books through the store's
// rules like any booking, and a time taken meanwhile gets fresh offers.
func (f *closures) handleRebook(ctx context.Context, r *tg.Request) error {
	id, err1 := r.Data.ID(0)
	centerID := r.Data.Arg(1)
	unix, err2 := r.Data.Int(2)
	bk, err := f.store.Booking(ctx, id)
	why, byCenter := storage.ClosureCancel(bk.CancelReason)
	if err1 != nil || err2 != nil || errors.Is(err, storage.ErrNotFound) || bk.ChatID != r.ChatID || !byCenter || bk.Status != storage.BookingCancelled {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	if err != nil {
		return err
	}
	cat := f.catalog()
	now := f.now()
	mine, err := f.store.BookingsOf(ctx, r.ChatID, now)
	if err != nil {
		return fmt.Errorf("bookings of %d: %w", r.ChatID, err)
	}
	// One rebooking per cancelled booking: presses of one chat are handled
	// in order, so a second tap sees the first one's booking.
	for _, m := range mine {
		if m.Active() && m.TypeID == bk.TypeID && !m.CreatedAt.Before(bk.UpdatedAt) {
			f.tx.Answer(ctx, r, r.L.T(locales.ClosureRebookedAlready))
			return nil
		}
	}
	start := time.Unix(unix, 0)
	capacity, end, avail, err := f.slots.slotRules(ctx, centerID, bk.TypeID, start)
	if err != nil {
		return err
	}
	if !avail {
		return f.reoffer(ctx, r, cat, why, bk)
	}
	u := r.User
	rebooked := storage.Booking{
		ChatID: r.ChatID, Name: u.FirstName, Username: u.Username, Phone: phoneIfConsent(u), Lang: u.Lang,
		TypeID: bk.TypeID, CenterID: centerID, Start: start, End: end,
	}
	if bk.Anonymous {
		// The rebooking of an anonymous booking stays anonymous: staff
		// never get the name the person chose to keep from them.
		rebooked.Anonymous, rebooked.Name, rebooked.Username, rebooked.Phone = true, "", "", ""
	}
	booked, err := f.store.Book(ctx, rebooked, storage.BookRules{
		Capacity: capacity, MaxActive: f.cfg.MaxBookings, Now: now,
		NotBefore: now.Add(f.cfg.BookingNotice), Reminders: f.cfg.Reminders,
	})
	switch {
	case errors.Is(err, storage.ErrFull) || errors.Is(err, storage.ErrSlotClosed):
		return f.reoffer(ctx, r, cat, why, bk)
	case errors.Is(err, storage.ErrAlreadyBooked):
		f.tx.Answer(ctx, r, "")
		return f.tx.Edit(ctx, r, r.L.T(locales.BookAlreadyHave), nil)
	case errors.Is(err, storage.ErrLimit):
		f.tx.Answer(ctx, r, "")
		return f.tx.Edit(ctx, r, limitText(r.L, f.cfg.MaxBookings), nil)
	case err != nil:
		return fmt.Errorf("rebook booking %d: %w", bk.ID, err)
	}
	f.metrics.Bookings.WithLabelValues(booked.TypeID, booked.CenterID).Inc()
	f.tx.Answer(ctx, r, "✅")
	data := f.texts.bookingData(r.L, booked)
	data["Note"] = f.texts.remindNote(r.L, booked, now)
	if err := f.tx.Edit(ctx, r, r.L.T(locales.BookConfirmed, data), nil); err != nil {
		return err
	}
	f.staff.notifyStaffLater(booked, staffNew, storage.Booking{})
	return nil
}

// reoffer replaces the offers of a cancellation with fresh ones, read
// after the failed write, when the time pressed was taken meanwhile.
func (f *closures) reoffer(ctx context.Context, r *tg.Request, cat *catalog.Catalog, why storage.ClosureReason, bk storage.Booking) error {
	offers, err := f.offers(ctx, cat, bk, map[string]map[string][]slot{})
	if err != nil {
		return err
	}
	text, kb := f.cancelledText(r.L, cat, why, bk, offers, locales.ClosureRebookTaken)
	f.tx.Answer(ctx, r, r.L.T(locales.ClosureRebookTakenShort))
	if markup, ok := kb.(tgbotapi.InlineKeyboardMarkup); ok {
		return f.tx.Edit(ctx, r, text, &markup)
	}
	return f.tx.Edit(ctx, r, text, nil)
}

// maxReopenListed bounds the closures listed, well within a message.
const maxReopenListed = 10

// handleList: cll:<center>, the center's closures in force that have not
// ended, each with a reopen button.
func (f *closures) handleList(ctx context.Context, r *tg.Request) error {
	return f.sendCenterList(ctx, r, "list closures", f.list)
}

func (f *closures) list(ctx context.Context, l *locales.Localizer, cat *catalog.Catalog, centerID string) (string, tgbotapi.InlineKeyboardMarkup, error) {
	now := f.now()
	list, err := f.store.Closures(ctx, []string{centerID}, now, now.Add(storage.MaxClosureSpan+366*24*time.Hour))
	if err != nil {
		return "", tgbotapi.InlineKeyboardMarkup{}, fmt.Errorf("closures of %s: %w", centerID, err)
	}
	center, _ := cat.Center(centerID)
	lines := []string{l.T(locales.CloseListTitle, locales.Data{"Center": esc(center.Name.In(l.Lang()))})}
	var rows [][]tgbotapi.InlineKeyboardButton
	for i, c := range list[:min(len(list), maxReopenListed)] {
		what := l.T(locales.CloseAllTypes)
		if t, ok := cat.Type(c.TypeID); ok {
			what = typeLabel(l, t)
		}
		lines = append(lines, fmt.Sprintf("%d. %s\n%s · %s", i+1, esc(spanText(l, cat.Location(), c.From, c.To)), esc(what), esc(l.T(reasonLabel(c.Reason)))))
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonReopen, locales.Data{"Count": i + 1}), cbReopen, tg.B36(c.ID))))
	}
	if len(list) == 0 {
		lines = append(lines, l.T(locales.CloseListEmpty))
	}
	return strings.Join(lines, "\n\n"), tgbotapi.NewInlineKeyboardMarkup(rows...), nil
}

// handleReopen: clr:<closure id>. Its center's staff or an admin reopen a
// closure that has not ended; the bookings it cancelled stay cancelled.
func (f *closures) handleReopen(ctx context.Context, r *tg.Request) error {
	c, ok, err := pressed(ctx, f.kit, r, 0, f.store.Closure)
	if !ok || err != nil {
		return err
	}
	id := c.ID
	cat := f.catalog()
	if !f.runs(cat, fromID(r), c.CenterID) {
		return f.refuseCenter(ctx, r, c.CenterID, "reopen")
	}
	_, err = f.store.Reopen(ctx, id, fromID(r), f.now())
	switch {
	case errors.Is(err, storage.ErrInPast):
		f.tx.Alert(ctx, r, r.L.T(locales.ReopenTooLate))
		return nil
	case err != nil:
		return fmt.Errorf("reopen closure %d: %w", id, err)
	}
	f.log.Info("closure reopened", "closure_id", id, "center_id", c.CenterID, "user_id", fromID(r))
	f.tx.Answer(ctx, r, r.L.T(locales.ReopenDone))
	text, kb, err := f.list(ctx, r.L, cat, c.CenterID)
	if err != nil {
		return err
	}
	return f.tx.Edit(ctx, r, r.L.T(locales.ReopenDone)+"\n\n"+text, &kb)
}

// staffWho names the person of a booking for staff (sessions ask it too).
func (f *closures) staffWho(l *locales.Localizer, bk storage.Booking) string {
	return f.staff.staffWho(l, bk)
}
