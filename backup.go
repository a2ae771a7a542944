package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"jastar/storage/boltdb"
)

// runBackup is "jastar backup FILE": a consistent hot copy of the database.
// bbolt locks its file, so while the bot runs the copy is asked of the bot
// itself over its ops listener (JASTAR_HTTP_ADDR); when the bot is stopped
// the file is read directly.
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: jastar backup FILE\n\nWrites a consistent copy of JASTAR_DB to FILE, also while the bot runs\n(then through the bot's JASTAR_HTTP_ADDR listener).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("backup: want exactly one FILE: %w", errUsage)
	}
	dst := fs.Arg(0)
	dbPath := getenv("JASTAR_DB")
	if dbPath == "" {
		dbPath = "./jastar.db"
	}
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
		addr := getenv("JASTAR_HTTP_ADDR")
		if addr == "" {
			tmp.Close()
			return fmt.Errorf("backup: %s is in use by the running bot; set JASTAR_HTTP_ADDR to its ops listener to back it up hot", dbPath)
		}
		n, err = backupFromBot(ctx, addr, tmp)
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

func backupDirect(ctx context.Context, dbPath string, w io.Writer) (int64, error) {
	if _, err := os.Stat(dbPath); err != nil {
		return 0, fmt.Errorf("database %s: %w", dbPath, err)
	}
	db, err := boltdb.Open(dbPath, boltdb.Options{ReadOnly: true, LockTimeout: 500 * time.Millisecond})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return db.WriteBackup(ctx, w)
}

func backupFromBot(ctx context.Context, addr string, w io.Writer) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/backup", nil)
	if err != nil {
		return 0, err
	}
	resp, err := (&http.Client{Timeout: 10 * time.Minute}).Do(req)
	if err != nil {
		return 0, fmt.Errorf("ask the running bot at %s: %w", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return 0, fmt.Errorf("the running bot answered %s: %s", resp.Status, msg)
	}
	return io.Copy(w, resp.Body)
}

// backupHandler streams a hot copy to a caller on this machine only: the
// database holds young people's personal data.
func backupHandler(db *boltdb.DB, log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			http.Error(w, "backups are served to this machine only", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		if _, err := db.WriteBackup(r.Context(), w); err != nil {
			log.Error("serve backup", "err", err)
		}
	}
}
