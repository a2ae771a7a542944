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
)

const testStaffChat = -1001234567890

// testAdmin is the admin of booking tests, who acts as staff.
const testAdmin = 9001

// bookingHarness runs the bot at Tuesday 1 December 2026, 10:00 in Almaty,
// with a staff group and one admin (testAdmin).
func bookingHarness(t *testing.T, opts ...harnessOption) (*harness, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, almaty(t))}
	opts = append([]harnessOption{withClock(clock.Now), withConfig(func(c *Config) {
		c.StaffChatID = testStaffChat
		c.AdminIDs = []int64{testAdmin}
	})}, opts...)
	h := newHarness(t, opts...)
	h.srv.AddGroup(testStaffChat, "Staff")
	return h, clock
}

func tl(lang string) *locales.Localizer { return testLocales.For(lang) }

// dayLabel is the day button of t in lang.
func dayLabel(lang string, t time.Time) string {
	l := tl(lang)
	return l.T(locales.BookDayLabel, locales.Data{"Weekday": l.Weekday(t), "Date": l.ShortDate(t)})
}

// at is a time on day d of December 2026 in Almaty.
func at(t *testing.T, d, h int) time.Time { return time.Date(2026, 12, d, h, 0, 0, 0, almaty(t)) }

// waitMessage waits for the message id in chat to show every fragment.
func (h *harness) waitMessage(chatID int64, id int, fragments ...string) telegramtest.Message {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := h.srv.WaitFor(ctx, chatID, func(m telegramtest.Message) bool {
		if m.ID != id {
			return false
		}
		for _, f := range fragments {
			if !strings.Contains(m.Text, f) {
				return false
			}
		}
		return true
	})
	if err != nil {
		h.t.Fatalf("chat %d message %d never showed %q; transcript:\n%s", chatID, id, fragments, h.transcript(chatID))
	}
	return m
}

// karasaiCareerStep is the whole text of a booking step for a career
// consultation at Karasai on day (Date), rendered as the bot renders it.
// Tests wait for the whole text rather than a line cut out of a
// translation, so a translator may reword or add lines freely.
func (h *harness) karasaiCareerStep(lang, id string, day time.Time) string {
	h.t.Helper()
	l := tl(lang)
	typ, ok := h.bot.cat().Type("career")
	c, ok2 := h.bot.cat().Center("karasai")
	if !ok || !ok2 {
		h.t.Fatal("the catalog lacks the career type or the Karasai center")
	}
	return plain(l.T(id, locales.Data{"Type": "<b>" + esc(typeLabel(l, typ)) + "</b>", "Place": esc(c.Name.In(lang)), "Date": esc(l.Date(day))}))
}

// toSummary walks u through /book to the summary of Karasai career on day
// d at hour hr, sharing a phone when phone != "".
func (h *harness) toSummary(u telegramtest.User, lang string, d, hr int, phone string) telegramtest.Message {
	h.t.Helper()
	l := tl(lang)
	h.srv.SendText(u, "/book")
	m := h.waitText(u.ID, plain(firstLine(l.T(locales.BookChooseType))))
	h.press(u, m, l.T(locales.BookChooseType)[:0]+map[string]string{"kk": "Мансап", "ru": "Карьера"}[lang])
	m = h.waitMessage(u.ID, m.ID, h.karasaiCareerStep(lang, locales.BookChooseCenter, time.Time{}))
	h.press(u, m, map[string]string{"kk": "Қарасай", "ru": "Карасай"}[lang])
	m = h.waitMessage(u.ID, m.ID, h.karasaiCareerStep(lang, locales.BookChooseDay, at(h.t, d, 12)))
	h.press(u, m, dayLabel(lang, at(h.t, d, 12)))
	m = h.waitMessage(u.ID, m.ID, h.karasaiCareerStep(lang, locales.BookChooseTime, at(h.t, d, 12)))
	h.press(u, m, time.Date(2026, 12, d, hr, 0, 0, 0, almaty(h.t)).Format("15:04"))
	if phone != "" {
		h.waitText(u.ID, firstLine(l.T(locales.BookAskPhone)))
		h.srv.SendContact(u, phone)
		h.waitText(u.ID, l.T(locales.BookPhoneSaved))
	}
	return h.waitText(u.ID, plain(firstLine(l.T(locales.BookSummary))))
}

