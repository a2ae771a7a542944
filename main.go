// Command jastar runs the Telegram bot of the youth resource centers.
//
// main reads the configuration from the environment, builds the logger,
// wires storage, bot and scheduler together, handles signals and shuts down
// in order. It also keeps the table of subcommands: each lives in its own
// package, and main hands it what only main may build, the store on
// storage/boltdb and the bot. Nothing else lives here.
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
	"strings"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // the minimal image has no zoneinfo; Asia/Almaty must be right everywhere

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot"
	"jastar/bot/admin"
	"jastar/bot/adminsock"
	"jastar/bot/config"
	"jastar/bot/loadtest"
	"jastar/bot/ops"
	"jastar/bot/rehearsal"
	"jastar/bot/sandbox"
	"jastar/locales"
	"jastar/scheduler"
	"jastar/storage"
	"jastar/storage/boltdb"
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
	var cerr *config.Error
	if errors.As(err, &cerr) || errors.Is(err, config.ErrUsage) {
		return 2
	}
	return 1
}

// run is the whole program; tests call it with their own environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	name := "run"
	if len(args) > 0 {
		name, args = args[0], args[1:]
	}
	switch name {
	case "-h", "-help", "--help":
		name = "help"
	}
	cmds := commands()
	for _, c := range cmds {
		if c.name == name {
			return c.run(ctx, args, getenv, stdout, stderr)
		}
	}
	fmt.Fprint(stderr, usage(cmds))
	return fmt.Errorf("unknown command %q: %w", name, config.ErrUsage)
}

// command is one of jastar's subcommands.
type command struct {
	name     string
	synopsis string // how it is called, for `jastar help`
	summary  string // what it does, in one line of `jastar help`
	run      func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error
}

// commands is the table of every subcommand, in the order `jastar help`
// lists them. Each but run lives in its own package; main hands it what
// only main may build: the store on storage/boltdb, and the bot.
func commands() []command {
	files := admin.Files{Open: openAdminFile, Locked: boltdb.ErrLocked}
	var cmds []command
	help := func(_ context.Context, _ []string, _ func(string) string, stdout, _ io.Writer) error {
		fmt.Fprint(stdout, usage(cmds))
		return nil
	}
	cmds = []command{
		{"run", "run", "run the bot (the default)", runCommand},
		{"backup", "backup FILE", "write a consistent copy of the database, also while the bot runs", admin.Backup{Files: files}.Run},
		{"export", "export [flags] FILE", "write the bookings of a period as CSV for Excel (see -h)", admin.Export{Files: files}.Run},
		{"load", "load [flags]", "drive simulated people through the bot and measure it (see -h)", loadtest.Command{Open: openLoadStore}.Run},
		{"catalog", "catalog check|reload", "validate a catalog file, or make the running bot reload its own (see -h)", catalogCommand},
		{"sandbox", "sandbox [-addr A] [-db-with-people] [-now DATE]", "try the bot without Telegram: a local chat page on 127.0.0.1:8080",
			sandbox.Command{Open: openSandboxStore, Config: sandboxConfig, RunBot: runBot}.Run},
		{"help", "help", "show this help", help},
	}
	return cmds
}

// catalogCommand is "jastar catalog ...": reload asks the running bot
// through its socket (bot/admin); check and default need no bot.
func catalogCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "reload" {
		return admin.RunCatalogReload(ctx, args[1:], getenv, stdout, stderr)
	}
	return config.RunCatalog(ctx, args, getenv, stdout, stderr)
}

// usage is `jastar help`, generated from the table.
func usage(cmds []command) string {
	var b strings.Builder
	b.WriteString("Usage: jastar [command]\n\nCommands:\n")
	for _, c := range cmds {
		const width = 22 // the column the summaries start in, less the indent
		if len(c.synopsis) < width {
			fmt.Fprintf(&b, "  %-*s%s\n", width, c.synopsis, c.summary)
		} else {
			fmt.Fprintf(&b, "  %s\n  %*s%s\n", c.synopsis, width, "", c.summary)
		}
	}
	b.WriteString("\nConfiguration is read from the environment; see README.md.\n")
	return b.String()
}

