package bot

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/BurntSushi/toml"

	"jastar/bot/telegramtest"
	"jastar/locales"
	"jastar/storage/catalog"
)

// The language checks of every message, mechanical where a person would
// have to read 400 texts twice: what the language review of December 2026
// found by hand must not come back.

// Button label limits, in characters: Telegram cuts a longer label with
// "…" on a phone of about 360 dp. A label alone in its row has the whole
// width; two share it; three or more get a third or less.
const (
	fullRowLabel  = 32
	halfRowLabel  = 24
	thirdRowLabel = 16
)

// rowLimit is the longest label a row of n buttons shows whole.
func rowLimit(n int) int {
	switch {
	case n <= 1:
		return fullRowLabel
	case n == 2:
		return halfRowLabel
	}
	return thirdRowLabel
}

// buttonLabels lists every message the bot puts on a button, with the most
// buttons it ever shares a row with (1: alone). The harness checks it
// against every keyboard the bot sends in the tests (checkSent), so a label
// moved into a fuller row, or a new label, fails until it is listed here.
var buttonLabels = map[string]int{
	// The main menu (routes.go), a reply keyboard.
	locales.MenuCenters: 2, locales.MenuDistricts: 2, locales.MenuEvents: 1,
	locales.MenuBook: 2, locales.MenuMyBookings: 2,
	locales.MenuLanguage: 2, locales.MenuHelp: 2, locales.MenuSubscriptions: 1,

	locales.ButtonBack: 2, locales.ButtonCancel: 2, locales.SwitchLanguage: 1,
	locales.LanguageNameKK: 3, locales.LanguageNameRU: 3, locales.BroadcastBothLanguages: 3,

	// Booking and the person's bookings.
	locales.ButtonBookHere: 1, locales.BookDayLabel: 2, locales.BookConfirm: 1, locales.BookConfirmMove: 1,
	locales.BookSharePhone: 1, locales.BookSkipPhone: 2,
	locales.MyBookingReschedule: 2, locales.MyBookingCancel: 2,
	locales.MyBookingCancelYes: 2, locales.MyBookingCancelNo: 2,

	// Staff buttons on booking notices.
	locales.StaffButtonAttended: 2, locales.StaffButtonNoShow: 2, locales.StaffButtonCancel: 1,
	locales.StaffButtonToNoShow: 1, locales.StaffButtonToAttended: 1,
	locales.StaffReasonAbsent: 1, locales.StaffReasonClosed: 1, locales.StaffReasonDuplicate: 1, locales.StaffReasonAsked: 1,

	// Centers.
	locales.ButtonShowOnMap: 1, locales.ButtonCenterEvents: 1, locales.ButtonChooseDistrict: 1,
	locales.CenterButtonOpen: 2, locales.CenterButtonSoon: 2,

	// Events and their staff side.
	locales.ButtonEventsAll: 1, locales.ButtonEventsByDistrict: 1, locales.ButtonMyEvents: 1,
	locales.ButtonPrevPage: 2, locales.ButtonNextPage: 2, locales.ButtonBackToList: 1,
	locales.ButtonRegister: 1, locales.ButtonJoinWaitlist: 1, locales.ButtonUnregister: 1, locales.ButtonLeaveWaitlist: 1,
	locales.StaffKeep: 1, locales.ButtonSave: 2, locales.ButtonEditEvent: 2, locales.ButtonCancelEvent: 2,
	locales.ButtonConfirmCancel: 2, locales.WeeklyEventsButton: 1,

	// Subscriptions, broadcasts, privacy, feedback.
	locales.TopicEvents: 1, locales.TopicJobs: 1, locales.TopicNews: 1, locales.AllDistricts: 1,
	locales.SubscriptionDistrictButton: 1, locales.SubscriptionOffButton: 1,
	locales.SubscriptionOfferYes: 2, locales.SubscriptionOfferNo: 2,
	locales.BroadcastSkipButton: 1, locales.BroadcastAllTopics: 1, locales.BroadcastSendButton: 2,
	locales.BroadcastPauseButton: 2, locales.BroadcastResumeButton: 2, locales.BroadcastCancelJobButton: 2,
	locales.ForgetYes: 2, locales.ForgetNo: 2, locales.FeedbackSkip: 1,

	// A center run by its staff (issue 16).
	locales.CloseAllTypes: 1, locales.CloseToday: 2, locales.CloseTomorrow: 2, locales.ClosePartDay: 1,
	locales.ClosePartMorning: 2, locales.ClosePartAfternoon: 2, locales.ClosePartHours: 2, locales.ClosePartRange: 2,
	locales.ClosureReasonIllness: 1, locales.ClosureReasonTraining: 1, locales.ClosureReasonEvent: 1, locales.ClosureReasonOther: 1,
	locales.CloseConfirm: 1, locales.ButtonReopen: 1,
	locales.CardFieldAddressKK: 2, locales.CardFieldAddressRU: 2, locales.CardFieldPhone: 2, locales.CardFieldHours: 2,
	locales.CardFieldPin: 2, locales.CardFieldPhoto: 2, locales.CardFieldNote: 2, locales.ButtonResetCard: 1,
	locales.ButtonCloseTime: 2, locales.ButtonClosures: 2, locales.ButtonExtraSessions: 1,
	locales.ButtonDone: 1, locales.ButtonDayOff: 1, locales.ButtonEntrancePhoto: 1, locales.ButtonOlder: 1,
	locales.ButtonRemoveSession: 1, locales.ButtonAddSession: 1, locales.SessionMinutes: 4, locales.ButtonRemoveSessionAnyway: 1,
	// A weekday of the hours editor, alone or with its hours.
	"WeekdayShort0": 1, "WeekdayShort1": 1, "WeekdayShort2": 1, "WeekdayShort3": 1, "WeekdayShort4": 1, "WeekdayShort5": 1, "WeekdayShort6": 1,
	// Polls: the answer buttons under a question, composing, results.
	locales.PollOtherButton: 1, locales.PollChangeButton: 1, locales.PollYesButton: 2, locales.PollNoButton: 2,
	locales.PollDaysButton: 4, locales.PollOpenButton: 1, locales.PollChartButton: 2, locales.PollCSVButton: 2,
	locales.PollCloseButton: 1,
	// The safety net: the 🆘 button, the crisis answer's offer, and the
	// anonymous booking's question, one answer a row.
	locales.HelpButton: 1, locales.CrisisBookButton: 1,
	locales.AnonymousShowName: 1, locales.AnonymousHideName: 1,
}

