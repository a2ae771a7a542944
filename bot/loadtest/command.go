package loadtest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"jastar/bot/config"
	"jastar/bot/ops"
	"jastar/bot/rehearsal"
	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/catalog"
)

// Store is what the load tool reads and writes in the bot's database file
// before the bot starts (seeding, its own events) and after it stops (the
// capacity check). bbolt lets one process open the file at a time.
type Store interface {
	rehearsal.Store
	AllBookingsOn(ctx context.Context, from, to time.Time) ([]storage.Booking, error)
	SaveUser(ctx context.Context, u storage.User) error
	SaveSubscription(ctx context.Context, s storage.Subscription) error
	Book(ctx context.Context, b storage.Booking, rules storage.BookRules) (storage.Booking, error)
	Closures(ctx context.Context, centerIDs []string, from, to time.Time) ([]storage.Closure, error)
	// Sync flushes what was written with BulkLoad.
	Sync() error
	Close() error
}

// Access is how Command.Open opens the file.
type Access int

const (
	// ReadWrite is the bot's own way.
	ReadWrite Access = iota
	// ReadOnly leaves the file as it is.
	ReadOnly
	// BulkLoad skips the sync of every commit, for seeding; the tool calls
	// Sync before Close. A crash loses what was loaded.
	BulkLoad
)

// Command is "jastar load": the load tool of issue 8. It starts the fake
// Bot API, this same binary as the bot in a child process (`jastar run`,
// so its memory is measured alone), and drives simulated people through it.
type Command struct {
	// Open opens the bot's database file; main opens storage/boltdb,
	// which no other package may import.
	Open func(path string, how Access) (Store, error)
}

