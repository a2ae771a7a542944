package catalog

import (
	"cmp"
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

//go:embed default.toml
var defaultTOML []byte

// DefaultTOML returns a copy of the embedded default.toml: the catalog of
// Almaty region, and the commented example of the format for any region.
func DefaultTOML() []byte { return slices.Clone(defaultTOML) }

// Default returns the embedded catalog, with events read in loc (in its own
// time_zone when loc is nil). The embedded file is checked by the tests, so
// Default panics only when the binary was built from a broken default.toml.
func Default(loc *time.Location) *Catalog {
	c, err := Parse("default.toml", defaultTOML, loc)
	if err != nil {
		panic(fmt.Sprintf("catalog: embedded default.toml is invalid: %v", err))
	}
	return c
}

// Load reads and parses the catalog file at path. See Parse.
func Load(path string, loc *time.Location) (*Catalog, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	return Parse(path, data, loc)
}

// Problem is one thing wrong in a catalog file.
type Problem struct {
	File  string
	Line  int    // 1-based; 0 when unknown
	Kind  string // "district", "center", "type", "event"; empty at the top level
	ID    string // id of the district, center, type or event
	Field string // TOML key, e.g. "lat" or "schedules[2].close"
	Msg   string
}

// Error formats the problem like a compiler does, so editors can jump to it:
//
//	catalog.toml:42: center "kaskelen": field lat: 95.1 is out of range -90..90
func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Kind != "" {
		b.WriteString(p.Kind)
		b.WriteString(" ")
	}
	if p.ID != "" || p.Kind != "" {
		fmt.Fprintf(&b, "%q: ", p.ID)
	}
	if p.Field != "" {
		fmt.Fprintf(&b, "field %s: ", p.Field)
	}
	b.WriteString(p.Msg)
	return b.String()
}

// ValidationError lists every problem Parse found, in the order of the file.
type ValidationError struct {
	Problems []Problem
}

// Error prints one problem per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Parse reads a catalog from data; name is the file name used in problems.
// Event start times are wall clock in loc, or in the file's time_zone when
// loc is nil. On any problem it returns a *ValidationError that lists all of
// them, not just the first.
func Parse(name string, data []byte, loc *time.Location) (*Catalog, error) {
	var r rawCatalog
	md, err := toml.Decode(string(data), &r)
	if err != nil {
		return nil, &ValidationError{Problems: []Problem{decodeProblem(name, err)}}
	}
	p := &parser{file: name, src: indexSource(string(data)), raw: &r}
	p.undecoded(md.Undecoded())
	c := p.catalog(loc)
	if len(p.problems) > 0 {
		// Problems come from several passes; the file's order is the one an
		// editor works through. Problems without a line go last.
		slices.SortStableFunc(p.problems, func(a, b Problem) int {
			return cmp.Compare(lineOrder(a.Line), lineOrder(b.Line))
		})
		return nil, &ValidationError{Problems: p.problems}
	}
	return c, nil
}

func lineOrder(line int) int {
	if line <= 0 {
		return math.MaxInt32
	}
	return line
}

// decodeProblem turns a decoder error into a problem. A syntax error is a
// toml.ParseError with a line; a table where a list of tables belongs (say
// [centers] for [[centers]]) is a plain error whose text holds the line.
func decodeProblem(name string, err error) Problem {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := pe.Message
		if pe.LastKey != "" {
			msg = fmt.Sprintf("%s (after key %s)", msg, pe.LastKey)
		}
		return Problem{File: name, Line: pe.Position.Line, Msg: msg}
	}
	// The text is "toml: line 12 (last key "types"): incompatible types: ...".
	msg := strings.TrimPrefix(err.Error(), "toml: ")
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d", &line); n == 1 {
		if i := strings.Index(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
	}
	field := ""
	if i := strings.Index(err.Error(), `(last key "`); i >= 0 {
		field, _, _ = strings.Cut(err.Error()[i+len(`(last key "`):], `"`)
	}
	if strings.Contains(msg, "destination has type slice") && strings.Contains(msg, "has type map") {
		msg = fmt.Sprintf("write [[%s]] with double brackets: it is a list (incompatible types)", field)
	}
	return Problem{File: name, Line: line, Field: field, Msg: msg}
}

// The raw* types mirror the file. Every value is a rawValue, which takes
// whatever TOML holds, so a value of the wrong type becomes one more problem
// instead of an error that stops the decoder at the first.
type rawCatalog struct {
	Region    rawValue      `toml:"region"`
	TimeZone  rawValue      `toml:"time_zone"`
	Holidays  rawValue      `toml:"holidays"`
	Yearly    rawValue      `toml:"yearly_holidays"`
	Districts []rawDistrict `toml:"districts"`
	Centers   []rawCenter   `toml:"centers"`
	Types     []rawType     `toml:"types"`
	Events    []rawEvent    `toml:"events"`
	HelpLines []rawHelpLine `toml:"help_lines"`
}

