package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"jastar/bot/config"
	"jastar/bot/telegramtest"
	"jastar/storage/catalog"
)

// TestRun_EndToEnd starts the real program against the fake Bot API,
// answers a /start, then shuts down on cancel with exit status 0.
func TestRun_EndToEnd(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"frobnicate"}, env(nil), &bytes.Buffer{}, &stderr)
	if !errors.Is(err, config.ErrUsage) || exitCode(err) != 2 {
		t.Errorf("err = %v, want a usage error (exit 2)", err)
	}
	if stderr.String() != wantUsage {
		t.Errorf("stderr = %q, want the usage", stderr.String())
	}
}

// wantUsage is `jastar help`, word for word as it was when main.go held it
// as a literal: the table it is generated from must not change it.
const wantUsage = `Usage: jastar [command]

Commands:
  run                   run the bot (the default)
  backup FILE           write a consistent copy of the database, also while the bot runs
  export [flags] FILE   write the bookings of a period as CSV for Excel (see -h)
  load [flags]          drive simulated people through the bot and measure it (see -h)
  catalog check|reload  validate a catalog file, or make the running bot reload its own (see -h)
  sandbox [-addr A] [-db-with-people] [-now DATE]
                        try the bot without Telegram: a local chat page on 127.0.0.1:8080
  help                  show this help

Configuration is read from the environment; see README.md.
`

// TestRun_Help: help and its flag spellings print the usage to stdout and
// succeed, and every command the usage lists runs (its -h succeeds).
func TestRun_Help(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"help", "-h", "-help", "--help"} {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), []string{arg}, env(nil), &stdout, &stderr); err != nil {
			t.Errorf("%s: %v", arg, err)
		}
		if stdout.String() != wantUsage || stderr.Len() > 0 {
			t.Errorf("%s printed %q to stdout and %q to stderr, want the usage on stdout:\n%s", arg, stdout.String(), stderr.String(), wantUsage)
		}
	}
	for _, c := range commands() {
		if err := run(context.Background(), []string{c.name, "-h"}, env(nil), io.Discard, io.Discard); err != nil {
			t.Errorf("%s -h: %v, want its help", c.name, err)
		}
	}
}

// TestRun_BrokenCatalogRefused: JASTAR_CATALOG naming a broken file stops
// the bot before it touches the database or Telegram, with the file, line,
// center and field of the problem.
func TestRun_BrokenCatalogRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := string(catalog.DefaultTOML())
	bad := strings.Replace(src, "\nlat = 43.199", "\nlat = 95.1", 1) // the Karasai center, not the example in the header
	if bad == src {
		t.Fatal("test data: the Karasai latitude is not in the default catalog")
	}
	line := strings.Count(bad[:strings.Index(bad, "\nlat = 95.1")], "\n") + 2
	path := filepath.Join(dir, "catalog.toml")
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	err := runWithCatalog(t, path)
	want := fmt.Sprintf("%s:%d: center \"karasai\": field lat:", path, line)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("run = %v, want an error containing %q", err, want)
	}
	if code := exitCode(err); code != 2 {
		t.Errorf("exit code %d, want 2 (configuration error)", code)
	}

	// jastar catalog check reports the same problem.
	err = run(context.Background(), []string{"catalog", "check", path}, env(nil), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("catalog check = %v, want %q", err, want)
	}
}

// TestRun_CatalogWithoutHelpLinesRefused: a catalog that gives a person in
// crisis no number to call stops the bot and fails "catalog check".
func TestRun_CatalogWithoutHelpLinesRefused(t *testing.T) {
	t.Parallel()
	src := string(catalog.DefaultTOML())
	var b strings.Builder
	for block := range strings.SplitAfterSeq(src, "\n\n") {
		if !strings.HasPrefix(block, "[[help_lines]]") {
			b.WriteString(block)
		}
	}
	if b.Len() == len(src) {
		t.Fatal("test data: no [[help_lines]] in the default catalog")
	}
	path := filepath.Join(t.TempDir(), "catalog.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	want := path + ": field help_lines: the catalog has no [[help_lines]]"
	if err := runWithCatalog(t, path); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("run = %v, want an error containing %q", err, want)
	}
	err := run(context.Background(), []string{"catalog", "check", path}, env(nil), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("catalog check = %v, want %q", err, want)
	}
}

