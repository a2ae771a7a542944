// Package report writes the files the bot hands to staff and admins: for
// now the bookings of a period and a poll's results as CSV tables, and a
// PNG bar chart. It knows no
// Telegram and holds no user-facing text: every word comes from the caller
// in the reader's language (PollLabels).
//
// It imports storage and golang.org/x/image only; the bot imports it, never
// the other way round.
//
// The chart's font is DejaVu Sans 2.37 (font/DejaVuSans.ttf, from Debian
// bookworm's fonts-dejavu-core 2.37-6; license in font/LICENSE: the
// Bitstream Vera license, DejaVu changes in the public domain). It has the
// Kazakh letters (әғқңөұүһі and their capitals) that the Go fonts of
// golang.org/x/image and its ASCII basicfont lack, so districts and answers
// are written as people read them.
package report

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"jastar/storage"
)

// PollLabels are the words of a poll's report in the reader's language.
type PollLabels struct {
	// Lang is the language the question and options are shown in (the
	// other one when the poll left it out).
	Lang storage.Lang
	// District names a district; "" is "not given".
	District func(id string) string
	// Language names a language.
	Language func(storage.Lang) string
	// Number writes a count as the reader expects ("1 240"); nil writes
	// digits only.
	Number func(n int) string
	// Other is the "other" answer; Hidden replaces the numbers of a group
	// too small to show ("fewer than 5"), and names it in the CSV.
	Other, Hidden string
	// CSV column headers.
	HeaderDistrict, HeaderLanguage, HeaderAnswer, HeaderOtherText string
	// Chart section titles; Respondents writes "n answered".
	Overall, ByDistrict, ByLanguage string
	Respondents                     func(n int) string
}

func (l PollLabels) number(n int) string {
	if l.Number != nil {
		return l.Number(n)
	}
	return strconv.Itoa(n)
}

// csvBOM makes Excel read the file as UTF-8: without it Excel guesses the Windows code page and Kazakh and
// Russian letters turn into mojibake.
var csvBOM = []byte{0xEF, 0xBB, 0xBF}

// csvSeparator is ';', the list separator of Excel in Russian and Kazakh
// locales (decimal comma); with ',' it puts every row into one column.
const csvSeparator = ';'

// WritePollCSV writes one row per respondent: district, language, the
// answer as text, one column per option ("1" when chosen, empty when not,
// so a column sums in Excel) and, when the poll has "other", its free
// text. It writes no name and no chat id. A respondent whose district is
// hidden in res (fewer than storage.MinPollGroup people) gets l.Hidden as
// district: the file must not show what the results page hides.
//
// walk calls its argument for every answer (storage.PollStore's
// WalkPollAnswers): rows are written as they come, so memory does not grow
// with the answers.
func WritePollCSV(w io.Writer, p storage.Poll, res storage.PollResults, l PollLabels, walk func(func(storage.PollAnswer) error) error) error {
	if _, err := w.Write(csvBOM); err != nil {
		return err
	}
	hidden := map[string]bool{}
	for _, g := range res.ByDistrict {
		if g.Hidden {
			hidden[g.Key] = true
		}
	}
	cw := csv.NewWriter(w)
	cw.Comma = csvSeparator
	cw.UseCRLF = true
	header := []string{l.HeaderDistrict, l.HeaderLanguage, l.HeaderAnswer}
	for _, o := range p.Options {
		header = append(header, o.In(l.Lang))
	}
	if p.Other {
		header = append(header, l.Other, l.HeaderOtherText)
	}
	if err := cw.Write(safeRow(header)); err != nil {
		return err
	}
	row := make([]string, len(header))
	err := walk(func(a storage.PollAnswer) error {
		district := l.District(a.DistrictID)
		if hidden[a.DistrictID] {
			district = l.Hidden
		}
		var chosen []string
		for i := range p.Options {
			row[3+i] = ""
		}
		for _, o := range a.Options {
			if o >= 0 && o < len(p.Options) {
				chosen = append(chosen, p.Options[o].In(l.Lang))
				row[3+o] = "1"
			}
		}
		if p.Other {
			row[3+len(p.Options)], row[4+len(p.Options)] = "", a.OtherText
			if a.Other {
				chosen = append(chosen, l.Other)
				row[3+len(p.Options)] = "1"
			}
		}
		row[0], row[1], row[2] = district, l.Language(a.Lang), strings.Join(chosen, " | ")
		return cw.Write(safeRow(row))
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// safeRow defuses formula injection in every cell (CSVSafe).
func safeRow(row []string) []string {
	for i := range row {
		row[i] = CSVSafe(row[i])
	}
	return row
}

// CSVSafe defuses formula injection in a CSV cell: a spreadsheet runs a
// cell that starts with = + - @ (or a tab or carriage return, which some
// strip first) as a formula, and names and answers are typed by anyone. A
// leading apostrophe makes it text (OWASP, "CSV Injection"). Phones
// "+7..." get it too, which keeps Excel from turning them into numbers.
func CSVSafe(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
