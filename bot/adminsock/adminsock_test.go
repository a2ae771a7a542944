package adminsock

import (
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello "+r.URL.Path) })

// ask does GET /x through the socket at path.
func ask(path string) (string, error) {
	resp, err := Client(path).Get("http://jastar/x")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

func open(t *testing.T, path string) *Server {
	t.Helper()
	s, err := Open(path, hello, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func wantServing(t *testing.T, path string) {
	t.Helper()
	if got, err := ask(path); err != nil || got != "hello /x" {
		t.Fatalf("answer = %q, %v; want hello /x", got, err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket file mode %v, want a socket with 0600", fi.Mode())
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	path := Path(filepath.Join(dir, "jastar.db"))
	s := open(t, path)
	wantServing(t, path)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after Close the socket file is still there: %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("Open left %v in the database's directory", left)
	}
}

// TestOpen_ReplacesStaleSocket: a crashed run leaves its socket file
// behind; the next run (which holds the database lock) serves in its place.
func TestOpen_ReplacesStaleSocket(t *testing.T) {
	path := Path(filepath.Join(t.TempDir(), "jastar.db"))
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := ask(path); err == nil {
		t.Fatal("test setup: the stale socket answers")
	}
	s := open(t, path)
	defer s.Close()
	wantServing(t, path)
}

// TestOpen_LeavesOtherFiles: whatever else sits at the socket's path is the
// operator's, and is neither removed nor overwritten.
func TestOpen_LeavesOtherFiles(t *testing.T) {
	path := Path(filepath.Join(t.TempDir(), "jastar.db"))
	if err := os.WriteFile(path, []byte("notes"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(path, hello, slog.New(slog.DiscardHandler)); err == nil {
		s.Close()
		t.Fatal("Open replaced a regular file")
	}
	if got, _ := os.ReadFile(path); string(got) != "notes" {
		t.Errorf("the file now holds %q", got)
	}
}

// TestOpen_LongPath: a database deeper than sun_path allows still gets its
// socket where it belongs, and clients reach it, on systems with
// /proc/self/fd; elsewhere the error says what to do.
func TestOpen_LongPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 60), strings.Repeat("e", 60))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := Path(filepath.Join(dir, "jastar.db"))
	if len(path) <= 108 {
		t.Fatalf("test setup: %d bytes is not over the limit", len(path))
	}
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		_, err := Open(path, hello, slog.New(slog.DiscardHandler))
		if err == nil || !strings.Contains(err.Error(), "shorter path") {
			t.Fatalf("Open = %v, want an error asking for a shorter path", err)
		}
		return
	}
	s := open(t, path)
	defer s.Close()
	wantServing(t, path)
}

// TestOpen_StalledClientCutOff: a client that asks for a backup and stops
// reading is cut off once a write has waited the deadline, so the handler
// returns (and the read transaction it streams from ends); a client that
// keeps reading gets everything however long it takes.
func TestOpen_StalledClientCutOff(t *testing.T) {
	const idle = 100 * time.Millisecond
	ended := make(chan error, 1)
	stream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 64<<10)
		for range 1 << 14 { // 1 GB: far more than the socket buffers hold
			if _, err := w.Write(chunk); err != nil {
				ended <- err
				return
			}
		}
		ended <- nil
	})
	path := Path(filepath.Join(t.TempDir(), "jastar.db"))
	s, err := serve(path, stream, slog.New(slog.DiscardHandler), idle)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /backup HTTP/1.1\r\nHost: jastar\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ended:
		if err == nil {
			t.Fatal("the handler wrote everything to a client that reads nothing")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the handler is still writing to a client that stopped reading")
	}
}
