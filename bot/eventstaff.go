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

// Steps of the event dialogue, in order. Each collected value is kept under
// the step's name in Conversation.Data.
const (
	evStepCenter   = "center"
	evStepTitleKK  = "title_kk"
	evStepTitleRU  = "title_ru"
	evStepDescKK   = "desc_kk"
	evStepDescRU   = "desc_ru"
	evStepStart    = "start" // Unix seconds
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
	// Keys of the dialogue besides the steps.
	keyMode  = "mode" // "new" or "edit"
	keyEvent = "event"
)

// isStaffOf reports whether the user may manage the center's events.
func (k kit) isStaffOf(userID int64, centerID string) bool {
	if k.isAdmin(userID) {
		return true
	}
	c, ok := k.catalog().Center(centerID)
	return ok && slices.Contains(c.StaffUserIDs, userID)
}

// eventStaffCenters are the centers whose events the user may manage.
func (b *Bot) eventStaffCenters(userID int64) []catalog.Center {
	var out []catalog.Center
	for _, c := range b.cat().Centers {
		if !c.Online && b.board.isStaffOf(userID, c.ID) {
			out = append(out, c)
		}
	}
	return out
}

// handleNewEvent (/newevent) starts the dialogue.
func (b *Bot) handleNewEvent(ctx context.Context, r *Request) error {
	centers := b.eventStaffCenters(r.From.ID)
	if len(centers) == 0 {
		_, err := b.reply(ctx, r, r.L.T(locales.NotAllowed), b.mainMenu(r.L))
		return err
	}
	conv := storage.Conversation{ChatID: r.ChatID, Flow: flowEvent, Step: evStepCenter, UpdatedAt: b.now()}
	conv.Set(keyMode, "new")
	if len(centers) == 1 {
		conv.Set(evStepCenter, centers[0].ID)
		conv.Step = evStepTitleKK
	}
	if err := b.store.SaveConversation(ctx, conv); err != nil {
		return fmt.Errorf("start event dialogue: %w", err)
	}
	return b.askStep(ctx, r, conv, "")
}

// handleStaffEvents (/editevent, /cancelevent) lists the upcoming events of
// the staff member's centers; their cards carry the staff buttons.
func (b *Bot) handleStaffEvents(ctx context.Context, r *Request) error {
	centers := b.eventStaffCenters(r.From.ID)
	if len(centers) == 0 {
		_, err := b.reply(ctx, r, r.L.T(locales.NotAllowed), b.mainMenu(r.L))
		return err
	}
	f := storage.EventFilter{After: b.now()}
	for _, c := range centers {
		f.CenterIDs = append(f.CenterIDs, c.ID)
	}
	events, _, err := b.store.UpcomingEvents(ctx, f, 0, 30)
	if err != nil {
		return fmt.Errorf("staff events: %w", err)
	}
	if len(events) == 0 {
		_, err := b.reply(ctx, r, r.L.T(locales.StaffNoEvents), b.mainMenu(r.L))
		return err
	}
	lang := storage.Lang(r.L.Lang())
	back := eventList{kind: listAll}
	var rows [][]tgbotapi.InlineKeyboardButton
	for _, e := range events {
		label := r.L.ShortDate(e.Start.In(b.cfg.Location)) + " · " + e.TitleIn(lang)
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(label, cbEvent, append([]string{tg.B36(e.ID)}, back.args()...)...)))
	}
	_, err = b.reply(ctx, r, r.L.T(locales.StaffPickEvent), tgbotapi.NewInlineKeyboardMarkup(rows...))
	return err
}

// staffEvent loads the open event a staff button names and checks that the
// presser may manage it.
func (b *Bot) staffEvent(ctx context.Context, r *Request) (storage.Event, bool, error) {
	id, err := r.Data.ID(0)
	if err != nil {
		b.answer(ctx, r, r.L.T(locales.OutdatedButton))
		return storage.Event{}, false, nil
	}
	e, err := b.store.Event(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		b.answer(ctx, r, r.L.T(locales.OutdatedButton))
		return e, false, nil
	case err != nil:
		return e, false, fmt.Errorf("load event %d: %w", id, err)
	case r.From == nil || !b.board.isStaffOf(r.From.ID, e.CenterID):
		b.alert(ctx, r, r.L.T(locales.NotAllowed))
		return e, false, nil
	case !e.Open(b.now()):
		b.alert(ctx, r, r.L.T(locales.EventNotAvailable))
		return e, false, nil
	}
	return e, true, nil
}

