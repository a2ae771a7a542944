package sandbox

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"jastar/bot/config"
	"jastar/bot/ops"
	"jastar/bot/rehearsal"
	"jastar/bot/telegramtest"
	"jastar/storage"
	"jastar/storage/catalog"
)

// Store is what the sandbox reads and writes in its database file before
// the bot opens it: whose the file is, what an earlier fake left behind,
// and its own events.
type Store interface {
	rehearsal.Store
	rehearsal.BookingStore
	AllBookingsOn(ctx context.Context, from, to time.Time) ([]storage.Booking, error)
	EventRegistrations(ctx context.Context, eventID uint64) ([]storage.Registration, error)
	CountSubscribers(ctx context.Context) (storage.SubscriberCounts, error)
	Subscription(ctx context.Context, chatID int64) (storage.Subscription, error)
	SaveSubscription(ctx context.Context, s storage.Subscription) error
	User(ctx context.Context, chatID int64) (storage.User, error)
	SaveUser(ctx context.Context, u storage.User) error
	Pending(ctx context.Context) ([]storage.RawUpdate, error)
	Done(ctx context.Context, updateIDs []int, now time.Time) error
	ForgetHandled(ctx context.Context, cutoff time.Time) (int, error)
	Accept(ctx context.Context, updates []storage.RawUpdate, nextOffset int, now time.Time) ([]storage.RawUpdate, error)
	Close() error
}

// BotConfig is what the sandbox needs of the bot's configuration.
type BotConfig struct {
	DBPath    string
	Location  *time.Location
	Reminders storage.ReminderPolicy
}

// Command is "jastar sandbox": the real bot, wired by main exactly as in
// production, against the fake Bot API, with a chat page on loopback. The
// sender keeps Telegram's default limits and the fake enforces them, so the
// sandbox rehearses the real pace of the bot; -fast lifts both, for the
// tests that play long dialogues through it and are about what the bot
// says, not when.
//
// main fills in what this package must not build itself: the database (no
// package but main imports storage/boltdb) and the bot.
type Command struct {
	// Open opens the database file at path; readOnly to look into a file
	// the sandbox may refuse, leaving it exactly as it was.
	Open func(path string, readOnly bool) (Store, error)
	// Config reads and checks the bot's configuration from getenv, as the
	// bot will, so a bad setting stops the sandbox before it starts.
	Config func(getenv func(string) string) (BotConfig, error)
	// RunBot runs the bot with the environment getenv until ctx ends,
	// logging to stdout; rehearse, when not "", is its -now.
	RunBot func(ctx context.Context, getenv func(string) string, stdout io.Writer, rehearse string) error
}

