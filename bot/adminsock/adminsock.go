// Package adminsock is the operator's way into a running bot: HTTP on a Unix
// socket beside the database file, mode 0600, so that only the file's owner
// (and root, who can read the file anyway) can ask for a backup or an
// export while the bot holds bbolt's lock. A TCP listener cannot tell one
// local user, process or container sidecar from another; a socket file's
// permissions can.
//
// It imports nothing of ours but bot/ops (panic recovery); main hands it
// the handler.
package adminsock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"jastar/bot/ops"
)

// Path is the socket of the database file at dbPath.
func Path(dbPath string) string { return dbPath + ".sock" }

// maxPath is the longest socket path bound or dialled as it is: sun_path
// holds 108 bytes on Linux and 104 on the BSDs and macOS, NUL included
// there. Longer paths go through /proc/self/fd (see shortPath).
const maxPath = 103

// Server serves one handler on a socket file until Close.
type Server struct {
	path string
	srv  *http.Server
	done chan struct{}
}

// writeIdle bounds how long one write to a client may wait. A backup
// streams from one read transaction, which holds up the database's
// compaction while it lasts; a client that stops reading must not hold it
// forever. The deadline is per write, renewed as data flows, so a slow but
// moving download of a large file is never cut.
const writeIdle = time.Minute

// Open creates the socket at path, mode 0600, and serves h on it.
//
// The caller must hold the lock of the database the socket belongs to:
// then no other instance can be serving on path, and a socket file found
// there is the leftover of a crashed run, which is replaced. Anything that
// is not a socket is left alone and reported.
func Open(path string, h http.Handler, log *slog.Logger) (*Server, error) {
	return serve(path, h, log, writeIdle)
}

// serve is Open with the write deadline as a parameter, for tests.
func serve(path string, h http.Handler, log *slog.Logger, idle time.Duration) (*Server, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode().Type() != fs.ModeSocket {
		return nil, fmt.Errorf("admin socket %s: the path exists and is not a socket; move it away", path)
	}
	// Bind in a private directory, then chmod and rename into place: bind
	// applies only the umask, so the socket never appears at path with
	// looser permissions than 0600, and rename replaces a stale socket in
	// one step.
	dir, err := os.MkdirTemp(filepath.Dir(path), ".jastar-sock-")
	if err != nil {
		return nil, fmt.Errorf("admin socket %s: %w", path, err)
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "s")
	ln, err := listen(tmp)
	if err != nil {
		return nil, fmt.Errorf("admin socket %s: %w", path, err)
	}
	// The socket's name changes with the rename, so Close removes it by
	// its final path, not the listener.
	ln.SetUnlinkOnClose(false)
	if err := os.Chmod(tmp, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("admin socket %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		ln.Close()
		return nil, fmt.Errorf("admin socket %s: %w", path, err)
	}
	s := &Server{
		path: path,
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		// Handler panics are main's to count (it wraps h in
		// ops.Recovering); this only keeps the serve loop's from
		// killing the bot.
		defer ops.Recovered(log, nil, "admin_socket", nil)
		if err := s.srv.Serve(deadlineListener{ln, idle}); !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin socket stopped", "err", err)
		}
	}()
	return s, nil
}

// Close removes the socket file, so no new caller connects, and ends the
// connections open on it: a backup in flight is cut (the command reports
// it) rather than holding the database open past the shutdown deadline.
func (s *Server) Close() error {
	err := os.Remove(s.path)
	s.srv.Close()
	<-s.done
	return err
}

// deadlineListener gives each connection it accepts a write deadline of
// idle from the start of every write.
type deadlineListener struct {
	net.Listener
	idle time.Duration
}

func (l deadlineListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return deadlineConn{c, l.idle}, nil
}

type deadlineConn struct {
	net.Conn
	idle time.Duration
}

func (c deadlineConn) Write(p []byte) (int, error) {
	if err := c.SetWriteDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// Client is an HTTP client whose requests all go to the socket at path,
// whatever host their URL names.
func Client(path string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dial(ctx, path)
		},
	}}
}

func listen(path string) (*net.UnixListener, error) {
	p, release, err := shortPath(path)
	if err != nil {
		return nil, err
	}
	defer release()
	ln, err := net.Listen("unix", p)
	if err != nil {
		return nil, err
	}
	return ln.(*net.UnixListener), nil
}

func dial(ctx context.Context, path string) (net.Conn, error) {
	p, release, err := shortPath(path)
	if err != nil {
		return nil, err
	}
	defer release()
	var d net.Dialer
	return d.DialContext(ctx, "unix", p)
}

// shortPath gives a name for path that fits in sun_path. A path too long
// is reached through its directory's file descriptor, as
// /proc/self/fd/N/NAME: the kernel resolves it like the full path, and no
// chdir is needed (that would move every goroutine of the process). The
// descriptor stays open until release is called, after bind or connect.
// Without /proc (macOS) a long path is an error that says what to do.
func shortPath(path string) (string, func(), error) {
	if len(path) <= maxPath {
		return path, func() {}, nil
	}
	tooLong := fmt.Errorf("socket path %s is %d bytes, over the system's limit of about %d; give JASTAR_DB a shorter path", path, len(path), maxPath)
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return "", nil, err
	}
	p := fmt.Sprintf("/proc/self/fd/%d/%s", d.Fd(), filepath.Base(path))
	if _, err := os.Stat(filepath.Dir(p)); err != nil || len(p) > maxPath {
		d.Close()
		return "", nil, tooLong
	}
	return p, func() { d.Close() }, nil
}