// labelRunes counts a label as Telegram draws it: variation selectors and
// joiners add no width.
func labelRunes(s string) int {
	n := 0
	for _, r := range s {
		if r != '\uFE0F' && r != '\u200D' {
			n++
		}
	}
	return n
}

// message is one message of one language as the TOML has it.
type message struct {
	id, lang string
	forms    map[string]string // plural form (or "other") -> template
}

// readMessages reads ../locales/<lang>/*.toml. The result is shared by
// every test: read it, never change it.
func readMessages(t *testing.T) []message {
	t.Helper()
	out, err := loadMessages()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// loadMessages parses the message files once per test binary: under the
// race detector a parse of both languages costs about 30 ms of CPU, and
// labelPatterns wants a template of each of its hundred-odd labels.
var loadMessages = sync.OnceValues(parseMessages)

func parseMessages() ([]message, error) {
	var out []message
	for _, lang := range locales.Languages {
		paths, err := filepath.Glob(filepath.Join("..", "locales", lang, "*.toml"))
		if err != nil || len(paths) == 0 {
			return nil, fmt.Errorf("no message files for %s: %v", lang, err)
		}
		for _, p := range paths {
			var raw map[string]any
			if _, err := toml.DecodeFile(p, &raw); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			for id, v := range raw {
				m := message{id: id, lang: lang, forms: map[string]string{}}
				switch v := v.(type) {
				case string:
					m.forms["other"] = v
				case map[string]any:
					for f, s := range v {
						m.forms[f], _ = s.(string)
					}
				}
				out = append(out, m)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].lang+out[i].id < out[j].lang+out[j].id })
	return out, nil
}

func (m message) plural() bool { return len(m.forms) > 1 }

var placeholderRE = regexp.MustCompile(`\{\{[^}]*\.([A-Za-z]+)[^}]*\}\}`)

// placeholders are the data keys a message's templates use.
func (m message) placeholders() []string {
	var keys []string
	for _, s := range m.forms {
		for _, sm := range placeholderRE.FindAllStringSubmatch(s, -1) {
			if !slices.Contains(keys, sm[1]) {
				keys = append(keys, sm[1])
			}
		}
	}
	sort.Strings(keys)
	return keys
}

// pluralCounts are the numbers every plural is rendered with: each CLDR
// form of Russian, and the teens and twenties that trip hand-written rules.
var pluralCounts = []int{1, 2, 5, 11, 21, 22, 25}

// sample is realistic template data for variant i of a language: the
// catalog's own names, dates in every month (i%12), a person's name with
// Kazakh letters or none at all (i%2), and the counts above (i%7).
type sample struct {
	data   locales.Data
	count  int
	values []string // the data as text, to tell template text from data
}

func newSample(l *locales.Localizer, cat *catalog.Catalog, i int) sample {
	lang := l.Lang()
	loc := cat.Location()
	when := time.Date(2026, time.Month(i%12+1), 3+i%25, 9+i%9, 30*(i%2), 0, 0, loc)
	n := pluralCounts[i%len(pluralCounts)]
	name := []string{"Әлия Сәрсенқызы", ""}[i%2]
	center := cat.Centers[i%len(cat.Centers)]
	typ := cat.Types[i%len(cat.Types)]
	district := cat.Districts[i%len(cat.Districts)]
	event := cat.Events[i%len(cat.Events)]
	line := cat.HelpLines[i%len(cat.HelpLines)]
	var services []string
	for _, s := range center.Services {
		services = append(services, s.In(lang))
	}
	self := locales.LanguageNameKK
	if lang == "ru" {
		self = locales.LanguageNameRU
	}
	d := locales.Data{
		"Name": name, "Who": name, "Username": "@aliya_2008", "Phone": "+7 701 123 45 67",
		"Comment": "Маман өте жақсы түсіндірді", "Text": l.T(locales.MyBookingItem, locales.Data{
			"Type": typ.Name.In(lang), "Place": center.Name.In(lang), "When": l.DateTime(when),
		}),
		"Day": when.Day(), "Month": l.T(fmt.Sprintf("Month%02d", int(when.Month()))), "Weekday": l.Weekday(when), "Year": when.Year(),
		"Date": l.Date(when), "When": l.DateTime(when), "Time": l.Clock(when),
		"From": when.Format("02.01.2006"), "To": when.AddDate(0, 1, 0).Format("02.01.2006"),
		"Duration": l.N(locales.BookHours, 1+i%3), "Km": l.Km(2.44 + float64(i*7)),
		"Center": center.Name.In(lang), "Place": center.Name.In(lang), "Settlement": center.Settlement.In(lang),
		"Address": center.Settlement.In(lang) + ", " + l.T(locales.AskTheCenter), "Hours": l.T(locales.AskTheCenter),
		"Services": strings.Join(services, ", "), "Note": center.OpensNote.In(lang) + "\n\n",
		"Type": typ.Name.In(lang), "Bring": typ.Bring.In(lang), "District": district.Name.In(lang),
		"Title": event.Title.In(lang), "TitleKK": event.Title.KK, "TitleRU": event.Title.RU,
		"DescriptionKK": event.Description.KK, "DescriptionRU": event.Description.RU,
		"Topic": l.T(locales.TopicEvents) + ", " + l.T(locales.TopicJobs), "Lang": l.T(self),
		"Reason": l.T(locales.StaffReasonAbsent), "Status": l.T(locales.StatusBooked),
		"Audience": l.T(locales.TopicNews) + " · " + district.Name.In(lang) + " · " + l.T(self),
		"Example":  l.T(locales.ExampleTitleKK), "Value": event.Title.In(lang),
		"Upcoming": l.N(locales.ForgetUpcoming, n), "Details": l.N(locales.ForgetCancelledBookings, n),
		"Rating": l.Decimal(4.5),
		// Polls: an admin's question and options are data in either language.
		"Question": event.Title.In(lang) + "?", "Answer": event.Title.In(lang), "Option": district.Name.In(lang),
		"Percent": 10 + i%90, "Group": district.Name.In(lang), "Shares": "1. 40% · 2. 60%",
		"Answered": l.N(locales.PollRespondents, n), "Multiple": l.T(locales.PollYesButton), "Other": l.T(locales.PollNoButton),
		"Notify": l.T(locales.PollYesButton), "Lines": district.Name.In(lang) + " — 12 (40%)",
		// The safety net: an anonymous booking's code, a help line of the
		// catalog, and the days of a line that does not answer every day.
		"Code": []string{"П-4821", "0427"}[i%2], "Number": line.Number, "Description": line.Description.In(lang),
		"Free": l.T([]string{locales.HelpLineFree, locales.HelpLinePaid}[i%2]),
		"Days": weekdays(l, [][]time.Weekday{{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}, {time.Monday, time.Wednesday, time.Friday}}[i%2]),
	}
	for _, k := range []string{"Count", "N", "Total", "Sent", "Left", "Blocked", "Failed", "Uncertain", "Max", "Page", "Pages",
		"ID", "Poll", "Capacity", "Booked", "Attended", "NoShow", "Cancelled", "Registered", "Waiting", "Minutes"} {
		d[k] = l.Int(n)
	}
	s := sample{data: d, count: n}
	for _, v := range d {
		if str := fmt.Sprint(v); strings.TrimSpace(str) != "" {
			s.values = append(s.values, str)
		}
	}
	// Longest first, so a value inside another is removed with it.
	sort.Slice(s.values, func(i, j int) bool { return len(s.values[i]) > len(s.values[j]) })
	return s
}

// render renders m with the sample, as T or, for a plural, N with its count.
func (s sample) render(l *locales.Localizer, m message) string {
	if m.plural() {
		return l.N(m.id, s.count, s.data)
	}
	return l.T(m.id, s.data)
}

// templateText is a rendered text without its data: what the translator
// wrote.
func (s sample) templateText(rendered string) string {
	for _, v := range s.values {
		rendered = strings.ReplaceAll(rendered, v, " ")
	}
	return rendered
}

// words splits text into lower-case words of letters (and inner hyphens),
// without HTML tags.
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(tagRE.ReplaceAllString(text, " ")), func(r rune) bool { return !unicode.IsLetter(r) && r != '-' })
}

