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

// Extra sessions (issue 16): staff add a one-off session of a consultation
// type (a day, from-to, the slot length, places a slot), offered like any
// scheduled slot; they remove one nobody is booked into, or, confirming,
// one with bookings, whose people are told and offered other times as for
// a closure.
const flowSession = "session"

// Steps of the adding dialogue.
const (
	stepSessionType   = "type"
	stepSessionDay    = "day"
	stepSessionHours  = "hours" // a typed "10:00-14:00"
	stepSessionLength = "length"
	stepSessionPlaces = "places"
)

// sessionState is what the adding dialogue has chosen so far.
type sessionState struct {
	Center string       `json:"center"`
	Type   string       `json:"type,omitempty"`
	Day    catalog.Date `json:"day"` // zero until chosen
	// From and To are the hours of the day, To zero until typed.
	From   catalog.Clock `json:"from"`
	To     catalog.Clock `json:"to"`
	Length int           `json:"length,omitempty"` // minutes a slot
}

// centerID is the center the dialogue is about.
func (s sessionState) centerID() string { return s.Center }

// sessionDialogue is the adding dialogue.
type sessionDialogue = dialogue[sessionState]

// Choices of slot length (minutes) and places a slot, as buttons.
var (
	sessionLengths = []int{30, 45, 60, 90}
	sessionPlaces  = []int{1, 2, 3, 5, 10}
)

// sessionStore is what extra sessions read and write.
type sessionStore interface {
	dialogueStore
	AddExtraSession(ctx context.Context, s storage.ExtraSession, now time.Time) (storage.ExtraSession, error)
	RemoveExtraSession(ctx context.Context, id uint64, by int64, now time.Time, cancelWith storage.ClosureReason) (storage.ExtraSession, []storage.Booking, error)
	ExtraSessionBookings(ctx context.Context, id uint64, now time.Time) ([]storage.Booking, error)
	ExtraSession(ctx context.Context, id uint64) (storage.ExtraSession, error)
	ExtraSessions(ctx context.Context, centerIDs []string, from, to time.Time) ([]storage.ExtraSession, error)
}

// canceller tells people whose bookings the center cancelled, with
// offers to rebook; the closures feature does.
type canceller interface {
	tellCancelled(ctx context.Context, cat *catalog.Catalog, why storage.ClosureReason, cancelled []storage.Booking)
	staffWho(l *locales.Localizer, bk storage.Booking) string
}

// sessions is the feature.
type sessions struct {
	kit
	store sessionStore
	tell  canceller
}

// sessionsAhead is how far ahead the list of a center's sessions looks:
// sessions are added for the booking window, and a little beyond.
const sessionsAhead = 62 * 24 * time.Hour

// handleList: xs:<center>, the center's sessions to come, each with a
// remove button, and "add".
func (f *sessions) handleList(ctx context.Context, r *tg.Request) error {
	return f.sendCenterList(ctx, r, "list sessions", f.list)
}

func (f *sessions) list(ctx context.Context, l *locales.Localizer, cat *catalog.Catalog, centerID string) (string, tgbotapi.InlineKeyboardMarkup, error) {
	now := f.now()
	list, err := f.store.ExtraSessions(ctx, []string{centerID}, now, now.Add(sessionsAhead))
	if err != nil {
		return "", tgbotapi.InlineKeyboardMarkup{}, fmt.Errorf("extra sessions of %s: %w", centerID, err)
	}
	center, _ := cat.Center(centerID)
	lines := []string{l.T(locales.SessionsTitle, locales.Data{"Center": esc(center.Name.In(l.Lang()))})}
	var rows [][]tgbotapi.InlineKeyboardButton
	for i, s := range list[:min(len(list), maxReopenListed)] {
		lines = append(lines, fmt.Sprintf("%d. %s\n%s", i+1, esc(spanText(l, cat.Location(), s.Start, s.End)),
			l.T(locales.SessionLine, locales.Data{"Type": esc(typeName(l, cat, s.TypeID)), "Minutes": l.Int(s.SlotMinutes), "Capacity": l.Int(s.Capacity)})))
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonRemoveSession, locales.Data{"Count": i + 1}), cbSessionRemove, tg.B36(s.ID))))
	}
	if len(list) == 0 {
		lines = append(lines, l.T(locales.SessionsEmpty))
	}
	rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonAddSession), cbSessionAdd, centerID)))
	return strings.Join(lines, "\n\n"), tgbotapi.NewInlineKeyboardMarkup(rows...), nil
}

// handleAdd: xsa:<center>, start adding a session.
func (f *sessions) handleAdd(ctx context.Context, r *tg.Request) error {
	return beginAtCenter(ctx, f.kit, f.store, r, flowSession, stepSessionType, "add session", func(center string) sessionState { return sessionState{Center: center} }, f.render)
}

