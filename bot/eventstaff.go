package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/catalog"
)

// Staff manage events from the chat: /newevent (and the edit button of an
// event card) runs a short dialogue kept in the conversations bucket, so a
// restart in the middle loses nothing; /editevent and /cancelevent list the
// staff member's upcoming events. Staff are a center's StaffUserIDs and the
// admins; everyone else gets "not allowed" and nothing changes.

// flowEvent is the conversation flow of the event dialogue.
const flowEvent = "event"

// Steps of the event dialogue, in order; what each collects is a field of
// eventState.
const (
	evStepCenter   = "center"
	evStepTitleKK  = "title_kk"
	evStepTitleRU  = "title_ru"
	evStepDescKK   = "desc_kk"
	evStepDescRU   = "desc_ru"
	evStepStart    = "start"
	evStepMinutes  = "minutes"
	evStepCapacity = "capacity"
	evStepConfirm  = "confirm"
)

var eventSteps = []string{evStepCenter, evStepTitleKK, evStepTitleRU, evStepDescKK, evStepDescRU, evStepStart, evStepMinutes, evStepCapacity, evStepConfirm}

// Limits of the staff dialogue's answers.
const (
	maxTitleRunes       = 100
	maxDescriptionRunes = 1000
	minEventMinutes     = 10
	maxEventMinutes     = 24 * 60
	maxEventCapacity    = 10000
	// startLayout is how staff type a start: "05.12.2026 15:00".
	startLayout = "2.1.2006 15:04"
)

// eventState is what the event dialogue has collected. A value not yet
// given is zero; an edit starts with the event's values.
type eventState struct {
	// EventID is the event edited; 0 for a new one.
	EventID  uint64    `json:"event,omitempty"`
	CenterID string    `json:"center,omitempty"`
	TitleKK  string    `json:"title_kk,omitempty"`
	TitleRU  string    `json:"title_ru,omitempty"`
	DescKK   string    `json:"desc_kk,omitempty"`
	DescRU   string    `json:"desc_ru,omitempty"`
	Start    time.Time `json:"start,omitzero"`
	Minutes  int       `json:"minutes,omitempty"`
	Capacity int       `json:"capacity,omitempty"`
}

// editing reports whether the dialogue edits an event rather than adds one.
func (s eventState) editing() bool { return s.EventID != 0 }

// text is the field a text step sets, nil for other steps.
func (s *eventState) text(step string) *string {
	switch step {
	case evStepTitleKK:
		return &s.TitleKK
	case evStepTitleRU:
		return &s.TitleRU
	case evStepDescKK:
		return &s.DescKK
	case evStepDescRU:
		return &s.DescRU
	}
	return nil
}

type eventDialogue = dialogue[eventState]

// eventDeskStore is what staff event management reads and writes.
type eventDeskStore interface {
	dialogueStore
	Event(ctx context.Context, id uint64) (storage.Event, error)
	UpcomingEvents(ctx context.Context, f storage.EventFilter, offset, limit int) ([]storage.Event, int, error)
	CreateEvent(ctx context.Context, e storage.Event) (storage.Event, error)
	UpdateEvent(ctx context.Context, id uint64, change func(*storage.Event) error, rem storage.ReminderPolicy, now time.Time) (storage.Event, []storage.Registration, error)
	CancelEvent(ctx context.Context, id uint64, now time.Time) (storage.Event, []storage.Registration, error)
}

// eventCarder shows an event's card (events.go): a saved event's, at the
// end of the dialogue.
type eventCarder interface {
	showEventCard(ctx context.Context, r *tg.Request, e storage.Event, back eventList) error
}

// eventDesk is the feature: /newevent, /editevent, /cancelevent, the
// staff buttons of an event card and the event dialogue.
type eventDesk struct {
	kit
	store  eventDeskStore
	events eventCarder
}

// isStaffOf reports whether the user may manage the center's events.
func (k kit) isStaffOf(userID int64, centerID string) bool {
	if k.isAdmin(userID) {
		return true
	}
	c, ok := k.catalog().Center(centerID)
	return ok && slices.Contains(c.StaffUserIDs, userID)
}