func TestBooking_WholePathInBothLanguages(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t)
	ctx := context.Background()
	for i, lang := range []string{"ru", "kk"} {
		t.Run(lang, func(t *testing.T) {
			l := tl(lang)
			u := telegramtest.User{ID: int64(500 + i), FirstName: "Әлия", Username: "aliya" + lang, LanguageCode: lang}
			phone := "+7701123456" + string(rune('0'+i))
			sum := h.toSummary(u, lang, 2, 11, phone)
			if !strings.Contains(sum.Text, phone) || !strings.Contains(sum.Text, "11:00") {
				t.Errorf("summary = %q, want the phone and 11:00", sum.Text)
			}
			// A double press of confirm books once.
			h.press(u, sum, plain(l.T(locales.BookConfirm)))
			second := h.press(u, sum, plain(l.T(locales.BookConfirm)))
			done := h.waitMessage(u.ID, sum.ID, plain(firstLine(l.T(locales.BookConfirmed))))
			tp, _ := h.bot.cat().Type("career")
			for _, want := range []string{tp.Bring.In(lang), "11:00", l.ShortDate(at(t, 2, 12))} {
				if !strings.Contains(done.Text, want) {
					t.Errorf("confirmation lacks %q:\n%s", want, done.Text)
				}
			}
			if got := h.waitAnswered(second); got != l.T(locales.BookStale) {
				t.Errorf("second confirm answered %q, want %q", got, l.T(locales.BookStale))
			}
			// The calendar file.
			ics := h.waitDocument(u.ID)
			if ics.Document.FileName == "" || !strings.HasSuffix(ics.Document.FileName, ".ics") {
				t.Errorf("document name = %q", ics.Document.FileName)
			}
			body := string(ics.Document.Data)
			for _, want := range []string{"BEGIN:VCALENDAR", "TZID:Asia/Almaty", "TZOFFSETTO:+0500", "DTSTART;TZID=Asia/Almaty:20261202T110000", "DTEND;TZID=Asia/Almaty:20261202T120000", "\r\n"} {
				if !strings.Contains(body, want) {
					t.Errorf("ics lacks %q:\n%s", want, body)
				}
			}
			// Staff hear of it, with who, phone and the buttons.
			staff := h.waitText(testStaffChat, "Новая запись", "@"+u.Username, phone, "11:00")
			if len(staff.InlineKeyboard) != 2 {
				t.Errorf("staff notification keyboard = %+v", staff.InlineKeyboard)
			}
			mine, err := h.db.BookingsOf(ctx, u.ID, h.bot.now())
			if err != nil || len(mine) != 1 {
				t.Fatalf("stored bookings = %+v, %v; want exactly one", mine, err)
			}
			bk := mine[0]
			if bk.CenterID != "karasai" || bk.TypeID != "career" || !bk.Start.Equal(at(t, 2, 11)) || bk.Phone != phone || bk.Lang != storage.Lang(lang) {
				t.Errorf("stored booking = %+v", bk)
			}
			eventually(t, func() bool { got, _ := h.db.Booking(ctx, bk.ID); return got.StaffNotified })
			rs, _ := h.db.RemindersOf(ctx, bk.ID)
			if len(rs) != 2 || !rs[0].Due.Equal(at(t, 1, 18)) || !rs[1].Due.Equal(at(t, 2, 10)) {
				t.Errorf("reminders = %+v", rs)
			}
		})
	}
}

func (h *harness) waitDocument(chatID int64) telegramtest.Message {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := h.srv.WaitFor(ctx, chatID, func(m telegramtest.Message) bool { return m.Document != nil })
	if err != nil {
		h.t.Fatalf("no document in chat %d", chatID)
	}
	return m
}

// waitButton waits for the latest bot message in chat with a button
// labelled label.
func (h *harness) waitButton(chatID int64, label string) telegramtest.Message {
	h.t.Helper()
	var found telegramtest.Message
	if !eventuallyOK(10*time.Second, func() bool {
		msgs := h.botMessages(chatID)
		for i := len(msgs) - 1; i >= 0; i-- {
			for _, row := range msgs[i].InlineKeyboard {
				for _, btn := range row {
					if strings.Contains(btn.Text, label) {
						found = msgs[i]
						return true
					}
				}
			}
		}
		return false
	}) {
		h.t.Fatalf("chat %d: no message with a button %q; transcript:\n%s", chatID, label, h.transcript(chatID))
	}
	return found
}

// book stores a booking directly, as the flow would.
func (h *harness) book(chatID int64, lang storage.Lang, center, typ string, start time.Time) storage.Booking {
	h.t.Helper()
	now := h.bot.now()
	bk, err := h.db.Book(context.Background(), storage.Booking{
		ChatID: chatID, Name: "Ерлан", Username: "erlan", Lang: lang, CenterID: center, TypeID: typ,
		Start: start, End: start.Add(time.Hour),
	}, storage.BookRules{Capacity: 2, MaxActive: 3, Now: now, NotBefore: now.Add(time.Hour), Reminders: h.bot.cfg.Reminders})
	if err != nil {
		h.t.Fatal(err)
	}
	return bk
}

func TestBooking_SlotTakenMeanwhileOffersNearest(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t)
	u := telegramtest.User{ID: 601, FirstName: "Дана", LanguageCode: "ru"}
	sum := h.toSummary(u, "ru", 2, 11, "+77010000001")
	// Both seats of 11:00 go to others while Дана reads the summary.
	h.book(602, storage.Russian, "karasai", "career", at(t, 2, 11))
	h.book(603, storage.Russian, "karasai", "career", at(t, 2, 11))
	h.press(u, sum, "Подтвердить")
	m := h.waitMessage(u.ID, sum.ID, ru(locales.BookSlotTaken))
	if len(m.InlineKeyboard) < 2 || !strings.Contains(m.InlineKeyboard[0][0].Text, "12:00") {
		t.Fatalf("nearest free times = %+v, want 12:00 first", m.InlineKeyboard)
	}
	h.press(u, m, "12:00")
	sum = h.waitMessage(u.ID, sum.ID, "Проверьте запись", "12:00")
	h.press(u, sum, "Подтвердить")
	h.waitMessage(u.ID, sum.ID, "Вы записаны", "12:00")
	counts, _ := h.db.SlotCounts(context.Background(), "karasai", "career", at(t, 2, 0), at(t, 3, 0))
	if counts[at(t, 2, 11).Unix()] != 2 || counts[at(t, 2, 12).Unix()] != 1 {
		t.Errorf("slot counts = %v", counts)
	}
}