// handleEditEventCallback (eved:<eventID>) starts the dialogue with the
// event's values; each step offers to keep the current one.
func (b *Bot) handleEditEventCallback(ctx context.Context, r *Request) error {
	e, ok, err := b.staffEvent(ctx, r)
	if !ok || err != nil {
		return err
	}
	b.answer(ctx, r, "")
	conv := storage.Conversation{ChatID: r.ChatID, Flow: flowEvent, Step: evStepTitleKK, UpdatedAt: b.now()}
	conv.Set(keyMode, "edit")
	conv.Set(keyEvent, tg.B36(e.ID))
	conv.Set(evStepCenter, e.CenterID)
	conv.Set(evStepTitleKK, e.TitleKK)
	conv.Set(evStepTitleRU, e.TitleRU)
	conv.Set(evStepDescKK, e.DescriptionKK)
	conv.Set(evStepDescRU, e.DescriptionRU)
	conv.Set(evStepStart, strconv.FormatInt(e.Start.Unix(), 10))
	conv.Set(evStepMinutes, strconv.Itoa(e.Minutes))
	conv.Set(evStepCapacity, strconv.Itoa(e.Capacity))
	if err := b.store.SaveConversation(ctx, conv); err != nil {
		return fmt.Errorf("start edit dialogue: %w", err)
	}
	return b.askStep(ctx, r, conv, "")
}

// handleCancelEventCallback (evx:<eventID>) asks for confirmation.
func (b *Bot) handleCancelEventCallback(ctx context.Context, r *Request) error {
	e, ok, err := b.staffEvent(ctx, r)
	if !ok || err != nil {
		return err
	}
	b.answer(ctx, r, "")
	kb := tgbotapi.NewInlineKeyboardMarkup(
		tgbotapi.NewInlineKeyboardRow(button(r.L.T(locales.ButtonConfirmCancel), cbCancelEventYes, tg.B36(e.ID))),
		tgbotapi.NewInlineKeyboardRow(button(r.L.T(locales.ButtonBack), cbEvent, append([]string{tg.B36(e.ID)}, eventList{kind: listAll}.args()...)...)),
	)
	text := r.L.T(locales.StaffCancelAsk, locales.Data{"Title": esc(e.TitleIn(storage.Lang(r.L.Lang())))})
	return b.edit(ctx, r, text, &kb)
}

// handleCancelEventYesCallback (evxy:<eventID>) cancels the event; the
// store writes a notice to everyone registered or waiting in the same
// transaction, and the sweep tells each in their language.
func (b *Bot) handleCancelEventYesCallback(ctx context.Context, r *Request) error {
	e, ok, err := b.staffEvent(ctx, r)
	if !ok || err != nil {
		return err
	}
	e, regs, err := b.store.CancelEvent(ctx, e.ID, b.now())
	if errors.Is(err, storage.ErrEventClosed) {
		b.alert(ctx, r, r.L.T(locales.EventNotAvailable))
		return nil
	}
	if err != nil {
		return fmt.Errorf("cancel event %d: %w", e.ID, err)
	}
	b.log.Info("event cancelled", "event_id", e.ID, "chat_id", r.ChatID, "registrations", len(regs))
	b.answer(ctx, r, "")
	// The notices were stored with the cancellation; the reminder sweep
	// sends them at bulk pace, so thousands of them outlast neither this
	// handler nor a restart.
	text := r.L.T(locales.StaffEventCancelled, locales.Data{"Title": esc(e.TitleIn(storage.Lang(r.L.Lang())))}) +
		"\n" + r.L.N(locales.StaffWillNotify, len(regs))
	return b.edit(ctx, r, text, nil)
}