type rawHelpLine struct {
	Number      rawValue `toml:"number"`
	Name        rawValue `toml:"name"`
	Description rawValue `toml:"description"`
	Hours       rawValue `toml:"hours"`
	Free        rawValue `toml:"free"`
}

type rawDistrict struct {
	ID   rawValue `toml:"id"`
	Kind rawValue `toml:"kind"`
	Name rawValue `toml:"name"`
}

type rawCenter struct {
	ID           rawValue      `toml:"id"`
	District     rawValue      `toml:"district"`
	Status       rawValue      `toml:"status"`
	OpensNote    rawValue      `toml:"opens_note"`
	Online       rawValue      `toml:"online"`
	Name         rawValue      `toml:"name"`
	Settlement   rawValue      `toml:"settlement"`
	Description  rawValue      `toml:"description"`
	Lat          rawValue      `toml:"lat"`
	Lon          rawValue      `toml:"lon"`
	Address      rawValue      `toml:"address"`
	Phone        rawValue      `toml:"phone"`
	Hours        rawValue      `toml:"hours"`
	Services     rawValue      `toml:"services"`
	StaffChatID  rawValue      `toml:"staff_chat_id"`
	StaffUserIDs rawValue      `toml:"staff_user_ids"`
	Schedules    []rawSchedule `toml:"schedules"`
}

type rawSchedule struct {
	Type        rawValue `toml:"type"`
	Days        rawValue `toml:"days"`
	Open        rawValue `toml:"open"`
	Close       rawValue `toml:"close"`
	BreakStart  rawValue `toml:"break_start"`
	BreakEnd    rawValue `toml:"break_end"`
	SlotMinutes rawValue `toml:"slot_minutes"`
	Capacity    rawValue `toml:"capacity"`
}

type rawType struct {
	ID          rawValue `toml:"id"`
	Emoji       rawValue `toml:"emoji"`
	Name        rawValue `toml:"name"`
	Description rawValue `toml:"description"`
	Bring       rawValue `toml:"bring"`
	Anonymous   rawValue `toml:"anonymous"`
	Discreet    rawValue `toml:"discreet"`
	Letter      rawValue `toml:"letter"`
}

type rawEvent struct {
	ID          rawValue `toml:"id"`
	Center      rawValue `toml:"center"`
	Title       rawValue `toml:"title"`
	Description rawValue `toml:"description"`
	Start       rawValue `toml:"start"`
	Minutes     rawValue `toml:"minutes"`
	Capacity    rawValue `toml:"capacity"`
}

// rawValue holds a TOML value as the decoder produced it: string, int64,
// float64, bool, time.Time, []any or map[string]any.
type rawValue struct {
	v   any
	set bool
}

// UnmarshalTOML implements toml.Unmarshaler; it never fails.
func (r *rawValue) UnmarshalTOML(v any) error {
	r.v, r.set = v, true
	return nil
}

// rawTable returns the raw type of the table at a dotted path.
func rawTable(path string) reflect.Type {
	switch path {
	case "":
		return reflect.TypeFor[rawCatalog]()
	case "districts":
		return reflect.TypeFor[rawDistrict]()
	case "centers":
		return reflect.TypeFor[rawCenter]()
	case "centers.schedules":
		return reflect.TypeFor[rawSchedule]()
	case "types":
		return reflect.TypeFor[rawType]()
	case "events":
		return reflect.TypeFor[rawEvent]()
	case "help_lines":
		return reflect.TypeFor[rawHelpLine]()
	}
	return nil
}

// knownKeys lists the keys a table may hold, for "did you mean".
func knownKeys(path string) []string {
	t := rawTable(path)
	if t == nil {
		return nil
	}
	keys := make([]string, t.NumField())
	for i := range keys {
		keys[i] = t.Field(i).Tag.Get("toml")
	}
	return keys
}

// insideValue reports whether key lies inside a value the parser reads by
// itself, such as "kk" in name = { kk = "..." } or in a list of services:
// the parser checks those keys, the decoder cannot.
func insideValue(k toml.Key) bool {
	for i := 1; i < len(k); i++ {
		t := rawTable(strings.Join(k[:i-1], "."))
		if t == nil {
			return false
		}
		for j := range t.NumField() {
			f := t.Field(j)
			if f.Tag.Get("toml") == k[i-1] && f.Type == reflect.TypeFor[rawValue]() {
				return true
			}
		}
	}
	return false
}

// parser checks a decoded file and builds the catalog from it.
type parser struct {
	file     string
	src      *srcIndex
	raw      *rawCatalog
	problems []Problem
}

// at says where in the file a value lives, for its problems.
type at struct {
	path  string // table path, as in srcEntry
	item  []int
	kind  string
	id    string
	field string // prefix of the field name, e.g. "schedules[2]."
}

func (p *parser) add(w at, key string, format string, args ...any) {
	lineKey, _, _ := strings.Cut(key, "[") // services[2] is on the line of services
	p.problems = append(p.problems, Problem{
		File:  p.file,
		Line:  p.src.line(w.path, w.item, lineKey),
		Kind:  w.kind,
		ID:    w.id,
		Field: w.field + key,
		Msg:   fmt.Sprintf(format, args...),
	})
}

