package report

import (
	"bytes"
	"encoding/csv"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"

	"jastar/storage"
	"jastar/storage/catalog"
)

var update = flag.Bool("update", false, "rewrite testdata/poll_chart.png, an example chart (the README shows the sandbox's)")

func testPoll() storage.Poll {
	return storage.Poll{
		ID:       7,
		Question: storage.PollText{KK: "Орталықта қандай тренинг ашқанымыз дұрыс?", RU: "Какой тренинг открыть в центре?"},
		Options: []storage.PollText{
			{KK: "Бағдарламалау", RU: "Программирование"},
			{KK: "Кәсіпкерлік", RU: "Предпринимательство"},
			{KK: "Ағылшын тілі", RU: "Английский язык"},
		},
		Multiple: true, Other: true,
	}
}

func testLabels(t testing.TB) PollLabels {
	t.Helper()
	cat := catalog.Default(time.UTC)
	return PollLabels{
		Lang: storage.Kazakh,
		District: func(id string) string {
			if d, ok := cat.District(id); ok {
				return d.Name.In("kk")
			}
			if id == "" {
				return "Көрсетілмеген"
			}
			return id
		},
		Language: func(l storage.Lang) string {
			if l == storage.Russian {
				return "орыс тілі"
			}
			return "қазақ тілі"
		},
		Other: "Басқа", Hidden: "5-тен аз",
		HeaderDistrict: "Аудан", HeaderLanguage: "Тіл", HeaderAnswer: "Жауап", HeaderOtherText: "Басқа (мәтін)",
		Overall: "Барлығы", ByDistrict: "Аудандар бойынша", ByLanguage: "Тіл бойынша",
		Respondents: func(n int) string { return strconv.Itoa(n) + " жас жауап берді" },
	}
}

// testAnswers are a poll's answers for the tests: Karasai and Enbekshikazakh large
// enough to show, Talgar a single person and four who gave no district
// (hidden, five together).
func testAnswers() []storage.PollAnswer {
	var out []storage.PollAnswer
	for i := range 6 {
		out = append(out, storage.PollAnswer{PollChoice: storage.PollChoice{Options: []int{i % 3}}, DistrictID: "karasai", Lang: storage.Kazakh})
	}
	out = append(out, storage.PollAnswer{PollChoice: storage.PollChoice{Options: []int{0, 2}, Other: true, OtherText: "=HYPERLINK(\"x\")"}, DistrictID: "talgar", Lang: storage.Russian})
	for range 4 {
		out = append(out, storage.PollAnswer{PollChoice: storage.PollChoice{Other: true}, DistrictID: "", Lang: storage.Kazakh})
	}
	for range 5 {
		out = append(out, storage.PollAnswer{PollChoice: storage.PollChoice{Options: []int{1}}, DistrictID: "enbekshikazakh", Lang: storage.Russian})
	}
	return out
}

func resultsOf(p storage.Poll, answers []storage.PollAnswer) storage.PollResults {
	var tally storage.PollTally
	for _, a := range answers {
		tally.Add(a, len(p.Options))
	}
	return storage.ResultsOf(len(p.Options), tally)
}

func TestWritePollCSV(t *testing.T) {
	p, answers := testPoll(), testAnswers()
	res := resultsOf(p, answers)
	var buf bytes.Buffer
	walk := func(f func(storage.PollAnswer) error) error {
		for _, a := range answers {
			if err := f(a); err != nil {
				return err
			}
		}
		return nil
	}
	if err := WritePollCSV(&buf, p, res, testLabels(t), walk); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), csvBOM) {
		t.Fatal("no UTF-8 BOM: Excel would garble Kazakh letters")
	}
	r := csv.NewReader(bytes.NewReader(buf.Bytes()[len(csvBOM):]))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := []string{"Аудан", "Тіл", "Жауап", "Бағдарламалау", "Кәсіпкерлік", "Ағылшын тілі", "Басқа", "Басқа (мәтін)"}
	if strings.Join(rows[0], "|") != strings.Join(wantHeader, "|") {
		t.Errorf("header = %q, want %q", rows[0], wantHeader)
	}
	if len(rows) != 1+len(answers) {
		t.Fatalf("%d rows, want a header and %d respondents", len(rows), len(answers))
	}
	// Talgar (one person) and "not given" (four) are hidden in the results,
	// so they are in the file too: their district reads "fewer than 5".
	talgar := rows[1+6]
	want := []string{"5-тен аз", "орыс тілі", "Бағдарламалау | Ағылшын тілі | Басқа", "1", "", "1", "1", "'=HYPERLINK(\"x\")"}
	if strings.Join(talgar, "|") != strings.Join(want, "|") {
		t.Errorf("small district's row = %q, want %q", talgar, want)
	}
	if karasai := rows[1]; karasai[0] != "Қарасай ауданы" && !strings.HasPrefix(karasai[0], "Қарасай") {
		t.Errorf("Karasai's row names the district %q", karasai[0])
	}
	if got := rows[len(rows)-1]; got[0] == "5-тен аз" || got[4] != "1" {
		t.Errorf("Enbekshikazakh's row = %q: five people are shown", got)
	}
}