// eventStaffCenters are the centers whose events the user may manage.
func (f *eventDesk) eventStaffCenters(userID int64) []catalog.Center {
	var out []catalog.Center
	for _, c := range f.catalog().Centers {
		if !c.Online && f.isStaffOf(userID, c.ID) {
			out = append(out, c)
		}
	}
	return out
}

// handleNewEvent (/newevent) starts the dialogue.
func (f *eventDesk) handleNewEvent(ctx context.Context, r *tg.Request) error {
	centers := f.eventStaffCenters(r.From.ID)
	if len(centers) == 0 {
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.NotAllowed), f.mainMenu(r.L))
		return err
	}
	d := newDialogue[eventState](r.ChatID, flowEvent, evStepCenter, f.now())
	if len(centers) == 1 {
		d.State.CenterID = centers[0].ID
		d.Step = evStepTitleKK
	}
	if err := saveDialogue(ctx, f.store, d, f.now()); err != nil {
		return err
	}
	return f.askStep(ctx, r, d, "")
}

// handleStaffEvents (/editevent, /cancelevent) lists the upcoming events of
// the staff member's centers; their cards carry the staff buttons.
func (f *eventDesk) handleStaffEvents(ctx context.Context, r *tg.Request) error {
	centers := f.eventStaffCenters(r.From.ID)
	if len(centers) == 0 {
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.NotAllowed), f.mainMenu(r.L))
		return err
	}
	filter := storage.EventFilter{After: f.now()}
	for _, c := range centers {
		filter.CenterIDs = append(filter.CenterIDs, c.ID)
	}
	events, _, err := f.store.UpcomingEvents(ctx, filter, 0, 30)
	if err != nil {
		return fmt.Errorf("staff events: %w", err)
	}
	if len(events) == 0 {
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.StaffNoEvents), f.mainMenu(r.L))
		return err
	}
	lang := storage.Lang(r.L.Lang())
	back := eventList{kind: listAll}
	var rows [][]tgbotapi.InlineKeyboardButton
	for _, e := range events {
		label := r.L.ShortDate(e.Start.In(f.cfg.Location)) + " · " + e.TitleIn(lang)
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(label, cbEvent, append([]string{tg.B36(e.ID)}, back.args()...)...)))
	}
	_, err = f.tx.Reply(ctx, r, r.L.T(locales.StaffPickEvent), tgbotapi.NewInlineKeyboardMarkup(rows...))
	return err
}

// staffEvent loads the open event a staff button names and checks that the
// presser may manage it.
func (f *eventDesk) staffEvent(ctx context.Context, r *tg.Request) (storage.Event, bool, error) {
	id, err := r.Data.ID(0)
	if err != nil {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return storage.Event{}, false, nil
	}
	e, err := f.store.Event(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return e, false, nil
	case err != nil:
		return e, false, fmt.Errorf("load event %d: %w", id, err)
	case r.From == nil || !f.isStaffOf(r.From.ID, e.CenterID):
		f.tx.Alert(ctx, r, r.L.T(locales.NotAllowed))
		return e, false, nil
	case !e.Open(f.now()):
		f.tx.Alert(ctx, r, r.L.T(locales.EventNotAvailable))
		return e, false, nil
	}
	return e, true, nil
}

// handleEditEventCallback (eved:<eventID>) starts the dialogue with the
// event's values; each step offers to keep the current one.
func (f *eventDesk) handleEditEventCallback(ctx context.Context, r *tg.Request) error {
	e, ok, err := f.staffEvent(ctx, r)
	if !ok || err != nil {
		return err
	}
	f.tx.Answer(ctx, r, "")
	d := newDialogue[eventState](r.ChatID, flowEvent, evStepTitleKK, f.now())
	d.State = eventState{
		EventID: e.ID, CenterID: e.CenterID, TitleKK: e.TitleKK, TitleRU: e.TitleRU,
		DescKK: e.DescriptionKK, DescRU: e.DescriptionRU, Start: e.Start, Minutes: e.Minutes, Capacity: e.Capacity,
	}
	if err := saveDialogue(ctx, f.store, d, f.now()); err != nil {
		return err
	}
	return f.askStep(ctx, r, d, "")
}

