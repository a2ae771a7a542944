package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"jastar/bot/loadtest"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/boltdb"
	"jastar/storage/catalog"
)

// runLoad is "jastar load": the load tool of issue 8. It starts the fake Bot
// API, this same binary as the bot in a child process (so its memory is
// measured alone), and drives simulated people through it.
func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	users := fs.Int("users", 1000, "simulated people")
	conc := fs.Int("concurrency", 1000, "people acting at the same time")
	duration := fs.Duration("duration", 20*time.Second, "how long to drive traffic")
	iterations := fs.Int("iterations", 0, "scenarios per person (0 = until -duration)")
	latency := fs.Duration("latency", 0, "latency the fake Bot API adds to every call")
	baseline := fs.Bool("baseline", true, "also measure the bare echo loop on the same fake API")
	workers := fs.Int("workers", 256, "the bot's JASTAR_WORKERS")
	seedUsers := fs.Int("seed-users", 0, "people stored before the run (to measure memory and start-up at size)")
	seedBookings := fs.Int("seed-bookings", 0, "past bookings stored before the run")
	seedSubscribers := fs.Int("seed-subscribers", 0, "subscribers stored before the run")
	cpuProfile := fs.String("cpuprofile", "", "write the bot's CPU profile of the run to this file")
	db := fs.String("db", "", "database file for the bot (default: a fresh one in a temporary folder)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: jastar load [flags]\n\nDrives simulated young people through the real bot over a fake Bot API on\nloopback and prints throughput, latency, memory and database size.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	texts, err := locales.Load()
	if err != nil {
		return err
	}
	opts := loadtest.Options{
		Users: *users, Concurrency: *conc, Duration: *duration, Iterations: *iterations,
		Latency: *latency, Scenario: loadtest.Realistic(texts),
	}
	if *iterations > 0 {
		opts.Duration = 0
	}
	dbPath := *db
	if dbPath == "" {
		dir, err := os.MkdirTemp("", "jastar-load-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dbPath = filepath.Join(dir, "jastar.db")
	}
	if *seedUsers+*seedBookings+*seedSubscribers > 0 {
		loc, _ := time.LoadLocation("Asia/Almaty")
		began := time.Now()
		if err := seedDB(ctx, dbPath, seedSizes{*seedUsers, *seedBookings, *seedSubscribers}, loc); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "seeded %d people, %d bookings, %d subscribers in %s\n", *seedUsers, *seedBookings, *seedSubscribers, time.Since(began).Round(time.Second))
	}
	opts.StartBot = func(ctx context.Context, apiURL, token string) (loadtest.Bot, error) {
		c, err := startChildBot(ctx, apiURL, token, dbPath, *workers)
		if err == nil && *cpuProfile != "" && *duration > 2*time.Second {
			go c.profile(*cpuProfile, *duration-time.Second)
		}
		return c, err
	}
	var echo loadtest.Report
	if *baseline {
		var err error
		echo, err = loadtest.Run(ctx, "echo", opts)
		if err != nil {
			return fmt.Errorf("echo baseline: %w", err)
		}
		fmt.Fprintln(stdout, echo)
	}
	rep, err := loadtest.Run(ctx, "bot", opts)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, rep)
	if *baseline && echo.PerSecond() > 0 {
		fmt.Fprintf(stdout, "bot/echo: %.0f%% of the echo baseline's rate\n", 100*rep.PerSecond()/echo.PerSecond())
	}
	over, err := overbooked(ctx, dbPath)
	if err != nil {
		return fmt.Errorf("load: check capacity: %w", err)
	}
	fmt.Fprintf(stdout, "capacity: %d slots over capacity\n", over)
	if over > 0 {
		return fmt.Errorf("load: %d slots hold more bookings than their capacity", over)
	}
	if rep.Missing > 0 || len(rep.FailedStep) > 0 {
		return fmt.Errorf("load: %d updates unanswered, %d failed step kinds", rep.Missing, len(rep.FailedStep))
	}
	return nil
}

// childBot is the bot under load, run as "jastar run" in its own process.
type childBot struct {
	opsAddr string
	cmd     *exec.Cmd
	dbPath  string
	done    chan error
}

func startChildBot(ctx context.Context, apiURL, token, dbPath string, workers int) (*childBot, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	opsAddr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(self, "run")
	cmd.Env = append(os.Environ(),
		"TELEGRAM_BOT_TOKEN="+token, "TELEGRAM_API_URL="+apiURL, "JASTAR_DB="+dbPath,
		// The limits are raised as for a local Bot API server: this run
		// measures the bot, not Telegram's caps.
		"JASTAR_SEND_RATE=0", "JASTAR_CHAT_RATE=0", "JASTAR_GROUP_RATE=0",
		"JASTAR_WORKERS="+strconv.Itoa(workers), "JASTAR_LOG_LEVEL=warn", "JASTAR_HTTP_ADDR="+opsAddr,
	)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &childBot{opsAddr: opsAddr, cmd: cmd, dbPath: dbPath, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait() }()
	// Ready means connected and polling: what start-up must reach.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + opsAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c, nil
			}
		}
		select {
		case err := <-c.done:
			return nil, fmt.Errorf("bot exited during start-up: %v", err)
		case <-ctx.Done():
			c.Stop()
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.Stop()
			return nil, errors.New("bot not ready within 30 s")
		}
	}
}

func (c *childBot) Stop() error {
	_ = c.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-c.done:
		return err
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		return errors.New("bot did not stop within 15 s")
	}
}

// PeakRSS reads the child's high-water mark of resident memory.
func (c *childBot) PeakRSS() int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func (c *childBot) DBSize() int64 {
	fi, err := os.Stat(c.dbPath)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// overbooked counts slots whose active bookings exceed the catalog's
// capacity, reading the database the bot left behind.
func overbooked(ctx context.Context, dbPath string) (int, error) {
	db, err := boltdb.Open(dbPath, boltdb.Options{ReadOnly: true})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	loc, _ := time.LoadLocation("Asia/Almaty")
	cat := catalog.Default(loc)
	var ids []string
	for _, c := range cat.Centers {
		ids = append(ids, c.ID)
	}
	now := time.Now()
	all, err := db.BookingsOn(ctx, ids, now.AddDate(0, 0, -1), now.AddDate(0, 0, 120))
	if err != nil {
		return 0, err
	}
	type slot struct {
		center, typ string
		start       int64
	}
	counts := map[slot]int{}
	for _, b := range all {
		if b.Status == storage.BookingBooked {
			counts[slot{b.CenterID, b.TypeID, b.Start.Unix()}]++
		}
	}
	over := 0
	for s, n := range counts {
		sch, ok := cat.ScheduleFor(s.center, s.typ)
		if !ok || n > sch.Capacity {
			over++
		}
	}
	return over, nil
}

// profile records the bot's CPU profile for d into file.
func (c *childBot) profile(file string, d time.Duration) {
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", c.opsAddr, int(d.Seconds())))
	if err != nil {
		fmt.Fprintln(os.Stderr, "load: profile:", err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load: profile:", err)
		return
	}
	defer f.Close()
	_, _ = io.Copy(f, resp.Body)
}
