// Package catalog owns the static catalog a region runs the bot with: its
// districts, youth resource centers (with their weekly consultation
// schedules), consultation types, public holidays, seed events and the help
// lines the bot shows a person in crisis.
//
// The catalog is one TOML file that a regional youth-policy office edits
// without a programmer; default.toml, embedded in the binary, is the catalog
// of Almaty region and documents the format. Parse and Load check the whole
// file and report every problem with its line, so one run of the bot lists
// everything an editor has to fix.
//
// A Catalog is immutable once loaded and safe for concurrent use. The
// slices inside the values it returns are shared with it: do not modify them.
//
// What staff change of a center in the bot (its card, closures, extra
// sessions: storage/center.go) is applied here, by pure functions (CardOf,
// Availability, Rebook), so every card, list and reminder agrees.
//
// The package imports only storage, for that vocabulary: storage imports
// nothing of ours, and bot, scheduler and main may all import this.
package catalog

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Lang is a language the bot speaks, as stored in a user's record.
type Lang string

// The two languages of the bot. Telegram's language_code uses the same codes.
const (
	Kazakh  Lang = "kk"
	Russian Lang = "ru"
)

// Text is a string in both languages of the bot. In TOML it is an inline
// table: { kk = "...", ru = "..." }.
type Text struct {
	KK, RU string
}

// In returns the text in lang ("kk" or "ru"; anything else counts as
// Kazakh, the state language). It falls back to the other language only when
// the requested one is empty, so an optional text filled in one language is
// still shown rather than lost.
func (t Text) In(lang string) string {
	first, second := t.KK, t.RU
	if lang == string(Russian) {
		first, second = t.RU, t.KK
	}
	if first != "" {
		return first
	}
	return second
}

// IsZero reports whether the text is empty in both languages, which for
// address, phone and hours means "unknown: ask the center".
func (t Text) IsZero() bool { return t.KK == "" && t.RU == "" }

// Status says whether a center already works.
type Status string

// Center statuses. A center opening soon is listed and shown on the map, but
// takes no bookings and has no schedule.
const (
	StatusOpen        Status = "open"
	StatusOpeningSoon Status = "opening_soon"
)

// District kinds: a district (аудан / район), a city of regional
// significance, or a whole region, for a center outside the home region.
const (
	KindDistrict = "district"
	KindCity     = "city"
	KindRegion   = "region"
)

// District is an administrative unit that centers belong to; people who do
// not share their location pick one.
type District struct {
	ID   string
	Name Text
	Kind string // KindDistrict, KindCity or KindRegion
}

// Center is a youth resource center, a coworking center, or the online desk.
//
// Address, Phone and Hours are empty when unknown: the bot then says "ask the
// center" and never invents them.
type Center struct {
	ID          string
	DistrictID  string // empty only for the online desk
	Name        Text
	Settlement  Text
	Description Text

	Lat, Lon float64
	// Online marks the online desk: it has no coordinates and is never in a
	// location or district list, only offered when booking a consultation.
	Online bool

	Address Text
	Phone   string
	Hours   Text

	Services  []Text
	Status    Status
	OpensNote Text // when a center opening soon is expected, e.g. "2026"

	// StaffChatID is the Telegram group that hears about this center's
	// bookings; 0 means the bot-wide staff chat from the configuration.
	StaffChatID int64
	// StaffUserIDs are the Telegram users allowed to run staff commands for
	// this center.
	StaffUserIDs []int64

	Schedules []Schedule
}

// Length limits of catalog texts, in UTF-16 code units as Telegram counts
// them (an emoji counts two). Parse refuses longer texts, so that every
// message the bot composes from the catalog stays under Telegram's limit of
// 4096 (https://core.telegram.org/bots/api#sendmessage): a center's card
// with every field at its limit stays below it, which the bot's tests check.
const (
	MaxNameLen        = 100 // names of the region, districts, centers and types; event titles
	MaxSettlementLen  = 50  // also a button label
	MaxAddressLen     = 150
	MaxHoursLen       = 100
	MaxNoteLen        = 100  // opens_note
	MaxDescriptionLen = 1000 // of centers, types and events, as for events staff add
	MaxBringLen       = 300  // what to bring to a consultation
	MaxServiceLen     = 80   // one entry of a center's services
	MaxServices       = 15   // entries of a center's services
	MaxPhoneLen       = 30   // one phone number
	// MaxHelpLineDescriptionLen keeps the help-lines card short: a person
	// in crisis reads it on a phone, and every line must fit on one screen.
	MaxHelpLineDescriptionLen = 200
	// MaxHelpLines bounds the card for the same reason.
	MaxHelpLines = 8
)

