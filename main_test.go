package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jastar/bot/telegramtest"
)

// TestRun_EndToEnd starts the real program against the fake Bot API,
// answers a /start, then shuts down on cancel with exit status 0.
func TestRun_EndToEnd(t *testing.T) {
	srv := telegramtest.NewServer(t)
	dbPath := filepath.Join(t.TempDir(), "jastar.db")
	environ := map[string]string{
		"TELEGRAM_BOT_TOKEN": srv.Token(), "TELEGRAM_API_URL": srv.URL(), "JASTAR_DB": dbPath,
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, env(environ), &out, &out) }()

	u := telegramtest.User{ID: 1, FirstName: "Айгерім", LanguageCode: "kk"}
	srv.SendText(u, "/start")
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if _, err := srv.WaitFor(wctx, u.ID, func(m telegramtest.Message) bool { return strings.Contains(m.Text, "Айгерім") }); err != nil {
		t.Fatalf("no greeting: %v", err)
	}

	// A second instance on the same file is refused at once.
	err := run(context.Background(), nil, env(environ), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "another jastar") {
		t.Errorf("second instance: err = %v, want a refusal naming another jastar", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run = %v, want a clean stop", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not stop")
	}
	if strings.Contains(out.String(), srv.Token()) {
		t.Error("the token appears in the logs")
	}
}

func TestRun_RejectedToken(t *testing.T) {
	srv := telegramtest.NewServer(t)
	err := run(context.Background(), nil, env(map[string]string{
		"TELEGRAM_BOT_TOKEN": "999:not-the-right-token", "TELEGRAM_API_URL": srv.URL(),
		"JASTAR_DB": filepath.Join(t.TempDir(), "x.db"),
	}), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "rejected the bot token") {
		t.Fatalf("err = %v, want a clear rejection", err)
	}
}

func TestRun_UnknownCommand(t *testing.T) {
	err := run(context.Background(), []string{"frobnicate"}, env(nil), &bytes.Buffer{}, &bytes.Buffer{})
	if !errors.Is(err, errUsage) {
		t.Errorf("err = %v, want a usage error", err)
	}
}
