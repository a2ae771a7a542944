package bot

import (
	"context"
	"errors"
	"fmt"
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

// /mycenter (issue 16): staff see their center's card as young people see
// it and set its fields, each in one short step: the address in both
// languages, the phone, the hours per weekday, the map pin (a location),
// the entrance photo and a short note. What they set is stored, wins over
// the catalog, and shows in every card, list and reminder at once; an
// admin can put a field back to the catalog's value. The editor also
// leads to closing time and extra sessions.
const flowCard = "card"

// The card dialogue's step is the field being set, or stepCardHoursDay
// for one weekday's hours.
const stepCardHoursDay = "hours_day"

// cardState is what the card dialogue keeps: the center, and at
// stepCardHoursDay the weekday whose hours are asked.
type cardState struct {
	Center  string       `json:"center"`
	Weekday time.Weekday `json:"wd,omitempty"`
}

// cardStore is what the card editor reads and writes.
type cardStore interface {
	dialogueStore
	SetCard(ctx context.Context, o storage.CardOverride) (storage.CardOverride, bool, error)
	ResetCard(ctx context.Context, centerID string, field storage.CardField, by int64, now time.Time) (storage.CardOverride, error)
}

// cardDesk is the centers' behaviour the editor reuses (centerGuide).
type cardDesk interface {
	centerCard(l *locales.Localizer, c catalog.Center) (string, tgbotapi.InlineKeyboardMarkup)
	shownCenter(c catalog.Center) catalog.Card
	loadCards(ctx context.Context) error
}

// mycenter is the feature: /mycenter and the card editor.
type mycenter struct {
	kit
	store cardStore
	desk  cardDesk
}

// handleMyCenter: /mycenter. One center run: its editor; several (an
// admin): which center.
func (f *mycenter) handleMyCenter(ctx context.Context, r *tg.Request) error {
	cat := f.catalog()
	centers := f.centersRunBy(cat, fromID(r))
	switch len(centers) {
	case 0:
		return f.refuseCenter(ctx, r, "", "mycenter")
	case 1:
		text, kb := f.editor(r.L, fromID(r), centers[0])
		_, err := f.tx.Reply(ctx, r, text, kb)
		return err
	}
	var rows [][]tgbotapi.InlineKeyboardButton
	for _, c := range centers {
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(c.Name.In(r.L.Lang()), cbMyCenter, c.ID)))
	}
	_, err := f.tx.Reply(ctx, r, r.L.T(locales.MyCenterChoose), tgbotapi.NewInlineKeyboardMarkup(rows...))
	return err
}

// handleOpen: mcc:<center>, the editor of a center.
func (f *mycenter) handleOpen(ctx context.Context, r *tg.Request) error {
	c, ok := f.center(ctx, r, r.Data.Arg(0), "mycenter")
	if !ok {
		return nil
	}
	f.tx.Answer(ctx, r, "")
	text, kb := f.editor(r.L, fromID(r), c)
	_, err := f.tx.SendText(ctx, r.ChatID, text, kb)
	return err
}

// center resolves a center the presser must run; a refusal is answered.
func (f *mycenter) center(ctx context.Context, r *tg.Request, id, action string) (catalog.Center, bool) {
	cat := f.catalog()
	c, ok := cat.Center(id)
	if !ok || !f.runs(cat, fromID(r), id) {
		if err := f.refuseCenter(ctx, r, id, action); err != nil {
			f.log.Warn("refuse a center change", "chat_id", r.ChatID, "err", err)
		}
		return c, false
	}
	return c, true
}

// editableFields are the fields of a center's card staff may set: the
// online desk has no place (address, pin, entrance).
func editableFields(c catalog.Center) []storage.CardField {
	if !c.Online {
		return storage.CardFields
	}
	return []storage.CardField{storage.CardPhone, storage.CardHours, storage.CardNote}
}

// fieldLabel is the message of a field's button.
func fieldLabel(f storage.CardField) string {
	switch f {
	case storage.CardAddressKK:
		return locales.CardFieldAddressKK
	case storage.CardAddressRU:
		return locales.CardFieldAddressRU
	case storage.CardPhone:
		return locales.CardFieldPhone
	case storage.CardHours:
		return locales.CardFieldHours
	case storage.CardPin:
		return locales.CardFieldPin
	case storage.CardPhoto:
		return locales.CardFieldPhoto
	}
	return locales.CardFieldNote
}

