package bot

import (
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"jastar/bot/telegramtest"
	"jastar/locales"
	"jastar/scheduler"
)

// expiredBooking is the text of a booking dialogue closed for inactivity,
// with the bot's default TTL of 30 minutes.
func expiredBooking(lang string) string {
	l := tl(lang)
	return plain(l.T(locales.BookExpired, locales.Data{"Duration": l.N(locales.BookMinutes, 30)}))
}

// toDayStep walks u through /book to the day list of Karasai career.
func (h *harness) toDayStep(u telegramtest.User, lang string) telegramtest.Message {
	h.t.Helper()
	l := tl(lang)
	m := h.ask(u, "/book", plain(firstLine(l.T(locales.BookChooseType))))
	h.press(u, m, map[string]string{"kk": "Мансап", "ru": "Карьера"}[lang])
	m = h.waitMessage(u.ID, m.ID, h.karasaiCareerStep(lang, locales.BookChooseCenter, time.Time{}))
	h.press(u, m, map[string]string{"kk": "Қарасай", "ru": "Карасай"}[lang])
	return h.waitMessage(u.ID, m.ID, h.karasaiCareerStep(lang, locales.BookChooseDay, at(h.t, 2, 12)))
}

// toPhoneStep walks u to the phone question after picking 11:00 on 2
// December.
func (h *harness) toPhoneStep(u telegramtest.User, lang string) telegramtest.Message {
	h.t.Helper()
	l := tl(lang)
	m := h.toDayStep(u, lang)
	h.press(u, m, dayLabel(lang, at(h.t, 2, 12)))
	m = h.waitMessage(u.ID, m.ID, h.karasaiCareerStep(lang, locales.BookChooseTime, at(h.t, 2, 12)))
	before := h.lastID(u.ID)
	h.press(u, m, "11:00")
	return h.waitNew(u.ID, before, firstLine(l.T(locales.BookAskPhone)))
}

// housekeep runs the hourly housekeeping job as main wires it, at now.
func (h *harness) housekeep(now time.Time) {
	h.t.Helper()
	job := scheduler.Housekeeping(h.db, h.bot.cfg.DialogTTL, slog.New(slog.DiscardHandler))
	if err := job(context.Background(), now); err != nil {
		h.t.Fatal(err)
	}
}

// assertMainMenu fails unless m brings back the main menu in lang.
func assertMainMenu(t *testing.T, m telegramtest.Message, lang string) {
	t.Helper()
	l := tl(lang)
	if !replyKeyboardHas(m, l.T(locales.MenuBook)) || replyKeyboardHas(m, l.T(locales.BookSkipPhone)) {
		t.Errorf("message %q shows keyboard %+v, want the main menu", m.Text, m.ReplyKeyboard)
	}
}

// TestBooking_ExpiredDialogueSaysSo: a person leaves the booking at the day
// step and comes back after the idle limit. Whether housekeeping closed the
// dialogue meanwhile or the press finds it idle, pressing a day tells them
// it expired and after how long, in their language, with the main menu;
// the pressed message loses its buttons.
func TestBooking_ExpiredDialogueSaysSo(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	for i, tc := range []struct {
		lang         string
		housekeeping bool
	}{{"ru", true}, {"kk", true}, {"ru", false}, {"kk", false}} {
		name := map[bool]string{true: "closed by housekeeping", false: "found idle at the press"}[tc.housekeeping]
		t.Run(tc.lang+" "+name, func(t *testing.T) {
			u := telegramtest.User{ID: int64(2101 + i), FirstName: "Ә", LanguageCode: tc.lang}
			days := h.toDayStep(u, tc.lang)
			clock.Set(clock.Now().Add(45 * time.Minute))
			if tc.housekeeping {
				h.housekeep(clock.Now())
			}
			before := h.lastID(u.ID)
			id := h.press(u, days, dayLabel(tc.lang, at(t, 2, 12)))
			if got := h.waitAnswered(id); got != "" {
				t.Errorf("press answered %q, want no notice: the message says it", got)
			}
			want := expiredBooking(tc.lang)
			m := h.waitNew(u.ID, before, want)
			assertMainMenu(t, m, tc.lang)
			h.waitMatch(u.ID, "day list without buttons", func(m telegramtest.Message) bool {
				return m.ID == days.ID && len(m.InlineKeyboard) == 0
			})
		})
	}
	// The text says how long and names the menu button as it reads.
	for lang, want := range map[string][]string{
		"ru": {"30 минут", ru(locales.MenuBook)},
		"kk": {"30 минут", kk(locales.MenuBook)},
	} {
		for _, w := range want {
			if !strings.Contains(expiredBooking(lang), w) {
				t.Errorf("%s expiry text %q does not say %q", lang, expiredBooking(lang), w)
			}
		}
	}
}

