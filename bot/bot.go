// Package bot is Jastar on Telegram: the features, one file each, and the
// one list of their entry points (routes.go), over the transport of
// bot/tg, which polls, dispatches, routes and sends.
//
// It depends on the storage interfaces, the catalog, locales, bot/ops (the
// metrics it records) and the Telegram library. It never imports
// storage/boltdb: main hands it the stores.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/ops"
	"jastar/bot/tg"
	"jastar/locales"
	"jastar/scheduler/broadcast"
	"jastar/storage"
	"jastar/storage/catalog"
)

// Store is everything the bot keeps in the database.
type Store interface {
	storage.UserStore
	storage.ConversationStore
	storage.Inbox
	storage.BookingStore
	storage.PrivacyStore
	storage.EventStore
	storage.FeedbackStore
	storage.SubscriptionStore
	storage.BroadcastStore
	storage.PollStore
	storage.UncertainReminderStore
	// What a center's staff change (issue 16): the card, closures, extra
	// sessions and the change log.
	storage.CardStore
	storage.ClosureStore
	storage.ExtraSessionStore
	storage.ChangeStore
}

// Config is what the bot needs from the operator.
type Config struct {
	Token       string
	APIEndpoint string // "https://api.telegram.org/bot%s/%s" or a stand-in's
	StaffChatID int64
	AdminIDs    []int64
	Location    *time.Location
	Limits      tg.Limits
	// Workers bounds how many chats are handled at once.
	Workers int
	// PollTimeout is the long-poll wait of getUpdates.
	PollTimeout time.Duration
	// DialogTTL is how long an idle dialogue stays open.
	DialogTTL time.Duration
	// HandlerTimeout bounds the handling of one update.
	HandlerTimeout time.Duration
	// MaxBookings is how many upcoming bookings one person may hold (3).
	MaxBookings int
	// BookingNotice is how long before its start a slot stops taking
	// bookings (1 hour).
	BookingNotice time.Duration
	// BookingDays is how many days, today included, are open for booking (14).
	BookingDays int
	// Reminders says when booking reminders fall due (18:00 the day before
	// and one hour before by default); its Location is Location.
	Reminders storage.ReminderPolicy
	// StaffLang is the language of staff notifications and lists ("ru").
	StaffLang string
	// BroadcastRate is messages a second for broadcasts, all of them
	// together, in every one-second window (0 = DefaultBroadcastRate). It
	// is capped to leave a tenth of Limits.PerSecond to replies.
	BroadcastRate float64
	// BroadcastProgressEvery is how often the admin's progress message of a
	// broadcast is edited (0 = every 5 s).
	BroadcastProgressEvery time.Duration
	// BroadcastRetry is a broadcast runner's first wait after a database
	// error or a panic (0 = 1 s); the waits double up to a minute.
	BroadcastRetry time.Duration
}

// Deps are the parts main wires in.
type Deps struct {
	Store   Store
	Locales *locales.Bundle
	// Catalog is the validated catalog of centers, types and holidays.
	Catalog *catalog.Catalog
	Log     *slog.Logger
	// Now is the clock; tests pass a fake one.
	Now func() time.Time
	// Metrics receives what the bot counts; nil gets a private set.
	Metrics *ops.Metrics
}

// Bot is a running Jastar bot. It is the wiring and no feature: New builds
// the transport and each feature, handing each the others it calls; Run
// runs them; the rest are the entry points main, the scheduler and the
// ops listener call (Connect, RegisterCommands, Remind, StaffDigest,
// EventDigest, ClosePolls, SeedEvents, SetCatalog, Healthy...), each
// handed to its feature, and what only the bot knows that the transport
// and the sender ask for (who a person is, whether a chat is a staff
// chat, that a person blocked the bot: transport.go, markBlocked).
type Bot struct {
	cfg     Config
	store   Store
	catRef  atomic.Pointer[catalog.Catalog] // the catalog in force: SetCatalog swaps it
	metrics *ops.Metrics
	loc     *locales.Bundle
	log     *slog.Logger
	now     func() time.Time
	api     *tgbotapi.BotAPI // for sending
	send    *tg.Sender
	self    tgbotapi.User

	// transport polls, dispatches, routes and replies (bot/tg); routes is
	// its table of entry points, which buildRoutes fills.
	transport *tg.Transport
	routes    *tg.Routes
	commands  *commandMenu      // Telegram's menu of commands, in each language
	features  []feature         // the parts built as types (feature.go), in registration order
	bg        *tg.Background    // callback answers and staff notices, outside handlers (the transport's)
	runner    *broadcast.Runner // delivers broadcasts (scheduler/broadcast)
	pace      *tg.Pacer         // the broadcasts' own rate, which the runner's delivery holds to
	cards     cardCache         // the staff's card values (cards.go)
	staff     *staff            // the staff side of bookings, which booking, My bookings and closures tell
	digest    *digest           // the morning and weekly digests the scheduler calls

	// The parts of booking that features share: free times (slots.go),
	// the words of a booking (booking.go), the dialogue.
	slots      *slotFinder
	texts      *bookingTexts
	booking    *booking
	myBookings *myBookings
	feedback   *feedback
	reminders  *reminders // the scheduler's Notifier (Remind)
	polls      *polls     // the scheduler's PollCloser (ClosePolls)

	// Features other features are handed in New, and that the main menu's
	// rows (buildRoutes), Run (the cards) and SeedEvents name.
	subs  *subscriptions
	intro *intro
	guide *centerGuide
	board *eventBoard
}

