package tg

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/ops"
	"jastar/bot/telegramtest"
	"jastar/storage"
)

// senderChat starts a fake Bot API with one private chat and builds a
// sender over it with client, the way New builds the bot's. It returns the
// fake, the chat and the sender.
func senderChat(t *testing.T, client *http.Client, limits Limits, opts ...telegramtest.Options) (*telegramtest.Server, int64, *Sender) {
	t.Helper()
	srv := telegramtest.NewServer(t, opts...)
	const chatID = 71
	srv.AddPrivateChat(telegramtest.User{ID: chatID, FirstName: "A", LanguageCode: "kk"})
	s := NewSender(newAPI(srv.Token(), srv.Endpoint(), client), limits, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.metrics = ops.NewMetrics()
	return srv, chatID, s
}

// testLimits are Telegram's per-chat shape without the waits: the tests
// below that are not about the rate limits.
func testLimits() Limits {
	return Limits{PerSecond: 0, PerChatSecond: 0, ChatBurst: 1, PerGroupMinute: 0, MaxRetry: 10 * time.Second}
}

// newAPI is a client of the Bot API at endpoint, as the bot builds its own.
func newAPI(token, endpoint string, client tgbotapi.HTTPClient) *tgbotapi.BotAPI {
	api := &tgbotapi.BotAPI{Token: token, Client: client}
	api.SetAPIEndpoint(endpoint)
	return api
}

// dropFirst is an AfterCall that loses (drop) or holds until the client
// gives up (stall) the answer of the first call of method.
func dropFirst(method string, stall bool) telegramtest.AfterCallFunc {
	var done atomic.Bool
	return func(ctx context.Context, c telegramtest.Call) bool {
		if c.Method != method || done.Swap(true) {
			return false
		}
		if stall {
			<-ctx.Done()
		}
		return true
	}
}

// TestSender_AnswerLostIsNotResent: Telegram took the message but its
// answer never came back. A retry would show the person the message twice,
// so the sender stops and says the message may have been sent.
func TestSender_AnswerLostIsNotResent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		stall bool
	}{{"connection dropped", false}, {"answer too slow", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each case has its own fakes; the stalls overlap
			// The bot's client allows 30 s; a short one makes the slow answer
			// time out within the test.
			client := &http.Client{Timeout: 300 * time.Millisecond}
			srv, chatID, s := senderChat(t, client, testLimits(), telegramtest.Options{AfterCall: dropFirst("sendMessage", tc.stall)})
			_, err := s.Send(context.Background(), chatID, tgbotapi.NewMessage(chatID, "Сәлем"))
			if !errors.Is(err, ErrMaybeSent) {
				t.Errorf("err = %v, want ErrMaybeSent", err)
			}
			if got := len(srv.Transcript(chatID)); got != 1 {
				t.Errorf("person has %d messages, want exactly 1", got)
			}
			// An edit changes nothing when repeated: it is still retried (the
			// retry finds the text already changed, which callers ignore).
			srv, chatID, s = senderChat(t, client, testLimits(), telegramtest.Options{AfterCall: dropFirst("editMessageText", tc.stall)})
			sentID, err := s.Send(context.Background(), chatID, tgbotapi.NewMessage(chatID, "v1"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Send(context.Background(), chatID, tgbotapi.NewEditMessageText(chatID, sentID, "v2")); err != nil && !errors.Is(err, ErrNotModified) {
				t.Errorf("edit after a lost answer: %v, want retried and done", err)
			}
			if tr := srv.Transcript(chatID); len(tr) != 1 || tr[0].Text != "v2" {
				t.Errorf("transcript = %+v, want one message reading v2", tr)
			}
		})
	}
}

// refusedAddr is a loopback address nothing listens on.
func refusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestSender_RefusedConnectionIsRetried: a connection that was never made
// cannot have delivered anything, so the message is sent again and arrives
// once.
func TestSender_RefusedConnectionIsRetried(t *testing.T) {
	refused := refusedAddr(t)
	var dials atomic.Int32
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) == 1 {
			addr = refused // the first connection attempt is refused
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	srv, chatID, s := senderChat(t, &http.Client{Timeout: 5 * time.Second, Transport: tr}, testLimits())
	if _, err := s.Send(context.Background(), chatID, tgbotapi.NewMessage(chatID, "Привет")); err != nil {
		t.Fatalf("send after a refused connection: %v, want retried and sent", err)
	}
	if dials.Load() < 2 {
		t.Fatal("the connection was never refused; the test tested nothing")
	}
	if got := srv.Transcript(chatID); len(got) != 1 || got[0].Text != "Привет" {
		t.Errorf("transcript = %+v, want the message once", got)
	}
}