// handleCancelEventCallback (evx:<eventID>) asks for confirmation.
func (f *eventDesk) handleCancelEventCallback(ctx context.Context, r *tg.Request) error {
	e, ok, err := f.staffEvent(ctx, r)
	if !ok || err != nil {
		return err
	}
	f.tx.Answer(ctx, r, "")
	kb := tgbotapi.NewInlineKeyboardMarkup(
		tgbotapi.NewInlineKeyboardRow(button(r.L.T(locales.ButtonConfirmCancel), cbCancelEventYes, tg.B36(e.ID))),
		tgbotapi.NewInlineKeyboardRow(button(r.L.T(locales.ButtonBack), cbEvent, append([]string{tg.B36(e.ID)}, eventList{kind: listAll}.args()...)...)),
	)
	text := r.L.T(locales.StaffCancelAsk, locales.Data{"Title": esc(e.TitleIn(storage.Lang(r.L.Lang())))})
	return f.tx.Edit(ctx, r, text, &kb)
}

// handleCancelEventYesCallback (evxy:<eventID>) cancels the event; the
// store writes a notice to everyone registered or waiting in the same
// transaction, and the sweep tells each in their language.
func (f *eventDesk) handleCancelEventYesCallback(ctx context.Context, r *tg.Request) error {
	e, ok, err := f.staffEvent(ctx, r)
	if !ok || err != nil {
		return err
	}
	e, regs, err := f.store.CancelEvent(ctx, e.ID, f.now())
	if errors.Is(err, storage.ErrEventClosed) {
		f.tx.Alert(ctx, r, r.L.T(locales.EventNotAvailable))
		return nil
	}
	if err != nil {
		return fmt.Errorf("cancel event %d: %w", e.ID, err)
	}
	f.log.Info("event cancelled", "event_id", e.ID, "chat_id", r.ChatID, "registrations", len(regs))
	f.tx.Answer(ctx, r, "")
	// The notices were stored with the cancellation; the reminder sweep
	// sends them at bulk pace, so thousands of them outlast neither this
	// handler nor a restart.
	text := r.L.T(locales.StaffEventCancelled, locales.Data{"Title": esc(e.TitleIn(storage.Lang(r.L.Lang())))}) +
		"\n" + r.L.N(locales.StaffWillNotify, len(regs))
	return f.tx.Edit(ctx, r, text, nil)
}

// askStep sends the question of the dialogue's step, after problem (the
// reason an answer was refused) when there is one.
func (f *eventDesk) askStep(ctx context.Context, r *tg.Request, d eventDialogue, problem string) error {
	l := r.L
	editing := d.State.editing()
	keep := tgbotapi.NewReplyKeyboard(tgbotapi.NewKeyboardButtonRow(tgbotapi.NewKeyboardButton(l.T(locales.StaffKeep))))
	keep.ResizeKeyboard = true
	var (
		text    string
		markup  any
		current string
	)
	example := func(id string, data locales.Data) string {
		if problem != "" {
			return problem
		}
		return l.T(id, data)
	}
	switch d.Step {
	case evStepCenter:
		var rows [][]tgbotapi.InlineKeyboardButton
		for _, c := range f.eventStaffCenters(r.From.ID) {
			rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(c.Name.In(l.Lang()), cbEventCenter, c.ID)))
		}
		text, markup = l.T(locales.StaffChooseCenter), tgbotapi.NewInlineKeyboardMarkup(rows...)
		if problem != "" {
			text = problem + "\n\n" + text
		}
	case evStepTitleKK, evStepTitleRU, evStepDescKK, evStepDescRU:
		ask := map[string][2]string{
			evStepTitleKK: {locales.StaffAskTitleKK, locales.ExampleTitleKK},
			evStepTitleRU: {locales.StaffAskTitleRU, locales.ExampleTitleRU},
			evStepDescKK:  {locales.StaffAskDescriptionKK, locales.ExampleDescriptionKK},
			evStepDescRU:  {locales.StaffAskDescriptionRU, locales.ExampleDescriptionRU},
		}[d.Step]
		text = example(ask[0], locales.Data{"Example": esc(l.T(ask[1]))})
		current = esc(*d.State.text(d.Step))
	case evStepStart:
		text = example(locales.StaffAskStart, locales.Data{"Example": f.startExample()})
		if !d.State.Start.IsZero() {
			current = l.DateTime(d.State.Start.In(f.cfg.Location))
		}
	case evStepMinutes:
		text = example(locales.StaffAskMinutes, locales.Data{"Example": 90})
		if d.State.Minutes > 0 {
			current = strconv.Itoa(d.State.Minutes)
		}
	case evStepCapacity:
		text = example(locales.StaffAskCapacity, locales.Data{"Example": 30})
		if d.State.Capacity > 0 {
			current = strconv.Itoa(d.State.Capacity)
		}
	case evStepConfirm:
		kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
			button(l.T(locales.ButtonSave), cbEventSave, "y"),
			button(l.T(locales.ButtonCancel), cbEventSave, "n"),
		))
		text = l.T(locales.StaffConfirm, locales.Data{"Text": f.eventSummary(l, d.State)})
		if problem != "" {
			text = problem + "\n\n" + text
		}
		markup = kb
	}
	if editing && current != "" && d.Step != evStepConfirm && d.Step != evStepCenter {
		text += "\n\n" + l.T(locales.StaffCurrentValue, locales.Data{"Value": current})
		markup = keep
	}
	_, err := f.tx.Reply(ctx, r, text, markup)
	return err
}

