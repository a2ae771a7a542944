package catalog_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jastar/storage/catalog"
)

func TestDefault(t *testing.T) {
	c := defaultCatalog(t)
	if got := catalog.Default(nil); len(got.Centers) != len(c.Centers) {
		t.Fatalf("Default has %d centers, Parse of DefaultTOML %d", len(got.Centers), len(c.Centers))
	}
	if c.TimeZone != "Asia/Almaty" || c.Location().String() != "Asia/Almaty" {
		t.Errorf("time zone %q, location %v", c.TimeZone, c.Location())
	}
	if c.Region.RU != "Алматинская область" || c.Region.KK != "Алматы облысы" {
		t.Errorf("region = %+v", c.Region)
	}

	// The centers of PRODUCT.md, with the coordinates of their settlements.
	want := []struct {
		id, district string
		status       catalog.Status
		lat, lon     float64
	}{
		{"balkhash", "balkhash", catalog.StatusOpen, 44.808, 76.274},
		{"karasai", "karasai", catalog.StatusOpen, 43.199, 76.621},
		{"kegen", "kegen", catalog.StatusOpen, 42.978, 79.224},
		{"raiymbek", "raiymbek", catalog.StatusOpen, 42.724, 80.131},
		{"konaev", "konaev", catalog.StatusOpen, 43.867, 77.067},
		{"ili", "ili", catalog.StatusOpen, 43.420, 77.018},
		{"talgar", "talgar", catalog.StatusOpeningSoon, 43.304, 77.240},
		{"zhambyl", "zhambyl", catalog.StatusOpeningSoon, 43.221, 76.313},
		{"enbekshikazakh", "enbekshikazakh", catalog.StatusOpeningSoon, 43.355, 77.453},
		{"uygur", "uygur", catalog.StatusOpeningSoon, 43.539, 79.464},
		{"karaganda", "karaganda", catalog.StatusOpen, 49.805, 73.109},
	}
	for _, w := range want {
		ce, ok := c.Center(w.id)
		if !ok {
			t.Errorf("center %q missing", w.id)
			continue
		}
		if ce.DistrictID != w.district || ce.Status != w.status || ce.Lat != w.lat || ce.Lon != w.lon || ce.Online {
			t.Errorf("center %q = district %q, status %q, %v,%v, online %v; want %q, %q, %v,%v",
				w.id, ce.DistrictID, ce.Status, ce.Lat, ce.Lon, ce.Online, w.district, w.status, w.lat, w.lon)
		}
		if _, ok := c.District(ce.DistrictID); !ok {
			t.Errorf("center %q: district %q missing", w.id, ce.DistrictID)
		}
		// The articles give no address, phone or hours; inventing them
		// would send people to the wrong door.
		if !ce.Address.IsZero() || ce.Phone != "" || !ce.Hours.IsZero() {
			t.Errorf("center %q has address/phone/hours the articles do not give", w.id)
		}
		if ce.StaffChatID != 0 || len(ce.StaffUserIDs) != 0 {
			t.Errorf("center %q has staff ids; the operator fills them in", w.id)
		}
		if w.status == catalog.StatusOpeningSoon {
			if ce.OpensNote.RU != "2026" || len(ce.Schedules) != 0 {
				t.Errorf("center %q: opens note %+v, %d schedules", w.id, ce.OpensNote, len(ce.Schedules))
			}
		}
	}
	if n := len(c.Centers); n != len(want)+1 {
		t.Errorf("%d centers, want %d and the online desk", n, len(want))
	}

	desk, ok := c.OnlineDesk()
	if !ok || desk.Lat != 0 || desk.Lon != 0 || desk.DistrictID != "" {
		t.Errorf("online desk = %+v, %v", desk, ok)
	}
	for _, typ := range []string{"career", "legal", "psychology"} {
		if _, ok := c.ScheduleFor("online", typ); !ok {
			t.Errorf("the online desk has no %s schedule", typ)
		}
	}

	for _, id := range []string{"career", "legal", "psychology", "housing", "health", "business"} {
		ty, ok := c.Type(id)
		if !ok {
			t.Errorf("type %q missing", id)
			continue
		}
		if ty.Bring.KK == "" || ty.Bring.RU == "" || ty.Emoji == "" {
			t.Errorf("type %q: bring %+v, emoji %q", id, ty.Bring, ty.Emoji)
		}
	}
	// Psychology is the consultation young people skip if anyone has to
	// know: only it is anonymous and discreet.
	for _, ty := range c.Types {
		want := ty.ID == "psychology"
		if ty.Anonymous != want || ty.Discreet != want {
			t.Errorf("type %q: anonymous %v, discreet %v; want %v", ty.ID, ty.Anonymous, ty.Discreet, want)
		}
	}

	// Anonymous codes start with the letter staff know the type by: П for
	// a psychologist in both languages, though the Russian name starts with
	// "Консультация".
	for _, tt := range []struct{ typ, lang, want string }{
		{"psychology", "ru", "П"}, {"psychology", "kk", "П"}, {"career", "ru", "К"}, {"career", "kk", "М"}, {"legal", "ru", "Ю"},
	} {
		ty, _ := c.Type(tt.typ)
		if got := ty.CodeLetter(tt.lang); got != tt.want {
			t.Errorf("type %q: CodeLetter(%s) = %q, want %q", tt.typ, tt.lang, got, tt.want)
		}
	}

	// The national lines, free and around the clock, 111 first: it is the
	// one for violence at home or at school.
	var numbers []string
	for _, h := range c.HelpLines {
		numbers = append(numbers, h.Number)
		if !h.Free || !h.Hours.Always || h.Name.KK == "" || h.Name.RU == "" || h.Description.KK == "" || h.Description.RU == "" {
			t.Errorf("help line %+v", h)
		}
	}
	if strings.Join(numbers, ",") != "111,112" {
		t.Errorf("help lines %v, want 111 and 112", numbers)
	}

	for _, typ := range []string{"housing", "health"} {
		if _, ok := c.ScheduleFor("karasai", typ); !ok {
			t.Errorf("Karasai has no %s schedule", typ)
		}
	}

	for _, id := range []string{"balkhash", "enbekshikazakh", "zhambyl", "ili", "karasai", "kegen", "raiymbek", "talgar", "uygur", "konaev", "alatau", "karaganda"} {
		if _, ok := c.District(id); !ok {
			t.Errorf("district %q missing", id)
		}
	}

	// Seed events happen at open centers on working days, December 2026 to
	// February 2027, in Almaty time.
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, c.Location())
	to := time.Date(2027, 3, 1, 0, 0, 0, 0, c.Location())
	if len(c.Events) < 4 {
		t.Errorf("%d seed events, want at least 4", len(c.Events))
	}
	for _, e := range c.Events {
		ce, _ := c.Center(e.CenterID)
		d := catalog.DateOf(e.Start)
		if !ce.IsOpen() || e.Start.Before(from) || !e.Start.Before(to) || c.IsHoliday(d) ||
			d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			t.Errorf("event %q at %q on %v", e.ID, e.CenterID, e.Start)
		}
		if e.Start.Location() != c.Location() {
			t.Errorf("event %q in %v", e.ID, e.Start.Location())
		}
	}
}