func TestBooking_FlowRaceForTheLastSeat(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t)
	h.book(700, storage.Russian, "karasai", "career", at(t, 2, 11)) // one of two seats left
	// Twice the harness's 8 workers: every worker holds a confirm at once,
	// the most concurrency the bot can give the race. It was 50, which only
	// queued more behind the same 8 and tripled the test's CPU; a bot that
	// checks the seats before its write (not in it) still tells 3 to 8 of
	// these 16 they are booked (checked by making it so).
	const n = 16
	users := make([]telegramtest.User, n)
	sums := make([]telegramtest.Message, n)
	for i := range n {
		users[i] = telegramtest.User{ID: int64(701 + i), FirstName: "U", LanguageCode: "ru"}
		sums[i] = h.toSummary(users[i], "ru", 2, 11, fmt.Sprintf("+770100000%02d", i))
	}
	for i := range n { // every confirm at once
		h.press(users[i], sums[i], "Подтвердить")
	}
	won := 0
	for i := range n {
		m := h.waitMessage(users[i].ID, sums[i].ID)
		_ = m
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		got, err := h.srv.WaitFor(ctx, users[i].ID, func(m telegramtest.Message) bool {
			return m.ID == sums[i].ID && (strings.Contains(m.Text, "Вы записаны") || strings.Contains(m.Text, "только что заняли"))
		})
		cancel()
		if err != nil {
			t.Fatalf("user %d got no outcome", i)
		}
		if strings.Contains(got.Text, "Вы записаны") {
			won++
		}
	}
	counts, _ := h.db.SlotCounts(context.Background(), "karasai", "career", at(t, 2, 11), at(t, 2, 12))
	if won != 1 || counts[at(t, 2, 11).Unix()] != 2 {
		t.Errorf("%d people were told they are booked, slot holds %d; want 1 and 2", won, counts[at(t, 2, 11).Unix()])
	}
}

// TestBooking_RaceLosersAreOfferedOnlyFreeSlots: people who lose the race
// for a seat are offered times that are free when the offer is sent, never
// the time they just lost. The confirms reach the bot in one getUpdates
// batch, so many handlers read the free times before the winner's write.
func TestBooking_RaceLosersAreOfferedOnlyFreeSlots(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t)
	ctx := context.Background()
	taken := at(t, 2, 11)
	h.book(1900, storage.Russian, "karasai", "career", taken) // one of two seats left
	// Twice the harness's 8 workers, so the first wave of handlers all read
	// before the winner's write. It was 45 (7 of 44 losers were offered the
	// lost time before the fix): the other 29 waited behind the same 8
	// workers and read after the write, proving nothing for three times the
	// CPU. With the old stale read, 6 or 7 of these 15 losers still are
	// (checked by putting it back).
	const n = 16
	users := make([]telegramtest.User, n)
	sums := make([]telegramtest.Message, n)
	for i := range n {
		users[i] = telegramtest.User{ID: int64(1901 + i), FirstName: "U", LanguageCode: "ru"}
		sums[i] = h.toSummary(users[i], "ru", 2, 11, fmt.Sprintf("+770100001%02d", i))
	}
	// With the bot stopped, every confirm waits in the fake; the restarted
	// bot fetches them all in its first getUpdates (limit 100).
	h.stop()
	for i := range n {
		h.press(users[i], sums[i], "Подтвердить")
	}
	if got := h.srv.PendingUpdates(); got != n {
		t.Fatalf("%d updates pending, want the %d confirms", got, n)
	}
	h.start()

	var losers []telegramtest.Message
	won := 0
	for i := range n {
		m := h.waitMatch(users[i].ID, "an outcome of the confirm", func(m telegramtest.Message) bool {
			return m.ID == sums[i].ID && (strings.Contains(m.Text, "Вы записаны") || strings.Contains(m.Text, firstLine(ru(locales.BookSlotTaken))))
		})
		if strings.Contains(m.Text, "Вы записаны") {
			won++
			continue
		}
		losers = append(losers, m)
	}
	counts, err := h.db.SlotCounts(ctx, "karasai", "career", at(t, 2, 0), at(t, 17, 0))
	if err != nil {
		t.Fatal(err)
	}
	if won != 1 || counts[taken.Unix()] != 2 {
		t.Fatalf("%d people were told they are booked, the slot holds %d; want 1 and 2", won, counts[taken.Unix()])
	}
	// Nobody else booked since: what is free now was free when each offer
	// was sent.
	free, _, err := h.bot.slots.offerFor(ctx, "karasai", "career")
	if err != nil {
		t.Fatal(err)
	}
	offeredTaken := 0
	for _, m := range losers {
		slots := 0
		for _, row := range m.InlineKeyboard {
			for _, btn := range row {
				if !strings.HasPrefix(btn.CallbackData, cbBookSlot+":") {
					continue
				}
				slots++
				data, err := tg.DecodeCallback(btn.CallbackData)
				if err != nil {
					t.Fatalf("chat %d: offered button %q: %v", m.ChatID, btn.CallbackData, err)
				}
				unix, err := data.Int(1)
				if err != nil {
					t.Fatalf("chat %d: offered button %q: %v", m.ChatID, btn.CallbackData, err)
				}
				start := time.Unix(unix, 0)
				if start.Equal(taken) {
					offeredTaken++
				}
				if _, ok := free.find(start); !ok {
					t.Errorf("chat %d was offered %s (%q), which is not free", m.ChatID, start.In(almaty(t)), btn.Text)
				}
			}
		}
		if slots == 0 {
			t.Errorf("chat %d was offered no time: %+v", m.ChatID, m.InlineKeyboard)
		}
	}
	if offeredTaken > 0 {
		t.Errorf("%d of %d people who lost the race were offered the time they just lost", offeredTaken, len(losers))
	}
	// The first offered time books.
	u, m := users[0], losers[0]
	for i := range users {
		if users[i].ID == m.ChatID {
			u = users[i]
		}
	}
	first := m.InlineKeyboard[0][0]
	h.srv.PressButton(u, u.ID, m.ID, first.CallbackData)
	sum := h.waitMessage(u.ID, m.ID, "Проверьте запись")
	h.press(u, sum, "Подтвердить")
	h.waitMessage(u.ID, m.ID, "Вы записаны", first.Text[strings.LastIndex(first.Text, " ")+1:])
}