// editor is the card as young people see it and the buttons that change it.
func (f *mycenter) editor(l *locales.Localizer, userID int64, c catalog.Center) (string, tgbotapi.InlineKeyboardMarkup) {
	card, _ := f.desk.centerCard(l, c)
	text := l.T(locales.MyCenterHead) + "\n\n" + card + "\n\n" + l.T(locales.MyCenterWhat)
	var rows [][]tgbotapi.InlineKeyboardButton
	var row []tgbotapi.InlineKeyboardButton
	for _, fl := range editableFields(c) {
		row = append(row, button(l.T(fieldLabel(fl)), cbCardEdit, c.ID, string(fl)))
		if len(row) == 2 {
			rows, row = append(rows, row), nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	if f.isAdmin(userID) && len(f.desk.shownCenter(c).Overrides) > 0 {
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonResetCard), cbCardResetMenu, c.ID)))
	}
	rows = append(rows,
		tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonCloseTime), cbCloseB, c.ID), button(l.T(locales.ButtonClosures), cbCloseL, c.ID)),
		tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonExtraSessions), cbSessions, c.ID)),
	)
	return text, tgbotapi.NewInlineKeyboardMarkup(rows...)
}

// handleEdit: mce:<center>:<field>, ask for a field's new value.
func (f *mycenter) handleEdit(ctx context.Context, r *tg.Request) error {
	c, ok := f.center(ctx, r, r.Data.Arg(0), "edit card")
	if !ok {
		return nil
	}
	field := storage.CardField(r.Data.Arg(1))
	if !slices.Contains(editableFields(c), field) {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	d := newDialogue[cardState](r.ChatID, flowCard, string(field), f.now())
	d.State.Center = c.ID
	if err := saveDialogue(ctx, f.store, d, f.now()); err != nil {
		return err
	}
	f.tx.Answer(ctx, r, "")
	if field == storage.CardHours {
		_, err := f.tx.SendText(ctx, r.ChatID, r.L.T(locales.CardAskHoursDay), f.weekKeyboard(r.L, c))
		return err
	}
	_, err := f.tx.SendText(ctx, r.ChatID, r.L.T(askOf(field), locales.Data{"Max": r.L.Int(storage.MaxCardAddressLen)}), quitKeyboard(r.L))
	return err
}

// askOf is the question of a field.
func askOf(f storage.CardField) string {
	switch f {
	case storage.CardAddressKK:
		return locales.CardAskAddressKK
	case storage.CardAddressRU:
		return locales.CardAskAddressRU
	case storage.CardPhone:
		return locales.CardAskPhone
	case storage.CardPin:
		return locales.CardAskPin
	case storage.CardPhoto:
		return locales.CardAskPhoto
	}
	return locales.CardAskNote
}

func quitKeyboard(l *locales.Localizer) tgbotapi.InlineKeyboardMarkup {
	return tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonCancel), cbCardQuit)))
}

// weekKeyboard is a button per weekday, Monday first, with its hours now.
func (f *mycenter) weekKeyboard(l *locales.Localizer, c catalog.Center) tgbotapi.InlineKeyboardMarkup {
	card := f.desk.shownCenter(c)
	var rows [][]tgbotapi.InlineKeyboardButton
	for i := range 7 {
		wd := dayFromMon(i)
		label := l.T(fmt.Sprintf("WeekdayShort%d", int(wd)))
		if card.HasWeek {
			label += " " + dayHoursText(l, card.Week[wd])
		}
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(label, cbCardDay, c.ID, strconv.Itoa(int(wd)))))
	}
	rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonDone), cbCardQuit)))
	return tgbotapi.NewInlineKeyboardMarkup(rows...)
}

