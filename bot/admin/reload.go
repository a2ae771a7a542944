package admin

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"syscall"
	"time"

	"jastar/bot/adminsock"
	"jastar/bot/config"
	"jastar/storage/catalog"
)

// Running is what the socket asks of the running bot beyond its store.
type Running struct {
	// Catalog is the catalog in force: a reload swaps it, and exports
	// name centers and types by the one in force now.
	Catalog func() *catalog.Catalog
	// Reload reads the catalog file again and puts it in force, exactly
	// as SIGHUP does. A broken file is an error wrapping a
	// *catalog.ValidationError, and the running catalog stays.
	Reload func(ctx context.Context) (Reloaded, error)
}

// Reloaded is what a reload put in force.
type Reloaded struct {
	Path    string `json:"path"`
	Centers int    `json:"centers"`
	Types   int    `json:"types"`
	// Orphans counts the upcoming bookings of a center or type the new
	// catalog lacks: kept, and each listed in the bot's log.
	Orphans int `json:"orphans"`
}

// ErrNoCatalogFile is Reload's answer when the bot runs on the embedded
// catalog: there is no file to read again.
var ErrNoCatalogFile = errors.New("JASTAR_CATALOG is not set: the bot runs on the embedded catalog, which only a new version changes")

// reloadAnswer is the socket's answer to POST /catalog/reload.
type reloadAnswer struct {
	Reloaded *Reloaded `json:"reloaded,omitempty"`
	// Problems lists every problem of a refused file, one per entry.
	Problems []string `json:"problems,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// reloadHandler serves POST /catalog/reload: the answer says what was put
// in force, or why nothing was (422 with every problem of a broken file).
func reloadHandler(reload func(ctx context.Context) (Reloaded, error), log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var ans reloadAnswer
		code := http.StatusOK
		done, err := reload(r.Context())
		var verr *catalog.ValidationError
		switch {
		case err == nil:
			ans.Reloaded = &done
		case errors.As(err, &verr):
			code = http.StatusUnprocessableEntity
			for _, p := range verr.Problems {
				ans.Problems = append(ans.Problems, p.Error())
			}
		case errors.Is(err, ErrNoCatalogFile):
			code = http.StatusConflict
			ans.Error = err.Error()
		default:
			// Read errors name the file, not its content: safe to return
			// to the file's owner, who is the only one who can connect.
			code = http.StatusInternalServerError
			ans.Error = err.Error()
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		if err := json.NewEncoder(w).Encode(ans); err != nil {
			log.Warn("answer a catalog reload", "err", err)
		}
	}
}

// RunCatalogReload is "jastar catalog reload": it asks the bot running on
// JASTAR_DB, through its socket, to read its catalog file again. A
// refused file's problems go to stderr, one a line, and the command fails.
func RunCatalogReload(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("catalog reload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: jastar catalog reload\n\nAsks the bot running on JASTAR_DB (through its socket JASTAR_DB.sock, as the\ndatabase's owner) to read its JASTAR_CATALOG again, as SIGHUP does. A broken\nfile is refused with every problem listed, and the running catalog stays.")
	}
	if help, err := config.ParseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("catalog reload takes no arguments: %w", config.ErrUsage)
	}
	dbPath := dbPathFrom(getenv)
	sock := adminsock.Path(dbPath)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://jastar/catalog/reload", nil)
	if err != nil {
		return err
	}
	client := adminsock.Client(sock)
	client.Timeout = time.Minute
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("catalog reload: no bot is running on %s (no one answers at %s); a bot that starts reads the catalog anyway", dbPath, sock)
		}
		return fmt.Errorf("catalog reload: the bot's socket %s does not answer: %w (run this as the database's owner)", sock, err)
	}
	defer resp.Body.Close()
	var ans reloadAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ans); err != nil {
		return fmt.Errorf("catalog reload: the running bot answered %s, unreadable: %w (a bot of an older version cannot reload through its socket: send it SIGHUP)", resp.Status, err)
	}
	switch {
	case ans.Reloaded != nil:
		d := ans.Reloaded
		fmt.Fprintf(stdout, "catalog reload: %s is in force: %d centers, %d consultation types\n", d.Path, d.Centers, d.Types)
		if d.Orphans > 0 {
			fmt.Fprintf(stdout, "warning: %d upcoming bookings are of a center or consultation type the file no longer has; they are kept, and each is listed in the bot's log\n", d.Orphans)
		}
		return nil
	case len(ans.Problems) > 0:
		for _, p := range ans.Problems {
			fmt.Fprintln(stderr, p)
		}
		return fmt.Errorf("catalog reload: refused, %d problems (listed above); the running catalog stays", len(ans.Problems))
	default:
		return fmt.Errorf("catalog reload: %s", ans.Error)
	}
}
