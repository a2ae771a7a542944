package tg

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/storage"

	"jastar/bot/ops"
)

// Limits are the sending rates the sender keeps to. Telegram's own figures
// (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
// about 30 messages a second overall, one a second to one chat (short bursts
// are tolerated), 20 a minute to one group. A local Bot API server or paid
// broadcasts allow more, so every limit can be raised; 0 means unlimited.
type Limits struct {
	PerSecond      float64 // all chats together
	PerChatSecond  float64 // one private chat
	ChatBurst      int     // messages a private chat may get back to back
	PerGroupMinute float64 // one group chat
	// MaxRetry bounds how long one call keeps retrying 5xx answers and
	// network errors, and waiting out 429s, before it gives up. A call that
	// creates a message is not retried after a network error that may hide
	// a delivery (see Sender.do).
	MaxRetry time.Duration
}

// DefaultLimits are Telegram's published limits with a small safety margin.
func DefaultLimits() Limits {
	return Limits{PerSecond: 28, PerChatSecond: 1, ChatBurst: 3, PerGroupMinute: 19, MaxRetry: time.Minute}
}

// groupBurst is how many messages a group may get back to back. A token
// bucket lets through its burst plus its rate in any minute, less one: 2
// with the default 19 a minute is at most 20 in any minute, Telegram's
// figure for a group.
const groupBurst = 2

// Priority orders waiting senders: interactive replies to people who are
// chatting go before broadcasts and digests.
type Priority int

// The priorities, most urgent first.
const (
	Interactive Priority = iota
	Bulk
)

// Sender is the one way anything in the bot talks to Telegram. It keeps to
// the rate limits, obeys retry_after, retries transient failures with
// backoff (never in a way that could deliver a message twice), and scrubs
// the token from every error.
type Sender struct {
	api *tgbotapi.BotAPI
	// client is the api's own HTTP client; each call goes through it with
	// the call's context (see on), so cancelling cuts a call on the wire.
	client tgbotapi.HTTPClient
	token  string
	limits Limits
	log    *slog.Logger

	clk    clock
	global *bucket
	mu     sync.Mutex
	chats  map[int64]*bucket
	sweep  time.Time

	// onBlocked is told when a chat answers 403, so the user is marked
	// inactive wherever the send came from.
	onBlocked func(chatID int64)
	stats     sendStats
	metrics   *ops.Metrics
}

// sendStats counts what the sender did; read with Stats.
type sendStats struct {
	mu                      sync.Mutex
	sent, throttled, failed int64 // throttled counts 429 answers
}

// NewSender builds a sender over api.
func NewSender(api *tgbotapi.BotAPI, limits Limits, log *slog.Logger) *Sender {
	return newSender(api, limits, log, wallClock{})
}

// newSender is NewSender on the clock clk: tests pass one they move by hand.
func newSender(api *tgbotapi.BotAPI, limits Limits, log *slog.Logger, clk clock) *Sender {
	if limits.MaxRetry <= 0 {
		limits.MaxRetry = time.Minute
	}
	if limits.ChatBurst < 1 {
		limits.ChatBurst = 1
	}
	return &Sender{
		api: api, client: api.Client, token: api.Token, limits: limits, log: log, clk: clk,
		global: newBucket(clk, limits.PerSecond, max(1, int(limits.PerSecond/10))),
		chats:  make(map[int64]*bucket),
	}
}

// Stats returns counters of messages sent, 429s and failures.
func (s *Sender) Stats() (sent, throttled, failed int64) {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	return s.stats.sent, s.stats.throttled, s.stats.failed
}

// count adds to the counters and to the Prometheus metrics.
func (s *Sender) count(sent, throttled, failed int64) {
	s.stats.mu.Lock()
	s.stats.sent += sent
	s.stats.throttled += throttled
	s.stats.failed += failed
	s.stats.mu.Unlock()
	if s.metrics != nil {
		s.metrics.Sent.Add(float64(sent))
		s.metrics.Throttled.Add(float64(throttled))
		s.metrics.SendFailures.Add(float64(failed))
	}
}

