package storage

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
)

// A center's staff run it from Telegram (issue 16): they correct its card
// (CardOverride), close time (Closure) and add one-off sessions
// (ExtraSession). Each change is logged (Change) in the transaction that
// makes it. The catalog stays the starting point: the merge of a catalog
// center with its overrides, and the slot rule with closures and extra
// sessions, are pure functions of storage/catalog.

// CardField names one field of a center's card that staff may set.
type CardField string

// The card fields. Codes are stored: they never change meaning.
const (
	CardAddressKK CardField = "address_kk"
	CardAddressRU CardField = "address_ru"
	CardPhone     CardField = "phone"
	CardHours     CardField = "hours"
	CardPin       CardField = "pin"
	CardPhoto     CardField = "photo"
	CardNote      CardField = "note"
)

// CardFields lists every card field in the order a card editor shows them.
var CardFields = []CardField{CardAddressKK, CardAddressRU, CardPhone, CardHours, CardPin, CardPhoto, CardNote}

// Limits of what staff type into a card, in UTF-16 code units as Telegram
// counts them (https://core.telegram.org/bots/api#sendmessage, 4096 a
// message): with every field at its limit a card stays far below it. The
// address limit is the catalog's (MaxAddressLen there).
const (
	MaxCardAddressLen = 150
	MaxCardNoteLen    = 150
	// MaxFileIDLen bounds a Telegram file_id; real ones are under 100
	// bytes of URL-safe base64, so anything longer is not one.
	MaxFileIDLen = 200
)

// DayHours are a center's opening hours on one weekday, in minutes since
// midnight (0..1440). A day whose Close is not after its Open (the zero
// value among them) is closed.
type DayHours struct {
	Open, Close int
}

// Closed reports whether the center does not open that day.
func (d DayHours) Closed() bool { return d.Close <= d.Open }

// WeekHours are a center's opening hours, indexed by time.Weekday (Sunday
// first, as Go counts).
type WeekHours [7]DayHours

// CardOverride is one field of a center's card as staff set it, which wins
// over the catalog's value. Only the part its Field uses is set.
type CardOverride struct {
	CenterID string
	Field    CardField
	// Text is the address (kk or ru), the note, the phone in E.164
	// (NormalizePhone) or the entrance photo's Telegram file_id.
	Text     string
	Hours    WeekHours // CardHours
	Lat, Lon float64   // CardPin, in degrees
	// By is the Telegram user id of who set it; At when.
	By int64
	At time.Time
}

// CardOverrides are one center's overrides by field; a field absent shows
// the catalog's value.
type CardOverrides map[CardField]CardOverride

// Validate checks an override against the rules of its field. It does not
// know the catalog: catalog.CheckCard adds what needs the center (how far a
// pin may move, which fields the online desk has).
func (o CardOverride) Validate() error {
	if o.CenterID == "" {
		return fmt.Errorf("card field %s without a center: %w", o.Field, ErrInvalid)
	}
	switch o.Field {
	case CardAddressKK, CardAddressRU:
		return checkCardText(o.Field, o.Text, MaxCardAddressLen)
	case CardNote:
		return checkCardText(o.Field, o.Text, MaxCardNoteLen)
	case CardPhone:
		if p, err := NormalizePhone(o.Text); err != nil || p != o.Text {
			return fmt.Errorf("phone is not a normalised Kazakhstan number: %w", ErrInvalid)
		}
	case CardHours:
		for wd, d := range o.Hours {
			if d.Closed() {
				if d != (DayHours{}) {
					return fmt.Errorf("hours of weekday %d: a closed day is written as zero: %w", wd, ErrInvalid)
				}
				continue
			}
			if d.Open < 0 || d.Close > 24*60 {
				return fmt.Errorf("hours of weekday %d: %d-%d out of the day: %w", wd, d.Open, d.Close, ErrInvalid)
			}
		}
	case CardPin:
		if !ValidPin(o.Lat, o.Lon) {
			return fmt.Errorf("pin %v,%v: %w", o.Lat, o.Lon, ErrInvalid)
		}
	case CardPhoto:
		if !validFileID(o.Text) {
			return fmt.Errorf("photo is not a Telegram file_id: %w", ErrInvalid)
		}
	default:
		return fmt.Errorf("card field %q: %w", o.Field, ErrInvalid)
	}
	return nil
}

// ValidPin reports whether lat, lon are coordinates (in range, not NaN)
// and not 0,0, which is what a broken client sends, never a center.
func ValidPin(lat, lon float64) bool {
	return lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 && !(lat == 0 && lon == 0) &&
		!math.IsNaN(lat) && !math.IsNaN(lon)
}