// cyrillic reports a word written in Cyrillic: Latin words are commands,
// brands and file types, the same in both languages.
func cyrillic(w string) bool {
	return strings.IndexFunc(w, func(r rune) bool { return unicode.Is(unicode.Cyrillic, r) }) >= 0
}

// sharedWords are the words both languages really write the same way:
// loans, names of things and abbreviations. A Kazakh text may use them; any
// other word of the Russian texts in a Kazakh one is Russian left in by
// mistake ("Русский оқитындар").
var sharedWords = map[string]bool{
	// Loans Kazakh writes as Russian does.
	"бот": true, "файл": true, "альбом": true, "минут": true, "психология": true, "онлайн": true, "тренинг": true,
	"диалог": true, "статистика": true, "телефон": true, "коворкинг": true, "км": true,
	// Kazakh words that only look Russian: "не" (what; or), "да" (also),
	// "коды" (its code: код with the possessive -ы).
	"не": true, "да": true, "коды": true,
	// Abbreviations: Wednesday, and minutes in the date pattern ЧЧ:ММ / СС:ММ.
	"ср": true, "мм": true,
}

// kazakhOnly are the Kazakh letters Russian does not have.
const kazakhOnly = "әғқңөұүһіӘҒҚҢӨҰҮҺІ"

// TestMessages_EveryTextReadsRight renders every message of both languages
// with realistic data and checks what can be checked without reading: every
// placeholder filled, no Russian word in Kazakh and no Kazakh letter in
// Russian outside proper names and data, and every button label within its
// row's width.
func TestMessages_EveryTextReadsRight(t *testing.T) {
	t.Parallel()
	cat := catalog.Default(almaty(t))
	msgs := readMessages(t)

	// Proper names the catalog gives, in either language: a Russian text may
	// quote «Жасыл ел» or «Отбасы банк».
	names := map[string]bool{}
	for _, c := range cat.Centers {
		for _, w := range words(c.Name.KK + " " + c.Name.RU + " " + c.Settlement.KK + " " + c.Settlement.RU) {
			names[w] = true
		}
	}
	for _, d := range cat.Districts {
		for _, w := range words(d.Name.KK + " " + d.Name.RU) {
			names[w] = true
		}
	}
	for _, ty := range cat.Types {
		for _, w := range words(ty.Name.KK + " " + ty.Name.RU) {
			names[w] = true
		}
	}
	for _, e := range cat.Events {
		for _, q := range regexp.MustCompile(`«([^»]*)»`).FindAllStringSubmatch(e.Title.KK+e.Title.RU+e.Description.KK+e.Description.RU, -1) {
			for _, w := range words(q[1]) {
				names[w] = true
			}
		}
	}

	// The Russian vocabulary: every word of the Russian templates.
	russian := map[string]bool{}
	for _, m := range msgs {
		if m.lang != "ru" || locales.OtherLanguage(m.id) {
			continue
		}
		for _, s := range m.forms {
			for _, w := range words(placeholderRE.ReplaceAllString(s, " ")) {
				russian[w] = true
			}
		}
	}

	// The samples are the same for every message: made once per language.
	const variants = 84 // every count, month and name together: lcm(7, 12, 2)
	samples := map[string][]sample{}
	for _, lang := range locales.Languages {
		for i := range variants {
			samples[lang] = append(samples[lang], newSample(testLocales.For(lang), cat, i))
		}
	}
	for _, m := range msgs {
		l := testLocales.For(m.lang)
		seen := map[string]bool{}
		// What the translator wrote is mostly the same text in every
		// variant (the data is taken out): its words are checked once.
		// The verdict on a word depends only on the word and the message,
		// so a text checked before can only repeat what it found.
		checked := map[string]bool{}
		for i := range variants {
			s := samples[m.lang][i]
			if m.id == locales.BookDayLabel {
				// The day buttons carry the short date (booking.go).
				s.data = maps.Clone(s.data)
				s.data["Date"] = l.ShortDate(time.Date(2026, time.Month(i%12+1), 3+i%25, 12, 0, 0, 0, cat.Location()))
			}
			got := s.render(l, m)
			if got == m.id || strings.Contains(got, "<no value>") || strings.Contains(got, "{{") || strings.Contains(got, "}}") || strings.Contains(got, "%!") {
				t.Errorf("%s %s renders as %q", m.lang, m.id, got)
				break
			}
			if limit, ok := buttonLabels[m.id]; ok && labelRunes(got) > rowLimit(limit) && !seen["\x00width"] {
				seen["\x00width"] = true
				t.Errorf("%s button %s is %d characters, over %d for a row of %d: %q", m.lang, m.id, labelRunes(got), rowLimit(limit), limit, got)
			}
			if locales.OtherLanguage(m.id) {
				continue
			}
			text := s.templateText(got)
			if checked[text] {
				continue
			}
			checked[text] = true
			for _, w := range words(text) {
				if seen[w] || names[w] {
					continue
				}
				switch {
				case m.lang == "kk" && cyrillic(w) && russian[w] && !sharedWords[w]:
					t.Errorf("kk %s: Russian word %q in the Kazakh text", m.id, w)
				case m.lang == "ru" && strings.ContainsAny(w, kazakhOnly):
					t.Errorf("ru %s: Kazakh word %q in the Russian text", m.id, w)
				default:
					continue
				}
				seen[w] = true
			}
		}
	}
	for _, m := range msgs {
		for _, k := range m.placeholders() {
			if _, ok := samples[m.lang][0].data[k]; !ok {
				t.Errorf("%s %s: placeholder %s has no sample here: add a realistic one to newSample", m.lang, m.id, k)
			}
		}
	}
}