// handleDay: mch:<center>:<weekday>[:x], ask a weekday's hours; with x,
// the day is closed at once.
func (f *mycenter) handleDay(ctx context.Context, r *tg.Request) error {
	c, ok := f.center(ctx, r, r.Data.Arg(0), "edit hours")
	if !ok {
		return nil
	}
	wd, err := strconv.Atoi(r.Data.Arg(1))
	if err != nil || wd < 0 || wd > 6 || !slices.Contains(editableFields(c), storage.CardHours) {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	if r.Data.Arg(2) == "x" {
		return f.setDay(ctx, r, c, time.Weekday(wd), storage.DayHours{})
	}
	d := newDialogue[cardState](r.ChatID, flowCard, stepCardHoursDay, f.now())
	d.State = cardState{Center: c.ID, Weekday: time.Weekday(wd)}
	if err := saveDialogue(ctx, f.store, d, f.now()); err != nil {
		return err
	}
	f.tx.Answer(ctx, r, "")
	day := r.L.T(fmt.Sprintf("Weekday%d", wd))
	kb := tgbotapi.NewInlineKeyboardMarkup(
		tgbotapi.NewInlineKeyboardRow(button(r.L.T(locales.ButtonDayOff), cbCardDay, c.ID, strconv.Itoa(wd), "x")),
		tgbotapi.NewInlineKeyboardRow(button(r.L.T(locales.ButtonCancel), cbCardQuit)),
	)
	_, err = f.tx.SendText(ctx, r.ChatID, r.L.T(locales.CardAskHours, locales.Data{"Weekday": esc(day)}), kb)
	return err
}

// setDay stores one weekday's hours in the week staff set (a week not set
// yet starts with every day closed) and shows the week again.
func (f *mycenter) setDay(ctx context.Context, r *tg.Request, c catalog.Center, wd time.Weekday, h storage.DayHours) error {
	week := f.desk.shownCenter(c).Week
	week[wd] = h
	o := storage.CardOverride{CenterID: c.ID, Field: storage.CardHours, Hours: week, By: fromID(r), At: f.now()}
	if err := f.set(ctx, o); err != nil {
		return f.refused(ctx, r, err)
	}
	if r.Query != nil {
		f.tx.Answer(ctx, r, r.L.T(locales.CardSavedShort))
	}
	if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
		return err
	}
	_, err := f.tx.SendText(ctx, r.ChatID, r.L.T(locales.CardSaved)+"\n\n"+r.L.T(locales.CardAskHoursDay), f.weekKeyboard(r.L, c))
	return err
}

// set checks an override against the catalog, stores it and shows it
// everywhere.
func (f *mycenter) set(ctx context.Context, o storage.CardOverride) error {
	if err := f.catalog().CheckCard(o); err != nil {
		return err
	}
	if _, _, err := f.store.SetCard(ctx, o); err != nil {
		return fmt.Errorf("set %s of %s: %w", o.Field, o.CenterID, err)
	}
	f.log.Info("card field set", "center_id", o.CenterID, "field", string(o.Field), "user_id", o.By)
	return f.desk.loadCards(ctx)
}

// refused answers a value the rules refuse, or returns another error.
func (f *mycenter) refused(ctx context.Context, r *tg.Request, err error) error {
	if !errors.Is(err, storage.ErrInvalid) {
		return err
	}
	if r.Query != nil {
		f.tx.Alert(ctx, r, r.L.T(locales.CardBadValue, locales.Data{"Max": r.L.Int(storage.MaxCardAddressLen)}))
		return nil
	}
	_, err = f.tx.Reply(ctx, r, r.L.T(locales.CardBadValue, locales.Data{"Max": r.L.Int(storage.MaxCardAddressLen)}), quitKeyboard(r.L))
	return err
}

// handleStep takes the value typed, the photo or the location sent.
func (f *mycenter) handleStep(ctx context.Context, r *tg.Request, stored storage.Conversation) error {
	conv, ok, err := staffStep[cardState](ctx, f.kit, f.store, r, stored)
	if !ok || err != nil {
		return err
	}
	c, ok := f.center(ctx, r, conv.State.Center, "edit card")
	if !ok {
		return f.store.DeleteConversation(ctx, r.ChatID)
	}
	m := r.Message
	text := strings.TrimSpace(m.Text)
	o := storage.CardOverride{CenterID: c.ID, Field: storage.CardField(conv.Step), By: fromID(r), At: f.now()}
	switch o.Field {
	case storage.CardAddressKK, storage.CardAddressRU, storage.CardNote:
		o.Text = text
	case storage.CardPhone:
		p, err := storage.NormalizePhone(text)
		if err != nil {
			_, err := f.tx.Reply(ctx, r, r.L.T(locales.CardBadPhone), quitKeyboard(r.L))
			return err
		}
		o.Text = p
	case storage.CardPhoto:
		if len(m.Photo) == 0 {
			_, err := f.tx.Reply(ctx, r, r.L.T(locales.CardAskPhoto), quitKeyboard(r.L))
			return err
		}
		o.Text = m.Photo[len(m.Photo)-1].FileID
	case storage.CardPin:
		if m.Location == nil {
			_, err := f.tx.Reply(ctx, r, r.L.T(locales.CardAskPin), quitKeyboard(r.L))
			return err
		}
		o.Lat, o.Lon = m.Location.Latitude, m.Location.Longitude
	default:
		if conv.Step != stepCardHoursDay {
			return f.store.DeleteConversation(ctx, r.ChatID)
		}
		wd := conv.State.Weekday
		open, end, ok := parseHours(text)
		if !ok {
			_, err := f.tx.Reply(ctx, r, r.L.T(locales.StaffBadHours), quitKeyboard(r.L))
			return err
		}
		return f.setDay(ctx, r, c, time.Weekday(wd%7), storage.DayHours{Open: int(open), Close: int(end)})
	}
	if err := f.set(ctx, o); err != nil {
		if o.Field == storage.CardPin && errors.Is(err, storage.ErrInvalid) {
			_, err := f.tx.Reply(ctx, r, r.L.T(locales.CardBadPin), quitKeyboard(r.L))
			return err
		}
		return f.refused(ctx, r, err)
	}
	if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
		return err
	}
	text, kb := f.editor(r.L, fromID(r), c)
	_, err = f.tx.Reply(ctx, r, r.L.T(locales.CardSaved)+"\n\n"+text, kb)
	return err
}