func TestParse_location(t *testing.T) {
	// Kazakhstan is UTC+5: 15:00 in Bakanas is 10:00 UTC.
	want := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	for _, loc := range []*time.Location{nil, time.FixedZone("UTC+5", 5*3600)} {
		c := catalog.Default(loc)
		var e catalog.EventSeed
		for _, ev := range c.Events {
			if ev.ID == "finlit_bakanas_2612" {
				e = ev
			}
		}
		if !e.Start.Equal(want) {
			t.Errorf("loc %v: start %v, want %v", loc, e.Start, want)
		}
		if got := e.End().Sub(e.Start); got != 90*time.Minute {
			t.Errorf("End() - Start = %v, want 1h30m", got)
		}
	}
}

// base is a small valid catalog that the cases below break one way each.
const base = `region = { kk = "Алматы облысы", ru = "Алматинская область" }
time_zone = "Asia/Almaty"
holidays = [
  "2026-12-16",
]

[[districts]]
id = "karasai"
kind = "district"
name = { kk = "Қарасай ауданы", ru = "Карасайский район" }

[[types]]
id = "career"
name = { kk = "Мансап", ru = "Карьера" }

[[centers]]
id = "kaskelen"
district = "karasai"
name = { kk = "Жастар орталығы", ru = "Молодёжный центр" }
settlement = { kk = "Қаскелең", ru = "Каскелен" }
lat = 43.199
lon = 76.621

  [[centers.schedules]]
  type = "career"
  days = ["mon", "fri"]
  open = "09:00"
  close = "18:00"
  break_start = "13:00"
  break_end = "14:00"
  slot_minutes = 60
  capacity = 1

[[events]]
id = "training"
center = "kaskelen"
title = { kk = "Тренинг", ru = "Тренинг" }
start = "2026-12-05 15:00"
minutes = 90
capacity = 20

[[help_lines]]
number = "111"
name = { kk = "Байланыс орталығы", ru = "Контакт-центр" }
description = { kk = "Отбасы мен балалар құқығы", ru = "Права семьи и детей" }
hours = "24/7"
free = true
`

