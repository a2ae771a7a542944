// Command jastar runs the Telegram bot of the youth resource centers.
//
// main reads the configuration from the environment, builds the logger,
// wires storage, bot and scheduler together, handles signals and shuts down
// in order. Nothing else lives here.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"
	_ "time/tzdata" // the minimal image has no zoneinfo; Asia/Almaty must be right everywhere

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot"
	"jastar/bot/ops"
	"jastar/locales"
	"jastar/scheduler"
	"jastar/storage"
	"jastar/storage/boltdb"
	"jastar/storage/catalog"
)

// shutdownTimeout bounds the whole shutdown, below Docker's default 10 s
// stop timeout.
const shutdownTimeout = 8 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if runsTheBot(os.Args[1:]) {
		// Here, not in runBot: the tests run the bot inside a test binary
		// whose heap (with the race detector) is no guide to the bot's.
		tuneGC(os.Getenv)
	}
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "jastar:", err)
		os.Exit(exitCode(err))
	}
}

// exitCode is 2 for a configuration or usage error, which the operator
// has to fix before a restart can help, and 1 for any other failure.
func exitCode(err error) int {
	var cerr *configError
	if errors.As(err, &cerr) || errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

var errUsage = errors.New("usage")

// run is the whole program; tests call it with their own environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "run"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "run":
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		fs.SetOutput(stderr)
		at := fs.String("now", "", "rehearse a date: start the bot's clock at this moment (\"2027-06-15\" or \"2027-06-15 10:00\"); only against a Bot API on loopback")
		fs.Usage = func() {
			fmt.Fprintln(stderr, "Usage: jastar run [-now DATE]\n\nRuns the bot. Configuration comes from the environment (TELEGRAM_BOT_TOKEN,\nTELEGRAM_API_URL, JASTAR_DB, JASTAR_STAFF_CHAT_ID, JASTAR_ADMIN_IDS, JASTAR_TIMEZONE,\nJASTAR_LOG_LEVEL, ...); see README.md.\n\nFlags:")
			fs.PrintDefaults()
		}
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return errUsage
		}
		if fs.NArg() > 0 {
			fs.Usage()
			return fmt.Errorf("run takes no arguments: %w", errUsage)
		}
		return runBot(ctx, getenv, stdout, *at)
	case "backup":
		return runBackup(ctx, args, getenv, stdout, stderr)
	case "export":
		return runExport(ctx, args, getenv, stdout, stderr)
	case "load":
		return runLoad(ctx, args, stdout, stderr)
	case "catalog":
		return runCatalog(args, getenv, stdout, stderr)
	case "sandbox":
		return runSandbox(ctx, args, getenv, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q: %w", cmd, errUsage)
}

const usage = `Usage: jastar [command]

Commands:
  run                   run the bot (the default)
  backup FILE           write a consistent copy of the database, also while the bot runs
  export [flags] FILE   write the bookings of a period as CSV for Excel (see -h)
  load [flags]          drive simulated people through the bot and measure it (see -h)
  catalog check FILE    validate a catalog file; catalog default prints the embedded one
  sandbox [-addr A] [-db-with-people] [-now DATE]
                        try the bot without Telegram: a local chat page on 127.0.0.1:8080
  help                  show this help

Configuration is read from the environment; see README.md.
`

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(h)
}

