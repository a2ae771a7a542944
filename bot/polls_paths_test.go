package bot

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"jastar/bot/telegramtest"
	"jastar/locales"
	"jastar/scheduler"
	"jastar/storage"
)

// sendPoll composes a poll of spec, sends it and waits for each reader's
// question; it returns the poll and the questions by chat.
func (h *harness) sendPoll(spec pollSpec, readers ...telegramtest.User) (storage.Poll, map[int64]telegramtest.Message) {
	h.t.Helper()
	h.press(admin, h.composePollWith(spec), ru(locales.BroadcastSendButton))
	qs := map[int64]telegramtest.Message{}
	for _, u := range readers {
		qs[u.ID] = h.waitText(u.ID, "📊")
	}
	p := lastPoll(h.t, h)
	// The questions arrive before the runner records its last outcome and
	// ends the broadcast, which opens the poll in the same transaction; the
	// admin is told "done" only after that, so once they see it the poll
	// is open.
	h.waitText(adminID, firstLine(ru(locales.PollReport, locales.Data{"Poll": p.ID, "Status": ru(locales.BroadcastStatusDone)})))
	return lastPoll(h.t, h), qs
}

// tap presses the button labelled label on m as from and returns the
// callback's answer.
func (h *harness) tap(from telegramtest.User, m telegramtest.Message, label string) string {
	h.t.Helper()
	return h.waitAnswered(h.press(from, m, label))
}

// tally is the poll's live counts.
func (h *harness) tally(id uint64) storage.PollCount {
	h.t.Helper()
	_, t, err := h.db.PollTally(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return t.All
}

func TestPoll_OtherAnswerAsksTextRefusesTooLongAndShowsIt(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdmin(0))
	aliya := h.subscriber(511, storage.Kazakh, "", storage.TopicEvents)
	p, qs := h.sendPoll(pollSpec{other: true}, aliya)
	q := qs[aliya.ID]
	if !strings.Contains(q.Text, "4. "+kk(locales.PollOtherOption)) || len(q.InlineKeyboard) != 4 {
		t.Fatalf("question with other = %q, %+v", q.Text, q.InlineKeyboard)
	}

	// "Other" asks for the text and records nothing yet.
	before := h.lastID(aliya.ID)
	h.tap(aliya, q, kk(locales.PollOtherButton))
	h.waitNew(aliya.ID, before, kk(locales.PollAskOther, locales.Data{"Max": storage.MaxPollOtherLen}))
	if _, err := h.db.PollAnswer(context.Background(), p.ID, aliya.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("answer before the text: %v", err)
	}

	// One character over the limit: told how long it may be, nothing stored.
	h.ask(aliya, strings.Repeat("ә", storage.MaxPollOtherLen+1), kk(locales.PollOtherBad, locales.Data{"Max": storage.MaxPollOtherLen}))
	if _, err := h.db.PollAnswer(context.Background(), p.ID, aliya.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a too long text was stored: %v", err)
	}
	if n := h.tally(p.ID).Respondents; n != 0 {
		t.Fatalf("respondents after a refused text = %d", n)
	}

	// The dialogue is still waiting: a text of the right length is the answer.
	h.ask(aliya, "Робототехника", kk(locales.PollSaved))
	a, err := h.db.PollAnswer(context.Background(), p.ID, aliya.ID)
	if err != nil || !a.Other || a.OtherText != "Робототехника" || len(a.Options) != 0 {
		t.Fatalf("stored answer = %+v, %v", a, err)
	}
	if c := h.tally(p.ID); c.Respondents != 1 || c.Other != 1 {
		t.Fatalf("tally = %+v", c)
	}
	// The question itself now shows the answer, with "change".
	shown := kk(locales.PollYourAnswer, locales.Data{"Answer": kk(locales.PollOtherOption) + ": Робототехника"})
	edited := h.waitMatch(aliya.ID, "the question showing the answer", func(m telegramtest.Message) bool {
		return m.ID == q.ID && strings.Contains(m.Text, shown)
	})
	if len(edited.InlineKeyboard) != 1 || edited.InlineKeyboard[0][0].Text != kk(locales.PollChangeButton) {
		t.Fatalf("answered keyboard = %+v", edited.InlineKeyboard)
	}
}