// onLocation sends a location to the pin step when that is open, and
// otherwise to next (the centers near the person).
func (f *mycenter) onLocation(next tg.Handler) tg.Handler {
	return func(ctx context.Context, r *tg.Request) error {
		conv, err := f.store.Conversation(ctx, r.ChatID)
		if err == nil && conv.Flow == flowCard && conv.Step == string(storage.CardPin) && f.now().Sub(conv.UpdatedAt) <= f.cfg.DialogTTL {
			return f.handleStep(ctx, r, conv)
		}
		if next == nil {
			return nil
		}
		return next(ctx, r)
	}
}

// handleQuit: mcq, end the card dialogue.
func (f *mycenter) handleQuit(ctx context.Context, r *tg.Request) error {
	if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
		return err
	}
	f.tx.Answer(ctx, r, "")
	return f.tx.Edit(ctx, r, r.L.T(locales.CardEditDone), nil)
}

// handleResetMenu: mcz:<center>, the fields staff set, for an admin to
// put back to the catalog's value.
func (f *mycenter) handleResetMenu(ctx context.Context, r *tg.Request) error {
	c, ok := f.center(ctx, r, r.Data.Arg(0), "reset card")
	if !ok {
		return nil
	}
	if !f.isAdmin(fromID(r)) {
		return f.refuseCenter(ctx, r, c.ID, "reset card")
	}
	f.tx.Answer(ctx, r, "")
	var rows [][]tgbotapi.InlineKeyboardButton
	set := f.desk.shownCenter(c).Overrides
	for _, fl := range storage.CardFields {
		if _, ok := set[fl]; ok {
			rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(r.L.T(fieldLabel(fl)), cbCardReset, c.ID, string(fl))))
		}
	}
	rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(r.L.T(locales.ButtonCancel), cbCardQuit)))
	_, err := f.tx.SendText(ctx, r.ChatID, r.L.T(locales.CardResetChoose), tgbotapi.NewInlineKeyboardMarkup(rows...))
	return err
}

// handleReset: mcr:<center>:<field>, an admin puts a field back to the
// catalog's value.
func (f *mycenter) handleReset(ctx context.Context, r *tg.Request) error {
	c, ok := f.center(ctx, r, r.Data.Arg(0), "reset card")
	if !ok {
		return nil
	}
	if !f.isAdmin(fromID(r)) {
		return f.refuseCenter(ctx, r, c.ID, "reset card")
	}
	field := storage.CardField(r.Data.Arg(1))
	_, err := f.store.ResetCard(ctx, c.ID, field, fromID(r), f.now())
	if errors.Is(err, storage.ErrNotFound) {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	if err != nil {
		return fmt.Errorf("reset %s of %s: %w", field, c.ID, err)
	}
	f.log.Info("card field reset", "center_id", c.ID, "field", string(field), "user_id", fromID(r))
	if err := f.desk.loadCards(ctx); err != nil {
		return err
	}
	f.tx.Answer(ctx, r, r.L.T(locales.CardSavedShort))
	text, kb := f.editor(r.L, fromID(r), c)
	return f.tx.Edit(ctx, r, text, &kb)
}
