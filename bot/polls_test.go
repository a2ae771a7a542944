package bot

import (
	"context"
	"strings"
	"testing"

	"jastar/bot/telegramtest"
	"jastar/locales"
	"jastar/storage"
)

// composePoll runs /poll as the admin: a question with options in both
// languages, one answer, no "other", everyone, 7 days, no summary. It
// returns the confirmation message.
func (h *harness) composePoll() telegramtest.Message {
	h.t.Helper()
	return h.composePollWith(pollSpec{})
}

// pollSpec is what the admin answers with "yes" while composing a poll.
type pollSpec struct{ multiple, other, notify bool }

// yesNo is the label of the yes or no button.
func yesNo(yes bool) string {
	if yes {
		return ru(locales.PollYesButton)
	}
	return ru(locales.PollNoButton)
}

// composePollWith is composePoll with the yes/no answers of spec.
func (h *harness) composePollWith(spec pollSpec) telegramtest.Message {
	h.t.Helper()
	h.srv.SendText(admin, "/poll")
	h.waitText(adminID, firstLine(plain(ru(locales.PollAskQuestionKK))))
	h.ask(admin, "Қай тренинг керек?", "Пришлите варианты")
	h.ask(admin, "IT\nДизайн\nТілдер", firstLine(plain(ru(locales.PollAskQuestionRU))))
	h.ask(admin, "Какой тренинг нужен?", "Пришлите варианты")
	q := h.ask(admin, "IT\nДизайн\nЯзыки", ru(locales.PollAskMultiple))
	h.press(admin, q, yesNo(spec.multiple))
	q = h.waitText(adminID, ru(locales.PollAskOtherOption))
	h.press(admin, q, yesNo(spec.other))
	q = h.waitText(adminID, ru(locales.BroadcastAskTopic))
	h.press(admin, q, ru(locales.BroadcastAllTopics))
	q = h.waitText(adminID, ru(locales.BroadcastAskDistrict))
	h.press(admin, q, ru(locales.AllDistricts))
	q = h.waitText(adminID, ru(locales.BroadcastAskLang))
	h.press(admin, q, ru(locales.BroadcastBothLanguages))
	q = h.waitText(adminID, ru(locales.PollAskClose))
	h.press(admin, q, "7 дней")
	q = h.waitText(adminID, ru(locales.PollAskNotify))
	h.press(admin, q, yesNo(spec.notify))
	return h.waitText(adminID, "Получателей")
}