// Run is "jastar load [flags]".
func (c Command) Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
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
	catalogFile := fs.String("catalog", "", "catalog file for the bot, as JASTAR_CATALOG (default: the embedded one)")
	telegramLimits := fs.Bool("telegram-limits", false, "keep Telegram's overall and per-chat sending limits in the bot, as in production: a soak that exercises the per-chat rate buckets (rates then measure the limits, not the bot); the group limit stays raised, since the run's one staff group gets a notice per booking")
	at := fs.String("now", "", "rehearse a date: the bot's clock starts at this moment (\"2027-06-15\" or \"2027-06-15 10:00\")")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: jastar load [flags]\n\nDrives simulated young people through the real bot over a fake Bot API on\nloopback and prints throughput, latency, memory and database size.\n\nFlags:")
		fs.PrintDefaults()
	}
	if help, err := config.ParseFlags(fs, args); help || err != nil {
		return err
	}
	texts, err := locales.Load()
	if err != nil {
		return err
	}
	loc, err := config.LoadTimeZone(Zone, time.Now())
	if err != nil {
		return err
	}
	// The bot gets the same catalog file (or none) and zone, so this is the
	// catalog it runs with.
	cat, err := config.LoadCatalog(*catalogFile, loc)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	// now is the moment the run rehearses: the bot's clock starts there,
	// and the tool's own events and history are dated from it.
	now := time.Now()
	if *at != "" {
		if now, err = rehearsal.Parse(*at, loc); err != nil {
			return &config.Error{Name: "load", Msg: err.Error()}
		}
	}
	opts := Options{
		Users: *users, Concurrency: *conc, Duration: *duration, Iterations: *iterations,
		Latency: *latency, Scenario: Realistic(texts),
		StaffChats: StaffChats(cat), StaffNotice: StaffNotice(texts),
	}
	if *iterations > 0 {
		opts.Duration = 0
	}
	if *telegramLimits {
		// A chat's replies go out at one a second: a step of three
		// messages and a file waits its turn, which is no missing answer.
		opts.Timeout = 30 * time.Second
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
		began := time.Now()
		if err := c.seedDB(ctx, dbPath, seedSizes{*seedUsers, *seedBookings, *seedSubscribers}, cat, now); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "seeded %d people, %d bookings, %d subscribers in %s\n", *seedUsers, *seedBookings, *seedSubscribers, time.Since(began).Round(time.Second))
	}
	if err := c.PrepareDB(ctx, dbPath, now, cat); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if opts.Closure, err = c.PrepareClosure(ctx, dbPath, now, cat); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	opts.ClosureNotice = ClosureNotice(texts)
	settings := []string{}
	if *telegramLimits {
		// Later settings win over childEnv's raised limits.
		l := tg.DefaultLimits()
		settings = append(settings, "JASTAR_SEND_RATE="+strconv.FormatFloat(l.PerSecond, 'f', -1, 64),
			"JASTAR_CHAT_RATE="+strconv.FormatFloat(l.PerChatSecond, 'f', -1, 64))
	}
	opts.StartBot = func(ctx context.Context, apiURL, token string) (Bot, error) {
		child, err := startChildBot(ctx, *at, childEnv(getenv, append([]string{
			"TELEGRAM_BOT_TOKEN=" + token, "TELEGRAM_API_URL=" + apiURL, "JASTAR_DB=" + dbPath,
			"JASTAR_TIMEZONE=" + Zone, "JASTAR_CATALOG=" + *catalogFile,
			"JASTAR_STAFF_CHAT_ID=" + strconv.FormatInt(StaffChat, 10),
			"JASTAR_WORKERS=" + strconv.Itoa(*workers), "JASTAR_LOG_LEVEL=warn",
			"JASTAR_ADMIN_IDS=" + strconv.Itoa(Closer),
		}, settings...)...), dbPath)
		if err == nil && *cpuProfile != "" && *duration > 2*time.Second {
			go func() {
				defer ops.Recovered(slog.New(slog.NewTextHandler(stderr, nil)), nil, "load_profile", nil)
				child.profile(*cpuProfile, *duration-time.Second)
			}()
		}
		return child, err
	}
	var echo Report
	if *baseline {
		var err error
		echo, err = Run(ctx, "echo", opts)
		if err != nil {
			return fmt.Errorf("echo baseline: %w", err)
		}
		fmt.Fprintln(stdout, echo)
	}
	// The bot's clock reads at least now when it starts: every booking of
	// the run is stamped from here on.
	began := now
	rep, err := Run(ctx, "bot", opts)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, rep)
	if *baseline && echo.PerSecond() > 0 {
		fmt.Fprintf(stdout, "bot/echo: %.0f%% of the echo baseline's rate\n", 100*rep.PerSecond()/echo.PerSecond())
	}
	if *baseline && len(rep.Mix) > 0 {
		// The second, honest ceiling: the same Bot API calls per update as
		// the bot just made, with no logic and no database.
		matchedOpts := opts
		matchedOpts.Mix = rep.Mix
		matched, err := Run(ctx, "matched", matchedOpts)
		if err != nil {
			return fmt.Errorf("call-matched echo: %w", err)
		}
		fmt.Fprintf(stdout, "calls per step, as the bot made them:\n%s", rep.Mix)
		fmt.Fprintln(stdout, matched)
		if matched.PerSecond() > 0 {
			fmt.Fprintf(stdout, "bot/matched: %.0f%% of the call-matched echo's rate\n", 100*rep.PerSecond()/matched.PerSecond())
		}
	}
	cc, err := c.CheckCapacity(ctx, dbPath, cat, began)
	if err != nil {
		return fmt.Errorf("load: check capacity: %w", err)
	}
	fmt.Fprintf(stdout, "capacity: replayed %d bookings (%d made in this run) in %d slots: %d over capacity\n",
		cc.Checked, cc.Made, cc.Slots, len(cc.Over))
	for _, o := range cc.Over {
		fmt.Fprintf(stdout, "  %s\n", o)
	}
	fmt.Fprintf(stdout, "staff: %d \"new booking\" notices for %d bookings made\n", rep.Notices, cc.Made)
	told := 0
	for _, n := range rep.Told {
		told += n
	}
	fmt.Fprintf(stdout, "closure: %d closures in force, %d bookings inside a closed range; %d people cancelled by it, %d cancellation messages\n",
		cc.Closures, len(cc.InsideClosed), len(cc.ClosedCancelled), told)
	for _, s := range cc.InsideClosed {
		fmt.Fprintf(stdout, "  %s\n", s)
	}
	return Verdict(rep, echo, cc)
}

