package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"jastar/bot/telegramtest"
	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/catalog"
)

// addEvent stores an event as staff would, at Almaty local time.
func (h *harness) addEvent(center, title string, start time.Time, capacity int) storage.Event {
	h.t.Helper()
	e, err := h.db.CreateEvent(context.Background(), storage.Event{
		CenterID: center, TitleKK: title, TitleRU: title, DescriptionKK: "Сипаттама", DescriptionRU: "Описание",
		Start: start, Minutes: 60, Capacity: capacity,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return e
}

// stem is the fixed start of a message, before its first template value,
// to match messages whose data varies.
func stem(lang, id string) string {
	data := locales.Data{}
	for _, k := range []string{"Name", "Km", "Title", "When", "Center", "Count", "N", "Max", "Example", "Value", "Text", "District", "Page", "Pages"} {
		data[k] = "\x01"
	}
	s := plain(testLocales.For(lang).T(id, data))
	s, _, _ = strings.Cut(s, "\x01")
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func eventAt(t testing.TB, month time.Month, day, hour int) time.Time {
	year := 2026 // the tests run in December 2026; January on is 2027
	if month < 11 {
		year = 2027
	}
	return time.Date(year, month, day, hour, 0, 0, 0, almaty(t))
}

// openCard opens an event's card the way a person does: menu, all events,
// the event's button (turning pages until it shows).
func (h *harness) openCard(u telegramtest.User, title string) telegramtest.Message {
	h.t.Helper()
	l := testLocales.For(u.LanguageCode)
	h.srv.SendText(u, l.T(locales.MenuEvents))
	menu := h.waitMatch(u.ID, "events menu", func(m telegramtest.Message) bool {
		return m.Text == l.T(locales.EventsChooseScope) && len(m.InlineKeyboard) > 0
	})
	h.press(u, menu, l.T(locales.ButtonEventsAll))
	for page := 0; page < 10; page++ {
		list := h.waitMatch(u.ID, "event list", func(m telegramtest.Message) bool {
			return m.ID == menu.ID && strings.HasPrefix(m.Text, l.T(locales.EventsAllTitle)) &&
				(page == 0 || strings.Contains(m.Text, fmt.Sprintf("%d", page+1)))
		})
		for _, row := range list.InlineKeyboard {
			for _, b := range row {
				if strings.HasSuffix(b.Text, ". "+title) {
					h.srv.PressButton(u, list.ChatID, list.ID, b.CallbackData)
					return h.waitMatch(u.ID, "event card", func(m telegramtest.Message) bool {
						return m.ID == menu.ID && strings.HasPrefix(m.Text, title)
					})
				}
			}
		}
		h.press(u, list, l.T(locales.ButtonNextPage))
	}
	h.t.Fatalf("event %q not found in the list", title)
	return telegramtest.Message{}
}

func TestEvents_PagingEditsInPlace(t *testing.T) {
	t.Parallel()
	clock := december1(t)
	h := newHarness(t, withClock(clock.Now))
	// Six seed events of the catalog are upcoming on 1 December; four more,
	// one past and one cancelled, make eleven stored, ten upcoming.
	h.addEvent("karasai", "Жаңа 1", eventAt(t, 12, 2, 11), 10)
	h.addEvent("balkhash", "Жаңа 2", eventAt(t, 12, 3, 11), 10)
	h.addEvent("konaev", "Жаңа 3", eventAt(t, 12, 5, 11), 10)
	h.addEvent("karasai", "Жаңа 4", eventAt(t, 12, 6, 11), 10)
	h.addEvent("karasai", "Өткен", eventAt(t, 11, 30, 11), 10)
	gone := h.addEvent("karasai", "Тоқтатылған", eventAt(t, 12, 2, 9), 10)
	if _, _, err := h.db.CancelEvent(context.Background(), gone.ID, clock.Now()); err != nil {
		t.Fatal(err)
	}
	wantOrder := []string{
		"Жаңа 1", "Жаңа 2", "Қаржылық сауаттылық тренингі", "Жаңа 3", "Жаңа 4",
		"Подкаст аймағы: ашық есік күні", "Коворкингтегі бизнес-тренинг", "Әлеуметтік шеберхана: пішу және тігу сабағы",
		"«Бизнес бастау»: грантқа қалай қатысуға болады", "«Жасыл ел»: маусымдық жұмыс туралы кездесу",
	}

	u := telegramtest.User{ID: 2101, FirstName: "Айжан", LanguageCode: "kk"}
	h.srv.SendText(u, kk(locales.MenuEvents))
	menu := h.waitText(u.ID, kk(locales.EventsChooseScope))
	h.press(u, menu, kk(locales.ButtonEventsAll))
	page1 := h.waitText(u.ID, kk(locales.EventsAllTitle), kk(locales.EventsPage, locales.Data{"Page": 1, "Pages": 2}))
	before := len(h.botMessages(u.ID))

	titles := func(m telegramtest.Message) []string {
		var out []string
		for _, row := range m.InlineKeyboard {
			for _, b := range row {
				if strings.HasPrefix(b.CallbackData, "ev:") {
					_, title, _ := strings.Cut(b.Text, ". ")
					out = append(out, title)
				}
			}
		}
		return out
	}
	if got := titles(page1); strings.Join(got, "|") != strings.Join(wantOrder[:5], "|") {
		t.Errorf("page 1 = %q, want %q", got, wantOrder[:5])
	}
	if page1.ID != menu.ID {
		t.Errorf("the list is message %d, want the menu %d edited in place", page1.ID, menu.ID)
	}
	// Dates in Kazakh, in Almaty time.
	if !strings.Contains(page1.Text, "2 желтоқсан, сәрсенбі, сағат 11:00") {
		t.Errorf("page 1 lacks the Kazakh date of the first event:\n%s", page1.Text)
	}

	h.press(u, page1, kk(locales.ButtonNextPage))
	page2 := h.waitText(u.ID, kk(locales.EventsPage, locales.Data{"Page": 2, "Pages": 2}))
	if page2.ID != menu.ID || page2.Edited < 2 {
		t.Errorf("page 2 is message %d (edited %d times), want message %d edited in place", page2.ID, page2.Edited, menu.ID)
	}
	if got := titles(page2); strings.Join(got, "|") != strings.Join(wantOrder[5:], "|") {
		t.Errorf("page 2 = %q, want %q", got, wantOrder[5:])
	}
	for _, hidden := range []string{"Өткен", "Тоқтатылған"} {
		if strings.Contains(page1.Text+page2.Text, hidden) {
			t.Errorf("a past or cancelled event %q is listed", hidden)
		}
	}
	h.press(u, page2, kk(locales.ButtonPrevPage))
	h.waitText(u.ID, kk(locales.EventsPage, locales.Data{"Page": 1, "Pages": 2}))
	if after := len(h.botMessages(u.ID)); after != before {
		t.Errorf("paging sent %d new messages, want 0", after-before)
	}

	// By district: Karasai district has the Karasai center's events only.
	h.press(u, page1, kk(locales.ButtonBack))
	h.press(u, h.waitText(u.ID, kk(locales.EventsChooseScope)), kk(locales.ButtonEventsByDistrict))
	districts := h.waitText(u.ID, kk(locales.CentersChooseDistrict))
	h.press(u, districts, "Қарасай ауданы")
	karasai := h.waitText(u.ID, "Қарасай ауданы: алдағы іс-шаралар")
	got := titles(karasai)
	want := []string{"Жаңа 1", "Жаңа 4", "Подкаст аймағы: ашық есік күні", "Әлеуметтік шеберхана: пішу және тігу сабағы", "«Бизнес бастау»: грантқа қалай қатысуға болады"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Karasai district = %q, want %q", got, want)
	}
}

func TestEvents_RegistrationWaitlistMovesUp(t *testing.T) {
	t.Parallel()
	clock := december1(t)
	h := newHarness(t, withClock(clock.Now))
	ev := h.addEvent("karasai", "Шағын шеберхана", eventAt(t, 12, 10, 15), 2)
	a := telegramtest.User{ID: 2201, FirstName: "Асқар", LanguageCode: "kk"}
	b := telegramtest.User{ID: 2202, FirstName: "Борис", LanguageCode: "ru"}
	c := telegramtest.User{ID: 2203, FirstName: "Сәуле", LanguageCode: "kk"}

	cardA := h.openCard(a, "Шағын шеберхана")
	if !strings.Contains(cardA.Text, kk(locales.EventSeatsLeft, locales.Data{"Count": 2})) && !strings.Contains(cardA.Text, testLocales.For("kk").N(locales.EventSeatsLeft, 2)) {
		t.Errorf("card lacks the seats left:\n%s", cardA.Text)
	}
	if got := h.waitAnswered(h.press(a, cardA, kk(locales.ButtonRegister))); got != kk(locales.EventRegisteredAnswer) {
		t.Errorf("A's answer = %q", got)
	}
	cardA = h.waitText(a.ID, kk(locales.EventYouRegistered))

	cardB := h.openCard(b, "Шағын шеберхана")
	if want := testLocales.For("ru").N(locales.EventSeatsLeft, 1); !strings.Contains(cardB.Text, want) {
		t.Errorf("B's card lacks %q:\n%s", want, cardB.Text)
	}
	h.waitAnswered(h.press(b, cardB, ru(locales.ButtonRegister)))
	h.waitText(b.ID, ru(locales.EventYouRegistered))

	cardC := h.openCard(c, "Шағын шеберхана")
	if !strings.Contains(cardC.Text, kk(locales.EventNoSeats)) {
		t.Errorf("a full event's card lacks the no-seats line:\n%s", cardC.Text)
	}
	if got := h.waitAnswered(h.press(c, cardC, kk(locales.ButtonJoinWaitlist))); got != kk(locales.EventWaitlistedAnswer) {
		t.Errorf("C's answer = %q, want the waitlist", got)
	}
	h.waitText(c.ID, kk(locales.EventYouWaitlisted))

	// A double press (a stale register button) adds nothing.
	stale := fmt.Sprintf("evr:%s:a:-:0", tg.B36(ev.ID))
	if got := h.waitAnswered(h.pressData(a, cardA, stale)); got != kk(locales.EventAlreadyRegistered) {
		t.Errorf("double press answer = %q", got)
	}
	if e, _ := h.db.Event(context.Background(), ev.ID); e.Registered != 2 || e.Waiting != 1 {
		t.Errorf("counts = %d registered, %d waiting; want 2 and 1", e.Registered, e.Waiting)
	}

	// A gives the place up: C moves up and is told, in Kazakh.
	if got := h.waitAnswered(h.press(a, cardA, kk(locales.ButtonUnregister))); got != kk(locales.EventUnregistered) {
		t.Errorf("unregister answer = %q", got)
	}
	note := h.waitText(c.ID, stem("kk", locales.EventPromoted), "Шағын шеберхана")
	if !strings.Contains(note.Text, "10 желтоқсан") {
		t.Errorf("promotion notice lacks the date:\n%s", note.Text)
	}
	// The handler sent the stored notice at once; the sweep, after a
	// restart too, does not send it again.
	h.restart()
	h.sweepAt(clock, clock.Now())
	if n := countText(h, c.ID, stem("kk", locales.EventPromoted)); n != 1 {
		t.Errorf("promotion notice sent %d times, want once:\n%s", n, h.transcript(c.ID))
	}
	reg, err := h.db.Registration(context.Background(), ev.ID, c.ID)
	if err != nil || reg.Status != storage.Registered {
		t.Errorf("C's registration = %+v, %v; want registered", reg, err)
	}
	if _, err := h.db.Registration(context.Background(), ev.ID, a.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("A's registration after cancelling: %v, want none", err)
	}

	// "My events" lists C's event.
	h.srv.SendText(c, kk(locales.MenuEvents))
	menu := h.waitMatch(c.ID, "events menu", func(m telegramtest.Message) bool { return m.Text == kk(locales.EventsChooseScope) })
	h.press(c, menu, kk(locales.ButtonMyEvents))
	h.waitText(c.ID, kk(locales.MyEventsTitle), "Шағын шеберхана")
}

// TestEvents_PromotionNoticeSurvivesACrash: the process stops right after
// the move up was stored, before anyone was told. The notice was stored in
// the same transaction, so after the restart the sweep tells the person,
// once, in their language.
func TestEvents_PromotionNoticeSurvivesACrash(t *testing.T) {
	t.Parallel()
	clock := december1(t)
	h := newHarness(t, withClock(clock.Now))
	ctx := context.Background()
	ev := h.addEvent("karasai", "Шағын шеберхана", eventAt(t, 12, 10, 15), 1)
	for _, id := range []int64{2251, 2252} {
		if _, _, err := h.db.Register(ctx, ev.ID, id, clock.Now(), h.bot.cfg.Reminders); err != nil {
			t.Fatal(err)
		}
	}
	h.person(2252, storage.Russian)
	// The store call of the unregister handler, and then the crash.
	if _, promoted, err := h.db.Unregister(ctx, ev.ID, 2251, clock.Now(), h.bot.cfg.Reminders); err != nil || promoted == nil {
		t.Fatalf("unregister = %+v, %v", promoted, err)
	}
	h.restart()
	h.sweepAt(clock, clock.Now())
	h.sweepAt(clock, clock.Now().Add(time.Minute))
	h.waitText(2252, stem("ru", locales.EventPromoted), "Шағын шеберхана", "10 декабря")
	if n := countText(h, 2252, stem("ru", locales.EventPromoted)); n != 1 {
		t.Errorf("promotion notice sent %d times, want once:\n%s", n, h.transcript(2252))
	}
}

func TestEvents_ForgedAndStaleButtonsChangeNothing(t *testing.T) {
	t.Parallel()
	clock := december1(t)
	h := newHarness(t, withClock(clock.Now))
	ev := h.addEvent("karasai", "Кездесу", eventAt(t, 12, 10, 15), 5)
	soon := h.addEvent("karasai", "Ертең", eventAt(t, 12, 2, 15), 5)
	owner := telegramtest.User{ID: 2301, FirstName: "Owner", LanguageCode: "kk"}
	other := telegramtest.User{ID: 2302, FirstName: "Other", LanguageCode: "ru"}
	card := h.openCard(owner, "Кездесу")
	h.waitAnswered(h.press(owner, card, kk(locales.ButtonRegister)))
	h.waitText(owner.ID, kk(locales.EventYouRegistered))

	h.srv.SendText(other, "/start")
	anchor := h.waitText(other.ID, ru(locales.MenuPrompt))
	// The anchor is not a bot message with buttons, so the presses are as
	// forged as they come: data the bot never gave this chat.
	tests := []struct {
		name, data, want string
	}{
		{"someone else's registration", "evu:" + tg.B36(ev.ID) + ":a:-:0", ru(locales.EventNotRegistered)},
		{"unknown event", "ev:zzzz:a:-:0", ru(locales.OutdatedButton)},
		{"unknown event register", "evr:zzzz:a:-:0", ru(locales.OutdatedButton)},
		{"malformed list", "evr:" + tg.B36(ev.ID) + ":q:-:0", ru(locales.OutdatedButton)},
		{"unknown prefix", "zz:1", ru(locales.OutdatedButton)},
		{"unknown center", "ctr:atlantis", ru(locales.OutdatedButton)},
		{"staff cancel by non-staff", "evxy:" + tg.B36(ev.ID), ru(locales.NotAllowed)},
		{"stale dialogue button", "evns:y", ru(locales.OutdatedButton)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.waitAnswered(h.pressData(other, anchor, tt.data)); got != tt.want {
				t.Errorf("answer = %q, want %q", got, tt.want)
			}
		})
	}
	e, _ := h.db.Event(context.Background(), ev.ID)
	if e.Cancelled || e.Registered != 1 {
		t.Errorf("event after forged presses = %+v; want it untouched with 1 registered", e)
	}
	if _, err := h.db.Registration(context.Background(), ev.ID, owner.ID); err != nil {
		t.Errorf("owner's registration: %v", err)
	}

	// An event already past: its old buttons register nobody.
	clock.Set(eventAt(t, 12, 3, 10))
	if got := h.waitAnswered(h.pressData(other, anchor, "evr:"+tg.B36(soon.ID)+":a:-:0")); got != ru(locales.EventNotAvailable) {
		t.Errorf("register for a past event: answer %q", got)
	}
	if _, err := h.db.Registration(context.Background(), soon.ID, other.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a past event took a registration: %v", err)
	}
}

// staffCatalog is the default catalog with user 900 on the staff of the
// Karasai and Balkhash centers.
func staffCatalog(t testing.TB) *catalog.Catalog {
	cat := catalog.Default(almaty(t))
	for i := range cat.Centers {
		if id := cat.Centers[i].ID; id == "karasai" || id == "balkhash" {
			cat.Centers[i].StaffUserIDs = []int64{900}
		}
	}
	return cat
}

func TestStaff_NewEventDialogue(t *testing.T) {
	t.Parallel()
	clock := december1(t)
	h := newHarness(t, withClock(clock.Now), withCatalog(staffCatalog(t)))
	staff := telegramtest.User{ID: 900, FirstName: "Гүлнар", LanguageCode: "kk"}
	say := func(text string) { h.srv.SendText(staff, text) }

	say("/newevent")
	ask := h.waitText(staff.ID, kk(locales.StaffChooseCenter))
	if d := buttonData(ask); len(d) != 2 || d[0] != "evnc:balkhash" || d[1] != "evnc:karasai" {
		t.Errorf("center buttons = %v, want the staff member's two centers", d)
	}
	h.press(staff, ask, "Қарасай")
	h.waitText(staff.ID, stem("kk", locales.StaffAskTitleKK))

	say("   ")
	h.waitText(staff.ID, stem("kk", locales.StaffBadText))
	say("Подкаст жазу сабағы")
	h.waitText(staff.ID, stem("kk", locales.StaffAskTitleRU))
	say("Урок записи подкаста")
	h.waitText(staff.ID, stem("kk", locales.StaffAskDescriptionKK))
	say("Студияда подкаст жазуды үйренеміз.")
	h.waitText(staff.ID, stem("kk", locales.StaffAskDescriptionRU))
	say("Учимся записывать подкаст в студии.")
	h.waitText(staff.ID, stem("kk", locales.StaffAskStart))
	say("31.02.2027 15:00")
	h.waitText(staff.ID, stem("kk", locales.StaffBadStart), "08.12.2026 15:00")
	say("01.11.2026 15:00")
	h.waitText(staff.ID, stem("kk", locales.StaffStartPast))
	say("05.12.2026 16:30")
	h.waitText(staff.ID, stem("kk", locales.StaffAskMinutes))
	say("90")
	h.waitText(staff.ID, stem("kk", locales.StaffAskCapacity))
	say("-5")
	h.waitText(staff.ID, stem("kk", locales.StaffBadCapacity))

	// Everything entered before the bad answers is still there.
	conv, err := h.db.Conversation(context.Background(), staff.ID)
	if err != nil {
		t.Fatal(err)
	}
	d, err := dialogueOf[eventState](conv)
	if err != nil || d.State.TitleKK != "Подкаст жазу сабағы" || d.State.Minutes != 90 {
		t.Fatalf("dialogue state = %+v, %v", d.State, err)
	}
	say("20")
	confirm := h.waitText(staff.ID, "Подкаст жазу сабағы", "Урок записи подкаста", "5 желтоқсан, сенбі, сағат 16:30", "90 минут")
	h.press(staff, confirm, kk(locales.ButtonSave))
	h.waitText(staff.ID, kk(locales.StaffSaved))
	// The new event's card, with the staff buttons.
	h.waitMatch(staff.ID, "the saved event's card", func(m telegramtest.Message) bool {
		d := buttonData(m)
		return strings.HasPrefix(m.Text, "Подкаст жазу сабағы") && len(d) > 1 && strings.HasPrefix(d[1], "eved:")
	})

	events, _, err := h.db.UpcomingEvents(context.Background(), storage.EventFilter{After: clock.Now(), CenterIDs: []string{"karasai"}}, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var saved *storage.Event
	for i := range events {
		if events[i].TitleKK == "Подкаст жазу сабағы" {
			saved = &events[i]
		}
	}
	if saved == nil {
		t.Fatalf("the new event is not among Karasai's upcoming events")
	}
	wantStart := time.Date(2026, 12, 5, 16, 30, 0, 0, almaty(t))
	if !saved.Start.Equal(wantStart) || saved.Minutes != 90 || saved.Capacity != 20 || saved.TitleRU != "Урок записи подкаста" || saved.CreatedBy != 900 {
		t.Errorf("saved event = %+v", *saved)
	}
	if _, err := h.db.Conversation(context.Background(), staff.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("dialogue still stored after saving: %v", err)
	}
}

func TestStaff_NonStaffRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withCatalog(staffCatalog(t)))
	u := telegramtest.User{ID: 901, FirstName: "Қонақ", LanguageCode: "kk"}
	for _, cmd := range []string{"/newevent", "/cancelevent", "/editevent"} {
		h.srv.SendText(u, cmd)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := h.srv.WaitMessages(ctx, u.ID, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Text != kk(locales.NotAllowed) {
			t.Errorf("non-staff got %q, want %q", m.Text, kk(locales.NotAllowed))
		}
	}
	if _, err := h.db.Conversation(context.Background(), u.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a dialogue was started for a non-staff user: %v", err)
	}
}

func TestStaff_CancelTellsEveryoneRegistered(t *testing.T) {
	t.Parallel()
	clock := december1(t)
	h := newHarness(t, withClock(clock.Now), withConfig(func(c *Config) { c.AdminIDs = []int64{800} }))
	ev := h.addEvent("balkhash", "Кітап клубы", eventAt(t, 12, 9, 17), 1)
	a := telegramtest.User{ID: 2401, FirstName: "Айнұр", LanguageCode: "kk"}
	b := telegramtest.User{ID: 2402, FirstName: "Вера", LanguageCode: "ru"}
	admin := telegramtest.User{ID: 800, FirstName: "Admin", LanguageCode: "ru"}
	cardA := h.openCard(a, "Кітап клубы")
	h.waitAnswered(h.press(a, cardA, kk(locales.ButtonRegister)))
	h.waitText(a.ID, kk(locales.EventYouRegistered))
	h.waitAnswered(h.press(b, h.openCard(b, "Кітап клубы"), ru(locales.ButtonJoinWaitlist)))
	h.waitText(b.ID, ru(locales.EventYouWaitlisted))

	h.srv.SendText(admin, "/cancelevent")
	pick := h.waitText(admin.ID, ru(locales.StaffPickEvent))
	h.press(admin, pick, "Кітап клубы")
	card := h.waitText(admin.ID, "Кітап клубы", ru(locales.StaffEventRoster, locales.Data{"Count": 1, "N": 1}))
	h.press(admin, card, ru(locales.ButtonCancelEvent))
	ask := h.waitText(admin.ID, stem("ru", locales.StaffCancelAsk))
	h.press(admin, ask, ru(locales.ButtonConfirmCancel))
	h.waitText(admin.ID, testLocales.For("ru").N(locales.StaffWillNotify, 2))

	// The notices were stored with the cancellation: the handler sent none,
	// and a restart before the sweep loses none and sends none twice.
	for _, u := range []telegramtest.User{a, b} {
		if n := countText(h, u.ID, stem(u.LanguageCode, locales.EventCancelledNotice)); n != 0 {
			t.Errorf("chat %d: the handler sent the notice itself, want it left to the sweep", u.ID)
		}
	}
	h.restart()
	h.sweepAt(clock, clock.Now())
	h.sweepAt(clock, clock.Now().Add(time.Minute))
	h.waitText(a.ID, stem("kk", locales.EventCancelledNotice), "Кітап клубы", "9 желтоқсан")
	h.waitText(b.ID, stem("ru", locales.EventCancelledNotice), "Кітап клубы", "9 декабря")
	for _, u := range []telegramtest.User{a, b} {
		if n := countText(h, u.ID, stem(u.LanguageCode, locales.EventCancelledNotice)); n != 1 {
			t.Errorf("chat %d: %d cancel notices, want 1:\n%s", u.ID, n, h.transcript(u.ID))
		}
	}
	if e, _ := h.db.Event(context.Background(), ev.ID); !e.Cancelled {
		t.Errorf("event not cancelled: %+v", e)
	}
	// Its old buttons now tell the person it is over.
	if got := h.waitAnswered(h.pressData(a, cardA, "evr:"+tg.B36(ev.ID)+":a:-:0")); got != kk(locales.EventNotAvailable) {
		t.Errorf("register for a cancelled event: %q", got)
	}
}

func TestStaff_EditEventKeepsAndMoves(t *testing.T) {
	t.Parallel()
	clock := december1(t)
	h := newHarness(t, withClock(clock.Now), withCatalog(staffCatalog(t)))
	ev := h.addEvent("karasai", "Дебат клубы", eventAt(t, 12, 8, 15), 1)
	a := telegramtest.User{ID: 2501, FirstName: "Ayan", LanguageCode: "ru"}
	b := telegramtest.User{ID: 2502, FirstName: "Бота", LanguageCode: "kk"}
	h.waitAnswered(h.press(a, h.openCard(a, "Дебат клубы"), ru(locales.ButtonRegister)))
	h.waitText(a.ID, ru(locales.EventYouRegistered))
	h.waitAnswered(h.press(b, h.openCard(b, "Дебат клубы"), kk(locales.ButtonJoinWaitlist)))
	h.waitText(b.ID, kk(locales.EventYouWaitlisted))

	staff := telegramtest.User{ID: 900, FirstName: "Гүлнар", LanguageCode: "kk"}
	h.srv.SendText(staff, "/editevent")
	pick := h.waitText(staff.ID, kk(locales.StaffPickEvent))
	h.press(staff, pick, "Дебат клубы")
	card := h.waitMatch(staff.ID, "staff card", func(m telegramtest.Message) bool {
		d := buttonData(m)
		return strings.HasPrefix(m.Text, "Дебат клубы") && len(d) > 1 && strings.HasPrefix(d[1], "eved:")
	})
	h.press(staff, card, kk(locales.ButtonEditEvent))
	keep := kk(locales.StaffKeep)
	prompt := h.waitText(staff.ID, stem("kk", locales.StaffAskTitleKK), kk(locales.StaffCurrentValue, locales.Data{"Value": "Дебат клубы"}))
	if len(prompt.ReplyKeyboard) == 0 || prompt.ReplyKeyboard[0][0].Text != keep {
		t.Errorf("edit prompt keyboard = %+v, want the keep button", prompt.ReplyKeyboard)
	}
	for _, answer := range []string{keep, keep, keep, keep, "09.12.2026 18:00", keep} {
		h.srv.SendText(staff, answer)
	}
	h.waitText(staff.ID, stem("kk", locales.StaffAskCapacity))
	h.srv.SendText(staff, "0")
	h.waitText(staff.ID, stem("kk", locales.StaffBadCapacity))
	h.srv.SendText(staff, "2") // one more place: B moves up
	confirm := h.waitText(staff.ID, "9 желтоқсан, сәрсенбі, сағат 18:00", "Дебат клубы")
	h.press(staff, confirm, kk(locales.ButtonSave))
	h.waitText(staff.ID, kk(locales.StaffSaved))

	h.sweepAt(clock, clock.Now())
	h.waitText(b.ID, stem("kk", locales.EventPromoted), "9 желтоқсан", "18:00")
	h.waitText(a.ID, stem("ru", locales.EventChangedNotice), "9 декабря", "18:00")
	e, err := h.db.Event(context.Background(), ev.ID)
	if err != nil || e.Capacity != 2 || e.Registered != 2 || e.Waiting != 0 || e.TitleKK != "Дебат клубы" || e.Minutes != 60 {
		t.Errorf("edited event = %+v, %v", e, err)
	}
	for _, m := range h.botMessages(b.ID) {
		if strings.HasPrefix(m.Text, stem("kk", locales.EventChangedNotice)) {
			t.Errorf("B, moved up, also got the change notice: %q", m.Text)
		}
	}
}

// countText counts the bot's messages in chat that contain fragment.
func countText(h *harness, chatID int64, fragment string) int {
	n := 0
	for _, m := range h.botMessages(chatID) {
		if strings.Contains(m.Text, fragment) {
			n++
		}
	}
	return n
}

// An event dialogue saved by the version before typed state (its values in
// the untyped map) cannot be read on: the next answer ends it as expired
// rather than going on with an empty center and title.
func TestStaff_UntypedEventDialogueExpires(t *testing.T) {
	t.Parallel()
	clock := december1(t)
	h := newHarness(t, withClock(clock.Now), withCatalog(staffCatalog(t)))
	staff := telegramtest.User{ID: 900, FirstName: "Гүлнар", LanguageCode: "kk"}
	h.srv.SendText(staff, "/help")
	h.waitText(staff.ID, stem("kk", locales.Help))
	old := storage.Conversation{ChatID: staff.ID, Flow: flowEvent, Step: evStepTitleRU, UpdatedAt: clock.Now()}
	if err := h.db.SaveConversation(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	h.srv.SendText(staff, "Урок записи подкаста")
	h.waitText(staff.ID, kk(locales.DialogExpired))
	if _, err := h.db.Conversation(context.Background(), staff.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the dialogue is still there: %v", err)
	}
}
