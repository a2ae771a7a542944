// Package tg is the bot's transport to Telegram: it owns the whole life of
// an update, from the long poll and the inbox through the per-chat
// dispatch and the route to a handler, to the rate-limited send of the
// replies, plus the callback codec and the work that runs outside
// handlers. Its API is small: register entry points in Routes, hand over
// Hooks, Send, SendBulk, Request, Run and Drain.
//
// It knows no feature: no flow, command or feature text is named here.
// It imports storage (the domain) and locales (the generic texts), both
// below it, and bot/ops for its metrics; it never imports bot or anything
// above it.
package tg

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/ops"
	"jastar/locales"
	"jastar/storage"
)

// Transport owns the whole life of an update: the long poll and the inbox
// (poller.go), the per-chat dispatch, the route to a handler (router.go)
// and the replies through the rate-limited sender (reply.go), plus the
// background work handlers start. It knows no feature: the bot registers
// its entry points in Routes and hands over what only it knows as Hooks.
type Transport struct {
	opts    Options
	hooks   Hooks
	send    *Sender
	bg      *Background
	loc     *locales.Bundle
	store   Store
	log     *slog.Logger
	metrics *ops.Metrics
	now     func() time.Time
	routes  Routes

	pollAPI  *tgbotapi.BotAPI // getUpdates only, cut at shutdown
	pollHTTP *http.Client

	// self is the bot's own user, known after the bot connected: a
	// command addressed to another bot in a group is not ours.
	mu       sync.Mutex
	self     tgbotapi.User
	lastPoll time.Time // when a poll last started or ended, for health

	// run is what one Run hands to the Drain after it.
	run struct {
		dispatcher     *Dispatcher
		cancelHandlers context.CancelFunc
		done           *doneLog
	}

	// pollSleep waits out the poll loop's backoff; tests pass one that
	// moves their fake clock instead.
	pollSleep func(ctx context.Context, d time.Duration) error
}

// Store is what the transport keeps in the database: the inbox of updates
// and the chats' open dialogues, which route to their flow's step.
type Store interface {
	Offset(ctx context.Context) (offset int, lastReceived time.Time, err error)
	Accept(ctx context.Context, updates []storage.RawUpdate, nextOffset int, now time.Time) ([]storage.RawUpdate, error)
	Unseen(ctx context.Context, updates []storage.RawUpdate) ([]storage.RawUpdate, error)
	Pending(ctx context.Context) ([]storage.RawUpdate, error)
	Done(ctx context.Context, updateIDs []int, now time.Time) error
	Conversation(ctx context.Context, chatID int64) (storage.Conversation, error)
	DeleteConversation(ctx context.Context, chatID int64) error
}

// Options are the transport's settings and the parts it is given.
type Options struct {
	Token       string
	APIEndpoint string // "https://api.telegram.org/bot%s/%s" or a stand-in's
	// Workers bounds how many chats are handled at once.
	Workers int
	// PollTimeout is the long-poll wait of getUpdates.
	PollTimeout time.Duration
	// HandlerTimeout bounds the handling of one update.
	HandlerTimeout time.Duration
	// DialogTTL is how long an idle dialogue stays open.
	DialogTTL time.Duration

	Store   Store
	Sender  *Sender
	Locales *locales.Bundle
	Log     *slog.Logger
	Metrics *ops.Metrics
	Now     func() time.Time
}

// Hooks are what only the bot knows about a person and its texts. Each may
// be nil; the transport then does without.
type Hooks struct {
	// Person is the stored record of who sent an update, created on first
	// contact in a private chat; created tells that this call made it. On
	// an error the record returned is still used (a guess of the language).
	Person func(ctx context.Context, from *tgbotapi.User, private bool) (u storage.User, created bool, err error)
	// IsStaffChat tells a group that receives staff notifications, where
	// group commands and group buttons work.
	IsStaffChat func(chatID int64) bool
	// MainMenu is the keyboard that goes with the fallback answers.
	MainMenu func(l *locales.Localizer) any
	// ExpiredText says that a dialogue of flow closed for inactivity.
	ExpiredText func(l *locales.Localizer, flow string) string
	// StepTakesText tells that the chat's open dialogue waits for typed
	// text, which then is its answer and not heard for crisis.
	StepTakesText func(ctx context.Context, chatID int64) bool
}

// New builds a transport; register the routes, then Run it.
func New(opts Options, hooks Hooks) *Transport {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = ops.NewMetrics()
	}
	t := &Transport{
		opts: opts, hooks: hooks, send: opts.Sender, loc: opts.Locales, store: opts.Store,
		log: opts.Log, metrics: opts.Metrics, now: opts.Now,
		pollSleep: Sleep,
	}
	t.routes = newRoutes(opts.Locales)
	t.bg = NewBackground(t.log, t.metrics)
	t.pollHTTP = &http.Client{Timeout: opts.PollTimeout + 15*time.Second}
	t.pollAPI = &tgbotapi.BotAPI{Token: opts.Token, Client: t.pollHTTP, Buffer: 0}
	t.pollAPI.SetAPIEndpoint(opts.APIEndpoint)
	return t
}

// Routes is the table of entry points, to register into before Run.
func (t *Transport) Routes() *Routes { return &t.routes }

// Background is the work that runs outside handlers; Drain waits for it.
func (t *Transport) Background() *Background { return t.bg }

// SetSelf tells the transport who the bot is on Telegram, once connected.
func (t *Transport) SetSelf(me tgbotapi.User) {
	t.mu.Lock()
	t.self = me
	t.mu.Unlock()
	t.pollAPI.Self = me
}

func (t *Transport) selfName() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.self.UserName
}

// LastPoll is when the update loop last started or completed a poll.
func (t *Transport) LastPoll() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lastPoll
}

func (t *Transport) touchPoll() {
	t.mu.Lock()
	t.lastPoll = t.now()
	t.mu.Unlock()
}

// Send sends c to chatID at interactive priority (see Sender.Send).
func (t *Transport) Send(ctx context.Context, chatID int64, c tgbotapi.Chattable) (int, error) {
	return t.send.Send(ctx, chatID, c)
}

// SendBulk sends c to chatID at bulk priority (see Sender.SendBulk).
func (t *Transport) SendBulk(ctx context.Context, chatID int64, c tgbotapi.Chattable) (int, error) {
	return t.send.SendBulk(ctx, chatID, c)
}

// Request makes a call whose result is not a message (see Sender.Request).
func (t *Transport) Request(ctx context.Context, c tgbotapi.Chattable) (*tgbotapi.APIResponse, error) {
	return t.send.Request(ctx, c)
}
