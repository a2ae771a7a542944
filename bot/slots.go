package bot

import (
	"context"
	"fmt"
	"slices"
	"time"

	"jastar/storage"
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

// slotStore is what reading free times takes: how full each slot is, and
// what staff changed of the timetable.
type slotStore interface {
	SlotCounts(ctx context.Context, centerID, typeID string, from, to time.Time) (map[int64]int, error)
	adjustmentStore
}

// slotFinder answers which times a center and type can still be booked
// for, and what booking one of them takes; the booking dialogue, its
// safety step and closing time's rebooking offers share it.
type slotFinder struct {
	cat   func() *catalog.Catalog
	cfg   Config
	now   func() time.Time
	store slotStore
}

// window is the booking window of the bot's configuration.
func (f *slotFinder) window() catalog.BookingWindow {
	return catalog.BookingWindow{Days: f.cfg.BookingDays, Notice: f.cfg.BookingNotice}
}

// adjustmentStore reads what staff changed of a center's timetable.
type adjustmentStore interface {
	Closures(ctx context.Context, centerIDs []string, from, to time.Time) ([]storage.Closure, error)
	ExtraSessions(ctx context.Context, centerIDs []string, from, to time.Time) ([]storage.ExtraSession, error)
}

// adjustments reads a center's closures in force and extra sessions over
// [from, to), for catalog.Availability.
func adjustments(ctx context.Context, st adjustmentStore, centerID string, from, to time.Time) (catalog.Adjustments, error) {
	closures, err := st.Closures(ctx, []string{centerID}, from, to)
	if err != nil {
		return catalog.Adjustments{}, fmt.Errorf("closures of %s: %w", centerID, err)
	}
	sessions, err := st.ExtraSessions(ctx, []string{centerID}, from, to)
	if err != nil {
		return catalog.Adjustments{}, fmt.Errorf("extra sessions of %s: %w", centerID, err)
	}
	return catalog.Adjustments{Closures: closures, Sessions: sessions}, nil
}

// offerFor reads how full a center and type's slots are over the booking
// window, in one SlotCounts range read, and returns its free slots by the
// domain rule (catalog.Availability). ok is false when the center does not
// (or no longer) take bookings of the type.
func (f *slotFinder) offerFor(ctx context.Context, centerID, typeID string) (offer, bool, error) {
	cat := f.cat()
	if _, ok := cat.Bookable(centerID, typeID); !ok {
		return offer{}, false, nil
	}
	now := f.now()
	from, to := f.window().Span(now, cat.Location())
	counts, err := f.store.SlotCounts(ctx, centerID, typeID, from, to)
	if err != nil {
		return offer{}, false, err
	}
	adj, err := adjustments(ctx, f.store, centerID, from, to)
	if err != nil {
		return offer{}, false, err
	}
	a, ok := cat.Availability(centerID, typeID, now, f.window(), counts, adj)
	return offer{sched: a.Schedule, slots: a.Slots}, ok, nil
}

// slotRules returns what the store needs to book the slot of a center and
// type starting at start: the places the weekly schedule gives it
// (catalog.ScheduledCapacity; the store adds an extra session's) and its
// end, a scheduled slot's or an extra session's. A start that is neither
// keeps the schedule's length and no places, so the store refuses it as
// full and the person is offered free times. ok is false when the center
// does not take bookings of the type.
func (f *slotFinder) slotRules(ctx context.Context, centerID, typeID string, start time.Time) (capacity int, end time.Time, ok bool, err error) {
	cat := f.cat()
	sched, ok := cat.Bookable(centerID, typeID)
	if !ok {
		return 0, time.Time{}, false, nil
	}
	end = start.Add(time.Duration(sched.SlotMinutes) * time.Minute)
	if capacity = cat.ScheduledCapacity(centerID, typeID, start); capacity > 0 {
		return capacity, end, true, nil
	}
	// A session lasts at most a day (ExtraSession.Validate), so one that
	// holds the slot starts within the day before it.
	sessions, err := f.store.ExtraSessions(ctx, []string{centerID}, start.Add(-24*time.Hour), start.Add(time.Second))
	if err != nil {
		return 0, time.Time{}, false, fmt.Errorf("extra sessions of %s: %w", centerID, err)
	}
	for _, s := range sessions {
		if s.TypeID == typeID && s.HasSlot(start) {
			return 0, start.Add(time.Duration(s.SlotMinutes) * time.Minute), true, nil
		}
	}
	return 0, end, true, nil
}