// Run is "jastar sandbox [-addr A] [-db-with-people] [-now DATE] [-fast]".
func (c Command) Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "where the chat page listens (loopback only)")
	withPeople := fs.Bool("db-with-people", false, "open a JASTAR_DB that holds people other than the sandbox's personas")
	at := fs.String("now", "", "rehearse a date: the bot's clock starts at this moment (\"2027-06-15\" or \"2027-06-15 10:00\")")
	fast := fs.Bool("fast", false, "answer without Telegram's sending limits: quicker than the bot will be in Telegram (the tests use it)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: jastar sandbox [-addr 127.0.0.1:8080] [-db-with-people] [-now DATE] [-fast]\n\n"+
			"Runs the bot against a fake Telegram on this computer and serves a chat page to try it.\n"+
			"The database is a fresh one in a temporary folder unless JASTAR_DB is set.\n"+
			"Of the environment it reads only "+strings.Join(settings(), ", ")+"; every other\n"+
			"setting is the sandbox's own (no TELEGRAM_* and no JASTAR_HTTP_ADDR: it talks only to its\n"+
			"fake Telegram and listens only on loopback).\n"+
			"A JASTAR_DB with bookings, subscriptions or event registrations of anyone but the sandbox's\n"+
			"personas is refused: their due reminders and unfinished broadcasts would go to the fake\n"+
			"Telegram and be marked sent. -db-with-people opens it anyway (use a copy).\n"+
			"It brings its own events, dated from the moment it starts (or -now), so there is always\n"+
			"something to see and book.\n\n")
		fs.PrintDefaults()
	}
	if help, err := config.ParseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("sandbox: unexpected argument %q: %w", fs.Arg(0), config.ErrUsage)
	}
	if err := CheckLoopback(*addr); err != nil {
		return &config.Error{Name: "sandbox", Msg: err.Error()}
	}

	dir, err := os.MkdirTemp("", "jastar-sandbox-")
	if err != nil {
		return fmt.Errorf("sandbox: temporary folder: %w", err)
	}
	defer os.RemoveAll(dir)

	// The bot reads only this map, never the shell: a variable the sandbox
	// did not choose to honour cannot open a listener beyond loopback or
	// point the bot at a real Telegram. Empty rates mean Telegram's limits.
	env := map[string]string{
		"TELEGRAM_BOT_TOKEN":   telegramtest.DefaultToken,
		"JASTAR_DB":            filepath.Join(dir, "jastar.db"),
		"JASTAR_STAFF_CHAT_ID": strconv.FormatInt(StaffChatID, 10),
		"JASTAR_ADMIN_IDS":     strconv.FormatInt(AdminID, 10),
		"JASTAR_CATALOG":       filepath.Join(dir, "catalog.toml"),
		"JASTAR_LOG_FORMAT":    "text",
		"JASTAR_LOG_LEVEL":     "warn",
	}
	for _, keep := range settings() {
		if v := getenv(keep); v != "" {
			env[keep] = v
		}
	}
	if *fast {
		for _, rate := range []string{"JASTAR_SEND_RATE", "JASTAR_CHAT_RATE", "JASTAR_GROUP_RATE"} {
			env[rate] = "0" // no limit
		}
	}
	botEnv := func(k string) string { return env[k] }
	cfg, err := c.Config(botEnv)
	if err != nil {
		return err
	}
	start := time.Now()
	if *at != "" {
		if start, err = rehearsal.Parse(*at, cfg.Location); err != nil {
			return &config.Error{Name: "sandbox", Msg: err.Error()}
		}
	}
	catTOML, cat, err := CatalogTOML(StaffID, cfg.Location)
	if err != nil {
		return err
	}
	if err := c.prepareDB(ctx, cfg.DBPath, *withPeople, start, cat, cfg.Reminders); err != nil {
		return err
	}
	if err := os.WriteFile(env["JASTAR_CATALOG"], catTOML, 0o600); err != nil {
		return fmt.Errorf("sandbox: write catalog: %w", err)
	}

	fake, err := telegramtest.New(telegramtest.Options{RateLimit: !*fast, BotUsername: "jastar_sandbox_bot"})
	if err != nil {
		return fmt.Errorf("sandbox: fake Bot API: %w", err)
	}
	defer fake.Close()
	fake.AddGroup(StaffChatID, StaffChatTitle)
	// The personas are in the database (subscribed, holding bookings and
	// places), so they have started the bot before: without their chats
	// the fake would answer an announcement or a poll to one who has not
	// written yet with "chat not found", and the bot would unsubscribe them.
	for _, p := range DefaultPersonas() {
		fake.AddPrivateChat(p.User())
	}
	answerPolls(ctx, fake, slog.New(slog.NewTextHandler(stderr, nil)))
	env["TELEGRAM_BOT_TOKEN"] = fake.Token()
	env["TELEGRAM_API_URL"] = fake.URL()

	page, err := New(fake, Options{Catalog: cat})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("sandbox: listen on %s: %w", *addr, err)
	}
	// No write timeout: the event stream stays open as long as the page.
	web := &http.Server{Handler: page, ReadHeaderTimeout: 10 * time.Second}
	webDone := make(chan error, 1)
	// A panic in either goroutine ends the sandbox with an error instead
	// of killing it without closing the database.
	plog := slog.New(slog.NewTextHandler(stderr, nil))
	go func() {
		var panicked bool
		defer func() {
			if panicked {
				webDone <- errors.New("page server panicked")
			}
		}()
		defer ops.Recovered(plog, nil, "sandbox_page", &panicked)
		webDone <- web.Serve(ln)
	}()

	fmt.Fprintf(stdout, "Jastar sandbox: open http://%s/ in a browser.\n", ln.Addr())
	fmt.Fprintf(stdout, "It listens on loopback only and runs the real bot against a fake Telegram, with the database %s.\n", env["JASTAR_DB"])
	fmt.Fprintln(stdout, "It is a rehearsal, not a way to run the bot in production. Stop it with Ctrl+C.")

	botCtx, stopBot := context.WithCancel(ctx)
	defer stopBot()
	botDone := make(chan error, 1)
	go func() {
		var panicked bool
		defer func() {
			if panicked {
				botDone <- errors.New("sandbox: the bot panicked")
			}
		}()
		defer ops.Recovered(plog, nil, "sandbox_bot", &panicked)
		botDone <- c.RunBot(botCtx, botEnv, stdout, *at)
	}()

	var runErr error
	select {
	case runErr = <-botDone:
	case err := <-webDone:
		runErr = fmt.Errorf("sandbox: page server: %w", err)
		stopBot()
		<-botDone
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// Shutdown waits for open event streams; the fake's Close ends them, so
	// close it first.
	fake.Close()
	if err := web.Shutdown(shutCtx); err != nil {
		web.Close()
	}
	return runErr
}

