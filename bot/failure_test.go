package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"jastar/bot/telegramtest"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/boltdb"
	"jastar/storage/storagetest"
)

// failingHarness is a booking harness whose bot talks to the database
// through a storagetest.Failing store, returned for the test to steer.
func failingHarness(t *testing.T) (*harness, *fakeClock, *storagetest.Failing) {
	t.Helper()
	var f *storagetest.Failing
	h, clock := bookingHarness(t, withStore(func(db *boltdb.DB) Store {
		f = storagetest.Wrap(t, db)
		return f
	}))
	return h, clock, f
}

// waitCounter waits until the counter name with labels reaches want.
func waitCounter(t *testing.T, h *harness, name string, labels map[string]string, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for counterValue(t, h, name, labels) < want {
		if time.Now().After(deadline) {
			t.Fatalf("%s%v = %v, want %v", name, labels, counterValue(t, h, name, labels), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestBooking_DatabaseFailsOnConfirm: the write of a booking fails (a full
// disk). The person is told in their language that something went wrong,
// nothing is written (no booking, no reminder, no staff notice), and the
// summary stays, so a press once the disk is fixed books once.
func TestBooking_DatabaseFailsOnConfirm(t *testing.T) {
	t.Parallel()
	h, _, f := failingHarness(t)
	ctx := context.Background()
	u := telegramtest.User{ID: 701, FirstName: "Дана", LanguageCode: "ru"}
	sum := h.toSummary(u, "ru", 2, 11, "+77010000007")
	f.FailOn("Book", 1, nil)
	h.press(u, sum, plain(ru(locales.BookConfirm)))
	h.waitText(u.ID, ru(locales.SomethingWentWrong))
	if bks, err := h.db.BookingsOf(ctx, u.ID, time.Time{}); err != nil || len(bks) != 0 {
		t.Errorf("bookings after the failed write = %+v, %v; want none", bks, err)
	}
	if due, _ := h.db.DueReminders(ctx, at(t, 3, 0), storage.Reminder{}, 10); len(due) != 0 {
		t.Errorf("reminders after the failed write = %+v, want none", due)
	}
	if n := len(h.botMessages(testStaffChat)); n != 0 {
		t.Errorf("staff got %d messages about a booking that was not made", n)
	}
	// The disk is fixed; the same summary books.
	h.press(u, sum, plain(ru(locales.BookConfirm)))
	h.waitMessage(u.ID, sum.ID, plain(firstLine(ru(locales.BookConfirmed))))
	h.waitText(testStaffChat, plain(firstLine(ru(locales.StaffNewBooking))))
	if bks, err := h.db.BookingsOf(ctx, u.ID, time.Time{}); err != nil || len(bks) != 1 {
		t.Errorf("bookings after the retry = %+v, %v; want one", bks, err)
	}
	if n := f.Calls("Book"); n != 2 {
		t.Errorf("Book was called %d times, want 2: once per press", n)
	}
}

// TestBooking_DialogueNotClosedStillConfirms: the booking is written, and
// the write that closes the dialogue fails. The booking stands, so the
// person must hear that it is made (not "something went wrong") and staff
// must hear of it: before the fix they got neither.
func TestBooking_DialogueNotClosedStillConfirms(t *testing.T) {
	t.Parallel()
	h, _, f := failingHarness(t)
	u := telegramtest.User{ID: 702, FirstName: "Дана", LanguageCode: "ru"}
	sum := h.toSummary(u, "ru", 2, 11, "+77010000007")
	f.FailOn("DeleteConversation", f.Calls("DeleteConversation")+1, nil)
	h.press(u, sum, plain(ru(locales.BookConfirm)))
	h.waitMessage(u.ID, sum.ID, plain(firstLine(ru(locales.BookConfirmed))))
	h.waitText(testStaffChat, plain(firstLine(ru(locales.StaffNewBooking))))
	for _, m := range h.botMessages(u.ID) {
		if strings.Contains(m.Text, ru(locales.SomethingWentWrong)) {
			t.Errorf("the person was told something went wrong although booked:\n%s", h.transcript(u.ID))
		}
	}
}

// TestStaffNotice_DatabaseFailsAfterDelivery: the notice reaches staff but
// recording that fails. It is not sent again (no spin, no duplicate), and
// the booking stays owed to the digest, which lists it.
func TestStaffNotice_DatabaseFailsAfterDelivery(t *testing.T) {
	t.Parallel()
	h, clock, f := failingHarness(t)
	ctx := context.Background()
	f.FailOn("MarkStaffNotified", 1, nil)
	u := telegramtest.User{ID: 703, FirstName: "Дана", LanguageCode: "ru"}
	sum := h.toSummary(u, "ru", 3, 11, "+77010000007")
	h.press(u, sum, plain(ru(locales.BookConfirm)))
	h.waitMessage(u.ID, sum.ID, plain(firstLine(ru(locales.BookConfirmed))))
	h.waitText(testStaffChat, plain(firstLine(ru(locales.StaffNewBooking))))
	waitCalls(t, f, "MarkStaffNotified", 1)
	if n := len(h.botMessages(testStaffChat)); n != 1 {
		t.Errorf("staff got %d notices, want 1", n)
	}
	clock.Set(at2(t, 2, 8, 30))
	if err := h.bot.StaffDigest(ctx, at2(t, 2, 8, 30)); err != nil {
		t.Fatal(err)
	}
	digest := h.waitText(testStaffChat, plain(ru(locales.StaffDigestUnnotified)))
	if _, owed, _ := strings.Cut(digest.Text, plain(ru(locales.StaffDigestUnnotified))); !strings.Contains(owed, "11:00") {
		t.Errorf("the digest does not list the booking whose notice was not recorded:\n%s", digest.Text)
	}
}

// waitCalls waits until f saw n calls of method.
func waitCalls(t *testing.T, f *storagetest.Failing, method string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for f.Calls(method) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s called %d times, want %d", method, f.Calls(method), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStaffNotice_PanicLeavesTheBookingToTheDigest: a staff notice job
// panics. The process goes on, the panic is counted, later notices still
// go, and the booking is listed in the digest like a dropped notice.
func TestStaffNotice_PanicLeavesTheBookingToTheDigest(t *testing.T) {
	t.Parallel()
	h, clock, f := failingHarness(t)
	ctx := context.Background()
	f.PanicOn("MarkStaffNotified", 1, "card bug")
	first := telegramtest.User{ID: 704, FirstName: "Дана", LanguageCode: "ru"}
	sum := h.toSummary(first, "ru", 3, 11, "+77010000007")
	h.press(first, sum, plain(ru(locales.BookConfirm)))
	h.waitMessage(first.ID, sum.ID, plain(firstLine(ru(locales.BookConfirmed))))
	waitCounter(t, h, "jastar_panics_total", map[string]string{"component": "staff_notice"}, 1)
	if !strings.Contains(h.logs.String(), "staff notification panicked, left for the digest") {
		t.Error("the panicked notice is not logged as left for the digest")
	}

	second := telegramtest.User{ID: 705, FirstName: "Айша", LanguageCode: "ru"}
	sum = h.toSummary(second, "ru", 3, 12, "+77010000007")
	h.press(second, sum, plain(ru(locales.BookConfirm)))
	h.waitText(testStaffChat, "12:00")
	waitNotified(t, h, second.ID)

	clock.Set(at2(t, 2, 8, 30))
	if err := h.bot.StaffDigest(ctx, at2(t, 2, 8, 30)); err != nil {
		t.Fatal(err)
	}
	digest := h.waitText(testStaffChat, plain(ru(locales.StaffDigestUnnotified)))
	_, owed, _ := strings.Cut(digest.Text, plain(ru(locales.StaffDigestUnnotified)))
	if !strings.Contains(owed, "11:00") || strings.Contains(owed, "12:00") {
		t.Errorf("the digest's owed list is %q, want the 11:00 booking whose notice panicked", owed)
	}
}

// waitNotified waits until the booking of chat is recorded as told to staff.
func waitNotified(t *testing.T, h *harness, chat int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		bks, err := h.db.BookingsOf(context.Background(), chat, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(bks) == 1 && bks[0].StaffNotified {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("bookings of %d = %+v, want one recorded as told to staff", chat, bks)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestBackground_PanicIsCountedAndTheBotGoesOn: background work (a
// callback answer) that panics does not kill the process; it is counted,
// and the bot keeps answering people.
func TestBackground_PanicIsCountedAndTheBotGoesOn(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.bot.transport.Go(func(ctx context.Context) { panic("answer bug") })
	waitCounter(t, h, "jastar_panics_total", map[string]string{"component": "background"}, 1)
	u := telegramtest.User{ID: 706, FirstName: "Дана", LanguageCode: "ru"}
	h.srv.AddPrivateChat(u)
	h.srv.SendText(u, "/help")
	h.waitText(u.ID, "")
}

// TestDoneLog_PanicKeepsTheUpdateForReplay: the commit that marks handled
// updates panics. The process goes on, the panic is counted, later updates
// are still marked handled, and the one whose mark was lost stays in the
// inbox for the next start, as after a crash before the commit.
func TestDoneLog_PanicKeepsTheUpdateForReplay(t *testing.T) {
	t.Parallel()
	h, _, f := failingHarness(t)
	ctx := context.Background()
	f.PanicOn("Done", f.Calls("Done")+1, "inbox bug")
	u := telegramtest.User{ID: 707, FirstName: "Дана", LanguageCode: "ru"}
	h.srv.AddPrivateChat(u)
	lost := h.srv.SendText(u, "/help")
	h.waitText(u.ID, "")
	waitCounter(t, h, "jastar_panics_total", map[string]string{"component": "done_log"}, 1)
	next := h.srv.SendText(u, "/help")
	deadline := time.Now().Add(10 * time.Second)
	for {
		pending, err := h.db.Pending(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ids := map[int]bool{}
		for _, p := range pending {
			ids[p.ID] = true
		}
		if ids[lost] && !ids[next] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("inbox holds %v; want update %d kept for replay and %d marked handled", ids, lost, next)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestReminders_DatabaseFailsBeforeTheSend: the read of a reminder's
// booking fails. Nothing was sent, so the reminder is kept, not lost, and
// the next minute's sweep sends it, once.
func TestReminders_DatabaseFailsBeforeTheSend(t *testing.T) {
	t.Parallel()
	h, clock, f := failingHarness(t)
	u := h.person(708, storage.Russian)
	h.book(u.ID, storage.Russian, "karasai", "career", at(t, 2, 11))
	f.FailOn("Booking", f.Calls("Booking")+1, nil)
	h.sweepAt(clock, at(t, 1, 18))
	if n := len(h.botMessages(u.ID)); n != 0 {
		t.Fatalf("%d messages sent with the booking unreadable", n)
	}
	h.sweepAt(clock, at2(t, 1, 18, 1))
	if n := countText(h, u.ID, plain(firstLine(ru(locales.ReminderDayBefore)))); n != 1 {
		t.Errorf("%d day-before reminders after the database recovered, want 1:\n%s", n, h.transcript(u.ID))
	}
}