// IsOpen reports whether the center works now (rather than opening soon).
func (c Center) IsOpen() bool { return c.Status == StatusOpen }

// Schedule is a center's weekly timetable for one consultation type.
type Schedule struct {
	Type        string // consultation type id
	Days        []time.Weekday
	Open, Close Clock
	SlotMinutes int
	// Capacity is how many specialists consult at once, which is how many
	// bookings one slot takes.
	Capacity int
	// BreakStart and BreakEnd are an optional lunch break; no slot overlaps
	// it. Both are zero when there is no break.
	BreakStart, BreakEnd Clock
}

// HasBreak reports whether the schedule has a lunch break.
func (s Schedule) HasBreak() bool { return s.BreakEnd > s.BreakStart }

// OpenOn reports whether the schedule works on weekday wd. Holidays are the
// catalog's business: see Catalog.IsHoliday.
func (s Schedule) OpenOn(wd time.Weekday) bool { return slices.Contains(s.Days, wd) }

// Slots returns the start of every slot of a working day in order. Slots run
// back to back from Open; one that would overlap the break starts at its end
// instead, and one that would run past Close is dropped.
func (s Schedule) Slots() []Clock {
	if s.SlotMinutes <= 0 {
		return nil
	}
	var out []Clock
	step := Clock(s.SlotMinutes)
	for t := s.Open; t+step <= s.Close; {
		if s.HasBreak() && t < s.BreakEnd && t+step > s.BreakStart {
			t = s.BreakEnd
			continue
		}
		out = append(out, t)
		t += step
	}
	return out
}

// ConsultationType is a kind of free consultation: career, legal,
// psychology, and whatever else a region's centers offer.
type ConsultationType struct {
	ID          string
	Name        Text
	Description Text
	Bring       Text // what to bring, e.g. the ID card
	Emoji       string
	// Anonymous lets a person book without staff seeing their name,
	// username or phone: staff see a short code instead, which the person
	// says at the desk. Many young people come to a psychologist only if
	// nobody has to know their name.
	Anonymous bool
	// Discreet keeps the type's name out of places others may read over a
	// shoulder: notification previews on the person's phone (reminders say
	// "consultation at <center>") and the preview line of a staff group
	// notice.
	Discreet bool
	// Letter starts the code of an anonymous booking ("П" of "П-4821"), one
	// letter in each language; empty to take the first letter of the name.
	Letter Text
}

// CodeLetter returns the letter that starts the code of an anonymous
// booking of this type for staff who read lang: Letter, or else the first
// letter of the name.
func (t ConsultationType) CodeLetter(lang string) string {
	if l := t.Letter.In(lang); l != "" {
		return l
	}
	for _, r := range t.Name.In(lang) {
		if unicode.IsLetter(r) {
			return string(unicode.ToUpper(r))
		}
	}
	return ""
}

// HelpLine is a phone line the bot shows to a person who may be in danger:
// a national contact center, emergencies, a region's psychological support.
// The bot points to these lines; it is not a crisis service itself.
type HelpLine struct {
	// Number is the number as dialled: "111", "+7 727 000 00 00".
	Number      string
	Name        Text
	Description Text // what the line is for, and who answers
	Hours       HelpHours
	Free        bool // calls cost nothing from any phone
}

// HelpHours is when a help line answers: around the clock, or on some
// weekdays between two times of day. In TOML it is a string: "24/7",
// "09:00-18:00" (every day) or "mon-fri 09:00-18:00" ("mon,wed,fri ..."
// lists days one by one).
type HelpHours struct {
	Always bool           // 24/7: Days, Open and Close are unused
	Days   []time.Weekday // in week order from Monday
	// Open and Close are the times of day it answers; Close may be "24:00".
	Open, Close Clock
}