// askStep sends the question of the conversation's step, after problem
// (the reason an answer was refused) when there is one.
func (b *Bot) askStep(ctx context.Context, r *Request, conv storage.Conversation, problem string) error {
	l := r.L
	editing := conv.Get(keyMode) == "edit"
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
	switch conv.Step {
	case evStepCenter:
		var rows [][]tgbotapi.InlineKeyboardButton
		for _, c := range b.eventStaffCenters(r.From.ID) {
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
		}[conv.Step]
		text = example(ask[0], locales.Data{"Example": esc(l.T(ask[1]))})
		current = esc(conv.Get(conv.Step))
	case evStepStart:
		text = example(locales.StaffAskStart, locales.Data{"Example": b.startExample()})
		if s, err := strconv.ParseInt(conv.Get(evStepStart), 10, 64); err == nil {
			current = l.DateTime(time.Unix(s, 0).In(b.cfg.Location))
		}
	case evStepMinutes:
		text = example(locales.StaffAskMinutes, locales.Data{"Example": 90})
		current = conv.Get(evStepMinutes)
	case evStepCapacity:
		text = example(locales.StaffAskCapacity, locales.Data{"Example": 30})
		current = conv.Get(evStepCapacity)
	case evStepConfirm:
		kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
			button(l.T(locales.ButtonSave), cbEventSave, "y"),
			button(l.T(locales.ButtonCancel), cbEventSave, "n"),
		))
		text = l.T(locales.StaffConfirm, locales.Data{"Text": b.eventSummary(l, conv)})
		if problem != "" {
			text = problem + "\n\n" + text
		}
		markup = kb
	}
	if editing && current != "" && conv.Step != evStepConfirm && conv.Step != evStepCenter {
		text += "\n\n" + l.T(locales.StaffCurrentValue, locales.Data{"Value": current})
		markup = keep
	}
	_, err := b.reply(ctx, r, text, markup)
	return err
}

// startExample is a start a week from now at 15:00, in the typed format.
func (b *Bot) startExample() string {
	d := b.now().In(b.cfg.Location).AddDate(0, 0, 7)
	return time.Date(d.Year(), d.Month(), d.Day(), 15, 0, 0, 0, b.cfg.Location).Format("02.01.2006 15:04")
}

// eventSummary shows what the dialogue collected, for the confirmation.
func (b *Bot) eventSummary(l *locales.Localizer, conv storage.Conversation) string {
	start, _ := strconv.ParseInt(conv.Get(evStepStart), 10, 64)
	minutes, _ := strconv.Atoi(conv.Get(evStepMinutes))
	capacity, _ := strconv.Atoi(conv.Get(evStepCapacity))
	return l.T(locales.StaffSummary, locales.Data{
		"Center": esc(b.centerName(l, conv.Get(evStepCenter))), "When": l.DateTime(time.Unix(start, 0).In(b.cfg.Location)),
		"Duration": l.N(locales.EventMinutes, minutes), "Capacity": l.Int(capacity),
		"TitleKK": esc(conv.Get(evStepTitleKK)), "TitleRU": esc(conv.Get(evStepTitleRU)),
		"DescriptionKK": esc(conv.Get(evStepDescKK)), "DescriptionRU": esc(conv.Get(evStepDescRU)),
	})
}

