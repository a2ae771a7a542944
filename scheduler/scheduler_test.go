package scheduler

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"jastar/bot/ops"
)

func almaty(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Almaty")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestSpecs_NextInAlmaty pins when each spec fires, in local time: a spec
// evaluated in UTC would put the morning digest at 13:30.
func TestSpecs_NextInAlmaty(t *testing.T) {
	loc := almaty(t)
	// Tuesday 1 December 2026, 09:00:30 in Almaty.
	from := time.Date(2026, 12, 1, 9, 0, 30, 0, loc)
	tests := []struct {
		name string
		spec string
		want time.Time
	}{
		{"every minute", SpecEveryMinute, time.Date(2026, 12, 1, 9, 1, 0, 0, loc)},
		{"housekeeping", SpecHousekeeping, time.Date(2026, 12, 1, 9, 17, 0, 0, loc)},
		{"morning digest is tomorrow 08:30", SpecMorningDigest, time.Date(2026, 12, 2, 8, 30, 0, 0, loc)},
		{"weekly digest is next Monday 10:00", SpecWeeklyDigest, time.Date(2026, 12, 7, 10, 0, 0, 0, loc)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := cron.ParseStandard(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Next(from); !got.Equal(tt.want) {
				t.Errorf("Next(%v) = %v, want %v", from, got.In(loc), tt.want)
			}
			if got := s.Next(from).UTC().Hour(); tt.spec == SpecMorningDigest && got != 3 {
				t.Errorf("morning digest at %02d:30 UTC, want 03:30 (UTC+5)", got)
			}
		})
	}
}

func TestParseSpec(t *testing.T) {
	for _, spec := range []string{SpecEveryMinute, SpecHousekeeping, SpecMorningDigest, SpecWeeklyDigest, "0 9 * * 1-5"} {
		if err := ParseSpec(spec); err != nil {
			t.Errorf("ParseSpec(%q) = %v", spec, err)
		}
	}
	for _, spec := range []string{"", "30 8 * *", "61 * * * *", "every morning", "0 0 8 * * *"} {
		if err := ParseSpec(spec); err == nil {
			t.Errorf("ParseSpec(%q) accepted", spec)
		}
	}
}

// TestParseDigestSpec: a digest goes to people, so a spec that would send
// it more than once an hour (a descriptor such as "@every 1s", or a typo
// like "* 8 * * *") is refused at start.
func TestParseDigestSpec(t *testing.T) {
	for _, spec := range []string{SpecMorningDigest, SpecWeeklyDigest, "0 9 * * 1-5", "0 8,9 * * *", "0 * * * *", "0 8 29 2 *"} {
		if err := ParseDigestSpec(spec); err != nil {
			t.Errorf("ParseDigestSpec(%q) = %v", spec, err)
		}
	}
	tests := []struct {
		spec     string
		frequent bool
	}{
		{"@every 1s", false},
		{"@every 24h", false},
		{" @daily", false},
		{"30 8 * *", false},
		{"* 8 * * *", true},
		{"*/30 9 * * 1", true},
		{"0,30 8 15 * *", true}, // twice on the 15th of every month only
		{"61 8 * * *", false},
	}
	for _, tt := range tests {
		err := ParseDigestSpec(tt.spec)
		if err == nil {
			t.Errorf("ParseDigestSpec(%q) accepted", tt.spec)
			continue
		}
		if errors.Is(err, ErrTooFrequent) != tt.frequent {
			t.Errorf("ParseDigestSpec(%q) = %v; too frequent = %v, want %v", tt.spec, err, !tt.frequent, tt.frequent)
		}
	}
}

// TestScheduler_JobPanicIsCountedAndTheNextRunGoes: a job that panics does
// not kill the process nor the schedule: the panic is logged with the job
// and counted, and the job's next run happens as usual.
func TestScheduler_JobPanicIsCountedAndTheNextRunGoes(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	m := ops.NewMetrics()
	s := New(time.UTC, slog.New(slog.NewJSONHandler(&logs, nil)), time.Now).WithMetrics(m)
	runs := 0
	job := func(ctx context.Context, now time.Time) error {
		runs++
		if runs == 1 {
			panic("digest bug")
		}
		return nil
	}
	s.run("staff_digest", job)
	s.run("staff_digest", job)
	if runs != 2 {
		t.Errorf("the job ran %d times, want 2", runs)
	}
	if got := testCounter(t, m, "jastar_panics_total"); got != 1 {
		t.Errorf("jastar_panics_total = %v, want 1", got)
	}
	if !strings.Contains(logs.String(), `"component":"job_staff_digest"`) || !strings.Contains(logs.String(), "digest bug") {
		t.Errorf("the panic is not logged with its job:\n%s", logs.String())
	}
}