// TestMessages_MyListsHaveTheirOwnNames: the consultations of the main
// menu and the events of the events menu are two lists; one label for both
// told someone registered for an event that they had nothing.
func TestMessages_MyListsHaveTheirOwnNames(t *testing.T) {
	t.Parallel()
	for _, lang := range locales.Languages {
		l := testLocales.For(lang)
		if l.T(locales.MenuMyBookings) == l.T(locales.ButtonMyEvents) {
			t.Errorf("%s: the bookings and the events lists are both %q", lang, l.T(locales.MenuMyBookings))
		}
	}
}

// dynamicID are the messages the locales package names by pattern.
var dynamicID = regexp.MustCompile(`^(Month(0[1-9]|1[0-2])|Weekday[0-6]|WeekdayShort[0-6])$`)

// TestMessages_EveryOneIsUsed: each message ID constant is used by the
// bot's code (tests do not count), and each message in the files has an ID
// constant, so no text is translated and reviewed for nothing.
func TestMessages_EveryOneIsUsed(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	consts := map[string]string{} // constant name -> message id
	idFiles, _ := filepath.Glob(filepath.Join("..", "locales", "ids*.go"))
	for _, p := range idFiles {
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok {
						consts[name.Name], _ = strconv.Unquote(lit.Value)
					}
				}
			}
		}
	}
	// Uses: "locales.Name" outside the locales package, a bare Name inside
	// it; the ID declarations themselves and tests do not count.
	used := map[string]bool{}
	err := filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && p != ".." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		inLocales := f.Name.Name == "locales"
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				if inLocales {
					return false // a declaration, not a use
				}
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && x.Name == "locales" {
					used[n.Sel.Name] = true
				}
			case *ast.Ident:
				if inLocales {
					used[n.Name] = true
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for name, id := range consts {
		ids[id] = true
		if !used[name] {
			t.Errorf("message %s is never used by the code: use it or delete it from ids*.go and both languages", name)
		}
	}
	for _, m := range readMessages(t) {
		if !ids[m.id] && !dynamicID.MatchString(m.id) {
			t.Errorf("%s message %s has no ID constant in locales/ids*.go", m.lang, m.id)
		}
	}
}

