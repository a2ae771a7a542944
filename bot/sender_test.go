package bot

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
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
	for _, tc := range []struct {
		name  string
		stall bool
	}{{"connection dropped", false}, {"answer too slow", true}} {
		t.Run(tc.name, func(t *testing.T) {
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