func TestPoll_SeveralAnswersToggleAndCountEachRespondentOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdmin(0))
	aliya := h.subscriber(521, storage.Kazakh, "", storage.TopicEvents)
	ivan := h.subscriber(522, storage.Russian, "", storage.TopicJobs)
	p, qs := h.sendPoll(pollSpec{multiple: true}, aliya, ivan)
	qa := qs[aliya.ID]
	if !strings.Contains(qa.Text, kk(locales.PollHintMany)) {
		t.Fatalf("several-answer question = %q", qa.Text)
	}

	// A tap Telegram delivers twice (the same button of the same message)
	// chooses IT, not IT and then nothing: each button carries the whole
	// new choice.
	h.tap(aliya, qa, "IT")
	h.tap(aliya, qa, "IT")
	if c := h.tally(p.ID); c.Respondents != 1 || !slices.Equal(c.Options, []int{1, 0, 0}) {
		t.Fatalf("tally after a redelivered tap = %+v", c)
	}
	// The message keeps the options, the chosen one marked, to flip more.
	m := h.waitText(aliya.ID, kk(locales.PollYourAnswer, locales.Data{"Answer": "IT"}))
	if len(m.InlineKeyboard) != 3 || m.InlineKeyboard[0][0].Text != "✅ IT" || m.InlineKeyboard[2][0].Text != "Тілдер" {
		t.Fatalf("keyboard after IT = %+v", m.InlineKeyboard)
	}
	h.tap(aliya, m, "Тілдер")
	m = h.waitText(aliya.ID, kk(locales.PollYourAnswer, locales.Data{"Answer": "IT; Тілдер"}))
	// Unchoosing IT leaves Тілдер.
	h.tap(aliya, m, "✅ IT")
	m = h.waitText(aliya.ID, kk(locales.PollYourAnswer, locales.Data{"Answer": "Тілдер"}))
	if m.InlineKeyboard[0][0].Text != "IT" || m.InlineKeyboard[2][0].Text != "✅ Тілдер" {
		t.Fatalf("keyboard after unchoosing IT = %+v", m.InlineKeyboard)
	}
	h.tap(ivan, qs[ivan.ID], "Языки")
	h.waitText(ivan.ID, ru(locales.PollYourAnswer, locales.Data{"Answer": "Языки"}))

	// Two people, each counted once with the set they hold now.
	if c := h.tally(p.ID); c.Respondents != 2 || !slices.Equal(c.Options, []int{0, 0, 2}) {
		t.Fatalf("tally = %+v", c)
	}
	a, err := h.db.PollAnswer(context.Background(), p.ID, aliya.ID)
	if err != nil || !slices.Equal(a.Options, []int{2}) {
		t.Fatalf("Aliya's answer = %+v, %v", a, err)
	}
}

func TestPoll_ResultsPageSendsChartAndAnonymousCSV(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdmin(0))
	aliya := h.subscriber(531, storage.Kazakh, "", storage.TopicEvents)
	ivan := h.subscriber(532, storage.Russian, "", storage.TopicJobs)
	p, qs := h.sendPoll(pollSpec{other: true}, aliya, ivan)
	h.tap(aliya, qs[aliya.ID], "IT")
	h.tap(ivan, qs[ivan.ID], ru(locales.PollOtherButton))
	h.ask(ivan, "Робототехника", ru(locales.PollSaved))

	list := h.ask(admin, "/polls", "Какой тренинг нужен?")
	h.press(admin, list, "№")
	page := h.waitText(adminID, ru(locales.PollOverall), "IT — 1 (50%)")

	// The chart is a photo whose bytes are a PNG.
	h.press(admin, page, ru(locales.PollChartButton))
	photo := h.waitMatch(adminID, "the chart", func(m telegramtest.Message) bool { return m.Photo != nil })
	if !bytes.HasPrefix(photo.Photo.Data, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("chart is not a PNG: % x", photo.Photo.Data[:min(8, len(photo.Photo.Data))])
	}

	// The CSV: a header and one row per respondent, no chat id or name.
	h.press(admin, page, ru(locales.PollCSVButton))
	doc := h.waitMatch(adminID, "the CSV", func(m telegramtest.Message) bool { return m.Document != nil })
	data := doc.Document.Data
	if !strings.HasSuffix(doc.Document.FileName, ".csv") {
		t.Errorf("CSV file name %q", doc.Document.FileName)
	}
	for _, personal := range []string{"531", "532", aliya.FirstName, ivan.FirstName} {
		if bytes.Contains(data, []byte(personal)) {
			t.Errorf("the CSV holds %q:\n%s", personal, data)
		}
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v\n%s", err, data)
	}
	if len(rows) != 3 {
		t.Fatalf("CSV has %d rows, want a header and 2 respondents:\n%s", len(rows), data)
	}
	var answers []string
	for _, row := range rows[1:] {
		answers = append(answers, strings.Join(row, "|"))
	}
	joined := strings.Join(answers, "\n")
	if !strings.Contains(joined, "IT") || !strings.Contains(joined, "Робототехника") {
		t.Errorf("CSV rows miss the answers:\n%s", data)
	}
	if n := h.tally(p.ID).Respondents; n != 2 {
		t.Errorf("respondents = %d", n)
	}
}