func TestMyBookings_RescheduleAndCancel(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t)
	ctx := context.Background()
	u := telegramtest.User{ID: 801, FirstName: "Ерлан", Username: "erlan", LanguageCode: "ru"}
	h.srv.AddPrivateChat(u)
	bk := h.book(u.ID, storage.Russian, "karasai", "career", at(t, 2, 11))

	h.srv.SendText(u, "/mybookings")
	h.waitText(u.ID, "Ваши записи", "1 из 3")
	item := h.waitButton(u.ID, "Перенести")
	h.press(u, item, "Перенести")
	days := h.waitText(u.ID, firstLine(ru(locales.BookRescheduleHint)))
	h.press(u, days, dayLabel("ru", at(t, 3, 12)))
	times := h.waitMessage(u.ID, days.ID, "Выберите время")
	h.press(u, times, "14:00")
	sum := h.waitMessage(u.ID, days.ID, "Проверьте запись", "14:00")
	h.press(u, sum, "Перенести на это время")
	h.waitMessage(u.ID, days.ID, "Запись перенесена", "14:00")
	h.waitText(testStaffChat, "Запись перенесена", "14:00", "11:00")

	moved, _ := h.db.Booking(ctx, bk.ID)
	if !moved.Start.Equal(at(t, 3, 14)) || !moved.Active() {
		t.Fatalf("after reschedule booking = %+v", moved)
	}
	counts, _ := h.db.SlotCounts(ctx, "karasai", "career", at(t, 2, 0), at(t, 4, 0))
	if counts[at(t, 2, 11).Unix()] != 0 || counts[at(t, 3, 14).Unix()] != 1 {
		t.Errorf("counts after reschedule = %v: the old seat must be free", counts)
	}
	rs, _ := h.db.RemindersOf(ctx, bk.ID)
	if len(rs) != 2 || !rs[0].Due.Equal(at(t, 2, 18)) || !rs[1].Due.Equal(at(t, 3, 13)) {
		t.Errorf("reminders after reschedule = %+v", rs)
	}

	h.srv.SendText(u, "/mybookings")
	item = h.waitButton(u.ID, "Отменить")
	h.press(u, item, "Отменить")
	ask := h.waitMessage(u.ID, item.ID, "Отменить эту запись?")
	h.press(u, ask, "Да, отменить")
	h.waitMessage(u.ID, item.ID, "Запись отменена")
	h.waitText(testStaffChat, "Посетитель отменил запись", "14:00")
	got, _ := h.db.Booking(ctx, bk.ID)
	if got.Status != storage.BookingCancelled {
		t.Errorf("status = %s, want cancelled", got.Status)
	}
	if rs, _ := h.db.RemindersOf(ctx, bk.ID); len(rs) != 0 {
		t.Errorf("reminders after cancel = %+v", rs)
	}
	// The old "yes" button again: nothing changes.
	id := h.press(u, ask, "Да, отменить")
	if ans := h.waitAnswered(id); ans != ru(locales.BookingGone) {
		t.Errorf("stale cancel answered %q", ans)
	}
}

func TestBooking_LimitIsExplained(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t)
	u := telegramtest.User{ID: 901, FirstName: "Алия", LanguageCode: "kk"}
	for _, d := range []int{2, 3, 4} {
		h.book(u.ID, storage.Kazakh, "karasai", "career", at(t, d, 11))
	}
	h.srv.SendText(u, "/book")
	h.waitText(u.ID, plain(tl("kk").N(locales.BookLimit, 3)))
}