// OpenAt reports whether the line answers at t; t must be in the catalog's
// location.
func (h HelpHours) OpenAt(t time.Time) bool {
	if h.Always {
		return true
	}
	now := Clock(t.Hour()*60 + t.Minute())
	return slices.Contains(h.Days, t.Weekday()) && h.Open <= now && now < h.Close
}

// String writes the hours back in the catalog's form, "24/7" or
// "mon-fri 09:00-18:00".
func (h HelpHours) String() string {
	if h.Always {
		return HoursAlways
	}
	return formatDays(h.Days) + " " + h.Open.String() + "-" + h.Close.String()
}

// HoursAlways is how the catalog writes a line that answers around the clock.
const HoursAlways = "24/7"

// ParseHelpHours parses "24/7", "09:00-18:00", "mon-fri 09:00-18:00" or
// "mon,wed,fri 10:00-14:00". Days default to the whole week; the line must
// close after it opens (an overnight line is two lines' worth of hours, and
// 24/7 covers the usual case).
func ParseHelpHours(s string) (HelpHours, error) {
	const form = `use "24/7" or days and hours like "mon-fri 09:00-18:00"`
	s = strings.TrimSpace(s)
	if s == HoursAlways {
		return HelpHours{Always: true}, nil
	}
	days, span, ok := strings.Cut(s, " ")
	if !ok {
		days, span = "mon-sun", s
	}
	var h HelpHours
	var err error
	if h.Days, err = parseDays(strings.TrimSpace(days)); err != nil {
		return HelpHours{}, fmt.Errorf("%q: %v: %s", s, err, form)
	}
	from, to, ok := strings.Cut(strings.TrimSpace(span), "-")
	if !ok {
		return HelpHours{}, fmt.Errorf("%q is not hours: %s", s, form)
	}
	if h.Open, err = ParseClock(strings.TrimSpace(from)); err != nil {
		return HelpHours{}, fmt.Errorf("%v: %s", err, form)
	}
	if h.Close, err = ParseClock(strings.TrimSpace(to)); err != nil {
		return HelpHours{}, fmt.Errorf("%v: %s", err, form)
	}
	if h.Close <= h.Open {
		return HelpHours{}, fmt.Errorf("%q closes at %v, not after it opens at %v", s, h.Close, h.Open)
	}
	return h, nil
}

// fromMonday numbers the days as Kazakhstan's calendars print the week:
// Monday 0 to Sunday 6. dayFromMonday is its inverse.
func fromMonday(wd time.Weekday) int   { return (int(wd) + 6) % 7 }
func dayFromMonday(i int) time.Weekday { return time.Weekday((i + 1) % 7) }

// parseDays reads "mon-fri" (a range within one week from Monday) or
// "mon,wed,fri" and returns the days in week order.
func parseDays(s string) ([]time.Weekday, error) {
	pos := func(name string) (int, error) {
		wd, ok := parseWeekday(strings.TrimSpace(name))
		if !ok {
			return 0, fmt.Errorf("%q is not a weekday (mon, tue, wed, thu, fri, sat, sun)", name)
		}
		return fromMonday(wd), nil
	}
	var in [7]bool
	if from, to, ok := strings.Cut(s, "-"); ok {
		a, err := pos(from)
		if err != nil {
			return nil, err
		}
		b, err := pos(to)
		if err != nil {
			return nil, err
		}
		if b < a {
			return nil, fmt.Errorf("%q runs backwards: the week starts on mon", s)
		}
		for i := a; i <= b; i++ {
			in[i] = true
		}
	} else {
		for _, name := range strings.Split(s, ",") {
			i, err := pos(name)
			if err != nil {
				return nil, err
			}
			if in[i] {
				return nil, fmt.Errorf("%q lists %s twice", s, strings.TrimSpace(name))
			}
			in[i] = true
		}
	}
	var out []time.Weekday
	for i, ok := range in {
		if ok {
			out = append(out, dayFromMonday(i))
		}
	}
	return out, nil
}

// formatDays writes days as parseDays reads them, a range when they are
// consecutive.
func formatDays(days []time.Weekday) string {
	idx := make([]int, 0, len(days))
	for _, d := range days {
		idx = append(idx, fromMonday(d))
	}
	slices.Sort(idx)
	name := func(i int) string { return strings.ToLower(dayFromMonday(i).String()[:3]) }
	if len(idx) > 1 && idx[len(idx)-1]-idx[0] == len(idx)-1 {
		return name(idx[0]) + "-" + name(idx[len(idx)-1])
	}
	names := make([]string, len(idx))
	for i, x := range idx {
		names[i] = name(x)
	}
	return strings.Join(names, ",")
}

