package bot

import (
	"context"
	"strings"
	"testing"

	"jastar/bot/telegramtest"
	"jastar/bot/tg"
	"jastar/locales"
)

// addSession walks staff from /mycenter through adding a career session
// on December d, hours typed, 30-minute slots, one place, and returns the
// dialogue's last message.
func (h *harness) addSession(staff telegramtest.User, d int, hours string) telegramtest.Message {
	h.t.Helper()
	ru := tl("ru")
	m := h.ask(staff, "/mycenter", "Так карточку видит молодёжь")
	h.press(staff, m, ru.T(locales.ButtonExtraSessions))
	m = h.waitButton(staff.ID, ru.T(locales.ButtonAddSession))
	h.press(staff, m, ru.T(locales.ButtonAddSession))
	m = h.waitText(staff.ID, "Какая консультация?")
	h.press(staff, m, "Карьера")
	m = h.waitMessage(staff.ID, m.ID, "Какой день?")
	h.press(staff, m, dayLabel("ru", at(h.t, d, 12)))
	h.waitMessage(staff.ID, m.ID, "С какого по какое время?")
	m = h.ask(staff, hours, "Сколько длится одна консультация?")
	h.press(staff, m, tl("ru").T(locales.SessionMinutes, locales.Data{"Minutes": "30"}))
	m = h.waitMessage(staff.ID, m.ID, "Сколько человек")
	h.press(staff, m, "1")
	return h.waitMatch(staff.ID, "the outcome", func(x telegramtest.Message) bool {
		return x.ID == m.ID && !strings.Contains(x.Text, "Сколько человек")
	})
}

func TestSessions_AddBookRemoveWithOffers(t *testing.T) {
	t.Parallel()
	h, clock := centerStaffHarness(t)
	ctx := context.Background()
	// Thursday: the career schedule runs 09:00-18:00, so a session then
	// would change the specialists' day.
	m := h.addSession(gulnar, 3, "10:00-12:00")
	if !strings.Contains(m.Text, "добавить нельзя") {
		t.Fatalf("a session over the schedule: %q", m.Text)
	}
	m = h.addSession(gulnar, 5, "10:00-12:00") // Saturday
	if !strings.Contains(m.Text, "Дополнительный приём добавлен") || !strings.Contains(m.Text, "всего времён: 4") {
		t.Fatalf("adding a Saturday session: %q", m.Text)
	}
	v := telegramtest.User{ID: 3400, FirstName: "Дана", LanguageCode: "ru"}
	sum := h.toSummaryAt(v, 5, "11:30", "+77010003400")
	h.press(v, sum, "Подтвердить")
	h.waitMessage(v.ID, sum.ID, "Вы записаны", "11:30")

	list, _ := h.db.ExtraSessions(ctx, []string{"karasai"}, clock.Now(), at(t, 20, 0))
	if len(list) != 1 {
		t.Fatalf("sessions = %+v", list)
	}
	// Konaev's staff can neither add nor remove Karasai's.
	mm := h.ask(marat, "/start", "")
	for _, data := range []string{"xs:karasai", "xsa:karasai", "xsr:" + tg.B36(list[0].ID), "xsy:" + tg.B36(list[0].ID)} {
		id, _ := h.srv.PressButton(marat, marat.ID, mm.ID, data)
		if ans := h.waitAnswered(id); ans != tl("ru").T(locales.NotAllowed) {
			t.Errorf("%s answered %q", data, ans)
		}
	}

	id, _ := h.srv.PressButton(gulnar, gulnar.ID, m.ID, "xsr:"+tg.B36(list[0].ID))
	h.waitAnswered(id)
	ask := h.waitText(gulnar.ID, plain(firstLine(ru(locales.SessionHasBookings))))
	if !strings.Contains(ask.Text, "Дана") {
		t.Errorf("the question does not name who is booked: %q", ask.Text)
	}
	if _, err := h.db.ExtraSession(ctx, list[0].ID); err != nil {
		t.Fatal("the session was removed without the confirmation")
	}
	h.press(gulnar, ask, ru(locales.ButtonRemoveSessionAnyway))
	h.waitMessage(gulnar.ID, ask.ID, ru(locales.SessionRemoved))
	h.waitText(v.ID, plain(firstLine(ru(locales.ClosureCancelled))))
	if mine, _ := h.db.BookingsOf(ctx, v.ID, clock.Now()); len(mine) != 0 && mine[0].Active() {
		t.Errorf("the booking of a removed session is active: %+v", mine)
	}
}
