package main

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
	"jastar/bot/ops"
	"jastar/locales"
	"jastar/storage/boltdb"
	"jastar/storage/catalog"
)

// runBackup is "jastar backup FILE": a consistent hot copy of the database.
// bbolt locks its file, so while the bot runs the copy is asked of the bot
// itself over its admin socket beside the file; when the bot is stopped the
// file is read directly.
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
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

	n, err := backupDirect(ctx, dbPath, tmp)
	if errors.Is(err, boltdb.ErrLocked) {
		n, err = backupFromBot(ctx, dbPath, tmp)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// Prove the copy opens before calling it a backup.
	check, err := boltdb.Open(tmp.Name(), boltdb.Options{ReadOnly: true})
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
// -h (the usage was printed), errUsage otherwise.
func parseFileArg(fs *flag.FlagSet, args []string) (file string, ok bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", false, nil
		}
		return "", false, errUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return "", false, fmt.Errorf("%s: want exactly one FILE: %w", fs.Name(), errUsage)
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

// openDirect opens the database read-only for backup or export; it fails
// with boltdb.ErrLocked when a running bot holds the file, which then has
// to be asked through its socket.
func openDirect(dbPath string) (*boltdb.DB, error) {
	if _, err := os.Stat(dbPath); err != nil {
		return nil, fmt.Errorf("database %s: %w", dbPath, err)
	}
	return boltdb.Open(dbPath, boltdb.Options{ReadOnly: true, LockTimeout: 500 * time.Millisecond})
}

func backupDirect(ctx context.Context, dbPath string, w io.Writer) (int64, error) {
	db, err := openDirect(dbPath)
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

// adminHandler is what the admin socket serves: GET /backup and GET
// /export. Only the database's owner can connect to the socket, so the
// handlers check no caller themselves.
func adminHandler(db *boltdb.DB, cat *catalog.Catalog, texts *locales.Bundle, loc *time.Location, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /backup", backupHandler(db, log))
	mux.Handle("GET /export", exportHandler(db, cat, texts, loc, log))
	return mux
}

// openAdminSocket serves adminHandler on JASTAR_DB.sock. It must run after
// the database is open: bbolt's lock then makes this the only bot on the
// file, so a socket already there is a crashed run's and may be replaced.
// Without the socket the bot still serves people; the log says why hot
// backups are unavailable.
func openAdminSocket(cfg Config, db *boltdb.DB, cat *catalog.Catalog, texts *locales.Bundle, log *slog.Logger, metrics *ops.Metrics) io.Closer {
	log = log.With("component", "adminsock")
	h := ops.Recovering(log, metrics, "admin_socket", adminHandler(db, cat, texts, cfg.Location, log))
	s, err := adminsock.Open(adminsock.Path(cfg.DBPath), h, log)
	if err != nil {
		log.Error("no hot backups or exports while the bot runs", "err", err)
		return io.NopCloser(nil)
	}
	return s
}

// backupHandler streams a hot copy of the database.
func backupHandler(db *boltdb.DB, log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		if _, err := db.WriteBackup(r.Context(), w); err != nil {
			log.Error("serve backup", "err", err)
		}
	}
}
