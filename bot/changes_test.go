package bot

import (
	"context"
	"strings"
	"testing"

	"jastar/bot/telegramtest"
	"jastar/locales"
	"jastar/storage"
)

func TestChanges_AdminsPageTheLog(t *testing.T) {
	t.Parallel()
	h, clock := centerStaffHarness(t)
	ctx := context.Background()
	for i := range 11 {
		if _, _, err := h.db.SetCard(ctx, storage.CardOverride{CenterID: "karasai", Field: storage.CardNote, Text: "заметка " + string(rune('a'+i)), By: staffKarasai, At: clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := h.db.AddClosure(ctx, storage.Closure{CenterID: "karasai", TypeID: "legal", From: at(t, 3, 9), To: at(t, 3, 13), Reason: storage.ReasonTraining, By: staffKarasai}, clock.Now()); err != nil {
		t.Fatal(err)
	}
	h.ask(gulnar, "/changes", tl("ru").T(locales.NotAllowed))
	admin := telegramtest.User{ID: testAdmin, FirstName: "Админ", LanguageCode: "ru"}
	m := h.ask(admin, "/changes", "Изменения в центрах")
	for _, want := range []string{"🔒 Закрыто: 3 декабря, четверг, 09:00–13:00", "Специалист на обучении", "id 2700", "заметка k", "заметка j → заметка k"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("first page lacks %q:\n%s", want, m.Text)
		}
	}
	if strings.Contains(m.Text, "значение из каталога → заметка a") {
		t.Error("the first page holds more than 10 changes")
	}
	h.press(admin, m, "Раньше")
	m = h.waitMessage(admin.ID, m.ID, "значение из каталога → заметка a")
	if len(m.InlineKeyboard) != 0 {
		t.Errorf("the last page offers older changes: %+v", m.InlineKeyboard)
	}
}

// TestChanges_DigestStatsAndCSVTellClosures: the morning digest names the
// day's closures; /stats and the CSV tell cancellations by a closure apart.
func TestChanges_DigestStatsAndCSVTellClosures(t *testing.T) {
	t.Parallel()
	h, clock := centerStaffHarness(t)
	ctx := context.Background()
	bk := h.book(3300, storage.Russian, "karasai", "career", at(t, 1, 15))
	other := h.book(3301, storage.Russian, "karasai", "career", at(t, 1, 16))
	if _, err := h.db.Cancel(ctx, other.ID, cancelByPerson, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.db.AddClosure(ctx, storage.Closure{CenterID: "karasai", TypeID: "career", From: at(t, 1, 14), To: at(t, 1, 16), Reason: storage.ReasonIllness, By: staffKarasai}, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := h.bot.StaffDigest(ctx, clock.Now()); err != nil {
		t.Fatal(err)
	}
	h.waitText(testStaffChat, "Сегодня закрыто", "Карасай", "14:00–16:00", "Специалист заболел")

	admin := telegramtest.User{ID: testAdmin, FirstName: "Админ", LanguageCode: "ru"}
	h.ask(admin, "/stats", "отменены: 2", "из них из-за закрытия времени центром: 1 · по другим причинам: 1")

	got, _ := h.db.Booking(ctx, bk.ID)
	if text := cancelReasonText(tl("ru"), got); text != "центр закрыл время: 🤒 Специалист заболел" {
		t.Errorf("CSV reason = %q", text)
	}
}
