package locales

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// messages reads the raw TOML of one language: id -> plural forms (a plain
// string counts as "other").
func messages(t *testing.T, lang string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	err := fs.WalkDir(files, lang, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		var raw map[string]any
		data, _ := files.ReadFile(path)
		if _, err := toml.Decode(string(data), &raw); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for id, v := range raw {
			if _, dup := out[id]; dup {
				t.Errorf("%s: message %s defined twice", path, id)
			}
			switch v := v.(type) {
			case string:
				out[id] = map[string]string{"other": v}
			case map[string]any:
				forms := map[string]string{}
				for k, s := range v {
					forms[k], _ = s.(string)
				}
				out[id] = forms
			default:
				t.Errorf("%s: message %s has type %T", path, id, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// declaredIDs parses ids*.go for the string constants code uses.
func declaredIDs(t *testing.T) []string {
	t.Helper()
	paths, _ := filepath.Glob("ids*.go")
	var ids []string
	fset := token.NewFileSet()
	for _, p := range paths {
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for _, v := range vs.Values {
				if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					ids = append(ids, s)
				}
			}
			return true
		})
	}
	if len(ids) == 0 {
		t.Fatal("no message ids found in ids*.go")
	}
	return ids
}

func TestEveryMessageInBothLanguages(t *testing.T) {
	kk, ru := messages(t, "kk"), messages(t, "ru")
	for _, id := range declaredIDs(t) {
		if _, ok := kk[id]; !ok {
			t.Errorf("message %s is missing in Kazakh", id)
		}
		if _, ok := ru[id]; !ok {
			t.Errorf("message %s is missing in Russian", id)
		}
	}
	for id := range kk {
		if _, ok := ru[id]; !ok {
			t.Errorf("message %s exists in Kazakh only", id)
		}
	}
	for id := range ru {
		if _, ok := kk[id]; !ok {
			t.Errorf("message %s exists in Russian only", id)
		}
	}
}

func TestPluralForms(t *testing.T) {
	need := map[string][]string{"kk": {"one", "other"}, "ru": {"one", "few", "many", "other"}}
	for lang, forms := range need {
		for id, got := range messages(t, lang) {
			if len(got) == 1 && got["other"] != "" {
				continue // not a plural message
			}
			for _, f := range forms {
				if strings.TrimSpace(got[f]) == "" {
					t.Errorf("%s: plural message %s lacks the %q form", lang, id, f)
				}
			}
		}
	}
}

func TestNoEmptyMessages(t *testing.T) {
	for _, lang := range Languages {
		for id, forms := range messages(t, lang) {
			for f, s := range forms {
				if strings.TrimSpace(s) == "" {
					t.Errorf("%s: message %s form %s is empty", lang, id, f)
				}
			}
		}
	}
}

// TestKazakhIsKazakh guards against Russian pasted into the Kazakh file:
// a long Kazakh text without any Kazakh-specific letter is suspicious.
func TestKazakhIsKazakh(t *testing.T) {
	kazakhLetters := "әғқңөұүһіӘҒҚҢӨҰҮҺІ"
	var suspicious []string
	for id, forms := range messages(t, "kk") {
		s := forms["other"]
		if len([]rune(s)) > 40 && !strings.ContainsAny(s, kazakhLetters) && !OtherLanguage(id) {
			suspicious = append(suspicious, id)
		}
	}
	sort.Strings(suspicious)
	if len(suspicious) > 0 {
		t.Errorf("Kazakh texts without a single Kazakh letter: %v", suspicious)
	}
}

func TestRenderEveryMessage(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	sample := Data{}
	for _, k := range []string{"Name", "Km", "Day", "Month", "Weekday", "Year", "Date", "Time", "Center", "Type", "Title", "Place", "Address", "When", "Count", "N", "Total", "Reason", "Phone", "Username", "Link", "Seats", "Left", "Sent", "Blocked", "Failed", "Max", "Page", "Pages", "Topic", "District", "Example", "ID", "Rating", "Comment", "From", "To", "Hours", "Services", "Status", "Audience", "Version", "Limit", "Who", "Position", "Field", "Value", "Percent", "Bring", "Settlement", "Note", "Lang", "Text", "Minutes", "Capacity", "Duration", "TitleKK", "TitleRU", "DescriptionKK", "DescriptionRU", "Upcoming", "Details", "Booked", "Attended", "NoShow", "Cancelled", "Registered", "Waiting", "Uncertain", "Poll", "Number", "Description", "Free", "Days", "Code",
		"Question", "Answer", "Option", "Group", "Shares", "Answered", "Multiple", "Other", "Notify", "Lines"} {
		sample[k] = "X"
	}
	for _, lang := range Languages {
		l := b.For(lang)
		for id, forms := range messages(t, lang) {
			plural := len(forms) > 1
			for _, n := range []int{1, 2, 5, 21} {
				got := l.T(id, sample)
				if plural {
					got = l.N(id, n, sample)
				}
				if got == id || strings.Contains(got, "<no value>") {
					t.Errorf("%s: %s(%d) renders as %q", lang, id, n, got)
				}
			}
		}
	}
}

func TestLocalizer_PluralRussian(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang string
		n    int
		want string
	}{
		{"ru", 1, "1 человек"},
		{"ru", 3, "3 человека"},
		{"ru", 5, "5 человек"},
		{"ru", 21, "21 человек"},
		{"ru", 22, "22 человека"},
		{"ru", 11, "11 человек"},
		{"kk", 1, "1 адам"},
		{"kk", 7, "7 адам"},
	}
	for _, tt := range tests {
		if got := b.For(tt.lang).N(EventWaiting, tt.n); !strings.HasSuffix(got, tt.want) {
			t.Errorf("%s N(%d) = %q, want it to end in %q", tt.lang, tt.n, got, tt.want)
		}
	}
}

func TestLocalizer_DatesAndNumbers(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	almaty, err := time.LoadLocation("Asia/Almaty")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 5, 15, 0, 0, 0, almaty)
	tests := []struct{ name, got, want string }{
		{"kk date", b.For("kk").Date(at), "5 желтоқсан, сенбі"},
		{"ru date", b.For("ru").Date(at), "5 декабря, суббота"},
		{"kk date time", b.For("kk").DateTime(at), "5 желтоқсан, сенбі, сағат 15:00"},
		{"ru date time", b.For("ru").DateTime(at), "5 декабря, суббота, в 15:00"},
		{"km decimal", b.For("ru").Km(2.44), "2,4 км"},
		{"km whole", b.For("kk").Km(83.6), "84 км"},
		{"thousands", b.For("ru").Int(432000), "432\u202f000"},
		{"unknown lang falls back to kk", b.For("en").ShortDate(at), "5 желтоқсан"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

// TestLocalizer_PlainTextKeepsData: a message is rendered without data once
// (and kept), then with data: the data still shows, in each language.
func TestLocalizer_PlainTextKeepsData(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range Languages {
		l := b.For(lang)
		first, again := l.T(Help), l.T(Help)
		if first != again || first == Help {
			t.Errorf("%s: Help rendered %q, then %q", lang, first, again)
		}
		_ = l.T(Kilometres)
		if got := l.T(Kilometres, Data{"Km": "3,5"}); got != "3,5 км" {
			t.Errorf("%s: Kilometres with data after without = %q, want %q", lang, got, "3,5 км")
		}
		if got := l.T("NoSuchMessage"); got != "NoSuchMessage" {
			t.Errorf("%s: a missing message = %q, want its id", lang, got)
		}
	}
}

// BenchmarkLocalizer_T is a text without data (most buttons and prompts)
// and one with data.
//
//	go test -run '^$' -bench Localizer_T -benchmem ./locales/
func BenchmarkLocalizer_T(b *testing.B) {
	bundle, err := Load()
	if err != nil {
		b.Fatal(err)
	}
	l := bundle.For("kk")
	b.Run("plain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = l.T(Help)
		}
	})
	b.Run("data", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = l.T(Kilometres, Data{"Km": "3,5"})
		}
	})
}

