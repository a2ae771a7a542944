package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"jastar/bot/sandbox"
	"jastar/bot/telegramtest"
)

// runSandbox is "jastar sandbox": the real bot, wired by runBot exactly as
// in production, against the fake Bot API, with a chat page on loopback.
// The sender keeps Telegram's default limits and the fake enforces them, so
// the sandbox rehearses the real pace of the bot.
func runSandbox(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "where the chat page listens (loopback only)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: jastar sandbox [-addr 127.0.0.1:8080]\n\n"+
			"Runs the bot against a fake Telegram on this computer and serves a chat page to try it.\n"+
			"The database is a fresh one in a temporary folder unless JASTAR_DB is set.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("sandbox: %w", errUsage)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("sandbox: unexpected argument %q: %w", fs.Arg(0), errUsage)
	}
	if err := sandbox.CheckLoopback(*addr); err != nil {
		return &configError{name: "sandbox", msg: err.Error()}
	}

	dir, err := os.MkdirTemp("", "jastar-sandbox-")
	if err != nil {
		return fmt.Errorf("sandbox: temporary folder: %w", err)
	}
	defer os.RemoveAll(dir)

	env := map[string]string{
		"JASTAR_DB":            filepath.Join(dir, "jastar.db"),
		"JASTAR_STAFF_CHAT_ID": strconv.FormatInt(sandbox.StaffChatID, 10),
		"JASTAR_ADMIN_IDS":     strconv.FormatInt(sandbox.AdminID, 10),
		"JASTAR_CATALOG":       filepath.Join(dir, "catalog.toml"),
		"JASTAR_LOG_FORMAT":    "text",
		"JASTAR_LOG_LEVEL":     "warn",
		// Telegram's own limits, whatever the shell says.
		"JASTAR_SEND_RATE": "", "JASTAR_CHAT_RATE": "", "JASTAR_GROUP_RATE": "",
	}
	for _, keep := range []string{"JASTAR_DB", "JASTAR_LOG_LEVEL", "JASTAR_LOG_FORMAT", "JASTAR_TIMEZONE"} {
		if v := getenv(keep); v != "" {
			env[keep] = v
		}
	}
	cfg, err := loadConfig(func(k string) string {
		if k == "TELEGRAM_BOT_TOKEN" {
			return telegramtest.DefaultToken
		}
		if v, ok := env[k]; ok {
			return v
		}
		return getenv(k)
	})
	if err != nil {
		return err
	}
	catTOML, cat, err := sandbox.CatalogTOML(sandbox.StaffID, cfg.Location)
	if err != nil {
		return err
	}
	if err := os.WriteFile(env["JASTAR_CATALOG"], catTOML, 0o600); err != nil {
		return fmt.Errorf("sandbox: write catalog: %w", err)
	}

	fake, err := telegramtest.New(telegramtest.Options{RateLimit: true, BotUsername: "jastar_sandbox_bot"})
	if err != nil {
		return fmt.Errorf("sandbox: fake Bot API: %w", err)
	}
	defer fake.Close()
	fake.AddGroup(sandbox.StaffChatID, sandbox.StaffChatTitle)
	env["TELEGRAM_BOT_TOKEN"] = fake.Token()
	env["TELEGRAM_API_URL"] = fake.URL()

	page, err := sandbox.New(fake, sandbox.Options{Catalog: cat})
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
	go func() { webDone <- web.Serve(ln) }()

	fmt.Fprintf(stdout, "Jastar sandbox: open http://%s/ in a browser.\n", ln.Addr())
	fmt.Fprintf(stdout, "It listens on loopback only and runs the real bot against a fake Telegram, with the database %s.\n", env["JASTAR_DB"])
	fmt.Fprintln(stdout, "It is a rehearsal, not a way to run the bot in production. Stop it with Ctrl+C.")

	botCtx, stopBot := context.WithCancel(ctx)
	defer stopBot()
	botDone := make(chan error, 1)
	go func() {
		botDone <- runBot(botCtx, func(k string) string {
			if v, ok := env[k]; ok {
				return v
			}
			return getenv(k)
		}, stdout)
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
