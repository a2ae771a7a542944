package main

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"jastar/bot"
	"jastar/bot/config"
	"jastar/bot/tg"
	"jastar/scheduler"
)

// Config is everything the operator sets, read from the environment.
type Config struct {
	Token       string
	APIURL      string // Bot API base URL, without /bot<token>
	DBPath      string
	StaffChatID int64
	AdminIDs    []int64
	TimeZone    string
	Location    *time.Location
	LogLevel    slog.Level
	LogFormat   string // json or text
	Limits      tg.Limits
	Workers     int
	// CatalogPath is an operator's catalog file; empty means the embedded one.
	CatalogPath string
	// HTTPAddr is the ops listener (health, readiness, metrics, pprof); empty = off.
	HTTPAddr string
	// MaxBookings is how many upcoming bookings one person may hold.
	MaxBookings int
	// BookingNotice is how long before its start a slot stops taking bookings.
	BookingNotice time.Duration
	// BookingDays is how many days ahead, today included, take bookings.
	BookingDays int
	// StaffLang is the language of staff notifications: kk or ru.
	StaffLang string
	// RemindDayBeforeAt is the time of day of the day-before reminder
	// (18:00 = 18h); RemindBefore how long before the start the second one
	// comes (1h).
	RemindDayBeforeAt time.Duration
	RemindBefore      time.Duration
	// DigestSpec and WeeklySpec are the cron specs of the staff morning
	// digest and the weekly events digest, in TimeZone.
	DigestSpec string
	WeeklySpec string
	// BroadcastRate is messages a second for broadcasts (JASTAR_BROADCAST_RATE).
	BroadcastRate float64
}

// defaultAPIURL is Telegram's Bot API.
const defaultAPIURL = "https://api.telegram.org"

