package bot

import (
	"context"
	"slices"
	"time"

	"jastar/storage/catalog"
)

// slot is one bookable consultation time of a center and type.
type slot = catalog.Slot

// offer is what a center and type can still be booked for: every free slot
// of the booking window, soonest first (catalog.Availability, the rule).
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

// window is the booking window of the bot's configuration.
func (b *Bot) window() catalog.BookingWindow {
	return catalog.BookingWindow{Days: b.cfg.BookingDays, Notice: b.cfg.BookingNotice}
}

// offerFor reads how full a center and type's slots are over the booking
// window, in one SlotCounts range read, and returns its free slots by the
// domain rule (catalog.Availability). ok is false when the center does not
// (or no longer) take bookings of the type.
func (b *Bot) offerFor(ctx context.Context, centerID, typeID string) (offer, bool, error) {
	if _, ok := b.cat.Bookable(centerID, typeID); !ok {
		return offer{}, false, nil
	}
	now := b.now()
	from, to := b.window().Span(now, b.cat.Location())
	counts, err := b.store.SlotCounts(ctx, centerID, typeID, from, to)
	if err != nil {
		return offer{}, false, err
	}
	// TODO(issue 16): pass the center's closures and extra sessions.
	a, ok := b.cat.Availability(centerID, typeID, now, b.window(), counts, catalog.Adjustments{})
	return offer{sched: a.Schedule, slots: a.Slots}, ok, nil
}
