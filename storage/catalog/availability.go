package catalog

import (
	"fmt"
	"slices"
	"time"

	"jastar/storage"
)

// BookingWindow is the part of the booking rules that says when: how many
// days, today included, are open for booking, and how long before its start
// a slot stops taking bookings.
type BookingWindow struct {
	Days   int
	Notice time.Duration
}

// Span returns the instants the window covers at now in loc: from the
// start of today to the start of the day after its last day. Bookings of
// slots starting in [from, to) are all a center's availability depends on.
func (w BookingWindow) Span(now time.Time, loc *time.Location) (from, to time.Time) {
	today := DateOf(now.In(loc))
	return today.At(0, loc), time.Date(today.Year, today.Month, today.Day+w.Days, 0, 0, 0, 0, loc)
}

// NotBefore is the earliest start a booking made at now may have.
func (w BookingWindow) NotBefore(now time.Time) time.Time { return now.Add(w.Notice) }

// Slot is one bookable consultation time of a center and type.
type Slot struct {
	Start, End time.Time
	Free       int // seats left
}

// Availability is what a center and type can still be booked for at one
// moment: the schedule, and every slot with a seat left over the booking
// window, soonest first.
type Availability struct {
	Schedule Schedule
	Slots    []Slot
}

// Bookable returns the schedule of a type at a center when the center is
// open and takes bookings of the type.
func (c *Catalog) Bookable(centerID, typeID string) (Schedule, bool) {
	center, ok := c.Center(centerID)
	if !ok || !center.IsOpen() {
		return Schedule{}, false
	}
	if _, ok := c.Type(typeID); !ok {
		return Schedule{}, false
	}
	sched, ok := c.ScheduleFor(centerID, typeID)
	if !ok || sched.Capacity < 1 {
		return Schedule{}, false
	}
	return sched, true
}

// Adjustments are what staff changed of a center's timetable over the
// booking window, as the store lists them: the closures in force and the
// extra sessions of the center, of any type (Availability picks the
// type's). The zero value changes nothing.
type Adjustments struct {
	Closures []storage.Closure
	Sessions []storage.ExtraSession
}

// Availability computes the free slots of a center and type at now: the
// catalog's weekly schedule over the window, minus holidays, plus the
// slots of extra sessions, minus slots a closure covers, minus slots inside
// the notice, minus full slots. booked holds how many active bookings each
// slot holds, keyed by its start in Unix seconds (slots without bookings
// absent), as read for the window's Span. ok is false when the center does
// not (or no longer) take bookings of the type.
//
// An extra session is offered on any day, a holiday too: staff added it
// for that day. A closure wins over everything, extra sessions included;
// one over a holiday or outside the schedule's hours closes nothing that
// was offered, so it is harmless. A session slot starting with a scheduled
// one adds its places to it, as the store does (BookRules.Capacity).
//
// It is pure: the same catalog, moment, counts and adjustments give the
// same slots, so the rule is tested without a database or Telegram.
func (c *Catalog) Availability(centerID, typeID string, now time.Time, w BookingWindow, booked map[int64]int, adj Adjustments) (a Availability, ok bool) {
	sched, ok := c.Bookable(centerID, typeID)
	if !ok {
		return Availability{}, false
	}
	loc := c.Location()
	today := DateOf(now.In(loc))
	from, to := w.Span(now, loc)
	notBefore := w.NotBefore(now)
	length := time.Duration(sched.SlotMinutes) * time.Minute
	a.Schedule = sched
	clocks := sched.Slots()
	// Sized for the schedule's slots: this runs for every center on a
	// booking's steps, and growing the slice (and a map of starts it
	// needed before) was a tenth of what the bot allocated under load.
	slots := make([]Slot, 0, w.Days*len(clocks)) // Free holds the capacity until the end
	for i := range w.Days {
		// Noon, so a day is a day whatever the zone's transitions.
		d := DateOf(time.Date(today.Year, today.Month, today.Day+i, 12, 0, 0, 0, loc))
		if c.IsHoliday(d) || !sched.OpenOn(d.Weekday()) {
			continue
		}
		for _, clock := range clocks {
			start := d.At(clock, loc)
			slots = append(slots, Slot{Start: start, End: start.Add(length), Free: sched.Capacity})
		}
	}
	// The scheduled slots are in time order and distinct; a session slot
	// that starts with one of them, or with an earlier session slot, adds
	// its places there.
	scheduled := len(slots)
	for _, s := range adj.Sessions {
		if s.CenterID != centerID || s.TypeID != typeID {
			continue
		}
		for _, start := range s.Slots() {
			if start.Before(from) || !start.Before(to) {
				continue
			}
			if i, found := slices.BinarySearchFunc(slots[:scheduled], start, func(x Slot, t time.Time) int { return x.Start.Compare(t) }); found {
				slots[i].Free += s.Capacity
			} else if j := slices.IndexFunc(slots[scheduled:], func(x Slot) bool { return x.Start.Equal(start) }); j >= 0 {
				slots[scheduled+j].Free += s.Capacity
			} else {
				slots = append(slots, Slot{Start: start.In(loc), End: start.Add(time.Duration(s.SlotMinutes) * time.Minute).In(loc), Free: s.Capacity})
			}
		}
	}
	slices.SortStableFunc(slots, func(x, y Slot) int { return x.Start.Compare(y.Start) })
	a.Slots = slots[:0] // filtered in place: each slot is read before its place is written
	for _, s := range slots {
		if s.Start.Before(notBefore) || closed(adj.Closures, centerID, typeID, s) {
			continue
		}
		if s.Free -= booked[s.Start.Unix()]; s.Free > 0 {
			a.Slots = append(a.Slots, s)
		}
	}
	return a, true
}