// undecoded reports keys the catalog does not know: mostly typos like
// "latt", which would otherwise be silently ignored.
func (p *parser) undecoded(keys []toml.Key) {
	next := make(map[string]int) // per key path, how many entries are used up
	var reported []string
	for _, k := range keys {
		if insideValue(k) {
			continue
		}
		full := normKey(k.String())
		if slices.ContainsFunc(reported, func(r string) bool { return strings.HasPrefix(full, r+".") }) {
			continue // inside an unknown table already reported
		}
		reported = append(reported, full)
		// The decoder lists keys in file order, and so does the index: the
		// n-th unknown "latt" is on the line of the n-th "latt".
		var e srcEntry
		seen := 0
		for _, cand := range p.src.entries {
			if cand.full() == full {
				if seen == next[full] {
					e = cand
					break
				}
				seen++
			}
		}
		next[full]++
		w, key := p.whereKey(e, k)
		msg := "unknown key"
		if e.line > 0 && e.key == "" {
			msg = "unknown table"
		}
		if s := suggest(key[strings.LastIndex(key, ".")+1:], knownKeys(w.path)); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		p.problems = append(p.problems, Problem{
			File: p.file, Line: e.line, Kind: w.kind, ID: w.id, Field: w.field + key, Msg: msg,
		})
	}
}

// whereKey names the element an unknown key belongs to.
func (p *parser) whereKey(e srcEntry, k toml.Key) (at, string) {
	parent, key := strings.Join(k[:len(k)-1], "."), k[len(k)-1]
	if e.line > 0 {
		parent, key = e.path, e.key
		if key == "" { // an unknown table: report its header
			parent, key = "", e.path
		}
	}
	w := at{path: parent, item: e.item}
	item := func(i int) int {
		if i < len(e.item) {
			return e.item[i]
		}
		return -1
	}
	r := p.raw
	switch parent {
	case "districts":
		if i := item(0); i >= 0 && i < len(r.Districts) {
			w.kind, w.id = "district", idOf(r.Districts[i].ID)
		}
	case "centers":
		if i := item(0); i >= 0 && i < len(r.Centers) {
			w.kind, w.id = "center", idOf(r.Centers[i].ID)
		}
	case "centers.schedules":
		if i := item(0); i >= 0 && i < len(r.Centers) {
			w.kind, w.id = "center", idOf(r.Centers[i].ID)
			w.field = fmt.Sprintf("schedules[%d].", item(1)+1)
		}
	case "types":
		if i := item(0); i >= 0 && i < len(r.Types) {
			w.kind, w.id = "type", idOf(r.Types[i].ID)
		}
	case "events":
		if i := item(0); i >= 0 && i < len(r.Events) {
			w.kind, w.id = "event", idOf(r.Events[i].ID)
		}
	case "help_lines":
		if i := item(0); i >= 0 && i < len(r.HelpLines) {
			w.kind, w.id = "help line", idOf(r.HelpLines[i].Number)
		}
	case "":
	default:
		key = parent + "." + key
	}
	return w, key
}

func idOf(v rawValue) string {
	s, _ := v.v.(string)
	return s
}

