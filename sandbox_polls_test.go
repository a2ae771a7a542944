package main

import (
	"bytes"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"jastar/bot/sandbox"
	"jastar/locales"
)

// TestSandbox_PollResultsByDistrict is the poll demo of issue 18, on the
// sandbox's chat API as the page uses it: Асқар composes a poll with /poll
// (question and options in both languages, everyone), sends it; Данияр,
// Ерасыл and Светлана, subscribed in three districts, each get it in their
// language and answer differently, and so do the sandbox's simulated
// respondents in Данияр's district. Асқар's /polls then lists it with
// every answer, its page counts them by district, Данияр's with real
// numbers and the others "fewer than 5", and the chart comes as a PNG.
// The chart is written to $JASTAR_SCREENSHOTS/poll-chart.png when set;
// README's bot/sandbox/testdata/poll_chart.png is that file.
func TestSandbox_PollResultsByDistrict(t *testing.T) {
	t.Parallel()
	texts, err := testTexts()
	if err != nil {
		t.Fatal(err)
	}
	ru, kk := texts.For("ru"), texts.For("kk")
	url := startSandbox(t)
	askar := newPageChat(t, url, sandbox.AdminID)
	people := map[int64]*pageChat{}
	for _, id := range []int64{5000002, 5000003, 5000004} { // Данияр, Ерасыл, Светлана
		people[id] = newPageChat(t, url, id)
	}
	has := func(fragment string) func(pageMessage) bool {
		return func(m pageMessage) bool { return strings.Contains(m.Text, fragment) }
	}
	say := func(text, fragment string) pageMessage {
		t.Helper()
		askar.post("api/send", map[string]any{"chat": askar.persona, "text": text})
		return askar.nextWhere(has(fragment))
	}
	press := func(m pageMessage, data, fragment string) pageMessage {
		t.Helper()
		if m.labelOf(data) == "" {
			t.Fatalf("no button %s in %q: %v", data, m.Text, m.Inline)
		}
		askar.post("api/press", map[string]any{"chat": askar.persona, "message_id": m.ID, "data": data})
		return askar.nextWhere(has(fragment))
	}
	head := func(s string) string { // the first line of a text, without its markup
		s, _, _ = strings.Cut(s, "\n")
		for _, tag := range []string{"<b>", "</b>"} {
			s = strings.ReplaceAll(s, tag, "")
		}
		return s
	}

	say("/poll", head(ru.T(locales.PollAskQuestionKK)))
	say("Жастар орталығында қандай тренинг керек?", "вариант")
	say("IT\nДизайн\nҚазақ тілі", head(ru.T(locales.PollAskQuestionRU)))
	say("Какой тренинг нужен в молодёжном центре?", "вариант")
	m := say("IT\nДизайн\nКазахский язык", ru.T(locales.PollAskMultiple))
	m = press(m, "pc:m:n", ru.T(locales.PollAskOtherOption))
	m = press(m, "pc:o:n", ru.T(locales.BroadcastAskTopic))
	m = press(m, "pc:t:_", ru.T(locales.BroadcastAskDistrict))
	m = press(m, "pc:d:_", ru.T(locales.BroadcastAskLang))
	m = press(m, "pc:l:_", ru.T(locales.PollAskClose))
	m = press(m, "pc:c:7", ru.T(locales.PollAskNotify))
	m = press(m, "pc:n:n", "Получателей")
	// Three personas and the simulated respondents.
	if want := strconv.Itoa(3 + sandbox.Respondents); !strings.Contains(m.Text, want) {
		t.Errorf("preview %q does not count %s recipients", m.Text, want)
	}
	press(m, m.buttonsWithText(ru.T(locales.BroadcastSendButton))[0], ru.T(locales.PollStarted, locales.Data{"ID": 1}))

	// Each persona gets the question in their language and answers with
	// another option.
	for i, id := range []int64{5000002, 5000003, 5000004} {
		question, lang := "Какой тренинг нужен", "ru"
		if id == 5000003 {
			question, lang = "Жастар орталығында", "kk"
		}
		q := people[id].nextWhere(has(question))
		options := q.buttonsWith("pa:")
		if len(options) != 3 {
			t.Fatalf("persona %d: answer buttons %v, want 3", id, q.Inline)
		}
		answer := q.labelOf(options[i])
		l := ru
		if lang == "kk" {
			l = kk
		}
		people[id].post("api/press", map[string]any{"chat": id, "message_id": q.ID, "data": options[i]})
		people[id].nextWhere(has(l.T(locales.PollYourAnswer, locales.Data{"Answer": answer})))
	}

	// Асқар's list counts every answer once all are in.
	total := 3 + sandbox.Respondents
	answered := ru.N(locales.PollRespondents, total)
	// The simulated respondents answer as the sandbox delivers the poll to
	// them, so the list is asked for until every answer is in: for as long
	// as a busy machine may need (a count of tries ran out first on a quiet
	// one), and only the list's own answer counts (the poll's delivery
	// report, which also has a "№", came in between and took a try).
	var list pageMessage
	listTitle := head(ru.T(locales.PollListTitle))
	deadline := time.Now().Add(30 * time.Second)
	for {
		list = say("/polls", listTitle)
		if strings.Contains(list.Text, answered) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/polls = %q, want %q", list.Text, answered)
		}
		time.Sleep(20 * time.Millisecond)
	}
	open := list.buttonsWith("pp:v:")
	if len(open) == 0 {
		t.Fatalf("/polls has no button to open the poll: %v", list.Inline)
	}
	page := press(list, open[0], ru.T(locales.PollByDistrict))
	t.Logf("results page:\n%s", page.Text)
	// Данияр's district: he and 6 respondents; Ерасыл's and Светлана's:
	// 3 each, shown as fewer than 5 (together 6, so Данияр's need not be
	// hidden to keep theirs from being worked out).
	_, byDistrict, _ := strings.Cut(page.Text, ru.T(locales.PollByDistrict))
	byDistrict, _, _ = strings.Cut(byDistrict, "\n\n")
	if n := strings.Count(byDistrict, ru.T(locales.PollFewerThan5)); n != 2 {
		t.Errorf("by district %q: %d districts shown as %q, want Ерасыл's and Светлана's", byDistrict, n, ru.T(locales.PollFewerThan5))
	}
	if !strings.Contains(byDistrict, ru.N(locales.PollRespondents, 7)) {
		t.Errorf("by district %q: Данияр's district does not show its 7 respondents", byDistrict)
	}

	chart := page.buttonsWith("pp:g:")
	if len(chart) == 0 {
		t.Fatalf("the page has no chart button: %v", page.Inline)
	}
	askar.post("api/press", map[string]any{"chat": askar.persona, "message_id": page.ID, "data": chart[0]})
	photo := askar.nextWhere(func(m pageMessage) bool { return m.Photo != nil })
	data := fetchFile(t, url, askar.persona, photo.ID)
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the chart is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 400 || b.Dy() < 200 {
		t.Errorf("the chart is %v, too small to read", b)
	}
	if dir := os.Getenv("JASTAR_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "poll-chart.png"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fetchFile downloads the file of a message in the persona's chat, as the
// page shows it.
func fetchFile(t *testing.T, pageURL string, persona int64, messageID int) []byte {
	t.Helper()
	id := strconv.FormatInt(persona, 10)
	res, err := http.Get(pageURL + "api/file?as=" + id + "&chat=" + id + "&message=" + strconv.Itoa(messageID))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("file of message %d: %s %v %q", messageID, res.Status, err, data)
	}
	return data
}
