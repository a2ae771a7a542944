package bot

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"jastar/bot/telegramtest"
	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage/boltdb"
	"jastar/storage/catalog"
	"jastar/storage/storagetest"
)

// harness runs a real bot against the fake Bot API and a real database.
type harness struct {
	t      *testing.T
	srv    *telegramtest.Server
	db     *boltdb.DB
	dbPath string
	bot    *Bot
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
	cfg    Config
	// now and cat, when set, are the bot's clock and catalog.
	now func() time.Time
	cat *catalog.Catalog
	// routes are commands the test adds (withRoute).
	routes map[string]tg.Handler
	// store, when set, wraps the database the bot is given (failure
	// injection); h.db stays the real one.
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

// testLimits keep Telegram's per-chat shape but fast enough for tests.
func testLimits() tg.Limits {
	return tg.Limits{PerSecond: 0, PerChatSecond: 0, ChatBurst: 1, PerGroupMinute: 0, MaxRetry: 10 * time.Second}
}

type harnessOption func(*harness)

func withConfig(f func(*Config)) harnessOption { return func(h *harness) { f(&h.cfg) } }

// withClock gives the bot a fake clock.
func withClock(now func() time.Time) harnessOption { return func(h *harness) { h.now = now } }

// withStore gives the bot wrap(db) as its store instead of the database.
func withStore(wrap func(db *boltdb.DB) Store) harnessOption {
	return func(h *harness) { h.store = wrap }
}

// withRoute adds a command the test handles itself to the bot's route
// table, before the bot runs (never into the live table).
func withRoute(command string, h tg.Handler) harnessOption {
	return func(hs *harness) {
		if hs.routes == nil {
			hs.routes = map[string]tg.Handler{}
		}
		hs.routes[command] = h
	}
}

// withCatalog gives the bot a catalog other than the default.
func withCatalog(c *catalog.Catalog) harnessOption { return func(h *harness) { h.cat = c } }

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	h := &harness{t: t, srv: telegramtest.NewServer(t), logs: &syncBuffer{}}
	// Runs last, when the bot has stopped: everything it sent, checked.
	t.Cleanup(func() { checkSent(t, h.srv) })
	h.db = storagetest.Open(t)
	h.dbPath = h.db.Path()
	h.cfg = Config{
		Token: h.srv.Token(), APIEndpoint: h.srv.Endpoint(), Location: almaty(t),
		Limits: testLimits(), PollTimeout: time.Second, Workers: 8,
	}
	for _, o := range opts {
		o(h)
	}
	h.start()
	return h
}

// defaultCatalog is the embedded catalog read in loc, parsed once per
// zone for the whole package: it is read-only, and parsing it for every
// harness took a twentieth of the package's CPU.
func defaultCatalog(loc *time.Location) *catalog.Catalog {
	if c, ok := defaultCatalogs.Load(loc.String()); ok {
		return c.(*catalog.Catalog)
	}
	c, _ := defaultCatalogs.LoadOrStore(loc.String(), catalog.Default(loc))
	return c.(*catalog.Catalog)
}

// defaultCatalogs holds defaultCatalog's catalogs by zone name.
var defaultCatalogs sync.Map

func almaty(t testing.TB) *time.Location {
	loc, err := time.LoadLocation("Asia/Almaty")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// start builds a bot on the harness's database and runs it.
func (h *harness) start() {
	h.t.Helper()
	log := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var store Store = h.db
	if h.store != nil {
		store = h.store(h.db)
	}
	cat := h.cat
	if cat == nil {
		cat = defaultCatalog(h.cfg.Location)
	}
	b, err := New(h.cfg, Deps{Store: store, Locales: testLocales, Log: log, Now: h.now, Catalog: cat})
	if err != nil {
		h.t.Fatal(err)
	}
	for name, handler := range h.routes {
		b.routes.Command(name, handler)
	}
	if _, err := b.SeedEvents(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := b.Connect(ctx); err != nil {
		h.t.Fatal(err)
	}
	h.bot, h.cancel, h.done = b, cancel, make(chan error, 1)
	go func() { h.done <- b.Run(ctx, 5*time.Second) }()
	h.t.Cleanup(h.stop)
	// Wait until the bot polls, so what it does at start (resuming the
	// broadcasts left unfinished) is behind it: a test that stores a
	// broadcast of its own afterwards must not see it resumed.
	eventually(h.t, func() bool { return !b.transport.LastPoll().IsZero() })
}

// stop shuts the bot down and waits for it.
func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		h.t.Error("bot did not stop within 10 s")
	}
	h.cancel = nil
}

