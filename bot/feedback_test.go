package bot

import (
	"context"
	"errors"
	"strings"
	"testing"

	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
)

func TestFeedback_AfterAttendedOnceThenComment(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	u := h.person(3001, storage.Kazakh)
	admin := h.person(testAdmin, storage.Russian)
	bk := h.book(u.ID, storage.Kazakh, "karasai", "career", at(t, 2, 11))
	h.bot.staff.notifyStaff(ctx, bk, staffNew, storage.Booking{})
	note := h.waitText(testStaffChat, "Новая запись", "11:00")

	// Staff mark it attended at 11:40 during the consultation; a second
	// press changes nothing.
	clock.Set(at2(t, 2, 11, 40))
	h.press(admin, note, "Пришёл")
	h.waitMessage(testStaffChat, note.ID, "Пришёл(ла)")
	id := h.press(admin, note, "Пришёл")
	h.waitAnswered(id)

	// Due an hour after the end (12:00): not at 12:59, at 13:00, once.
	h.sweepAt(clock, at2(t, 2, 12, 59))
	if n := len(h.botMessages(u.ID)); n != 0 {
		t.Fatalf("feedback asked early:\n%s", h.transcript(u.ID))
	}
	h.sweepAt(clock, at(t, 2, 13))
	h.sweepAt(clock, at2(t, 2, 13, 1))
	msgs := h.botMessages(u.ID)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want the question once:\n%s", len(msgs), h.transcript(u.ID))
	}
	q := msgs[0]
	if !strings.Contains(q.Text, plain(firstLine(kk(locales.FeedbackAsk)))) || len(q.InlineKeyboard) != 1 || len(q.InlineKeyboard[0]) != 5 {
		t.Fatalf("question = %q %+v", q.Text, q.InlineKeyboard)
	}

	// Someone else pressing the buttons of the question: refused.
	id, _ = h.srv.PressButton(admin, admin.ID, q.ID, q.InlineKeyboard[0][0].CallbackData)
	if ans := h.waitAnswered(id); ans != ru(locales.OutdatedButton) {
		t.Errorf("stranger's rating answered %q", ans)
	}
	// A forged rating 9.
	id, _ = h.srv.PressButton(u, u.ID, q.ID, cbFeedbackRate+":"+tg.B36(bk.ID)+":9")
	if ans := h.waitAnswered(id); ans != kk(locales.OutdatedButton) {
		t.Errorf("forged rating answered %q", ans)
	}
	if _, err := h.db.Feedback(ctx, bk.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("feedback stored by a stranger or a forged press: %v", err)
	}

	h.press(u, q, "4")
	h.waitMessage(u.ID, q.ID, plain(firstLine(kk(locales.FeedbackRated, locales.Data{"Rating": 4}))))
	// The same old keyboard pressed again: politely refused, rating kept.
	id, _ = h.srv.PressButton(u, u.ID, q.ID, cbFeedbackRate+":"+tg.B36(bk.ID)+":1")
	if ans := h.waitAnswered(id); ans != kk(locales.FeedbackAlreadyRated) {
		t.Errorf("second rating answered %q", ans)
	}
	h.srv.SendText(u, "Маман бәрін түсіндірді, рақмет")
	h.waitText(u.ID, kk(locales.FeedbackThanks))
	f, err := h.db.Feedback(ctx, bk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if f.Rating != 4 || f.Comment != "Маман бәрін түсіндірді, рақмет" || f.TypeID != "career" || f.CenterID != "karasai" || f.ChatID != u.ID {
		t.Errorf("stored feedback = %+v", f)
	}
	// The dialogue is over: the next text is not a comment.
	h.srv.SendText(u, "тағы бір сөз")
	h.waitText(u.ID, kk(locales.NotUnderstood))
	if f, _ := h.db.Feedback(ctx, bk.ID); f.Comment != "Маман бәрін түсіндірді, рақмет" {
		t.Errorf("comment overwritten: %q", f.Comment)
	}
}

func TestFeedback_SkipComment(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	u := h.person(3101, storage.Russian)
	bk := h.book(u.ID, storage.Russian, "karasai", "career", at(t, 2, 11))
	if _, err := h.db.SetStatus(ctx, bk.ID, storage.BookingAttended, at(t, 3, 9)); err != nil {
		t.Fatal(err)
	}
	// Marked the next morning: asked at the next sweep.
	h.sweepAt(clock, at2(t, 3, 9, 1))
	q := h.waitText(u.ID, plain(firstLine(ru(locales.FeedbackAsk))))
	h.press(u, q, "5")
	rated := h.waitMessage(u.ID, q.ID, "Спасибо за оценку: 5")
	h.press(u, rated, ru(locales.FeedbackSkip))
	h.waitMessage(u.ID, q.ID, plain(ru(locales.FeedbackDone, locales.Data{"Rating": 5})))
	if _, err := h.db.Conversation(ctx, u.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("dialogue after skip: %v", err)
	}
	if f, _ := h.db.Feedback(ctx, bk.ID); f.Rating != 5 || f.Comment != "" {
		t.Errorf("feedback = %+v", f)
	}
}
