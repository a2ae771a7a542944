package bot

import (
	"cmp"
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
)

// Events: upcoming events of a center, a district or all, soonest first,
// paged in place; the event card with registration, the waitlist and its
// automatic moving up.

// eventStore is what the event lists and registration read and write.
type eventStore interface {
	Event(ctx context.Context, id uint64) (storage.Event, error)
	UpcomingEvents(ctx context.Context, f storage.EventFilter, offset, limit int) ([]storage.Event, int, error)
	PersonRegistrations(ctx context.Context, chatID int64) ([]storage.Registration, error)
	Registration(ctx context.Context, eventID uint64, chatID int64) (storage.Registration, error)
	Register(ctx context.Context, eventID uint64, chatID int64, now time.Time, rem storage.ReminderPolicy) (storage.Registration, storage.Event, error)
	Unregister(ctx context.Context, eventID uint64, chatID int64, now time.Time, rem storage.ReminderPolicy) (storage.Event, *storage.Registration, error)
	ClaimNotices(ctx context.Context, eventID uint64, chatID int64) ([]storage.Reminder, error)
	SeedEvents(ctx context.Context, seeds []storage.Event) (int, error)
}

// reminderSender sends one reminder or notice in its person's language
// (reminders.go).
type reminderSender interface {
	Remind(ctx context.Context, r storage.Reminder) error
}

// eventBoard is the feature: the event lists, an event's card, and
// registering for it or giving the place up.
type eventBoard struct {
	kit
	store  eventStore
	remind reminderSender
}

// eventsPerPage keeps a page readable on a small phone and well under
// Telegram's 4096 characters.
const eventsPerPage = 5

// Kinds of event list; with the list's id and page they travel in the
// buttons, so a card knows which page "back" returns to.
const (
	listAll      = "a"
	listCenter   = "c"
	listDistrict = "d"
	listMine     = "m"
	noID         = "-" // the id argument of lists that have none
	maxPage      = 1000
)

// eventList is one page of one list.
type eventList struct {
	kind string
	id   string
	page int
}

func (e eventList) args() []string {
	id := e.id
	if id == "" {
		id = noID
	}
	return []string{e.kind, id, tg.B36(uint64(e.page))}
}

// parseEventList reads a list from callback arguments from, from+1, from+2
// and checks that its center or district exists.
func (f *eventBoard) parseEventList(c tg.Callback, from int) (eventList, bool) {
	e := eventList{kind: c.Arg(from), id: c.Arg(from + 1)}
	page, err := c.ID(from + 2)
	if err != nil || page > maxPage {
		return e, false
	}
	e.page = int(page)
	switch e.kind {
	case listAll, listMine:
		ok := e.id == noID
		e.id = ""
		return e, ok
	case listCenter:
		_, ok := f.catalog().Center(e.id)
		return e, ok
	case listDistrict:
		_, ok := f.catalog().District(e.id)
		return e, ok
	}
	return e, false
}

// handleEventsMenu asks which events to show.
func (f *eventBoard) handleEventsMenu(ctx context.Context, r *tg.Request) error {
	kb := f.eventsMenuKeyboard(r.L)
	if r.Query != nil {
		f.tx.Answer(ctx, r, "")
		return f.tx.Edit(ctx, r, r.L.T(locales.EventsChooseScope), &kb)
	}
	_, err := f.tx.Reply(ctx, r, r.L.T(locales.EventsChooseScope), kb)
	return err
}

func (f *eventBoard) eventsMenuKeyboard(l *locales.Localizer) tgbotapi.InlineKeyboardMarkup {
	return tgbotapi.NewInlineKeyboardMarkup(
		tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonEventsAll), cbEventList, eventList{kind: listAll}.args()...)),
		tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonEventsByDistrict), cbDistricts, scopeEvents)),
		tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonMyEvents), cbEventList, eventList{kind: listMine}.args()...)),
	)
}

