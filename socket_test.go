package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"jastar/bot/telegramtest"
	"jastar/storage/boltdb"
	"jastar/storage/storagetest"
)

// waitServing returns once the bot answers a person, which it does only
// after its admin socket is up.
func waitServing(t *testing.T, rb *runningBot) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := telegramtest.User{ID: 777, FirstName: "A", LanguageCode: "ru"}
	rb.srv.SendText(u, "/help")
	if _, err := rb.srv.WaitMessages(ctx, u.ID, 1); err != nil {
		t.Fatal(err)
	}
}

// stop shuts the bot down and waits, leaving its result for the cleanup
// of startBot.
func (rb *runningBot) stop(t *testing.T) {
	t.Helper()
	rb.cancel()
	select {
	case err := <-rb.done:
		rb.done <- err
		if err != nil {
			t.Fatalf("run = %v, want a clean stop", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("bot did not stop")
	}
}

// TestBackup_RunningBotDefaultConfig: with nothing configured but the
// token and the file, jastar backup and jastar export work against the
// running bot, through a socket only the file's owner can use; a crashed
// run's socket does not get in the way, and shutdown removes the socket.
func TestBackup_RunningBotDefaultConfig(t *testing.T) {
	t.Parallel()
	dbPath := storagetest.SeedExportDB(t)
	sock := dbPath + ".sock"
	// The socket a crashed run left behind.
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()

	rb := startBot(t, map[string]string{"JASTAR_DB": dbPath})
	waitServing(t, rb)
	fi, err := os.Lstat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want a socket with 0600", sock, fi.Mode())
	}

	// A second instance is refused at the lock, before it touches the
	// socket the first one serves.
	if err := run(context.Background(), nil, env(rb.env), &bytes.Buffer{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "another jastar") {
		t.Fatalf("second instance: err = %v, want a refusal", err)
	}

	dst := filepath.Join(t.TempDir(), "backup.db")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"backup", dst}, env(rb.env), &out, &out); err != nil {
		t.Fatalf("backup while running: %v (%s)", err, out.String())
	}
	if fi, err := os.Stat(dst); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	copyDB, err := boltdb.Open(dst, boltdb.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("the backup does not open: %v", err)
	}
	loc, _ := time.LoadLocation("Asia/Almaty")
	all, err := copyDB.AllBookingsOn(context.Background(), time.Date(2026, 12, 1, 0, 0, 0, 0, loc), time.Date(2027, 2, 1, 0, 0, 0, 0, loc))
	copyDB.Close()
	if err != nil || len(all) != 4 {
		t.Errorf("the backup holds %d bookings (%v), want the 4 stored", len(all), err)
	}

	csvPath := filepath.Join(t.TempDir(), "dec.csv")
	out.Reset()
	if err := run(context.Background(), []string{"export", "-from", "01.12.2026", "-to", "31.12.2026", csvPath}, env(rb.env), &out, &out); err != nil {
		t.Fatalf("export while running: %v", err)
	}
	if rows := readExport(t, csvPath); len(rows) != 4 || rows[0][1] != "Дата" || rows[3][6] != "'+cmd" {
		t.Errorf("export while running = %q, want the Russian header and the 3 December bookings", rows)
	}
	if !strings.Contains(out.String(), "3 bookings") {
		t.Errorf("output %q does not count the bookings", out.String())
	}

	rb.stop(t)
	if _, err := os.Lstat(sock); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after shutdown the socket is still there: %v", err)
	}
	// With the bot stopped the file is read directly, as before.
	if err := run(context.Background(), []string{"backup", dst}, env(rb.env), &out, &out); err != nil {
		t.Errorf("backup with the bot stopped: %v", err)
	}
}

// TestOps_NoBackupOrExportOverHTTP: the ops listener cannot tell which
// local process or sidecar calls it, so it serves neither the database
// nor the bookings' names and phones.
func TestOps_NoBackupOrExportOverHTTP(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	startBot(t, map[string]string{"JASTAR_HTTP_ADDR": addr, "JASTAR_DB": storagetest.SeedExportDB(t)})
	waitStatus(t, "http://"+addr+"/readyz", http.StatusOK)
	for _, path := range []string{"/backup", "/export?from=01.12.2026&to=31.12.2026"} {
		code, body := get(t, "http://"+addr+path)
		if code != http.StatusNotFound {
			t.Errorf("GET %s = %d (%d bytes), want 404", path, code, len(body))
		}
	}
}

// TestBackup_HotWhileRunning takes a backup through the running bot while
// people keep writing, and checks the copy opens and holds everyone who was
// stored before it began.
func TestBackup_HotWhileRunning(t *testing.T) {
	t.Parallel()
	rb := startBot(t, nil)
	const before = 40
	for i := 1; i <= before; i++ {
		rb.srv.SendText(telegramtest.User{ID: int64(i), FirstName: "U", LanguageCode: "ru"}, "/start")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := 1; i <= before; i++ {
		if _, err := rb.srv.WaitMessages(ctx, int64(i), 2); err != nil {
			t.Fatal(err)
		}
	}
	// Load continues during the backup.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1000; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			rb.srv.SendText(telegramtest.User{ID: int64(i), FirstName: "L", LanguageCode: "kk"}, "/start")
			time.Sleep(2 * time.Millisecond)
		}
	}()
	dst := filepath.Join(t.TempDir(), "backup.db")
	var out bytes.Buffer
	err := run(context.Background(), []string{"backup", dst}, env(rb.env), &out, &out)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("backup: %v (%s)", err, out.String())
	}
	copyDB, err := boltdb.Open(dst, boltdb.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("backup does not open: %v", err)
	}
	defer copyDB.Close()
	for i := 1; i <= before; i++ {
		if _, err := copyDB.User(context.Background(), int64(i)); err != nil {
			t.Errorf("user %d stored before the backup is missing from it: %v", i, err)
		}
	}
}