// labelPatterns matches rendered button labels back to their IDs, in both
// languages: the literal text of each template, with its data as ".+".
var labelPatterns = sync.OnceValue(func() map[string][]*regexp.Regexp {
	out := map[string][]*regexp.Regexp{}
	for id := range buttonLabels {
		for _, lang := range locales.Languages {
			src, err := rawTemplate(lang, id)
			if err != nil {
				panic(err)
			}
			var b strings.Builder
			b.WriteString(`^(?:✅ |☑️ |• )?`) // the selection marks subscription and broadcast buttons add
			last := 0
			for _, loc := range placeholderRE.FindAllStringSubmatchIndex(src, -1) {
				data, ok := labelData[src[loc[2]:loc[3]]]
				if !ok {
					data = ".+"
				}
				b.WriteString(regexp.QuoteMeta(src[last:loc[0]]) + data)
				last = loc[1]
			}
			b.WriteString(regexp.QuoteMeta(src[last:]) + "$")
			out[id] = append(out[id], regexp.MustCompile(b.String()))
		}
	}
	return out
})

// labelData is what a label's data looks like, where it is not any text:
// the day buttons must not claim every label with a comma.
var labelData = map[string]string{"ID": `[0-9]+`, "Weekday": `\S{2}`, "Date": `[0-9]{1,2} \S+`}

