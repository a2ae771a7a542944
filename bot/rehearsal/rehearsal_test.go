package rehearsal

import (
	"strings"
	"testing"
	"time"

	"jastar/storage/catalog"
)

func TestParse(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation("Asia/Almaty")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		in   string
		want time.Time
	}{
		{"2027-06-15", time.Date(2027, 6, 15, 10, 0, 0, 0, loc)}, // a date alone: 10:00, when the centers work
		{"2027-06-15 18:30", time.Date(2027, 6, 15, 18, 30, 0, 0, loc)},
		{" 2028-02-29T09:30 ", time.Date(2028, 2, 29, 9, 30, 0, 0, loc)},
	} {
		got, err := Parse(tt.in, loc)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"15.06.2027", "2027-02-30", "tomorrow", ""} {
		if _, err := Parse(bad, loc); err == nil || !strings.Contains(err.Error(), "want a date like 2027-06-15") {
			t.Errorf("Parse(%q) = %v; want an error showing the format", bad, err)
		}
	}
}

func TestCheckAPI(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8081", true},
		{"http://localhost:8081", true},
		{"http://[::1]:8081", true},
		{"https://api.telegram.org", false},
		{"http://10.0.0.7:8081", false},
	} {
		if err := CheckAPI(tt.url); (err == nil) != tt.ok {
			t.Errorf("CheckAPI(%q) = %v; want allowed %v", tt.url, err, tt.ok)
		}
	}
}

// TestEvents_OnWorkingDaysFromTheSecond: the events a rehearsal brings
// start on the second working day after now (no reminder comes due during
// a short run), skip weekends and holidays, and the second and third are
// small enough to fill.
func TestEvents_OnWorkingDaysFromTheSecond(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation("Asia/Almaty")
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.Default(loc)
	// A Friday before Nauryz (21 to 23 March), a weekend and holidays.
	now := time.Date(2027, 3, 19, 12, 0, 0, 0, loc)
	events := Events(now, cat)
	if len(events) != 7 {
		t.Fatalf("%d events, want 7", len(events))
	}
	for i, e := range events {
		day := catalog.DateOf(e.Start.In(loc))
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday || cat.IsHoliday(day) {
			t.Errorf("event %d on %v, a day off", i, e.Start)
		}
		if i > 0 && !e.Start.After(events[i-1].Start) {
			t.Errorf("event %d at %v, not after the one before", i, e.Start)
		}
		if e.SeedID == "" || e.CenterID == "" || e.TitleKK == "" || e.TitleRU == "" {
			t.Errorf("event %d = %+v, want a seed id, a center and both titles", i, e)
		}
	}
	// The first event is on the second working day after today, its own
	// day counted.
	working := 0
	for d := catalog.DateOf(now).At(0, loc).AddDate(0, 0, 1); d.Before(events[0].Start); d = d.AddDate(0, 0, 1) {
		day := catalog.DateOf(d)
		if wd := day.Weekday(); wd != time.Saturday && wd != time.Sunday && !cat.IsHoliday(day) {
			working++
		}
	}
	if working != 2 || !events[0].Start.After(time.Date(2027, 3, 24, 0, 0, 0, 0, loc)) {
		t.Errorf("first event at %v: %d working days from tomorrow up to it, want it on the second, after Nauryz", events[0].Start, working)
	}
	if events[1].Capacity != 2 || events[2].Capacity != 1 {
		t.Errorf("capacities %d and %d, want 2 and 1 (to fill one and wait for another)", events[1].Capacity, events[2].Capacity)
	}
}