// handleEventStep takes a typed answer of the dialogue. A bad answer is
// asked again with an example; what was entered before stays.
func (b *Bot) handleEventStep(ctx context.Context, r *Request, conv storage.Conversation) error {
	l := r.L
	text := strings.TrimSpace(r.Message.Text)
	keep := conv.Get(keyMode) == "edit" && text == strings.TrimSpace(l.T(locales.StaffKeep))
	var problem string
	switch conv.Step {
	case evStepCenter, evStepConfirm:
		return b.askStep(ctx, r, conv, l.T(locales.StaffPressButton))
	case evStepTitleKK, evStepTitleRU, evStepDescKK, evStepDescRU:
		limit := maxTitleRunes
		exampleID := map[string]string{
			evStepTitleKK: locales.ExampleTitleKK, evStepTitleRU: locales.ExampleTitleRU,
			evStepDescKK: locales.ExampleDescriptionKK, evStepDescRU: locales.ExampleDescriptionRU,
		}[conv.Step]
		if conv.Step == evStepDescKK || conv.Step == evStepDescRU {
			limit = maxDescriptionRunes
		}
		if !keep {
			if text == "" || utf8.RuneCountInString(text) > limit {
				problem = l.T(locales.StaffBadText, locales.Data{"Max": limit, "Example": esc(l.T(exampleID))})
			} else {
				conv.Set(conv.Step, text)
			}
		}
	case evStepStart:
		if !keep {
			t, err := time.ParseInLocation(startLayout, strings.Join(strings.Fields(text), " "), b.cfg.Location)
			switch {
			case err != nil:
				problem = l.T(locales.StaffBadStart, locales.Data{"Example": b.startExample()})
			case !t.After(b.now()):
				problem = l.T(locales.StaffStartPast, locales.Data{"Example": b.startExample()})
			default:
				conv.Set(evStepStart, strconv.FormatInt(t.Unix(), 10))
			}
		}
	case evStepMinutes:
		if !keep {
			n, err := strconv.Atoi(text)
			if err != nil || n < minEventMinutes || n > maxEventMinutes {
				problem = l.T(locales.StaffBadMinutes, locales.Data{"Max": maxEventMinutes, "Example": 90})
			} else {
				conv.Set(evStepMinutes, strconv.Itoa(n))
			}
		}
	case evStepCapacity:
		if !keep {
			n, err := strconv.Atoi(text)
			if err != nil || n < 1 || n > maxEventCapacity {
				problem = l.T(locales.StaffBadCapacity, locales.Data{"Max": l.Int(maxEventCapacity), "Example": 30})
			} else if registered, err := b.registeredOf(ctx, conv); err != nil {
				return err
			} else if n < registered {
				problem = l.T(locales.StaffCapacityBelow, locales.Data{"Count": registered})
			} else {
				conv.Set(evStepCapacity, strconv.Itoa(n))
			}
		}
	default:
		// A step this version does not know: start over rather than guess.
		if err := b.store.DeleteConversation(ctx, r.ChatID); err != nil {
			return err
		}
		_, err := b.reply(ctx, r, l.T(locales.DialogExpired), b.mainMenu(l))
		return err
	}
	if problem != "" {
		return b.askStep(ctx, r, conv, problem)
	}
	conv.Step = nextStep(conv.Step)
	conv.UpdatedAt = b.now()
	if err := b.store.SaveConversation(ctx, conv); err != nil {
		return fmt.Errorf("save event dialogue: %w", err)
	}
	return b.askStep(ctx, r, conv, "")
}

func nextStep(step string) string {
	i := slices.Index(eventSteps, step)
	if i < 0 || i+1 >= len(eventSteps) {
		return evStepConfirm
	}
	return eventSteps[i+1]
}