// handleEventListCallback (evl:<kind>:<id>:<page>) shows a page of a list.
func (f *eventBoard) handleEventListCallback(ctx context.Context, r *tg.Request) error {
	list, ok := f.parseEventList(r.Data, 0)
	if !ok {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	return f.showEventList(ctx, r, list)
}

// loadEventList returns the page's events and how many the list has; a
// page past the end (the list shrank since the button was made) becomes the
// last page.
func (f *eventBoard) loadEventList(ctx context.Context, r *tg.Request, list *eventList) ([]storage.Event, int, error) {
	now := f.now()
	if list.kind == listMine {
		regs, err := f.store.PersonRegistrations(ctx, r.ChatID)
		if err != nil {
			return nil, 0, fmt.Errorf("registrations of %d: %w", r.ChatID, err)
		}
		var all []storage.Event
		for _, reg := range regs {
			e, err := f.store.Event(ctx, reg.EventID)
			if errors.Is(err, storage.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, 0, err
			}
			if e.Open(now) {
				all = append(all, e)
			}
		}
		slices.SortFunc(all, func(x, y storage.Event) int {
			return cmp.Or(x.Start.Compare(y.Start), cmp.Compare(x.ID, y.ID))
		})
		list.page = clampPage(list.page, len(all))
		from := min(list.page*eventsPerPage, len(all))
		return all[from:min(from+eventsPerPage, len(all))], len(all), nil
	}
	filter := storage.EventFilter{After: now}
	switch list.kind {
	case listCenter:
		filter.CenterIDs = []string{list.id}
	case listDistrict:
		for _, c := range f.catalog().CentersIn(list.id) {
			filter.CenterIDs = append(filter.CenterIDs, c.ID)
		}
		if len(filter.CenterIDs) == 0 {
			return nil, 0, nil
		}
	}
	events, total, err := f.store.UpcomingEvents(ctx, filter, list.page*eventsPerPage, eventsPerPage)
	if err != nil {
		return nil, 0, fmt.Errorf("upcoming events: %w", err)
	}
	if len(events) == 0 && total > 0 {
		list.page = clampPage(list.page, total)
		events, total, err = f.store.UpcomingEvents(ctx, filter, list.page*eventsPerPage, eventsPerPage)
	}
	return events, total, err
}

func clampPage(page, total int) int {
	last := max((total-1)/eventsPerPage, 0)
	return min(max(page, 0), last)
}

// showEventList shows a page, editing the pressed message in place so that
// paging never floods the chat.
func (f *eventBoard) showEventList(ctx context.Context, r *tg.Request, list eventList) error {
	events, total, err := f.loadEventList(ctx, r, &list)
	if err != nil {
		return err
	}
	f.tx.Answer(ctx, r, "")
	l := r.L
	var title string
	switch list.kind {
	case listAll:
		title = l.T(locales.EventsAllTitle)
	case listMine:
		title = l.T(locales.MyEventsTitle)
	case listCenter:
		c, _ := f.catalog().Center(list.id)
		title = l.T(locales.EventsCenterTitle, locales.Data{"Center": esc(c.Name.In(l.Lang()))})
	case listDistrict:
		d, _ := f.catalog().District(list.id)
		title = l.T(locales.EventsDistrictTitle, locales.Data{"District": esc(d.Name.In(l.Lang()))})
	}
	parts := []string{"<b>" + title + "</b>"}
	var rows [][]tgbotapi.InlineKeyboardButton
	if total == 0 {
		if list.kind == listMine {
			parts = append(parts, l.T(locales.MyEventsNone))
		} else {
			parts = append(parts, l.T(locales.EventsNone))
		}
	} else {
		pages := (total + eventsPerPage - 1) / eventsPerPage
		if pages > 1 {
			parts[0] += "\n" + l.T(locales.EventsPage, locales.Data{"Page": list.page + 1, "Pages": pages})
		}
		for i, e := range events {
			n := list.page*eventsPerPage + i + 1
			parts = append(parts, l.T(locales.EventsLine, locales.Data{
				"N": n, "Title": esc(e.TitleIn(storage.Lang(l.Lang()))),
				"When": f.when(l, e), "Center": esc(f.centerName(l, e.CenterID)),
			}))
			label := fmt.Sprintf("%d. %s", n, e.TitleIn(storage.Lang(l.Lang())))
			rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(label, cbEvent, append([]string{tg.B36(e.ID)}, list.args()...)...)))
		}
		var nav []tgbotapi.InlineKeyboardButton
		if list.page > 0 {
			prev := list
			prev.page--
			nav = append(nav, button(l.T(locales.ButtonPrevPage), cbEventList, prev.args()...))
		}
		if (list.page+1)*eventsPerPage < total {
			next := list
			next.page++
			nav = append(nav, button(l.T(locales.ButtonNextPage), cbEventList, next.args()...))
		}
		if len(nav) > 0 {
			rows = append(rows, nav)
		}
	}
	rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonBack), cbEventsMenu)))
	kb := tgbotapi.NewInlineKeyboardMarkup(rows...)
	if r.Query != nil {
		return f.tx.Edit(ctx, r, strings.Join(parts, "\n\n"), &kb)
	}
	_, err = f.tx.Reply(ctx, r, strings.Join(parts, "\n\n"), kb)
	return err
}