// suggest returns the known key closest to an unknown one, if it is close
// enough to be a typo.
func suggest(key string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// catalog checks everything and builds the catalog. The result is only
// meaningful when no problem was found.
func (p *parser) catalog(loc *time.Location) *Catalog {
	r := p.raw
	root := at{}
	c := &Catalog{
		districts: make(map[string]int),
		centers:   make(map[string]int),
		types:     make(map[string]int),
		holidays:  make(map[Date]bool),
		online:    -1,
	}
	c.Region = p.text(root, "region", r.Region, required, MaxNameLen)
	c.TimeZone, c.loc = p.timeZone(root, r.TimeZone)
	if loc != nil {
		c.loc = loc
	}
	c.Holidays = p.holidays(root, r.Holidays)
	for _, d := range c.Holidays {
		c.holidays[d] = true
	}
	c.YearlyHolidays = p.yearlyHolidays(root, r.Yearly)

	firstLine := make(map[string]int) // kind/id -> line of its first definition
	ident := func(w *at, v rawValue, kind string) string {
		id, ok := p.str(*w, "id", v)
		if !ok {
			p.add(*w, "id", "missing id")
			return ""
		}
		w.id = id
		if !validID(id) {
			p.add(*w, "id", "%q is not an id: use 1 to 24 of a-z, 0-9 and _ (ids go into buttons and links)", id)
		}
		line := p.src.line(w.path, w.item, "id")
		if first, dup := firstLine[kind+"/"+id]; dup {
			p.add(*w, "id", "duplicate %s id (first on line %d)", kind, first)
			return ""
		}
		firstLine[kind+"/"+id] = line
		return id
	}

	for i, rd := range r.Districts {
		w := at{path: "districts", item: []int{i}, kind: "district"}
		d := District{ID: ident(&w, rd.ID, "district")}
		d.Name = p.text(w, "name", rd.Name, required, MaxNameLen)
		d.Kind, _ = p.str(w, "kind", rd.Kind)
		if !slices.Contains([]string{KindDistrict, KindCity, KindRegion}, d.Kind) {
			p.add(w, "kind", "%q is not a kind: use %q, %q or %q", d.Kind, KindDistrict, KindCity, KindRegion)
		}
		if d.ID != "" {
			c.districts[d.ID] = len(c.Districts)
		}
		c.Districts = append(c.Districts, d)
	}

	for i, rt := range r.Types {
		w := at{path: "types", item: []int{i}, kind: "type"}
		t := ConsultationType{ID: ident(&w, rt.ID, "type")}
		t.Name = p.text(w, "name", rt.Name, required, MaxNameLen)
		t.Description = p.text(w, "description", rt.Description, bothOrNeither, MaxDescriptionLen)
		t.Bring = p.text(w, "bring", rt.Bring, bothOrNeither, MaxBringLen)
		t.Emoji, _ = p.str(w, "emoji", rt.Emoji)
		t.Anonymous, _ = p.bool(w, "anonymous", rt.Anonymous)
		t.Discreet, _ = p.bool(w, "discreet", rt.Discreet)
		t.Letter = p.text(w, "letter", rt.Letter, bothOrNeither, 1)
		for _, l := range []string{t.Letter.KK, t.Letter.RU} {
			if r, _ := utf8.DecodeRuneInString(l); l != "" && !unicode.IsLetter(r) {
				p.add(w, "letter", "%q is not a letter: the code of an anonymous booking starts with it, like П-4821", l)
			}
		}
		if t.ID != "" {
			c.types[t.ID] = len(c.Types)
		}
		c.Types = append(c.Types, t)
	}

	for i, rc := range r.Centers {
		w := at{path: "centers", item: []int{i}, kind: "center"}
		ce := p.center(w, rc, c, ident(&w, rc.ID, "center"))
		if ce.ID != "" {
			c.centers[ce.ID] = len(c.Centers)
		}
		if ce.Online {
			if c.online >= 0 {
				p.add(w, "online", "a second online desk (the first is %q): keep one", c.Centers[c.online].ID)
			} else {
				c.online = len(c.Centers)
			}
		}
		c.Centers = append(c.Centers, ce)
	}

	for i, re := range r.Events {
		w := at{path: "events", item: []int{i}, kind: "event"}
		c.Events = append(c.Events, p.event(w, re, c, c.loc, ident(&w, re.ID, "event")))
	}

	if len(r.Centers) == 0 {
		p.add(root, "centers", "the catalog has no [[centers]]")
	}
	if len(r.Types) == 0 {
		p.add(root, "types", "the catalog has no consultation [[types]]")
	}

	firstNumber := make(map[string]int) // digits of a number -> line of its first line
	for i, rh := range r.HelpLines {
		w := at{path: "help_lines", item: []int{i}, kind: "help line", id: idOf(rh.Number)}
		h := p.helpLine(w, rh)
		if h.Number != "" {
			digits := strings.ReplaceAll(h.Number, " ", "")
			if first, dup := firstNumber[digits]; dup {
				p.add(w, "number", "the number is listed twice (first on line %d)", first)
			} else {
				firstNumber[digits] = p.src.line(w.path, w.item, "number")
			}
		}
		c.HelpLines = append(c.HelpLines, h)
	}
	switch {
	case len(r.HelpLines) == 0:
		// A person who writes that they want to die must always be shown
		// where to call; a catalog without a line would leave them with
		// nothing, so the bot refuses it rather than start.
		p.add(root, "help_lines", "the catalog has no [[help_lines]]: add at least the national ones (111, 112) that the bot shows to a person in crisis")
	case len(r.HelpLines) > MaxHelpLines:
		p.add(root, "help_lines", "%d help lines: keep it to %d, so the card fits on a phone's screen", len(r.HelpLines), MaxHelpLines)
	}
	return c
}

// helpLine reads one [[help_lines]] entry. Its number stands in for an id in
// problems (w.id): a help line has none, and the number is what an editor
// looks for.
func (p *parser) helpLine(w at, rh rawHelpLine) HelpLine {
	var h HelpLine
	number, ok := p.str(w, "number", rh.Number)
	switch {
	case !ok && !rh.Number.set:
		p.add(w, "number", "missing number, e.g. number = \"111\"")
	case !ok:
	case !validHelpNumber(number):
		p.add(w, "number", "%q is not a number as dialled: use digits and spaces, a + only in front, at least 3 digits", number)
	case len(number) > MaxPhoneLen:
		p.add(w, "number", "%q is %d characters long: keep it to %d, one number", number, len(number), MaxPhoneLen)
	default:
		h.Number = number
	}
	h.Name = p.text(w, "name", rh.Name, required, MaxNameLen)
	h.Description = p.text(w, "description", rh.Description, required, MaxHelpLineDescriptionLen)

	switch v := rh.Hours.v.(type) {
	case nil:
		p.add(w, "hours", "missing hours: \"24/7\" or days and hours like \"mon-fri 09:00-18:00\"")
	case string:
		hours, err := ParseHelpHours(v)
		if err != nil {
			p.add(w, "hours", "%v", err)
		}
		h.Hours = hours
	default:
		p.add(w, "hours", "%s is not hours: write \"24/7\" or \"mon-fri 09:00-18:00\" in quotes", fmtValue(v))
	}

	// Required rather than defaulted: "free" on a card tells a person with
	// no money on the phone that they can still call, so the catalog must
	// say it, not the bot assume it.
	free, ok := p.bool(w, "free", rh.Free)
	if !ok && !rh.Free.set {
		p.add(w, "free", "missing free = true or false: whether calls cost nothing")
	}
	h.Free = free
	return h
}

// validHelpNumber reports whether s is a number as a phone dials it: digits
// and single spaces, a + only in front, 3 to 15 digits (E.164's most).
func validHelpNumber(s string) bool {
	digits := 0
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b >= '0' && b <= '9':
			digits++
		case b == '+' && i == 0:
		case b == ' ' && i > 0 && s[i-1] != ' ' && s[i-1] != '+':
		default:
			return false
		}
	}
	return digits >= 3 && digits <= 15 && s[len(s)-1] != ' '
}

