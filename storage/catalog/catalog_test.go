package catalog_test

import (
	"math"
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the machine's zoneinfo

	"jastar/storage/catalog"
)

func defaultCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Parse("default.toml", catalog.DefaultTOML(), nil)
	if err != nil {
		t.Fatalf("default catalog does not validate:\n%v", err)
	}
	return c
}

func TestText_In(t *testing.T) {
	tests := []struct {
		name string
		text catalog.Text
		lang string
		want string
	}{
		{"kazakh", catalog.Text{KK: "сәлем", RU: "привет"}, "kk", "сәлем"},
		{"russian", catalog.Text{KK: "сәлем", RU: "привет"}, "ru", "привет"},
		{"kazakh missing falls back", catalog.Text{RU: "привет"}, "kk", "привет"},
		{"russian missing falls back", catalog.Text{KK: "сәлем"}, "ru", "сәлем"},
		{"unknown language reads Kazakh", catalog.Text{KK: "сәлем", RU: "привет"}, "en", "сәлем"},
		{"empty", catalog.Text{}, "ru", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.text.In(tt.lang); got != tt.want {
				t.Errorf("In(%q) = %q, want %q", tt.lang, got, tt.want)
			}
		})
	}
}

func TestParseClock(t *testing.T) {
	tests := []struct {
		in      string
		want    catalog.Clock
		wantErr bool
	}{
		{"09:00", 9 * 60, false},
		{"9:00", 9 * 60, false},
		{"13:45", 13*60 + 45, false},
		{"00:00", 0, false},
		{"24:00", 24 * 60, false},
		{"25:00", 0, true},
		{"24:01", 0, true},
		{"12:60", 0, true},
		{"9h", 0, true},
		{"9", 0, true},
		{"09:0", 0, true},
		{"123:00", 0, true},
		{"-1:00", 0, true},
		{"", 0, true},
		{"09:00 ", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := catalog.ParseClock(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseClock(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseClock(%q) = %d, want %d", tt.in, got, tt.want)
			}
			if err == nil && got.String() != tt.in && "0"+tt.in != got.String() {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestSchedule_Slots(t *testing.T) {
	clock := func(s string) catalog.Clock {
		t.Helper()
		c, err := catalog.ParseClock(s)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	clocks := func(ss ...string) []catalog.Clock {
		var out []catalog.Clock
		for _, s := range ss {
			out = append(out, clock(s))
		}
		return out
	}
	tests := []struct {
		name string
		s    catalog.Schedule
		want []catalog.Clock
	}{
		{
			"hourly around lunch",
			catalog.Schedule{Open: clock("09:00"), Close: clock("18:00"), BreakStart: clock("13:00"), BreakEnd: clock("14:00"), SlotMinutes: 60},
			clocks("09:00", "10:00", "11:00", "12:00", "14:00", "15:00", "16:00", "17:00"),
		},
		{
			// 12:45 would run into lunch, so the next slot starts at 14:00;
			// 17:45 would end after 18:00, so it is dropped.
			"45 minutes around lunch",
			catalog.Schedule{Open: clock("09:00"), Close: clock("18:00"), BreakStart: clock("13:00"), BreakEnd: clock("14:00"), SlotMinutes: 45},
			clocks("09:00", "09:45", "10:30", "11:15", "12:00", "14:00", "14:45", "15:30", "16:15", "17:00"),
		},
		{
			"no break",
			catalog.Schedule{Open: clock("10:00"), Close: clock("12:00"), SlotMinutes: 30},
			clocks("10:00", "10:30", "11:00", "11:30"),
		},
		{
			"slot longer than the day",
			catalog.Schedule{Open: clock("10:00"), Close: clock("11:00"), SlotMinutes: 90},
			nil,
		},
		{
			"zero slot length gives no slots instead of looping",
			catalog.Schedule{Open: clock("10:00"), Close: clock("11:00")},
			nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Slots(); !slices.Equal(got, tt.want) {
				t.Errorf("Slots() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDate(t *testing.T) {
	d, err := catalog.ParseDate("2026-12-16")
	if err != nil {
		t.Fatal(err)
	}
	if want := (catalog.Date{Year: 2026, Month: time.December, Day: 16}); d != want {
		t.Errorf("ParseDate = %+v, want %+v", d, want)
	}
	if d.String() != "2026-12-16" {
		t.Errorf("String() = %q", d.String())
	}
	if got := d.Weekday(); got != time.Wednesday {
		t.Errorf("Weekday() = %v, want Wednesday", got)
	}
	for _, bad := range []string{"2026-02-30", "2026-13-01", "16.12.2026", "2026-12-16 10:00", ""} {
		if _, err := catalog.ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) succeeded, want an error", bad)
		}
	}
	loc := time.FixedZone("UTC+5", 5*3600)
	if got, want := d.At(24*60, loc), time.Date(2026, 12, 17, 0, 0, 0, 0, loc); !got.Equal(want) {
		t.Errorf("At(24:00) = %v, want %v", got, want)
	}
	// 23:30 UTC on 15 December is already the 16th in Almaty (UTC+5).
	if got := catalog.DateOf(time.Date(2026, 12, 15, 23, 30, 0, 0, time.UTC).In(loc)); got != d {
		t.Errorf("DateOf = %v, want %v", got, d)
	}
}

func TestCatalog_IsHoliday(t *testing.T) {
	c := defaultCatalog(t)
	tests := []struct {
		date string
		want bool
	}{
		{"2026-01-01", true},
		{"2026-03-22", true},  // Nauryz
		{"2026-05-27", true},  // Kurban ait
		{"2027-05-16", true},  // Kurban ait
		{"2026-12-16", true},  // Independence Day
		{"2026-12-17", false}, // not a holiday since 2022
		{"2026-12-15", false},
		{"2027-01-07", true},
		{"2027-02-10", false},
		// Yearly holidays hold in years the catalog lists nothing for.
		{"2031-01-01", true},
		{"2033-03-21", true},
		{"2035-12-16", true},
		{"2035-12-17", false},
		{"2028-02-29", false}, // a leap day is an ordinary day
		{"2030-05-27", false}, // Kurban ait moves: 2026's date is not 2030's
	}
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			d, err := catalog.ParseDate(tt.date)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.IsHoliday(d); got != tt.want {
				t.Errorf("IsHoliday(%s) = %v, want %v", tt.date, got, tt.want)
			}
		})
	}
}

func TestCatalog_YearsWithoutDatedHolidays(t *testing.T) {
	c := defaultCatalog(t)
	tests := []struct {
		now  time.Time
		want []int
	}{
		{time.Date(2026, 12, 7, 10, 0, 0, 0, c.Location()), nil},
		{time.Date(2027, 6, 15, 10, 0, 0, 0, c.Location()), []int{2028}},
		{time.Date(2030, 1, 1, 0, 30, 0, 0, c.Location()), []int{2030, 2031}},
		// 31 December 2026, 20:00 UTC is already 2027 in Almaty.
		{time.Date(2027, 12, 31, 20, 0, 0, 0, time.UTC), []int{2028, 2029}},
	}
	for _, tt := range tests {
		if got := c.YearsWithoutDatedHolidays(tt.now); !slices.Equal(got, tt.want) {
			t.Errorf("YearsWithoutDatedHolidays(%v) = %v, want %v", tt.now, got, tt.want)
		}
	}
}

func TestParseMonthDay(t *testing.T) {
	for _, s := range []string{"01-01", "02-29", "12-31"} {
		md, err := catalog.ParseMonthDay(s)
		if err != nil || md.String() != s {
			t.Errorf("ParseMonthDay(%q) = %v, %v; want it back", s, md, err)
		}
	}
	for _, s := range []string{"", "2-29", "02-30", "13-01", "1-1", "12-16 ", "2026-12-16", "12/16"} {
		if _, err := catalog.ParseMonthDay(s); err == nil {
			t.Errorf("ParseMonthDay(%q) accepted a day no year has", s)
		}
	}
}

// lawOfCosines is the great-circle distance by a different formula from
// haversine, so the two check each other.
func lawOfCosines(lat1, lon1, lat2, lon2 float64) float64 {
	r := math.Pi / 180
	c := math.Sin(lat1*r)*math.Sin(lat2*r) + math.Cos(lat1*r)*math.Cos(lat2*r)*math.Cos((lon2-lon1)*r)
	return catalog.EarthRadiusKm * math.Acos(math.Min(1, c))
}

func TestDistance(t *testing.T) {
	const R = 6371.0088
	tests := []struct {
		name                   string
		lat1, lon1, lat2, lon2 float64
		want, tolerance        float64
	}{
		{"same point", 43.199, 76.621, 43.199, 76.621, 0, 1e-9},
		// A quarter of a meridian is a quarter of the circumference.
		{"equator to pole", 0, 0, 90, 0, math.Pi / 2 * R, 1e-6},
		// One degree along the equator is 2πR/360.
		{"one degree of equator", 0, 10, 0, 11, 2 * math.Pi * R / 360, 1e-6},
		{"antipodes", 0, 0, 0, 180, math.Pi * R, 1e-6},
		// Kaskelen to Konaev: 0.668° of latitude (74.3 km) and 0.446° of
		// longitude at a mean latitude of 43.53° (0.446 × 111.19 ×
		// cos 43.53° = 35.9 km) make √(74.3² + 35.9²) ≈ 82.5 km on a flat
		// map, which is good to well under a kilometre at this size.
		{"Kaskelen to Konaev", 43.199, 76.621, 43.867, 77.067, 82.5, 0.5},
		// Bakanas to Kaskelen: 1.609° of latitude (178.9 km) and 0.347° of
		// longitude at 44.0° (27.8 km): ≈ 181.0 km.
		{"Bakanas to Kaskelen", 44.808, 76.274, 43.199, 76.621, 181.0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := catalog.Distance(tt.lat1, tt.lon1, tt.lat2, tt.lon2)
			if math.Abs(got-tt.want) > tt.tolerance {
				t.Errorf("Distance = %.6f km, want %.6f ± %g", got, tt.want, tt.tolerance)
			}
			if back := catalog.Distance(tt.lat2, tt.lon2, tt.lat1, tt.lon1); math.Abs(back-got) > 1e-9 {
				t.Errorf("Distance is not symmetric: %v and %v", got, back)
			}
			if other := lawOfCosines(tt.lat1, tt.lon1, tt.lat2, tt.lon2); math.Abs(other-got) > 1e-3 {
				t.Errorf("haversine %.6f km, law of cosines %.6f km", got, other)
			}
		})
	}
}

func TestCatalog_Nearest(t *testing.T) {
	c := defaultCatalog(t)
	tests := []struct {
		name     string
		lat, lon float64
		wantID   string
		maxKm    float64
		farAway  bool
	}{
		{"Kaskelen", 43.20, 76.62, "karasai", 1, false},
		{"Bakanas", 44.81, 76.27, "balkhash", 1, false},
		{"Konaev", 43.87, 77.07, "konaev", 1, false},
		{"Narynkol", 42.72, 80.13, "raiymbek", 1, false},
		// Karaganda is far from Almaty region but has its own center.
		{"Karaganda", 49.80, 73.10, "karaganda", 1, false},
		// Talgar's own center is only opening: the nearest open one is in
		// Otegen batyr, about 22 km away (12.9 km north, 18.0 km west).
		{"Talgar", 43.304, 77.240, "ili", 40, false},
		{"Null Island", 0, 0, "", 0, true},
		{"Moscow", 55.75, 37.62, "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, far := c.Nearest(tt.lat, tt.lon, 3)
			if far != tt.farAway {
				t.Errorf("farAway = %v, want %v", far, tt.farAway)
			}
			if len(list) == 0 {
				t.Fatal("empty list")
			}
			if tt.wantID != "" {
				if got := list[0].Center.ID; got != tt.wantID {
					t.Errorf("nearest = %q, want %q", got, tt.wantID)
				}
				if list[0].Km > tt.maxKm {
					t.Errorf("nearest is %.1f km away, want at most %v", list[0].Km, tt.maxKm)
				}
			}
			checkNearest(t, c, list, 3)
		})
	}

	t.Run("opening soon never ahead of open", func(t *testing.T) {
		// A grid over Almaty region and around it, including the very
		// settlements of the centers opening soon.
		for lat := 42.0; lat <= 46.0; lat += 0.25 {
			for lon := 74.0; lon <= 81.0; lon += 0.25 {
				for _, n := range []int{1, 3} {
					list, _ := c.Nearest(lat, lon, n)
					checkNearest(t, c, list, n)
				}
			}
		}
		list, _ := c.Nearest(43.304, 77.240, 3) // in Talgar itself
		var soon []string
		for _, nb := range list {
			if !nb.Center.IsOpen() {
				soon = append(soon, nb.Center.ID)
			}
		}
		if len(soon) == 0 || soon[0] != "talgar" {
			t.Errorf("in Talgar the centers opening soon are %v, want talgar first", soon)
		}
	})

	t.Run("all open centers", func(t *testing.T) {
		list, _ := c.Nearest(43.2, 76.6, 0)
		open := 0
		for _, ce := range c.Centers {
			if ce.IsOpen() && !ce.Online {
				open++
			}
		}
		got := 0
		for _, nb := range list {
			if nb.Center.IsOpen() {
				got++
			}
		}
		if got != open {
			t.Errorf("n=0 gave %d open centers, want all %d", got, open)
		}
	})

	t.Run("NaN is far away", func(t *testing.T) {
		if _, far := c.Nearest(math.NaN(), 76, 3); !far {
			t.Error("farAway = false for NaN latitude")
		}
	})
}

// checkNearest checks the invariants of a Nearest list.
func checkNearest(t *testing.T, c *catalog.Catalog, list []catalog.Nearby, n int) {
	t.Helper()
	open, soon := 0, 0
	for i, nb := range list {
		switch {
		case nb.Center.Online:
			t.Fatalf("the online desk is in the list")
		case nb.Center.IsOpen():
			if soon > 0 {
				t.Fatalf("open center %q after a center opening soon: %v", nb.Center.ID, ids(list))
			}
			open++
		default:
			soon++
			if nb.Km > catalog.SoonWithinKm {
				t.Fatalf("center opening soon %q is %.0f km away", nb.Center.ID, nb.Km)
			}
		}
		if i > 0 && list[i-1].Center.IsOpen() == nb.Center.IsOpen() && list[i-1].Km > nb.Km {
			t.Fatalf("not nearest first: %v", ids(list))
		}
	}
	if open != n {
		t.Fatalf("%d open centers, want %d: %v", open, n, ids(list))
	}
	if soon > catalog.SoonMax {
		t.Fatalf("%d centers opening soon, want at most %d", soon, catalog.SoonMax)
	}
}

func ids(list []catalog.Nearby) []string {
	var out []string
	for _, nb := range list {
		out = append(out, nb.Center.ID)
	}
	return out
}

func TestCatalog_lookups(t *testing.T) {
	c := defaultCatalog(t)

	if ce, ok := c.Center("karasai"); !ok || ce.Settlement.RU != "Каскелен" {
		t.Errorf("Center(karasai) = %+v, %v", ce.Settlement, ok)
	}
	if _, ok := c.Center("nowhere"); ok {
		t.Error("Center(nowhere) found")
	}
	if d, ok := c.District("konaev"); !ok || d.Kind != catalog.KindCity {
		t.Errorf("District(konaev) = %+v, %v", d, ok)
	}
	if ty, ok := c.Type("career"); !ok || ty.Bring.IsZero() {
		t.Errorf("Type(career) = %+v, %v", ty, ok)
	}
	if _, ok := c.Type("dance"); ok {
		t.Error("Type(dance) found")
	}

	desk, ok := c.OnlineDesk()
	if !ok || desk.ID != "online" || !desk.Online {
		t.Errorf("OnlineDesk() = %q, %v", desk.ID, ok)
	}

	if got := centerIDs(c.CentersIn("karasai")); !slices.Equal(got, []string{"karasai"}) {
		t.Errorf("CentersIn(karasai) = %v", got)
	}
	if got := centerIDs(c.CentersIn("alatau")); len(got) != 0 {
		t.Errorf("CentersIn(alatau) = %v, want none", got)
	}

	var listed []string
	for _, d := range c.ListedDistricts() {
		listed = append(listed, d.ID)
	}
	for _, want := range []string{"balkhash", "karasai", "kegen", "raiymbek", "konaev", "ili", "talgar", "zhambyl", "enbekshikazakh", "uygur", "karaganda"} {
		if !slices.Contains(listed, want) {
			t.Errorf("ListedDistricts() = %v, missing %q", listed, want)
		}
	}
	if slices.Contains(listed, "alatau") {
		t.Errorf("ListedDistricts() lists alatau, which has no center")
	}

	if s, ok := c.ScheduleFor("karasai", "housing"); !ok || s.Capacity < 1 || len(s.Slots()) == 0 {
		t.Errorf("ScheduleFor(karasai, housing) = %+v, %v", s, ok)
	}
	if _, ok := c.ScheduleFor("talgar", "career"); ok {
		t.Error("a center opening soon has a schedule")
	}
	if _, ok := c.ScheduleFor("nowhere", "career"); ok {
		t.Error("ScheduleFor(nowhere) found")
	}
	if got := centerIDs(c.CentersOffering("housing")); !slices.Equal(got, []string{"karasai"}) {
		t.Errorf("CentersOffering(housing) = %v, want [karasai]", got)
	}
	if got := centerIDs(c.CentersOffering("psychology")); !slices.Contains(got, "online") || !slices.Contains(got, "balkhash") {
		t.Errorf("CentersOffering(psychology) = %v, want the online desk and balkhash among them", got)
	}

	if !c.OpenCenterOffers("housing") || !c.OpenCenterOffers("psychology") {
		t.Error("OpenCenterOffers is false for a type open centers book")
	}
	if c.OpenCenterOffers("nothing-like-it") {
		t.Error("OpenCenterOffers is true for a type no center has")
	}
	// Karasai alone books housing: once it is not open, nobody does.
	for i := range c.Centers {
		if c.Centers[i].ID == "karasai" {
			c.Centers[i].Status = catalog.StatusOpeningSoon
		}
	}
	if c.OpenCenterOffers("housing") {
		t.Error("OpenCenterOffers(housing) is true with its only center not open")
	}
}

func centerIDs(cs []catalog.Center) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func TestParseHelpHours(t *testing.T) {
	week := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
	tests := []struct {
		in   string
		want catalog.HelpHours
		str  string
	}{
		{"24/7", catalog.HelpHours{Always: true}, "24/7"},
		{" 24/7 ", catalog.HelpHours{Always: true}, "24/7"},
		{"09:00-18:00", catalog.HelpHours{Days: week, Open: 9 * 60, Close: 18 * 60}, "mon-sun 09:00-18:00"},
		{"mon-fri 09:00-18:00", catalog.HelpHours{Days: week[:5], Open: 9 * 60, Close: 18 * 60}, "mon-fri 09:00-18:00"},
		{"Sat-Sun 10:00 - 24:00", catalog.HelpHours{Days: week[5:], Open: 10 * 60, Close: 24 * 60}, "sat-sun 10:00-24:00"},
		{"fri,mon,wed 10:00-14:00", catalog.HelpHours{Days: []time.Weekday{time.Monday, time.Wednesday, time.Friday}, Open: 10 * 60, Close: 14 * 60}, "mon,wed,fri 10:00-14:00"},
		{"sun 9:30-12:00", catalog.HelpHours{Days: week[6:], Open: 9*60 + 30, Close: 12 * 60}, "sun 09:30-12:00"},
	}
	for _, tt := range tests {
		got, err := catalog.ParseHelpHours(tt.in)
		if err != nil {
			t.Errorf("ParseHelpHours(%q) = %v", tt.in, err)
			continue
		}
		if got.Always != tt.want.Always || got.Open != tt.want.Open || got.Close != tt.want.Close || !slices.Equal(got.Days, tt.want.Days) {
			t.Errorf("ParseHelpHours(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if s := got.String(); s != tt.str {
			t.Errorf("ParseHelpHours(%q).String() = %q, want %q", tt.in, s, tt.str)
		}
		if again, err := catalog.ParseHelpHours(got.String()); err != nil || again.String() != got.String() {
			t.Errorf("String() %q does not parse back: %v", got.String(), err)
		}
	}
	for _, bad := range []string{"", "24/7/365", "always", "mon-fri", "mon-fri 9-18", "fri-mon 09:00-18:00",
		"mon,mon 09:00-18:00", "mon-fri 18:00-09:00", "mon-fri 09:00-09:00", "mon-fri 09:00-25:00", "weekdays 09:00-18:00"} {
		if h, err := catalog.ParseHelpHours(bad); err == nil {
			t.Errorf("ParseHelpHours(%q) = %+v, want an error", bad, h)
		}
	}
}

func TestHelpHours_OpenAt(t *testing.T) {
	almaty, err := time.LoadLocation("Asia/Almaty")
	if err != nil {
		t.Fatal(err)
	}
	weekdays, err := catalog.ParseHelpHours("mon-fri 09:00-18:00")
	if err != nil {
		t.Fatal(err)
	}
	// 7 December 2026 is a Monday.
	at := func(day, hour, minute int) time.Time { return time.Date(2026, 12, day, hour, minute, 0, 0, almaty) }
	tests := []struct {
		name  string
		hours catalog.HelpHours
		at    time.Time
		want  bool
	}{
		{"around the clock at night", catalog.HelpHours{Always: true}, at(13, 3, 0), true},
		{"opening minute", weekdays, at(7, 9, 0), true},
		{"last minute", weekdays, at(7, 17, 59), true},
		{"closing minute", weekdays, at(7, 18, 0), false},
		{"before opening", weekdays, at(11, 8, 59), false},
		{"saturday", weekdays, at(12, 12, 0), false},
	}
	for _, tt := range tests {
		if got := tt.hours.OpenAt(tt.at); got != tt.want {
			t.Errorf("%s: OpenAt(%v) = %v, want %v", tt.name, tt.at, got, tt.want)
		}
	}
}