// registeredOf is how many people an edited event has; 0 for a new one.
func (b *Bot) registeredOf(ctx context.Context, conv storage.Conversation) (int, error) {
	if conv.Get(keyMode) != "edit" {
		return 0, nil
	}
	id, err := strconv.ParseUint(conv.Get(keyEvent), 36, 64)
	if err != nil {
		return 0, nil
	}
	e, err := b.store.Event(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	return e.Registered, err
}

// dialogue returns the chat's event dialogue when it is at step; otherwise
// the button is stale and the person is told.
func (b *Bot) dialogue(ctx context.Context, r *Request, step string) (storage.Conversation, bool, error) {
	conv, err := b.store.Conversation(ctx, r.ChatID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && (conv.Flow != flowEvent || conv.Step != step)) {
		b.answer(ctx, r, r.L.T(locales.OutdatedButton))
		return conv, false, nil
	}
	if err != nil {
		return conv, false, err
	}
	return conv, true, nil
}

// handleEventCenterCallback (evnc:<centerID>) answers the center step.
func (b *Bot) handleEventCenterCallback(ctx context.Context, r *Request) error {
	conv, ok, err := b.dialogue(ctx, r, evStepCenter)
	if !ok || err != nil {
		return err
	}
	id := r.Data.Arg(0)
	if _, known := b.cat().Center(id); !known || !b.board.isStaffOf(r.From.ID, id) {
		b.alert(ctx, r, r.L.T(locales.NotAllowed))
		return nil
	}
	b.answer(ctx, r, "")
	conv.Set(evStepCenter, id)
	conv.Step = evStepTitleKK
	conv.UpdatedAt = b.now()
	if err := b.store.SaveConversation(ctx, conv); err != nil {
		return fmt.Errorf("save event dialogue: %w", err)
	}
	// The choice stays visible; its buttons go.
	if err := b.edit(ctx, r, r.L.T(locales.StaffChooseCenter)+"\n🏢 "+esc(b.centerName(r.L, id)), nil); err != nil {
		return err
	}
	return b.askStep(ctx, r, conv, "")
}

// handleEventSaveCallback (evns:<y|n>) saves or drops what the dialogue
// collected. Staff rights are checked again: they may have changed since
// the dialogue began.
func (b *Bot) handleEventSaveCallback(ctx context.Context, r *Request) error {
	conv, ok, err := b.dialogue(ctx, r, evStepConfirm)
	if !ok || err != nil {
		return err
	}
	l := r.L
	switch r.Data.Arg(0) {
	case "n":
		b.answer(ctx, r, "")
		if err := b.store.DeleteConversation(ctx, r.ChatID); err != nil {
			return err
		}
		_ = b.edit(ctx, r, l.T(locales.StaffDiscarded), nil)
		_, err := b.reply(ctx, r, l.T(locales.MenuPrompt), b.mainMenu(l))
		return err
	case "y":
	default:
		b.answer(ctx, r, l.T(locales.OutdatedButton))
		return nil
	}
	center := conv.Get(evStepCenter)
	if !b.board.isStaffOf(r.From.ID, center) {
		b.alert(ctx, r, l.T(locales.NotAllowed))
		return nil
	}
	start, err1 := strconv.ParseInt(conv.Get(evStepStart), 10, 64)
	minutes, err2 := strconv.Atoi(conv.Get(evStepMinutes))
	capacity, err3 := strconv.Atoi(conv.Get(evStepCapacity))
	if err := errors.Join(err1, err2, err3); err != nil {
		return fmt.Errorf("event dialogue of %d holds bad values: %w", r.ChatID, err)
	}
	now := b.now()
	fields := func(e *storage.Event) {
		e.CenterID = center
		e.TitleKK, e.TitleRU = conv.Get(evStepTitleKK), conv.Get(evStepTitleRU)
		e.DescriptionKK, e.DescriptionRU = conv.Get(evStepDescKK), conv.Get(evStepDescRU)
		e.Start = time.Unix(start, 0).UTC()
		e.Minutes, e.Capacity = minutes, capacity
		e.UpdatedAt = now
	}
	var (
		saved    storage.Event
		promoted []storage.Registration
	)
	if conv.Get(keyMode) == "edit" {
		id, err := strconv.ParseUint(conv.Get(keyEvent), 36, 64)
		if err != nil {
			return fmt.Errorf("event dialogue of %d: event id: %w", r.ChatID, err)
		}
		saved, promoted, err = b.store.UpdateEvent(ctx, id, func(e *storage.Event) error {
			if !e.Open(now) {
				return storage.ErrEventClosed
			}
			fields(e)
			return nil
		}, b.cfg.Reminders, now)
		switch {
		case errors.Is(err, storage.ErrEventClosed), errors.Is(err, storage.ErrNotFound):
			b.alert(ctx, r, l.T(locales.EventNotAvailable))
			return b.store.DeleteConversation(ctx, r.ChatID)
		case errors.Is(err, storage.ErrConflict):
			// More people registered while the dialogue ran: ask again.
			b.answer(ctx, r, "")
			conv.Step = evStepCapacity
			if err := b.store.SaveConversation(ctx, conv); err != nil {
				return err
			}
			registered, _ := b.registeredOf(ctx, conv)
			return b.askStep(ctx, r, conv, l.T(locales.StaffCapacityBelow, locales.Data{"Count": registered}))
		case err != nil:
			return fmt.Errorf("update event %d: %w", id, err)
		}
	} else {
		e := storage.Event{CreatedBy: r.From.ID, CreatedAt: now}
		fields(&e)
		if saved, err = b.store.CreateEvent(ctx, e); err != nil {
			return fmt.Errorf("create event: %w", err)
		}
	}
	if err := b.store.DeleteConversation(ctx, r.ChatID); err != nil {
		return err
	}
	b.log.Info("event saved", "event_id", saved.ID, "chat_id", r.ChatID, "mode", conv.Get(keyMode))
	b.answer(ctx, r, l.T(locales.StaffSaved))
	_ = b.edit(ctx, r, l.T(locales.StaffSaved), nil)
	if _, err := b.reply(ctx, r, l.T(locales.MenuPrompt), b.mainMenu(l)); err != nil {
		return err
	}
	card := *r
	card.Query = nil // a new message, not an edit of the confirmation
	if err := b.board.showEventCard(ctx, &card, saved, eventList{kind: listAll}); err != nil {
		return err
	}
	// The notices (moved up, time changed) were stored with the update, for
	// the sweep: a raised capacity or a moved start may concern many people.
	for _, reg := range promoted {
		b.log.Info("moved up from the waitlist", "event_id", saved.ID, "chat_id", reg.ChatID)
	}
	return nil
}
