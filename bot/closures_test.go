package bot

import (
	"context"
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

// Staff of two centers, for the tests of a center run by its staff.
const (
	staffKarasai = 2700
	staffKonaev  = 2701
)

// centerStaffHarness is bookingHarness with a staff member of Karasai and
// one of Konaev (both writing in Russian).
func centerStaffHarness(t *testing.T, opts ...harnessOption) (*harness, *fakeClock) {
	t.Helper()
	cat := catalog.Default(almaty(t))
	for i := range cat.Centers {
		switch cat.Centers[i].ID {
		case "karasai":
			cat.Centers[i].StaffUserIDs = []int64{staffKarasai}
		case "konaev":
			cat.Centers[i].StaffUserIDs = []int64{staffKonaev}
		}
	}
	return bookingHarness(t, append([]harnessOption{withCatalog(cat)}, opts...)...)
}

var (
	gulnar = telegramtest.User{ID: staffKarasai, FirstName: "Гүлнар", LanguageCode: "ru"}
	marat  = telegramtest.User{ID: staffKonaev, FirstName: "Марат", LanguageCode: "ru"}
)

// closeToPreview walks staff through /close to the preview: type label,
// the day button's label, the part of the day's label, the reason.
func (h *harness) closeToPreview(staff telegramtest.User, typeLabel, day, part string) telegramtest.Message {
	h.t.Helper()
	l := tl("ru")
	m := h.ask(staff, "/close", "Какую консультацию")
	h.press(staff, m, typeLabel)
	m = h.waitMessage(staff.ID, m.ID, "Какой день?")
	h.press(staff, m, day)
	m = h.waitMessage(staff.ID, m.ID, "Весь день или часть дня?")
	h.press(staff, m, part)
	m = h.waitMessage(staff.ID, m.ID, "По какой причине?")
	h.press(staff, m, l.T(locales.ClosureReasonIllness))
	return h.waitMessage(staff.ID, m.ID, "Проверьте")
}

// cancellations are the messages in chat that tell of a booking the
// center cancelled.
func (h *harness) cancellations(chatID int64, lang string) []telegramtest.Message {
	var out []telegramtest.Message
	head := plain(firstLine(tl(lang).T(locales.ClosureCancelled)))
	for _, m := range h.botMessages(chatID) {
		if strings.Contains(m.Text, head) {
			out = append(out, m)
		}
	}
	return out
}

func TestClosure_CancelsTellsAndRebooksInOneTap(t *testing.T) {
	t.Parallel()
	h, clock := centerStaffHarness(t)
	ctx := context.Background()
	aliya := telegramtest.User{ID: 2800, FirstName: "Әлия", LanguageCode: "kk"}
	h.ask(aliya, "/start", "")
	booked := h.book(aliya.ID, storage.Kazakh, "karasai", "psychology", at(t, 2, 15))
	other := h.book(2801, storage.Russian, "karasai", "career", at(t, 2, 15)) // another type: untouched

	prev := h.closeToPreview(gulnar, "психолога", "Завтра", "После обеда")
	if !strings.Contains(prev.Text, "Будет отменена 1 запись") || !strings.Contains(prev.Text, "Ерлан") {
		t.Fatalf("preview = %q, want one booking, Ерлан's", prev.Text)
	}
	h.press(gulnar, prev, "🔒 Закрыть")
	h.waitMessage(gulnar.ID, prev.ID, "Закрыто", "отправлено 1 человеку")

	m := h.waitText(aliya.ID, plain(firstLine(kk(locales.ClosureCancelled))))
	if !strings.Contains(m.Text, kk(locales.ClosureWhyIllness)) {
		t.Errorf("cancellation %q does not say why", m.Text)
	}
	if len(m.InlineKeyboard) != 3 {
		t.Fatalf("offers = %+v, want three", m.InlineKeyboard)
	}
	// Nearest to 15:00 of the same center first: 15:00 and later are
	// closed, so 12:00, then 11:00, then 10:00.
	for i, want := range []string{"12:00 · Қаскелең", "11:00 · Қаскелең", "10:00 · Қаскелең"} {
		if got := m.InlineKeyboard[i][0].Text; !strings.Contains(got, want) {
			t.Errorf("offer %d = %q, want %q", i, got, want)
		}
	}
	got, _ := h.db.Booking(ctx, booked.ID)
	if got.Status != storage.BookingCancelled || got.CancelReason != storage.ReasonIllness.CancelReason() {
		t.Errorf("booking = %s %q, want cancelled for illness", got.Status, got.CancelReason)
	}
	if o, _ := h.db.Booking(ctx, other.ID); !o.Active() {
		t.Errorf("a booking of another type was cancelled")
	}

	if n := len(h.cancellations(aliya.ID, "kk")); n != 1 {
		t.Errorf("%d cancellation messages, want 1", n)
	}
	h.press(aliya, m, "12:00")
	h.waitMessage(aliya.ID, m.ID, "Сіз жазылдыңыз", "12:00")
	// A second tap on an offer of the same message books nothing more.
	id := h.press(aliya, m, "11:00")
	if ans := h.waitAnswered(id); ans != kk(locales.ClosureRebookedAlready) {
		t.Errorf("second tap answered %q", ans)
	}
	mine, _ := h.db.BookingsOf(ctx, aliya.ID, clock.Now())
	if len(mine) != 1 || !mine[0].Start.Equal(at(t, 2, 12)) || mine[0].TypeID != "psychology" {
		t.Fatalf("bookings after the rebooking = %+v, want psychology at 12:00", mine)
	}
}

// TestClosure_RebookTakenMeanwhileOffersFresh: an offered time booked by
// someone else before the tap gets fresh offers, none of them that time.
func TestClosure_RebookTakenMeanwhileOffersFresh(t *testing.T) {
	t.Parallel()
	h, clock := centerStaffHarness(t)
	ctx := context.Background()
	aliya := telegramtest.User{ID: 2810, FirstName: "Әлия", LanguageCode: "ru"}
	h.ask(aliya, "/start", "")
	h.book(aliya.ID, storage.Russian, "karasai", "psychology", at(t, 2, 15))
	if _, _, err := h.db.AddClosure(ctx, storage.Closure{CenterID: "karasai", From: at(t, 2, 13), To: at(t, 3, 0), Reason: storage.ReasonTraining, By: staffKarasai}, clock.Now()); err != nil {
		t.Fatal(err)
	}
	// The store closed it, the bot did not: nobody was told. Tell through
	// the dialogue instead.
	prev := h.closeToPreview(gulnar, "Все консультации", "Завтра", "После обеда")
	if !strings.Contains(prev.Text, ru(locales.CloseTouchesNone)) {
		t.Fatalf("a booking cancelled already is touched again: %q", prev.Text)
	}
	h.press(gulnar, prev, "🔒 Закрыть")
	h.waitMessage(gulnar.ID, prev.ID, "Закрыто")
	if n := len(h.cancellations(aliya.ID, "ru")); n != 0 {
		t.Fatalf("%d cancellations for a booking another closure cancelled", n)
	}

	u := telegramtest.User{ID: 2811, FirstName: "Дана", LanguageCode: "ru"}
	h.ask(u, "/start", "")
	bk := h.book(u.ID, storage.Russian, "karasai", "legal", at(t, 3, 11))
	c, cancelled, err := h.db.AddClosure(ctx, storage.Closure{CenterID: "karasai", TypeID: "legal", From: at(t, 3, 11), To: at(t, 3, 12), Reason: storage.ReasonOther, By: staffKarasai}, clock.Now())
	if err != nil || len(cancelled) != 1 {
		t.Fatal(err, cancelled)
	}
	f := h.closuresFeature()
	f.tellCancelled(ctx, f.catalog(), c.Reason, cancelled)
	m := h.waitText(u.ID, plain(firstLine(ru(locales.ClosureCancelled))))
	first := m.InlineKeyboard[0][0].Text
	if !strings.Contains(first, "10:00 · Каскелен") {
		t.Fatalf("first offer %q", first)
	}
	h.book(2812, storage.Russian, "karasai", "legal", at(t, 3, 10)) // the only place of 10:00
	h.press(u, m, "10:00")
	m = h.waitMessage(u.ID, m.ID, plain(firstLine(ru(locales.ClosureRebookTaken))))
	for _, row := range m.InlineKeyboard {
		if strings.Contains(row[0].Text, "10:00 · Каскелен") && strings.Contains(row[0].Text, "3 дек") {
			t.Errorf("the taken time is offered again: %q", row[0].Text)
		}
	}
	if mine, _ := h.db.BookingsOf(ctx, u.ID, clock.Now()); len(mine) != 0 {
		t.Errorf("booked %+v", mine)
	}
	_ = bk
}

// closuresFeature is the bot's closing-time feature.
func (h *harness) closuresFeature() *closures {
	for _, f := range h.bot.features {
		if c, ok := f.(*closures); ok {
			return c
		}
	}
	h.t.Fatal("no closures feature")
	return nil
}

// TestClosure_RaceWithBookingsLeavesNoneInside: confirms of bookings and
// the confirm of a closure of the same day reach the bot in one batch;
// whatever the order, no active booking is left inside the closure, and
// everyone told "booked" whose booking the closure then cancelled hears
// of it exactly once.
func TestClosure_RaceWithBookingsLeavesNoneInside(t *testing.T) {
	t.Parallel()
	h, clock := centerStaffHarness(t)
	ctx := context.Background()
	const n = 8
	users := make([]telegramtest.User, n)
	sums := make([]telegramtest.Message, n)
	for i := range n {
		users[i] = telegramtest.User{ID: int64(2900 + i), FirstName: "U", LanguageCode: "ru"}
		sums[i] = h.toSummary(users[i], "ru", 2, []int{10, 11, 12, 14}[i%4], fmt.Sprintf("+77010029%02d", i))
	}
	prev := h.closeToPreview(gulnar, "Карьера", "Завтра", "Весь день")
	h.stop()
	for i := range n / 2 {
		h.press(users[i], sums[i], "Подтвердить")
	}
	h.press(gulnar, prev, "🔒 Закрыть")
	h.press(gulnar, prev, "🔒 Закрыть") // a second press in the same batch
	for i := n / 2; i < n; i++ {
		h.press(users[i], sums[i], "Подтвердить")
	}
	h.start()
	h.waitMessage(gulnar.ID, prev.ID, "Закрыто")
	for i := range n {
		m := h.waitMatch(users[i].ID, "an outcome of the confirm", func(m telegramtest.Message) bool {
			return m.ID == sums[i].ID && (strings.Contains(m.Text, "Вы записаны") || strings.Contains(m.Text, ru(locales.BookClosedByCenter)))
		})
		if strings.Contains(m.Text, "Вы записаны") {
			h.waitText(users[i].ID, plain(firstLine(ru(locales.ClosureCancelled))))
		}
	}
	list, err := h.db.BookingsOn(ctx, []string{"karasai"}, at(t, 2, 0), at(t, 3, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, bk := range list {
		if bk.Active() {
			t.Errorf("booking %d at %s is active inside the closure", bk.ID, bk.Start)
		}
	}
	for i := range n {
		if got := len(h.cancellations(users[i].ID, "ru")); got > 1 {
			t.Errorf("user %d told of the cancellation %d times", i, got)
		}
	}
	closures, _ := h.db.Closures(ctx, []string{"karasai"}, clock.Now(), at(t, 4, 0))
	if len(closures) != 1 {
		t.Errorf("%d closures, want 1 from two presses", len(closures))
	}
}

// TestClosure_ForgedButtonsOfAnotherCenterRefused: Konaev's staff can
// close, list or reopen nothing of Karasai, whatever button they forge.
func TestClosure_ForgedButtonsOfAnotherCenterRefused(t *testing.T) {
	t.Parallel()
	h, clock := centerStaffHarness(t)
	ctx := context.Background()
	c, _, err := h.db.AddClosure(ctx, storage.Closure{CenterID: "karasai", From: at(t, 3, 9), To: at(t, 3, 18), Reason: storage.ReasonIllness, By: staffKarasai}, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	m := h.ask(marat, "/close", "Какую консультацию")
	tok := ""
	for _, row := range m.InlineKeyboard {
		if d, err := tg.DecodeCallback(row[0].CallbackData); err == nil && d.Prefix == cbClose {
			tok = d.Arg(0)
		}
	}
	for _, data := range []string{"clb:karasai", "cll:karasai", "clr:" + tg.B36(c.ID), "cls:" + tok + ":c:karasai"} {
		id, _ := h.srv.PressButton(marat, marat.ID, m.ID, data)
		if ans := h.waitAnswered(id); ans != ru(locales.NotAllowed) {
			t.Errorf("%s answered %q, want refused", data, ans)
		}
	}
	if got, _ := h.db.Closure(ctx, c.ID); !got.InForce() {
		t.Error("a forged button reopened another center's closure")
	}
	if !strings.Contains(h.logs.String(), "refused a change of a center the user does not run") {
		t.Error("the refusals are not logged")
	}
	// Someone who runs no center is refused /close itself.
	nobody := telegramtest.User{ID: 2999, FirstName: "Н", LanguageCode: "ru"}
	h.ask(nobody, "/close", ru(locales.NotAllowed))
}

// TestClosure_ReopenOffersTheTimeAgainButKeepsCancellations.
func TestClosure_ReopenOffersTheTimeAgainButKeepsCancellations(t *testing.T) {
	t.Parallel()
	h, clock := centerStaffHarness(t)
	ctx := context.Background()
	bk := h.book(2850, storage.Russian, "karasai", "career", at(t, 3, 11))
	c, _, err := h.db.AddClosure(ctx, storage.Closure{CenterID: "karasai", TypeID: "career", From: at(t, 3, 0), To: at(t, 4, 0), Reason: storage.ReasonTraining, By: staffKarasai}, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	f := h.closuresFeature()
	text, kb, err := f.list(ctx, tl("ru"), f.catalog(), "karasai")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "Специалист на обучении") || len(kb.InlineKeyboard) != 1 {
		t.Fatalf("list = %q %+v", text, kb.InlineKeyboard)
	}
	m := h.ask(gulnar, "/start", "")
	id, _ := h.srv.PressButton(gulnar, gulnar.ID, m.ID, *kb.InlineKeyboard[0][0].CallbackData)
	if ans := h.waitAnswered(id); ans != ru(locales.ReopenDone) {
		t.Fatalf("reopen answered %q", ans)
	}
	if got, _ := h.db.Closure(ctx, c.ID); got.InForce() {
		t.Fatal("not reopened")
	}
	if got, _ := h.db.Booking(ctx, bk.ID); got.Active() {
		t.Error("reopening resurrected a cancelled booking")
	}
	o, _, _ := h.bot.slots.offerFor(ctx, "karasai", "career")
	if _, free := o.find(at(t, 3, 11)); !free {
		t.Error("the reopened time is not offered")
	}
	// Reopened once, it cannot be reopened again.
	id, _ = h.srv.PressButton(gulnar, gulnar.ID, m.ID, *kb.InlineKeyboard[0][0].CallbackData)
	if ans := h.waitAnswered(id); ans != ru(locales.ReopenTooLate) {
		t.Errorf("reopening twice answered %q", ans)
	}
}

// TestClosure_AnonymousStaysAnonymousThroughTheRebooking: a closure
// cancels an anonymous booking; the person rebooks with one tap; the new
// booking is anonymous too, and neither the closure's preview nor the new
// booking's staff notice names the person.
func TestClosure_AnonymousStaysAnonymousThroughTheRebooking(t *testing.T) {
	t.Parallel()
	h, clock := centerStaffHarness(t)
	ctx := context.Background()
	svetlana := telegramtest.User{ID: 2900, FirstName: "Светлана", Username: "sveta_2009", LanguageCode: "ru"}
	h.ask(svetlana, "/start", "")
	now := h.bot.now()
	booked, err := h.db.Book(ctx, storage.Booking{
		ChatID: svetlana.ID, Anonymous: true, Lang: storage.Russian, CenterID: "karasai", TypeID: "psychology",
		Start: at(t, 2, 15), End: at(t, 2, 16),
	}, storage.BookRules{Capacity: 2, MaxActive: 3, Now: now, NotBefore: now.Add(time.Hour), Reminders: h.bot.cfg.Reminders})
	if err != nil {
		t.Fatal(err)
	}

	prev := h.closeToPreview(gulnar, "психолога", "Завтра", "После обеда")
	if strings.Contains(prev.Text, svetlana.FirstName) || !strings.Contains(prev.Text, "П-") {
		t.Fatalf("preview = %q, want the booking's code and no name", prev.Text)
	}
	h.press(gulnar, prev, "🔒 Закрыть")
	m := h.waitText(svetlana.ID, plain(firstLine(ru(locales.ClosureCancelled))))
	h.press(svetlana, m, "12:00")
	h.waitMessage(svetlana.ID, m.ID, "12:00")

	mine, _ := h.db.BookingsOf(ctx, svetlana.ID, clock.Now())
	if len(mine) != 1 || !mine[0].Anonymous || mine[0].Name != "" || mine[0].Username != "" || mine[0].Phone != "" {
		t.Fatalf("rebooked = %+v, want one anonymous booking with no name", mine)
	}
	if mine[0].ID == booked.ID {
		t.Fatalf("the cancelled booking itself is active again")
	}
	// Whatever the staff group is told of the rebooking names no one.
	eventually(t, func() bool { got, _ := h.db.Booking(ctx, mine[0].ID); return got.StaffNotified })
	for _, sm := range h.botMessages(testStaffChat) {
		if strings.Contains(sm.Text, svetlana.FirstName) || strings.Contains(sm.Text, svetlana.Username) {
			t.Errorf("staff were told the name: %q", sm.Text)
		}
	}
}
