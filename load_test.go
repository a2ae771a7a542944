package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"jastar/bot/loadtest"
	"jastar/locales"
)

// inProcessBot runs the real program in this process, for a quick load
// smoke test (the load command runs it as a child process instead).
type inProcessBot struct {
	cancel context.CancelFunc
	done   chan error
}

func (b *inProcessBot) Stop() error    { b.cancel(); return <-b.done }
func (b *inProcessBot) PeakRSS() int64 { return 0 }
func (b *inProcessBot) DBSize() int64  { return 0 }

func TestLoad_SmokeEveryAnswerArrives(t *testing.T) {
	addr := freeAddr(t)
	texts, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	opts := loadtest.Options{
		Users: 30, Concurrency: 30, Iterations: 2, Timeout: 30 * time.Second, Scenario: loadtest.Realistic(texts),
		StartBot: func(ctx context.Context, apiURL, token string) (loadtest.Bot, error) {
			ctx, cancel := context.WithCancel(ctx)
			b := &inProcessBot{cancel: cancel, done: make(chan error, 1)}
			environ := map[string]string{
				"TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_URL": apiURL, "JASTAR_HTTP_ADDR": addr,
				"JASTAR_DB": filepath.Join(t.TempDir(), "load.db"), "JASTAR_SEND_RATE": "0", "JASTAR_CHAT_RATE": "0",
			}
			go func() { b.done <- run(ctx, nil, env(environ), io.Discard, io.Discard) }()
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
					resp.Body.Close()
					if resp.StatusCode == 200 {
						return b, nil
					}
				}
			}
			b.Stop()
			t.Fatal("bot never ready")
			return nil, nil
		},
	}
	rep, err := loadtest.Run(context.Background(), "bot", opts)
	if err != nil {
		t.Fatal(err)
	}
	want := int64(30 * 2 * len(loadtest.Realistic(texts)))
	if rep.Missing != 0 || len(rep.FailedStep) != 0 || rep.Scenarios != 60 || rep.Bookings+rep.SlotTaken != 60 ||
		(rep.SlotTaken == 0 && rep.Updates != want) {
		t.Errorf("report = %s; want %d updates answered in 60 scenarios and nothing missing", rep, want)
	}
}