// when is the event's start in the bot's zone, in the person's language.
func (k kit) when(l *locales.Localizer, e storage.Event) string {
	return l.DateTime(e.Start.In(k.cfg.Location))
}

// centerName is a center's name with its settlement; a center removed from
// the catalog shows its id rather than nothing.
func (k kit) centerName(l *locales.Localizer, id string) string {
	c, ok := k.catalog().Center(id)
	if !ok {
		return id
	}
	if s := c.Settlement.In(l.Lang()); s != "" {
		return c.Name.In(l.Lang()) + ", " + s
	}
	return c.Name.In(l.Lang())
}

// eventCard renders an event for one person: their registration decides
// the buttons, staff of its center also get edit and cancel.
func (f *eventBoard) eventCard(ctx context.Context, r *tg.Request, e storage.Event, back eventList) (string, tgbotapi.InlineKeyboardMarkup, error) {
	l := r.L
	lang := storage.Lang(l.Lang())
	reg, err := f.store.Registration(ctx, e.ID, r.ChatID)
	registered := err == nil
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return "", tgbotapi.InlineKeyboardMarkup{}, fmt.Errorf("registration %d/%d: %w", e.ID, r.ChatID, err)
	}
	parts := []string{l.T(locales.EventCard, locales.Data{
		"Title": esc(e.TitleIn(lang)), "Center": esc(f.centerName(l, e.CenterID)),
		"When": f.when(l, e), "Duration": l.N(locales.EventMinutes, e.Minutes),
	})}
	if d := e.DescriptionIn(lang); d != "" {
		parts = append(parts, esc(d))
	}
	seats := l.N(locales.EventSeatsLeft, e.SeatsLeft())
	if e.SeatsLeft() == 0 {
		seats = l.T(locales.EventNoSeats)
	}
	if e.Waiting > 0 {
		seats += "\n" + l.N(locales.EventWaiting, e.Waiting)
	}
	parts = append(parts, seats)
	ctxArgs := append([]string{tg.B36(e.ID)}, back.args()...)
	var rows [][]tgbotapi.InlineKeyboardButton
	switch {
	case registered && reg.Status == storage.Registered:
		parts = append(parts, l.T(locales.EventYouRegistered))
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonUnregister), cbUnregister, ctxArgs...)))
	case registered:
		parts = append(parts, l.T(locales.EventYouWaitlisted))
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonLeaveWaitlist), cbUnregister, ctxArgs...)))
	case e.SeatsLeft() > 0:
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonRegister), cbRegister, ctxArgs...)))
	default:
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonJoinWaitlist), cbRegister, ctxArgs...)))
	}
	if r.From != nil && f.isStaffOf(r.From.ID, e.CenterID) {
		parts = append(parts, l.T(locales.StaffEventRoster, locales.Data{"Count": e.Registered, "N": e.Waiting}))
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(
			button(l.T(locales.ButtonEditEvent), cbEditEvent, tg.B36(e.ID)),
			button(l.T(locales.ButtonCancelEvent), cbCancelEvent, tg.B36(e.ID)),
		))
	}
	rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonBackToList), cbEventList, back.args()...)))
	return strings.Join(parts, "\n\n"), tgbotapi.NewInlineKeyboardMarkup(rows...), nil
}

// openEvent loads the event a button names and checks it is still open;
// a forged, stale or past one gets a notice and ok=false.
func (f *eventBoard) openEvent(ctx context.Context, r *tg.Request) (storage.Event, eventList, bool, error) {
	id, err := r.Data.ID(0)
	back, okList := f.parseEventList(r.Data, 1)
	if err != nil || !okList {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return storage.Event{}, back, false, nil
	}
	e, err := f.store.Event(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return e, back, false, nil
	case err != nil:
		return e, back, false, fmt.Errorf("load event %d: %w", id, err)
	case !e.Open(f.now()):
		f.tx.Alert(ctx, r, r.L.T(locales.EventNotAvailable))
		return e, back, false, nil
	}
	return e, back, true, nil
}

// handleEventCallback (ev:<eventID>:<list>) shows the event card in place
// of the list.
func (f *eventBoard) handleEventCallback(ctx context.Context, r *tg.Request) error {
	e, back, ok, err := f.openEvent(ctx, r)
	if !ok || err != nil {
		return err
	}
	f.tx.Answer(ctx, r, "")
	return f.showEventCard(ctx, r, e, back)
}

