package bot

import (
	"context"
	"strings"
	"testing"

	"jastar/bot/telegramtest"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/catalog"
)

// editField opens Гүлнар's editor, presses a field's button and waits for
// its question.
func (h *harness) editField(staff telegramtest.User, label, question string) {
	h.t.Helper()
	m := h.ask(staff, "/mycenter", "Так карточку видит молодёжь")
	h.press(staff, m, label)
	h.waitText(staff.ID, question)
}

// youngCard is the card of a center as a young person opens it.
func (h *harness) youngCard(u telegramtest.User, centerID string) telegramtest.Message {
	h.t.Helper()
	m := h.ask(u, "/start", "")
	before := h.lastID(u.ID)
	h.srv.PressButton(u, u.ID, m.ID, "ctr:"+centerID)
	return h.waitMatch(u.ID, "the center's card", func(m telegramtest.Message) bool {
		return m.ID > before && m.FromBot && strings.Contains(m.Text, "📞")
	})
}

func TestMyCenter_StaffSetTheCardAndEveryoneSeesIt(t *testing.T) {
	t.Parallel()
	h, _ := centerStaffHarness(t)
	ctx := context.Background()
	ru := tl("ru")
	young := telegramtest.User{ID: 3100, FirstName: "Әлия", LanguageCode: "ru"}

	h.editField(gulnar, ru.T(locales.CardFieldPhone), "Напишите телефон центра")
	h.ask(gulnar, "+7 901 123 45 67", ru.T(locales.CardBadPhone)) // Russia, not Kazakhstan
	h.ask(gulnar, "8 (701) 123-45-67", "Сохранено", "+7 701 123 45 67")

	// Whatever staff type is shown as text, never as markup.
	typed := `<b>ул. Абылай хана</b> & 12`
	h.editField(gulnar, ru.T(locales.CardFieldAddressRU), "Напишите адрес на русском")
	h.ask(gulnar, "строка 1\u0007", ru.T(locales.CardBadValue, locales.Data{"Max": ru.Int(storage.MaxCardAddressLen)}))
	h.ask(gulnar, typed, "Сохранено", typed)

	h.editField(gulnar, ru.T(locales.CardFieldHours), ru.T(locales.CardAskHoursDay))
	m := h.waitButton(gulnar.ID, "Пн")
	h.press(gulnar, m, "Пн")
	h.waitText(gulnar.ID, "понедельник: напишите часы работы")
	h.ask(gulnar, "9:00 - 18:00", "Сохранено")

	h.editField(gulnar, ru.T(locales.CardFieldNote), "короткое примечание")
	h.ask(gulnar, "Вход со двора", "Сохранено", "📝 Вход со двора")

	card := h.youngCard(young, "karasai")
	for _, want := range []string{"+7 701 123 45 67", typed, "Пн 09:00–18:00 · Вт–Вс выходной", "📝 Вход со двора"} {
		if !strings.Contains(card.Text, want) {
			t.Errorf("the young person's card lacks %q:\n%s", want, card.Text)
		}
	}
	// The booking texts (summary, confirmation, reminders) show it too.
	bk := h.book(young.ID, storage.Russian, "karasai", "career", at(t, 2, 11))
	if got := h.bot.texts.bookingData(ru, bk)["Address"]; !strings.Contains(got.(string), esc(typed)) {
		t.Errorf("booking address = %q, want the staff's, escaped", got)
	}
	changes, err := h.db.Changes(ctx, 0, 10)
	if err != nil || len(changes) != 4 || changes[0].By != staffKarasai {
		t.Errorf("change log = %d entries (%v), want 4 by Гүлнар", len(changes), err)
	}
}