// TestSender_StoppedBeforeSendingSaysNotSent: a stop while waiting for the
// rate limit sends nothing, and the error says so rather than "maybe sent".
func TestSender_StoppedBeforeSendingSaysNotSent(t *testing.T) {
	limits := testLimits()
	limits.PerSecond = 1 // one token, refilled after a second
	srv, chatID, s := senderChat(t, &http.Client{Timeout: 5 * time.Second}, limits)
	if _, err := s.Send(context.Background(), chatID, tgbotapi.NewMessage(chatID, "first")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Send(ctx, chatID, tgbotapi.NewMessage(chatID, "second"))
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrMaybeSent) || !errors.Is(err, storage.ErrNotSent) {
		t.Errorf("err = %v, want a not-sent error wrapping context.Canceled", err)
	}
	if got := len(srv.Transcript(chatID)); got != 1 {
		t.Errorf("person has %d messages, want 1", got)
	}
}

// TestSender_429GivenUpIsNotAFailure: a 429 the sender stops waiting out is
// counted as throttling, not as a failed send, since the caller (a
// broadcast) waits and tries again.
func TestSender_429GivenUpIsNotAFailure(t *testing.T) {
	limits := testLimits()
	limits.MaxRetry = 100 * time.Millisecond // shorter than retry_after: give up at once
	srv, chatID, s := senderChat(t, &http.Client{Timeout: 5 * time.Second}, limits)
	srv.FailNext("sendMessage", 1, 429, 5)
	_, err := s.Send(context.Background(), chatID, tgbotapi.NewMessage(chatID, "x"))
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 429 {
		t.Fatalf("err = %v, want the 429", err)
	}
	_, throttled, failed := s.Stats()
	if throttled != 1 || failed != 0 {
		t.Errorf("throttled, failed = %d, %d; want 1, 0", throttled, failed)
	}
	if got := metricSum(t, s.metrics, "jastar_send_failures_total"); got != 0 {
		t.Errorf("jastar_send_failures_total = %v, want 0", got)
	}
	if got := metricSum(t, s.metrics, "jastar_telegram_429_total"); got != 1 {
		t.Errorf("jastar_telegram_429_total = %v, want 1", got)
	}
}

// metricSum sums the samples of the counter or gauge family name.
func metricSum(t *testing.T, m *ops.Metrics, name string) float64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var v float64
	for _, f := range fams {
		if f.GetName() == name {
			for _, mm := range f.GetMetric() {
				v += mm.GetCounter().GetValue() + mm.GetGauge().GetValue()
			}
		}
	}
	return v
}

// manualClock is a clock that moves only when the test moves it, so the
// rate limits are tested at their real rates without timing anything.
type manualClock struct {
	mu       sync.Mutex
	now      time.Time
	sleepers []*sleeper
	changed  chan struct{} // closed when someone starts sleeping
}

type sleeper struct {
	until time.Time
	wake  chan struct{}
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), changed: make(chan struct{})}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	if d <= 0 {
		c.mu.Unlock()
		return ctx.Err()
	}
	s := &sleeper{until: c.now.Add(d), wake: make(chan struct{})}
	c.sleepers = append(c.sleepers, s)
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	select {
	case <-s.wake:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		c.sleepers = slices.DeleteFunc(c.sleepers, func(x *sleeper) bool { return x == s })
		c.mu.Unlock()
		return ctx.Err()
	}
}

// sleeping is how many goroutines sleep on the clock.
func (c *manualClock) sleeping() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sleepers)
}

// waitSleepers waits until at least n goroutines sleep on the clock.
func (c *manualClock) waitSleepers(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		k, ch := len(c.sleepers), c.changed
		c.mu.Unlock()
		if k >= n {
			return
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("%d goroutines sleep on the clock, want %d", k, n)
		}
	}
}

// Advance moves the clock by d and wakes the sleepers whose time came.
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.wakeDue()
}

func (c *manualClock) wakeDue() {
	c.sleepers = slices.DeleteFunc(c.sleepers, func(s *sleeper) bool {
		if s.until.After(c.now) {
			return false
		}
		close(s.wake)
		return true
	})
}