func TestPoll_ScheduledCloseTellsAdminOnceAndRespondentsInTheirLanguage(t *testing.T) {
	t.Parallel()
	start := time.Now().Truncate(time.Minute)
	clock := &fakeClock{t: start}
	h := newHarness(t, withAdmin(0), withClock(clock.Now))
	aliya := h.subscriber(541, storage.Kazakh, "", storage.TopicEvents)
	ivan := h.subscriber(542, storage.Russian, "", storage.TopicJobs)
	silent := h.subscriber(543, storage.Russian, "", storage.TopicJobs)
	p, qs := h.sendPoll(pollSpec{notify: true}, aliya, ivan, silent)
	if !p.NotifyRespondents || !p.ClosesAt.Equal(start.Add(7*24*time.Hour)) {
		t.Fatalf("poll = %+v", p)
	}
	h.tap(aliya, qs[aliya.ID], "IT")
	h.tap(ivan, qs[ivan.ID], "Дизайн")

	job := scheduler.ClosePolls(h.bot)
	ctx := context.Background()
	// A minute before its time the job leaves it open.
	if err := job(ctx, p.ClosesAt.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.db.Poll(ctx, p.ID); got.Status != storage.PollOpen {
		t.Fatalf("status a minute before closing = %v", got.Status)
	}

	closedText := ru(locales.PollClosedAdmin, locales.Data{"ID": p.ID})
	adminSaw := func() (texts, photos int) {
		for _, m := range h.botMessages(adminID) {
			if strings.Contains(m.Text, closedText) {
				texts++
			}
			if m.Photo != nil {
				photos++
			}
		}
		return texts, photos
	}
	after := p.ClosesAt.Add(time.Minute)
	clock.Set(after)
	if err := job(ctx, after); err != nil {
		t.Fatal(err)
	}
	// The admin's results and chart are sent before the job returns.
	if texts, photos := adminSaw(); texts != 1 || photos != 1 {
		t.Fatalf("after closing the admin has %d results and %d charts:\n%s", texts, photos, h.transcript(adminID))
	}
	h.waitText(adminID, closedText, "IT — 1 (50%)", "Дизайн — 1 (50%)")

	// Respondents get the summary in their language.
	h.waitText(aliya.ID, "Сауалнама қорытындысы: Қай тренинг керек?", "IT — 1 (50%)", "Дизайн — 1 (50%)", "Тілдер — 0 (0%)")
	h.waitText(ivan.ID, "Итоги опроса: Какой тренинг нужен?", "Языки — 0 (0%)")
	got, err := h.db.Poll(ctx, p.ID)
	if err != nil || got.Status != storage.PollClosed || got.SummaryBroadcastID == 0 || got.SummaryOwed {
		t.Fatalf("closed poll = %+v, %v", got, err)
	}
	// The admin's report on the summary's delivery is its last message.
	h.waitText(adminID, fmt.Sprintf("№%d:", got.SummaryBroadcastID))
	bc, err := h.db.Broadcast(ctx, got.SummaryBroadcastID)
	if err != nil || bc.Status != storage.BroadcastDone || bc.Total != 2 {
		t.Errorf("the summary broadcast = %+v, %v; want done, to the 2 respondents", bc, err)
	}
	for _, m := range h.botMessages(silent.ID) {
		if strings.Contains(m.Text, "Итоги опроса") {
			t.Errorf("someone who did not answer got the summary: %q", m.Text)
		}
	}

	// The next minute's run sends nothing more to anyone.
	counts := map[int64]int{}
	for _, id := range []int64{adminID, aliya.ID, ivan.ID, silent.ID} {
		counts[id] = len(h.botMessages(id))
	}
	clock.Set(after.Add(time.Minute))
	if err := job(ctx, after.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if texts, photos := adminSaw(); texts != 1 || photos != 1 {
		t.Fatalf("a second run gave the admin %d results and %d charts", texts, photos)
	}
	if again, _ := h.db.Poll(ctx, p.ID); again.SummaryBroadcastID != got.SummaryBroadcastID {
		t.Fatalf("a second run made another summary: %d, was %d", again.SummaryBroadcastID, got.SummaryBroadcastID)
	}

	// A tap after closing says so and changes nothing.
	if ans := h.tap(silent, qs[silent.ID], "IT"); ans != ru(locales.PollClosedAlert) {
		t.Errorf("tap after closing answered %q", ans)
	}
	if c := h.tally(p.ID); c.Respondents != 2 {
		t.Errorf("respondents after a late tap = %d", c.Respondents)
	}
	for id, n := range counts {
		if got := len(h.botMessages(id)); got != n && id != silent.ID {
			t.Errorf("chat %d got %d more messages after the second run: %+v", id, got-n, h.botMessages(id)[n:])
		}
	}
}

func TestPoll_SeveralAnswersWithOtherKeepTheTextWhileFlipping(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdmin(0))
	aliya := h.subscriber(551, storage.Kazakh, "", storage.TopicEvents)
	p, qs := h.sendPoll(pollSpec{multiple: true, other: true}, aliya)
	h.tap(aliya, qs[aliya.ID], "IT")
	m := h.waitText(aliya.ID, kk(locales.PollYourAnswer, locales.Data{"Answer": "IT"}))

	// "Other" on top of IT asks the text and keeps IT.
	h.tap(aliya, m, kk(locales.PollOtherButton))
	h.waitText(aliya.ID, kk(locales.PollAskOther, locales.Data{"Max": storage.MaxPollOtherLen}))
	h.ask(aliya, "Робототехника", kk(locales.PollSaved))
	other := kk(locales.PollOtherOption) + ": Робототехника"
	m = h.waitText(aliya.ID, kk(locales.PollYourAnswer, locales.Data{"Answer": "IT; " + other}))

	// Unchoosing IT keeps "other" with its text, without asking again.
	h.tap(aliya, m, "✅ IT")
	m = h.waitText(aliya.ID, kk(locales.PollYourAnswer, locales.Data{"Answer": other}))
	a, err := h.db.PollAnswer(context.Background(), p.ID, aliya.ID)
	if err != nil || len(a.Options) != 0 || !a.Other || a.OtherText != "Робототехника" {
		t.Fatalf("answer after unchoosing IT = %+v, %v", a, err)
	}
	// Unchoosing "other" too withdraws the answer: nobody counted.
	h.tap(aliya, m, "✅ "+kk(locales.PollOtherButton))
	if n := h.tally(p.ID).Respondents; n != 0 {
		t.Fatalf("respondents after withdrawing = %d", n)
	}
	if _, err := h.db.PollAnswer(context.Background(), p.ID, aliya.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("withdrawn answer still stored: %v", err)
	}
}

// A person who taps "other" and then an option instead has answered with
// the option: the text they write next is not their answer any more.
func TestPoll_OptionAfterOtherEndsTheWaitForTheText(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdmin(0))
	aliya := h.subscriber(561, storage.Kazakh, "", storage.TopicEvents)
	p, qs := h.sendPoll(pollSpec{other: true}, aliya)
	q := qs[aliya.ID]
	h.tap(aliya, q, kk(locales.PollOtherButton))
	h.waitText(aliya.ID, kk(locales.PollAskOther, locales.Data{"Max": storage.MaxPollOtherLen}))
	h.tap(aliya, q, "IT")
	h.waitText(aliya.ID, kk(locales.PollYourAnswer, locales.Data{"Answer": "IT"}))

	h.ask(aliya, "рақмет", kk(locales.NotUnderstood))
	a, err := h.db.PollAnswer(context.Background(), p.ID, aliya.ID)
	if err != nil || !slices.Equal(a.Options, []int{0}) || a.Other || a.OtherText != "" {
		t.Fatalf("answer after a later text = %+v, %v; want IT alone", a, err)
	}
}