func TestStaff_MarksAndCancelWithReason(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	person := telegramtest.User{ID: 1001, FirstName: "Әлия", LanguageCode: "kk"}
	h.srv.AddPrivateChat(person)
	admin := telegramtest.User{ID: testAdmin, FirstName: "Staff", Username: "staffer", LanguageCode: "ru"}
	stranger := telegramtest.User{ID: 1099, FirstName: "Random", LanguageCode: "ru"}

	a := h.book(person.ID, storage.Kazakh, "karasai", "career", at(t, 2, 11))
	h.bot.staff.notifyStaff(ctx, a, staffNew, storage.Booking{})
	note := h.waitText(testStaffChat, "Новая запись", "11:00")

	// A group member who is not staff: refused, nothing changes.
	id := h.press(stranger, note, "Пришёл")
	if ans := h.waitAnswered(id); ans != ru(locales.NotAllowed) {
		t.Errorf("stranger answered %q, want not allowed", ans)
	}
	if got, _ := h.db.Booking(ctx, a.ID); got.Status != storage.BookingBooked {
		t.Fatalf("a stranger's press changed the booking: %s", got.Status)
	}
	// The marks work once the consultation has begun.
	clock.Set(at(t, 2, 11).Add(30 * time.Minute))
	h.press(admin, note, "Пришёл")
	h.waitMessage(testStaffChat, note.ID, "Пришёл(ла)", "@staffer")
	if got, _ := h.db.Booking(ctx, a.ID); got.Status != storage.BookingAttended {
		t.Errorf("status = %s, want attended", got.Status)
	}

	b := h.book(person.ID, storage.Kazakh, "karasai", "career", at(t, 3, 11))
	h.bot.staff.notifyStaff(ctx, b, staffNew, storage.Booking{})
	note = h.waitText(testStaffChat, "Новая запись", "3 декабря")
	clock.Set(at(t, 3, 12))
	h.press(admin, note, "Не пришёл")
	h.waitMessage(testStaffChat, note.ID, "Не пришёл(ла)")
	if got, _ := h.db.Booking(ctx, b.ID); got.Status != storage.BookingNoShow {
		t.Errorf("status = %s, want no_show", got.Status)
	}

	c := h.book(person.ID, storage.Kazakh, "karasai", "career", at(t, 4, 11))
	h.bot.staff.notifyStaff(ctx, c, staffNew, storage.Booking{})
	note = h.waitText(testStaffChat, "Новая запись", "4 декабря")
	id = h.press(stranger, note, "Отменить")
	h.waitAnswered(id)
	h.press(admin, note, "Отменить")
	reasons := h.waitMessage(testStaffChat, note.ID)
	eventually(t, func() bool {
		m, _ := h.srv.LastMessage(testStaffChat)
		for _, row := range m.InlineKeyboard {
			for _, btn := range row {
				if strings.HasPrefix(btn.CallbackData, "sr:") {
					reasons = m
					return true
				}
			}
		}
		return false
	})
	id = h.press(stranger, reasons, ru(locales.StaffReasonAbsent))
	if ans := h.waitAnswered(id); ans != ru(locales.NotAllowed) {
		t.Errorf("stranger's reason answered %q", ans)
	}
	h.press(admin, reasons, ru(locales.StaffReasonAbsent))
	h.waitMessage(testStaffChat, note.ID, "Запись отменена центром", ru(locales.StaffReasonAbsent))
	// The person hears it in Kazakh, with the reason in Kazakh.
	// The person reads the reason in their own wording, not the staff's.
	h.waitText(person.ID, firstLine(kk(locales.BookingCancelledByCenter)), kk(locales.PersonReasonAbsent))
	if got, _ := h.db.Booking(ctx, c.ID); got.Status != storage.BookingCancelled || got.CancelReason != "staff_absent" {
		t.Errorf("booking = %s %q", got.Status, got.CancelReason)
	}

	// Staff commands: the admin lists the day in the group; a stranger cannot.
	h.srv.SendGroupText(testStaffChat, "Staff", admin, "/bookings 03.12.2026")
	h.waitText(testStaffChat, "Записи на 3 декабря", "11:00", "Ерлан @erlan")
	h.srv.SendText(stranger, "/today")
	h.waitText(stranger.ID, ru(locales.NotAllowed))
}

func TestBooking_RestartMidDialogueResumes(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t)
	u := telegramtest.User{ID: 1101, FirstName: "Нұрлан", LanguageCode: "ru"}
	h.srv.SendText(u, "/book")
	m := h.waitText(u.ID, plain(firstLine(ru(locales.BookChooseType))))
	h.press(u, m, "Юридическая")
	m = h.waitMessage(u.ID, m.ID, "Где вам удобно")
	h.restart()
	h.press(u, m, "Кеген")
	m = h.waitMessage(u.ID, m.ID, "Выберите день")
	h.press(u, m, dayLabel("ru", at(t, 2, 12)))
	m = h.waitMessage(u.ID, m.ID, "Выберите время")
	h.press(u, m, "15:00")
	h.waitText(u.ID, firstLine(ru(locales.BookAskPhone)))
	h.srv.SendText(u, ru(locales.BookSkipPhone))
	sum := h.waitText(u.ID, "Проверьте запись", "15:00")
	h.press(u, sum, "Подтвердить")
	h.waitMessage(u.ID, sum.ID, "Вы записаны")
	mine, _ := h.db.BookingsOf(context.Background(), u.ID, h.bot.now())
	if len(mine) != 1 || mine[0].CenterID != "kegen" || mine[0].Phone != "" {
		t.Errorf("bookings = %+v; want one at kegen without a phone", mine)
	}
}