// loadConfig reads and validates the configuration. getenv is os.Getenv in
// production and a map in tests.
func loadConfig(getenv func(string) string) (Config, error) {
	def := bot.DefaultConfig()
	c := Config{
		APIURL:    defaultAPIURL,
		DBPath:    "./jastar.db",
		TimeZone:  config.DefaultTimeZone,
		LogLevel:  slog.LevelInfo,
		LogFormat: "json",
		Limits:    def.Limits,
		Workers:   def.Workers,

		MaxBookings:       def.MaxBookings,
		BookingNotice:     def.BookingNotice,
		BookingDays:       def.BookingDays,
		StaffLang:         def.StaffLang,
		RemindDayBeforeAt: def.Reminders.DayBeforeAt,
		RemindBefore:      def.Reminders.Before,
		DigestSpec:        scheduler.SpecMorningDigest,
		WeeklySpec:        scheduler.SpecWeeklyDigest,
		BroadcastRate:     def.BroadcastRate,
	}
	bad := func(name, format string, args ...any) error {
		return &config.Error{Name: name, Msg: fmt.Sprintf(format, args...)}
	}

	c.Token = strings.TrimSpace(getenv("TELEGRAM_BOT_TOKEN"))
	// tokenFrom is where the token came from, so an error names the
	// variable the operator has to fix.
	tokenFrom, tokenFile := "TELEGRAM_BOT_TOKEN", ""
	if file := getenv("TELEGRAM_BOT_TOKEN_FILE"); c.Token == "" && file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return c, bad("TELEGRAM_BOT_TOKEN_FILE", "cannot read %s: %v", file, errors.Unwrap(err))
		}
		c.Token = strings.TrimSpace(string(data))
		tokenFrom, tokenFile = "TELEGRAM_BOT_TOKEN_FILE", file
	}
	switch {
	case c.Token == "" && tokenFile != "":
		return c, bad(tokenFrom, "%s is empty (it should hold the token from @BotFather)", tokenFile)
	case c.Token == "":
		return c, bad(tokenFrom, "not set (set it, or TELEGRAM_BOT_TOKEN_FILE, to the token from @BotFather)")
	case !validToken(c.Token) && tokenFile != "":
		// The value is a secret: never echo it.
		return c, bad(tokenFrom, "the token in %s is malformed: expected <digits>:<letters, digits, _ or -> as given by @BotFather", tokenFile)
	case !validToken(c.Token):
		return c, bad(tokenFrom, "malformed: expected <digits>:<letters, digits, _ or -> as given by @BotFather")
	}

	if v := getenv("TELEGRAM_API_URL"); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, bad("TELEGRAM_API_URL", "%q is not an http(s) URL such as http://127.0.0.1:8081", v)
		}
		c.APIURL = strings.TrimRight(v, "/")
	}
	if v := getenv("JASTAR_DB"); v != "" {
		c.DBPath = v
	}
	if v := getenv("JASTAR_STAFF_CHAT_ID"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id == 0 {
			return c, bad("JASTAR_STAFF_CHAT_ID", "%q is not a Telegram chat id (a group id looks like -1001234567890)", v)
		}
		c.StaffChatID = id
	}
	if v := getenv("JASTAR_ADMIN_IDS"); v != "" {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			id, err := strconv.ParseInt(part, 10, 64)
			if err != nil || id <= 0 {
				return c, bad("JASTAR_ADMIN_IDS", "%q is not a Telegram user id (comma-separated positive numbers)", part)
			}
			c.AdminIDs = append(c.AdminIDs, id)
		}
	}
	if v := getenv("JASTAR_TIMEZONE"); v != "" {
		c.TimeZone = v
	}
	loc, err := config.LoadTimeZone(c.TimeZone, time.Now())
	if err != nil {
		return c, err
	}
	c.Location = loc
	if v := getenv("JASTAR_LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return c, bad("JASTAR_LOG_LEVEL", "%q is not one of debug, info, warn, error", v)
		}
	}
	if v := getenv("JASTAR_LOG_FORMAT"); v != "" {
		if v != "json" && v != "text" {
			return c, bad("JASTAR_LOG_FORMAT", "%q is not json or text", v)
		}
		c.LogFormat = v
	}
	rates := []struct {
		name string
		dst  *float64
	}{
		{"JASTAR_SEND_RATE", &c.Limits.PerSecond},
		{"JASTAR_CHAT_RATE", &c.Limits.PerChatSecond},
		{"JASTAR_GROUP_RATE", &c.Limits.PerGroupMinute},
	}
	for _, r := range rates {
		if v := getenv(r.name); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			// ParseFloat accepts "NaN" and "Inf"; the limiter would then
			// never grant a send, and the bot would go silent.
			if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
				return c, bad(r.name, "%q is not a rate (a number >= 0; 0 means no limit)", v)
			}
			*r.dst = f
		}
	}
	c.CatalogPath = getenv("JASTAR_CATALOG")
	if v := getenv("JASTAR_HTTP_ADDR"); v != "" {
		if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
			return c, bad("JASTAR_HTTP_ADDR", "%q is not host:port (for example 127.0.0.1:9090)", v)
		}
		c.HTTPAddr = v
	}
	if v := getenv("JASTAR_WORKERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 4096 {
			return c, bad("JASTAR_WORKERS", "%q is not a number of workers between 1 and 4096", v)
		}
		c.Workers = n
	}
	if v := getenv("JASTAR_MAX_BOOKINGS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return c, bad("JASTAR_MAX_BOOKINGS", "%q is not a number of bookings between 1 and 100", v)
		}
		c.MaxBookings = n
	}
	if v := getenv("JASTAR_BOOKING_NOTICE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > 7*24*time.Hour {
			return c, bad("JASTAR_BOOKING_NOTICE", "%q is not a duration between 0s and 168h, such as 1h or 30m", v)
		}
		// 0 would mean "use the default"; the shortest real notice is a minute.
		c.BookingNotice = max(d, time.Minute)
	}
	if v := getenv("JASTAR_BOOKING_DAYS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 90 {
			return c, bad("JASTAR_BOOKING_DAYS", "%q is not a number of days between 1 and 90", v)
		}
		c.BookingDays = n
	}
	if v := getenv("JASTAR_STAFF_LANG"); v != "" {
		if v != "kk" && v != "ru" {
			return c, bad("JASTAR_STAFF_LANG", "%q is not kk or ru", v)
		}
		c.StaffLang = v
	}
	if v := getenv("JASTAR_REMIND_DAY_BEFORE_AT"); v != "" {
		t, err := time.Parse("15:04", v)
		// Midnight would be 0, which means "off" to the policy; a reminder
		// at night is not wanted anyway.
		if err != nil || t.Hour() < 6 || t.Hour() > 22 {
			return c, bad("JASTAR_REMIND_DAY_BEFORE_AT", "%q is not a time of day between 06:00 and 22:59, such as 18:00", v)
		}
		c.RemindDayBeforeAt = time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
	}
	if v := getenv("JASTAR_REMIND_BEFORE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 10*time.Minute || d > 12*time.Hour {
			return c, bad("JASTAR_REMIND_BEFORE", "%q is not a duration between 10m and 12h, such as 1h or 90m", v)
		}
		c.RemindBefore = d
	}
	specs := []struct {
		name string
		dst  *string
	}{
		{"JASTAR_DIGEST_SPEC", &c.DigestSpec},
		{"JASTAR_WEEKLY_SPEC", &c.WeeklySpec},
	}
	for _, sp := range specs {
		if v := strings.TrimSpace(getenv(sp.name)); v != "" {
			if err := scheduler.ParseDigestSpec(v); errors.Is(err, scheduler.ErrTooFrequent) {
				return c, bad(sp.name, "%q fires more often than once an hour; a digest wants a time of day, such as \"30 8 * * *\"", v)
			} else if err != nil {
				return c, bad(sp.name, "%q is not a five-field cron spec (minute hour day month weekday), such as \"30 8 * * *\"", v)
			}
			*sp.dst = v
		}
	}
	if v := getenv("JASTAR_BROADCAST_RATE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0 && f <= 1000) {
			return c, bad("JASTAR_BROADCAST_RATE", "%q is not a rate of broadcast messages a second (a number above 0, at most 1000)", v)
		}
		c.BroadcastRate = f
	}
	return c, nil
}

// validToken checks the shape of a BotFather token, so a pasted typo fails
// at start instead of as a confusing 404 from Telegram.
func validToken(t string) bool {
	id, secret, ok := strings.Cut(t, ":")
	if !ok || id == "" || len(secret) < 8 {
		return false
	}
	for _, r := range id {
		if r < '0' || r > '9' {
			return false
		}
	}
	for _, r := range secret {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