func (p *parser) center(w at, rc rawCenter, c *Catalog, id string) Center {
	ce := Center{ID: id}
	ce.Online, _ = p.bool(w, "online", rc.Online)
	ce.Name = p.text(w, "name", rc.Name, required, MaxNameLen)
	if ce.Online {
		ce.Settlement = p.text(w, "settlement", rc.Settlement, bothOrNeither, MaxSettlementLen)
	} else {
		ce.Settlement = p.text(w, "settlement", rc.Settlement, required, MaxSettlementLen)
	}
	ce.Description = p.text(w, "description", rc.Description, bothOrNeither, MaxDescriptionLen)
	ce.Address = p.text(w, "address", rc.Address, bothOrNeither, MaxAddressLen)
	ce.Hours = p.text(w, "hours", rc.Hours, bothOrNeither, MaxHoursLen)
	ce.OpensNote = p.text(w, "opens_note", rc.OpensNote, bothOrNeither, MaxNoteLen)
	ce.Phone, _ = p.str(w, "phone", rc.Phone)
	switch {
	case strings.Trim(ce.Phone, "+0123456789 -()") != "":
		p.add(w, "phone", "%q is not a phone number: use digits, spaces, + - ( )", ce.Phone)
	case len(ce.Phone) > MaxPhoneLen:
		p.add(w, "phone", "%q is %d characters long: keep it to %d, one number", ce.Phone, len(ce.Phone), MaxPhoneLen)
	}

	district, ok := p.str(w, "district", rc.District)
	switch {
	case ok && district != "":
		if _, known := c.districts[district]; !known {
			p.add(w, "district", "unknown district %q: add it under [[districts]]", district)
		}
	case !ce.Online:
		p.add(w, "district", "missing district")
	}
	ce.DistrictID = district

	status, ok := p.str(w, "status", rc.Status)
	ce.Status = Status(status)
	switch {
	case !ok && !rc.Status.set:
		ce.Status = StatusOpen // the usual case need not be spelled out
	case ce.Status != StatusOpen && ce.Status != StatusOpeningSoon:
		p.add(w, "status", "%q is not a status: use %q or %q", status, StatusOpen, StatusOpeningSoon)
	case ce.Online && ce.Status != StatusOpen:
		p.add(w, "status", "the online desk is always %q", StatusOpen)
	}

	lat, latOK := p.float(w, "lat", rc.Lat)
	lon, lonOK := p.float(w, "lon", rc.Lon)
	if ce.Online {
		if rc.Lat.set || rc.Lon.set {
			p.add(w, "lat", "the online desk has no place on the map: remove lat and lon")
		}
	} else {
		p.coordinate(w, "lat", rc.Lat, lat, latOK, 90)
		p.coordinate(w, "lon", rc.Lon, lon, lonOK, 180)
	}
	ce.Lat, ce.Lon = lat, lon

	services := p.list(w, "services", rc.Services)
	if len(services) > MaxServices {
		p.add(w, "services", "%d services: keep it to %d, or the center's card exceeds Telegram's message limit", len(services), MaxServices)
	}
	for i, v := range services {
		ce.Services = append(ce.Services, p.text(w, fmt.Sprintf("services[%d]", i+1), rawValue{v: v, set: true}, required, MaxServiceLen))
	}

	ce.StaffChatID, _ = p.int(w, "staff_chat_id", rc.StaffChatID)
	for _, v := range p.list(w, "staff_user_ids", rc.StaffUserIDs) {
		n, ok := v.(int64)
		if !ok || n <= 0 {
			p.add(w, "staff_user_ids", "%v is not a Telegram user id (a positive whole number)", v)
			continue
		}
		ce.StaffUserIDs = append(ce.StaffUserIDs, n)
	}

	if len(rc.Schedules) > 0 && ce.Status != StatusOpen {
		p.add(at{path: "centers.schedules", item: append(slices.Clone(w.item), 0), kind: w.kind, id: w.id}, "",
			"a center opening soon takes no bookings: set status = %q when it opens, or remove its schedules", StatusOpen)
	}
	seen := make(map[string]bool)
	for j, rs := range rc.Schedules {
		sw := at{path: "centers.schedules", item: append(slices.Clone(w.item), j), kind: w.kind, id: w.id,
			field: fmt.Sprintf("schedules[%d].", j+1)}
		s := p.schedule(sw, rs, c)
		if s.Type != "" && seen[s.Type] {
			p.add(sw, "type", "a second schedule for %q: put all its days in one", s.Type)
		}
		seen[s.Type] = true
		ce.Schedules = append(ce.Schedules, s)
	}
	return ce
}