func TestBooking_ForgedAndStaleButtonsRefused(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	u := telegramtest.User{ID: 1201, FirstName: "Мира", LanguageCode: "ru"}
	other := h.book(1202, storage.Russian, "karasai", "career", at(t, 2, 11))
	h.srv.SendText(u, "/book")
	m := h.waitText(u.ID, plain(firstLine(ru(locales.BookChooseType))))
	tok := strings.Split(m.InlineKeyboard[0][0].CallbackData, ":")[1]

	tests := []struct {
		name, data, want string
	}{
		{"another person's booking", "mcy:" + tg.B36(other.ID), ru(locales.BookingGone)},
		{"unknown booking", "mm:zzzz", ru(locales.BookingGone)},
		{"staff button from a non-staff private chat", "sm:" + tg.B36(other.ID) + ":a", ru(locales.NotAllowed)},
		{"wrong dialogue token", "bt:abc:career", ru(locales.BookStale)},
		{"unknown prefix", "zz:1", ru(locales.OutdatedButton)},
		{"confirm before the summary", "bok:" + tok, ru(locales.BookStale)},
		// A slot pressed before any center was chosen names no offer: the
		// dialogue ends politely.
		{"slot before a center was chosen", "bs:" + tok + ":" + tg.I36(at(t, 2, 11).Unix()), ru(locales.BookUnavailable)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, _ := h.srv.PressButton(u, u.ID, m.ID, tt.data)
			got := h.waitAnswered(id)
			if tt.want != "" && got != tt.want {
				t.Errorf("answer = %q, want %q", got, tt.want)
			}
		})
	}
	if got, _ := h.db.Booking(ctx, other.ID); got.Status != storage.BookingBooked {
		t.Errorf("the other person's booking changed: %s", got.Status)
	}
	if mine, _ := h.db.BookingsOf(ctx, u.ID, h.bot.now()); len(mine) != 0 {
		t.Errorf("forged presses booked %+v", mine)
	}
	// A forged slot in the past, pressed with the center and day chosen,
	// reaches the slot check: closed, with the nearest free times instead.
	m = h.ask(u, "/book", plain(firstLine(ru(locales.BookChooseType))))
	h.press(u, m, "Карьера")
	m = h.waitMessage(u.ID, m.ID, "Где вам удобно")
	h.press(u, m, "Карасай")
	m = h.waitMessage(u.ID, m.ID, "Выберите день")
	h.press(u, m, dayLabel("ru", at(t, 2, 12)))
	m = h.waitMessage(u.ID, m.ID, "Выберите время")
	tok = strings.Split(m.InlineKeyboard[0][0].CallbackData, ":")[1]
	h.srv.PressButton(u, u.ID, m.ID, "bs:"+tok+":"+tg.I36(at(t, 1, 9).Unix()))
	m = h.waitMessage(u.ID, m.ID, ru(locales.BookSlotClosed))
	if !strings.HasPrefix(m.InlineKeyboard[0][0].CallbackData, "bs:") || strings.Contains(m.InlineKeyboard[0][0].CallbackData, tg.I36(at(t, 1, 9).Unix())) {
		t.Errorf("after a past slot the offer is %+v, want the nearest free times", m.InlineKeyboard)
	}
	if mine, _ := h.db.BookingsOf(ctx, u.ID, time.Time{}); len(mine) != 0 {
		t.Errorf("a past slot booked %+v", mine)
	}
	// An unknown type in a valid dialogue ends it politely.
	m = h.ask(u, "/book", plain(firstLine(ru(locales.BookChooseType))))
	m = h.waitButton(u.ID, "Карьера")
	tok = strings.Split(m.InlineKeyboard[0][0].CallbackData, ":")[1]
	id, _ := h.srv.PressButton(u, u.ID, m.ID, "bt:"+tok+":nosuchtype")
	if got := h.waitAnswered(id); got != ru(locales.BookUnavailable) {
		t.Errorf("unknown type answered %q", got)
	}
	// An idle dialogue expires politely when its button is pressed.
	m = h.ask(u, "/book", plain(firstLine(ru(locales.BookChooseType))))
	clock.Set(clock.Now().Add(2 * time.Hour))
	h.press(u, m, "Карьера")
	h.waitText(u.ID, expiredBooking("ru"))
}

// TestBooking_FromCenterCard starts from the card a deep link opens: only
// that center's types are offered, the place step is skipped, and Back
// from the day list returns to the types.
func TestBooking_FromCenterCard(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t)
	l := tl("kk")
	u := telegramtest.User{ID: 640, FirstName: "Дана", LanguageCode: "kk"}
	konaev, _ := h.bot.cat().Center("konaev")
	var want []string
	for _, s := range konaev.Schedules {
		want = append(want, "bt:%s:"+s.Type)
	}
	h.srv.SendText(u, "/start center_konaev")
	card := h.waitText(u.ID, konaev.Name.KK, plain(l.T(locales.CenterStatusOpen)))
	h.press(u, card, l.T(locales.ButtonBookHere))
	types := h.waitText(u.ID, plain(firstLine(l.T(locales.BookChooseType))))
	var offered []string
	for _, row := range types.InlineKeyboard {
		if strings.HasPrefix(row[0].CallbackData, "bt:") {
			tok := strings.Split(row[0].CallbackData, ":")[1]
			offered = append(offered, strings.Replace(row[0].CallbackData, tok, "%s", 1))
		}
	}
	if strings.Join(offered, " ") != strings.Join(want, " ") {
		t.Fatalf("types offered at Konaev = %v, want the catalog's %v", offered, want)
	}
	first, _ := h.bot.cat().Type(konaev.Schedules[0].Type)
	h.press(u, types, first.Name.KK)
	days := h.waitMessage(u.ID, types.ID, "Күнді таңдаңыз")
	if !strings.Contains(days.Text, konaev.Name.KK) {
		t.Errorf("day step lost the center: %q", days.Text)
	}
	h.press(u, days, l.T(locales.ButtonBack))
	h.waitMessage(u.ID, types.ID, plain(firstLine(l.T(locales.BookChooseType))))

	// A forged card button for a center that takes no bookings.
	id, _ := h.srv.PressButton(u, u.ID, card.ID, "bkc:talgar")
	if got := h.waitAnswered(id); got != l.T(locales.BookUnavailable) {
		t.Errorf("booking at an opening-soon center answered %q", got)
	}
}