// rawTemplate is the "other" form of id in ../locales/<lang>/*.toml.
func rawTemplate(lang, id string) (string, error) {
	msgs, err := loadMessages()
	if err != nil {
		return "", err
	}
	for _, m := range msgs {
		if m.lang == lang && m.id == id {
			return m.forms["other"], nil
		}
	}
	return "", fmt.Errorf("%s: no message %s", lang, id)
}

// plainLabels are the labels without data, text -> ID, for telling an
// unlisted label from a catalog name on a button.
var plainLabels = sync.OnceValue(func() map[string]string {
	msgs, err := loadMessages()
	if err != nil {
		panic(err)
	}
	out := map[string]string{}
	for _, m := range msgs {
		if !m.plural() && len(m.placeholders()) == 0 {
			out[testLocales.For(m.lang).T(m.id)] = m.id
		}
	}
	return out
})

// checkSent runs at the end of every harness test: every text the bot sent
// has its placeholders filled, and every button it drew is a listed label
// (or data: times, names from the catalog) that fits its row.
func checkSent(t *testing.T, srv *telegramtest.Server) {
	t.Helper()
	reported := map[string]bool{}
	for _, c := range srv.Calls("") {
		for _, k := range []string{"text", "caption"} {
			if v := c.Params.Get(k); strings.Contains(v, "<no value>") || strings.Contains(v, "{{") {
				t.Errorf("%s %s with an unfilled placeholder: %q", c.Method, k, v)
			}
		}
		raw := c.Params.Get("reply_markup")
		if raw == "" {
			continue
		}
		var kb struct {
			Inline [][]struct{ Text string } `json:"inline_keyboard"`
			Reply  [][]struct{ Text string } `json:"keyboard"`
		}
		if err := json.Unmarshal([]byte(raw), &kb); err != nil {
			continue // the fake already refuses malformed markup
		}
		for _, row := range append(kb.Inline, kb.Reply...) {
			for _, btn := range row {
				if problem := checkButton(btn.Text, len(row)); problem != "" && !reported[problem] {
					reported[problem] = true
					t.Error(problem)
				}
			}
		}
	}
}