// settings are the variables the sandbox takes from the shell: where
// the database is, the time zone, and how it logs. The catalog is always
// the embedded one with the staff persona filled in.
func settings() []string {
	return []string{"JASTAR_DB", "JASTAR_TIMEZONE", "JASTAR_LOG_LEVEL", "JASTAR_LOG_FORMAT"}
}

// prepareDB opens the sandbox's database before the bot does.
//
// A file that holds people other than the sandbox's personas is refused
// unless withPeople: the bot would send their due reminders and any
// unfinished broadcast to the fake Telegram and mark them sent, and a
// stopped production database must never go through that by mistake.
//
// A database of an earlier run is then made fit for the new fake, which
// numbers its updates from 1 again: the old fake's offset and handled ids
// would make the bot confirm away or skip the new updates as already seen.
// Last, it gets the sandbox's own events, dated from now: three personas
// fill one and wait for another, and the first, whom a visitor meets
// first, is free to try both; and the last, Светлана, an anonymous booking
// of the psychologist.
func (c Command) prepareDB(ctx context.Context, path string, withPeople bool, now time.Time, cat *catalog.Catalog, rem storage.ReminderPolicy) error {
	if !withPeople {
		if err := c.refuseOtherPeople(ctx, path); err != nil {
			return err
		}
	}
	db, err := c.Open(path, false)
	if err != nil {
		return fmt.Errorf("sandbox: open %s: %w", path, err)
	}
	defer db.Close()
	if err := forgetOldFake(ctx, db); err != nil {
		return err
	}
	var young []Persona
	var chats []int64
	for _, p := range DefaultPersonas() {
		if p.Role == RoleYoung {
			young, chats = append(young, p), append(chats, p.ID)
		}
	}
	// The first is the persona the page offers first.
	if err := rehearsal.StoreEvents(ctx, db, now, cat, chats[1:], rem); err != nil {
		return err
	}
	if err := subscribePersonas(ctx, db, cat, young[1:], now); err != nil {
		return err
	}
	if err := subscribeRespondents(ctx, db, cat, now); err != nil {
		return err
	}
	// The last (Светлана) holds an anonymous booking of the psychologist.
	last := young[len(young)-1]
	return rehearsal.StoreAnonymousBooking(ctx, db, now, cat, last.ID, storage.Lang(last.Lang), rem)
}