func TestMyCenter_PinAndPhoto(t *testing.T) {
	t.Parallel()
	h, _ := centerStaffHarness(t)
	ru := tl("ru")
	h.editField(gulnar, ru.T(locales.CardFieldPin), "Отправьте точное место центра")
	before := h.lastID(gulnar.ID)
	h.srv.SendLocation(gulnar, 51.1, 71.4) // Astana: not a correction
	h.waitNew(gulnar.ID, before, ru.T(locales.CardBadPin))
	before = h.lastID(gulnar.ID)
	h.srv.SendLocation(gulnar, 43.2001, 76.6222)
	h.waitNew(gulnar.ID, before, "Сохранено")
	if c := h.bot.guide.shownCenter(mustCenter(t, h, "karasai")); c.Lat != 43.2001 || c.Lon != 76.6222 {
		t.Errorf("pin = %v,%v", c.Lat, c.Lon)
	}
	// Without the pin step open, a location finds the centers near it.
	before = h.lastID(gulnar.ID)
	h.srv.SendLocation(gulnar, 43.2001, 76.6222)
	h.waitNew(gulnar.ID, before, plain(firstLine(ru.T(locales.CentersNearest))))

	h.editField(gulnar, ru.T(locales.CardFieldPhoto), "Отправьте фото входа")
	before = h.lastID(gulnar.ID)
	h.srv.SendPhoto(gulnar)
	h.waitNew(gulnar.ID, before, "Сохранено")
	young := telegramtest.User{ID: 3110, FirstName: "Дана", LanguageCode: "ru"}
	card := h.youngCard(young, "karasai")
	h.press(young, card, ru.T(locales.ButtonEntrancePhoto))
	eventually(t, func() bool { return len(h.srv.Calls("sendPhoto")) == 1 })
}

func mustCenter(t *testing.T, h *harness, id string) (c catalog.Center) {
	t.Helper()
	c, ok := h.bot.cat().Center(id)
	if !ok {
		t.Fatalf("no center %s", id)
	}
	return c
}

// TestMyCenter_AnotherCenterRefusedAdminResets: Konaev's staff can change
// nothing of Karasai; an admin puts a field back to the catalog's value.
func TestMyCenter_AnotherCenterRefusedAdminResets(t *testing.T) {
	t.Parallel()
	h, _ := centerStaffHarness(t)
	ru := tl("ru")
	m := h.ask(marat, "/mycenter", "Коворкинг-центр города Конаев")
	for _, data := range []string{"cdo:karasai", "cde:karasai:phone", "cdh:karasai:1:x", "cdz:karasai", "cdr:karasai:phone"} {
		id, _ := h.srv.PressButton(marat, marat.ID, m.ID, data)
		if ans := h.waitAnswered(id); ans != ru.T(locales.NotAllowed) {
			t.Errorf("%s answered %q, want refused", data, ans)
		}
	}
	if len(h.bot.guide.shownCenter(mustCenter(t, h, "karasai")).Overrides) != 0 {
		t.Fatal("another center's staff changed Karasai's card")
	}

	h.editField(gulnar, ru.T(locales.CardFieldPhone), "Напишите телефон центра")
	h.ask(gulnar, "+77011234567", "Сохранено")
	// Staff may not reset; the admin may.
	id, _ := h.srv.PressButton(gulnar, gulnar.ID, m.ID, "cdr:karasai:phone")
	if ans := h.waitAnswered(id); ans != ru.T(locales.NotAllowed) {
		t.Errorf("staff reset answered %q", ans)
	}
	admin := telegramtest.User{ID: testAdmin, FirstName: "Админ", LanguageCode: "ru"}
	m = h.ask(admin, "/mycenter", ru.T(locales.MyCenterChoose))
	h.press(admin, m, "Карасай")
	m = h.waitButton(admin.ID, ru.T(locales.ButtonResetCard))
	h.press(admin, m, ru.T(locales.ButtonResetCard))
	m = h.waitText(admin.ID, ru.T(locales.CardResetChoose))
	h.press(admin, m, ru.T(locales.CardFieldPhone))
	eventually(t, func() bool { return len(h.bot.guide.shownCenter(mustCenter(t, h, "karasai")).Overrides) == 0 })
}