// EventSeed is an event the catalog ships with. Staff add and edit the rest
// in the bot; the store copies seeds once, keyed by ID.
type EventSeed struct {
	ID          string
	CenterID    string
	Title       Text
	Description Text
	Start       time.Time // in the catalog's location
	Minutes     int
	Capacity    int
}

// End returns when the event ends.
func (e EventSeed) End() time.Time { return e.Start.Add(time.Duration(e.Minutes) * time.Minute) }

// Catalog is a region's whole catalog. Build it with Parse, Load or Default;
// the zero value has no indexes.
type Catalog struct {
	Region    Text
	TimeZone  string // IANA name, e.g. "Asia/Almaty"
	Districts []District
	Centers   []Center
	Types     []ConsultationType
	Holidays  []Date // days off besides the weekly ones: moving holidays and the year's transfers
	// YearlyHolidays fall on the same date every year (1 January, 16
	// December...), so they hold for any year without being listed.
	YearlyHolidays []MonthDay
	Events         []EventSeed
	// HelpLines are the phone lines for a person in crisis, in file order;
	// a valid catalog has at least one.
	HelpLines []HelpLine

	loc       *time.Location
	districts map[string]int
	centers   map[string]int
	types     map[string]int
	holidays  map[Date]bool
	online    int // index of the online desk, -1 without one
}

// Location returns the time zone events were read in: the one Parse was
// given, or TimeZone when it was given nil.
func (c *Catalog) Location() *time.Location { return c.loc }

// Center returns the center with the given id.
func (c *Catalog) Center(id string) (Center, bool) {
	i, ok := c.centers[id]
	if !ok {
		return Center{}, false
	}
	return c.Centers[i], true
}

// District returns the district with the given id.
func (c *Catalog) District(id string) (District, bool) {
	i, ok := c.districts[id]
	if !ok {
		return District{}, false
	}
	return c.Districts[i], true
}

// Type returns the consultation type with the given id.
func (c *Catalog) Type(id string) (ConsultationType, bool) {
	i, ok := c.types[id]
	if !ok {
		return ConsultationType{}, false
	}
	return c.Types[i], true
}

// CentersIn returns the centers of a district, open ones first, each group
// in file order. The online desk is never among them.
func (c *Catalog) CentersIn(districtID string) []Center {
	return c.listed(func(ce Center) bool { return ce.DistrictID == districtID })
}

// ListedCenters returns every center but the online desk, open ones first,
// each group in file order: the full list for someone far from all of them.
func (c *Catalog) ListedCenters() []Center {
	return c.listed(func(Center) bool { return true })
}

// listed returns the centers keep accepts, the online desk never, open ones
// first, each group in file order.
func (c *Catalog) listed(keep func(Center) bool) []Center {
	var out []Center
	for _, ce := range c.Centers {
		if !ce.Online && keep(ce) {
			out = append(out, ce)
		}
	}
	slices.SortStableFunc(out, func(a, b Center) int { return cmp.Compare(statusRank(a), statusRank(b)) })
	return out
}

func statusRank(c Center) int {
	if c.IsOpen() {
		return 0
	}
	return 1
}

// ListedDistricts returns, in file order, the districts that have at least
// one center other than the online desk: the ones worth a button when a
// person picks a district instead of sharing a location.
func (c *Catalog) ListedDistricts() []District {
	has := make(map[string]bool)
	for _, ce := range c.Centers {
		if !ce.Online {
			has[ce.DistrictID] = true
		}
	}
	var out []District
	for _, d := range c.Districts {
		if has[d.ID] {
			out = append(out, d)
		}
	}
	return out
}

// OnlineDesk returns the center that consults online, if the catalog has one.
func (c *Catalog) OnlineDesk() (Center, bool) {
	if c.online < 0 || c.online >= len(c.Centers) {
		return Center{}, false
	}
	return c.Centers[c.online], true
}

// IsHoliday reports whether d is a public holiday (or a day off carried over
// from one), when no center takes bookings.
func (c *Catalog) IsHoliday(d Date) bool {
	return c.holidays[d] || slices.Contains(c.YearlyHolidays, MonthDay{d.Month, d.Day})
}