// TestBooking_PhoneKeyboardAfterExpiry: housekeeping closes a dialogue
// waiting at the phone question, whose reply keyboard is still on screen.
// What the person sends from it next (Skip, Back, their contact) is told
// the dialogue expired, with the main menu in its place, not "use the
// buttons"; said once, and a new booking then goes through.
func TestBooking_PhoneKeyboardAfterExpiry(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	for i, tc := range []struct {
		name, lang string
		send       func(u telegramtest.User)
	}{
		{"skip", "ru", func(u telegramtest.User) { h.srv.SendText(u, ru(locales.BookSkipPhone)) }},
		{"back", "kk", func(u telegramtest.User) { h.srv.SendText(u, kk(locales.ButtonBack)) }},
		{"contact", "ru", func(u telegramtest.User) { h.srv.SendContact(u, "+77015550123") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := tl(tc.lang)
			u := telegramtest.User{ID: int64(2201 + i), FirstName: "Ә", LanguageCode: tc.lang}
			ask := h.toPhoneStep(u, tc.lang)
			if !replyKeyboardHas(ask, l.T(locales.BookSkipPhone)) {
				t.Fatalf("phone question keyboard = %+v, want Skip", ask.ReplyKeyboard)
			}
			clock.Set(clock.Now().Add(45 * time.Minute))
			h.housekeep(clock.Now())

			before := h.lastID(u.ID)
			tc.send(u)
			m := h.waitNew(u.ID, before, expiredBooking(tc.lang))
			assertMainMenu(t, m, tc.lang)
			for _, msg := range h.botMessages(u.ID) {
				if msg.ID > before && msg.ID != m.ID {
					t.Errorf("besides the expiry the bot said %q", msg.Text)
				}
			}

			// Said once: the same text again is just not understood.
			before = h.lastID(u.ID)
			h.srv.SendText(u, l.T(locales.BookSkipPhone))
			h.waitNew(u.ID, before, plain(firstLine(l.T(locales.NotUnderstood))))

			// A new dialogue goes through to the booking.
			days := h.toDayStep(u, tc.lang)
			h.press(u, days, dayLabel(tc.lang, at(t, 3, 12)))
			times := h.waitMessage(u.ID, days.ID, h.karasaiCareerStep(tc.lang, locales.BookChooseTime, at(t, 3, 12)))
			before = h.lastID(u.ID)
			h.press(u, times, times.InlineKeyboard[0][0].Text) // the first free time
			h.waitNew(u.ID, before, firstLine(l.T(locales.BookAskPhone)))
			before = h.lastID(u.ID)
			h.srv.SendText(u, l.T(locales.BookSkipPhone))
			sum := h.waitNew(u.ID, before, plain(firstLine(l.T(locales.BookSummary))))
			h.press(u, sum, plain(l.T(locales.BookConfirm)))
			h.waitMessage(u.ID, sum.ID, plain(firstLine(l.T(locales.BookConfirmed))))
		})
	}
}

// TestForget_ErasesExpiredDialogue: what housekeeping leaves of an expired
// dialogue names the chat; /forget erases it with the rest, so the
// database file holds the chat id in no key.
func TestForget_ErasesExpiredDialogue(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	l := tl("ru")
	u := telegramtest.User{ID: 2301, FirstName: "Zq7", LanguageCode: "ru"}
	h.toPhoneStep(u, "ru")
	clock.Set(clock.Now().Add(45 * time.Minute))
	h.housekeep(clock.Now())

	h.srv.SendText(u, "/forget")
	ask := h.waitText(u.ID, plain(firstLine(l.T(locales.ForgetAsk))))
	h.press(u, ask, l.T(locales.ForgetYes))
	h.waitMessage(u.ID, ask.ID, plain(firstLine(l.T(locales.ForgetDone))))
	h.stop()
	if err := h.db.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(h.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	var key [8]byte
	binary.BigEndian.PutUint64(key[:], uint64(u.ID)^(1<<63))
	if bytes.Contains(file, key[:]) {
		t.Errorf("the database file still holds the chat id %d in a key", u.ID)
	}
}