// runBot runs the bot until ctx ends, then shuts down in order: stop polling,
// let running handlers finish, stop cron, close the database. rehearse,
// when not "", is a -now value: the bot's clock starts there (see
// rehearsal.go).
func runBot(ctx context.Context, getenv func(string) string, stdout io.Writer, rehearse string) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	now := time.Now
	if rehearse != "" {
		if err := checkRehearsalAPI(cfg.APIURL); err != nil {
			return &configError{name: "-now", msg: err.Error()}
		}
		start, err := parseRehearsal(rehearse, cfg.Location)
		if err != nil {
			return &configError{name: "-now", msg: err.Error()}
		}
		now = rehearsalClock(start)
	}
	log := newLogger(cfg, stdout)
	slog.SetDefault(log)
	// The library logs only in debug mode, but route it anyway so nothing
	// bypasses our logger (and its rule of never logging the token).
	_ = tgbotapi.SetLogger(libraryLogger{log: log.With("component", "telegram")})

	cat, err := loadCatalog(cfg)
	if err != nil {
		return err
	}
	if rehearse != "" {
		log.Warn("rehearsal: the bot's clock runs from another moment than the real one", "now", now().Format(time.RFC3339))
	}
	for _, year := range cat.YearsWithoutDatedHolidays(now()) {
		log.Warn("the catalog lists no moving holidays or transfers of days off for a year: add Kurban ait and the decree's transfers to holidays", "year", year)
	}
	texts, err := locales.Load()
	if err != nil {
		return fmt.Errorf("load texts: %w", err)
	}
	metrics := ops.NewMetrics()
	db, err := boltdb.Open(cfg.DBPath, boltdb.Options{
		Log: log.With("component", "storage"),
		// storage imports nothing of ours: it reports its panics here.
		OnPanic: func(component string) { metrics.Panics.WithLabelValues(component).Inc() },
	})
	if err != nil {
		if errors.Is(err, boltdb.ErrLocked) {
			return fmt.Errorf("%w: is another jastar running on %s?", err, cfg.DBPath)
		}
		if errors.Is(err, storage.ErrSchemaTooNew) {
			return fmt.Errorf("%s was written by a newer jastar, refusing to touch it: run that version, or restore a backup made by this one: %w", cfg.DBPath, err)
		}
		return err
	}
	defer db.Close()
	sock := openAdminSocket(cfg, db, cat, texts, log, metrics) // hot backups and exports, for the file's owner only
	defer sock.Close()

	// How long an idle dialogue stays open: the bot finds it expired at the
	// next tap, housekeeping closes it, and the expiry message names it, so
	// all three get it from here.
	dialogTTL := bot.DefaultConfig().DialogTTL
	b, err := bot.New(bot.Config{
		Token:       cfg.Token,
		APIEndpoint: cfg.APIURL + "/bot%s/%s",
		StaffChatID: cfg.StaffChatID,
		AdminIDs:    cfg.AdminIDs,
		Location:    cfg.Location,
		Limits:      cfg.Limits,
		Workers:     cfg.Workers,

		MaxBookings:   cfg.MaxBookings,
		BookingNotice: cfg.BookingNotice,
		BookingDays:   cfg.BookingDays,
		StaffLang:     cfg.StaffLang,
		Reminders:     storage.ReminderPolicy{DayBeforeAt: cfg.RemindDayBeforeAt, Before: cfg.RemindBefore},
		BroadcastRate: cfg.BroadcastRate,
		DialogTTL:     dialogTTL,
	}, bot.Deps{Store: db, Catalog: cat, Locales: texts, Log: log, Metrics: metrics, Now: now})
	if err != nil {
		return err
	}
	if n, err := b.SeedEvents(ctx); err != nil {
		return err
	} else if n > 0 {
		log.Info("seed events stored", "count", n)
	}
	log.Info("starting", "db", cfg.DBPath, "api_url", cfg.APIURL, "time_zone", cfg.TimeZone)
	if err := b.Connect(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	if err := b.RegisterCommands(ctx); err != nil {
		log.Warn("register bot commands", "err", err)
	}

	if cfg.HTTPAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("/", ops.Handler(metrics,
			[]ops.Check{b.Healthy, db.Ping},
			[]ops.Check{b.Ready, db.Ping}))
		// Profiles for the operator (and the load tool's -cpuprofile); the
		// listener is off by default and meant for loopback.
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		if _, err := ops.Serve(ctx, cfg.HTTPAddr, mux, log, metrics); err != nil {
			return &configError{name: "JASTAR_HTTP_ADDR", msg: err.Error()}
		}
	}

	sched := scheduler.New(cfg.Location, log, now).WithMetrics(metrics)
	if err := sched.Add("housekeeping", scheduler.SpecHousekeeping, scheduler.Housekeeping(db, dialogTTL, log)); err != nil {
		return err
	}
	// The bot is the scheduler's Notifier and digester; specs were checked
	// by loadConfig.
	// The sweep stops claiming at the signal, not when cron stops. What the
	// last process left in flight is settled as uncertain before the first
	// sweep: logged, counted, and listed in the staff digest, never resent.
	reminders := scheduler.NewReminders(db, b, log).WithMetrics(metrics)
	if err := reminders.RecoverInFlight(ctx); err != nil {
		return err
	}
	if err := sched.Add("reminders", scheduler.SpecEveryMinute, reminders.StopOn(ctx)); err != nil {
		return err
	}
	if err := sched.Add("staff_digest", cfg.DigestSpec, scheduler.StaffDigest(b)); err != nil {
		return &configError{name: "JASTAR_DIGEST_SPEC", msg: err.Error()}
	}
	if err := sched.Add("weekly_digest", cfg.WeeklySpec, scheduler.WeeklyDigest(db, b, log)); err != nil {
		return &configError{name: "JASTAR_WEEKLY_SPEC", msg: err.Error()}
	}
	sched.Start(context.WithoutCancel(ctx))
	reloadOnHangup(ctx, cfg, b, log, metrics)

	runErr := b.Run(ctx, shutdownTimeout/2)
	log.Info("polling stopped, shutting down")
	stopCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout/4)
	defer cancel()
	sched.Stop(stopCtx)
	if runErr != nil {
		return runErr
	}
	log.Info("stopped")
	return nil
}