// handleStep: xsd:<tok>:<op>[:<arg>], the buttons of the adding dialogue:
// t:<type>, d:<yyyymmdd>, l:<minutes>, p:<places>, q.
func (f *sessions) handleStep(ctx context.Context, r *tg.Request) error {
	conv, ok, err := staffDialogue[sessionState](ctx, f.kit, f.store, r, flowSession, r.Data.Arg(0))
	if !ok || err != nil {
		return err
	}
	cat := f.catalog()
	center := conv.State.Center
	if !f.runs(cat, fromID(r), center) {
		return f.refuseCenter(ctx, r, center, "add session")
	}
	op, arg := r.Data.Arg(1), r.Data.Arg(2)
	n, _ := strconv.Atoi(arg)
	switch {
	case op == "q":
		if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
			return err
		}
		f.tx.Answer(ctx, r, "")
		return f.tx.Edit(ctx, r, r.L.T(locales.Cancelled), nil)
	case op == "t" && conv.Step == stepSessionType && slices.Contains(closableTypes(cat, center), arg):
		conv.State.Type = arg
		conv.Step = stepSessionDay
	case op == "d" && conv.Step == stepSessionDay:
		day, ok := parseDayArg(arg)
		if !ok {
			f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
			return nil
		}
		conv.State.Day = day
		conv.Step = stepSessionHours
	case op == "l" && conv.Step == stepSessionLength && slices.Contains(sessionLengths, n):
		conv.State.Length = n
		conv.Step = stepSessionPlaces
	case op == "p" && conv.Step == stepSessionPlaces && slices.Contains(sessionPlaces, n):
		return f.add(ctx, r, cat, conv, n)
	default:
		f.tx.Answer(ctx, r, r.L.T(locales.StaffStepStale))
		return nil
	}
	if err := saveDialogue(ctx, f.store, conv, f.now()); err != nil {
		return err
	}
	f.tx.Answer(ctx, r, "")
	text, kb := f.render(r.L, cat, conv)
	return f.tx.Edit(ctx, r, text, kb)
}

// handleHoursStep takes the session's typed "10:00-14:00".
func (f *sessions) handleHoursStep(ctx context.Context, r *tg.Request, stored storage.Conversation) error {
	conv, ok, err := staffTextStep[sessionState](ctx, f.kit, f.store, r, stored, stepSessionHours, "add session")
	if !ok || err != nil {
		return err
	}
	cat := f.catalog()
	from, to, ok := parseHours(r.Message.Text)
	if !ok {
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.StaffBadHours), nil)
		return err
	}
	conv.State.From, conv.State.To = from, to
	conv.Step = stepSessionLength
	if err := saveDialogue(ctx, f.store, conv, f.now()); err != nil {
		return err
	}
	text, kb := f.render(r.L, cat, conv)
	_, err = f.tx.Reply(ctx, r, text, kb)
	return err
}

// render is the text and buttons of the dialogue's step.
func (f *sessions) render(l *locales.Localizer, cat *catalog.Catalog, conv sessionDialogue) (string, *tgbotapi.InlineKeyboardMarkup) {
	tok := conv.Token
	s := conv.State
	center, _ := cat.Center(s.Center)
	d := locales.Data{"Center": esc(center.Name.In(l.Lang())), "Type": esc(typeName(l, cat, s.Type)), "When": ""}
	loc := cat.Location()
	if s.Day != (catalog.Date{}) {
		d["When"] = esc(l.Date(s.Day.At(12*60, loc)))
		if s.To != 0 {
			d["When"] = esc(l.Date(s.Day.At(12*60, loc)) + ", " + s.From.String() + "–" + clockText(int(s.To)))
		}
	}
	var rows [][]tgbotapi.InlineKeyboardButton
	var text string
	switch conv.Step {
	case stepSessionType:
		text = l.T(locales.SessionChooseType, d)
		for _, id := range closableTypes(cat, center.ID) {
			if t, ok := cat.Type(id); ok {
				rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(typeLabel(l, t), cbSessionStep, tok, "t", id)))
			}
		}
	case stepSessionDay:
		text = l.T(locales.SessionChooseDay, d)
		rows = f.dayRows(l, cat, localDay(cat, f.now()), cbSessionStep, tok, "d")
	case stepSessionHours:
		text = l.T(locales.SessionAskHours, d)
	case stepSessionLength:
		text = l.T(locales.SessionChooseLength, d)
		var row []tgbotapi.InlineKeyboardButton
		for _, n := range sessionLengths {
			row = append(row, button(l.T(locales.SessionMinutes, locales.Data{"Minutes": l.Int(n)}), cbSessionStep, tok, "l", strconv.Itoa(n)))
		}
		rows = append(rows, row)
	case stepSessionPlaces:
		text = l.T(locales.SessionChoosePlaces, d)
		var row []tgbotapi.InlineKeyboardButton
		for _, n := range sessionPlaces {
			row = append(row, button(l.Int(n), cbSessionStep, tok, "p", strconv.Itoa(n)))
		}
		rows = append(rows, row)
	}
	rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonCancel), cbSessionStep, tok, "q")))
	kb := tgbotapi.NewInlineKeyboardMarkup(rows...)
	return text, &kb
}

