package bot

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"jastar/bot/telegramtest"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/catalog"
)

// firstAnswerAfter waits for the bot's first message in chat after the
// person's message sent as update id (the message is the newest in the
// chat when it was sent: lastID before the send).
func (h *harness) firstAnswerAfter(chatID int64, before int) telegramtest.Message {
	h.t.Helper()
	return h.waitMatch(chatID, "the bot's first answer", func(m telegramtest.Message) bool {
		if !m.FromBot || m.ID <= before {
			return false
		}
		for _, earlier := range h.srv.Transcript(chatID) {
			if earlier.FromBot && earlier.ID > before && earlier.ID < m.ID {
				return false
			}
		}
		return true
	})
}

// TestCrisis_AnsweredFirstAndLeavesNoTrace: a message that signals crisis
// gets the help lines and the psychologist's offer as the bot's first
// answer; an ordinary one gets the usual answer; the text is in no log
// line and, once the bot stops, in no page of the database file.
func TestCrisis_AnsweredFirstAndLeavesNoTrace(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t)
	ru := func(id string) string { return plain(tl("ru").T(id)) }
	u := h.person(4701, storage.Russian)
	const marker = "Zq7731"
	secret := "мне так плохо, хочу умереть. " + marker

	before := h.lastID(u.ID)
	h.srv.SendText(u, secret)
	answer := h.firstAnswerAfter(u.ID, before)
	for _, want := range []string{firstLine(ru(locales.CrisisAnswer)), firstLine(ru(locales.HelpLinesHeader)), "111", "112",
		ru(locales.HelpLinesNotAService), ru(locales.CrisisBookOffer)} {
		if !strings.Contains(answer.Text, want) {
			t.Errorf("the first answer lacks %q:\n%s", want, answer.Text)
		}
	}
	if !strings.HasPrefix(answer.Text, firstLine(ru(locales.CrisisAnswer))) {
		t.Errorf("the first answer does not begin with the crisis text:\n%s", answer.Text)
	}
	if !hasButton(answer, tl("ru").T(locales.CrisisBookButton)) {
		t.Errorf("the first answer has no button for the soonest psychologist: %+v", answer.InlineKeyboard)
	}
	if got := counterValue(t, h, "jastar_crisis_answers_total", nil); got != 1 {
		t.Errorf("jastar_crisis_answers_total = %v, want 1", got)
	}

	// An idiom the classifier does not hear gets the usual answer.
	before = h.lastID(u.ID)
	h.srv.SendText(u, "вчера убил время на игры")
	if m := h.firstAnswerAfter(u.ID, before); m.Text != ru(locales.NotUnderstood) {
		t.Errorf("an ordinary message got %q, want the usual answer", m.Text)
	}
	if got := counterValue(t, h, "jastar_crisis_answers_total", nil); got != 1 {
		t.Errorf("jastar_crisis_answers_total = %v after an ordinary message, want 1", got)
	}

	// The offer opens the booking dialogue at the soonest free time: today
	// at 11:00, the first hour after the booking notice, at the first
	// center of the catalog that offers the psychologist.
	h.press(u, answer, tl("ru").T(locales.CrisisBookButton))
	psych, _ := h.bot.cat().Type(psychologyType)
	times := h.waitNew(u.ID, answer.ID, psych.Name.RU)
	if !strings.Contains(times.Text, tl("ru").Date(at(t, 1, 12))) ||
		len(times.InlineKeyboard) == 0 || times.InlineKeyboard[0][0].Text != "11:00" {
		t.Errorf("the offer opened %q %+v, want today's times of the psychologist, 11:00 first", times.Text, times.InlineKeyboard)
	}

	checkNoTrace(t, h, marker)
}

// TestCrisis_NoCopyInTheFile: right after a crisis message, with no later
// write to reuse the freed page that held its update, the database file
// holds no copy of its text once the bot stops.
func TestCrisis_NoCopyInTheFile(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t)
	u := h.person(4702, storage.Kazakh)
	const marker = "Kx5093"
	before := h.lastID(u.ID)
	h.srv.SendText(u, "өлгім келеді "+marker)
	h.firstAnswerAfter(u.ID, before)
	checkNoTrace(t, h, marker)
}

// checkNoTrace stops the bot, closes the database and looks for marker in
// the log and in every byte of the file, as an attacker with a copy would.
func checkNoTrace(t *testing.T, h *harness, marker string) {
	t.Helper()
	h.stop()
	if strings.Contains(h.logs.String(), marker) {
		t.Error("the log holds the text of the crisis message")
	}
	if err := h.db.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(h.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file, []byte(marker)) {
		t.Error("the database file still holds the text of the crisis message")
	}
}