// YearsWithoutDatedHolidays returns those of now's year and the next for
// which the catalog lists no dated holiday: the moving ones (Kurban ait)
// and the government's transfers are decreed year by year, and a year
// without any almost certainly means the operator has not added them yet.
// The yearly holidays still hold, so this is a warning, not an error.
func (c *Catalog) YearsWithoutDatedHolidays(now time.Time) []int {
	var missing []int
	for _, y := range []int{now.In(c.loc).Year(), now.In(c.loc).Year() + 1} {
		if !slices.ContainsFunc(c.Holidays, func(d Date) bool { return d.Year == y }) {
			missing = append(missing, y)
		}
	}
	return missing
}

// ScheduleFor returns a center's schedule for a consultation type; false when
// the center does not offer it.
func (c *Catalog) ScheduleFor(centerID, typeID string) (Schedule, bool) {
	ce, ok := c.Center(centerID)
	if !ok {
		return Schedule{}, false
	}
	for _, s := range ce.Schedules {
		if s.Type == typeID {
			return s, true
		}
	}
	return Schedule{}, false
}

// ConsultingAt reports whether a specialist of an open center consults at
// t by one of its weekly schedules: a working day of it that is no holiday,
// between its open and close, outside its break. It is the one thing the
// catalog knows for sure about whether the center's doors are open at t
// (its hours are free text for people to read).
func (c *Catalog) ConsultingAt(centerID string, t time.Time) bool {
	ce, ok := c.Center(centerID)
	if !ok || !ce.IsOpen() {
		return false
	}
	t = t.In(c.loc)
	if c.IsHoliday(DateOf(t)) {
		return false
	}
	now := Clock(t.Hour()*60 + t.Minute())
	for _, s := range ce.Schedules {
		if s.OpenOn(t.Weekday()) && s.Open <= now && now < s.Close && !(s.HasBreak() && s.BreakStart <= now && now < s.BreakEnd) {
			return true
		}
	}
	return false
}

// OpenCenterOffers reports whether any open center (the online desk
// included) takes bookings of the type: the booking dialogue asks it of
// every type on its first step, and CentersOffering copied every center to
// answer it.
func (c *Catalog) OpenCenterOffers(typeID string) bool {
	return slices.ContainsFunc(c.Centers, func(ce Center) bool {
		return ce.IsOpen() && slices.ContainsFunc(ce.Schedules, func(s Schedule) bool { return s.Type == typeID })
	})
}

// CentersOffering returns, in file order, the centers with a schedule for a
// consultation type. The online desk is included when it offers the type;
// its Online field tells it apart.
func (c *Catalog) CentersOffering(typeID string) []Center {
	offers := func(ce *Center) bool {
		return slices.ContainsFunc(ce.Schedules, func(s Schedule) bool { return s.Type == typeID })
	}
	// Counted first: a Center is large, and growing the slice copied them
	// over and over on every step of a booking.
	n := 0
	for i := range c.Centers {
		if offers(&c.Centers[i]) {
			n++
		}
	}
	out := make([]Center, 0, n)
	for i := range c.Centers {
		if offers(&c.Centers[i]) {
			out = append(out, c.Centers[i])
		}
	}
	return out
}

// Nearby is a center and its distance from a person.
type Nearby struct {
	Center Center
	Km     float64
}

// EarthRadiusKm is the mean Earth radius (IUGG) that Distance uses.
const EarthRadiusKm = 6371.0088

// Distance returns the great-circle distance in kilometres between two points
// given in degrees, by the haversine formula on a sphere of EarthRadiusKm.
// It is off by at most about 0.5% from the ellipsoid, far below what matters
// for "which center is nearest".
func Distance(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	phi1, phi2 := lat1*rad, lat2*rad
	dPhi := (lat2 - lat1) * rad
	dLambda := (lon2 - lon1) * rad
	a := math.Sin(dPhi/2)*math.Sin(dPhi/2) + math.Cos(phi1)*math.Cos(phi2)*math.Sin(dLambda/2)*math.Sin(dLambda/2)
	// Rounding can push a just past 1 for antipodal points; asin would be NaN.
	a = min(max(a, 0), 1)
	return 2 * EarthRadiusKm * math.Asin(math.Sqrt(a))
}