// restart stops the bot, reopens the database file and starts a new bot,
// as a process restart would.
func (h *harness) restart() {
	h.t.Helper()
	h.stop()
	if err := h.db.Close(); err != nil {
		h.t.Fatal(err)
	}
	h.db = storagetest.OpenAt(h.t, h.dbPath)
	h.start()
}

// waitText waits for a bot message in chat containing every fragment.
func (h *harness) waitText(chatID int64, fragments ...string) telegramtest.Message {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := h.srv.WaitFor(ctx, chatID, func(m telegramtest.Message) bool {
		for _, f := range fragments {
			if !strings.Contains(m.Text, f) {
				return false
			}
		}
		return true
	})
	if err != nil {
		h.t.Fatalf("chat %d: no bot message containing %q; transcript:\n%s", chatID, fragments, h.transcript(chatID))
	}
	return m
}

// ask sends text from u and waits for a new bot answer containing the
// fragments: one sent after the text, so that the same question left in the
// chat from an earlier round does not count.
func (h *harness) ask(u telegramtest.User, text string, fragments ...string) telegramtest.Message {
	h.t.Helper()
	before := h.lastID(u.ID)
	h.srv.SendText(u, text)
	return h.waitMatch(u.ID, fmt.Sprintf("new message containing %q", fragments), func(m telegramtest.Message) bool {
		if m.ID <= before {
			return false
		}
		for _, f := range fragments {
			if !strings.Contains(m.Text, f) {
				return false
			}
		}
		return true
	})
}

// lastID is the id of the last message in chat, 0 if none.
func (h *harness) lastID(chatID int64) int {
	if last, ok := h.srv.LastMessage(chatID); ok {
		return last.ID
	}
	return 0
}

// waitNew waits for a bot message after id before containing text.
func (h *harness) waitNew(chatID int64, before int, text string) telegramtest.Message {
	h.t.Helper()
	return h.waitMatch(chatID, fmt.Sprintf("new bot message containing %q", text), func(m telegramtest.Message) bool {
		return m.ID > before && m.FromBot && strings.Contains(m.Text, text)
	})
}

func (h *harness) transcript(chatID int64) string {
	var b strings.Builder
	for _, m := range h.srv.Transcript(chatID) {
		who := "user"
		if m.FromBot {
			who = "bot"
		}
		b.WriteString(who + ": " + m.Text + "\n")
	}
	return b.String()
}

// botMessages returns the bot's messages in chat.
func (h *harness) botMessages(chatID int64) []telegramtest.Message {
	var out []telegramtest.Message
	for _, m := range h.srv.Transcript(chatID) {
		if m.FromBot {
			out = append(out, m)
		}
	}
	return out
}

// press presses the inline button whose text contains label on message m.
func (h *harness) press(from telegramtest.User, m telegramtest.Message, label string) string {
	h.t.Helper()
	for _, row := range m.InlineKeyboard {
		for _, btn := range row {
			if strings.Contains(btn.Text, label) {
				id, _ := h.srv.PressButton(from, m.ChatID, m.ID, btn.CallbackData)
				return id
			}
		}
	}
	h.t.Fatalf("no button %q on message %q", label, m.Text)
	return ""
}

// waitAnswered waits until the callback query was answered and returns its text.
func (h *harness) waitAnswered(id string) string {
	h.t.Helper()
	var text string
	if !eventuallyOK(10*time.Second, func() bool {
		var ok bool
		text, _, ok = h.srv.AnsweredCallback(id)
		return ok
	}) {
		h.t.Fatalf("callback %s was never answered", id)
	}
	return text
}

// eventuallyOK polls cond until it holds or timeout passes, and reports
// whether it held: the one wait loop of the tests, for what the code gives
// no event to wait on.
func eventuallyOK(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// eventually fails the test unless cond holds within 10 s.
func eventually(t testing.TB, cond func() bool) {
	t.Helper()
	if !eventuallyOK(10*time.Second, cond) {
		t.Fatal("condition never met")
	}
}

func kk(id string, data ...locales.Data) string { return testLocales.For("kk").T(id, data...) }
func ru(id string, data ...locales.Data) string { return testLocales.For("ru").T(id, data...) }

// firstLine is the part of a localized text before any template value, to
// match messages whose data varies.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	s, _, _ = strings.Cut(s, "{{")
	return s
}

func slogJSON(w *syncBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// fakeClock is a settable clock for Deps.Now, safe for the bot's goroutines.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// Now is the clock's time.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting: %s", what)
	}
}