func (p *parser) coordinate(w at, key string, v rawValue, x float64, ok bool, limit float64) {
	switch {
	case !v.set:
		p.add(w, key, "missing %s: every center but the online desk needs coordinates", key)
	case !ok:
		// p.float has reported it
	case !(x >= -limit && x <= limit): // also catches nan
		p.add(w, key, "%v is out of range %v..%v", x, -limit, limit)
	}
}

// parseWeekday reads the three-letter English day names of the file.
func parseWeekday(s string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(s, d.String()[:3]) {
			return d, true
		}
	}
	return 0, false
}

func (p *parser) schedule(w at, rs rawSchedule, c *Catalog) Schedule {
	var s Schedule
	s.Type, _ = p.str(w, "type", rs.Type)
	if _, ok := c.types[s.Type]; !ok {
		if s.Type == "" {
			p.add(w, "type", "missing consultation type")
		} else {
			p.add(w, "type", "unknown consultation type %q: add it under [[types]]", s.Type)
		}
	}
	for _, v := range p.list(w, "days", rs.Days) {
		name, _ := v.(string)
		wd, ok := parseWeekday(name)
		switch {
		case !ok:
			p.add(w, "days", "%v is not a weekday: use mon, tue, wed, thu, fri, sat, sun", fmtValue(v))
		case slices.Contains(s.Days, wd):
			p.add(w, "days", "%q is listed twice", name)
		default:
			s.Days = append(s.Days, wd)
		}
	}
	if len(s.Days) == 0 && rs.Days.set {
		p.add(w, "days", "no working days")
	} else if !rs.Days.set {
		p.add(w, "days", "missing days, e.g. days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]")
	}

	var okOpen, okClose bool
	s.Open, okOpen = p.clock(w, "open", rs.Open, true)
	s.Close, okClose = p.clock(w, "close", rs.Close, true)
	if okOpen && okClose && s.Close <= s.Open {
		p.add(w, "close", "closes at %v, not after it opens at %v", s.Close, s.Open)
		okClose = false
	}
	bs, okBS := p.clock(w, "break_start", rs.BreakStart, false)
	be, okBE := p.clock(w, "break_end", rs.BreakEnd, false)
	switch {
	case rs.BreakStart.set != rs.BreakEnd.set:
		p.add(w, "break_end", "give both break_start and break_end, or neither")
	case !rs.BreakStart.set || !okBS || !okBE:
	case be <= bs:
		p.add(w, "break_end", "the break ends at %v, not after it starts at %v", be, bs)
	case okOpen && okClose && (bs <= s.Open || be >= s.Close):
		p.add(w, "break_start", "the break %v-%v is not inside the hours %v-%v", bs, be, s.Open, s.Close)
	default:
		s.BreakStart, s.BreakEnd = bs, be
	}

	slot, okSlot := p.int(w, "slot_minutes", rs.SlotMinutes)
	s.SlotMinutes = int(slot)
	switch {
	case !rs.SlotMinutes.set:
		p.add(w, "slot_minutes", "missing slot_minutes, e.g. 60")
	case !okSlot:
	case slot <= 0:
		p.add(w, "slot_minutes", "%d is not a slot length: give minutes, e.g. 30, 45 or 60", slot)
	case okOpen && okClose && slot > int64(s.Close-s.Open):
		p.add(w, "slot_minutes", "a %d-minute slot does not fit in the hours %v-%v", slot, s.Open, s.Close)
	case okOpen && okClose && len(s.Slots()) == 0:
		p.add(w, "slot_minutes", "no %d-minute slot fits around the break", slot)
	}

	capacity, okCap := p.int(w, "capacity", rs.Capacity)
	s.Capacity = int(capacity)
	switch {
	case !rs.Capacity.set:
		p.add(w, "capacity", "missing capacity: how many specialists consult at once")
	case okCap && capacity < 1:
		p.add(w, "capacity", "%d is not a capacity: at least 1 specialist", capacity)
	}
	return s
}