const secondCenter = `
[[centers]]
id = "kaskelen"
district = "karasai"
name = { kk = "Екінші", ru = "Второй" }
settlement = { kk = "Қаскелең", ru = "Каскелен" }
lat = 43.2
lon = 76.6
`

func TestParse_base(t *testing.T) {
	c, err := catalog.Parse("catalog.toml", []byte(base), nil)
	if err != nil {
		t.Fatalf("base does not validate:\n%v", err)
	}
	s, ok := c.ScheduleFor("kaskelen", "career")
	if !ok || len(s.Days) != 2 || s.Days[0] != time.Monday || s.Days[1] != time.Friday || s.Capacity != 1 || len(s.Slots()) != 8 {
		t.Errorf("schedule = %+v", s)
	}
	if ce, _ := c.Center("kaskelen"); ce.Status != catalog.StatusOpen {
		t.Errorf("status %q; a center without status is open", ce.Status)
	}
}

// edit replaces old with new in src, once; the test fails if old is absent.
func edit(t *testing.T, src, old, new string) string {
	t.Helper()
	if !strings.Contains(src, old) {
		t.Fatalf("%q not in the snippet", old)
	}
	return strings.Replace(src, old, new, 1)
}

// helpLine replaces old with new in the help line of base.
func helpLine(old, new string) func(t *testing.T) string {
	return func(t *testing.T) string {
		i := strings.Index(base, "[[help_lines]]")
		return base[:i] + edit(t, base[i:], old, new)
	}
}

// extraHelpLine is one more help line with the given number.
func extraHelpLine(number string) string {
	return "\n[[help_lines]]\nnumber = \"" + number + "\"\nname = { kk = \"А\", ru = \"Б\" }\ndescription = { kk = \"А\", ru = \"Б\" }\nhours = \"24/7\"\nfree = true\n"
}

// centerLine adds a line to the center of base.
func centerLine(line string) func(t *testing.T) string {
	return func(t *testing.T) string { return edit(t, base, "lon = 76.621", "lon = 76.621\n"+line) }
}

// lineOf returns the line of the n-th (1-based) occurrence of s in src.
func lineOf(t *testing.T, src, s string, n int) int {
	t.Helper()
	off := 0
	for i := 0; i < n; i++ {
		j := strings.Index(src[off:], s)
		if j < 0 {
			t.Fatalf("%q occurs fewer than %d times", s, n)
		}
		off += j + len(s)
	}
	return strings.Count(src[:off-len(s)], "\n") + 1
}

