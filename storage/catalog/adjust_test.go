package catalog_test

import (
	"errors"
	"testing"
	"time"

	"jastar/storage"
	"jastar/storage/catalog"
)

func TestCatalog_AvailabilityAdjusted(t *testing.T) {
	c := defaultCatalog(t)
	loc := c.Location()
	at := func(m time.Month, d, h, min int) time.Time { return time.Date(2026, m, d, h, min, 0, 0, loc) }
	tue := at(12, 1, 10, 30) // Karasai's career desk: 12:00, 14:00-17:00 left today, 8 slots tomorrow
	twoDays := catalog.BookingWindow{Days: 2, Notice: time.Hour}
	closure := func(typ string, from, to time.Time) storage.Closure {
		return storage.Closure{ID: 1, CenterID: "karasai", TypeID: typ, From: from, To: to, Reason: storage.ReasonIllness}
	}
	session := func(typ string, from, to time.Time, capacity int) storage.ExtraSession {
		return storage.ExtraSession{ID: 1, CenterID: "karasai", TypeID: typ, Start: from, End: to, SlotMinutes: 60, Capacity: capacity}
	}
	reopened := closure("career", at(12, 1, 0, 0), at(12, 3, 0, 0))
	reopened.ReopenedAt = tue
	otherCenter := closure("", at(12, 1, 0, 0), at(12, 3, 0, 0))
	otherCenter.CenterID = "kegen"

	tests := []struct {
		name     string
		now      time.Time
		window   catalog.BookingWindow
		adj      catalog.Adjustments
		booked   map[int64]int
		n        int
		wantFree map[time.Time]int
		notOffer []time.Time
	}{
		{name: "nothing changed", now: tue, window: twoDays, n: 13},
		{name: "the afternoon closed for the type", now: tue, window: twoDays, n: 9,
			adj:      catalog.Adjustments{Closures: []storage.Closure{closure("career", at(12, 1, 14, 0), at(12, 1, 18, 0))}},
			wantFree: map[time.Time]int{at(12, 1, 12, 0): 2},
			notOffer: []time.Time{at(12, 1, 14, 0), at(12, 1, 17, 0)}},
		{name: "a closure of another type closes nothing of this one", now: tue, window: twoDays, n: 13,
			adj: catalog.Adjustments{Closures: []storage.Closure{closure("psychology", at(12, 1, 0, 0), at(12, 3, 0, 0))}}},
		{name: "a closure of every type closes a whole day", now: tue, window: twoDays, n: 5,
			adj:      catalog.Adjustments{Closures: []storage.Closure{closure("", at(12, 2, 0, 0), at(12, 3, 0, 0))}},
			notOffer: []time.Time{at(12, 2, 9, 0), at(12, 2, 17, 0)}},
		{name: "a closure cutting into a slot closes the slot", now: tue, window: twoDays, n: 12,
			adj:      catalog.Adjustments{Closures: []storage.Closure{closure("career", at(12, 1, 14, 30), at(12, 1, 15, 0))}},
			wantFree: map[time.Time]int{at(12, 1, 15, 0): 2},
			notOffer: []time.Time{at(12, 1, 14, 0)}},
		{name: "a closure ending as a slot starts leaves it open", now: tue, window: twoDays, n: 12,
			adj:      catalog.Adjustments{Closures: []storage.Closure{closure("career", at(12, 1, 13, 0), at(12, 1, 15, 0))}},
			wantFree: map[time.Time]int{at(12, 1, 12, 0): 2, at(12, 1, 15, 0): 2}},
		{name: "a reopened closure closes nothing", now: tue, window: twoDays, n: 13,
			adj: catalog.Adjustments{Closures: []storage.Closure{reopened}}},
		{name: "another center's closure closes nothing here", now: tue, window: twoDays, n: 13,
			adj: catalog.Adjustments{Closures: []storage.Closure{otherCenter}}},
		{name: "a closure on a holiday and one outside hours are harmless", now: at(12, 14, 18, 0), window: catalog.BookingWindow{Days: 3, Notice: time.Hour}, n: 8,
			adj: catalog.Adjustments{Closures: []storage.Closure{
				closure("", at(12, 16, 0, 0), at(12, 17, 0, 0)), closure("career", at(12, 15, 18, 0), at(12, 15, 23, 0)),
			}},
			wantFree: map[time.Time]int{at(12, 15, 9, 0): 2, at(12, 15, 17, 0): 2}},
		{name: "an evening session is offered with its places", now: tue, window: twoDays, n: 15,
			adj:      catalog.Adjustments{Sessions: []storage.ExtraSession{session("career", at(12, 1, 18, 0), at(12, 1, 20, 0), 3)}},
			wantFree: map[time.Time]int{at(12, 1, 18, 0): 3, at(12, 1, 19, 0): 3}},
		{name: "a full session slot is not offered", now: tue, window: twoDays, n: 14,
			adj:      catalog.Adjustments{Sessions: []storage.ExtraSession{session("career", at(12, 1, 18, 0), at(12, 1, 20, 0), 3)}},
			booked:   map[int64]int{at(12, 1, 18, 0).Unix(): 3, at(12, 1, 19, 0).Unix(): 1},
			wantFree: map[time.Time]int{at(12, 1, 19, 0): 2},
			notOffer: []time.Time{at(12, 1, 18, 0)}},
		{name: "a session of another type is not offered", now: tue, window: twoDays, n: 13,
			adj: catalog.Adjustments{Sessions: []storage.ExtraSession{session("legal", at(12, 1, 18, 0), at(12, 1, 20, 0), 3)}}},
		{name: "a closure closes a session too", now: tue, window: twoDays, n: 13,
			adj: catalog.Adjustments{
				Sessions: []storage.ExtraSession{session("career", at(12, 1, 18, 0), at(12, 1, 20, 0), 3)},
				Closures: []storage.Closure{closure("", at(12, 1, 18, 0), at(12, 1, 21, 0))},
			},
			wantFree: map[time.Time]int{at(12, 1, 17, 0): 2}},
		{name: "a session after the window or inside the notice is not offered", now: tue, window: twoDays, n: 13,
			adj: catalog.Adjustments{Sessions: []storage.ExtraSession{
				session("career", at(12, 5, 10, 0), at(12, 5, 12, 0), 1), session("career", at(12, 1, 7, 0), at(12, 1, 9, 0), 1),
			}}},
		{name: "a session on a holiday is offered: staff added it for that day", now: at(12, 15, 18, 0), window: twoDays, n: 2,
			adj:      catalog.Adjustments{Sessions: []storage.ExtraSession{session("career", at(12, 16, 10, 0), at(12, 16, 12, 0), 1)}},
			wantFree: map[time.Time]int{at(12, 16, 10, 0): 1, at(12, 16, 11, 0): 1}},
		{name: "a session slot starting with a scheduled one adds its places", now: tue, window: twoDays, n: 13,
			adj:      catalog.Adjustments{Sessions: []storage.ExtraSession{session("career", at(12, 1, 17, 0), at(12, 1, 18, 0), 1)}},
			wantFree: map[time.Time]int{at(12, 1, 17, 0): 3}},
		{name: "two sessions at the same evening hour add up", now: tue, window: twoDays, n: 15,
			adj: catalog.Adjustments{Sessions: []storage.ExtraSession{
				session("career", at(12, 1, 18, 0), at(12, 1, 20, 0), 3), session("career", at(12, 1, 18, 0), at(12, 1, 19, 0), 2),
			}},
			wantFree: map[time.Time]int{at(12, 1, 18, 0): 5, at(12, 1, 19, 0): 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ok := c.Availability("karasai", "career", tt.now, tt.window, tt.booked, tt.adj)
			if !ok || len(a.Slots) != tt.n {
				t.Fatalf("Availability = %d slots, ok %v; want %d", len(a.Slots), ok, tt.n)
			}
			offered := map[time.Time]int{}
			for i, s := range a.Slots {
				offered[s.Start] = s.Free
				if i > 0 && !s.Start.After(a.Slots[i-1].Start) {
					t.Errorf("slot %v after %v: not soonest first", s.Start, a.Slots[i-1].Start)
				}
				if s.End.Sub(s.Start) != time.Hour {
					t.Errorf("slot %v-%v is not an hour", s.Start, s.End)
				}
			}
			for start, free := range tt.wantFree {
				if offered[start] != free {
					t.Errorf("slot %v has %d free, want %d", start, offered[start], free)
				}
			}
			for _, start := range tt.notOffer {
				if _, ok := offered[start]; ok {
					t.Errorf("slot %v is offered", start)
				}
			}
		})
	}
}

