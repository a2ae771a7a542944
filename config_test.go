package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jastar/bot"
	"jastar/bot/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

const testToken = "123456:TEST-TOKEN_abcdef"

func TestLoadConfig_Defaults(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(env(map[string]string{"TELEGRAM_BOT_TOKEN": testToken}))
	if err != nil {
		t.Fatal(err)
	}
	if c.APIURL != defaultAPIURL || c.DBPath != "./jastar.db" || c.Location.String() != "Asia/Almaty" {
		t.Errorf("defaults = %+v", c)
	}
	if c.Limits.PerSecond <= 0 || c.Limits.PerSecond > 30 {
		t.Errorf("default global rate %v is not under Telegram's 30/s", c.Limits.PerSecond)
	}
}

func TestLoadConfig_Errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		wantVar string
	}{
		{"missing token", map[string]string{}, "TELEGRAM_BOT_TOKEN"},
		{"malformed token", map[string]string{"TELEGRAM_BOT_TOKEN": "hello"}, "TELEGRAM_BOT_TOKEN"},
		{"unreadable token file", map[string]string{"TELEGRAM_BOT_TOKEN_FILE": "/nonexistent/token"}, "TELEGRAM_BOT_TOKEN_FILE"},
		{"bad api url", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "TELEGRAM_API_URL": "ftp://x"}, "TELEGRAM_API_URL"},
		{"bad staff chat", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_STAFF_CHAT_ID": "group"}, "JASTAR_STAFF_CHAT_ID"},
		{"bad admin ids", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_ADMIN_IDS": "1,two"}, "JASTAR_ADMIN_IDS"},
		{"bad time zone", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_TIMEZONE": "Mars/Olympus"}, "JASTAR_TIMEZONE"},
		{"bad log level", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_LOG_LEVEL": "loud"}, "JASTAR_LOG_LEVEL"},
		{"negative rate", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_SEND_RATE": "-1"}, "JASTAR_SEND_RATE"},
		{"rate NaN", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_SEND_RATE": "NaN"}, "JASTAR_SEND_RATE"},
		{"rate infinite", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_CHAT_RATE": "inf"}, "JASTAR_CHAT_RATE"},
		{"rate +Inf", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_GROUP_RATE": "+Inf"}, "JASTAR_GROUP_RATE"},
		{"bad max bookings", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_MAX_BOOKINGS": "0"}, "JASTAR_MAX_BOOKINGS"},
		{"bad booking notice", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_BOOKING_NOTICE": "soon"}, "JASTAR_BOOKING_NOTICE"},
		{"bad booking days", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_BOOKING_DAYS": "365"}, "JASTAR_BOOKING_DAYS"},
		{"bad staff language", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_STAFF_LANG": "en"}, "JASTAR_STAFF_LANG"},
		{"day-before reminder not a time", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_REMIND_DAY_BEFORE_AT": "6pm"}, "JASTAR_REMIND_DAY_BEFORE_AT"},
		{"day-before reminder at night", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_REMIND_DAY_BEFORE_AT": "03:00"}, "JASTAR_REMIND_DAY_BEFORE_AT"},
		{"reminder before not a duration", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_REMIND_BEFORE": "one hour"}, "JASTAR_REMIND_BEFORE"},
		{"reminder before too long", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_REMIND_BEFORE": "48h"}, "JASTAR_REMIND_BEFORE"},
		{"bad digest spec", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_DIGEST_SPEC": "every morning"}, "JASTAR_DIGEST_SPEC"},
		{"digest spec with seconds", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_DIGEST_SPEC": "0 30 8 * * *"}, "JASTAR_DIGEST_SPEC"},
		{"digest spec with a descriptor", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_DIGEST_SPEC": "@every 1s"}, "JASTAR_DIGEST_SPEC"},
		{"weekly spec every minute", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_WEEKLY_SPEC": "* 10 * * 1"}, "JASTAR_WEEKLY_SPEC"},
		{"bad weekly spec", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_WEEKLY_SPEC": "0 10 * * mondays"}, "JASTAR_WEEKLY_SPEC"},
		{"zero broadcast rate", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_BROADCAST_RATE": "0"}, "JASTAR_BROADCAST_RATE"},
		{"bad broadcast rate", map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_BROADCAST_RATE": "fast"}, "JASTAR_BROADCAST_RATE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(env(tt.env))
			var cerr *config.Error
			if !errors.As(err, &cerr) || cerr.Name != tt.wantVar {
				t.Fatalf("err = %v, want a config error naming %s", err, tt.wantVar)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			if tok := tt.env["TELEGRAM_BOT_TOKEN"]; tok != "" && tok != testToken && strings.Contains(err.Error(), tok) {
				t.Errorf("error echoes the token: %q", err)
			}
		})
	}
}

func TestLoadConfig_TokenFileAndLists(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(env(map[string]string{
		"TELEGRAM_BOT_TOKEN_FILE": file, "JASTAR_ADMIN_IDS": " 11, 22 ,", "JASTAR_STAFF_CHAT_ID": "-1001234567890",
		"TELEGRAM_API_URL": "http://127.0.0.1:8081/", "JASTAR_SEND_RATE": "0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Token != testToken || len(c.AdminIDs) != 2 || c.AdminIDs[1] != 22 || c.StaffChatID != -1001234567890 {
		t.Errorf("config = %+v", c)
	}
	if c.APIURL != "http://127.0.0.1:8081" || c.Limits.PerSecond != 0 {
		t.Errorf("api url %q, rate %v", c.APIURL, c.Limits.PerSecond)
	}
}

func TestLoadConfig_Reminders(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(env(map[string]string{"TELEGRAM_BOT_TOKEN": testToken}))
	if err != nil {
		t.Fatal(err)
	}
	if c.RemindDayBeforeAt != 18*time.Hour || c.RemindBefore != time.Hour || c.DigestSpec != "30 8 * * *" || c.WeeklySpec != "0 10 * * 1" {
		t.Errorf("defaults: day before at %v, before %v, digest %q, weekly %q", c.RemindDayBeforeAt, c.RemindBefore, c.DigestSpec, c.WeeklySpec)
	}
	c, err = loadConfig(env(map[string]string{
		"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_REMIND_DAY_BEFORE_AT": "19:30", "JASTAR_REMIND_BEFORE": "2h",
		"JASTAR_DIGEST_SPEC": "0 9 * * 1-5", "JASTAR_WEEKLY_SPEC": " 0 18 * * 5 ",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.RemindDayBeforeAt != 19*time.Hour+30*time.Minute || c.RemindBefore != 2*time.Hour || c.DigestSpec != "0 9 * * 1-5" || c.WeeklySpec != "0 18 * * 5" {
		t.Errorf("set: day before at %v, before %v, digest %q, weekly %q", c.RemindDayBeforeAt, c.RemindBefore, c.DigestSpec, c.WeeklySpec)
	}
}

func TestLoadConfig_BroadcastRate(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(env(map[string]string{"TELEGRAM_BOT_TOKEN": testToken}))
	if err != nil || c.BroadcastRate != bot.DefaultBroadcastRate {
		t.Fatalf("default broadcast rate = %v, %v; want %d", c.BroadcastRate, err, bot.DefaultBroadcastRate)
	}
	c, err = loadConfig(env(map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_BROADCAST_RATE": "12.5"}))
	if err != nil || c.BroadcastRate != 12.5 {
		t.Fatalf("broadcast rate = %v, %v; want 12.5", c.BroadcastRate, err)
	}
}

// TestLoadConfig_TokenFileErrorsNameTheFile: a token read from
// TELEGRAM_BOT_TOKEN_FILE that is empty or malformed is reported under that
// variable, with the file, and never echoed.
func TestLoadConfig_TokenFileErrorsNameTheFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, content := range map[string]string{"empty": " \n", "malformed": "SECRET-not-a-token\n"} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(dir, name)
			if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := loadConfig(env(map[string]string{"TELEGRAM_BOT_TOKEN_FILE": file}))
			var cerr *config.Error
			if !errors.As(err, &cerr) || cerr.Name != "TELEGRAM_BOT_TOKEN_FILE" || !strings.Contains(err.Error(), file) {
				t.Fatalf("err = %v, want a config error naming TELEGRAM_BOT_TOKEN_FILE and %s", err, file)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error echoes the token: %q", err)
			}
		})
	}
}
