package admin

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jastar/bot/config"
	"jastar/locales"
	"jastar/storage/boltdb"
	"jastar/storage/catalog"
	"jastar/storage/storagetest"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// boltFiles opens files as main does for these commands.
func boltFiles() Files {
	return Files{
		Open: func(path string) (File, error) {
			db, err := boltdb.Open(path, boltdb.Options{ReadOnly: true, LockTimeout: 500 * time.Millisecond})
			if err != nil {
				return nil, err
			}
			return db, nil
		},
		Locked: boltdb.ErrLocked,
	}
}

func readCSV(t *testing.T, data []byte) [][]string {
	t.Helper()
	rest, ok := bytes.CutPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	if !ok {
		t.Fatal("export lacks the UTF-8 BOM")
	}
	r := csv.NewReader(bytes.NewReader(rest))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func readExport(t *testing.T, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("export file mode %v, want 0600", fi.Mode().Perm())
	}
	return readCSV(t, data)
}

func TestExport_CommandLine(t *testing.T) {
	t.Parallel()
	dbPath := storagetest.SeedExportDB(t)
	environ := map[string]string{"JASTAR_DB": dbPath}
	out := filepath.Join(t.TempDir(), "dec.csv")
	export := Export{Files: boltFiles()}
	var stdout bytes.Buffer
	if err := export.Run(context.Background(), []string{"-from", "01.12.2026", "-to", "31.12.2026", out}, env(environ), &stdout, &stdout); err != nil {
		t.Fatalf("export: %v (%s)", err, stdout.String())
	}
	rows := readExport(t, out)
	if len(rows) != 4 || rows[0][1] != "Дата" {
		t.Fatalf("export = %q, want a Russian header and 3 December bookings", rows)
	}
	if rows[3][6] != "'+cmd" {
		t.Errorf("last row name = %q, want the formula defused", rows[3][6])
	}
	if err := export.Run(context.Background(), []string{"-from", "01.12.2026", "-to", "31.12.2026", "-center", "konaev", "-lang", "kk", out}, env(environ), &stdout, &stdout); err != nil {
		t.Fatal(err)
	}
	if rows := readExport(t, out); len(rows) != 2 || rows[1][6] != "Данияр" || rows[0][1] != "Күні" {
		t.Errorf("Konaev export = %q", rows)
	}
	for _, bad := range [][]string{{}, {"-from", "32.12.2026", out}, {"-center", "nowhere", out}, {"-from", "02.12.2026", "-to", "01.12.2026", out}} {
		if err := export.Run(context.Background(), bad, env(environ), &stdout, &stdout); !errors.Is(err, config.ErrUsage) {
			t.Errorf("export %q: err = %v, want a usage error", bad, err)
		}
	}
}

// TestBackup_Stopped: with the bot stopped, the copy is read from the file
// directly, is the owner's only, and opens with everything in it.
func TestBackup_Stopped(t *testing.T) {
	t.Parallel()
	dbPath := storagetest.SeedExportDB(t)
	dst := filepath.Join(t.TempDir(), "backup.db")
	var out bytes.Buffer
	if err := (Backup{Files: boltFiles()}).Run(context.Background(), []string{dst}, env(map[string]string{"JASTAR_DB": dbPath}), &out, &out); err != nil {
		t.Fatalf("backup: %v (%s)", err, out.String())
	}
	if fi, err := os.Stat(dst); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v; want mode 0600", err)
	}
	if !strings.Contains(out.String(), "backup: wrote ") {
		t.Errorf("output %q does not say what was written", out.String())
	}
	db, err := boltdb.Open(dst, boltdb.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("the backup does not open: %v", err)
	}
	defer db.Close()
	all, err := db.AllBookingsOn(context.Background(), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || len(all) != 4 {
		t.Errorf("the backup holds %d bookings (%v), want the 4 stored", len(all), err)
	}
}

// TestBackup_LockedWithoutSocketExplains: a process holding the file
// without serving the socket (a bot of an older version) gets a reason and
// a way out, not a bare lock error.
func TestBackup_LockedWithoutSocketExplains(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "jastar.db")
	db, err := boltdb.Open(dbPath, boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	environ := env(map[string]string{"JASTAR_DB": dbPath})
	for name, cmd := range map[string]struct {
		run  func(context.Context, []string, func(string) string, io.Writer, io.Writer) error
		file string
	}{
		"backup": {Backup{Files: boltFiles()}.Run, filepath.Join(t.TempDir(), "b.db")},
		"export": {Export{Files: boltFiles()}.Run, filepath.Join(t.TempDir(), "e.csv")},
	} {
		err := cmd.run(context.Background(), []string{cmd.file}, environ, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "socket does not answer") || !strings.Contains(err.Error(), "stop it first") {
			t.Errorf("%s: err = %v, want the socket named and what to do", name, err)
		}
	}
}

// TestHandler_Export: the socket's /export answers the CSV with the count
// of bookings in a header, and a bad query with 400 and the reason.
func TestHandler_Export(t *testing.T) {
	t.Parallel()
	db, err := boltdb.Open(storagetest.SeedExportDB(t), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	texts, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Almaty")
	h := Handler(db, Running{Catalog: func() *catalog.Catalog { return catalog.Default(loc) }}, texts, loc, slog.New(slog.DiscardHandler))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/export?from=01.12.2026&to=31.12.2026&center=karasai", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("X-Jastar-Bookings") != "2" {
		t.Fatalf("GET /export = %d, %q bookings; want 200 and 2", rec.Code, rec.Header().Get("X-Jastar-Bookings"))
	}
	if rows := readCSV(t, rec.Body.Bytes()); len(rows) != 3 || rows[0][1] != "Дата" {
		t.Errorf("export = %q, want the Russian header and Karasai's 2 December bookings", rows)
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/export?from=32.12.2026", nil))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "-from") {
		t.Errorf("bad query: %d %q; want 400 naming -from", rec.Code, rec.Body.String())
	}
}