func TestCatalog_ScheduledCapacity(t *testing.T) {
	c := defaultCatalog(t)
	loc := c.Location()
	at := func(d, h, min int) time.Time { return time.Date(2026, 12, d, h, min, 0, 0, loc) }
	tests := []struct {
		name   string
		center string
		start  time.Time
		want   int
	}{
		{"a scheduled slot", "karasai", at(1, 9, 0), 2},
		{"between slots", "karasai", at(1, 9, 30), 0},
		{"the lunch break", "karasai", at(1, 13, 0), 0},
		{"after hours", "karasai", at(1, 18, 0), 0},
		{"a Saturday", "karasai", at(5, 10, 0), 0},
		{"Independence Day", "karasai", at(16, 10, 0), 0},
		{"a center opening soon", "talgar", at(1, 9, 0), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.ScheduledCapacity(tt.center, "career", tt.start); got != tt.want {
				t.Errorf("ScheduledCapacity = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestCatalog_ConsultingAt(t *testing.T) {
	c := defaultCatalog(t)
	loc := c.Location()
	at := func(d, h, min int) time.Time { return time.Date(2026, 12, d, h, min, 0, 0, loc) }
	tests := []struct {
		name   string
		center string
		t      time.Time
		want   bool
	}{
		{"a Tuesday morning", "karasai", at(1, 9, 0), true},
		{"the last minute before closing", "karasai", at(1, 17, 59), true},
		{"the lunch break", "karasai", at(1, 13, 30), false},
		{"at closing time", "karasai", at(1, 18, 0), false},
		{"before opening", "karasai", at(1, 8, 59), false},
		{"a Saturday", "karasai", at(5, 10, 0), false},
		{"Independence Day", "karasai", at(16, 10, 0), false},
		{"a center opening soon", "talgar", at(1, 10, 0), false},
		{"no such center", "nowhere", at(1, 10, 0), false},
		{"another time zone's clock, same instant", "karasai", at(1, 10, 0).UTC(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.ConsultingAt(tt.center, tt.t); got != tt.want {
				t.Errorf("ConsultingAt(%s, %v) = %v, want %v", tt.center, tt.t, got, tt.want)
			}
		})
	}
}

func TestCatalog_CheckExtraSession(t *testing.T) {
	c := defaultCatalog(t)
	loc := c.Location()
	at := func(d, h, min int) time.Time { return time.Date(2026, 12, d, h, min, 0, 0, loc) }
	now := at(1, 10, 0)
	s := func(center, typ string, from, to time.Time) storage.ExtraSession {
		return storage.ExtraSession{CenterID: center, TypeID: typ, Start: from, End: to, SlotMinutes: 60, Capacity: 2}
	}
	tests := []struct {
		name string
		s    storage.ExtraSession
		ok   bool
	}{
		{"a Saturday job fair", s("karasai", "career", at(5, 10, 0), at(5, 16, 0)), true},
		{"an evening after the schedule", s("karasai", "career", at(2, 18, 0), at(2, 20, 0)), true},
		{"the lunch break", s("karasai", "career", at(2, 13, 0), at(2, 14, 0)), true},
		{"a holiday", s("karasai", "career", at(16, 10, 0), at(16, 12, 0)), true},
		{"up to midnight", s("karasai", "career", at(2, 22, 0), at(3, 0, 0)), true},
		{"over the weekly schedule", s("karasai", "career", at(2, 17, 0), at(2, 19, 0)), false},
		{"past midnight", s("karasai", "career", at(2, 23, 0), at(3, 1, 0)), false},
		{"already begun", s("karasai", "career", at(1, 9, 0), at(1, 12, 0)), false},
		{"off the minute", s("karasai", "career", at(5, 10, 0).Add(30*time.Second), at(5, 16, 0)), false},
		{"a type the center does not offer", s("kegen", "health", at(5, 10, 0), at(5, 12, 0)), false},
		{"a center opening soon", s("talgar", "career", at(5, 10, 0), at(5, 12, 0)), false},
		{"no slot fits", s("karasai", "career", at(5, 10, 0), at(5, 10, 30)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.CheckExtraSession(tt.s, now)
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, storage.ErrInvalid)) {
				t.Errorf("CheckExtraSession = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestCardOf(t *testing.T) {
	c := defaultCatalog(t)
	karasai, _ := c.Center("karasai")
	karasai.Address = catalog.Text{KK: "ескі мекенжай", RU: "старый адрес"}
	karasai.Hours = catalog.Text{KK: "Дс–Жм", RU: "Пн–Пт"}
	karasai.Phone = "8 727 000 00 00"
	week := storage.WeekHours{time.Monday: {Open: 9 * 60, Close: 18 * 60}}
	tests := []struct {
		name  string
		o     storage.CardOverrides
		check func(t *testing.T, card catalog.Card)
	}{
		{"nothing set shows the catalog", nil, func(t *testing.T, card catalog.Card) {
			if card.Address != karasai.Address || card.Phone != karasai.Phone || card.Hours != karasai.Hours || card.HasWeek ||
				card.Lat != karasai.Lat || card.Photo != "" || card.Note != "" {
				t.Errorf("card = %+v", card)
			}
		}},
		{"one language of the address set replaces both", storage.CardOverrides{
			storage.CardAddressRU: {Field: storage.CardAddressRU, Text: "ул. Абая, 1"},
		}, func(t *testing.T, card catalog.Card) {
			if card.Address.In("ru") != "ул. Абая, 1" || card.Address.In("kk") != "ул. Абая, 1" {
				t.Errorf("address = %+v", card.Address)
			}
		}},
		{"phone, hours, pin, photo and note win", storage.CardOverrides{
			storage.CardPhone: {Text: "+77011234567"},
			storage.CardHours: {Hours: week},
			storage.CardPin:   {Lat: 43.2, Lon: 76.63},
			storage.CardPhoto: {Text: "AgACAgIAAxkB"},
			storage.CardNote:  {Text: "Кіреберіс аула жақтан"},
		}, func(t *testing.T, card catalog.Card) {
			if card.Phone != "+7 701 123 45 67" || !card.HasWeek || card.Week != week || !card.Hours.IsZero() ||
				card.Lat != 43.2 || card.Lon != 76.63 || card.Photo != "AgACAgIAAxkB" || card.Note != "Кіреберіс аула жақтан" {
				t.Errorf("card = %+v", card)
			}
			if card.Address != karasai.Address || card.Name != karasai.Name {
				t.Errorf("fields not set changed: %+v", card)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, catalog.CardOf(karasai, tt.o)) })
	}
}

func TestCatalog_CheckCard(t *testing.T) {
	c := defaultCatalog(t)
	tests := []struct {
		name string
		o    storage.CardOverride
		ok   bool
	}{
		{"an address", storage.CardOverride{CenterID: "karasai", Field: storage.CardAddressKK, Text: "Абай көшесі, 1"}, true},
		{"a pin moved within the town", storage.CardOverride{CenterID: "karasai", Field: storage.CardPin, Lat: 43.21, Lon: 76.64}, true},
		{"a pin in another town", storage.CardOverride{CenterID: "karasai", Field: storage.CardPin, Lat: 43.867, Lon: 77.067}, false},
		{"a phone for the online desk", storage.CardOverride{CenterID: "online", Field: storage.CardPhone, Text: "+77011234567"}, true},
		{"an address for the online desk", storage.CardOverride{CenterID: "online", Field: storage.CardAddressRU, Text: "ул. Абая, 1"}, false},
		{"an unknown center", storage.CardOverride{CenterID: "atlantis", Field: storage.CardNote, Text: "hi"}, false},
		{"a phone not normalised", storage.CardOverride{CenterID: "karasai", Field: storage.CardPhone, Text: "87011234567"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.CheckCard(tt.o)
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, storage.ErrInvalid)) {
				t.Errorf("CheckCard = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestCatalog_Rebook(t *testing.T) {
	c := defaultCatalog(t)
	loc := c.Location()
	at := func(d, h int) time.Time { return time.Date(2026, 12, d, h, 0, 0, 0, loc) }
	slots := func(starts ...time.Time) []catalog.Slot {
		var out []catalog.Slot
		for _, s := range starts {
			out = append(out, catalog.Slot{Start: s, End: s.Add(time.Hour), Free: 1})
		}
		return out
	}
	// Әлия's psychology at Karasai, Wednesday 15:00, closed for illness.
	cancelled := storage.Booking{ID: 7, CenterID: "karasai", TypeID: "psychology", Start: at(2, 15)}
	type offer struct {
		center string
		start  time.Time
	}
	tests := []struct {
		name string
		b    storage.Booking
		free map[string][]catalog.Slot
		busy []time.Time
		n    int
		want []offer
	}{
		{name: "the same center first, nearest in time to the cancelled slot",
			b: cancelled, n: 3,
			free: map[string][]catalog.Slot{
				"karasai": slots(at(2, 9), at(3, 15), at(3, 16), at(4, 15), at(9, 15)),
				"online":  slots(at(2, 16)),
			},
			want: []offer{{"karasai", at(2, 9)}, {"karasai", at(3, 15)}, {"karasai", at(3, 16)}}},
		{name: "then the online desk, then the nearest other center within reach",
			b: cancelled, n: 3,
			free: map[string][]catalog.Slot{
				"karasai": slots(at(3, 15)),
				"online":  slots(at(2, 17)),
				"konaev":  slots(at(2, 15)), // 83 km
				"ili":     slots(at(4, 10)), // 39 km: nearer, so first
				"kegen":   slots(at(2, 16)), // 213 km: out of reach
			},
			want: []offer{{"karasai", at(3, 15)}, {"online", at(2, 17)}, {"ili", at(4, 10)}}},
		{name: "slots at times the person is already booked are skipped",
			b: cancelled, n: 3, busy: []time.Time{at(3, 15)},
			free: map[string][]catalog.Slot{"karasai": slots(at(3, 15), at(3, 16))},
			want: []offer{{"karasai", at(3, 16)}}},
		{name: "a full slot is skipped", b: cancelled, n: 3,
			free: map[string][]catalog.Slot{"karasai": {{Start: at(3, 15), End: at(3, 16), Free: 0}}}},
		{name: "an online booking is offered the online desk only",
			b: storage.Booking{CenterID: "online", TypeID: "psychology", Start: at(2, 15)}, n: 3,
			free: map[string][]catalog.Slot{"online": slots(at(2, 16)), "karasai": slots(at(2, 16))},
			want: []offer{{"online", at(2, 16)}}},
		{name: "a center the catalog no longer has: the online desk",
			b: storage.Booking{CenterID: "atlantis", TypeID: "psychology", Start: at(2, 15)}, n: 3,
			free: map[string][]catalog.Slot{"online": slots(at(2, 16)), "karasai": slots(at(2, 16))},
			want: []offer{{"online", at(2, 16)}}},
		{name: "nothing free", b: cancelled, n: 3},
		{name: "no offers asked", b: cancelled, n: 0, free: map[string][]catalog.Slot{"karasai": slots(at(3, 15))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Rebook(tt.b, tt.free, tt.busy, tt.n)
			if len(got) != len(tt.want) {
				t.Fatalf("Rebook = %d offers %+v, want %d", len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				if got[i].Center.ID != w.center || !got[i].Slot.Start.Equal(w.start) {
					t.Errorf("offer %d = %s at %v, want %s at %v", i, got[i].Center.ID, got[i].Slot.Start, w.center, w.start)
				}
			}
		})
	}
}