// runCommand is "jastar run [-now DATE]", and "jastar" alone.
func runCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	at := fs.String("now", "", "rehearse a date: start the bot's clock at this moment (\"2027-06-15\" or \"2027-06-15 10:00\"); only against a Bot API on loopback")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: jastar run [-now DATE]\n\nRuns the bot. Configuration comes from the environment (TELEGRAM_BOT_TOKEN,\nTELEGRAM_API_URL, JASTAR_DB, JASTAR_STAFF_CHAT_ID, JASTAR_ADMIN_IDS, JASTAR_TIMEZONE,\nJASTAR_LOG_LEVEL, ...); see README.md.\n\nFlags:")
		fs.PrintDefaults()
	}
	if help, err := config.ParseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("run takes no arguments: %w", config.ErrUsage)
	}
	return runBot(ctx, getenv, stdout, *at)
}

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
// bot/rehearsal).
func runBot(ctx context.Context, getenv func(string) string, stdout io.Writer, rehearse string) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	now := time.Now
	if rehearse != "" {
		if err := rehearsal.CheckAPI(cfg.APIURL); err != nil {
			return &config.Error{Name: "-now", Msg: err.Error()}
		}
		start, err := rehearsal.Parse(rehearse, cfg.Location)
		if err != nil {
			return &config.Error{Name: "-now", Msg: err.Error()}
		}
		now = rehearsal.Clock(start)
	}
	log := newLogger(cfg, stdout)
	setProcessLoggers(log)

	cat, err := config.LoadCatalog(cfg.CatalogPath, cfg.Location)
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
	// One reloader for SIGHUP and `jastar catalog reload`.
	reload := &reloader{cfg: cfg, to: b, log: log}
	// Hot backups, exports and catalog reloads, for the file's owner only.
	// Opened once the bot exists: an export names centers by the catalog
	// in force, which a reload swaps.
	sock := openAdminSocket(cfg, admin.Handler(db, admin.Running{Catalog: b.Catalog, Reload: reload.reload}, texts, cfg.Location, log.With("component", "adminsock")), log, metrics)
	defer sock.Close()
	if n, err := b.SeedEvents(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting: a clean stop, as below
		}
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
			return &config.Error{Name: "JASTAR_HTTP_ADDR", Msg: err.Error()}
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
	if err := sched.Add("close_polls", scheduler.SpecEveryMinute, scheduler.ClosePolls(b)); err != nil {
		return err
	}
	if err := sched.Add("staff_digest", cfg.DigestSpec, scheduler.StaffDigest(b)); err != nil {
		return &config.Error{Name: "JASTAR_DIGEST_SPEC", Msg: err.Error()}
	}
	if err := sched.Add("weekly_digest", cfg.WeeklySpec, scheduler.WeeklyDigest(db, b, log)); err != nil {
		return &config.Error{Name: "JASTAR_WEEKLY_SPEC", Msg: err.Error()}
	}
	sched.Start(context.WithoutCancel(ctx))
	reloadOnHangup(ctx, reload, metrics)

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

// processLoggers makes the first bot of the process the owner of its
// process-wide loggers. A process of jastar runs one bot, so this changes
// nothing for it; the tests run many bots at once in one process, and a
// second bot setting them again would race with the first one's logging.
var processLoggers sync.Once

// setProcessLoggers sends what logs beside our own logger (the standard
// log package, net/http's servers, and the Telegram library, which logs
// only in debug mode) through log, so nothing bypasses it (and its rule of
// never logging the token). Only the first call of the process does it.
func setProcessLoggers(log *slog.Logger) {
	processLoggers.Do(func() {
		slog.SetDefault(log)
		_ = tgbotapi.SetLogger(libraryLogger{log: log.With("component", "telegram")})
	})
}

// libraryLogger adapts the Telegram library's logger to slog.
type libraryLogger struct{ log *slog.Logger }

func (l libraryLogger) Println(v ...any) { l.log.Debug(fmt.Sprint(v...)) }

func (l libraryLogger) Printf(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }

// openAdminSocket serves h on JASTAR_DB.sock. It must run after the
// database is open: bbolt's lock then makes this the only bot on the file,
// so a socket already there is a crashed run's and may be replaced.
// Without the socket the bot still serves people; the log says why hot
// backups are unavailable.
func openAdminSocket(cfg Config, h http.Handler, log *slog.Logger, metrics *ops.Metrics) io.Closer {
	log = log.With("component", "adminsock")
	s, err := adminsock.Open(adminsock.Path(cfg.DBPath), ops.Recovering(log, metrics, "admin_socket", h), log)
	if err != nil {
		log.Error("no hot backups or exports while the bot runs", "err", err)
		return io.NopCloser(nil)
	}
	return s
}

// openAdminFile opens the database for backup and export: read-only, and
// failing fast with boltdb.ErrLocked when a running bot holds it, which
// then has to be asked through its socket.
func openAdminFile(path string) (admin.File, error) {
	db, err := boltdb.Open(path, boltdb.Options{ReadOnly: true, LockTimeout: 500 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	return db, nil
}

// openLoadStore opens the database of the bot under load, before it starts
// and after it stops.
func openLoadStore(path string, how loadtest.Access) (loadtest.Store, error) {
	db, err := boltdb.Open(path, boltdb.Options{ReadOnly: how == loadtest.ReadOnly, BulkLoad: how == loadtest.BulkLoad})
	if err != nil {
		return nil, err
	}
	return db, nil
}

// openSandboxStore opens the sandbox's database before the bot does.
func openSandboxStore(path string, readOnly bool) (sandbox.Store, error) {
	db, err := boltdb.Open(path, boltdb.Options{ReadOnly: readOnly})
	if err != nil {
		return nil, err
	}
	return db, nil
}

// sandboxConfig reads the sandbox bot's configuration as runBot will.
func sandboxConfig(getenv func(string) string) (sandbox.BotConfig, error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return sandbox.BotConfig{}, err
	}
	return sandbox.BotConfig{
		DBPath:    cfg.DBPath,
		Location:  cfg.Location,
		Reminders: storage.ReminderPolicy{DayBeforeAt: cfg.RemindDayBeforeAt, Before: cfg.RemindBefore, Location: cfg.Location},
	}, nil
}
