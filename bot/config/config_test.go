package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jastar/storage/catalog"
)

// TestCheckZoneData: system zone data older than tzdata 2024a has Almaty
// and Qostanay on UTC+6; starting on it would put every time an hour off,
// so the bot refuses and says how to fix it.
func TestCheckZoneData(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	current, err := time.LoadLocation("Asia/Almaty")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		zone    string
		loc     *time.Location
		refused bool
	}{
		{"current Almaty", "Asia/Almaty", current, false},
		{"Almaty from old tzdata", "Asia/Almaty", time.FixedZone("+06", 6*60*60), true},
		{"Qostanay from old tzdata", "Asia/Qostanay", time.FixedZone("+06", 6*60*60), true},
		{"another zone on UTC+6 is none of our business", "Asia/Bishkek", time.FixedZone("+06", 6*60*60), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkZoneData(tt.zone, tt.loc, now)
			if (err != nil) != tt.refused {
				t.Fatalf("checkZoneData = %v, want refused %v", err, tt.refused)
			}
			if err == nil {
				return
			}
			for _, want := range []string{tt.zone, "UTC+06:00", "tzdata", "ZONEINFO"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestRunCatalog_Help: -h on catalog and its subcommands prints their usage
// and succeeds, like every other command; "catalog check -h" used to look
// for a file named -h.
func TestRunCatalog_Help(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-h"}, {"check", "-h"}, {"default", "-help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := RunCatalog(context.Background(), args, env(nil), &stdout, &stderr)
			if err != nil {
				t.Fatalf("RunCatalog = %v, want help and exit 0", err)
			}
			if want := strings.TrimSpace("Usage: jastar catalog " + strings.Join(args[:len(args)-1], " ")); !strings.Contains(stderr.String(), want) {
				t.Errorf("help output %q does not contain %q", stderr.String(), want)
			}
			if stdout.Len() > 0 {
				t.Errorf("help wrote to stdout: %q", stdout.String())
			}
		})
	}
	// Wrong use is still a usage error (exit 2).
	for _, args := range [][]string{{}, {"check"}, {"frobnicate"}} {
		if err := RunCatalog(context.Background(), args, env(nil), &bytes.Buffer{}, &bytes.Buffer{}); !errors.Is(err, ErrUsage) {
			t.Errorf("catalog %q: err = %v, want a usage error", args, err)
		}
	}
}

// TestRunCatalog_WarnsOfMissingHolidays: a catalog without any moving
// holiday passes "catalog check" with a warning naming this year and the
// next, so the operator knows to add the decree's days.
func TestRunCatalog_WarnsOfMissingHolidays(t *testing.T) {
	t.Parallel()
	src := string(catalog.DefaultTOML())
	start := strings.Index(src, "\nholidays = [")
	end := start + strings.Index(src[start:], "\n]\n") + 3
	if start < 0 || end < start {
		t.Fatal("test data: no holidays list in the default catalog")
	}
	path := filepath.Join(t.TempDir(), "catalog.toml")
	if err := os.WriteFile(path, []byte(src[:start]+src[end:]), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := RunCatalog(context.Background(), []string{"check", path}, env(nil), &out, io.Discard); err != nil {
		t.Fatalf("catalog check = %v, want a pass with warnings", err)
	}
	loc, _ := time.LoadLocation("Asia/Almaty")
	year := time.Now().In(loc).Year()
	for _, y := range []int{year, year + 1} {
		if want := fmt.Sprintf("warning: no moving holidays or transfers of days off for %d", y); !strings.Contains(out.String(), want) {
			t.Errorf("catalog check printed %q, want %q", out.String(), want)
		}
	}
}

// TestLoadCatalog_UnreadableIsAConfigError: a JASTAR_CATALOG that cannot
// be read is the operator's to fix, named in the error.
func TestLoadCatalog_UnreadableIsAConfigError(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "no-such-catalog.toml")
	_, err := LoadCatalog(missing, time.UTC)
	var cerr *Error
	if !errors.As(err, &cerr) || cerr.Name != "JASTAR_CATALOG" || !strings.Contains(err.Error(), missing) {
		t.Fatalf("LoadCatalog = %v, want a configuration error naming JASTAR_CATALOG and the file", err)
	}
}
