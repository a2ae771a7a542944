package storage_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"jastar/storage"
)

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		in, want string // want "" = refused
	}{
		{"+7 701 123 45 67", "+77011234567"},
		{"+77011234567", "+77011234567"},
		{"8 (727) 123-45-67", "+77271234567"},
		{"87011234567", "+77011234567"},
		{"7011234567", "+77011234567"},
		{"77011234567", "+77011234567"},
		{" +7 (701) 123-45-67 ", "+77011234567"},
		{"+7 916 123 45 67", ""}, // Russia
		{"+8 701 123 45 67", ""}, // no such country code here
		{"+7011234567", ""},      // ten digits after a plus
		{"8701123456", ""},       // too short
		{"870112345678", ""},     // too long
		{"+7 701 123 45 67 доб. 2", ""},
		{"7+011234567", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := storage.NormalizePhone(tt.in)
			if tt.want == "" {
				if !errors.Is(err, storage.ErrInvalid) {
					t.Errorf("NormalizePhone = %q, %v; want ErrInvalid", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("NormalizePhone = %q, %v; want %q", got, err, tt.want)
			}
			if f := storage.FormatPhone(got); f != "+7 "+got[2:5]+" "+got[5:8]+" "+got[8:10]+" "+got[10:] {
				t.Errorf("FormatPhone(%q) = %q", got, f)
			}
		})
	}
	if got := storage.FormatPhone("ask at the desk"); got != "ask at the desk" {
		t.Errorf("FormatPhone of a text = %q, want it unchanged", got)
	}
}

