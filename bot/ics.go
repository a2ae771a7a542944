package bot

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// icsEvent is what goes into an "add to calendar" file.
type icsEvent struct {
	UID         string
	Sequence    int // bumped on every reschedule, so calendars update the entry
	Start, End  time.Time
	Summary     string
	Location    string
	Description string
	Stamp       time.Time
}

// icsFile renders one event as an iCalendar file (RFC 5545) in loc's time
// zone. The VTIMEZONE block carries loc's fixed offset at the event, which is
// exact for zones without daylight saving time such as Asia/Almaty (UTC+5
// since 1 March 2024); phones that know the zone by its TZID use their own.
func icsFile(ev icsEvent, loc *time.Location) []byte {
	start, end := ev.Start.In(loc), ev.End.In(loc)
	name, offset := start.Zone()
	tzid := loc.String()
	if tzid == "" || tzid == "Local" {
		tzid = name
	}
	var b strings.Builder
	line := func(s string) { b.WriteString(foldICS(s)) }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//Jastar//Youth centers bot//KK")
	line("CALSCALE:GREGORIAN")
	line("METHOD:PUBLISH")
	line("BEGIN:VTIMEZONE")
	line("TZID:" + tzid)
	line("BEGIN:STANDARD")
	line("DTSTART:19700101T000000")
	line("TZOFFSETFROM:" + icsOffset(offset))
	line("TZOFFSETTO:" + icsOffset(offset))
	line("TZNAME:" + name)
	line("END:STANDARD")
	line("END:VTIMEZONE")
	line("BEGIN:VEVENT")
	line("UID:" + ev.UID)
	line(fmt.Sprintf("SEQUENCE:%d", ev.Sequence))
	line("DTSTAMP:" + ev.Stamp.UTC().Format("20060102T150405Z"))
	line("DTSTART;TZID=" + tzid + ":" + start.Format("20060102T150405"))
	line("DTEND;TZID=" + tzid + ":" + end.Format("20060102T150405"))
	line("SUMMARY:" + icsText(ev.Summary))
	if ev.Location != "" {
		line("LOCATION:" + icsText(ev.Location))
	}
	if ev.Description != "" {
		line("DESCRIPTION:" + icsText(ev.Description))
	}
	line("BEGIN:VALARM")
	line("ACTION:DISPLAY")
	line("DESCRIPTION:" + icsText(ev.Summary))
	line("TRIGGER:-PT1H")
	line("END:VALARM")
	line("END:VEVENT")
	line("END:VCALENDAR")
	return []byte(b.String())
}

// icsOffset formats a UTC offset in seconds as "+0500".
func icsOffset(sec int) string {
	sign := '+'
	if sec < 0 {
		sign, sec = '-', -sec
	}
	return fmt.Sprintf("%c%02d%02d", sign, sec/3600, sec%3600/60)
}

// icsText escapes a TEXT value (RFC 5545 3.3.11).
func icsText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`)
	return r.Replace(s)
}

// foldICS ends a content line with CRLF, folding it into lines of at most 75
// octets without splitting a UTF-8 character (RFC 5545 3.1).
func foldICS(s string) string {
	var b strings.Builder
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space of a continuation counts
	}
	b.WriteString(s)
	b.WriteString("\r\n")
	return b.String()
}
