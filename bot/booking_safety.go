package bot

import (
	"context"
	"errors"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/catalog"
)

// What the safety net (issue 17) adds to the booking dialogue and to what
// staff and the person read of a booking: the step that asks whether the
// center may see the name, the code that stands in for it, the discreet
// wording of sensitive types, the 🆘 button on psychology, and the start
// of a booking at the soonest free slot for the crisis answer (safety.go).

// stepAnon asks, for a type the catalog lets people book anonymously,
// whether the center may see the person's name. It comes after the time,
// before the phone: a person who hides their name is not asked for a
// phone that staff would not see.
const stepAnon = "anon"

// Answers to stepAnon, as the callback argument.
const (
	anonShow = "s"
	anonHide = "h"
)

// psychologyType is the catalog id of the psychologist's consultation, the
// one the safety net offers and marks: the crisis answer books its soonest
// free slot, and its card and confirmation carry the 🆘 button. A catalog
// without it gets the help lines without the offer.
const psychologyType = "psychology"

// asksAnonymity reports whether the dialogue asks stepAnon: a new booking
// of a type with anonymous = true at a place. The online desk is left out:
// its specialist writes to the person in Telegram, which shows who they
// are, so a code could not keep them unknown.
func (f *booking) asksAnonymity(s bookingState) bool {
	if s.moving() {
		return false
	}
	typ, okT := f.catalog().Type(s.TypeID)
	center, okC := f.catalog().Center(s.CenterID)
	return okT && okC && typ.Anonymous && !center.Online
}

// hidesName reports whether the dialogue books anonymously.
func (f *booking) hidesName(s bookingState) bool {
	return s.HideName && f.asksAnonymity(s)
}

// renderAnonStep is stepAnon: the question, the two answers, back to the
// times and cancel.
func (f *booking) renderAnonStep(l *locales.Localizer, d bookDialog) (string, *tgbotapi.InlineKeyboardMarkup) {
	tok := d.Token
	kb := tgbotapi.NewInlineKeyboardMarkup(
		tgbotapi.NewInlineKeyboardRow(button(l.T(locales.AnonymousShowName), cbBookAnon, tok, anonShow)),
		tgbotapi.NewInlineKeyboardRow(button(l.T(locales.AnonymousHideName), cbBookAnon, tok, anonHide)),
		f.navRow(l, d, stepTime),
	)
	return l.T(locales.AnonymousAsk), &kb
}

// summaryBack is the step the summary's "back" returns to: the question of
// anonymity where it was asked, else the times.
func (f *booking) summaryBack(s bookingState) string {
	if f.asksAnonymity(s) {
		return stepAnon
	}
	return stepTime
}

// handleBookAnon: ban:<tok>:<s|h>, the answer to stepAnon. Hiding the name
// goes straight to the summary; showing it goes on as any booking does.
func (f *booking) handleBookAnon(ctx context.Context, r *tg.Request) error {
	d, ok, err := f.bookDialogue(ctx, r)
	if !ok || err != nil {
		return err
	}
	choice := r.Data.Arg(1)
	if d.Step != stepAnon || !f.asksAnonymity(d.State) {
		f.tx.Answer(ctx, r, r.L.T(locales.BookStale))
		return nil
	}
	switch choice {
	case anonHide:
		d.State.HideName = true
		d.Step = stepSummary
		return f.saveStep(ctx, r, d)
	case anonShow:
		d.State.HideName = false
		return f.phoneOrSummary(ctx, r, d)
	}
	f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
	return nil
}

// anonymised is the booking to store for a person who hides their name:
// nothing of them but the chat, which keeps it theirs.
func anonymised(bk storage.Booking) storage.Booking {
	bk.Name, bk.Username, bk.Phone, bk.Anonymous = "", "", "", true
	return bk
}

// anonymousCode is the code of an anonymous booking, with its type's
// letter in the staff's language: the one staff see and the person says.
func (bt *bookingTexts) anonymousCode(bk storage.Booking) string {
	return anonymousCodeIn(bt.cat(), bk, bt.cfg.StaffLang)
}

// anonymousCodeIn is the code of bk with its type's letter in lang.
func anonymousCodeIn(cat *catalog.Catalog, bk storage.Booking, lang string) string {
	letter := ""
	if t, ok := cat.Type(bk.TypeID); ok {
		letter = t.CodeLetter(lang)
	}
	return storage.AnonymousCode(letter, bk.ID)
}

// anonymousWho is what staff read in place of the person of an anonymous
// booking: the code alone, with no link to the chat.
func (bt *bookingTexts) anonymousWho(l *locales.Localizer, bk storage.Booking) (string, bool) {
	if !bk.Anonymous {
		return "", false
	}
	return l.T(locales.StaffAnonymous, locales.Data{"Code": esc(bt.anonymousCode(bk))}), true
}

