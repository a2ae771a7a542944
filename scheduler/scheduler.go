// Package scheduler runs the bot's timed jobs: the reminder sweep, digests
// and housekeeping. Cron is only a clock here; what is due lives in the
// database, so a restart loses no schedule and sends nothing twice.
//
// It imports storage, cron and bot/ops (metrics and panic recovery), never
// bot: it declares the small interfaces it needs (Notifier, stores) and bot
// satisfies them.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"jastar/bot/ops"
)

// Cron specs, five fields (minute hour day month weekday) in the configured
// time zone.
const (
	// SpecEveryMinute fires at the start of every minute: the reminder sweep.
	SpecEveryMinute = "* * * * *"
	// SpecHousekeeping fires hourly at minute 17, off the busy top of the hour.
	SpecHousekeeping = "17 * * * *"
)

// JobFunc is one run of a job at the scheduled time now.
type JobFunc func(ctx context.Context, now time.Time) error

// Scheduler wraps cron with the bot's conventions: a location, panic
// recovery, no overlapping runs of one job, errors logged once here.
type Scheduler struct {
	cron    *cron.Cron
	log     *slog.Logger
	metrics *ops.Metrics
	now     func() time.Time
	ctx     context.Context
	mu      sync.Mutex
	jobs    []string
}

// New builds a scheduler in loc. now is the clock the jobs are given.
func New(loc *time.Location, log *slog.Logger, now func() time.Time) *Scheduler {
	log = log.With("component", "scheduler")
	cl := cronLogger{log: log}
	return &Scheduler{
		cron: cron.New(cron.WithLocation(loc), cron.WithLogger(cl),
			cron.WithChain(cron.Recover(cl), cron.SkipIfStillRunning(cl))),
		log: log,
		now: now,
		ctx: context.Background(),
	}
}

// ParseSpec checks a five-field cron spec, for validating configuration at
// start.
func ParseSpec(spec string) error {
	if _, err := cron.ParseStandard(spec); err != nil {
		return fmt.Errorf("cron spec %q: %w", spec, err)
	}
	return nil
}

// ErrTooFrequent is a digest spec that fires more often than once an hour.
var ErrTooFrequent = errors.New("fires more often than once an hour")

// ParseDigestSpec checks the spec of a digest, which goes to people: a
// five-field cron spec, no descriptor such as "@every 1s", that fires at
// most once an hour, so a typo ("* 8 * * *") cannot flood staff or
// subscribers with messages.
func ParseDigestSpec(spec string) error {
	if strings.HasPrefix(strings.TrimSpace(spec), "@") {
		return fmt.Errorf("cron spec %q: a descriptor, not five fields", spec)
	}
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return fmt.Errorf("cron spec %q: %w", spec, err)
	}
	// A leap year from its first day covers every day of the month and of
	// the week, the 29th of February included.
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	end := from.AddDate(1, 0, 0)
	for t := sched.Next(from); !t.IsZero() && t.Before(end); {
		next := sched.Next(t)
		if !next.IsZero() && next.Sub(t) < time.Hour {
			return fmt.Errorf("cron spec %q: %w (at %s and %s)", spec, ErrTooFrequent, t.Format("Jan 2 15:04"), next.Format("15:04"))
		}
		t = next
	}
	return nil
}

// Add registers fn under name at spec.
func (s *Scheduler) Add(name, spec string, fn JobFunc) error {
	if err := ParseSpec(spec); err != nil {
		return fmt.Errorf("job %s: %w", name, err)
	}
	_, err := s.cron.AddFunc(spec, func() { s.run(name, fn) })
	if err != nil {
		return fmt.Errorf("job %s: %w", name, err)
	}
	s.jobs = append(s.jobs, name)
	return nil
}

// WithMetrics counts the jobs' panics in m.
func (s *Scheduler) WithMetrics(m *ops.Metrics) *Scheduler {
	s.metrics = m
	return s
}

// run is one run of the job name. A panic in it is recovered here (cron's
// own Recover would neither count it nor name the job), logged with its
// stack and counted as component "job_<name>"; the next run goes on. What
// a job holds is in the database, so the next run takes it up: the staff
// digest lists again the bookings it did not mark notified, the sweep's
// reminder in flight is reported at the next start.
func (s *Scheduler) run(name string, fn JobFunc) {
	defer ops.Recovered(s.log.With("job", name), s.metrics, "job_"+name, nil)
	s.mu.Lock()
	ctx := s.ctx
	s.mu.Unlock()
	start := time.Now()
	if err := fn(ctx, s.now()); err != nil {
		s.log.Error("job failed", "job", name, "err", err)
		return
	}
	s.log.Debug("job done", "job", name, "took", time.Since(start).String())
}

// Start runs the jobs in the background; they get ctx.
func (s *Scheduler) Start(ctx context.Context) {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	s.cron.Start()
}

// Stop stops the clock and waits for running jobs, at most until ctx ends.
func (s *Scheduler) Stop(ctx context.Context) {
	done := s.cron.Stop()
	select {
	case <-done.Done():
	case <-ctx.Done():
		s.log.Warn("jobs still running at the shutdown deadline")
	}
}

// cronLogger routes cron's own messages to slog.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug(msg, kv...) }

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error(msg, append(kv, "err", err)...)
}