// checkCardText refuses empty, overlong and multi-line texts: a card line
// is one line, and control characters could break its layout.
func checkCardText(f CardField, s string, limit int) error {
	if strings.TrimSpace(s) != s || s == "" {
		return fmt.Errorf("%s is empty or has surrounding spaces: %w", f, ErrInvalid)
	}
	if n := UTF16Len(s); n > limit {
		return fmt.Errorf("%s has %d characters of %d: %w", f, n, limit, ErrInvalid)
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return fmt.Errorf("%s has a control character: %w", f, ErrInvalid)
	}
	return nil
}

// UTF16Len is the length of s as Telegram counts it: in UTF-16 code units.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func validFileID(s string) bool {
	if s == "" || len(s) > MaxFileIDLen {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// NormalizePhone reads a Kazakhstan phone number as people type it,
// "+7 701 123 45 67", "8 (727) 123-45-67", "87011234567" or "7011234567",
// and returns it in E.164, "+77011234567". Spaces, dashes and parentheses
// are ignored; anything else, a number of another length, or one outside
// Kazakhstan's +7 7xx range (+7 9xx is Russia) is refused with ErrInvalid.
func NormalizePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	var digits []byte
	plus := false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r == '+' && i == 0:
			plus = true
		case r == ' ' || r == '\u00a0' || r == '-' || r == '(' || r == ')':
		default:
			return "", fmt.Errorf("phone has %q: %w", r, ErrInvalid)
		}
	}
	var national []byte
	switch {
	case len(digits) == 11 && digits[0] == '7':
		national = digits[1:]
	case len(digits) == 11 && digits[0] == '8' && !plus: // the trunk prefix, dialled inside the country
		national = digits[1:]
	case len(digits) == 10 && !plus:
		national = digits
	default:
		return "", fmt.Errorf("phone of %d digits: %w", len(digits), ErrInvalid)
	}
	if national[0] != '7' {
		return "", fmt.Errorf("phone outside Kazakhstan's +7 7xx: %w", ErrInvalid)
	}
	return "+7" + string(national), nil
}

// FormatPhone shows an E.164 Kazakhstan number as "+7 701 123 45 67", the
// way Telegram makes it tappable; anything else is returned as it is.
func FormatPhone(e164 string) string {
	if len(e164) != 12 || !strings.HasPrefix(e164, "+7") {
		return e164
	}
	n := e164[2:]
	return "+7 " + n[0:3] + " " + n[3:6] + " " + n[6:8] + " " + n[8:10]
}

// ClosureReason is why staff closed time, picked from buttons.
type ClosureReason string

// Closure reasons. Codes are stored and go into booking cancel reasons.
const (
	ReasonIllness     ClosureReason = "illness"
	ReasonTraining    ClosureReason = "training"
	ReasonEventInHall ClosureReason = "event_in_hall"
	ReasonOther       ClosureReason = "other"
)

// ClosureReasons lists the reasons in the order of their buttons.
var ClosureReasons = []ClosureReason{ReasonIllness, ReasonTraining, ReasonEventInHall, ReasonOther}

// closureCancelPrefix starts the cancel reason of every booking a closure
// (or a removed extra session) cancelled: a family apart from the person's
// "by_person" and staff's "staff_...", so statistics count them apart.
const closureCancelPrefix = "closure_"

// CancelReason is the cancel reason code of a booking cancelled for r.
func (r ClosureReason) CancelReason() string { return closureCancelPrefix + string(r) }

// ClosureCancel reports whether a booking's cancel reason says the center
// closed its time, and for which reason.
func ClosureCancel(cancelReason string) (ClosureReason, bool) {
	r, ok := strings.CutPrefix(cancelReason, closureCancelPrefix)
	return ClosureReason(r), ok
}

// MaxClosureSpan bounds one closure, so a mistyped year cannot close a
// center for a decade; a longer absence is closed again.
const MaxClosureSpan = 366 * 24 * time.Hour

// Closure is time a center does not consult: a day, part of a day or a
// range of days, for one consultation type or all of them. Slots that
// overlap it are not offered and cannot be booked; the bookings inside it
// were cancelled when it was made.
type Closure struct {
	ID       uint64
	CenterID string
	// TypeID is the consultation type closed; empty closes every type.
	TypeID   string
	From, To time.Time // instants, To after From
	Reason   ClosureReason
	By       int64 // Telegram user id of who closed it
	At       time.Time
	// Cancelled are the bookings the closure cancelled when it was made.
	Cancelled []uint64
	// ReopenedBy and ReopenedAt are set once staff reopened it; a reopened
	// closure closes nothing, and its cancelled bookings stay cancelled.
	ReopenedBy int64
	ReopenedAt time.Time
}

// InForce reports whether the closure has not been reopened.
func (c Closure) InForce() bool { return c.ReopenedAt.IsZero() }