// autoAdvance moves the clock to the next sleeper's time whenever someone
// sleeps, until stop is called: virtual time for one goroutine that sends.
func (c *manualClock) autoAdvance() (stop func()) {
	done := make(chan struct{})
	go func() {
		for {
			c.mu.Lock()
			ch := c.changed
			if len(c.sleepers) > 0 {
				next := c.sleepers[0].until
				for _, s := range c.sleepers[1:] {
					if s.until.Before(next) {
						next = s.until
					}
				}
				if next.After(c.now) {
					c.now = next
				}
				c.wakeDue()
				c.mu.Unlock()
				continue
			}
			c.mu.Unlock()
			select {
			case <-ch:
			case <-done:
				return
			}
		}
	}()
	return func() { close(done) }
}

// clockSender is a sender at limits on clk over a fake Bot API.
func clockSender(t *testing.T, clk clock, limits Limits) (*telegramtest.Server, *Sender) {
	t.Helper()
	srv := telegramtest.NewServer(t)
	s := newSender(newAPI(srv.Token(), srv.Endpoint(), &http.Client{Timeout: 5 * time.Second}), limits, slog.New(slog.DiscardHandler), clk)
	s.metrics = ops.NewMetrics()
	return srv, s
}

func (s *Sender) bucketCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.chats)
}

// TestSender_IdleChatBucketsAreFreed: the sender keeps a rate bucket per
// chat messaged; one idle for over a minute is dropped, so the memory does
// not grow with every person ever messaged (broadcast audiences included).
func TestSender_IdleChatBucketsAreFreed(t *testing.T) {
	t.Parallel()
	clk := newManualClock()
	srv, s := clockSender(t, clk, DefaultLimits())
	const n = 60
	for i := range int64(n) {
		srv.AddPrivateChat(telegramtest.User{ID: 1000 + i, FirstName: "A"})
	}
	stop := clk.autoAdvance() // the global rate makes the sends wait
	for i := range int64(n) {
		if _, err := s.Send(context.Background(), 1000+i, tgbotapi.NewMessage(1000+i, "Сәлем")); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	if got := s.bucketCount(); got != n {
		t.Fatalf("%d chat buckets after messaging %d chats", got, n)
	}
	clk.Advance(2 * time.Minute)
	if _, err := s.Send(context.Background(), 1000, tgbotapi.NewMessage(1000, "Тағы")); err != nil {
		t.Fatal(err)
	}
	if got := s.bucketCount(); got != 1 {
		t.Errorf("%d chat buckets two minutes later, want only the chat just messaged", got)
	}
}

// TestSender_GroupRateHolds: Telegram allows 20 messages a minute to a
// group. With the default limits no minute gets more, and the limit is
// used up to it.
func TestSender_GroupRateHolds(t *testing.T) {
	t.Parallel()
	clk := newManualClock()
	srv, s := clockSender(t, clk, DefaultLimits())
	const group = -100777
	srv.AddGroup(group, "Staff")
	stop := clk.autoAdvance()
	defer stop()
	var at []time.Time
	for range 50 {
		if _, err := s.Send(context.Background(), group, tgbotapi.NewMessage(group, "Жазылу")); err != nil {
			t.Fatal(err)
		}
		at = append(at, clk.Now())
	}
	if got := telegramtest.MaxInWindow(at, time.Minute); got != 20 {
		t.Errorf("at most %d messages in one minute to a group, want 20 (Telegram's limit, used in full)", got)
	}
}

// TestSender_RetryAfterHoldsEveryone: after a 429 with retry_after 3,
// nothing is sent to anyone for 3 seconds, then both the refused message
// and the one waiting for another chat go.
func TestSender_RetryAfterHoldsEveryone(t *testing.T) {
	t.Parallel()
	clk := newManualClock()
	srv, s := clockSender(t, clk, DefaultLimits())
	for _, id := range []int64{71, 72} {
		srv.AddPrivateChat(telegramtest.User{ID: id, FirstName: "A"})
	}
	srv.FailNext("sendMessage", 1, 429, 3)
	errs := make(chan error, 2)
	send := func(chatID int64) {
		_, err := s.Send(context.Background(), chatID, tgbotapi.NewMessage(chatID, "Сәлем"))
		errs <- err
	}
	go send(71)
	clk.waitSleepers(t, 1) // the 429 is being waited out
	go send(72)
	clk.waitSleepers(t, 2) // the other chat waits too
	clk.Advance(3*time.Second - time.Millisecond)
	if got := clk.sleeping(); got != 2 {
		t.Fatalf("%d sends still waiting just before retry_after ran out, want 2", got)
	}
	if got := len(srv.Calls("sendMessage")); got != 1 {
		t.Fatalf("%d calls during retry_after, want only the refused one", got)
	}
	clk.Advance(time.Millisecond)
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("send after retry_after: %v", err)
		}
	}
	for _, id := range []int64{71, 72} {
		if got := len(srv.Transcript(id)); got != 1 {
			t.Errorf("chat %d has %d messages, want 1", id, got)
		}
	}
}

