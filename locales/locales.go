// Package locales holds every user-facing text of the bot in Kazakh and
// Russian, embedded in the binary, and turns message IDs into text for one
// language, with CLDR plural forms and localized dates and numbers. It also
// holds the words of both languages that signal a person in crisis, and the
// matcher that hears them (crisis.go).
//
// It imports nothing of ours. Code refers to texts only by the ID constants
// in ids*.go; a test proves that every ID exists in both languages.
package locales

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed kk/*.toml ru/*.toml
var files embed.FS

// Languages are the codes of the languages the bot speaks, Kazakh first.
var Languages = []string{"kk", "ru"}

// Bundle holds the loaded texts and one ready localizer per language.
type Bundle struct {
	localizers map[string]*Localizer
}

// Load parses the embedded message files. It fails on a malformed file, so a
// broken translation stops the program at start, not in front of a user.
func Load() (*Bundle, error) {
	b := i18n.NewBundle(language.Russian)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	fast := map[string]map[string]fieldsTemplate{}
	for _, lang := range Languages {
		fast[lang] = map[string]fieldsTemplate{}
		entries, err := fs.ReadDir(files, lang)
		if err != nil {
			return nil, fmt.Errorf("read locale %s: %w", lang, err)
		}
		for _, e := range entries {
			name := path.Join(lang, e.Name())
			data, err := files.ReadFile(name)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", name, err)
			}
			// go-i18n takes the language from the file name's last tag.
			mf, err := b.ParseMessageFileBytes(data, strings.TrimSuffix(e.Name(), ".toml")+"."+lang+".toml")
			if err != nil {
				return nil, fmt.Errorf("parse %s: %w", name, err)
			}
			for _, m := range mf.Messages {
				if f, ok := compileFields(m.Other); ok {
					fast[lang][m.ID] = f
				} else {
					delete(fast[lang], m.ID) // a later file's version wins, as in go-i18n
				}
			}
		}
	}
	out := &Bundle{localizers: make(map[string]*Localizer)}
	for _, lang := range Languages {
		out.localizers[lang] = &Localizer{lang: lang, l: i18n.NewLocalizer(b, lang), fields: fast[lang]}
	}
	return out, nil
}

// For returns the localizer of lang; an unknown code gets Kazakh.
func (b *Bundle) For(lang string) *Localizer {
	if l, ok := b.localizers[lang]; ok {
		return l
	}
	return b.localizers["kk"]
}

// Localizer renders messages of one language.
type Localizer struct {
	lang string
	l    *i18n.Localizer
	// plain holds the texts of messages rendered without data (id to
	// string): the same every time, and go-i18n looks up and executes the
	// message's template anew on each call, which under load was 7% of
	// the bot's CPU. Only ids that exist are kept, so it holds at most one
	// string per message.
	plain sync.Map
	// fields are the messages whose template only puts fields of the data
	// in the text ({{.Name}}), rendered by fieldsTemplate without
	// text/template: 2.5-4 µs and 9 allocations a call there, several
	// calls an update.
	fields map[string]fieldsTemplate
}

// Lang is the language code of the localizer.
func (l *Localizer) Lang() string { return l.lang }

// Data is the template data of a message.
type Data = map[string]any

// T renders the message id with optional template data. A missing message
// renders as its id: the locale test makes that impossible in a build that
// passed CI, and a visible id is better than an empty message.
func (l *Localizer) T(id string, data ...Data) string {
	cfg := &i18n.LocalizeConfig{MessageID: id}
	if len(data) > 0 {
		if f, ok := l.fields[id]; ok {
			if s, ok := f.render(data[0]); ok {
				return s
			}
		}
		cfg.TemplateData = data[0]
	} else if s, ok := l.plain.Load(id); ok {
		return s.(string)
	}
	s, err := l.l.Localize(cfg)
	if err != nil {
		return id
	}
	if len(data) == 0 {
		l.plain.Store(id, s)
	}
	return s
}

// N renders a message with plural forms for count; the template sees the
// count as {{.Count}} beside data.
func (l *Localizer) N(id string, count int, data ...Data) string {
	d := Data{}
	if len(data) > 0 {
		for k, v := range data[0] {
			d[k] = v
		}
	}
	d["Count"] = l.Int(count)
	s, err := l.l.Localize(&i18n.LocalizeConfig{MessageID: id, PluralCount: count, TemplateData: d})
	if err != nil {
		return id
	}
	return s
}

// Has reports whether id renders in this language without error.
func (l *Localizer) Has(id string) bool {
	_, err := l.l.Localize(&i18n.LocalizeConfig{MessageID: id, PluralCount: 1})
	return err == nil
}

// Int formats an integer with a narrow no-break space between thousands, as
// both Kazakh and Russian write "432 000".
func (l *Localizer) Int(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Decimal formats x with one decimal and a comma separator ("2,4").
func (l *Localizer) Decimal(x float64) string {
	return strings.Replace(strconv.FormatFloat(x, 'f', 1, 64), ".", ",", 1)
}

// Km formats a distance: one decimal under 10 km, whole kilometres above.
func (l *Localizer) Km(km float64) string {
	if km < 10 {
		return l.T(Kilometres, Data{"Km": l.Decimal(km)})
	}
	return l.T(Kilometres, Data{"Km": l.Int(int(km + 0.5))})
}

// Date formats the calendar date of t (already in the bot's time zone) with
// the month in the right grammatical form: "5 желтоқсан, сенбі",
// "5 декабря, суббота".
func (l *Localizer) Date(t time.Time) string {
	return l.T(DateFormat, Data{
		"Day":     t.Day(),
		"Month":   l.T(fmt.Sprintf("Month%02d", int(t.Month()))),
		"Weekday": l.T(fmt.Sprintf("Weekday%d", int(t.Weekday()))),
		"Year":    t.Year(),
	})
}

// DateWithYear formats a date that may lie in another year, without the
// weekday: "2025 жылғы 5 желтоқсан", "5 декабря 2025 г.".
func (l *Localizer) DateWithYear(t time.Time) string {
	return l.T(DateYearFormat, Data{"Day": t.Day(), "Month": l.T(fmt.Sprintf("Month%02d", int(t.Month()))), "Year": t.Year()})
}

// ShortDate formats "5 желтоқсан" / "5 декабря" without the weekday.
func (l *Localizer) ShortDate(t time.Time) string {
	return l.T(ShortDateFormat, Data{"Day": t.Day(), "Month": l.T(fmt.Sprintf("Month%02d", int(t.Month())))})
}

// Weekday is the short weekday name, for day buttons.
func (l *Localizer) Weekday(t time.Time) string {
	return l.T(fmt.Sprintf("WeekdayShort%d", int(t.Weekday())))
}

// Clock formats the time of day as 24-hour "15:04", as both languages do.
func (l *Localizer) Clock(t time.Time) string { return t.Format("15:04") }

// DateTime formats date and time: "5 желтоқсан, сенбі, 15:00".
func (l *Localizer) DateTime(t time.Time) string {
	return l.T(DateTimeFormat, Data{"Date": l.Date(t), "Time": l.Clock(t)})
}