func TestCardOverride_Validate(t *testing.T) {
	o := func(f storage.CardField, text string) storage.CardOverride {
		return storage.CardOverride{CenterID: "karasai", Field: f, Text: text}
	}
	hours := func(h storage.WeekHours) storage.CardOverride {
		return storage.CardOverride{CenterID: "karasai", Field: storage.CardHours, Hours: h}
	}
	pin := func(lat, lon float64) storage.CardOverride {
		return storage.CardOverride{CenterID: "karasai", Field: storage.CardPin, Lat: lat, Lon: lon}
	}
	tests := []struct {
		name string
		o    storage.CardOverride
		ok   bool
	}{
		{"an address", o(storage.CardAddressKK, "Абай көшесі, 1"), true},
		{"an address at the limit, emoji counting two", o(storage.CardAddressRU, strings.Repeat("🏠", 75)), true},
		{"an address over the limit", o(storage.CardAddressRU, strings.Repeat("🏠", 76)), false},
		{"an empty address", o(storage.CardAddressRU, ""), false},
		{"a note of two lines", o(storage.CardNote, "вход\nсо двора"), false},
		{"a note with spaces around", o(storage.CardNote, " вход со двора"), false},
		{"a normalised phone", o(storage.CardPhone, "+77011234567"), true},
		{"a phone as typed", o(storage.CardPhone, "8 701 123 45 67"), false},
		{"a week", hours(storage.WeekHours{time.Monday: {Open: 540, Close: 1080}, time.Saturday: {Open: 600, Close: 840}}), true},
		{"a day up to midnight", hours(storage.WeekHours{time.Friday: {Open: 600, Close: 1440}}), true},
		{"a day past midnight", hours(storage.WeekHours{time.Friday: {Open: 600, Close: 1500}}), false},
		{"a closed day not written as zero", hours(storage.WeekHours{time.Friday: {Open: 600, Close: 600}}), false},
		{"a pin", pin(43.199, 76.621), true},
		{"a pin at 0,0", pin(0, 0), false},
		{"a pin out of range", pin(95, 76), false},
		{"a pin of NaN", pin(math.NaN(), 76), false},
		{"a photo", o(storage.CardPhoto, "AgACAgIAAxkBAAIBY2V_x-1"), true},
		{"a photo that is no file_id", o(storage.CardPhoto, "https://example.com/a.jpg"), false},
		{"no center", storage.CardOverride{Field: storage.CardNote, Text: "x"}, false},
		{"an unknown field", o("colour", "red"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, storage.ErrInvalid)) {
				t.Errorf("Validate = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestClosure_CoversAndValidate(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 12, 2, h, m, 0, 0, time.UTC) }
	c := storage.Closure{CenterID: "karasai", TypeID: "psychology", From: at(13, 0), To: at(18, 0), Reason: storage.ReasonIllness}
	all := c
	all.TypeID = ""
	reopened := c
	reopened.ReopenedAt = at(9, 0)
	tests := []struct {
		name       string
		c          storage.Closure
		typ        string
		start, end time.Time
		want       bool
	}{
		{"inside", c, "psychology", at(14, 0), at(15, 0), true},
		{"cut into at its start", c, "psychology", at(12, 30), at(13, 30), true},
		{"ending as it starts", c, "psychology", at(12, 0), at(13, 0), false},
		{"starting as it ends", c, "psychology", at(18, 0), at(19, 0), false},
		{"another type", c, "legal", at(14, 0), at(15, 0), false},
		{"every type", all, "legal", at(14, 0), at(15, 0), true},
		{"reopened", reopened, "psychology", at(14, 0), at(15, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Covers(tt.typ, tt.start, tt.end); got != tt.want {
				t.Errorf("Covers = %v, want %v", got, tt.want)
			}
		})
	}
	bad := map[string]storage.Closure{
		"no reason":     {CenterID: "karasai", From: at(13, 0), To: at(18, 0)},
		"ends at start": {CenterID: "karasai", From: at(13, 0), To: at(13, 0), Reason: storage.ReasonOther},
		"a decade":      {CenterID: "karasai", From: at(13, 0), To: at(13, 0).AddDate(10, 0, 0), Reason: storage.ReasonOther},
		"no center":     {From: at(13, 0), To: at(18, 0), Reason: storage.ReasonOther},
	}
	for name, b := range bad {
		if err := b.Validate(); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("Validate of %s = %v, want ErrInvalid", name, err)
		}
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate = %v", err)
	}
}

func TestClosureCancel(t *testing.T) {
	for _, r := range storage.ClosureReasons {
		if got, ok := storage.ClosureCancel(r.CancelReason()); !ok || got != r {
			t.Errorf("ClosureCancel(%q) = %q, %v", r.CancelReason(), got, ok)
		}
	}
	for _, other := range []string{"by_person", "staff_sick", ""} {
		if _, ok := storage.ClosureCancel(other); ok {
			t.Errorf("ClosureCancel(%q) counts it as a closure", other)
		}
	}
}

func TestExtraSession_Slots(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 12, 5, h, m, 0, 0, time.UTC) }
	s := storage.ExtraSession{CenterID: "karasai", TypeID: "career", Start: at(10, 0), End: at(12, 30), SlotMinutes: 45, Capacity: 2}
	got := s.Slots()
	want := []time.Time{at(10, 0), at(10, 45), at(11, 30)}
	if len(got) != len(want) {
		t.Fatalf("Slots = %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].Equal(want[i]) || !s.HasSlot(want[i]) {
			t.Errorf("slot %d = %v (HasSlot %v), want %v", i, got[i], s.HasSlot(want[i]), want[i])
		}
	}
	for _, no := range []time.Time{at(9, 15), at(10, 30), at(12, 15)} {
		if s.HasSlot(no) {
			t.Errorf("HasSlot(%v) = true", no)
		}
	}
	if err := s.Validate(); err != nil {
		t.Errorf("Validate = %v", err)
	}
	for name, bad := range map[string]storage.ExtraSession{
		"no slot fits":  {CenterID: "k", TypeID: "c", Start: at(10, 0), End: at(10, 30), SlotMinutes: 45, Capacity: 1},
		"no places":     {CenterID: "k", TypeID: "c", Start: at(10, 0), End: at(12, 0), SlotMinutes: 60},
		"a crowd":       {CenterID: "k", TypeID: "c", Start: at(10, 0), End: at(12, 0), SlotMinutes: 60, Capacity: 51},
		"two days long": {CenterID: "k", TypeID: "c", Start: at(10, 0), End: at(10, 0).Add(25 * time.Hour), SlotMinutes: 60, Capacity: 1},
		"a 5-min slot":  {CenterID: "k", TypeID: "c", Start: at(10, 0), End: at(12, 0), SlotMinutes: 5, Capacity: 1},
	} {
		if err := bad.Validate(); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("Validate of %s = %v, want ErrInvalid", name, err)
		}
	}
}