// libraryLogger adapts the Telegram library's logger to slog.
type libraryLogger struct{ log *slog.Logger }

func (l libraryLogger) Println(v ...any) { l.log.Debug(fmt.Sprint(v...)) }

func (l libraryLogger) Printf(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }

// loadCatalog reads JASTAR_CATALOG or the embedded default. A broken catalog
// stops the bot before it starts, with every problem listed.
func loadCatalog(cfg Config) (*catalog.Catalog, error) {
	if cfg.CatalogPath == "" {
		return catalog.Default(cfg.Location), nil
	}
	cat, err := catalog.Load(cfg.CatalogPath, cfg.Location)
	if err != nil {
		// Unreadable or broken, the file is the operator's to fix: a
		// configuration error (exit 2), like any other bad variable.
		return nil, &configError{name: "JASTAR_CATALOG", msg: err.Error()}
	}
	return cat, nil
}

// runCatalog is "jastar catalog check FILE" and "jastar catalog default".
func runCatalog(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	args, help, err := parseNoFlags("catalog", catalogUsage, args, stderr)
	if help || err != nil {
		return err
	}
	if len(args) > 0 && args[0] == "default" {
		rest, help, err := parseNoFlags("catalog default", "Usage: jastar catalog default\n\nPrints the embedded catalog, a starting point for your own JASTAR_CATALOG.", args[1:], stderr)
		if help || err != nil {
			return err
		}
		if len(rest) > 0 {
			return fmt.Errorf("catalog default takes no arguments: %w", errUsage)
		}
		_, err = stdout.Write(catalog.DefaultTOML())
		return err
	}
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, catalogUsage)
		return fmt.Errorf("catalog: want \"catalog check FILE\" or \"catalog default\": %w", errUsage)
	}
	args, help, err = parseNoFlags("catalog check", "Usage: jastar catalog check FILE\n\nValidates a catalog file for JASTAR_CATALOG, in JASTAR_TIMEZONE, and lists every problem.", args[1:], stderr)
	if help || err != nil {
		return err
	}
	if len(args) != 1 {
		return fmt.Errorf("catalog check: want exactly one FILE: %w", errUsage)
	}
	tz := getenv("JASTAR_TIMEZONE")
	if tz == "" {
		tz = "Asia/Almaty"
	}
	loc, err := loadTimeZone(tz, time.Now())
	if err != nil {
		return err
	}
	cat, err := catalog.Load(args[0], loc)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok: %d districts, %d centers, %d consultation types, %d events\n",
		args[0], len(cat.Districts), len(cat.Centers), len(cat.Types), len(cat.Events))
	for _, year := range cat.YearsWithoutDatedHolidays(time.Now()) {
		fmt.Fprintf(stdout, "warning: no moving holidays or transfers of days off for %d: add Kurban ait and the government decree's transfers to holidays (the yearly ones hold without listing)\n", year)
	}
	return nil
}

const catalogUsage = `Usage: jastar catalog check FILE
       jastar catalog default

check validates a catalog file for JASTAR_CATALOG and lists every problem;
default prints the embedded catalog, a starting point for your own.`

// parseNoFlags parses the arguments of a command that has no flags, so -h
// prints its usage and succeeds like every other command's. It returns the
// arguments left, and help when -h was given.
func parseNoFlags(name, usage string, args []string, stderr io.Writer) (rest []string, help bool, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, usage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, true, nil
		}
		return nil, false, fmt.Errorf("%s: %w", name, errUsage)
	}
	return fs.Args(), false, nil
}