// eventLayout is how event starts are written: local wall clock.
const eventLayout = "2006-01-02 15:04"

func (p *parser) event(w at, re rawEvent, c *Catalog, loc *time.Location, id string) EventSeed {
	e := EventSeed{ID: id}
	e.Title = p.text(w, "title", re.Title, required, MaxNameLen)
	e.Description = p.text(w, "description", re.Description, bothOrNeither, MaxDescriptionLen)
	center, ok := p.str(w, "center", re.Center)
	switch {
	case !ok || center == "":
		p.add(w, "center", "missing center")
	default:
		if _, known := c.centers[center]; !known {
			p.add(w, "center", "unknown center %q", center)
		}
	}
	e.CenterID = center

	switch v := re.Start.v.(type) {
	case nil:
		p.add(w, "start", "missing start, e.g. start = \"2026-12-05 15:00\"")
	case string:
		if loc == nil {
			break // the time zone is broken and reported already
		}
		t, err := time.ParseInLocation(eventLayout, v, loc)
		if err != nil {
			p.add(w, "start", "%q is not a start like \"2026-12-05 15:00\"", v)
		}
		e.Start = t
	case time.Time:
		// A TOML date-time without offset is wall clock in the catalog's zone.
		if loc != nil {
			y, m, d := v.Date()
			e.Start = time.Date(y, m, d, v.Hour(), v.Minute(), 0, 0, loc)
		}
	default:
		p.add(w, "start", "%s is not a start like \"2026-12-05 15:00\"", fmtValue(v))
	}

	minutes, ok := p.int(w, "minutes", re.Minutes)
	e.Minutes = int(minutes)
	if !re.Minutes.set {
		p.add(w, "minutes", "missing minutes: how long the event lasts")
	} else if ok && minutes < 1 {
		p.add(w, "minutes", "%d is not a length: at least 1 minute", minutes)
	}
	capacity, ok := p.int(w, "capacity", re.Capacity)
	e.Capacity = int(capacity)
	if !re.Capacity.set {
		p.add(w, "capacity", "missing capacity: how many people can register")
	} else if ok && capacity < 1 {
		p.add(w, "capacity", "%d is not a capacity: at least 1 place", capacity)
	}
	return e
}

func (p *parser) timeZone(w at, v rawValue) (string, *time.Location) {
	name, ok := p.str(w, "time_zone", v)
	switch {
	case !ok:
		p.add(w, "time_zone", "missing time_zone, e.g. \"Asia/Almaty\"")
		return name, nil
	case name == "" || name == "Local":
		// LoadLocation reads "" as UTC and "Local" as the server's zone:
		// neither is what an editor means.
		p.add(w, "time_zone", "%q is not a time zone: use a name like \"Asia/Almaty\"", name)
		return name, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		p.add(w, "time_zone", "unknown time zone %q: use a name like \"Asia/Almaty\"", name)
		return name, nil
	}
	return name, loc
}

func (p *parser) holidays(w at, v rawValue) []Date {
	var out []Date
	for _, h := range p.list(w, "holidays", v) {
		var d Date
		switch h := h.(type) {
		case string:
			var err error
			if d, err = ParseDate(h); err != nil {
				p.problems = append(p.problems, Problem{File: p.file, Line: p.src.valueLine("", nil, "holidays", h),
					Field: "holidays", Msg: err.Error()})
				continue
			}
		case time.Time: // a TOML local date, written without quotes
			d = DateOf(h)
		default:
			p.add(w, "holidays", "%s is not a date like \"2026-12-16\"", fmtValue(h))
			continue
		}
		if slices.Contains(out, d) {
			p.problems = append(p.problems, Problem{File: p.file, Line: p.src.valueLine("", nil, "holidays", d.String()),
				Field: "holidays", Msg: fmt.Sprintf("%v is listed twice", d)})
			continue
		}
		out = append(out, d)
	}
	return out
}

// yearlyHolidays reads the days off that fall on the same date every year,
// written "01-01" (month-day), so they never run out the way a per-year list
// does.
func (p *parser) yearlyHolidays(w at, v rawValue) []MonthDay {
	var out []MonthDay
	for _, h := range p.list(w, "yearly_holidays", v) {
		s, ok := h.(string)
		if !ok {
			p.add(w, "yearly_holidays", "%s is not a day like \"12-16\" (month-day)", fmtValue(h))
			continue
		}
		md, err := ParseMonthDay(s)
		if err != nil {
			p.problems = append(p.problems, Problem{File: p.file, Line: p.src.valueLine("", nil, "yearly_holidays", s),
				Field: "yearly_holidays", Msg: err.Error()})
			continue
		}
		if slices.Contains(out, md) {
			p.problems = append(p.problems, Problem{File: p.file, Line: p.src.valueLine("", nil, "yearly_holidays", s),
				Field: "yearly_holidays", Msg: fmt.Sprintf("%v is listed twice", md)})
			continue
		}
		out = append(out, md)
	}
	return out
}