// closed reports whether a closure of the center covers the slot.
func closed(closures []storage.Closure, centerID, typeID string, s Slot) bool {
	return slices.ContainsFunc(closures, func(c storage.Closure) bool {
		return c.CenterID == centerID && c.Covers(typeID, s.Start, s.End)
	})
}

// ScheduledCapacity is the capacity the weekly schedule gives the slot of
// a center and type starting at start: the schedule's, when start is one
// of its slots on a working day that is no holiday, 0 otherwise (an extra
// session's slot, or no slot). It is what BookRules.Capacity takes; the
// store adds the places of extra sessions itself.
func (c *Catalog) ScheduledCapacity(centerID, typeID string, start time.Time) int {
	sched, ok := c.Bookable(centerID, typeID)
	if !ok {
		return 0
	}
	local := start.In(c.Location())
	d := DateOf(local)
	if c.IsHoliday(d) || !sched.OpenOn(d.Weekday()) {
		return 0
	}
	for _, clock := range sched.Slots() {
		if d.At(clock, c.Location()).Equal(start) {
			return sched.Capacity
		}
	}
	return 0
}

// CheckExtraSession checks an extra session before it is added at now: the
// rules the store relies on (ExtraSession.Validate), a center that takes
// bookings of the type (Bookable), a start after now on the whole minute,
// within one day, and no overlap with the weekly schedule's slots of the
// type that day: an extra session adds time, and places in a scheduled
// slot would change what its specialists were told. Every refusal wraps
// storage.ErrInvalid.
func (c *Catalog) CheckExtraSession(s storage.ExtraSession, now time.Time) error {
	if err := s.Validate(); err != nil {
		return err
	}
	sched, ok := c.Bookable(s.CenterID, s.TypeID)
	if !ok {
		return fmt.Errorf("center %q takes no bookings of %q: %w", s.CenterID, s.TypeID, storage.ErrInvalid)
	}
	loc := c.Location()
	start, end := s.Start.In(loc), s.End.In(loc)
	d := DateOf(start)
	switch {
	case !s.Start.After(now):
		return fmt.Errorf("extra session starts at %s, not after now: %w", s.Start.Format(time.RFC3339), storage.ErrInvalid)
	case start.Second() != 0 || start.Nanosecond() != 0:
		return fmt.Errorf("extra session starts off the minute: %w", storage.ErrInvalid)
	case end.After(d.At(24*60, loc)):
		return fmt.Errorf("extra session runs past the end of %s: %w", d, storage.ErrInvalid)
	}
	if c.IsHoliday(d) || !sched.OpenOn(d.Weekday()) {
		return nil
	}
	length := time.Duration(sched.SlotMinutes) * time.Minute
	for _, clock := range sched.Slots() {
		if slot := d.At(clock, loc); slot.Before(s.End) && slot.Add(length).After(s.Start) {
			return fmt.Errorf("extra session overlaps the scheduled slot at %v: %w", clock, storage.ErrInvalid)
		}
	}
	return nil
}