// startExample is a start a week from now at 15:00, in the typed format.
func (f *eventDesk) startExample() string {
	d := f.now().In(f.cfg.Location).AddDate(0, 0, 7)
	return time.Date(d.Year(), d.Month(), d.Day(), 15, 0, 0, 0, f.cfg.Location).Format("02.01.2006 15:04")
}

// eventSummary shows what the dialogue collected, for the confirmation.
func (f *eventDesk) eventSummary(l *locales.Localizer, s eventState) string {
	return l.T(locales.StaffSummary, locales.Data{
		"Center": esc(f.centerName(l, s.CenterID)), "When": l.DateTime(s.Start.In(f.cfg.Location)),
		"Duration": l.N(locales.EventMinutes, s.Minutes), "Capacity": l.Int(s.Capacity),
		"TitleKK": esc(s.TitleKK), "TitleRU": esc(s.TitleRU),
		"DescriptionKK": esc(s.DescKK), "DescriptionRU": esc(s.DescRU),
	})
}

// handleEventStep takes a typed answer of the dialogue. A bad answer is
// asked again with an example; what was entered before stays.
func (f *eventDesk) handleEventStep(ctx context.Context, r *tg.Request, conv storage.Conversation) error {
	l := r.L
	d, err := dialogueOf[eventState](conv)
	if err != nil || len(conv.State) == 0 {
		// Written by a version whose state differed (or by the untyped
		// one): start over rather than guess.
		return f.expired(ctx, r)
	}
	text := strings.TrimSpace(r.Message.Text)
	keep := d.State.editing() && text == strings.TrimSpace(l.T(locales.StaffKeep))
	var problem string
	switch d.Step {
	case evStepCenter, evStepConfirm:
		return f.askStep(ctx, r, d, l.T(locales.StaffPressButton))
	case evStepTitleKK, evStepTitleRU, evStepDescKK, evStepDescRU:
		limit := maxTitleRunes
		exampleID := map[string]string{
			evStepTitleKK: locales.ExampleTitleKK, evStepTitleRU: locales.ExampleTitleRU,
			evStepDescKK: locales.ExampleDescriptionKK, evStepDescRU: locales.ExampleDescriptionRU,
		}[d.Step]
		if d.Step == evStepDescKK || d.Step == evStepDescRU {
			limit = maxDescriptionRunes
		}
		if !keep {
			if text == "" || utf8.RuneCountInString(text) > limit {
				problem = l.T(locales.StaffBadText, locales.Data{"Max": limit, "Example": esc(l.T(exampleID))})
			} else {
				*d.State.text(d.Step) = text
			}
		}
	case evStepStart:
		if !keep {
			t, err := time.ParseInLocation(startLayout, strings.Join(strings.Fields(text), " "), f.cfg.Location)
			switch {
			case err != nil:
				problem = l.T(locales.StaffBadStart, locales.Data{"Example": f.startExample()})
			case !t.After(f.now()):
				problem = l.T(locales.StaffStartPast, locales.Data{"Example": f.startExample()})
			default:
				d.State.Start = t.UTC()
			}
		}
	case evStepMinutes:
		if !keep {
			n, err := strconv.Atoi(text)
			if err != nil || n < minEventMinutes || n > maxEventMinutes {
				problem = l.T(locales.StaffBadMinutes, locales.Data{"Max": maxEventMinutes, "Example": 90})
			} else {
				d.State.Minutes = n
			}
		}
	case evStepCapacity:
		if !keep {
			n, err := strconv.Atoi(text)
			if err != nil || n < 1 || n > maxEventCapacity {
				problem = l.T(locales.StaffBadCapacity, locales.Data{"Max": l.Int(maxEventCapacity), "Example": 30})
			} else if registered, err := f.registeredOf(ctx, d.State); err != nil {
				return err
			} else if n < registered {
				problem = l.T(locales.StaffCapacityBelow, locales.Data{"Count": registered})
			} else {
				d.State.Capacity = n
			}
		}
	default:
		// A step this version does not know: start over rather than guess.
		return f.expired(ctx, r)
	}
	if problem != "" {
		return f.askStep(ctx, r, d, problem)
	}
	d.Step = nextStep(d.Step)
	if err := saveDialogue(ctx, f.store, d, f.now()); err != nil {
		return err
	}
	return f.askStep(ctx, r, d, "")
}