// WithMetrics makes the sender count what it sends in m.
func (s *Sender) WithMetrics(m *ops.Metrics) *Sender {
	s.metrics = m
	return s
}

// OnBlocked registers the function told about chats that blocked the bot.
func (s *Sender) OnBlocked(f func(chatID int64)) { s.onBlocked = f }

// Send sends a message-producing request to chatID at interactive priority
// and returns the id of the message Telegram made or edited.
func (s *Sender) Send(ctx context.Context, chatID int64, c tgbotapi.Chattable) (int, error) {
	return s.send(ctx, chatID, c, Interactive)
}

// SendBulk is Send for broadcasts and digests: it yields to interactive
// replies waiting for the same rate budget.
func (s *Sender) SendBulk(ctx context.Context, chatID int64, c tgbotapi.Chattable) (int, error) {
	return s.send(ctx, chatID, c, Bulk)
}

// SendPaced is SendBulk for a job with a rate of its own (a broadcast). It
// waits for pace, then for the sender's limits, then calls beforeWire
// (when not nil) once, just before the message goes on the wire: a
// broadcast claims its recipient there, so a crash can leave uncertain only
// the sends truly in flight, not those still waiting for the rate. An error
// from beforeWire stops the call unsent. pace's window is checked last, so
// that its rate holds at the wire in every window, whatever the time the
// claim took.
//
// A 429 is not waited out here: the limits are paused for retry_after and
// the 429 returned, so the caller gives its claim back instead of holding
// it while it waits.
//
// Two contexts, because stopping and aborting differ: ctx ends the wait
// for the rate (a paused broadcast claims no one more), wire ends the call
// on the wire (only the drain deadline may cut a message in flight, which
// then counts as maybe sent).
func (s *Sender) SendPaced(ctx, wire context.Context, chatID int64, c tgbotapi.Chattable, pace *Pacer, beforeWire func() error) (int, error) {
	return s.sendWith(ctx, wire, chatID, c, Bulk, pace, beforeWire)
}

func (s *Sender) send(ctx context.Context, chatID int64, c tgbotapi.Chattable, p Priority) (int, error) {
	return s.sendWith(ctx, ctx, chatID, c, p, nil, nil)
}

// on is the api with every request of one call tied to ctx: the library
// builds its requests without a context, so without this a cancelled call
// would wait out the HTTP client's timeout (the poller's ctxClient idea,
// per call).
func (s *Sender) on(ctx context.Context) *tgbotapi.BotAPI {
	api := *s.api
	api.Client = WithContext(ctx, s.client)
	return &api
}

// onSend is on for a call whose answer the bot reads only the message id
// of: the answer is cut to that before the library decodes it (see
// idOnlyClient).
func (s *Sender) onSend(ctx context.Context) *tgbotapi.BotAPI {
	api := *s.api
	api.Client = idOnlyClient{WithContext(ctx, s.client)}
	return &api
}

func (s *Sender) sendWith(ctx, wire context.Context, chatID int64, c tgbotapi.Chattable, p Priority, pace *Pacer, beforeWire func() error) (int, error) {
	var id int
	err := s.do(ctx, c, func() error {
		if pace != nil {
			if err := pace.wait(ctx); err != nil {
				return err
			}
		}
		if err := s.global.wait(ctx, p); err != nil {
			return err
		}
		if err := s.chatBucket(chatID).wait(ctx, Interactive); err != nil {
			return err
		}
		if beforeWire != nil {
			if err := beforeWire(); err != nil {
				return err
			}
			beforeWire = nil // a retry of the same call is not claimed again
		}
		if pace != nil {
			return pace.admit(ctx)
		}
		return nil
	}, func() error {
		resp, err := s.onSend(wire).Request(c)
		if err == nil {
			id = messageID(resp.Result)
		}
		return err
	}, chatID, pace == nil)
	if err == nil {
		s.count(1, 0, 0)
	}
	return id, err
}