// DefaultConfig holds the defaults of every setting that has one; New
// fills a zero field from it, and main's configuration starts from it, so
// each default is written once.
func DefaultConfig() Config {
	return Config{
		Limits:         tg.DefaultLimits(),
		Workers:        64,
		PollTimeout:    25 * time.Second,
		DialogTTL:      30 * time.Minute,
		HandlerTimeout: 2 * time.Minute,
		MaxBookings:    3,
		BookingNotice:  time.Hour,
		BookingDays:    14,
		StaffLang:      string(storage.Russian),
		Reminders:      storage.DefaultReminderPolicy(nil),
		BroadcastRate:  DefaultBroadcastRate,
	}
}

// New builds a bot. It does not contact Telegram; Start does.
func New(cfg Config, deps Deps) (*Bot, error) {
	if cfg.Token == "" {
		return nil, errors.New("bot token is empty")
	}
	if cfg.APIEndpoint == "" {
		cfg.APIEndpoint = tgbotapi.APIEndpoint
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	def := DefaultConfig()
	if cfg.Workers <= 0 {
		cfg.Workers = def.Workers
	}
	if cfg.PollTimeout <= 0 {
		cfg.PollTimeout = def.PollTimeout
	}
	if cfg.DialogTTL <= 0 {
		cfg.DialogTTL = def.DialogTTL
	}
	if cfg.HandlerTimeout <= 0 {
		cfg.HandlerTimeout = def.HandlerTimeout
	}
	if cfg.MaxBookings <= 0 {
		cfg.MaxBookings = def.MaxBookings
	}
	if cfg.BookingNotice <= 0 {
		cfg.BookingNotice = def.BookingNotice
	}
	if cfg.BookingDays <= 0 {
		cfg.BookingDays = def.BookingDays
	}
	if cfg.Reminders == (storage.ReminderPolicy{}) {
		cfg.Reminders = def.Reminders
	}
	cfg.Reminders.Location = cfg.Location
	if cfg.StaffLang == "" {
		cfg.StaffLang = def.StaffLang
	}
	if deps.Catalog == nil {
		deps.Catalog = catalog.Default(cfg.Location)
	}
	if deps.Metrics == nil {
		deps.Metrics = ops.NewMetrics()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	b := &Bot{
		cfg: cfg, store: deps.Store, loc: deps.Locales, now: deps.Now, metrics: deps.Metrics,
		log: deps.Log.With("component", "bot"),
	}
	b.catRef.Store(deps.Catalog)
	// Two clients: polling (the transport's own) waits up to PollTimeout
	// for Telegram, so its client allows more; sending should fail fast
	// and retry.
	b.api = newAPI(cfg.Token, cfg.APIEndpoint, &http.Client{Timeout: 30 * time.Second, Transport: newTransport(cfg.Workers)})
	b.send = tg.NewSender(b.api, cfg.Limits, b.log).WithMetrics(deps.Metrics)
	b.send.OnBlocked(b.markBlocked)
	b.transport = b.buildTransport(b.log)
	b.routes, b.bg = b.transport.Routes(), b.transport.Background()
	b.commands = &commandMenu{routes: b.routes, loc: b.loc, send: b.send}
	b.slots = &slotFinder{cat: b.cat, cfg: b.cfg, now: b.now, store: deps.Store}
	b.texts = &bookingTexts{cat: b.cat, cfg: b.cfg, cards: &b.cards}
	b.staff = &staff{kit: b.kit("staff"), store: deps.Store, texts: b.texts, bg: b.bg}
	b.booking = &booking{kit: b.kit("booking"), store: deps.Store, slots: b.slots, texts: b.texts, staff: b.staff, docs: b.send}
	b.myBookings = &myBookings{kit: b.kit("mybookings"), store: deps.Store, texts: b.texts, staff: b.staff, move: b.booking}
	b.feedback = &feedback{kit: b.kit("feedback"), store: deps.Store, texts: b.texts, bulk: b.send}
	b.reminders = &reminders{kit: b.kit("reminders"), store: deps.Store, bulk: b.send, texts: b.texts, feedback: b.feedback}
	b.features = append(b.features, b.booking, b.myBookings, b.feedback)
	b.digest = &digest{kit: b.kit("digest"), store: deps.Store, texts: b.texts, bulk: b.send}
	b.subs = &subscriptions{kit: b.kit("subscriptions"), store: b.store}
	b.intro = &intro{kit: b.kit("intro"), store: b.store, links: b.routes, commands: b.commands, send: b.send, offer: b.subs}
	b.board = &eventBoard{kit: b.kit("events"), store: b.store, remind: b.reminders}
	b.guide = &centerGuide{kit: b.kit("centers"), store: b.store, cards: &b.cards, send: b.send, types: b.booking, events: b.board, intro: b.intro}
	// The runner reports to the admin through the reports, which show
	// the runner's notes: each needs the other.
	reports := &broadcastReports{kit: b.kit("broadcasts"), store: deps.Store, send: b.send, subs: b.subs}
	delivery := newBroadcastDelivery(b.send, cfg.BroadcastRate, cfg.Limits.PerSecond, b.log)
	b.pace = delivery.pace
	b.runner = broadcast.New(deps.Store, delivery, reports, broadcast.Options{ProgressEvery: cfg.BroadcastProgressEvery, Retry: cfg.BroadcastRetry},
		deps.Log, b.metrics, b.now)
	reports.notes = b.runner
	// The centers come before the card editor, whose routes wrap the
	// location handler the centers set.
	b.features = append(b.features, b.subs, b.intro, b.guide, b.board,
		&eventDesk{kit: b.kit("eventstaff"), store: b.store, events: b.board},
		&broadcasts{kit: b.kit("broadcasts"), store: b.store, send: b.send, jobs: b.runner, reports: reports})
	closing := &closures{kit: b.kit("closures"), store: b.store, slots: b.slots, texts: b.texts, staff: b.staff}
	b.features = append(b.features,
		b.staff,
		&export{kit: b.kit("export"), store: deps.Store, files: b.send},
		&stats{kit: b.kit("stats"), store: deps.Store, files: b.send},
		closing,
		&mycenter{kit: b.kit("mycenter"), store: b.store, desk: b.guide},
		&sessions{kit: b.kit("sessions"), store: b.store, tell: closing},
		&changes{kit: b.kit("changes"), store: b.store},
	)
	b.polls = &polls{kit: b.kit("polls"), store: deps.Store, reports: reports, runner: b.runner, send: b.send}
	b.features = append(b.features, b.polls, &privacy{kit: b.kit("privacy"), store: deps.Store, texts: b.texts, bookings: b.myBookings, events: b.board, polls: b.polls})
	crisis, err := locales.LoadCrisis()
	if err != nil {
		return nil, fmt.Errorf("load the crisis word lists: %w", err)
	}
	b.features = append(b.features, newSafety(b.kit("safety"), deps.Store, crisis, b.booking))
	b.buildRoutes(b.routes)
	return b, nil
}

// newTransport keeps enough idle connections for every worker: Go's default
// of two per host makes concurrent senders open and close a connection per
// message, which under load exhausts ports and multiplies latency.
func newTransport(workers int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = workers + 16
	t.MaxIdleConnsPerHost = workers + 16
	return t
}

func newAPI(token, endpoint string, client tgbotapi.HTTPClient) *tgbotapi.BotAPI {
	api := &tgbotapi.BotAPI{Token: token, Client: client, Buffer: 0}
	api.SetAPIEndpoint(endpoint)
	return api
}

// Sender is the bot's one rate-limited sender, shared with the scheduler and
// broadcasts through the interfaces they declare.
func (b *Bot) Sender() *tg.Sender { return b.send }

// Self is the bot's own Telegram user, known after Connect.
func (b *Bot) Self() tgbotapi.User { return b.self }

// Connect asks Telegram who we are, retrying with backoff while the Bot API
// is unreachable, and fails at once when the token is rejected or the
// answer shows that the URL is no Bot API.
func (b *Bot) Connect(ctx context.Context) error {
	probe := newAPI(b.cfg.Token, b.cfg.APIEndpoint, statusClient{b.api.Client})
	backoff := time.Second
	for attempt := 1; ; attempt++ {
		me, rawErr := probe.GetMe()
		err := tg.Classify("getMe", b.cfg.Token, rawErr)
		if err == nil {
			b.self = me
			b.api.Self = me
			b.transport.SetSelf(me)
			b.log.Info("connected to the Bot API", "bot_username", me.UserName)
			return nil
		}
		if errors.Is(err, tg.ErrUnauthorized) {
			return fmt.Errorf("telegram rejected the bot token (getMe answered 401): check TELEGRAM_BOT_TOKEN: %w", tg.ErrUnauthorized)
		}
		if code, ok := clientErrorCode(rawErr, err); ok {
			// Retrying cannot help: a wrong path or host answers the same
			// every time.
			base := strings.TrimSuffix(b.cfg.APIEndpoint, "/bot%s/%s")
			return fmt.Errorf("getMe at %s answered %d %s, so it is not a Bot API: check TELEGRAM_API_URL (the base URL without /bot<token>, such as %s)",
				base, code, http.StatusText(code), strings.TrimSuffix(tgbotapi.APIEndpoint, "/bot%s/%s"))
		}
		b.log.Warn("Bot API unreachable, retrying", "attempt", attempt, "retry_in", backoff.String(), "err", err)
		if err := tg.Sleep(ctx, tg.Jitter(backoff)); err != nil {
			return fmt.Errorf("connect to the Bot API: %w", err)
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// clientErrorCode reports the HTTP status of a 4xx answer to getMe, other
// than 401 (a bad token) and 429 (wait and retry). raw is the library's
// error and classified what classify made of it.
func clientErrorCode(raw, classified error) (int, bool) {
	code := 0
	var apiErr *tg.APIError
	var statusErr *httpStatusError
	switch {
	case errors.As(classified, &apiErr):
		code = apiErr.Code
	case errors.As(raw, &statusErr):
		code = statusErr.code
	}
	return code, code >= 400 && code < 500 && code != http.StatusUnauthorized && code != http.StatusTooManyRequests
}

// statusClient turns an error answer that is not JSON into an
// *httpStatusError: a URL that is no Bot API (a web server's HTML 404 page)
// would otherwise reach us as a bare JSON syntax error.
type statusClient struct{ client tgbotapi.HTTPClient }

func (c statusClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.client.Do(req)
	if err != nil || resp.StatusCode < 400 || strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return resp, err
	}
	resp.Body.Close()
	return nil, &httpStatusError{code: resp.StatusCode}
}

// httpStatusError is an HTTP error answer without a Bot API body.
type httpStatusError struct{ code int }

func (e *httpStatusError) Error() string {
	return fmt.Sprintf("HTTP %d %s, not a Bot API answer", e.code, http.StatusText(e.code))
}

// RegisterCommands publishes the command list per language (setMyCommands),
// so Telegram's menu shows it in the person's language.
func (b *Bot) RegisterCommands(ctx context.Context) error { return b.commands.register(ctx) }

func (b *Bot) markBlocked(chatID int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := b.store.UpdateUser(ctx, chatID, func(u *storage.User) error {
		if u.CreatedAt.IsZero() {
			return storage.ErrNotFound // a chat we never stored: nothing to mark
		}
		u.Active = false
		u.UpdatedAt = b.now()
		return nil
	})
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		b.log.Error("mark user blocked", "chat_id", chatID, "err", err)
		return
	}
	b.subs.unsubscribeUnreachable(ctx, chatID)
	b.log.Info("user blocked the bot", "chat_id", chatID)
}

// LastPoll is when the update loop last started or completed a poll, for
// health checks.
func (b *Bot) LastPoll() time.Time { return b.transport.LastPoll() }

// Healthy reports whether the update loop is alive: a long poll returns at
// least every PollTimeout, so no completed poll for much longer means the
// loop is stuck (or never started).
func (b *Bot) Healthy(ctx context.Context) error {
	last := b.LastPoll()
	if last.IsZero() {
		return errors.New("update loop has not started polling yet")
	}
	if age := b.now().Sub(last); age > b.cfg.PollTimeout+30*time.Second {
		return fmt.Errorf("update loop stalled: last poll %s ago", age.Round(time.Second))
	}
	return nil
}

// Ready reports whether the bot knows who it is on Telegram and polls.
func (b *Bot) Ready(ctx context.Context) error {
	if b.self.ID == 0 {
		return errors.New("not connected to the Bot API yet")
	}
	return b.Healthy(ctx)
}
