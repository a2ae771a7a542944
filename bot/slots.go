package bot

import (
	"context"
	"slices"
	"time"

	"jastar/storage/catalog"
)

// slot is one bookable consultation time of a center and type.
type slot struct {
	Start, End time.Time
	Free       int // seats left
}

// offer is what a center and type can still be booked for: every free slot
// of the booking window, soonest first.
type offer struct {
	sched catalog.Schedule
	slots []slot
}

// days returns the days that have at least one free slot, in order.
func (o offer) days(loc *time.Location) []catalog.Date {
	var out []catalog.Date
	for _, s := range o.slots {
		d := catalog.DateOf(s.Start.In(loc))
		if len(out) == 0 || out[len(out)-1] != d {
			out = append(out, d)
		}
	}
	return out
}

// on returns the free slots of one day.
func (o offer) on(d catalog.Date, loc *time.Location) []slot {
	var out []slot
	for _, s := range o.slots {
		if catalog.DateOf(s.Start.In(loc)) == d {
			out = append(out, s)
		}
	}
	return out
}

// find returns the free slot starting at start.
func (o offer) find(start time.Time) (slot, bool) {
	for _, s := range o.slots {
		if s.Start.Equal(start) {
			return s, true
		}
	}
	return slot{}, false
}

// from returns up to n free slots starting at or after t.
func (o offer) from(t time.Time, n int) []slot {
	var out []slot
	for _, s := range o.slots {
		if !s.Start.Before(t) && len(out) < n {
			out = append(out, s)
		}
	}
	return out
}

// without returns the offer less the slot starting at start.
func (o offer) without(start time.Time) offer {
	o.slots = slices.DeleteFunc(slices.Clone(o.slots), func(s slot) bool { return s.Start.Equal(start) })
	return o
}

// window is the booking window at now: its first and last day, and the
// earliest start still open (now plus the minimum notice).
func (b *Bot) window(now time.Time) (first catalog.Date, days int, notBefore time.Time) {
	return catalog.DateOf(now.In(b.cfg.Location)), b.cfg.BookingDays, now.Add(b.cfg.BookingNotice)
}

// offerFor computes the free slots of a center and type over the booking
// window: the catalog's weekly schedule, minus holidays, minus slots inside
// the minimum notice, minus full slots. One SlotCounts range read covers the
// whole window. ok is false when the center does not (or no longer) take
// bookings of the type.
func (b *Bot) offerFor(ctx context.Context, centerID, typeID string) (offer, bool, error) {
	center, ok := b.cat.Center(centerID)
	if !ok || !center.IsOpen() {
		return offer{}, false, nil
	}
	if _, ok := b.cat.Type(typeID); !ok {
		return offer{}, false, nil
	}
	sched, ok := b.cat.ScheduleFor(centerID, typeID)
	if !ok || sched.Capacity < 1 {
		return offer{}, false, nil
	}
	loc := b.cfg.Location
	now := b.now()
	first, days, notBefore := b.window(now)
	from := first.At(0, loc)
	to := time.Date(first.Year, first.Month, first.Day+days, 0, 0, 0, 0, loc)
	counts, err := b.store.SlotCounts(ctx, centerID, typeID, from, to)
	if err != nil {
		return offer{}, false, err
	}
	o := offer{sched: sched}
	for i := range days {
		d := catalog.DateOf(time.Date(first.Year, first.Month, first.Day+i, 12, 0, 0, 0, loc))
		if b.cat.IsHoliday(d) || !sched.OpenOn(d.Weekday()) {
			continue
		}
		for _, c := range sched.Slots() {
			start := d.At(c, loc)
			if start.Before(notBefore) {
				continue
			}
			if free := sched.Capacity - counts[start.Unix()]; free > 0 {
				o.slots = append(o.slots, slot{Start: start, End: start.Add(time.Duration(sched.SlotMinutes) * time.Minute), Free: free})
			}
		}
	}
	return o, true, nil
}