// anonymousNote is the line that tells the person the code of their
// anonymous booking, after a blank line; "" for any other booking.
func (bt *bookingTexts) anonymousNote(l *locales.Localizer, bk storage.Booking) string {
	if !bk.Anonymous {
		return ""
	}
	return "\n\n" + l.T(locales.AnonymousConfirmed, locales.Data{"Code": esc(bt.anonymousCode(bk))})
}

// discreetReminder is the reminder text id for bk: the discreet wording,
// without the type, for a type with discreet = true, since a phone shows
// the preview of a message to whoever holds it.
func (bt *bookingTexts) discreetReminder(id string, bk storage.Booking) string {
	t, ok := bt.cat().Type(bk.TypeID)
	if !ok || !t.Discreet {
		return id
	}
	switch id {
	case locales.ReminderDayBefore:
		return locales.ReminderDayBeforeDiscreet
	case locales.ReminderSoon:
		return locales.ReminderSoonDiscreet
	}
	return id
}

// staffType is the type of a booking in a notice to a staff group: hidden
// behind a spoiler for a discreet type, which Telegram keeps out of the
// notification preview and the chat list, shown to staff at a tap.
func (bt *bookingTexts) staffType(typeText string, bk storage.Booking) string {
	if t, ok := bt.cat().Type(bk.TypeID); ok && t.Discreet {
		return "<tg-spoiler>" + typeText + "</tg-spoiler>"
	}
	return typeText
}

// helpLinesRow is the 🆘 row of the psychologist's consultation, or nil
// for any other type.
func helpLinesRow(l *locales.Localizer, typeID string) []tgbotapi.InlineKeyboardButton {
	if typeID != psychologyType {
		return nil
	}
	return tgbotapi.NewInlineKeyboardRow(helpLinesButton(l))
}

// confirmedKeyboard is the keyboard of a booking's confirmation: the 🆘
// button for the psychologist's consultation, none otherwise.
func confirmedKeyboard(l *locales.Localizer, bk storage.Booking) *tgbotapi.InlineKeyboardMarkup {
	row := helpLinesRow(l, bk.TypeID)
	if row == nil {
		return nil
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(row)
	return &kb
}

// soonestFree returns the center with the soonest free slot of a type in
// the booking window, and that slot: over every open center that takes
// the type, the online desk too. On a tie the nearer center wins for a
// person who shared a location, the online desk last (bookCenters' order).
func (f *booking) soonestFree(ctx context.Context, u storage.User, typeID string) (catalog.Center, slot, bool, error) {
	var best catalog.Center
	var first slot
	found := false
	for _, c := range f.bookCenters(u, typeID) {
		o, avail, err := f.slots.offerFor(ctx, c.ID, typeID)
		if err != nil {
			return best, first, false, err
		}
		if next := o.from(time.Time{}, 1); avail && len(next) == 1 && (!found || next[0].Start.Before(first.Start)) {
			best, first, found = c, next[0], true
		}
	}
	return best, first, found, nil
}

// hasFreeSlot reports whether any center has a free slot of the type.
func (f *booking) hasFreeSlot(ctx context.Context, u storage.User, typeID string) (bool, error) {
	_, _, ok, err := f.soonestFree(ctx, u, typeID)
	return ok, err
}

// bookSoonest starts the booking dialogue for a type at the center and day
// of its soonest free slot, showing that day's times in a new message, so
// the person is one tap from the soonest time and may take a later one. It
// returns false when no slot is free. A person at the booking limit hears
// so, as /book says it.
func (f *booking) bookSoonest(ctx context.Context, r *tg.Request, typeID string) (bool, error) {
	now := f.now()
	mine, err := f.store.BookingsOf(ctx, r.ChatID, now)
	if err != nil {
		return false, err
	}
	if len(mine) >= f.cfg.MaxBookings {
		_, err := f.tx.Reply(ctx, r, limitText(r.L, len(mine)), f.mainMenu(r.L))
		return true, err
	}
	center, first, ok, err := f.soonestFree(ctx, r.User, typeID)
	if err != nil || !ok {
		return false, err
	}
	d := newDialogue[bookingState](r.ChatID, flowBook, stepTime, now)
	d.State.TypeID, d.State.CenterID = typeID, center.ID
	d.State.Day = catalog.DateOf(first.Start.In(f.cfg.Location))
	text, kb, err := f.renderBookStep(ctx, r, d)
	if errors.Is(err, errUnavailable) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := f.save(ctx, d); err != nil {
		return false, err
	}
	_, err = f.tx.Reply(ctx, r, text, kb)
	return true, err
}
