package catalog

import "time"

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

// Availability computes the free slots of a center and type at now: the
// catalog's weekly schedule over the window, minus holidays, minus slots
// inside the notice, minus full slots. booked holds how many active
// bookings each slot holds, keyed by its start in Unix seconds (slots
// without bookings absent), as read for the window's Span. ok is false when
// the center does not (or no longer) take bookings of the type.
//
// It is pure: the same catalog, moment and counts give the same slots, so
// the rule is tested without a database or Telegram.
func (c *Catalog) Availability(centerID, typeID string, now time.Time, w BookingWindow, booked map[int64]int) (a Availability, ok bool) {
	sched, ok := c.Bookable(centerID, typeID)
	if !ok {
		return Availability{}, false
	}
	loc := c.Location()
	today := DateOf(now.In(loc))
	notBefore := w.NotBefore(now)
	length := time.Duration(sched.SlotMinutes) * time.Minute
	a.Schedule = sched
	for i := range w.Days {
		// Noon, so a day is a day whatever the zone's transitions.
		d := DateOf(time.Date(today.Year, today.Month, today.Day+i, 12, 0, 0, 0, loc))
		if c.IsHoliday(d) || !sched.OpenOn(d.Weekday()) {
			continue
		}
		for _, clock := range sched.Slots() {
			start := d.At(clock, loc)
			if start.Before(notBefore) {
				continue
			}
			if free := sched.Capacity - booked[start.Unix()]; free > 0 {
				a.Slots = append(a.Slots, Slot{Start: start, End: start.Add(length), Free: free})
			}
		}
	}
	return a, true
}