// TestLocalizer_FieldsAsTextTemplate: every message rendered without
// text/template (its only actions are fields) reads exactly as go-i18n
// renders it, with strings, integers, a field missing and a value of
// another type, in both languages.
func TestLocalizer_FieldsAsTextTemplate(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, lang := range Languages {
		l := b.For(lang)
		for id, f := range l.fields {
			n++
			for i, data := range []Data{
				fieldData(f.names, func(j int) any { return "<b>" + strconv.Itoa(j) + " & Дана</b>" }),
				fieldData(f.names, func(j int) any { return j * 1000 }),
				fieldData(f.names, func(j int) any { return int64(-j) }),
				fieldData(f.names[1:], func(j int) any { return "x" }), // the first one missing
				fieldData(f.names, func(j int) any { return 2.5 }),     // printed by text/template
			} {
				want, err := l.l.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
				if err != nil {
					t.Fatalf("%s %s: %v", lang, id, err)
				}
				if got := l.T(id, data); got != want {
					t.Errorf("%s %s, data %d: %q, go-i18n renders %q", lang, id, i, got, want)
				}
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d messages take the fields path; the test proves little", n)
	}
}

func fieldData(names []string, value func(int) any) Data {
	d := Data{}
	for j, name := range names {
		d[name] = value(j)
	}
	return d
}