// runWithCatalog runs the bot with JASTAR_CATALOG set to path and returns
// its error. A bad catalog must stop the bot before it touches the database
// or Telegram, so a created database fails the test.
func runWithCatalog(t *testing.T, path string) error {
	t.Helper()
	dbPath := filepath.Join(t.TempDir(), "jastar.db")
	// Should the catalog pass by mistake, the bot would wait for the Bot API
	// forever: bound it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := run(ctx, nil, env(map[string]string{
		"TELEGRAM_BOT_TOKEN": testToken, "TELEGRAM_API_URL": "http://127.0.0.1:1", "JASTAR_DB": dbPath, "JASTAR_CATALOG": path,
	}), &bytes.Buffer{}, &bytes.Buffer{})
	if _, statErr := os.Stat(dbPath); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("the database was created despite the bad catalog: %v", statErr)
	}
	return err
}

// TestRun_UnreadableCatalogIsAConfigError: JASTAR_CATALOG naming a file
// that cannot be read exits 2 with the variable named, like any other bad
// setting.
func TestRun_UnreadableCatalogIsAConfigError(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "no-such-catalog.toml")
	err := runWithCatalog(t, missing)
	if err == nil || !strings.HasPrefix(err.Error(), "JASTAR_CATALOG: ") || !strings.Contains(err.Error(), missing) {
		t.Fatalf("run = %v, want an error naming JASTAR_CATALOG and the file", err)
	}
	if code := exitCode(err); code != 2 {
		t.Errorf("exit code %d, want 2 (configuration error)", code)
	}
}

// TestRun_Rehearsal covers "-now": refused against anything but a Bot API on
// loopback or with a value that is no moment, and at a date whose year the
// catalog has no moving holidays for, the bot starts and warns in its log.
func TestRun_Rehearsal(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "jastar.db")
	base := map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "JASTAR_DB": dbPath}
	for _, tt := range []struct{ name, api, at, want string }{
		{"real Telegram", "https://api.telegram.org", "2027-06-15", "on loopback"},
		{"another host", "http://10.0.0.7:8081", "2027-06-15", "on loopback"},
		{"not a moment", "http://127.0.0.1:1", "15.06.2027", "want a date like 2027-06-15"},
	} {
		environ := maps.Clone(base)
		environ["TELEGRAM_API_URL"] = tt.api
		err := run(context.Background(), []string{"run", "-now", tt.at}, env(environ), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) || exitCode(err) != 2 {
			t.Errorf("%s: run -now %s = %v (exit %d), want a configuration error saying %q", tt.name, tt.at, err, exitCode(err), tt.want)
		}
	}
	if _, err := os.Stat(dbPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused rehearsal created the database: %v", err)
	}

	srv := telegramtest.NewServer(t)
	environ := maps.Clone(base)
	environ["TELEGRAM_API_URL"], environ["TELEGRAM_BOT_TOKEN"] = srv.URL(), srv.Token()
	ctx, cancel := context.WithCancel(context.Background())
	out := &signalWriter{wrote: make(chan struct{}, 1)}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"run", "-now", "2031-01-10 12:00"}, env(environ), out, out) }()
	u := telegramtest.User{ID: 1, FirstName: "Айгерім", LanguageCode: "kk"}
	srv.SendText(u, "/start")
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if _, err := srv.WaitFor(wctx, u.ID, func(m telegramtest.Message) bool { return strings.Contains(m.Text, "Айгерім") }); err != nil {
		t.Fatalf("no greeting from the rehearsing bot: %v\n%s", err, out.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run = %v", err)
	}
	for _, want := range []string{`"msg":"rehearsal`, `"now":"2031-01-10T12:00`, `"year":2031`, `"year":2032`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, out.String())
		}
	}
}

// TestBinary_LinksNoTesting: the production binary links the fake Bot API
// (for the sandbox and the load tool), but not package testing, whose flags
// and runtime hooks have no place in a bot.
func TestBinary_LinksNoTesting(t *testing.T) {
	t.Parallel()
	gotool := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(gotool, "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "testing" || strings.HasPrefix(pkg, "testing/") {
			t.Errorf("the production binary links %s", pkg)
		}
	}
}
