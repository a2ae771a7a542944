package catalog

import (
	"cmp"
	"slices"
	"time"

	"jastar/storage"
)

// Rebooking is a free slot offered, one tap to book, to someone whose
// booking the center cancelled.
type Rebooking struct {
	Center Center
	Slot   Slot
}

// MaxRebookKm bounds how far from the cancelled booking's center another
// center is offered: farther is not a trip a young person makes for a
// consultation, and the online desk is there for them.
const MaxRebookKm = 100.0

// Rebook returns up to n free slots of the cancelled booking's type for
// its person: of the same center first, then of the online desk, then of
// the other open centers by distance from the booking's center (up to
// MaxRebookKm; none for a booking of the online desk, whose person may be
// anywhere). Within one center the slots nearest in time to the cancelled
// one come first, the earlier of two equally near. free holds each
// center's free slots of the booking's type (Availability, read after the
// closure, so the closed slots are not in it), by center id; busy are the
// starts of the person's other active bookings, which the store would
// refuse (ErrAlreadyBooked).
//
// It is pure: the same catalog and slots give the same offers.
func (c *Catalog) Rebook(b storage.Booking, free map[string][]Slot, busy []time.Time, n int) []Rebooking {
	if n < 1 {
		return nil
	}
	var order []Center
	home, known := c.Center(b.CenterID)
	if known {
		order = append(order, home)
	}
	if online, ok := c.OnlineDesk(); ok && online.ID != b.CenterID {
		order = append(order, online)
	}
	if known && !home.Online {
		var near []Nearby
		for _, ce := range c.Centers {
			if ce.Online || ce.ID == home.ID || !ce.IsOpen() {
				continue
			}
			if km := Distance(home.Lat, home.Lon, ce.Lat, ce.Lon); km <= MaxRebookKm {
				near = append(near, Nearby{Center: ce, Km: km})
			}
		}
		slices.SortStableFunc(near, func(x, y Nearby) int { return cmp.Compare(x.Km, y.Km) })
		for _, nb := range near {
			order = append(order, nb.Center)
		}
	}
	var out []Rebooking
	for _, ce := range order {
		slots := slices.DeleteFunc(slices.Clone(free[ce.ID]), func(s Slot) bool {
			return s.Free < 1 || slices.ContainsFunc(busy, s.Start.Equal)
		})
		slices.SortStableFunc(slots, func(x, y Slot) int {
			return cmp.Or(cmp.Compare(absDuration(x.Start.Sub(b.Start)), absDuration(y.Start.Sub(b.Start))), x.Start.Compare(y.Start))
		})
		for _, s := range slots {
			if len(out) == n {
				return out
			}
			out = append(out, Rebooking{Center: ce, Slot: s})
		}
	}
	return out
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