// subscribePersonas subscribes the young personas but the first to events
// and news, each in another district, so an announcement or a poll that
// Асқар sends in the sandbox reaches someone, and its results have
// districts to show. A persona who has a subscription (an earlier run,
// or their own choice) keeps it.
func subscribePersonas(ctx context.Context, db Store, cat *catalog.Catalog, people []Persona, now time.Time) error {
	districts := cat.ListedDistricts()
	for i, p := range people {
		if _, err := db.Subscription(ctx, p.ID); err == nil {
			continue
		} else if !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("sandbox: subscription of %d: %w", p.ID, err)
		}
		lang := storage.Lang(p.Lang)
		if _, err := db.User(ctx, p.ID); errors.Is(err, storage.ErrNotFound) {
			u := storage.User{ChatID: p.ID, Lang: lang, LangSet: true, FirstName: p.Name, Active: true,
				SubscriptionOffered: true, CreatedAt: now, UpdatedAt: now}
			if err := db.SaveUser(ctx, u); err != nil {
				return fmt.Errorf("sandbox: persona %d: %w", p.ID, err)
			}
		} else if err != nil {
			return fmt.Errorf("sandbox: persona %d: %w", p.ID, err)
		}
		sub := storage.Subscription{ChatID: p.ID, Topics: []storage.Topic{storage.TopicEvents, storage.TopicNews},
			Lang: lang, Active: true, UpdatedAt: now}
		if len(districts) > 0 {
			sub.DistrictID = districts[i%len(districts)].ID
		}
		if err := db.SaveSubscription(ctx, sub); err != nil {
			return fmt.Errorf("sandbox: subscribe %d: %w", p.ID, err)
		}
	}
	return nil
}

// refuseOtherPeople looks into an existing file read-only, so a file it
// refuses is left exactly as it was: no migration to this binary's schema,
// no owed compaction, nothing a stopped production bot would trip over.
func (c Command) refuseOtherPeople(ctx context.Context, path string) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	db, err := c.Open(path, true)
	if err != nil {
		return fmt.Errorf("sandbox: open %s: %w", path, err)
	}
	defer db.Close()
	what, err := peopleBesidePersonas(ctx, db)
	if err != nil {
		return fmt.Errorf("sandbox: look into %s: %w", path, err)
	}
	if what != "" {
		return &config.Error{Name: "JASTAR_DB", Msg: path + " holds " + what + " of people who are not the sandbox's personas; " +
			"the sandbox would send their due reminders and unfinished broadcasts to its fake Telegram and mark them sent. " +
			"Point JASTAR_DB at a new file, or at a copy and pass -db-with-people"}
	}
	return nil
}

// peopleBesidePersonas names what in db belongs to someone who is not a
// sandbox persona, the things the bot sends to on its own: bookings (their
// reminders), event registrations (theirs) and subscriptions (broadcasts).
// It returns "" when there is none.
func peopleBesidePersonas(ctx context.Context, db Store) (string, error) {
	persona := map[int64]bool{}
	for _, p := range DefaultPersonas() {
		persona[p.ID] = true
	}
	// The simulated respondents are the sandbox's own too.
	for _, id := range respondentIDs() {
		persona[id] = true
	}
	bookings, err := db.AllBookingsOn(ctx, time.Unix(0, 0), time.Now().AddDate(100, 0, 0))
	if err != nil {
		return "", err
	}
	for _, b := range bookings {
		if b.ChatID != 0 && !persona[b.ChatID] { // 0: anonymised, nobody to send to
			return "bookings", nil
		}
	}
	events, _, err := db.UpcomingEvents(ctx, storage.EventFilter{}, 0, 0)
	if err != nil {
		return "", err
	}
	for _, e := range events {
		regs, err := db.EventRegistrations(ctx, e.ID)
		if err != nil {
			return "", err
		}
		for _, r := range regs {
			if !persona[r.ChatID] {
				return "event registrations", nil
			}
		}
	}
	subs, err := db.CountSubscribers(ctx)
	if err != nil {
		return "", err
	}
	for id := range persona {
		s, err := db.Subscription(ctx, id)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return "", err
		}
		if err == nil && s.Active {
			subs.Total--
		}
	}
	if subs.Total > 0 {
		return "subscriptions", nil
	}
	return "", nil
}

// forgetOldFake drops what the database remembers of an earlier fake
// Telegram: its unhandled updates, its handled update ids and its offset.
func forgetOldFake(ctx context.Context, db Store) error {
	pending, err := db.Pending(ctx)
	if err != nil {
		return err
	}
	ids := make([]int, len(pending))
	for i, u := range pending {
		ids[i] = u.ID
	}
	if err := db.Done(ctx, ids, time.Now()); err != nil {
		return err
	}
	if _, err := db.ForgetHandled(ctx, time.Now().AddDate(100, 0, 0)); err != nil {
		return err
	}
	_, err = db.Accept(ctx, nil, 0, time.Now())
	return err
}