// messageID reads only the id of the message Telegram sent back (0 when the
// answer is not a message, as for an edit of an inline message). The bot
// never reads the rest, and decoding the whole echoed message into the
// library's Message took 7% of the bot's CPU under load.
func messageID(result json.RawMessage) int {
	var m struct {
		MessageID int `json:"message_id"`
	}
	if json.Unmarshal(result, &m) != nil {
		return 0
	}
	return m.MessageID
}

// idOnlyClient hands the library, for a successful answer that starts as
// Telegram writes it ({"ok":true,"result":{"message_id":N,...), only that
// much: {"ok":true,"result":{"message_id":N}}. Telegram echoes the whole
// message it sent or edited, text and keyboard included, and the library
// scans all of it twice (its answer, then the result for the id); the bot
// reads only the id. Any other answer, an error's (error_code,
// description, retry_after) or one in another shape, goes to the library
// as it came, so nothing the bot reads is lost.
type idOnlyClient struct{ client tgbotapi.HTTPClient }

// idOnlyPrefix is how Telegram's answer to a message call starts.
const idOnlyPrefix = `{"ok":true,"result":{"message_id":`

func (c idOnlyClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.client.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	buf, release, err := readAnswer(resp.Body)
	resp.Body.Close()
	if err != nil {
		// Cut off after the request went out: the library's decoding
		// error would say the same, and the call counts as maybe sent.
		return nil, fmt.Errorf("read answer: %w", err)
	}
	var body []byte
	if id, ok := leadingMessageID(buf.Bytes()); ok {
		body = strconv.AppendInt([]byte(idOnlyPrefix), id, 10)
		body = append(body, "}}"...)
	} else {
		body = bytes.Clone(buf.Bytes())
	}
	release()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// leadingMessageID is N of an answer that starts with idOnlyPrefix and N
// followed by the next field or the end of the message.
func leadingMessageID(body []byte) (int64, bool) {
	rest, ok := bytes.CutPrefix(body, []byte(idOnlyPrefix))
	if !ok {
		return 0, false
	}
	end := 0
	for end < len(rest) && end < 19 && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	if end == 0 || end == len(rest) || (rest[end] != ',' && rest[end] != '}') {
		return 0, false
	}
	id, err := strconv.ParseInt(string(rest[:end]), 10, 64)
	return id, err == nil
}

// Request sends a call whose answer is not a message (answerCallbackQuery,
// deleteMessage, setMyCommands). Those do not count against message limits.
func (s *Sender) Request(ctx context.Context, c tgbotapi.Chattable) (*tgbotapi.APIResponse, error) {
	var resp *tgbotapi.APIResponse
	err := s.do(ctx, c, func() error { return nil }, func() error {
		var err error
		resp, err = s.on(ctx).Request(c)
		return err
	}, 0, true)
	return resp, err
}

// do runs call with rate limiting, 429 and 5xx handling and a retry bound.
//
// A call that creates a message is retried only after a failure that proves
// nothing was delivered: a 429 or 5xx answer (Telegram answered, so it
// refused or failed the call) or a connection that was never made. Any other
// transport failure (a timeout, a connection dropped after the request went
// out) may hide a message Telegram accepted, and a retry would give the
// person a second copy, so do returns at once with ErrMaybeSent. Edits,
// callback answers and the like change nothing when repeated and are
// retried after any transient failure.
//
// waitThrottled false returns a 429 at once, after pausing the limits.
func (s *Sender) do(ctx context.Context, c tgbotapi.Chattable, limit func() error, call func() error, chatID int64, waitThrottled bool) error {
	method := methodName(c)
	repeatable := retrySafe(method)
	deadline := s.clk.Now().Add(s.limits.MaxRetry)
	backoff := 300 * time.Millisecond
	maybeSent := false // an earlier attempt may have reached Telegram
	for attempt := 1; ; attempt++ {
		if err := limit(); err != nil {
			return stopped(method, maybeSent, err)
		}
		err := Classify(method, s.token, call())
		if err == nil {
			return nil
		}
		var apiErr *APIError
		isAPI := errors.As(err, &apiErr)
		var tErr *redactedError
		if errors.As(err, &tErr) && !tErr.unsent {
			maybeSent = true
		}
		switch {
		case isAPI && apiErr.Code == 429:
			s.count(0, 1, 0)
			wait := time.Duration(max(apiErr.RetryAfter, 1)) * time.Second
			// A 429 means we went faster than Telegram accepts: hold the
			// chat and slow everyone for the time Telegram asked.
			if chatID != 0 {
				s.chatBucket(chatID).pause(wait)
			}
			s.global.pause(wait)
			if !waitThrottled || s.clk.Now().Add(wait).After(deadline) {
				// Counted as a 429, not as a failure: the caller may wait
				// and try again (broadcasts do).
				return fmt.Errorf("give up after %d attempts: %w", attempt, err)
			}
			s.log.Warn("telegram asked to slow down", "method", method, "chat_id", chatID, "retry_after", apiErr.RetryAfter)
			if err := s.clk.Sleep(ctx, wait); err != nil {
				return stopped(method, maybeSent, err)
			}
		case isAPI && !apiErr.retryable():
			if errors.Is(err, ErrBlocked) && chatID != 0 && s.onBlocked != nil {
				s.onBlocked(chatID)
			}
			if !errors.Is(err, ErrNotModified) {
				s.count(0, 0, 1)
			}
			return err
		case !repeatable && maybeSent:
			s.count(0, 0, 1)
			return fmt.Errorf("%w: %w", err, ErrMaybeSent)
		default: // 5xx or a transport error: back off and try again
			if ctx.Err() != nil {
				return stopped(method, maybeSent, ctx.Err())
			}
			wait := backoff/2 + rand.N(backoff)
			if s.clk.Now().Add(wait).After(deadline) {
				s.count(0, 0, 1)
				return fmt.Errorf("give up after %d attempts: %w", attempt, err)
			}
			s.log.Warn("telegram call failed, retrying", "method", method, "chat_id", chatID, "attempt", attempt, "err", err)
			if err := s.clk.Sleep(ctx, wait); err != nil {
				return stopped(method, maybeSent, err)
			}
			backoff = min(backoff*2, 10*time.Second)
		}
	}
}

// stopped is the error of a call abandoned because ctx ended (err): one
// that may have reached Telegram wraps ErrMaybeSent, one that cannot have
// wraps storage.ErrNotSent. Both wrap err, so callers still see the stop.
func stopped(method string, maybeSent bool, err error) error {
	if maybeSent {
		return fmt.Errorf("telegram %s stopped: %w: %w", method, ErrMaybeSent, err)
	}
	return fmt.Errorf("telegram %s: %w: %w", method, storage.ErrNotSent, err)
}

// retrySafe reports whether method may be repeated after a failure that
// leaves unknown whether it took effect: doing it twice changes nothing the
// person sees. Unknown methods are taken to create messages.
func retrySafe(method string) bool {
	switch method {
	case "editMessageText", "editMessageReplyMarkup", "answerCallbackQuery", "deleteMessage",
		"setMyCommands":
		return true
	}
	return false
}

func (s *Sender) chatBucket(chatID int64) *bucket {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clk.Now()
	// Forget idle chats now and then so the map does not grow with every
	// person who ever wrote.
	if now.Sub(s.sweep) > time.Minute {
		for id, b := range s.chats {
			if b.idleSince(now) > time.Minute {
				delete(s.chats, id)
			}
		}
		s.sweep = now
	}
	b, ok := s.chats[chatID]
	if !ok {
		if chatID < 0 {
			b = newBucket(s.clk, s.limits.PerGroupMinute/60, groupBurst)
		} else {
			b = newBucket(s.clk, s.limits.PerChatSecond, s.limits.ChatBurst)
		}
		s.chats[chatID] = b
	}
	return b
}

func methodName(c tgbotapi.Chattable) string {
	switch c.(type) {
	case tgbotapi.MessageConfig:
		return "sendMessage"
	case tgbotapi.EditMessageTextConfig:
		return "editMessageText"
	case tgbotapi.EditMessageReplyMarkupConfig:
		return "editMessageReplyMarkup"
	case tgbotapi.CallbackConfig:
		return "answerCallbackQuery"
	case tgbotapi.VenueConfig:
		return "sendVenue"
	case tgbotapi.LocationConfig:
		return "sendLocation"
	case tgbotapi.DocumentConfig:
		return "sendDocument"
	case tgbotapi.PhotoConfig:
		return "sendPhoto"
	case tgbotapi.DeleteMessageConfig:
		return "deleteMessage"
	case tgbotapi.SetMyCommandsConfig:
		return "setMyCommands"
	case tgbotapi.UpdateConfig:
		return "getUpdates"
	}
	return fmt.Sprintf("%T", c)
}

// Sleep waits d or until ctx ends, whichever is first.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// clock is the time the rate limits read and wait on. The bot runs on the
// wall clock; tests of the limits pass one they move by hand, so they check
// rates without timing anything.
type clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

type wallClock struct{}

func (wallClock) Now() time.Time                                   { return time.Now() }
func (wallClock) Sleep(ctx context.Context, d time.Duration) error { return Sleep(ctx, d) }

// bucket is a token bucket whose waiters of Interactive priority go before
// waiters of Bulk priority. rate <= 0 means unlimited, but a pause (a 429's
// retry_after) is obeyed all the same.
type bucket struct {
	clk         clock
	mu          sync.Mutex
	rate        float64
	burst       float64
	tokens      float64
	last        time.Time
	pausedUntil time.Time
	paused      atomic.Bool // a pause was ever set: an unlimited bucket checks it without the lock
	interactive int         // interactive callers waiting
}

func newBucket(clk clock, rate float64, burst int) *bucket {
	return &bucket{clk: clk, rate: rate, burst: float64(burst), tokens: float64(burst), last: clk.Now()}
}

func (b *bucket) pause(d time.Duration) {
	b.mu.Lock()
	if until := b.clk.Now().Add(d); until.After(b.pausedUntil) {
		b.pausedUntil = until
	}
	b.paused.Store(true)
	b.mu.Unlock()
}

// idleSince is how long the bucket has been full: a full bucket that nobody
// took from for a while can be dropped and made again, the same. Tokens
// are refilled only when someone waits, so they are refilled here first;
// without that, a bucket used once never looked full again and was never
// dropped.
func (b *bucket) idleSince(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Before(b.pausedUntil) {
		return 0
	}
	if b.rate <= 0 {
		return now.Sub(b.last)
	}
	missing := b.burst - b.tokens
	if missing <= 0 {
		return now.Sub(b.last)
	}
	full := b.last.Add(time.Duration(missing / b.rate * float64(time.Second)))
	return max(0, now.Sub(full))
}

func (b *bucket) wait(ctx context.Context, p Priority) error {
	if b.rate <= 0 {
		if !b.paused.Load() {
			return ctx.Err()
		}
		b.mu.Lock()
		d := b.pausedUntil.Sub(b.clk.Now())
		b.mu.Unlock()
		if d > 0 {
			return b.clk.Sleep(ctx, d)
		}
		return ctx.Err()
	}
	registered := false
	defer func() {
		if registered {
			b.mu.Lock()
			b.interactive--
			b.mu.Unlock()
		}
	}()
	for {
		b.mu.Lock()
		now := b.clk.Now()
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
		var d time.Duration
		switch {
		case now.Before(b.pausedUntil):
			d = b.pausedUntil.Sub(now)
		case b.tokens >= 1 && (p == Interactive || b.interactive == 0):
			b.tokens--
			b.mu.Unlock()
			return nil
		case b.tokens >= 1:
			// A bulk sender leaves the token to a waiting interactive one.
			d = 5 * time.Millisecond
		default:
			d = time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
		}
		if p == Interactive && !registered {
			b.interactive++
			registered = true
		}
		b.mu.Unlock()
		if err := b.clk.Sleep(ctx, max(d, time.Millisecond)); err != nil {
			return err
		}
	}
}

// pacer is the rate of a job that must never exceed it, in any one-second
// window as seen by Telegram, and must leave the rest of the sender's rate
// to replies: the broadcasts. A token bucket alone lets its burst through
// on top of its rate at the start and after every pause (with a burst of
// one second, twice the rate in the first second), so the pacer is two
// parts:
//
//   - wait, a token bucket at the rate with a burst of two, spaces the sends
//     out and lets one catch up after a late wake-up;
//   - admit, checked last, just before the call goes on the wire, lets a
//     send through only if fewer than rate sends were admitted in the
//     window before it. The window is a little longer than a second, so
//     the time between admit and Telegram's reading the request (a claim's
//     commit is before admit, the HTTP write after) may vary by that much
//     without two windows' sends meeting in one second.
//
// The window's margin (half a send's spacing, at least 20 ms) costs at most
// rate/window of the rate: 98% at 25 a second.
type Pacer struct {
	clk    clock
	bucket *bucket
	window time.Duration
	mu     sync.Mutex
	sent   []time.Time // the last n admissions, oldest first (a ring)
	head   int
	// admitted, when set, is told of each admission (OnAdmit).
	admitted atomic.Pointer[func(at time.Time)]
}

// pacerMargin is the least the pacer's window exceeds one second by.
const pacerMargin = 20 * time.Millisecond

// NewPacer is a pacer of rate sends a second: a broadcast's own rate, held
// in every window at the wire (see SendPaced).
func NewPacer(rate float64) *Pacer { return newPacerOn(wallClock{}, rate) }

// newPacerOn is NewPacer on the clock clk: tests pass one they move by hand.
func newPacerOn(clk clock, rate float64) *Pacer {
	n := max(1, int(rate))
	margin := pacerMargin
	if rate >= 1 {
		margin = max(margin, time.Duration(float64(time.Second)/rate/2))
	}
	return &Pacer{clk: clk, bucket: newBucket(clk, rate, min(2, n)), window: time.Second + margin, sent: make([]time.Time, 0, n)}
}

func (p *Pacer) wait(ctx context.Context) error { return p.bucket.wait(ctx, Bulk) }

// OnAdmit makes the pacer tell f the time of every send it lets through, in
// order, as it lets it through: the instants its rate holds at, which a
// receiver sees later by a varying delay. f runs under the pacer's lock, so
// it must be quick and must not send.
func (p *Pacer) OnAdmit(f func(at time.Time)) { p.admitted.Store(&f) }

// admit waits until a send now keeps at most cap(sent) sends in any window,
// and records it.
func (p *Pacer) admit(ctx context.Context) error {
	for {
		p.mu.Lock()
		now := p.clk.Now()
		if len(p.sent) < cap(p.sent) {
			p.sent = append(p.sent, now)
			p.tell(now)
			p.mu.Unlock()
			return nil
		}
		oldest := p.sent[p.head]
		if d := oldest.Add(p.window).Sub(now); d > 0 {
			p.mu.Unlock()
			if err := p.clk.Sleep(ctx, d); err != nil {
				return err
			}
			continue
		}
		p.sent[p.head] = now
		p.head = (p.head + 1) % len(p.sent)
		p.tell(now)
		p.mu.Unlock()
		return nil
	}
}

func (p *Pacer) tell(at time.Time) {
	if f := p.admitted.Load(); f != nil {
		(*f)(at)
	}
}

// pause holds the pacer for d, as a 429 holds the sender.
func (p *Pacer) pause(d time.Duration) { p.bucket.pause(d) }

// WithContext ties every request of client to ctx: the library builds its
// requests without a context, so a cancelled call would otherwise wait out
// the client's timeout. The poller ties its long polls to the poll context
// (shutdown cuts an in-flight poll short; its updates stay unconfirmed, and
// Telegram sends them again); the sender ties each call to its own.
func WithContext(ctx context.Context, client tgbotapi.HTTPClient) tgbotapi.HTTPClient {
	return ctxClient{ctx: ctx, client: client}
}

type ctxClient struct {
	ctx    context.Context
	client tgbotapi.HTTPClient
}

func (c ctxClient) Do(req *http.Request) (*http.Response, error) {
	return c.client.Do(req.WithContext(c.ctx))
}