// TestCrisis_InsideADialogue: the booking dialogue waits for buttons, so a
// crisis message there is heard; a comment after a consultation is typed
// text, so there the message is the comment, as the person meant it.
func TestCrisis_InsideADialogue(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	kk := tl("kk")

	t.Run("booking, which takes buttons", func(t *testing.T) {
		u := h.person(4801, storage.Kazakh)
		h.ask(u, "/book", plain(firstLine(kk.T(locales.BookChooseType))))
		before := h.lastID(u.ID)
		h.srv.SendText(u, "өлгім келеді")
		if m := h.firstAnswerAfter(u.ID, before); !strings.HasPrefix(m.Text, firstLine(plain(kk.T(locales.CrisisAnswer)))) {
			t.Errorf("in the booking dialogue the crisis message got %q", m.Text)
		}
	})
	t.Run("a comment, which is typed text", func(t *testing.T) {
		u := h.person(4802, storage.Kazakh)
		bk := h.book(u.ID, storage.Kazakh, "karasai", "career", at(t, 2, 11))
		if _, err := h.db.SetStatus(ctx, bk.ID, storage.BookingAttended, at(t, 3, 9)); err != nil {
			t.Fatal(err)
		}
		h.sweepAt(clock, at2(t, 3, 9, 1))
		q := h.waitText(u.ID, plain(firstLine(kk.T(locales.FeedbackAsk))))
		h.press(u, q, "2")
		h.waitMessage(u.ID, q.ID, plain(firstLine(kk.T(locales.FeedbackRated, locales.Data{"Rating": 2}))))
		const comment = "маман дұрыс тыңдамады, өлгім келеді"
		before := h.lastID(u.ID)
		h.srv.SendText(u, comment)
		if m := h.firstAnswerAfter(u.ID, before); m.Text != kk.T(locales.FeedbackThanks) {
			t.Errorf("the comment got %q, want the thanks for it", m.Text)
		}
		if f, err := h.db.Feedback(ctx, bk.ID); err != nil || f.Comment != comment {
			t.Errorf("feedback = %+v, %v; want the comment kept", f, err)
		}
	})
}

// phoneCatalog is the default catalog with a phone for Karasai's center.
func phoneCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	src := strings.Replace(string(catalog.DefaultTOML()), "lat = 43.199\nlon = 76.621\n", "lat = 43.199\nlon = 76.621\nphone = \"+7 727 300 00 00\"\n", 1)
	c, err := catalog.Parse("phone.toml", []byte(src), almaty(t))
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := c.Center("karasai"); k.Phone == "" {
		t.Fatal("the catalog's Karasai center got no phone: the default catalog changed")
	}
	return c
}

// TestHelpLines_CardAndNearestCenter: the 🆘 button of /help shows every
// help line of the catalog with its hours and price, and the nearest
// center's phone only when the bot knows both where the person is and that
// the center is open now.
func TestHelpLines_CardAndNearestCenter(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t, withCatalog(phoneCatalog(t)))
	ctx := context.Background()
	ru := tl("ru")
	nearest := plain(ru.T(locales.HelpLinesNearestCenter, locales.Data{"Center": "", "Phone": ""}))
	nearest, _, _ = strings.Cut(nearest, ":")

	card := func(u telegramtest.User) string {
		t.Helper()
		help := h.ask(u, "/help", firstLine(plain(ru.T(locales.Help))))
		h.press(u, help, ru.T(locales.HelpButton))
		return h.waitNew(u.ID, help.ID, plain(firstLine(ru.T(locales.HelpLinesHeader)))).Text
	}

	nowhere := h.person(4901, storage.Russian)
	text := card(nowhere)
	for _, line := range h.bot.cat().HelpLines {
		for _, want := range []string{line.Number, line.Name.RU, line.Description.RU} {
			if !strings.Contains(text, want) {
				t.Errorf("the card lacks %q:\n%s", want, text)
			}
		}
	}
	for _, want := range []string{ru.T(locales.HelpLineAlways), ru.T(locales.HelpLineFree), ru.T(locales.HelpLinesNotAService)} {
		if !strings.Contains(text, want) {
			t.Errorf("the card lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, nearest) {
		t.Errorf("the card names a nearest center for a person the bot cannot place:\n%s", text)
	}

	// Near Kaskelen, on a Tuesday at 10:00: Karasai's center is open.
	near := h.person(4902, storage.Russian)
	if _, err := h.db.UpdateUser(ctx, near.ID, func(u *storage.User) error {
		u.HasLocation, u.Lat, u.Lon = true, 43.2, 76.63
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if text := card(near); !strings.Contains(text, nearest) || !strings.Contains(text, "+7 727 300 00 00") {
		t.Errorf("near an open center, the card lacks its phone:\n%s", text)
	}
	// At 13:30 its specialists are at lunch: no promise of an answer.
	clock.Set(at2(t, 1, 13, 30))
	if text := card(near); strings.Contains(text, nearest) {
		t.Errorf("in the lunch break the card says the center is open:\n%s", text)
	}
	clock.Set(at2(t, 1, 10, 0))

	// A district chosen for the news places the person too.
	district := h.person(4903, storage.Russian)
	if err := h.db.SaveSubscription(ctx, storage.Subscription{ChatID: district.ID, Topics: []storage.Topic{storage.TopicEvents},
		DistrictID: "karasai", Lang: storage.Russian, Active: true}); err != nil {
		t.Fatal(err)
	}
	if text := card(district); !strings.Contains(text, "+7 727 300 00 00") {
		t.Errorf("for a person of Karasai district, the card lacks its center's phone:\n%s", text)
	}
}

func TestWeekdays(t *testing.T) {
	ru := tl("ru")
	tests := []struct {
		days []time.Weekday
		want string
	}{
		{[]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}, "Пн–Пт"},
		{[]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}, "Пн–Вс"},
		{[]time.Weekday{time.Monday, time.Wednesday, time.Friday}, "Пн, Ср, Пт"},
		{[]time.Weekday{time.Saturday, time.Sunday}, "Сб, Вс"},
		{[]time.Weekday{time.Wednesday}, "Ср"},
	}
	for _, tt := range tests {
		if got := weekdays(ru, tt.days); got != tt.want {
			t.Errorf("weekdays(%v) = %q, want %q", tt.days, got, tt.want)
		}
	}
}