// checkButton says what is wrong with a button of a row of inRow, or "".
func checkButton(text string, inRow int) string {
	// The same buttons come back in test after test: the answer is pure,
	// so it is worked out once per label and row width.
	key := fmt.Sprintf("%d|%s", inRow, text)
	if problem, ok := checkedButtons.Load(key); ok {
		return problem.(string)
	}
	problem := checkButtonNow(text, inRow)
	checkedButtons.Store(key, problem)
	return problem
}

// checkedButtons holds checkButton's answers by row width and label.
var checkedButtons sync.Map

func checkButtonNow(text string, inRow int) string {
	var ids []string // the listed labels the text can be
	fits := false
	for id, pats := range labelPatterns() {
		for _, p := range pats {
			if p.MatchString(text) {
				ids = append(ids, id)
				fits = fits || inRow <= buttonLabels[id]
			}
		}
	}
	sort.Strings(ids)
	switch {
	case len(ids) == 0:
		if id, ok := plainLabels()[text]; ok {
			return fmt.Sprintf("button label %s %q is not in buttonLabels", id, text)
		}
	case !fits:
		return fmt.Sprintf("button %s %q is in a row of %d, but listed for fewer: update buttonLabels", ids, text, inRow)
	case labelRunes(text) > rowLimit(inRow):
		return fmt.Sprintf("button %s %q is %d characters, over %d for a row of %d", ids, text, labelRunes(text), rowLimit(inRow), inRow)
	}
	return ""
}