// Verdict fails the run on anything issues 8 and 16 say must not happen:
// a slot over capacity, a booking inside a closed range, an error, an
// update or press left unanswered, a booking the staff did not hear of, a
// person cancelled by a closure told other than exactly once.
func Verdict(rep, echo Report, cc Capacity) error {
	var problems []string
	if len(cc.Over) > 0 {
		problems = append(problems, fmt.Sprintf("%d slots held more bookings than their capacity", len(cc.Over)))
	}
	if len(cc.InsideClosed) > 0 {
		problems = append(problems, fmt.Sprintf("%d bookings inside a closed range", len(cc.InsideClosed)))
	}
	if rep.Closing && (!rep.Closed || cc.Closures == 0) {
		problems = append(problems, "the closure under load was not made")
	}
	if miss := toldWrong(rep.Told, cc.ClosedCancelled); len(miss) > 0 {
		problems = append(problems, fmt.Sprintf("%d people not told exactly once of a closure's cancellation: %s", len(miss), strings.Join(miss, ", ")))
	}
	if rep.Errors > 0 {
		problems = append(problems, fmt.Sprintf("%d errors", rep.Errors))
	}
	if n := rep.Missing + echo.Missing; n > 0 || len(rep.FailedStep)+len(echo.FailedStep) > 0 {
		problems = append(problems, fmt.Sprintf("%d updates unanswered, %d failed step kinds", n, len(rep.FailedStep)+len(echo.FailedStep)))
	}
	if n := rep.Unanswered + echo.Unanswered; n > 0 {
		problems = append(problems, fmt.Sprintf("%d button presses never answered", n))
	}
	if rep.Notices != int64(cc.Made) {
		problems = append(problems, fmt.Sprintf("%d staff notices for %d bookings", rep.Notices, cc.Made))
	}
	if len(problems) > 0 {
		return fmt.Errorf("load: %s", strings.Join(problems, "; "))
	}
	return nil
}

// toldWrong lists the chats whose cancellation messages differ in number
// from the bookings closures cancelled for them.
func toldWrong(told, cancelled map[int64]int) []string {
	var out []string
	for chat, n := range cancelled {
		if told[chat] != n {
			out = append(out, fmt.Sprintf("chat %d told %d times of %d", chat, told[chat], n))
		}
	}
	for chat, n := range told {
		if _, ok := cancelled[chat]; !ok {
			out = append(out, fmt.Sprintf("chat %d told %d times of none", chat, n))
		}
	}
	slices.Sort(out)
	return out
}

// Zone is the bot's JASTAR_TIMEZONE under load; the catalog is read in
// it both by the bot and by the capacity check.
const Zone = "Asia/Almaty"

// StaffChat is the staff group (JASTAR_STAFF_CHAT_ID) the bot under load
// notifies, as production always has one.
const StaffChat = -1001000000001

// StaffChats are the groups that hear of bookings under load: the bot-wide
// one and any center's own.
func StaffChats(cat *catalog.Catalog) []int64 {
	chats := []int64{StaffChat}
	for _, c := range cat.Centers {
		if c.StaffChatID != 0 && !slices.Contains(chats, c.StaffChatID) {
			chats = append(chats, c.StaffChatID)
		}
	}
	return chats
}