func (f *eventBoard) showEventCard(ctx context.Context, r *tg.Request, e storage.Event, back eventList) error {
	text, kb, err := f.eventCard(ctx, r, e, back)
	if err != nil {
		return err
	}
	if r.Query != nil {
		return f.tx.Edit(ctx, r, text, &kb)
	}
	_, err = f.tx.Reply(ctx, r, text, kb)
	return err
}

// handleRegisterCallback (evr:<eventID>:<list>) takes a place or a place on
// the waitlist. A double press finds the registration and adds nothing.
func (f *eventBoard) handleRegisterCallback(ctx context.Context, r *tg.Request) error {
	e, back, ok, err := f.openEvent(ctx, r)
	if !ok || err != nil {
		return err
	}
	reg, e, err := f.store.Register(ctx, e.ID, r.ChatID, f.now(), f.cfg.Reminders)
	switch {
	case errors.Is(err, storage.ErrConflict):
		f.tx.Answer(ctx, r, r.L.T(locales.EventAlreadyRegistered))
	case errors.Is(err, storage.ErrEventClosed), errors.Is(err, storage.ErrNotFound):
		f.tx.Alert(ctx, r, r.L.T(locales.EventNotAvailable))
		return nil
	case err != nil:
		return fmt.Errorf("register %d for event %d: %w", r.ChatID, e.ID, err)
	case reg.Status == storage.Registered:
		f.tx.Answer(ctx, r, r.L.T(locales.EventRegisteredAnswer))
	default:
		f.tx.Answer(ctx, r, r.L.T(locales.EventWaitlistedAnswer))
	}
	return f.showEventCard(ctx, r, e, back)
}

// handleUnregisterCallback (evu:<eventID>:<list>) gives the place up; the
// first person waiting moves up and is told. The registration is looked up
// by the chat that pressed, so a button copied from someone else's chat can
// only ever touch the presser's own registration.
func (f *eventBoard) handleUnregisterCallback(ctx context.Context, r *tg.Request) error {
	e, back, ok, err := f.openEvent(ctx, r)
	if !ok || err != nil {
		return err
	}
	e, promoted, err := f.store.Unregister(ctx, e.ID, r.ChatID, f.now(), f.cfg.Reminders)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		f.tx.Answer(ctx, r, r.L.T(locales.EventNotRegistered))
		return nil
	case err != nil:
		return fmt.Errorf("unregister %d from event %d: %w", r.ChatID, e.ID, err)
	}
	f.tx.Answer(ctx, r, r.L.T(locales.EventUnregistered))
	if promoted != nil {
		f.notifyPromoted(ctx, e.ID, promoted.ChatID)
	}
	return f.showEventCard(ctx, r, e, back)
}

// notifyPromoted tells the person who moved up when someone gave a place
// up, at once rather than at the next sweep. The notice was stored with the
// move; it is claimed here before it is sent, so the sweep never sends it
// again, and a crash before the claim leaves it to the sweep.
func (f *eventBoard) notifyPromoted(ctx context.Context, eventID uint64, chatID int64) {
	notices, err := f.store.ClaimNotices(ctx, eventID, chatID)
	if err != nil {
		f.log.Warn("claim event notice", "event_id", eventID, "chat_id", chatID, "err", err)
		return
	}
	for _, n := range notices {
		if err := f.remind.Remind(ctx, n); err != nil {
			f.log.Warn("event notice not delivered", "reminder_id", n.ID, "kind", string(n.Kind),
				"event_id", eventID, "chat_id", chatID, "err", err)
		}
	}
}

// seedEvents copies the catalog's seed events into the store, each once:
// a seed already stored (and perhaps edited or cancelled by staff since) is
// left alone. main calls it at start (Bot.SeedEvents).
func (f *eventBoard) seedEvents(ctx context.Context) (int, error) {
	now := f.now()
	seeds := make([]storage.Event, 0, len(f.catalog().Events))
	for _, s := range f.catalog().Events {
		seeds = append(seeds, storage.Event{
			SeedID: s.ID, CenterID: s.CenterID, TitleKK: s.Title.KK, TitleRU: s.Title.RU,
			DescriptionKK: s.Description.KK, DescriptionRU: s.Description.RU,
			Start: s.Start, Minutes: s.Minutes, Capacity: s.Capacity, CreatedAt: now, UpdatedAt: now,
		})
	}
	n, err := f.store.SeedEvents(ctx, seeds)
	if err != nil {
		return 0, fmt.Errorf("seed events: %w", err)
	}
	return n, nil
}

// SeedEvents copies the catalog's seed events into the store, each once;
// main calls it at start.
func (b *Bot) SeedEvents(ctx context.Context) (int, error) { return b.board.seedEvents(ctx) }