// Covers reports whether the closure, in force, closes a slot of typeID
// running from start to end: it is of that type or of all types, and the
// two overlap. Overlap rather than containment, so a slot the closure
// only cuts into is closed as well: the specialist is not there for part
// of it.
func (c Closure) Covers(typeID string, start, end time.Time) bool {
	return c.InForce() && (c.TypeID == "" || c.TypeID == typeID) && start.Before(c.To) && end.After(c.From)
}

// Validate checks what the store relies on: a center, a known reason, a
// span that ends after it starts and is at most MaxClosureSpan.
func (c Closure) Validate() error {
	switch {
	case c.CenterID == "":
		return fmt.Errorf("closure without a center: %w", ErrInvalid)
	case !slices.Contains(ClosureReasons, c.Reason):
		return fmt.Errorf("closure reason %q: %w", c.Reason, ErrInvalid)
	case !c.To.After(c.From):
		return fmt.Errorf("closure ends at %s, not after its start: %w", c.To.Format(time.RFC3339), ErrInvalid)
	case c.To.Sub(c.From) > MaxClosureSpan:
		return fmt.Errorf("closure of %s: %w", c.To.Sub(c.From), ErrInvalid)
	}
	return nil
}

// Limits of an extra session.
const (
	MaxSessionCapacity = 50 // places a slot: more is a typo, or an event
	MinSessionSlot     = 10 // minutes
)

// ExtraSession is a one-off session of a consultation type at a center,
// offered like the slots of its weekly schedule: back-to-back slots of
// SlotMinutes from Start, the last one ending by End, each taking Capacity
// bookings.
type ExtraSession struct {
	ID          uint64
	CenterID    string
	TypeID      string
	Start, End  time.Time
	SlotMinutes int
	Capacity    int
	By          int64 // Telegram user id of who added it
	At          time.Time
}

// slot is the session's slot length.
func (s ExtraSession) slot() time.Duration { return time.Duration(s.SlotMinutes) * time.Minute }

// Slots returns the start of every slot of the session, in order.
func (s ExtraSession) Slots() []time.Time {
	if s.SlotMinutes < 1 {
		return nil
	}
	var out []time.Time
	for t := s.Start; !t.Add(s.slot()).After(s.End); t = t.Add(s.slot()) {
		out = append(out, t)
	}
	return out
}

// HasSlot reports whether one of the session's slots starts at start.
func (s ExtraSession) HasSlot(start time.Time) bool {
	if s.SlotMinutes < 1 || start.Before(s.Start) || start.Add(s.slot()).After(s.End) {
		return false
	}
	return start.Sub(s.Start)%s.slot() == 0
}

// Validate checks what the store relies on: a center and type, at least
// one slot, a session within a day (the store looks for a slot's session
// at most a day back), at most MaxSessionCapacity places a slot.
// catalog.CheckExtraSession adds the rules that need the catalog.
func (s ExtraSession) Validate() error {
	switch {
	case s.CenterID == "" || s.TypeID == "":
		return fmt.Errorf("extra session without a center or type: %w", ErrInvalid)
	case s.SlotMinutes < MinSessionSlot:
		return fmt.Errorf("extra session slot of %d minutes: %w", s.SlotMinutes, ErrInvalid)
	case s.Start.Add(s.slot()).After(s.End):
		return fmt.Errorf("extra session %s-%s has no %d-minute slot: %w", s.Start.Format(time.RFC3339), s.End.Format(time.RFC3339), s.SlotMinutes, ErrInvalid)
	case s.End.Sub(s.Start) > 24*time.Hour:
		return fmt.Errorf("extra session of %s: %w", s.End.Sub(s.Start), ErrInvalid)
	case s.Capacity < 1 || s.Capacity > MaxSessionCapacity:
		return fmt.Errorf("extra session of %d places: %w", s.Capacity, ErrInvalid)
	}
	return nil
}

// ChangeKind is what a logged change did.
type ChangeKind string

// Change kinds. Codes are stored.
const (
	ChangeCardSet       ChangeKind = "card_set"
	ChangeCardReset     ChangeKind = "card_reset"
	ChangeClose         ChangeKind = "close"
	ChangeReopen        ChangeKind = "reopen"
	ChangeSessionAdd    ChangeKind = "session_add"
	ChangeSessionRemove ChangeKind = "session_remove"
)

