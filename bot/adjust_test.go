package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"jastar/bot/telegramtest"
	"jastar/locales"
	"jastar/storage"
)

// TestBooking_ClosureAndExtraSession: a closed time is not offered and a
// confirm that meets a closure made meanwhile hears "closed" with other
// times; an extra session on a day off is offered and booked like any slot.
func TestBooking_ClosureAndExtraSession(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	u := telegramtest.User{ID: 2601, FirstName: "Әлия", LanguageCode: "ru"}
	sum := h.toSummary(u, "ru", 2, 11, "+77010002601")
	if _, _, err := h.db.AddClosure(ctx, storage.Closure{
		CenterID: "karasai", TypeID: "career", From: at(t, 2, 11), To: at(t, 2, 12), Reason: storage.ReasonIllness, By: testAdmin,
	}, clock.Now()); err != nil {
		t.Fatal(err)
	}
	h.press(u, sum, "Подтвердить")
	m := h.waitMessage(u.ID, sum.ID, ru(locales.BookClosedByCenter))
	for _, row := range m.InlineKeyboard {
		if strings.Contains(row[0].Text, "11:00") {
			t.Errorf("the closed 11:00 is offered again: %+v", m.InlineKeyboard)
		}
	}
	if got, _ := h.db.BookingsOf(ctx, u.ID, clock.Now()); len(got) != 0 {
		t.Fatalf("booked inside a closure: %+v", got)
	}

	// Saturday 5 December: Karasai's career desk is closed on Saturdays;
	// staff add 10:00-11:00 in 30-minute slots.
	sat := at(t, 5, 10)
	if _, err := h.db.AddExtraSession(ctx, storage.ExtraSession{
		CenterID: "karasai", TypeID: "career", Start: sat, End: sat.Add(time.Hour), SlotMinutes: 30, Capacity: 1, By: testAdmin,
	}, clock.Now()); err != nil {
		t.Fatal(err)
	}
	v := telegramtest.User{ID: 2602, FirstName: "Дана", LanguageCode: "ru"}
	sum = h.toSummaryAt(v, 5, "10:30", "+77010002602")
	h.press(v, sum, "Подтвердить")
	h.waitMessage(v.ID, sum.ID, "Вы записаны", "10:30")
	got, err := h.db.BookingsOf(ctx, v.ID, clock.Now())
	if err != nil || len(got) != 1 || !got[0].Start.Equal(sat.Add(30*time.Minute)) || !got[0].End.Equal(sat.Add(time.Hour)) {
		t.Fatalf("bookings = %+v, %v; want one 10:30-11:00", got, err)
	}
}

// toSummaryAt walks u (Russian) through /book to the summary of Karasai
// career on December d at clock hhmm.
func (h *harness) toSummaryAt(u telegramtest.User, d int, hhmm, phone string) telegramtest.Message {
	h.t.Helper()
	l := tl("ru")
	h.srv.SendText(u, "/book")
	m := h.waitText(u.ID, plain(firstLine(l.T(locales.BookChooseType))))
	h.press(u, m, "Карьера")
	m = h.waitMessage(u.ID, m.ID, h.karasaiCareerStep("ru", locales.BookChooseCenter, time.Time{}))
	h.press(u, m, "Карасай")
	m = h.waitMessage(u.ID, m.ID, h.karasaiCareerStep("ru", locales.BookChooseDay, at(h.t, d, 12)))
	h.press(u, m, dayLabel("ru", at(h.t, d, 12)))
	m = h.waitMessage(u.ID, m.ID, h.karasaiCareerStep("ru", locales.BookChooseTime, at(h.t, d, 12)))
	h.press(u, m, hhmm)
	h.waitText(u.ID, firstLine(l.T(locales.BookAskPhone)))
	h.srv.SendContact(u, phone)
	h.waitText(u.ID, l.T(locales.BookPhoneSaved))
	return h.waitText(u.ID, plain(firstLine(l.T(locales.BookSummary))))
}
