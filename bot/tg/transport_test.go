package tg

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/telegramtest"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/boltdb"
	"jastar/storage/storagetest"
)

// rig runs the transport alone, with no feature, against the fake Bot API
// and a real database: each test registers the commands it needs.
type rig struct {
	t    *testing.T
	srv  *telegramtest.Server
	db   *boltdb.DB
	logs *syncBuffer
	now  func() time.Time
	tr   *Transport
	// store, when set, wraps the database the transport is given.
	store func(db *boltdb.DB) Store
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var testLocales = func() *locales.Bundle {
	b, err := locales.Load()
	if err != nil {
		panic(err)
	}
	return b
}()

func newRig(t *testing.T) *rig {
	t.Helper()
	return &rig{t: t, srv: telegramtest.NewServer(t), db: storagetest.Open(t), logs: &syncBuffer{}, now: time.Now}
}

// build makes a transport on the rig's database and fake, as the bot
// would: a person's language is their Telegram app's.
func (h *rig) build() *Transport {
	log := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	api := &tgbotapi.BotAPI{Token: h.srv.Token(), Client: &http.Client{Timeout: 30 * time.Second}, Buffer: 0}
	api.SetAPIEndpoint(h.srv.Endpoint())
	limits := testLimits()
	var store Store = h.db
	if h.store != nil {
		store = h.store(h.db)
	}
	tr := New(Options{
		Token: h.srv.Token(), APIEndpoint: h.srv.Endpoint(),
		Workers: 8, PollTimeout: time.Second, HandlerTimeout: time.Minute, DialogTTL: 30 * time.Minute,
		Store: store, Sender: NewSender(api, limits, log), Locales: testLocales, Log: log, Now: h.now,
	}, Hooks{
		Person: func(ctx context.Context, from *tgbotapi.User, private bool) (storage.User, bool, error) {
			lang := storage.Kazakh
			if strings.HasPrefix(from.LanguageCode, "ru") {
				lang = storage.Russian
			}
			return storage.User{ChatID: from.ID, Lang: lang}, false, nil
		},
	})
	tr.SetSelf(h.srv.Bot())
	return tr
}

// run builds a transport, lets setup register its routes, and runs it
// until the test ends or stop; drain is its shutdown drain time.
func (h *rig) run(drain time.Duration, setup func(*Transport)) *running {
	h.t.Helper()
	tr := h.build()
	if setup != nil {
		setup(tr)
	}
	h.tr = tr
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{t: h.t, cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := tr.Run(ctx)
		dctx, cancel := context.WithTimeout(context.Background(), drain)
		defer cancel()
		tr.Drain(dctx)
		r.done <- err
	}()
	h.t.Cleanup(func() { r.stop() })
	return r
}

// waitText waits for a message in chat containing text.
func (h *rig) waitText(chatID int64, text string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.srv.WaitFor(ctx, chatID, func(m telegramtest.Message) bool { return m.FromBot && strings.Contains(m.Text, text) }); err != nil {
		h.t.Fatalf("chat %d: no message containing %q", chatID, text)
	}
}

// running is a transport whose Run goes on in the background.
type running struct {
	t      *testing.T
	cancel context.CancelFunc
	done   chan error
	ended  bool
	result error
}

// wait waits up to d for Run to return by itself; ok is false if it did not.
func (r *running) wait(d time.Duration) (err error, ok bool) {
	if r.ended {
		return r.result, true
	}
	select {
	case r.result = <-r.done:
		r.ended = true
		return r.result, true
	case <-time.After(d):
		return nil, false
	}
}

// stop sends the shutdown signal and returns what Run returned.
func (r *running) stop() error {
	r.t.Helper()
	r.cancel()
	err, ok := r.wait(10 * time.Second)
	if !ok {
		r.t.Fatal("Run did not return within 10 s of the shutdown signal")
	}
	return err
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting: %s", what)
	}
}

// eventually fails the test unless cond holds within 10 s.
func eventually(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never met")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// echo answers "/echo x" with "echo x".
func echo(tr *Transport) Handler {
	return func(ctx context.Context, r *Request) error {
		_, err := tr.Reply(ctx, r, "echo "+r.Args, nil)
		return err
	}
}

// fakeClock is a settable clock, safe for the transport's goroutines.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}