// TestBooking_PhoneStepHasBack: at the phone question the person can go
// back to the times of the day and pick another.
func TestBooking_PhoneStepHasBack(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t)
	for i, lang := range []string{"ru", "kk"} {
		t.Run(lang, func(t *testing.T) {
			l := tl(lang)
			u := telegramtest.User{ID: int64(1601 + i), FirstName: "Ә", LanguageCode: lang}
			h.srv.SendText(u, "/book")
			m := h.waitText(u.ID, plain(firstLine(l.T(locales.BookChooseType))))
			h.press(u, m, map[string]string{"kk": "Мансап", "ru": "Карьера"}[lang])
			m = h.waitMessage(u.ID, m.ID, h.karasaiCareerStep(lang, locales.BookChooseCenter, time.Time{}))
			h.press(u, m, map[string]string{"kk": "Қарасай", "ru": "Карасай"}[lang])
			m = h.waitMessage(u.ID, m.ID, h.karasaiCareerStep(lang, locales.BookChooseDay, at(t, 2, 12)))
			h.press(u, m, dayLabel(lang, at(t, 2, 12)))
			m = h.waitMessage(u.ID, m.ID, h.karasaiCareerStep(lang, locales.BookChooseTime, at(t, 2, 12)))
			h.press(u, m, "11:00")
			ask := h.waitText(u.ID, firstLine(l.T(locales.BookAskPhone)))
			if !replyKeyboardHas(ask, l.T(locales.ButtonBack)) {
				t.Fatalf("phone question keyboard = %+v, want a Back button", ask.ReplyKeyboard)
			}
			h.srv.SendText(u, l.T(locales.ButtonBack))
			h.waitText(u.ID, l.T(locales.BookPhoneBack))
			times := h.waitButton(u.ID, "12:00")
			h.press(u, times, "12:00")
			h.waitText(u.ID, firstLine(l.T(locales.BookAskPhone)), "")
			h.srv.SendText(u, l.T(locales.BookSkipPhone))
			sum := h.waitText(u.ID, plain(firstLine(l.T(locales.BookSummary))), "12:00")
			h.press(u, sum, plain(l.T(locales.BookConfirm)))
			h.waitMessage(u.ID, sum.ID, plain(firstLine(l.T(locales.BookConfirmed))), "12:00")
		})
	}
}

func replyKeyboardHas(m telegramtest.Message, label string) bool {
	for _, row := range m.ReplyKeyboard {
		for _, b := range row {
			if b.Text == label {
				return true
			}
		}
	}
	return false
}

// TestBooking_ConfirmationSaysTheRealReminders: the confirmation names the
// configured reminder times, and leaves out the day-before one when the
// booking comes too late for it.
func TestBooking_ConfirmationSaysTheRealReminders(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t, withConfig(func(c *Config) {
		c.Reminders = storage.ReminderPolicy{DayBeforeAt: 19 * time.Hour, Before: 2 * time.Hour}
	}))
	l := tl("ru")
	u := telegramtest.User{ID: 1701, FirstName: "Ә", LanguageCode: "ru"}
	sum := h.toSummary(u, "ru", 2, 14, "+77010001701")
	h.press(u, sum, plain(l.T(locales.BookConfirm)))
	both := l.T(locales.BookRemindBoth, locales.Data{"Time": "19:00", "Duration": "2 часа"})
	h.waitMessage(u.ID, sum.ID, plain(firstLine(l.T(locales.BookConfirmed))), both)

	// Booked at 20:00 for the next day: no "the day before" any more.
	clock.Set(at(t, 1, 20))
	sum = h.toSummary(u, "ru", 2, 15, "")
	h.press(u, sum, plain(l.T(locales.BookConfirm)))
	m := h.waitMessage(u.ID, sum.ID, plain(firstLine(l.T(locales.BookConfirmed))), "15:00")
	if want := l.T(locales.BookRemindBefore, locales.Data{"Duration": "2 часа"}); !strings.Contains(m.Text, want) || strings.Contains(m.Text, "накануне") {
		t.Errorf("late confirmation:\n%s\nwant only %q", m.Text, want)
	}
}

// TestBooking_LimitReadsRight: the limit message agrees with its number in
// Russian, whatever JASTAR_MAX_BOOKINGS is.
func TestBooking_LimitReadsRight(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		max  int
		want string
	}{{1, "У вас уже 1 предстоящая запись"}, {2, "У вас уже 2 предстоящие записи"}, {5, "У вас уже 5 предстоящих записей"}} {
		t.Run(fmt.Sprint(tt.max), func(t *testing.T) {
			h, _ := bookingHarness(t, withConfig(func(c *Config) { c.MaxBookings = tt.max }))
			u := telegramtest.User{ID: 1801, FirstName: "Ә", LanguageCode: "ru"}
			now := h.bot.now()
			for i := range tt.max {
				start := at(t, 2+i, 11)
				if _, err := h.db.Book(context.Background(), storage.Booking{ChatID: u.ID, Lang: storage.Russian, CenterID: "karasai", TypeID: "career", Start: start, End: start.Add(time.Hour)},
					storage.BookRules{Capacity: 2, Now: now, NotBefore: now}); err != nil {
					t.Fatal(err)
				}
			}
			h.srv.SendText(u, "/book")
			h.waitText(u.ID, tt.want)
		})
	}
}

