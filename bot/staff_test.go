package bot

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"jastar/bot/telegramtest"
	"jastar/locales"
	"jastar/storage"
)

// feedbackDue counts the "how was it?" questions still due for a booking.
func (h *harness) feedbackDue(id uint64) int {
	h.t.Helper()
	rs, err := h.db.RemindersOf(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	n := 0
	for _, r := range rs {
		if r.Kind == storage.ReminderFeedback {
			n++
		}
	}
	return n
}

// staffReasons presses "cancel" on a staff notice and waits for that
// notice to show the reasons.
func (h *harness) staffReasons(admin telegramtest.User, note telegramtest.Message) telegramtest.Message {
	h.t.Helper()
	h.press(admin, note, ru(locales.StaffButtonCancel))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := h.srv.WaitFor(ctx, note.ChatID, func(m telegramtest.Message) bool {
		return m.ID == note.ID && hasButton(m, ru(locales.StaffReasonClosed))
	})
	if err != nil {
		h.t.Fatalf("notice %d never showed the reasons", note.ID)
	}
	return m
}

// TestStaff_MarkWaitsForTheStartAndCanBeCorrected: the marks on the
// new-booking notice, which arrives days early, refuse to act before the
// consultation begins and stay on the message; after a mark, staff can
// switch it for a while, and the person is asked "how was it?" only once.
func TestStaff_MarkWaitsForTheStartAndCanBeCorrected(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	admin := telegramtest.User{ID: testAdmin, FirstName: "Staff", Username: "staffer", LanguageCode: "ru"}
	bk := h.book(1301, storage.Russian, "karasai", "career", at(t, 2, 11))
	h.bot.staff.notifyStaff(ctx, bk, staffNew, storage.Booking{})
	note := h.waitText(testStaffChat, "Новая запись", "11:00")

	for _, label := range []string{ru(locales.StaffButtonAttended), ru(locales.StaffButtonNoShow)} {
		id := h.press(admin, note, label)
		h.waitAnswered(id)
		text, alert, _ := h.srv.AnsweredCallback(id)
		if want := ru(locales.StaffMarkTooEarly, locales.Data{"When": tl("ru").DateTime(at(t, 2, 11))}); !alert || text != want {
			t.Errorf("%q a day early answered %q (alert %v), want an alert %q", label, text, alert, want)
		}
	}
	got, _ := h.db.Booking(ctx, bk.ID)
	if got.Status != storage.BookingBooked {
		t.Fatalf("an early mark changed the booking to %s", got.Status)
	}
	if mine, _ := h.db.BookingsOf(ctx, 1301, h.bot.now()); len(mine) != 1 {
		t.Errorf("an early mark took the booking out of My bookings: %+v", mine)
	}
	if rs, _ := h.db.RemindersOf(ctx, bk.ID); len(rs) != 2 {
		t.Errorf("an early mark touched the reminders: %+v", rs)
	}
	if m, _ := h.srv.LastMessage(testStaffChat); !hasButton(m, ru(locales.StaffButtonAttended)) || !hasButton(m, ru(locales.StaffButtonNoShow)) {
		t.Errorf("the marks left the notice after an early press: %+v", m.InlineKeyboard)
	}

	// During the consultation: marked, with a way to correct it.
	clock.Set(at(t, 2, 11).Add(20 * time.Minute))
	h.press(admin, note, ru(locales.StaffButtonAttended))
	m := h.waitMessage(testStaffChat, note.ID, "Пришёл(ла)")
	if !hasButton(m, ru(locales.StaffButtonToNoShow)) {
		t.Fatalf("no correction after the mark: %+v", m.InlineKeyboard)
	}
	if n := h.feedbackDue(bk.ID); n != 1 {
		t.Fatalf("%d feedback questions due after attended, want 1", n)
	}
	h.press(admin, m, ru(locales.StaffButtonToNoShow))
	m = h.waitMessage(testStaffChat, note.ID, "Не пришёл(ла)")
	if got, _ := h.db.Booking(ctx, bk.ID); got.Status != storage.BookingNoShow || h.feedbackDue(bk.ID) != 0 {
		t.Errorf("after the correction: %s with %d questions due, want no_show and none", got.Status, h.feedbackDue(bk.ID))
	}
	h.press(admin, m, ru(locales.StaffButtonToAttended))
	m = h.waitMessage(testStaffChat, note.ID, "Пришёл(ла)")

	// The sweep sends the question; flipping the mark afterwards asks
	// nothing again.
	if claimed := claimDue(t, h, at(t, 2, 14)); len(claimed) != 1 {
		t.Fatalf("claimed %+v; want the one question", claimed)
	}
	h.press(admin, m, ru(locales.StaffButtonToNoShow))
	m = h.waitMessage(testStaffChat, note.ID, "Не пришёл(ла)")
	h.press(admin, m, ru(locales.StaffButtonToAttended))
	m = h.waitMessage(testStaffChat, note.ID, "Пришёл(ла)")
	if n := h.feedbackDue(bk.ID); n != 0 {
		t.Errorf("a correction after the question went out queued %d more", n)
	}

	// A day later the mark stands.
	clock.Set(clock.Now().Add(25 * time.Hour))
	id := h.press(admin, m, ru(locales.StaffButtonToNoShow))
	if ans := h.waitAnswered(id); ans != ru(locales.StaffAlreadyMarked) {
		t.Errorf("a late correction answered %q", ans)
	}
	if got, _ := h.db.Booking(ctx, bk.ID); got.Status != storage.BookingAttended {
		t.Errorf("a late correction changed the mark to %s", got.Status)
	}
}

// TestStaff_CardLinksThePerson: a person booked online with no username and
// no phone; the staff notice links their name to their Telegram chat so
// the specialist can write, as the online desk promises.
func TestStaff_CardLinksThePerson(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t)
	ctx := context.Background()
	now := h.bot.now()
	bk, err := h.db.Book(ctx, storage.Booking{
		ChatID: 1401, Name: "Дана <3", Lang: storage.Russian, CenterID: storage.OnlineCenterID, TypeID: "psychology",
		Start: at(t, 2, 15), End: at(t, 2, 16),
	}, storage.BookRules{Capacity: 2, Now: now, NotBefore: now, Reminders: h.bot.cfg.Reminders})
	if err != nil {
		t.Fatal(err)
	}
	h.bot.staff.notifyStaff(ctx, bk, staffNew, storage.Booking{})
	note := h.waitText(testStaffChat, "Новая запись", "Дана <3", ru(locales.StaffOnline))
	var mention bool
	for _, e := range note.Entities {
		if e.Type == "text_mention" && e.User != nil && e.User.ID == 1401 {
			mention = true
		}
	}
	if !mention {
		t.Errorf("staff notice has no mention of the person; entities %+v", note.Entities)
	}
}