func TestParse_problems(t *testing.T) {
	type want struct {
		line         string // the text whose line the problem must have; "" for no line
		nth          int    // which occurrence of line; 0 means the first
		kind, id     string
		field, inMsg string
	}
	tests := []struct {
		name string
		src  func(t *testing.T) string
		want want
	}{
		{"latitude out of range",
			func(t *testing.T) string { return edit(t, base, "lat = 43.199", "lat = 95.1") },
			want{"lat = 95.1", 0, "center", "kaskelen", "lat", "95.1 is out of range -90..90"}},
		{"longitude not a number",
			func(t *testing.T) string { return edit(t, base, "lon = 76.621", "lon = nan") },
			want{"lon = nan", 0, "center", "kaskelen", "lon", "out of range -180..180"}},
		{"latitude in quotes",
			func(t *testing.T) string { return edit(t, base, "lat = 43.199", `lat = "43.199"`) },
			want{`lat = "43.199"`, 0, "center", "kaskelen", "lat", "not a number"}},
		{"missing coordinates",
			func(t *testing.T) string { return edit(t, base, "lat = 43.199\n", "") },
			want{"[[centers]]", 0, "center", "kaskelen", "lat", "missing lat"}},
		{"duplicate center",
			func(t *testing.T) string { return base + secondCenter },
			want{`id = "kaskelen"`, 2, "center", "kaskelen", "id", "duplicate center id (first on line 17)"}},
		{"duplicate district",
			func(t *testing.T) string {
				return base + "\n[[districts]]\nid = \"karasai\"\nkind = \"district\"\nname = { kk = \"А\", ru = \"Б\" }\n"
			},
			want{`id = "karasai"`, 2, "district", "karasai", "id", "duplicate district id"}},
		{"duplicate type",
			func(t *testing.T) string {
				return base + "\n[[types]]\nid = \"career\"\nname = { kk = \"А\", ru = \"Б\" }\n"
			},
			want{`id = "career"`, 2, "type", "career", "id", "duplicate type id"}},
		{"duplicate event",
			func(t *testing.T) string {
				return base + "\n[[events]]\nid = \"training\"\ncenter = \"kaskelen\"\ntitle = { kk = \"А\", ru = \"Б\" }\nstart = \"2026-12-06 15:00\"\nminutes = 60\ncapacity = 5\n"
			},
			want{`id = "training"`, 2, "event", "training", "id", "duplicate event id"}},
		{"missing Kazakh name",
			func(t *testing.T) string {
				return edit(t, base, `name = { kk = "Жастар орталығы", ru = "Молодёжный центр" }`, `name = { ru = "Молодёжный центр" }`)
			},
			want{`name = { ru = "Молодёжный центр" }`, 0, "center", "kaskelen", "name", "missing the Kazakh text (kk)"}},
		{"missing Russian title",
			func(t *testing.T) string {
				return edit(t, base, `title = { kk = "Тренинг", ru = "Тренинг" }`, `title = { kk = "Тренинг", ru = "" }`)
			},
			want{`title = { kk = "Тренинг", ru = "" }`, 0, "event", "training", "title", "missing the Russian text (ru)"}},
		{"name as a plain string",
			func(t *testing.T) string {
				return edit(t, base, `name = { kk = "Мансап", ru = "Карьера" }`, `name = "Карьера"`)
			},
			want{`name = "Карьера"`, 0, "type", "career", "name", "not a text in two languages"}},
		{"unknown language",
			func(t *testing.T) string {
				return edit(t, base, `name = { kk = "Мансап", ru = "Карьера" }`, `name = { kk = "Мансап", ru = "Карьера", en = "Career" }`)
			},
			want{`en = "Career"`, 0, "type", "career", "name", `unknown language "en"`}},
		{"unknown district",
			func(t *testing.T) string { return edit(t, base, `district = "karasai"`, `district = "nowhere"`) },
			want{`district = "nowhere"`, 0, "center", "kaskelen", "district", `unknown district "nowhere"`}},
		{"unknown consultation type",
			func(t *testing.T) string { return edit(t, base, `type = "career"`, `type = "dance"`) },
			want{`type = "dance"`, 0, "center", "kaskelen", "schedules[1].type", `unknown consultation type "dance"`}},
		{"unknown center in event",
			func(t *testing.T) string { return edit(t, base, `center = "kaskelen"`, `center = "almaty"`) },
			want{`center = "almaty"`, 0, "event", "training", "center", `unknown center "almaty"`}},
		{"hour out of range",
			func(t *testing.T) string { return edit(t, base, `open = "09:00"`, `open = "25:00"`) },
			want{`open = "25:00"`, 0, "center", "kaskelen", "schedules[1].open", "out of range 00:00..24:00"}},
		{"malformed time",
			func(t *testing.T) string { return edit(t, base, `close = "18:00"`, `close = "9h"`) },
			want{`close = "9h"`, 0, "center", "kaskelen", "schedules[1].close", `"9h" is not a time`}},
		{"time without quotes",
			func(t *testing.T) string { return edit(t, base, `close = "18:00"`, `close = 18`) },
			want{`close = 18`, 0, "center", "kaskelen", "schedules[1].close", "not a time"}},
		{"closes before it opens",
			func(t *testing.T) string { return edit(t, base, `close = "18:00"`, `close = "08:00"`) },
			want{`close = "08:00"`, 0, "center", "kaskelen", "schedules[1].close", "not after it opens"}},
		{"zero slot",
			func(t *testing.T) string { return edit(t, base, `slot_minutes = 60`, `slot_minutes = 0`) },
			want{`slot_minutes = 0`, 0, "center", "kaskelen", "schedules[1].slot_minutes", "not a slot length"}},
		{"slot longer than the day",
			func(t *testing.T) string { return edit(t, base, `slot_minutes = 60`, `slot_minutes = 600`) },
			want{`slot_minutes = 600`, 0, "center", "kaskelen", "schedules[1].slot_minutes", "does not fit"}},
		{"no specialist",
			func(t *testing.T) string { return edit(t, base, "  capacity = 1", "  capacity = 0") },
			want{"capacity = 0", 0, "center", "kaskelen", "schedules[1].capacity", "at least 1 specialist"}},
		{"unknown weekday",
			func(t *testing.T) string { return edit(t, base, `days = ["mon", "fri"]`, `days = ["mon", "friday"]`) },
			want{`days = ["mon", "friday"]`, 0, "center", "kaskelen", "schedules[1].days", `"friday" is not a weekday`}},
		{"break outside the hours",
			func(t *testing.T) string { return edit(t, base, `break_end = "14:00"`, `break_end = "19:00"`) },
			want{`break_start = "13:00"`, 0, "center", "kaskelen", "schedules[1].break_start", "not inside the hours"}},
		{"half a break",
			func(t *testing.T) string { return edit(t, base, "  break_end = \"14:00\"\n", "") },
			want{"[[centers.schedules]]", 0, "center", "kaskelen", "schedules[1].break_end", "both break_start and break_end"}},
		{"bad status",
			func(t *testing.T) string {
				return edit(t, base, `district = "karasai"`, "district = \"karasai\"\nstatus = \"closed\"")
			},
			want{`status = "closed"`, 0, "center", "kaskelen", "status", `"closed" is not a status`}},
		{"schedule at a center opening soon",
			func(t *testing.T) string {
				return edit(t, base, `district = "karasai"`, "district = \"karasai\"\nstatus = \"opening_soon\"")
			},
			want{"[[centers.schedules]]", 0, "center", "kaskelen", "", "takes no bookings"}},
		{"id with capitals and a dash",
			func(t *testing.T) string { return edit(t, base, `id = "kaskelen"`, `id = "Kaskelen-1"`) },
			want{`id = "Kaskelen-1"`, 0, "center", "Kaskelen-1", "id", "is not an id"}},
		{"id too long for a button",
			func(t *testing.T) string {
				return edit(t, base, `id = "training"`, `id = "a_training_with_a_long_name"`)
			},
			want{`id = "a_training_with_a_long_name"`, 0, "event", "a_training_with_a_long_name", "id", "1 to 24"}},
		{"event without places",
			func(t *testing.T) string { return edit(t, base, "capacity = 20", "capacity = 0") },
			want{"capacity = 0", 0, "event", "training", "capacity", "at least 1 place"}},
		{"event without length",
			func(t *testing.T) string { return edit(t, base, "minutes = 90", "minutes = -5") },
			want{"minutes = -5", 0, "event", "training", "minutes", "at least 1 minute"}},
		{"event start malformed",
			func(t *testing.T) string { return edit(t, base, `start = "2026-12-05 15:00"`, `start = "5 Dec 2026"`) },
			want{`start = "5 Dec 2026"`, 0, "event", "training", "start", "is not a start"}},
		{"invalid time zone",
			func(t *testing.T) string {
				return edit(t, base, `time_zone = "Asia/Almaty"`, `time_zone = "Asia/Nowhere"`)
			},
			want{`time_zone = "Asia/Nowhere"`, 0, "", "", "time_zone", `unknown time zone "Asia/Nowhere"`}},
		{"holiday that does not exist",
			func(t *testing.T) string { return edit(t, base, `"2026-12-16",`, "\"2026-12-16\",\n  \"2026-02-30\",") },
			want{`"2026-02-30"`, 0, "", "", "holidays", `"2026-02-30" is not a date`}},
		{"yearly holiday that does not exist",
			func(t *testing.T) string {
				return edit(t, base, "holidays = [", "yearly_holidays = [\"02-30\"]\nholidays = [")
			},
			want{`yearly_holidays = ["02-30"]`, 0, "", "", "yearly_holidays", `"02-30" is not a day like "12-16"`}},
		{"yearly holiday as a full date",
			func(t *testing.T) string {
				return edit(t, base, "holidays = [", "yearly_holidays = [\"2026-12-16\"]\nholidays = [")
			},
			want{`yearly_holidays = ["2026-12-16"]`, 0, "", "", "yearly_holidays", "(month-day)"}},
		{"yearly holiday twice",
			func(t *testing.T) string {
				return edit(t, base, "holidays = [", "yearly_holidays = [\"12-16\", \"12-16\"]\nholidays = [")
			},
			want{`yearly_holidays = ["12-16", "12-16"]`, 0, "", "", "yearly_holidays", "listed twice"}},
		{"bad district kind",
			func(t *testing.T) string { return edit(t, base, `kind = "district"`, `kind = "village"`) },
			want{`kind = "village"`, 0, "district", "karasai", "kind", `"village" is not a kind`}},
		{"staff user id not a number",
			func(t *testing.T) string {
				return edit(t, base, "lon = 76.621", "lon = 76.621\nstaff_user_ids = [\"@aidana\"]")
			},
			want{`staff_user_ids = ["@aidana"]`, 0, "center", "kaskelen", "staff_user_ids", "not a Telegram user id"}},
		{"online desk with coordinates",
			func(t *testing.T) string {
				return base + "\n[[centers]]\nid = \"online\"\nonline = true\nname = { kk = \"Онлайн\", ru = \"Онлайн\" }\nlat = 43.2\n"
			},
			want{"lat = 43.2", 0, "center", "online", "lat", "no place on the map"}},
		{"two online desks",
			func(t *testing.T) string {
				desk := "\n[[centers]]\nid = \"%s\"\nonline = true\nname = { kk = \"Онлайн\", ru = \"Онлайн\" }\n"
				return base + strings.Replace(desk, "%s", "online", 1) + strings.Replace(desk, "%s", "online2", 1)
			},
			want{"online = true", 2, "center", "online2", "online", "a second online desk"}},
		// Unknown keys are typos that would otherwise be silently ignored.
		{"misspelt key",
			func(t *testing.T) string { return edit(t, base, "lat = 43.199", "lat = 43.199\nlatt = 43.2") },
			want{"latt = 43.2", 0, "center", "kaskelen", "latt", "unknown key (did you mean lat?)"}},
		{"misspelt key in a schedule",
			func(t *testing.T) string { return edit(t, base, "slot_minutes = 60", "slot_minutes = 60\n  slots = 2") },
			want{"slots = 2", 0, "center", "kaskelen", "schedules[1].slots", "unknown key"}},
		{"misspelt top-level key",
			func(t *testing.T) string {
				return edit(t, base, `time_zone = "Asia/Almaty"`, "time_zone = \"Asia/Almaty\"\ntimezone = \"UTC\"")
			},
			want{`timezone = "UTC"`, 0, "", "", "timezone", "unknown key (did you mean time_zone?)"}},
		{"misspelt table",
			func(t *testing.T) string { return base + "\n[[centres]]\nid = \"x\"\n" },
			want{"[[centres]]", 0, "", "", "centres", "unknown table (did you mean centers?)"}},
		{"service in one language",
			func(t *testing.T) string {
				return edit(t, base, "lon = 76.621", "lon = 76.621\nservices = [\n  { kk = \"Коворкинг\", ru = \"Коворкинг\" },\n  { kk = \"Спорт залы\" },\n]")
			},
			want{"services = [", 0, "center", "kaskelen", "services[2]", "missing the Russian text (ru)"}},
		// Texts longer than a Telegram message can carry: the card would fail.
		{"center description too long",
			centerLine("description = { kk = \"Қысқа\", ru = \"" + strings.Repeat("ж", catalog.MaxDescriptionLen+1) + "\" }"),
			want{"description = {", 0, "center", "kaskelen", "description", "the Russian text (ru) is 1001 characters long: keep it to 1000"}},
		{"emoji count as two",
			func(t *testing.T) string {
				return edit(t, base, `name = { kk = "Жастар орталығы", ru = "Молодёжный центр" }`,
					`name = { kk = "`+strings.Repeat("🎉", catalog.MaxNameLen/2+1)+`", ru = "Молодёжный центр" }`)
			},
			want{`name = { kk = "🎉`, 0, "center", "kaskelen", "name", "the Kazakh text (kk) is 102 characters long: keep it to 100"}},
		{"event description too long",
			func(t *testing.T) string {
				return edit(t, base, "minutes = 90", "minutes = 90\ndescription = { kk = \""+strings.Repeat("ә", 1200)+"\", ru = \"Коротко\" }")
			},
			want{"description = {", 0, "event", "training", "description", "is 1200 characters long"}},
		{"service too long",
			centerLine("services = [\n  { kk = \"Коворкинг\", ru = \"" + strings.Repeat("к", 81) + "\" },\n]"),
			want{"services = [", 0, "center", "kaskelen", "services[1]", "keep it to 80"}},
		{"too many services",
			centerLine("services = [\n" + strings.Repeat("  { kk = \"Коворкинг\", ru = \"Коворкинг\" },\n", catalog.MaxServices+1) + "]"),
			want{"services = [", 0, "center", "kaskelen", "services", "16 services: keep it to 15"}},
		{"phone number too long",
			centerLine("phone = \"+7 727 000 00 00 +7 727 000 00 01\""),
			want{"phone = ", 0, "center", "kaskelen", "phone", "keep it to 30"}},
		// Help lines: a person in crisis gets these numbers, so the catalog
		// must have one and every one must be dialable.
		{"no help line",
			func(t *testing.T) string { return base[:strings.Index(base, "[[help_lines]]")] },
			want{"", 0, "", "", "help_lines", "the catalog has no [[help_lines]]"}},
		{"help number with letters",
			helpLine(`number = "111"`, `number = "111a"`),
			want{`number = "111a"`, 0, "help line", "111a", "number", "not a number as dialled"}},
		{"help number with a plus inside",
			helpLine(`number = "111"`, `number = "8+777"`),
			want{`number = "8+777"`, 0, "help line", "8+777", "number", "a + only in front"}},
		{"help number with a dash",
			helpLine(`number = "111"`, `number = "8-800-080-01-11"`),
			want{`number = "8-800-080-01-11"`, 0, "help line", "8-800-080-01-11", "number", "digits and spaces"}},
		{"help number too short",
			helpLine(`number = "111"`, `number = "11"`),
			want{`number = "11"`, 0, "help line", "11", "number", "at least 3 digits"}},
		{"help number as a number",
			helpLine(`number = "111"`, `number = 111`),
			want{`number = 111`, 0, "help line", "", "number", "not a string"}},
		{"help line without number",
			helpLine("number = \"111\"\n", ""),
			want{"[[help_lines]]", 0, "help line", "", "number", "missing number"}},
		{"help line twice",
			func(t *testing.T) string { return base + extraHelpLine("1 11") },
			want{`number = "1 11"`, 0, "help line", "1 11", "number", "listed twice (first on line 43)"}},
		{"help line without Russian description",
			helpLine(`ru = "Права семьи и детей"`, `ru = ""`),
			want{`description = {`, 0, "help line", "111", "description", "missing the Russian text (ru)"}},
		{"help line description too long",
			helpLine(`ru = "Права семьи и детей"`, `ru = "`+strings.Repeat("ж", catalog.MaxHelpLineDescriptionLen+1)+`"`),
			want{`description = {`, 0, "help line", "111", "description", "is 201 characters long: keep it to 200"}},
		{"help hours in words",
			helpLine(`hours = "24/7"`, `hours = "always"`),
			want{`hours = "always"`, 0, "help line", "111", "hours", `use "24/7" or days and hours`}},
		{"help hours backwards",
			helpLine(`hours = "24/7"`, `hours = "fri-mon 09:00-18:00"`),
			want{`hours = "fri-mon`, 0, "help line", "111", "hours", "runs backwards"}},
		{"help hours close before open",
			helpLine(`hours = "24/7"`, `hours = "mon-fri 18:00-09:00"`),
			want{`hours = "mon-fri 18:00-09:00"`, 0, "help line", "111", "hours", "not after it opens"}},
		{"help hours with a bad day",
			helpLine(`hours = "24/7"`, `hours = "mon,funday 09:00-18:00"`),
			want{`hours = "mon,funday`, 0, "help line", "111", "hours", `"funday" is not a weekday`}},
		{"help hours without quotes",
			helpLine(`hours = "24/7"`, `hours = 24`),
			want{`hours = 24`, 0, "help line", "111", "hours", "is not hours"}},
		{"help line without free",
			helpLine("free = true\n", ""),
			want{"[[help_lines]]", 0, "help line", "111", "free", "missing free"}},
		{"help line free in words",
			helpLine("free = true", `free = "yes"`),
			want{`free = "yes"`, 0, "help line", "111", "free", "not true or false"}},
		{"misspelt help line key",
			helpLine(`number = "111"`, "number = \"111\"\nnumbr = \"112\""),
			want{`numbr = "112"`, 0, "help line", "111", "numbr", "unknown key (did you mean number?)"}},
		{"too many help lines",
			func(t *testing.T) string {
				src := base
				for i := range catalog.MaxHelpLines {
					src += extraHelpLine(fmt.Sprintf("10%d", i))
				}
				return src
			},
			want{"", 0, "", "", "help_lines", "9 help lines: keep it to 8"}},
		{"anonymous in words",
			func(t *testing.T) string {
				return edit(t, base, `name = { kk = "Мансап", ru = "Карьера" }`, "name = { kk = \"Мансап\", ru = \"Карьера\" }\nanonymous = \"yes\"")
			},
			want{`anonymous = "yes"`, 0, "type", "career", "anonymous", "not true or false"}},
		{"code letter a digit",
			func(t *testing.T) string {
				return edit(t, base, `name = { kk = "Мансап", ru = "Карьера" }`, "name = { kk = \"Мансап\", ru = \"Карьера\" }\nletter = { kk = \"1\", ru = \"К\" }")
			},
			want{`letter = {`, 0, "type", "career", "letter", `"1" is not a letter`}},
		{"code letter too long",
			func(t *testing.T) string {
				return edit(t, base, `name = { kk = "Мансап", ru = "Карьера" }`, "name = { kk = \"Мансап\", ru = \"Карьера\" }\nletter = { kk = \"М\", ru = \"Кар\" }")
			},
			want{`letter = {`, 0, "type", "career", "letter", "keep it to 1"}},
		{"misspelt discreet",
			func(t *testing.T) string {
				return edit(t, base, `name = { kk = "Мансап", ru = "Карьера" }`, "name = { kk = \"Мансап\", ru = \"Карьера\" }\ndiscrete = true")
			},
			want{`discrete = true`, 0, "type", "career", "discrete", "unknown key (did you mean discreet?)"}},
		// A syntax error stops the decoder: only its line is known, but that
		// one is always known.
		{"syntax error",
			func(t *testing.T) string { return edit(t, base, `lon = 76.621`, `lon = 76.621.5`) },
			want{"lon = 76.621.5", 0, "", "", "", ""}},
		{"unclosed string",
			func(t *testing.T) string { return edit(t, base, `kind = "district"`, `kind = "district`) },
			want{`kind = "district`, 0, "", "", "", ""}},
		{"table instead of a list of tables",
			func(t *testing.T) string { return edit(t, base, "[[types]]", "[types]") },
			want{"[types]", 0, "", "", "types", "write [[types]] with double brackets"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.src(t)
			_, err := catalog.Parse("catalog.toml", []byte(src), nil)
			var ve *catalog.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse error = %v, want a *ValidationError", err)
			}
			wantLine := 0
			if tt.want.line != "" {
				wantLine = lineOf(t, src, tt.want.line, max(tt.want.nth, 1))
			}
			for _, p := range ve.Problems {
				if p.File == "catalog.toml" && p.Line == wantLine && p.Kind == tt.want.kind && p.ID == tt.want.id &&
					p.Field == tt.want.field && strings.Contains(p.Msg, tt.want.inMsg) {
					return
				}
			}
			t.Errorf("want a problem at line %d: %s %q field %q: ...%s...; got:\n%v",
				wantLine, tt.want.kind, tt.want.id, tt.want.field, tt.want.inMsg, err)
		})
	}
}

