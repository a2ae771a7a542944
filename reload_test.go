package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jastar/bot/admin"
	"jastar/storage/catalog"
	"jastar/storage/storagetest"
)

type recordingSetter struct{ got []*catalog.Catalog }

func (s *recordingSetter) SetCatalog(_ context.Context, c *catalog.Catalog) (int, error) {
	s.got = append(s.got, c)
	return 0, nil
}

// brokenCatalog is the embedded catalog with two capacities out of range.
func brokenCatalog() []byte {
	return bytes.Replace(catalog.DefaultTOML(), []byte(`capacity = 1`), []byte(`capacity = -1`), 3) // the first is in a comment
}

// TestReloadCatalog: a broken file is refused with every problem logged
// and returned, and nothing put in force; a good one is put in force.
func TestReloadCatalog(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "catalog.toml")
	if err := os.WriteFile(path, brokenCatalog(), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	set := &recordingSetter{}
	r := &reloader{cfg: Config{CatalogPath: path, Location: time.UTC}, to: set, log: slog.New(slog.NewJSONHandler(&logs, nil))}
	_, err := r.reload(context.Background())
	var verr *catalog.ValidationError
	if !errors.As(err, &verr) || len(verr.Problems) < 2 || len(set.got) != 0 {
		t.Fatalf("a broken catalog: err %v, %d put in force; want both problems and none", err, len(set.got))
	}
	if n := strings.Count(logs.String(), "catalog reload refused"); n < 2 {
		t.Errorf("%d problems logged, want both:\n%s", n, logs.String())
	}
	if err := os.WriteFile(path, catalog.DefaultTOML(), 0o600); err != nil {
		t.Fatal(err)
	}
	if done, err := r.reload(context.Background()); err != nil || len(set.got) != 1 || done.Centers != len(set.got[0].Centers) {
		t.Fatalf("a good catalog: err %v, %d put in force, %+v", err, len(set.got), done)
	}

	// Without a file there is nothing to reload, and the caller is told.
	r = &reloader{cfg: Config{Location: time.UTC}, to: set, log: slog.New(slog.DiscardHandler)}
	if _, err := r.reload(context.Background()); !errors.Is(err, admin.ErrNoCatalogFile) {
		t.Errorf("no JASTAR_CATALOG: err %v, want ErrNoCatalogFile", err)
	}
}

// TestCatalogReload_ThroughSocket: `jastar catalog reload` makes the
// running bot read its file again, as SIGHUP does. A broken file is
// refused with every problem on the command's stderr and a failing exit,
// and the running catalog stays; a good one is put in force, and the
// socket's exports name centers by it. With no bot running the command
// says so.
func TestCatalogReload_ThroughSocket(t *testing.T) {
	t.Parallel()
	catPath := filepath.Join(t.TempDir(), "catalog.toml")
	if err := os.WriteFile(catPath, catalog.DefaultTOML(), 0o600); err != nil {
		t.Fatal(err)
	}
	rb := startBot(t, map[string]string{"JASTAR_DB": storagetest.SeedExportDB(t), "JASTAR_CATALOG": catPath})
	waitServing(t, rb)
	const oldName, newName = "Молодёжный ресурсный центр Карасайского района", "МРЦ Каскелен, новое здание"
	exportHas := func(what string) {
		t.Helper()
		csvPath := filepath.Join(t.TempDir(), "dec.csv")
		var out bytes.Buffer
		if err := run(context.Background(), []string{"export", "-from", "01.12.2026", "-to", "31.12.2026", "-center", "karasai", csvPath}, env(rb.env), &out, &out); err != nil {
			t.Fatalf("export: %v (%s)", err, out.String())
		}
		rows := readExport(t, csvPath)
		if len(rows) != 3 || !strings.Contains(strings.Join(rows[1], ";"), what) {
			t.Errorf("export = %q, want Karasai's 2 bookings named %q", rows, what)
		}
	}
	reload := func() (string, string, error) {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), []string{"catalog", "reload"}, env(rb.env), &stdout, &stderr)
		return stdout.String(), stderr.String(), err
	}

	// A broken file: refused, every problem listed, the old catalog stays.
	if err := os.WriteFile(catPath, bytes.ReplaceAll(brokenCatalog(), []byte(oldName), []byte(newName)), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := reload()
	if err == nil || exitCode(err) == 0 || !strings.Contains(err.Error(), "running catalog stays") {
		t.Fatalf("reload of a broken file: err %v, want a refusal", err)
	}
	if n := strings.Count(stderr, "is not a capacity"); n != 2 {
		t.Errorf("stderr lists %d capacity problems, want both:\n%s", n, stderr)
	}
	if stdout != "" {
		t.Errorf("a refused reload wrote to stdout: %q", stdout)
	}
	exportHas(oldName)

	// A good file: in force at once, exports included.
	if err := os.WriteFile(catPath, bytes.ReplaceAll(catalog.DefaultTOML(), []byte(oldName), []byte(newName)), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err = reload()
	if err != nil || !strings.Contains(stdout, catPath+" is in force") {
		t.Fatalf("reload of a good file: err %v, stdout %q, stderr %q", err, stdout, stderr)
	}
	exportHas(newName)

	rb.stop(t)
	if _, _, err := reload(); err == nil || !strings.Contains(err.Error(), "no bot is running") {
		t.Errorf("reload with the bot stopped: err %v, want \"no bot is running\"", err)
	}
}
