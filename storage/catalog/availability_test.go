package catalog_test

import (
	"testing"
	"time"

	"jastar/storage/catalog"
)

func TestCatalog_Availability(t *testing.T) {
	c := defaultCatalog(t)
	loc := c.Location()
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, loc) }
	twoWeeks := catalog.BookingWindow{Days: 14, Notice: time.Hour}
	// Karasai's career desk: Monday to Friday, 09:00-18:00 with a break at
	// 13:00, hour-long slots, two specialists: eight slots a working day.
	tests := []struct {
		name           string
		center, typ    string
		now            time.Time
		window         catalog.BookingWindow
		booked         map[int64]int
		ok             bool
		n              int       // free slots
		first, last    time.Time // of them
		wantFree       map[time.Time]int
		wantNotOffered []time.Time
	}{
		{name: "a Tuesday morning: the notice closes the next slots, the window ends after 14 days",
			center: "karasai", typ: "career", now: at(2026, 12, 1, 10, 30), window: twoWeeks, ok: true,
			n: 5 + 9*8, first: at(2026, 12, 1, 12, 0), last: at(2026, 12, 14, 17, 0)},
		{name: "Nauryz and the transfer for it close three working days",
			center: "karasai", typ: "career", now: at(2027, 3, 19, 18, 0), window: catalog.BookingWindow{Days: 7, Notice: time.Hour}, ok: true,
			n: 8, first: at(2027, 3, 25, 9, 0), last: at(2027, 3, 25, 17, 0)},
		{name: "Independence Day in a year the catalog lists nothing for",
			center: "karasai", typ: "career", now: at(2031, 12, 15, 18, 0), window: catalog.BookingWindow{Days: 2, Notice: time.Hour}, ok: true,
			n: 0},
		{name: "a leap day is a working day",
			center: "karasai", typ: "career", now: at(2028, 2, 29, 9, 30), window: catalog.BookingWindow{Days: 1, Notice: time.Hour}, ok: true,
			n: 6, first: at(2028, 2, 29, 11, 0), last: at(2028, 2, 29, 17, 0)},
		{name: "a full slot is not offered, a half-full one offers its last seat",
			center: "karasai", typ: "career", now: at(2026, 12, 1, 10, 30), window: catalog.BookingWindow{Days: 1, Notice: time.Hour}, ok: true,
			booked: map[int64]int{at(2026, 12, 1, 12, 0).Unix(): 2, at(2026, 12, 1, 14, 0).Unix(): 1, at(2026, 12, 1, 15, 0).Unix(): 3},
			n:      3, first: at(2026, 12, 1, 14, 0), last: at(2026, 12, 1, 17, 0),
			wantFree:       map[time.Time]int{at(2026, 12, 1, 14, 0): 1, at(2026, 12, 1, 16, 0): 2},
			wantNotOffered: []time.Time{at(2026, 12, 1, 12, 0), at(2026, 12, 1, 15, 0)}},
		{name: "no window", center: "karasai", typ: "career", now: at(2026, 12, 1, 10, 30), window: catalog.BookingWindow{}, ok: true},
		{name: "a center opening soon takes no bookings", center: "talgar", typ: "career", now: at(2026, 12, 1, 10, 30), window: twoWeeks},
		{name: "a type the center does not offer", center: "kegen", typ: "health", now: at(2026, 12, 1, 10, 30), window: twoWeeks},
		{name: "an unknown center", center: "atlantis", typ: "career", now: at(2026, 12, 1, 10, 30), window: twoWeeks},
		{name: "an unknown type", center: "karasai", typ: "astrology", now: at(2026, 12, 1, 10, 30), window: twoWeeks},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ok := c.Availability(tt.center, tt.typ, tt.now, tt.window, tt.booked, catalog.Adjustments{})
			if ok != tt.ok || len(a.Slots) != tt.n {
				t.Fatalf("Availability = %d slots, ok %v; want %d, %v", len(a.Slots), ok, tt.n, tt.ok)
			}
			if tt.n == 0 {
				return
			}
			if first, last := a.Slots[0].Start, a.Slots[len(a.Slots)-1].Start; !first.Equal(tt.first) || !last.Equal(tt.last) {
				t.Errorf("slots from %v to %v, want %v to %v", first, last, tt.first, tt.last)
			}
			offered := map[time.Time]int{}
			for i, s := range a.Slots {
				offered[s.Start] = s.Free
				if i > 0 && !s.Start.After(a.Slots[i-1].Start) {
					t.Errorf("slot %v after %v: not soonest first", s.Start, a.Slots[i-1].Start)
				}
				if s.End.Sub(s.Start) != time.Hour || s.Free < 1 || s.Start.Before(tt.now.Add(tt.window.Notice)) {
					t.Errorf("slot %+v at %v", s, tt.now)
				}
			}
			for start, free := range tt.wantFree {
				if offered[start] != free {
					t.Errorf("slot %v has %d free, want %d", start, offered[start], free)
				}
			}
			for _, start := range tt.wantNotOffered {
				if _, ok := offered[start]; ok {
					t.Errorf("slot %v is offered", start)
				}
			}
		})
	}
}

func TestBookingWindow_Span(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Almaty")
	w := catalog.BookingWindow{Days: 14, Notice: time.Hour}
	// 23:30 UTC on 31 December is already 1 January in Almaty.
	from, to := w.Span(time.Date(2029, 12, 31, 23, 30, 0, 0, time.UTC), loc)
	if want := time.Date(2030, 1, 1, 0, 0, 0, 0, loc); !from.Equal(want) {
		t.Errorf("from = %v, want %v", from, want)
	}
	if want := time.Date(2030, 1, 15, 0, 0, 0, 0, loc); !to.Equal(want) {
		t.Errorf("to = %v, want %v", to, want)
	}
}