// TestChartFont_KazakhLetters: every letter of the Kazakh alphabet and of
// the catalog's district names has a glyph, so no label shows boxes.
func TestChartFont_KazakhLetters(t *testing.T) {
	f, err := sfnt.Parse(dejaVuSans)
	if err != nil {
		t.Fatal(err)
	}
	text := "АӘБВГҒДЕЁЖЗИЙКҚЛМНҢОӨПРСТУҰҮФХҺЦЧШЩЪЫІЬЭЮЯ" + "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя" + "–—«»№·…%"
	for _, d := range catalog.Default(time.UTC).Districts {
		text += d.Name.In("kk") + d.Name.In("ru")
	}
	var b sfnt.Buffer
	for _, r := range text {
		if r == ' ' {
			continue
		}
		if i, err := f.GlyphIndex(&b, r); err != nil || i == 0 {
			t.Errorf("the chart font has no glyph for %q", r)
		}
	}
}

// chartAnswers are 119 answers from six districts, one of them too small
// to show (so "not given", the next smallest, is hidden with it), for the
// README's picture.
func chartAnswers() []storage.PollAnswer {
	var out []storage.PollAnswer
	groups := []struct {
		district string
		n        int
	}{{"karasai", 40}, {"konaev", 30}, {"enbekshikazakh", 25}, {"talgar", 12}, {"", 10}, {"uygur", 2}}
	i := 0
	for _, g := range groups {
		for range g.n {
			i++
			a := storage.PollAnswer{DistrictID: g.district, Lang: storage.Kazakh}
			if i%3 == 0 {
				a.Lang = storage.Russian
			}
			a.Options = []int{(i * 7 / 5) % 3}
			if i%4 == 0 {
				a.Options = append(a.Options, (a.Options[0]+1)%3)
			}
			a.Other = i%11 == 0
			out = append(out, a)
		}
	}
	return out
}

func TestPollChart(t *testing.T) {
	p, answers := testPoll(), chartAnswers()
	res := resultsOf(p, answers)
	img, err := PollChart(p, res, testLabels(t))
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := png.Decode(bytes.NewReader(img))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	b := decoded.Bounds()
	// Title, the count line, three headings, 4 answers, 6 districts, 2
	// languages: the picture grows with its rows, not its answers.
	if b.Dx() != chartWidth || b.Dy() < 15*chartRowH || b.Dy() > 2000 {
		t.Errorf("chart is %dx%d", b.Dx(), b.Dy())
	}
	path := filepath.Join("testdata", "poll_chart.png")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, img, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWrapAndFit: a long question takes at most three lines and a long
// label is cut with an ellipsis, each within its width, so nothing runs
// off the picture or over the bars.
func TestWrapAndFit(t *testing.T) {
	fnt, err := opentype.Parse(dejaVuSans)
	if err != nil {
		t.Fatal(err)
	}
	face, err := opentype.NewFace(fnt, &opentype.FaceOptions{Size: chartTextSize, DPI: 72})
	if err != nil {
		t.Fatal(err)
	}
	defer face.Close()
	lines := wrap(face, strings.Repeat("Өте ұзақ сұрақ ", 40), 400, chartTitleMax)
	if len(lines) != chartTitleMax || !strings.HasSuffix(lines[len(lines)-1], "…") {
		t.Errorf("wrapped = %q, want %d lines, the last cut", lines, chartTitleMax)
	}
	for _, l := range lines {
		if w := font.MeasureString(face, l).Ceil(); w > 400 {
			t.Errorf("line %q is %d px wide, over 400", l, w)
		}
	}
	if got := wrap(face, "Бір\nЕкі", 400, chartTitleMax); len(got) != 2 {
		t.Errorf("the question's own line break: %q", got)
	}
	label := fit(face, strings.Repeat("Ұзақ аудан атауы ", 10), chartLabelW)
	if w := font.MeasureString(face, label).Ceil(); w > chartLabelW || !strings.HasSuffix(label, "…") {
		t.Errorf("fit = %q (%d px), want cut with an ellipsis within %d px", label, w, chartLabelW)
	}
	if got := fit(face, "Еңбекшіқазақ", chartLabelW); got != "Еңбекшіқазақ" {
		t.Errorf("a short label was changed to %q", got)
	}
}