func TestPoll_ComposeDeliverAnswerOnceChangeAndClose(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdmin(0))
	aliya := h.subscriber(501, storage.Kazakh, "", storage.TopicEvents)
	ivan := h.subscriber(502, storage.Russian, "", storage.TopicJobs)

	confirm := h.composePoll()
	if !strings.Contains(confirm.Text, "2") {
		t.Fatalf("preview does not count 2 recipients: %q", confirm.Text)
	}
	h.press(admin, confirm, ru(locales.BroadcastSendButton))

	// Each gets the question in their language with an answer button per option.
	qa := h.waitText(aliya.ID, "Қай тренинг керек?")
	qi := h.waitText(ivan.ID, "Какой тренинг нужен?", "Языки")
	if len(qa.InlineKeyboard) != 3 || qa.InlineKeyboard[2][0].Text != "Тілдер" {
		t.Fatalf("Kazakh answer buttons = %+v", qa.InlineKeyboard)
	}

	// A tap records the answer and shows it, with a "change" button.
	data := qa.InlineKeyboard[1][0].CallbackData
	id, _ := h.srv.PressButton(aliya, aliya.ID, qa.ID, data)
	h.waitAnswered(id)
	shown := h.waitText(aliya.ID, kk(locales.PollYourAnswer, locales.Data{"Answer": "Дизайн"}))
	if len(shown.InlineKeyboard) != 1 || shown.InlineKeyboard[0][0].Text != kk(locales.PollChangeButton) {
		t.Fatalf("answered keyboard = %+v", shown.InlineKeyboard)
	}
	// Telegram redelivers the same tap: still one respondent.
	id, _ = h.srv.PressButton(aliya, aliya.ID, qa.ID, data)
	h.waitAnswered(id)
	// A forged mask (an option the poll does not have) changes nothing.
	id, _ = h.srv.PressButton(ivan, ivan.ID, qi.ID, strings.Replace(data, ":2", ":g0", 1))
	if got := h.waitAnswered(id); got != ru(locales.OutdatedButton) {
		t.Errorf("forged button answered %q", got)
	}
	p := lastPoll(t, h)
	_, tally, err := h.db.PollTally(context.Background(), p.ID)
	if err != nil || tally.All.Respondents != 1 || tally.All.Options[1] != 1 {
		t.Fatalf("tally after a redelivered tap = %+v, %v", tally.All, err)
	}

	// "Change" brings the options back; another tap moves the count.
	h.press(aliya, h.waitText(aliya.ID, "✅"), kk(locales.PollChangeButton))
	eventually(t, func() bool { m, _ := h.srv.LastMessage(aliya.ID); return len(m.InlineKeyboard) == 3 })
	id, _ = h.srv.PressButton(aliya, aliya.ID, qa.ID, qa.InlineKeyboard[0][0].CallbackData)
	h.waitAnswered(id)
	h.waitText(aliya.ID, kk(locales.PollYourAnswer, locales.Data{"Answer": "IT"}))

	// The admin's page shows the counts; closing it stops the answers.
	list := h.ask(admin, "/polls", "Какой тренинг нужен?")
	h.press(admin, list, "№")
	page := h.waitText(adminID, ru(locales.PollOverall), "IT — 1 (100%)")
	h.press(admin, page, ru(locales.PollCloseButton))
	h.waitText(adminID, ru(locales.PollClosedAdmin, locales.Data{"ID": p.ID}))
	id, _ = h.srv.PressButton(ivan, ivan.ID, qi.ID, qi.InlineKeyboard[0][0].CallbackData)
	if got := h.waitAnswered(id); got != ru(locales.PollClosedAlert) {
		t.Errorf("tap after closing answered %q", got)
	}
	eventually(t, func() bool { m, _ := h.srv.LastMessage(ivan.ID); return len(m.InlineKeyboard) == 0 })
	_, tally, _ = h.db.PollTally(context.Background(), p.ID)
	if tally.All.Respondents != 1 || tally.All.Options[0] != 1 || tally.All.Options[1] != 0 {
		t.Fatalf("final tally = %+v", tally.All)
	}

	// /mydata lists the answer.
	h.ask(aliya, "/mydata", kk(locales.PollMyDataItem, locales.Data{"Question": "Қай тренинг керек?", "Answer": "IT"}))
}

func lastPoll(t *testing.T, h *harness) storage.Poll {
	t.Helper()
	list, err := h.db.RecentPolls(context.Background(), 0, 1)
	if err != nil || len(list) == 0 {
		t.Fatalf("recent polls = %v, %v", list, err)
	}
	return list[0]
}

// Poll dialogues saved by the version before typed state (their values in
// the untyped map) cannot be read on: the composing one ends as expired at
// the admin's next message, and the wait for an "other" text refuses the
// text as outdated rather than recording an answer to no poll.
func TestPoll_UntypedDialoguesEnd(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdmin(0))
	h.srv.SendText(admin, "/help")
	h.waitText(adminID, stem("ru", locales.Help))
	save := func(c storage.Conversation) {
		t.Helper()
		if err := h.db.SaveConversation(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	save(storage.Conversation{ChatID: adminID, Flow: flowPoll, Step: "qru", UpdatedAt: h.bot.now()})
	h.srv.SendText(admin, "Вопрос")
	h.waitText(adminID, ru(locales.DialogExpired))

	save(storage.Conversation{ChatID: adminID, Flow: flowPollOther, Step: "text", UpdatedAt: h.bot.now()})
	h.srv.SendText(admin, "Свой вариант")
	h.waitText(adminID, ru(locales.OutdatedButton))
	if _, err := h.db.Conversation(context.Background(), adminID); err == nil {
		t.Error("the wait for the other text is still there")
	}
}