func TestParse_allProblems(t *testing.T) {
	src := base
	src = edit(t, src, "lat = 43.199", "lat = 95.1")
	src = edit(t, src, `open = "09:00"`, `open = "25:00"`)
	src = edit(t, src, `center = "kaskelen"`, `center = "almaty"`)
	_, err := catalog.Parse("catalog.toml", []byte(src), nil)
	var ve *catalog.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Parse error = %v, want a *ValidationError", err)
	}
	want := []string{
		`catalog.toml:21: center "kaskelen": field lat: 95.1 is out of range -90..90`,
		`catalog.toml:27: center "kaskelen": field schedules[1].open: "25:00" is out of range 00:00..24:00`,
		`catalog.toml:36: event "training": field center: unknown center "almaty"`,
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("Error() =\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
}

func TestParse_emptyFile(t *testing.T) {
	_, err := catalog.Parse("catalog.toml", nil, nil)
	var ve *catalog.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Parse error = %v, want a *ValidationError", err)
	}
	for _, field := range []string{"time_zone", "region", "centers", "types", "help_lines"} {
		if !strings.Contains(err.Error(), "field "+field+": ") {
			t.Errorf("no problem with %s in:\n%v", field, err)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "catalog.toml")
	if err := os.WriteFile(good, catalog.DefaultTOML(), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := catalog.Load(good, nil); err != nil || len(c.Centers) == 0 {
		t.Fatalf("Load(default) = %v", err)
	}

	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte(edit(t, base, "lat = 43.199", "lat = 95.1")), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := catalog.Load(bad, nil)
	var ve *catalog.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].File != bad {
		t.Fatalf("Load(bad) = %v, want one problem in %s", err, bad)
	}

	if _, err := catalog.Load(filepath.Join(dir, "missing.toml"), nil); err == nil || errors.As(err, &ve) {
		t.Fatalf("Load(missing) = %v, want a read error", err)
	}
}

func TestDefaultTOML_isACopy(t *testing.T) {
	a := catalog.DefaultTOML()
	a[0] = 'X'
	if catalog.DefaultTOML()[0] == 'X' {
		t.Error("DefaultTOML hands out the embedded bytes")
	}
}

func FuzzParse(f *testing.F) {
	// The whole default.toml is a poor seed: at 30 kB every step of
	// minimizing an input found from it takes ages. One center of it is enough.
	def := string(catalog.DefaultTOML())
	from := strings.Index(def, "[[types]]")
	to := strings.Index(def, "# Opened in December 2025")
	if from < 0 || to < from {
		f.Fatal("default.toml changed: pick another slice of it")
	}
	f.Add([]byte("time_zone = \"Asia/Almaty\"\n" + def[from:to]))
	f.Add([]byte(base))
	f.Add([]byte(base + secondCenter))
	f.Add([]byte("[[centers]]\nid = 1\nlat = nan\n[[centers.schedules]]\nopen = 25\n"))
	f.Add([]byte("holidays = [2026-12-16, \"x\", 1]\nregion = \"\"\n"))
	f.Add([]byte("a = \"\"\"\nb = 1\n\"\"\"\n[[x.y]]\n[x]\n"))
	loc := time.FixedZone("UTC+5", 5*3600)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := catalog.Parse("fuzz.toml", data, loc)
		if err != nil {
			var ve *catalog.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("error %v is not a ValidationError with problems", err)
			}
			_ = err.Error()
			return
		}
		// Whatever parses is usable.
		for _, ce := range c.Centers {
			for _, s := range ce.Schedules {
				_ = s.Slots()
			}
		}
		c.Nearest(43.2, 76.6, 3)
	})
}