// TestBooking_ConfirmationDoesNotWaitForStaff: the staff group takes
// about 20 messages a minute, here slowed further. People confirming in a
// burst hear back at once, before the staff notices that wait for the
// group's limit, and every notice still arrives exactly once. One worker
// makes the effect certain: a handler waiting for the group would hold up
// everyone behind it.
func TestBooking_ConfirmationDoesNotWaitForStaff(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t, withConfig(func(c *Config) {
		c.Workers = 1
		c.Limits.PerGroupMinute = 40 // a burst of 3, then one each 1.5 s
	}))
	ctx := context.Background()
	const n = 5
	users := make([]telegramtest.User, n)
	sums := make([]telegramtest.Message, n)
	for i := range n {
		users[i] = telegramtest.User{ID: int64(1901 + i), FirstName: "U", LanguageCode: "ru"}
		sums[i] = h.toSummary(users[i], "ru", 2+i%3, 11+i/3, fmt.Sprintf("+77010019%02d", i))
	}
	events, stop := h.srv.Subscribe()
	defer stop()
	for i := range n {
		h.press(users[i], sums[i], "Подтвердить")
	}
	// The order in which people and staff heard of the bookings.
	var order []string
	confirmed, notices := 0, 0
	timeout := time.After(30 * time.Second)
	for confirmed < n || notices < n {
		select {
		case e := <-events:
			switch {
			case e.Kind == "edit" && e.ChatID > 0 && strings.Contains(e.Message.Text, "Вы записаны"):
				confirmed++
				order = append(order, "person")
			case e.Kind == "message" && e.ChatID == testStaffChat && strings.Contains(e.Message.Text, "Новая запись"):
				notices++
				order = append(order, "staff")
			}
		case <-timeout:
			t.Fatalf("after 30 s: %d confirmations and %d staff notices of %d; order %v", confirmed, notices, n, order)
		}
	}
	// The group's burst lets 3 notices through at once; the 4th waits for
	// the limit, and every person must have heard back before it.
	staffSeen := 0
	for i, who := range order {
		if who == "staff" {
			staffSeen++
		}
		if who == "person" && staffSeen > 3 {
			t.Errorf("a confirmation came after %d staff notices (order %v): it waited for the staff group", staffSeen, order[:i+1])
			break
		}
	}
	for i := range n {
		mine, _ := h.db.BookingsOf(ctx, users[i].ID, h.bot.now())
		if len(mine) != 1 {
			t.Fatalf("user %d holds %+v", i, mine)
		}
		eventually(t, func() bool { bk, _ := h.db.Booking(ctx, mine[0].ID); return bk.StaffNotified })
	}
	got := 0
	for _, m := range h.botMessages(testStaffChat) {
		if strings.Contains(m.Text, "Новая запись") {
			got++
		}
	}
	if got != n {
		t.Errorf("staff got %d notices of %d bookings, want each exactly once", got, n)
	}
}

// TestBooking_NoDaysAgreesWithItsNumber: "no free time in the next N days"
// agrees with N in Russian whatever JASTAR_BOOKING_DAYS is, not only with
// the default 14 ("в ближайшие 1 дней" before).
func TestBooking_NoDaysAgreesWithItsNumber(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		days int
		want string
	}{{1, "В ближайший 1 день"}, {2, "В ближайшие 2 дня"}, {3, "В ближайшие 3 дня"}} {
		t.Run(fmt.Sprint(tt.days), func(t *testing.T) {
			t.Parallel()
			// Friday 4 December at 22:00: today's slots are over and the
			// weekend takes no bookings, so up to three days have no free time.
			h, clock := bookingHarness(t, withConfig(func(c *Config) { c.BookingDays = tt.days }))
			clock.Set(at(t, 4, 22))
			u := telegramtest.User{ID: 1801, FirstName: "Ә", LanguageCode: "ru"}
			h.srv.SendText(u, "/book")
			m := h.waitText(u.ID, plain(firstLine(ru(locales.BookChooseType))))
			h.press(u, m, "Карьера")
			m = h.waitButton(u.ID, "Карасай")
			h.press(u, m, "Карасай")
			h.waitMessage(u.ID, m.ID, tt.want)
		})
	}
}

// TestBooking_FormerMenuLabelStillBooks: the Russian menu button was
// renamed; a reply keyboard sent before still shows the old label, and
// pressing it must still start booking, not answer "not understood".
func TestBooking_FormerMenuLabelStillBooks(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t)
	u := telegramtest.User{ID: 1802, FirstName: "Ә", LanguageCode: "ru"}
	h.srv.SendText(u, "/start")
	h.waitText(u.ID, plain(firstLine(ru(locales.MenuPrompt))))
	h.srv.SendText(u, ru(locales.MenuBookFormer))
	h.waitText(u.ID, plain(firstLine(ru(locales.BookChooseType))))
}

// TestBooking_DialogueOfTheOldVersionSaysItClosed: a booking dialogue saved
// by the version before the typed state (its choices in Data, no State)
// is told closed at the next press, as an expired one is, rather than
// booking with half its choices; a new /book then goes through.
func TestBooking_DialogueOfTheOldVersionSaysItClosed(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t)
	ctx := context.Background()
	u := telegramtest.User{ID: 2301, FirstName: "Ә", LanguageCode: "ru"}
	days := h.toDayStep(u, "ru")
	conv, err := h.db.Conversation(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	conv.State = nil
	if err := h.db.SaveConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	before := h.lastID(u.ID)
	h.press(u, days, dayLabel("ru", at(t, 2, 12)))
	h.waitNew(u.ID, before, expiredBooking("ru"))
	if _, err := h.db.Conversation(ctx, u.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the old dialogue is still there: %v", err)
	}
	h.toDayStep(u, "ru")
}