// childEnv is the whole environment of the bot under load: the basics a
// process needs, then settings. Nothing else of the caller's passes, so a
// JASTAR_CATALOG or JASTAR_MAX_BOOKINGS left in a shell cannot skew the run.
// The sender's limits are raised as for a local Bot API server: the run
// measures the bot, not Telegram's caps.
func childEnv(getenv func(string) string, settings ...string) []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v := getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	env = append(env, "JASTAR_SEND_RATE=0", "JASTAR_CHAT_RATE=0", "JASTAR_GROUP_RATE=0")
	for _, kv := range settings {
		if k, v, _ := strings.Cut(kv, "="); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// childBot is the bot under load, run as "jastar run" in its own process.
type childBot struct {
	opsAddr string
	cmd     *exec.Cmd
	dbPath  string
	done    chan error
}

// PrepareDB gives the database the load tool's own events, dated from
// now, so the scenario's events pages never run dry; three chats that play
// no part in the run fill one and wait for another.
func (c Command) PrepareDB(ctx context.Context, dbPath string, now time.Time, cat *catalog.Catalog) error {
	db, err := c.Open(dbPath, ReadWrite)
	if err != nil {
		return err
	}
	defer db.Close()
	attendees := []int64{loadAttendees, loadAttendees + 1, loadAttendees + 2}
	return rehearsal.StoreEvents(ctx, db, now, cat, attendees, storage.DefaultReminderPolicy(cat.Location()))
}

// loadAttendees is the first of the chats that fill the load tool's
// events: far from the simulated people's ids and the seeded ones.
const loadAttendees = 49_000_000

// startChildBot starts the bot with exactly the environment env, plus the
// ops address it picks (a free loopback port) in JASTAR_HTTP_ADDR. at, when
// not "", is the -now the bot rehearses.
func startChildBot(ctx context.Context, at string, env []string, dbPath string) (*childBot, error) {
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
	args := []string{"run"}
	if at != "" {
		args = append(args, "-now", at)
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(slices.Clone(env), "JASTAR_HTTP_ADDR="+opsAddr)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &childBot{opsAddr: opsAddr, cmd: cmd, dbPath: dbPath, done: make(chan error, 1)}
	go func() {
		var panicked bool
		defer func() {
			if panicked {
				c.done <- errors.New("waiting for the bot panicked")
			}
		}()
		defer ops.Recovered(slog.New(slog.NewTextHandler(os.Stderr, nil)), nil, "load_child", &panicked)
		c.done <- cmd.Wait()
	}()
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

// CPU reads the child's user and system time from /proc, in the kernel's
// clock ticks (USER_HZ, 100 a second on Linux).
func (c *childBot) CPU() time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; the fields after its
	// closing parenthesis are plain numbers: utime and stime are the
	// 12th and 13th of them.
	_, rest, ok := bytes.Cut(data, []byte(") "))
	fields := strings.Fields(string(rest))
	if !ok || len(fields) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(utime+stime) * (time.Second / 100)
}

func (c *childBot) DBSize() int64 {
	fi, err := os.Stat(c.dbPath)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// Errors reads the bot's error counters from its /metrics.
func (c *childBot) Errors() (int64, error) { return MetricErrors(c.opsAddr) }

// MetricErrors reads the error counters of the bot whose ops listener is
// addr, for a Bot's Errors.
func MetricErrors(addr string) (int64, error) {
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("metrics: %s", resp.Status)
	}
	return countErrors(resp.Body)
}

// errorMetrics are the bot's counters of things that went wrong: updates it
// failed to handle and calls to Telegram it gave up on.
var errorMetrics = []string{"jastar_handler_errors_total", "jastar_send_failures_total"}

// countErrors sums errorMetrics, over every label, in a Prometheus text
// exposition. A counter never incremented is absent, and counts 0.
func countErrors(r io.Reader) (int64, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return 0, fmt.Errorf("parse metrics: %w", err)
	}
	var n float64
	for _, name := range errorMetrics {
		if f, ok := families[name]; ok {
			for _, m := range f.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return int64(n), nil
}

// Capacity is what replaying the bookings found.
type Capacity struct {
	Checked int // bookings replayed
	Made    int // of them, created since the run began
	Slots   int // slots they fall in
	Over    []Overbooking
	// Closures counts the closures in force found; InsideClosed lists the
	// bookings inside one that are not cancelled or were made after it;
	// ClosedCancelled counts, per chat, the bookings closures cancelled.
	Closures        int
	InsideClosed    []string
	ClosedCancelled map[int64]int
}

// Overbooking is a slot that at some moment held more active bookings than
// its capacity.
type Overbooking struct {
	Center, Type string
	Start, At    time.Time
	Held, Cap    int
}

func (o Overbooking) String() string {
	return fmt.Sprintf("%s/%s at %s held %d of %d at %s", o.Center, o.Type, o.Start.UTC().Format(time.RFC3339),
		o.Held, o.Cap, o.At.UTC().Format(time.RFC3339Nano))
}

// CheckCapacity reads the bookings the bot left behind (any status, of
// slots from a day before began on) and replays them against the
// catalog's capacities. It reads the database once the bot has stopped:
// bbolt lets only one process open it.
func (c Command) CheckCapacity(ctx context.Context, dbPath string, cat *catalog.Catalog, began time.Time) (Capacity, error) {
	db, err := c.Open(dbPath, ReadOnly)
	if err != nil {
		return Capacity{}, err
	}
	defer db.Close()
	all, err := db.AllBookingsOn(ctx, began.AddDate(0, 0, -1), began.AddDate(1, 0, 0))
	if err != nil {
		return Capacity{}, err
	}
	cc := replayCapacity(all, func(center, typ string) int {
		sch, ok := cat.ScheduleFor(center, typ)
		if !ok {
			return 0
		}
		return sch.Capacity
	})
	for _, b := range all {
		if !b.CreatedAt.Before(began) {
			cc.Made++
		}
	}
	var centers []string
	for _, c := range cat.Centers {
		centers = append(centers, c.ID)
	}
	closures, err := db.Closures(ctx, centers, began.AddDate(0, 0, -1), began.AddDate(1, 0, 0))
	if err != nil {
		return Capacity{}, err
	}
	checkClosures(closures, all, &cc)
	return cc, nil
}

// releaseSlack is how much earlier than its stamp a cancel may have taken
// effect, relative to a booking stamped before it; see replayCapacity.
const releaseSlack = time.Second

// replayCapacity replays every booking's time holding its seat, per slot,
// and reports the slots that ever held more than capacity(center, type).
// Checking only the bookings still active at the end would see almost
// nothing: the load's people cancel what they booked. A booking holds its
// seat from CreatedAt; a cancelled one gives it back at UpdatedAt, which
// Cancel sets (staff marks such as attended keep the seat). At equal times
// a seat is given back before it is taken, as one transaction ends before
// the next begins.
//
// The times are those the bot stamped as it began each request, not commit
// times: a booking whose request began just before a competing cancel's
// did, but committed after it (both wait for the same batched commit, for
// milliseconds under load), would look like an overlap. So a seat given back
// counts as free from releaseSlack before its cancel's stamp: a real
// overbooking, two seats held at once for longer than that, still shows.
func replayCapacity(bookings []storage.Booking, capacity func(center, typ string) int) Capacity {
	type slot struct {
		center, typ string
		start       int64
	}
	type change struct {
		at    time.Time
		delta int
	}
	changes := map[slot][]change{}
	for _, b := range bookings {
		s := slot{b.CenterID, b.TypeID, b.Start.Unix()}
		changes[s] = append(changes[s], change{b.CreatedAt, +1})
		if b.Status == storage.BookingCancelled {
			// Never before the booking itself was stamped.
			release := b.UpdatedAt.Add(-releaseSlack)
			if release.Before(b.CreatedAt) {
				release = b.CreatedAt
			}
			changes[s] = append(changes[s], change{release, -1})
		}
	}
	cc := Capacity{Checked: len(bookings), Slots: len(changes)}
	for s, cs := range changes {
		slices.SortFunc(cs, func(a, b change) int {
			if c := a.at.Compare(b.at); c != 0 {
				return c
			}
			return a.delta - b.delta // -1 (give back) before +1 (take)
		})
		limit := capacity(s.center, s.typ)
		held, worst := 0, Overbooking{}
		for _, c := range cs {
			held += c.delta
			if held > limit && held > worst.Held {
				worst = Overbooking{Center: s.center, Type: s.typ, Start: time.Unix(s.start, 0), At: c.at, Held: held, Cap: limit}
			}
		}
		if worst.Held > 0 {
			cc.Over = append(cc.Over, worst)
		}
	}
	slices.SortFunc(cc.Over, func(a, b Overbooking) int { return a.Start.Compare(b.Start) })
	return cc
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