// TestBucket_RepliesGoFirst: a reply to a person waiting for the rate goes
// before a broadcast message that was waiting longer.
func TestBucket_RepliesGoFirst(t *testing.T) {
	t.Parallel()
	clk := newManualClock()
	b := newBucket(clk, 10, 1)
	ctx := context.Background()
	if err := b.wait(ctx, Bulk); err != nil { // the only token
		t.Fatal(err)
	}
	order := make(chan Priority, 2)
	go func() {
		if b.wait(ctx, Bulk) == nil {
			order <- Bulk
		}
	}()
	clk.waitSleepers(t, 1)
	go func() {
		if b.wait(ctx, Interactive) == nil {
			order <- Interactive
		}
	}()
	clk.waitSleepers(t, 2)
	clk.Advance(100 * time.Millisecond) // one token
	if p := <-order; p != Interactive {
		t.Fatal("the broadcast took the token a reply was waiting for")
	}
	stop := clk.autoAdvance()
	defer stop()
	if p := <-order; p != Bulk {
		t.Fatalf("then %v, want the broadcast", p)
	}
}

// TestPacer_HoldsRateInEveryWindow: however late its senders wake, a pacer
// never lets more than its rate through in any one second, and uses most
// of it.
func TestPacer_HoldsRateInEveryWindow(t *testing.T) {
	t.Parallel()
	clk := newManualClock()
	p := newPacerOn(clk, 25)
	stop := clk.autoAdvance()
	defer stop()
	var at []time.Time
	for i := range 300 {
		if i%40 == 0 {
			clk.Advance(3 * time.Second) // idle: a token bucket would fill its burst
		}
		if err := p.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		if i%7 == 0 {
			clk.Advance(90 * time.Millisecond) // a slow claim between the rate and the wire
		}
		if err := p.admit(context.Background()); err != nil {
			t.Fatal(err)
		}
		at = append(at, clk.Now())
	}
	if got := telegramtest.MaxInWindow(at, time.Second); got > 25 {
		t.Errorf("%d sends in one second, want at most 25", got)
	}
	if got := telegramtest.MaxInWindow(at, time.Second); got < 23 {
		t.Errorf("at most %d sends in any second, want the rate used (23 or more)", got)
	}
}

// TestSender_CancelCutsACallOnTheWire: every Telegram call takes its
// context to the wire. A call Telegram holds is cut when its context ends,
// not after the HTTP client's 30 s timeout, and says it may have been sent,
// so nobody retries it into a second copy; a paced send whose waiting
// context ends while it is on the wire goes on until its wire context does.
func TestSender_CancelCutsACallOnTheWire(t *testing.T) {
	release := make(chan struct{})
	held := make(chan struct{}, 4)
	srv, chat, s := senderChat(t, &http.Client{Timeout: 30 * time.Second}, Limits{MaxRetry: time.Minute},
		telegramtest.Options{AfterCall: func(ctx context.Context, c telegramtest.Call) bool {
			if c.Method != "sendMessage" {
				return false
			}
			held <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
			}
			return false
		}})
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 1)
	go func() { _, err := s.Send(ctx, chat, tgbotapi.NewMessage(chat, "held")); errs <- err }()
	<-held
	cancel()
	select {
	case err := <-errs:
		if !errors.Is(err, ErrMaybeSent) {
			t.Errorf("a cut call = %v, want ErrMaybeSent", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled call waited for the client's timeout")
	}

	// Paced: stopping (ctx) while the message is on the wire lets it
	// arrive; only wire cuts it.
	waitCtx, stop := context.WithCancel(context.Background())
	go func() {
		_, err := s.SendPaced(waitCtx, context.Background(), chat, tgbotapi.NewMessage(chat, "paced"), newPacerOn(wallClock{}, 100), nil)
		errs <- err
	}()
	<-held
	stop()
	close(release)
	if err := <-errs; err != nil {
		t.Errorf("a paced send stopped while on the wire = %v, want it delivered", err)
	}
	if got := len(srv.Calls("sendMessage")); got != 2 {
		t.Errorf("%d sendMessage calls, want 2 (none retried)", got)
	}
}