// TestStaff_CancelRules: staff cannot cancel a consultation that has begun
// (they mark it), and the person hears of a cancellation in the language
// they use now, not the one they booked in.
func TestStaff_CancelRules(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	admin := telegramtest.User{ID: testAdmin, FirstName: "Staff", LanguageCode: "ru"}
	person := telegramtest.User{ID: 1501, FirstName: "Әлия", LanguageCode: "kk"}
	h.srv.AddPrivateChat(person)

	started := h.book(person.ID, storage.Kazakh, "karasai", "career", at(t, 2, 11))
	later := h.book(person.ID, storage.Kazakh, "karasai", "career", at(t, 3, 11))
	h.bot.staff.notifyStaff(ctx, started, staffNew, storage.Booking{})
	note := h.waitText(testStaffChat, "Новая запись", "2 декабря")
	reasons := h.staffReasons(admin, note)
	clock.Set(at(t, 2, 11).Add(10 * time.Minute))
	id := h.press(admin, reasons, ru(locales.StaffReasonClosed))
	if ans := h.waitAnswered(id); ans != ru(locales.StaffCancelStarted) {
		t.Errorf("cancelling a consultation under way answered %q", ans)
	}
	if got, _ := h.db.Booking(ctx, started.ID); got.Status != storage.BookingBooked {
		t.Errorf("a consultation under way was cancelled: %s", got.Status)
	}

	// The person switched to Russian after booking in Kazakh.
	if _, err := h.db.UpdateUser(ctx, person.ID, func(u *storage.User) error {
		u.Lang, u.Active, u.CreatedAt, u.UpdatedAt = storage.Russian, true, clock.Now(), clock.Now()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	h.bot.staff.notifyStaff(ctx, later, staffNew, storage.Booking{})
	note = h.waitText(testStaffChat, "Новая запись", "3 декабря")
	reasons = h.staffReasons(admin, note)
	h.press(admin, reasons, ru(locales.StaffReasonClosed))
	h.waitText(person.ID, firstLine(ru(locales.BookingCancelledByCenter)), ru(locales.StaffReasonClosed))
}

// TestMyBookings_RescheduleAfterTheStartEnds: a person opens "reschedule"
// before the consultation and confirms a new time after it began; the
// booking stays where it was and the dialogue says it is no longer current.
func TestMyBookings_RescheduleAfterTheStartEnds(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	u := telegramtest.User{ID: 1551, FirstName: "Ерлан", LanguageCode: "ru"}
	h.srv.AddPrivateChat(u)
	bk := h.book(u.ID, storage.Russian, "karasai", "career", at(t, 2, 11))
	clock.Set(at(t, 2, 10).Add(50 * time.Minute))
	h.srv.SendText(u, "/mybookings")
	item := h.waitButton(u.ID, ru(locales.MyBookingReschedule))
	h.press(u, item, ru(locales.MyBookingReschedule))
	days := h.waitText(u.ID, firstLine(ru(locales.BookRescheduleHint)))
	h.press(u, days, dayLabel("ru", at(t, 3, 12)))
	times := h.waitMessage(u.ID, days.ID, "Выберите время")
	h.press(u, times, "14:00")
	sum := h.waitMessage(u.ID, days.ID, "Проверьте запись", "14:00")
	clock.Set(at(t, 2, 11).Add(5 * time.Minute))
	h.press(u, sum, ru(locales.BookConfirmMove))
	h.waitMessage(u.ID, days.ID, ru(locales.BookingGone))
	if got, _ := h.db.Booking(ctx, bk.ID); !got.Start.Equal(at(t, 2, 11)) || !got.Active() {
		t.Errorf("a booking under way was moved: %+v", got)
	}
}

// TestStaff_NoticeOfAnOlderStateDoesNotCoverANewerChange: a person books
// and cancels while the staff group is slow. The "new booking" notice is
// delivered only after the cancellation, whose own notice then fails: the
// booking must stay not notified, so the morning digest still reports the
// cancellation, and the two notices go out one after the other, in order.
func TestStaff_NoticeOfAnOlderStateDoesNotCoverANewerChange(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t)
	ctx := context.Background()
	bk := h.book(1301, storage.Russian, "karasai", "career", at(t, 2, 11))

	gate, first := make(chan struct{}), make(chan struct{})
	var staffCalls atomic.Int32
	h.srv.SetAfterCall(func(ctx context.Context, c telegramtest.Call) bool {
		if c.Method == "sendMessage" && c.Params.Get("chat_id") == strconv.Itoa(testStaffChat) && staffCalls.Add(1) == 1 {
			close(first)
			<-gate // delivered, but the answer is slow to come back
		}
		return false
	})
	h.bot.staff.notifyStaffLater(bk, staffNew, storage.Booking{})
	waitClosed(t, first, "the new-booking notice to reach the staff group")

	cancelled, err := h.db.Cancel(ctx, bk.ID, cancelByPerson, h.bot.now())
	if err != nil {
		t.Fatal(err)
	}
	h.srv.FailNext("sendMessage", 1, 400, 0)
	h.bot.staff.notifyStaffLater(cancelled, staffCancelledByPerson, storage.Booking{})
	if n := staffCalls.Load(); n != 1 {
		t.Errorf("the cancellation notice went out while the new-booking one was still on its way (%d staff calls)", n)
	}
	close(gate)

	eventually(t, func() bool { return strings.Contains(h.logs.String(), "staff notification not delivered") })
	if got, _ := h.db.Booking(ctx, bk.ID); got.StaffNotified {
		t.Error("the cancellation staff never heard of is marked notified: the digest would skip it")
	}
}