// add checks and stores the session the dialogue describes.
func (f *sessions) add(ctx context.Context, r *tg.Request, cat *catalog.Catalog, conv sessionDialogue, places int) error {
	loc := cat.Location()
	st := conv.State
	s := storage.ExtraSession{
		CenterID: st.Center, TypeID: st.Type,
		Start: st.Day.At(st.From, loc), End: st.Day.At(st.To, loc),
		SlotMinutes: st.Length, Capacity: places, By: fromID(r),
	}
	now := f.now()
	err := cat.CheckExtraSession(s, now)
	if err == nil {
		s, err = f.store.AddExtraSession(ctx, s, now)
	}
	f.tx.Answer(ctx, r, "")
	switch {
	case errors.Is(err, storage.ErrInvalid):
		return f.tx.Edit(ctx, r, r.L.T(locales.SessionInvalid), nil)
	case errors.Is(err, storage.ErrConflict):
		return f.tx.Edit(ctx, r, r.L.T(locales.SessionOverlaps), nil)
	case err != nil:
		return fmt.Errorf("add extra session of %s: %w", s.CenterID, err)
	}
	f.log.Info("extra session added", "session_id", s.ID, "center_id", s.CenterID, "user_id", s.By)
	if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
		f.log.Warn("end session dialogue", "chat_id", r.ChatID, "err", err)
	}
	return f.tx.Edit(ctx, r, r.L.T(locales.SessionAdded, locales.Data{
		"When": esc(spanText(r.L, loc, s.Start, s.End)), "Type": esc(typeName(r.L, cat, s.TypeID)),
		"Minutes": r.L.Int(s.SlotMinutes), "Capacity": r.L.Int(s.Capacity), "Count": r.L.Int(len(s.Slots())),
	}), nil)
}

// handleRemove: xsr:<id> asks nothing when nobody is booked and removes
// the session; with bookings it asks to confirm the cancel-and-offer path;
// xsy:<id> is that confirmation.
func (f *sessions) handleRemove(ctx context.Context, r *tg.Request) error {
	s, ok, err := pressed(ctx, f.kit, r, 0, f.store.ExtraSession)
	if !ok || err != nil {
		return err
	}
	id := s.ID
	cat := f.catalog()
	if !f.runs(cat, fromID(r), s.CenterID) {
		return f.refuseCenter(ctx, r, s.CenterID, "remove session")
	}
	now := f.now()
	var why storage.ClosureReason
	if r.Data.Prefix == cbSessionRemoveYes {
		why = storage.ReasonOther
	}
	_, cancelled, err := f.store.RemoveExtraSession(ctx, id, fromID(r), now, why)
	switch {
	case errors.Is(err, storage.ErrHasBookings):
		booked, err := f.store.ExtraSessionBookings(ctx, id, now)
		if err != nil {
			return fmt.Errorf("bookings of extra session %d: %w", id, err)
		}
		f.tx.Answer(ctx, r, "")
		kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(button(r.L.T(locales.ButtonRemoveSessionAnyway), cbSessionRemoveYes, tg.B36(id))))
		_, err = f.tx.SendText(ctx, r.ChatID, r.L.T(locales.SessionHasBookings)+"\n\n"+touchedText(r.L, cat, booked, f.tell.staffWho), kb)
		return err
	case errors.Is(err, storage.ErrInPast) || errors.Is(err, storage.ErrNotFound):
		f.tx.Alert(ctx, r, r.L.T(locales.SessionGone))
		return nil
	case err != nil:
		return fmt.Errorf("remove extra session %d: %w", id, err)
	}
	f.log.Info("extra session removed", "session_id", id, "center_id", s.CenterID, "user_id", fromID(r), "cancelled", len(cancelled))
	f.tx.Answer(ctx, r, r.L.T(locales.SessionRemoved))
	if err := f.tx.Edit(ctx, r, r.L.T(locales.SessionRemoved)+"\n"+r.L.N(locales.CloseDone, len(cancelled)), nil); err != nil {
		f.log.Warn("show session removed", "chat_id", r.ChatID, "err", err)
	}
	f.tell.tellCancelled(ctx, cat, storage.ReasonOther, cancelled)
	return nil
}
