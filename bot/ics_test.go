package bot

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestICSFile(t *testing.T) {
	t.Parallel()
	loc := almaty(t)
	start := time.Date(2026, 12, 2, 11, 0, 0, 0, loc)
	out := string(icsFile(icsEvent{
		UID: "booking-7@jastar", Start: start, End: start.Add(time.Hour), Stamp: start.Add(-24 * time.Hour),
		Summary: "Заң кеңесі; құжаттар, шарт", Location: strings.Repeat("Қаскелең ", 20),
	}, loc))
	for _, want := range []string{
		"TZID:Asia/Almaty", "TZOFFSETFROM:+0500", "TZOFFSETTO:+0500",
		"DTSTART;TZID=Asia/Almaty:20261202T110000", "DTEND;TZID=Asia/Almaty:20261202T120000",
		"DTSTAMP:20261201T060000Z", `SUMMARY:Заң кеңесі\; құжаттар\, шарт`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("ics lacks %q", want)
		}
	}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
		if len(line) > 75 || !utf8.ValidString(line) {
			t.Errorf("line of %d octets or split inside a character: %q", len(line), line)
		}
	}
}
