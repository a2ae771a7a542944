// Package admin owns the operator's commands on the database file,
// `jastar backup` and `jastar export`, and what the admin socket serves
// them while the bot runs. (Not the bot's admins of JASTAR_ADMIN_IDS: the
// person who runs the process.) bbolt locks its file, so with the bot
// stopped a command reads the file itself; while it runs, the command asks
// the bot through bot/adminsock.
//
// It never imports storage/boltdb: main hands each command Open, which
// opens the file, and the socket's handler the bot's open store.
package admin

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"jastar/bot/adminsock"
	"jastar/bot/config"
	"jastar/locales"
	"jastar/storage"
)

// Store is what backup and export read.
type Store interface {
	// WriteBackup writes a consistent copy of the whole database to w.
	WriteBackup(ctx context.Context, w io.Writer) (int64, error)
	AllBookingsOn(ctx context.Context, from, to time.Time) ([]storage.Booking, error)
	BookingsOn(ctx context.Context, centerIDs []string, from, to time.Time) ([]storage.Booking, error)
}

// File is a Store a command opened itself, and closes.
type File interface {
	Store
	Close() error
}

// Files is how a command reaches the database file.
type Files struct {
	// Open opens the file at path read-only and fails at once, with an
	// error that errors.Is Locked, when a running bot holds it.
	Open func(path string) (File, error)
	// Locked is the error Open wraps when the file is in use.
	Locked error
}

// Backup is "jastar backup FILE".
type Backup struct{ Files Files }

// Run writes a consistent hot copy of the database. bbolt locks its file,
// so while the bot runs the copy is asked of the bot itself over its admin
// socket beside the file; when the bot is stopped the file is read
// directly.
func (c Backup) Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: jastar backup FILE\n\nWrites a consistent copy of JASTAR_DB to FILE, also while the bot runs\n(then through the bot's socket JASTAR_DB.sock, as the database's owner).")
		fs.PrintDefaults()
	}
	dst, ok, err := parseFileArg(fs, args)
	if !ok {
		return err
	}
	dbPath := dbPathFrom(getenv)
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".jastar-backup-*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("backup: %w", err)
	}

	n, err := c.backupDirect(ctx, dbPath, tmp)
	if c.Files.locked(err) {
		n, err = backupFromBot(ctx, dbPath, tmp)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// Prove the copy opens before calling it a backup.
	check, err := c.Files.Open(tmp.Name())
	if err != nil {
		return fmt.Errorf("backup: the copy does not open: %w", err)
	}
	check.Close()
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup: wrote %d bytes to %s\n", n, dst)
	return nil
}

// parseFileArg parses the flags of the backup and export commands and
// returns the one FILE they take. ok false means stop with err: nil after
// -h (the usage was printed), a usage error otherwise.
func parseFileArg(fs *flag.FlagSet, args []string) (file string, ok bool, err error) {
	if help, err := config.ParseFlags(fs, args); help || err != nil {
		return "", false, err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return "", false, fmt.Errorf("%s: want exactly one FILE: %w", fs.Name(), config.ErrUsage)
	}
	return fs.Arg(0), true, nil
}

// dbPathFrom is JASTAR_DB, or the path the bot uses when it is unset.
func dbPathFrom(getenv func(string) string) string {
	if p := getenv("JASTAR_DB"); p != "" {
		return p
	}
	return "./jastar.db"
}

// locked tells whether err is Open's "a running bot holds the file".
func (f Files) locked(err error) bool {
	return err != nil && f.Locked != nil && errors.Is(err, f.Locked)
}

// openDirect opens the database read-only for backup or export; it fails
// with Files.Locked when a running bot holds the file, which then has to
// be asked through its socket.
func (f Files) openDirect(dbPath string) (File, error) {
	if _, err := os.Stat(dbPath); err != nil {
		return nil, fmt.Errorf("database %s: %w", dbPath, err)
	}
	return f.Open(dbPath)
}

func (c Backup) backupDirect(ctx context.Context, dbPath string, w io.Writer) (int64, error) {
	db, err := c.Files.openDirect(dbPath)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return db.WriteBackup(ctx, w)
}

func backupFromBot(ctx context.Context, dbPath string, w io.Writer) (int64, error) {
	resp, err := askBot(ctx, dbPath, "/backup", 10*time.Minute)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return io.Copy(w, resp.Body)
}

// askBot sends GET target to the bot running on dbPath, through its admin
// socket, and returns a 200 answer.
func askBot(ctx context.Context, dbPath, target string, timeout time.Duration) (*http.Response, error) {
	sock := adminsock.Path(dbPath)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://jastar"+target, nil)
	if err != nil {
		return nil, err
	}
	client := adminsock.Client(sock)
	client.Timeout = timeout
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s is in use by another process, and the bot's socket does not answer: %w "+
			"(run this as the database's owner; a bot of an older version has no socket: stop it first)", dbPath, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, fmt.Errorf("the running bot answered %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return resp, nil
}

// Handler is what the admin socket serves: GET /backup, GET /export and
// POST /catalog/reload. Only the database's owner can connect to the
// socket, so the handlers check no caller themselves.
func Handler(db Store, bot Running, texts *locales.Bundle, loc *time.Location, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /backup", backupHandler(db, log))
	mux.Handle("GET /export", exportHandler(db, bot.Catalog, texts, loc, log))
	if bot.Reload != nil {
		mux.Handle("POST /catalog/reload", reloadHandler(bot.Reload, log))
	}
	return mux
}

// backupHandler streams a hot copy of the database.
func backupHandler(db Store, log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		if _, err := db.WriteBackup(r.Context(), w); err != nil {
			log.Error("serve backup", "err", err)
		}
	}
}