// expired ends a dialogue this version cannot go on with and says so.
func (f *eventDesk) expired(ctx context.Context, r *tg.Request) error {
	if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
		return err
	}
	_, err := f.tx.Reply(ctx, r, r.L.T(locales.DialogExpired), f.mainMenu(r.L))
	return err
}

func nextStep(step string) string {
	i := slices.Index(eventSteps, step)
	if i < 0 || i+1 >= len(eventSteps) {
		return evStepConfirm
	}
	return eventSteps[i+1]
}

// registeredOf is how many people an edited event has; 0 for a new one.
func (f *eventDesk) registeredOf(ctx context.Context, s eventState) (int, error) {
	if !s.editing() {
		return 0, nil
	}
	e, err := f.store.Event(ctx, s.EventID)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	return e.Registered, err
}

// atStep returns the chat's event dialogue when it is at step; otherwise
// the button is stale and the person is told. A dialogue whose state this
// version cannot read (or the untyped one of an older version) is stale too.
func (f *eventDesk) atStep(ctx context.Context, r *tg.Request, step string) (eventDialogue, bool, error) {
	conv, err := f.store.Conversation(ctx, r.ChatID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && (conv.Flow != flowEvent || conv.Step != step || len(conv.State) == 0)) {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return eventDialogue{}, false, nil
	}
	if err != nil {
		return eventDialogue{}, false, err
	}
	d, err := dialogueOf[eventState](conv)
	if err != nil {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return d, false, nil
	}
	return d, true, nil
}

// handleEventCenterCallback (evnc:<centerID>) answers the center step.
func (f *eventDesk) handleEventCenterCallback(ctx context.Context, r *tg.Request) error {
	d, ok, err := f.atStep(ctx, r, evStepCenter)
	if !ok || err != nil {
		return err
	}
	id := r.Data.Arg(0)
	if _, known := f.catalog().Center(id); !known || !f.isStaffOf(r.From.ID, id) {
		f.tx.Alert(ctx, r, r.L.T(locales.NotAllowed))
		return nil
	}
	f.tx.Answer(ctx, r, "")
	d.State.CenterID = id
	d.Step = evStepTitleKK
	if err := saveDialogue(ctx, f.store, d, f.now()); err != nil {
		return err
	}
	// The choice stays visible; its buttons go.
	if err := f.tx.Edit(ctx, r, r.L.T(locales.StaffChooseCenter)+"\n🏢 "+esc(f.centerName(r.L, id)), nil); err != nil {
		return err
	}
	return f.askStep(ctx, r, d, "")
}

