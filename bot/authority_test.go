package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"jastar/bot/telegramtest"
	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
)

// chatState is what a person sees of a chat: each message's text and
// buttons, edits included.
func (h *harness) chatState(chatID int64) string {
	var b strings.Builder
	for _, m := range h.srv.Transcript(chatID) {
		fmt.Fprintf(&b, "%d %t %q %v\n", m.ID, m.FromBot, m.Text, m.InlineKeyboard)
	}
	return b.String()
}

// TestCallbacks_AuthorityComesFromThePresser: a button press whose message
// is in the victim's private chat but whose sender is someone else acts for
// nobody. Whatever the button, nothing of the victim's changes, nothing
// appears in their chat, and the presser is told in their own language.
func TestCallbacks_AuthorityComesFromThePresser(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	victim := h.person(4001, storage.Russian)
	attacker := telegramtest.User{ID: 4002, FirstName: "Бөтен", LanguageCode: "kk"}

	// The victim has an attended consultation (feedback is open), an
	// upcoming one, a place at an event, a subscription, and a booking
	// dialogue at its summary.
	attended := h.book(victim.ID, storage.Russian, "karasai", "career", at(t, 2, 11))
	upcoming := h.book(victim.ID, storage.Russian, "karasai", "career", at(t, 4, 11))
	clock.Set(at2(t, 2, 11, 40))
	if _, err := h.db.SetStatus(ctx, attended.ID, storage.BookingAttended, clock.Now()); err != nil {
		t.Fatal(err)
	}
	joined := h.addEvent("karasai", "Шахмат", eventAt(t, 12, 20, 15), 10)
	other := h.addEvent("karasai", "Домбыра", eventAt(t, 12, 21, 15), 10)
	if _, _, err := h.db.Register(ctx, joined.ID, victim.ID, clock.Now(), h.bot.cfg.Reminders); err != nil {
		t.Fatal(err)
	}
	sub := storage.Subscription{ChatID: victim.ID, Topics: []storage.Topic{storage.TopicEvents}, Lang: storage.Russian, Active: true, UpdatedAt: clock.Now()}
	if err := h.db.SaveSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	sum := h.toSummary(victim, "ru", 3, 12, "+77010000099")
	conv, err := h.db.Conversation(ctx, victim.ID)
	if err != nil {
		t.Fatal(err)
	}
	tok := conv.Token
	asked := strconv.FormatInt(clock.Now().Unix(), 36)
	before := h.chatState(victim.ID)
	list := ":" + listAll + ":" + noID + ":0"

	families := []struct {
		family string
		data   []string
	}{
		{"my bookings", []string{cbMyCancel + ":" + tg.B36(upcoming.ID), cbMyCancelYes + ":" + tg.B36(upcoming.ID), cbMyKeep + ":" + tg.B36(upcoming.ID), cbMyMove + ":" + tg.B36(upcoming.ID)}},
		{"booking dialogue", []string{cbBookConfirm + ":" + tok, cbBookBack + ":" + tok + ":" + stepDay, cbBookQuit + ":" + tok}},
		{"feedback", []string{cbFeedbackRate + ":" + tg.B36(attended.ID) + ":1", cbFeedbackSkip + ":" + tg.B36(attended.ID)}},
		{"events", []string{cbUnregister + ":" + tg.B36(joined.ID) + list, cbRegister + ":" + tg.B36(other.ID) + list}},
		{"forget", []string{cbForgetYes + ":" + asked, cbForgetNo}},
		{"subscription", []string{cbSubscription + ":off", cbSubscription + ":t:news", cbSubscription + ":dd:_"}},
		{"language", []string{cbLanguage + ":kk"}},
	}
	for _, f := range families {
		t.Run(f.family, func(t *testing.T) {
			for _, data := range f.data {
				id, _ := h.srv.PressButton(attacker, victim.ID, sum.ID, data)
				if got, want := h.waitAnswered(id), kk(locales.ButtonNotYours); got != want {
					t.Errorf("%s: the presser was answered %q, want %q", data, got, want)
				}
			}
		})
	}

	if got, err := h.db.Booking(ctx, upcoming.ID); err != nil || got.Status != storage.BookingBooked || !got.Start.Equal(upcoming.Start) {
		t.Errorf("the victim's upcoming booking = %+v, %v; want it booked at %s", got, err, upcoming.Start)
	}
	if mine, _ := h.db.BookingsOf(ctx, victim.ID, clock.Now()); len(mine) != 1 {
		t.Errorf("the victim's upcoming bookings = %+v, want only the one they made", mine)
	}
	if got, err := h.db.Conversation(ctx, victim.ID); err != nil || got.Flow != flowBook || got.Step != stepSummary || got.Token != tok {
		t.Errorf("the victim's dialogue = %+v, %v; want it at the summary, untouched", got, err)
	}
	if _, err := h.db.Feedback(ctx, attended.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("feedback stored for the victim's consultation: %v", err)
	}
	if _, err := h.db.Registration(ctx, joined.ID, victim.ID); err != nil {
		t.Errorf("the victim's place at the event: %v", err)
	}
	if reg, err := h.db.Registration(ctx, other.ID, victim.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the victim was registered for an event: %+v, %v", reg, err)
	}
	if got, err := h.db.Subscription(ctx, victim.ID); err != nil || !got.Active || !slices.Equal(got.Topics, sub.Topics) || got.DistrictID != "" {
		t.Errorf("the victim's subscription = %+v, %v; want %+v", got, err, sub)
	}
	if u, err := h.db.User(ctx, victim.ID); err != nil || u.Lang != storage.Russian || u.Phone == "" {
		t.Errorf("the victim's record = %+v, %v; want it kept, in Russian", u, err)
	}
	if after := h.chatState(victim.ID); after != before {
		t.Errorf("the victim's chat changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if u, err := h.db.User(ctx, attacker.ID); err != nil || u.Lang != storage.Kazakh {
		t.Errorf("the presser's record = %+v, %v; want them known, in Kazakh", u, err)
	}
	if regs, _ := h.db.PersonRegistrations(ctx, attacker.ID); len(regs) != 0 {
		t.Errorf("the presser got registrations %+v", regs)
	}

	// A message in the victim's chat sent by someone else acts for nobody
	// either: a /cancel would end the victim's dialogue. The victim's own
	// press after it, handled after it in the chat's order, still confirms.
	forged := fmt.Sprintf(`{"message":{"message_id":%d,"date":%d,"from":{"id":%d,"is_bot":false,"first_name":"X","language_code":"kk"},`+
		`"chat":{"id":%d,"type":"private","first_name":"Дана"},"text":"/cancel","entities":[{"type":"bot_command","offset":0,"length":7}]}}`,
		h.lastID(victim.ID)+1, clock.Now().Unix(), attacker.ID, victim.ID)
	h.srv.PushUpdate([]byte(forged))
	h.press(victim, sum, "Подтвердить")
	h.waitMessage(victim.ID, sum.ID, "Вы записаны", "12:00")
}

// TestCallbacks_GroupsTakeOnlyStaffButtons: a staff group belongs to no
// single person, so personal buttons pressed there act for nobody (not for
// the group as if it were a person); staff buttons there work for staff
// only, by who pressed them.
func TestCallbacks_GroupsTakeOnlyStaffButtons(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t)
	ctx := context.Background()
	admin := telegramtest.User{ID: testAdmin, FirstName: "Админ", LanguageCode: "ru"}
	stranger := telegramtest.User{ID: 4102, FirstName: "Бөтен", LanguageCode: "kk"}
	bk := h.book(4101, storage.Russian, "karasai", "career", at(t, 2, 11))
	h.bot.staff.notifyStaff(ctx, bk, staffNew, storage.Booking{})
	note := h.waitText(testStaffChat, "Новая запись", "11:00")
	e := h.addEvent("karasai", "Шахмат", eventAt(t, 12, 20, 15), 10)

	personal := []string{
		cbRegister + ":" + tg.B36(e.ID) + ":" + listAll + ":" + noID + ":0",
		cbLanguage + ":kk",
		cbSubscription + ":t:news",
		cbForgetNo,
	}
	for _, data := range personal {
		id, _ := h.srv.PressButton(admin, testStaffChat, note.ID, data)
		if got, want := h.waitAnswered(id), ru(locales.GroupOnlyPrivate); got != want {
			t.Errorf("%s in the staff group answered %q, want %q", data, got, want)
		}
	}
	if regs, _ := h.db.EventRegistrations(ctx, e.ID); len(regs) != 0 {
		t.Errorf("a press in the staff group registered %+v", regs)
	}
	if _, err := h.db.User(ctx, testStaffChat); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the staff group became a person: %v", err)
	}

	// A staff button pressed by someone who is not staff is refused by who
	// pressed it, in their language.
	id := h.press(stranger, note, "Отменить")
	if got, want := h.waitAnswered(id), kk(locales.NotAllowed); got != want {
		t.Errorf("a stranger's staff button answered %q, want %q", got, want)
	}
	if got, _ := h.db.Booking(ctx, bk.ID); got.Status != storage.BookingBooked {
		t.Errorf("a stranger's press changed the booking: %s", got.Status)
	}
	// Staff themselves still use it.
	h.press(admin, note, "Отменить")
	h.waitMatch(testStaffChat, "the reasons to cancel", func(m telegramtest.Message) bool {
		return m.ID == note.ID && len(m.InlineKeyboard) > 1 && strings.HasPrefix(m.InlineKeyboard[0][0].CallbackData, cbStaffReason+":")
	})
}