// Limits of Nearest.
const (
	// FarAwayKm: when the nearest open center is farther than this, the
	// person is not in (or near) any region the catalog covers, say at 0,0 or
	// in another country, and the bot says so instead of pretending.
	FarAwayKm = 300.0
	// SoonWithinKm and SoonMax bound the centers opening soon that Nearest
	// appends after the open ones: only close ones are worth mentioning.
	SoonWithinKm = 100.0
	SoonMax      = 2
)

// Nearest returns up to n open centers nearest to lat, lon (all of them when
// n < 1), nearest first, followed by up to SoonMax centers opening soon within
// SoonWithinKm, also nearest first. A center opening soon never pushes an
// open one out of the list. The online desk is never included.
//
// farAway is true when the nearest open center is more than FarAwayKm away,
// or there is none; the list is still filled, and the bot should say the
// person seems far from every center and offer the district list.
func (c *Catalog) Nearest(lat, lon float64, n int) (list []Nearby, farAway bool) {
	var open, soon []Nearby
	for _, ce := range c.Centers {
		if ce.Online {
			continue
		}
		nb := Nearby{Center: ce, Km: Distance(lat, lon, ce.Lat, ce.Lon)}
		if ce.IsOpen() {
			open = append(open, nb)
		} else if nb.Km <= SoonWithinKm {
			soon = append(soon, nb)
		}
	}
	byKm := func(a, b Nearby) int { return cmp.Compare(a.Km, b.Km) }
	slices.SortStableFunc(open, byKm)
	slices.SortStableFunc(soon, byKm)
	// NaN coordinates from a broken client make every distance NaN; that is
	// "far away" too, never "near".
	farAway = len(open) == 0 || !(open[0].Km <= FarAwayKm)
	if n >= 1 && len(open) > n {
		open = open[:n]
	}
	if len(soon) > SoonMax {
		soon = soon[:SoonMax]
	}
	return append(open, soon...), farAway
}

// Clock is a time of day in minutes since midnight, 0 to 24*60. In TOML it is
// a string "09:00"; "24:00" is the end of the day.
type Clock int

// ParseClock parses "HH:MM" (or "H:MM") between 00:00 and 24:00.
func ParseClock(s string) (Clock, error) {
	var h, m int
	colon := -1
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			colon = i
			break
		}
	}
	if colon < 1 || colon > 2 || len(s)-colon-1 != 2 {
		return 0, fmt.Errorf("%q is not a time like \"09:00\"", s)
	}
	for i := 0; i < len(s); i++ {
		if i == colon {
			continue
		}
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%q is not a time like \"09:00\"", s)
		}
		d := int(s[i] - '0')
		if i < colon {
			h = h*10 + d
		} else {
			m = m*10 + d
		}
	}
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("%q is out of range 00:00..24:00", s)
	}
	return Clock(h*60 + m), nil
}

// String formats the clock as "09:00".
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// MonthDay is a date that recurs every year.
type MonthDay struct {
	Month time.Month
	Day   int
}

// ParseMonthDay parses "12-16" and rejects days no year has; "02-29" is
// allowed and is a holiday only in leap years.
func ParseMonthDay(s string) (MonthDay, error) {
	t, err := time.Parse("2006-01-02", "2024-"+s) // 2024 is a leap year
	if err != nil || len(s) != len("01-02") {
		return MonthDay{}, fmt.Errorf("%q is not a day like \"12-16\" (month-day)", s)
	}
	return MonthDay{t.Month(), t.Day()}, nil
}

// String formats the day as "12-16".
func (md MonthDay) String() string { return fmt.Sprintf("%02d-%02d", int(md.Month), md.Day) }

// Date is a civil date, with no time zone: holidays are days, not instants.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses "2026-12-16" and rejects dates that do not exist.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date like \"2026-12-16\"", s)
	}
	return DateOf(t), nil
}

// DateOf returns the date of t in t's own location; convert t with In first
// to get the date somewhere else.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// String formats the date as "2026-12-16".
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// At returns the instant clock c of day d happens in loc; "24:00" is the
// start of the next day.
func (d Date) At(c Clock, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, int(c)/60, int(c)%60, 0, 0, loc)
}