// handleEventSaveCallback (evns:<y|n>) saves or drops what the dialogue
// collected. Staff rights are checked again: they may have changed since
// the dialogue began.
func (f *eventDesk) handleEventSaveCallback(ctx context.Context, r *tg.Request) error {
	d, ok, err := f.atStep(ctx, r, evStepConfirm)
	if !ok || err != nil {
		return err
	}
	l := r.L
	switch r.Data.Arg(0) {
	case "n":
		f.tx.Answer(ctx, r, "")
		if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
			return err
		}
		_ = f.tx.Edit(ctx, r, l.T(locales.StaffDiscarded), nil)
		_, err := f.tx.Reply(ctx, r, l.T(locales.MenuPrompt), f.mainMenu(l))
		return err
	case "y":
	default:
		f.tx.Answer(ctx, r, l.T(locales.OutdatedButton))
		return nil
	}
	st := d.State
	if !f.isStaffOf(r.From.ID, st.CenterID) {
		f.tx.Alert(ctx, r, l.T(locales.NotAllowed))
		return nil
	}
	if st.CenterID == "" || st.Start.IsZero() || st.Minutes == 0 || st.Capacity == 0 {
		return fmt.Errorf("event dialogue of %d reached the confirmation without a center, start, length or capacity", r.ChatID)
	}
	now := f.now()
	fields := func(e *storage.Event) {
		e.CenterID = st.CenterID
		e.TitleKK, e.TitleRU = st.TitleKK, st.TitleRU
		e.DescriptionKK, e.DescriptionRU = st.DescKK, st.DescRU
		e.Start = st.Start.UTC()
		e.Minutes, e.Capacity = st.Minutes, st.Capacity
		e.UpdatedAt = now
	}
	var (
		saved    storage.Event
		promoted []storage.Registration
	)
	if st.editing() {
		id := st.EventID
		saved, promoted, err = f.store.UpdateEvent(ctx, id, func(e *storage.Event) error {
			if !e.Open(now) {
				return storage.ErrEventClosed
			}
			fields(e)
			return nil
		}, f.cfg.Reminders, now)
		switch {
		case errors.Is(err, storage.ErrEventClosed), errors.Is(err, storage.ErrNotFound):
			f.tx.Alert(ctx, r, l.T(locales.EventNotAvailable))
			return f.store.DeleteConversation(ctx, r.ChatID)
		case errors.Is(err, storage.ErrConflict):
			// More people registered while the dialogue ran: ask again.
			f.tx.Answer(ctx, r, "")
			d.Step = evStepCapacity
			if err := saveDialogue(ctx, f.store, d, f.now()); err != nil {
				return err
			}
			registered, _ := f.registeredOf(ctx, st)
			return f.askStep(ctx, r, d, l.T(locales.StaffCapacityBelow, locales.Data{"Count": registered}))
		case err != nil:
			return fmt.Errorf("update event %d: %w", id, err)
		}
	} else {
		e := storage.Event{CreatedBy: r.From.ID, CreatedAt: now}
		fields(&e)
		if saved, err = f.store.CreateEvent(ctx, e); err != nil {
			return fmt.Errorf("create event: %w", err)
		}
	}
	if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
		return err
	}
	mode := "new"
	if st.editing() {
		mode = "edit"
	}
	f.log.Info("event saved", "event_id", saved.ID, "chat_id", r.ChatID, "mode", mode)
	f.tx.Answer(ctx, r, l.T(locales.StaffSaved))
	_ = f.tx.Edit(ctx, r, l.T(locales.StaffSaved), nil)
	if _, err := f.tx.Reply(ctx, r, l.T(locales.MenuPrompt), f.mainMenu(l)); err != nil {
		return err
	}
	card := *r
	card.Query = nil // a new message, not an edit of the confirmation
	if err := f.events.showEventCard(ctx, &card, saved, eventList{kind: listAll}); err != nil {
		return err
	}
	// The notices (moved up, time changed) were stored with the update, for
	// the sweep: a raised capacity or a moved start may concern many people.
	for _, reg := range promoted {
		f.log.Info("moved up from the waitlist", "event_id", saved.ID, "chat_id", reg.ChatID)
	}
	return nil
}