// validID reports whether s fits ^[a-z0-9_]{1,24}$: ids travel in callback
// data (64 bytes at most) and in deep links "center_<id>", which allow only
// A-Z a-z 0-9 _ - and 64 characters.
// https://core.telegram.org/bots/features#deep-linking
func validID(s string) bool {
	if len(s) < 1 || len(s) > 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !('a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '_') {
			return false
		}
	}
	return true
}

// Typed readers. Each reports a value of the wrong type and returns ok=false
// for it and for a missing value; the caller decides whether missing is wrong.

func (p *parser) str(w at, key string, v rawValue) (string, bool) {
	if !v.set {
		return "", false
	}
	s, ok := v.v.(string)
	if !ok {
		p.add(w, key, "%s is not a string: put it in quotes", fmtValue(v.v))
		return "", false
	}
	return strings.TrimSpace(s), true
}

func (p *parser) int(w at, key string, v rawValue) (int64, bool) {
	if !v.set {
		return 0, false
	}
	n, ok := v.v.(int64)
	if !ok {
		p.add(w, key, "%s is not a whole number", fmtValue(v.v))
	}
	return n, ok
}

func (p *parser) float(w at, key string, v rawValue) (float64, bool) {
	switch x := v.v.(type) {
	case nil:
		return 0, false
	case float64:
		return x, true
	case int64: // lat = 43 is an integer in TOML
		return float64(x), true
	}
	p.add(w, key, "%s is not a number", fmtValue(v.v))
	return 0, false
}

func (p *parser) bool(w at, key string, v rawValue) (bool, bool) {
	if !v.set {
		return false, false
	}
	b, ok := v.v.(bool)
	if !ok {
		p.add(w, key, "%s is not true or false", fmtValue(v.v))
	}
	return b, ok
}

func (p *parser) list(w at, key string, v rawValue) []any {
	switch x := v.v.(type) {
	case nil:
		return nil
	case []any:
		return x
	case []map[string]any: // an array of inline tables
		out := make([]any, len(x))
		for i, m := range x {
			out[i] = m
		}
		return out
	}
	p.add(w, key, "%s is not a list: use [ ... ]", fmtValue(v.v))
	return nil
}

func (p *parser) clock(w at, key string, v rawValue, needed bool) (Clock, bool) {
	switch x := v.v.(type) {
	case nil:
		if needed {
			p.add(w, key, "missing %s, e.g. \"09:00\"", key)
		}
		return 0, false
	case string:
		c, err := ParseClock(strings.TrimSpace(x))
		if err != nil {
			p.add(w, key, "%v", err)
			return 0, false
		}
		return c, true
	}
	p.add(w, key, "%s is not a time: write it in quotes, like \"09:00\"", fmtValue(v.v))
	return 0, false
}

type textRule int

const (
	required      textRule = iota // both languages
	bothOrNeither                 // optional, but never in one language only
)

// text reads a text in both languages; each may be at most max UTF-16
// code units long (see MaxNameLen).
func (p *parser) text(w at, key string, v rawValue, rule textRule, max int) Text {
	var t Text
	switch x := v.v.(type) {
	case nil:
		if rule == required {
			p.add(w, key, "missing %s = { kk = \"...\", ru = \"...\" }", key)
		}
		return t
	case map[string]any:
		// Sorted, so problems come out in the same order every run.
		for _, lang := range slices.Sorted(maps.Keys(x)) {
			val := x[lang]
			s, ok := val.(string)
			switch {
			case lang != string(Kazakh) && lang != string(Russian):
				p.add(w, key, "unknown language %q: use kk and ru", lang)
			case !ok:
				p.add(w, key, "%s.%s: %s is not a string: put it in quotes", key, lang, fmtValue(val))
				return t // reported; "missing" would say it twice
			case lang == string(Kazakh):
				t.KK = strings.TrimSpace(s)
			default:
				t.RU = strings.TrimSpace(s)
			}
		}
		for _, x := range []struct{ lang, name, s string }{{"kk", "Kazakh", t.KK}, {"ru", "Russian", t.RU}} {
			if n := utf16Len(x.s); n > max {
				p.add(w, key, "the %s text (%s) is %d characters long: keep it to %d (an emoji counts as two), or the bot's messages exceed Telegram's limits",
					x.name, x.lang, n, max)
			}
		}
	default:
		p.add(w, key, "%s is not a text in two languages: write { kk = \"...\", ru = \"...\" }", fmtValue(v.v))
		return t
	}
	if rule == required || !t.IsZero() {
		if t.KK == "" {
			p.add(w, key, "missing the Kazakh text (kk)")
		}
		if t.RU == "" {
			p.add(w, key, "missing the Russian text (ru)")
		}
	}
	return t
}

// utf16Len is the length of s as Telegram counts it: in UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// fmtValue shows a TOML value in a problem the way the file has it.
func fmtValue(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case map[string]any:
		return "a table"
	case []any, []map[string]any:
		return "a list"
	case time.Time:
		return "a date/time"
	}
	return fmt.Sprint(v)
}