// Change is one entry of the log of what staff changed of a center: who,
// when, what, before and after. It is written in the transaction of the
// change itself, so the log never misses one nor lists one that failed.
type Change struct {
	ID       uint64 // grows with every change: newer is larger
	At       time.Time
	By       int64 // Telegram user id
	CenterID string
	Kind     ChangeKind
	// Field, Before and After describe a card change; a nil Before or
	// After is the catalog's value.
	Field         CardField
	Before, After *CardOverride
	// Closure is the closure as made (ChangeClose) or as reopened
	// (ChangeReopen, with ReopenedAt set).
	Closure *Closure
	// Session is the extra session added or removed.
	Session *ExtraSession
	// Cancelled are the bookings the change cancelled.
	Cancelled []uint64
}

// CardStore keeps the card fields staff set. Each change is logged in its
// transaction.
type CardStore interface {
	// SetCard validates o (CardOverride.Validate: ErrInvalid) and stores it
	// as its center's value of o.Field, replacing any earlier one; had is
	// false when the catalog's value stood before.
	SetCard(ctx context.Context, o CardOverride) (before CardOverride, had bool, err error)
	// ResetCard drops the center's value of field so the catalog's stands
	// again; ErrNotFound when staff had set none.
	ResetCard(ctx context.Context, centerID string, field CardField, by int64, now time.Time) (before CardOverride, err error)
	// Card returns one center's overrides (empty when none).
	Card(ctx context.Context, centerID string) (CardOverrides, error)
	// Cards returns every center's overrides by center id, in one read,
	// for lists of centers.
	Cards(ctx context.Context) (map[string]CardOverrides, error)
}

// ClosureStore keeps closures. Closing and booking are decided in write
// transactions, so no interleaving leaves an active booking inside a
// closure in force: Book and Reschedule refuse a slot a closure covers
// with ErrClosedByCenter.
type ClosureStore interface {
	// AddClosure validates c (Closure.Validate, and To after now:
	// ErrInvalid) and, in one write transaction, stores it (ID, By, At
	// set from c and now), cancels every active booking it covers that has
	// not begun by now, with c.Reason.CancelReason(), deletes their
	// reminders, logs the change, and returns the closure and the
	// bookings it cancelled, for telling their people. A booking already
	// cancelled, by anyone or an earlier closure, is left alone, so
	// nobody is cancelled twice; one under way is left to staff's marks.
	AddClosure(ctx context.Context, c Closure, now time.Time) (Closure, []Booking, error)
	// PreviewClosure returns the bookings AddClosure would cancel at now,
	// writing nothing.
	PreviewClosure(ctx context.Context, c Closure, now time.Time) ([]Booking, error)
	// Reopen ends a closure in force whose end is still after now (its
	// slots are offered again) and logs it. The bookings it cancelled stay
	// cancelled. A closure over or reopened: ErrInPast; none: ErrNotFound.
	Reopen(ctx context.Context, id uint64, by int64, now time.Time) (Closure, error)
	// Closure returns one closure, in force or not, or ErrNotFound.
	Closure(ctx context.Context, id uint64) (Closure, error)
	// Closures returns the closures in force of the given centers that
	// overlap [from, to), by start.
	Closures(ctx context.Context, centerIDs []string, from, to time.Time) ([]Closure, error)
}

// ExtraSessionStore keeps extra sessions. Book and Reschedule add the
// places of the session slot a booking takes to BookRules.Capacity inside
// their write transaction.
type ExtraSessionStore interface {
	// AddExtraSession validates s (ExtraSession.Validate, and a start after
	// now: ErrInvalid), refuses one overlapping another extra session of
	// the same center and type (ErrConflict), stores it (ID, By, At set
	// from s and now) and logs it.
	AddExtraSession(ctx context.Context, s ExtraSession, now time.Time) (ExtraSession, error)
	// RemoveExtraSession removes a session that has not begun by now
	// (ErrInPast otherwise) and logs it. With people booked into it,
	// cancelWith empty refuses (ErrHasBookings); a reason cancels their
	// bookings with reason.CancelReason() in the same transaction, as a
	// closure does, and returns them.
	RemoveExtraSession(ctx context.Context, id uint64, by int64, now time.Time, cancelWith ClosureReason) (ExtraSession, []Booking, error)
	// ExtraSessionBookings returns the active bookings of a session that
	// have not begun by now: who a removal would cancel.
	ExtraSessionBookings(ctx context.Context, id uint64, now time.Time) ([]Booking, error)
	// ExtraSession returns one session or ErrNotFound.
	ExtraSession(ctx context.Context, id uint64) (ExtraSession, error)
	// ExtraSessions returns the sessions of the given centers starting in
	// [from, to), by start.
	ExtraSessions(ctx context.Context, centerIDs []string, from, to time.Time) ([]ExtraSession, error)
}

// ChangeStore reads the log of staff changes.
type ChangeStore interface {
	// Changes returns up to limit changes older than before (0: the
	// newest), newest first; the next page is before the last one's ID.
	Changes(ctx context.Context, before uint64, limit int) ([]Change, error)
}
