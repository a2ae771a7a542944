package boltdb

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestWriteBackup_DuringBookingLoad takes a hot backup while people keep
// booking, and checks the copy opens, is consistent, and holds every booking
// confirmed before the backup began.
func TestWriteBackup_DuringBookingLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTemp(t)
	const before = 300
	// Booked by ten people at once, so the group commit takes them
	// together: one after the other, each waited for a commit of its own,
	// 1.5 s before the test began. Which bookings exist is the same either
	// way.
	var confirmed []uint64
	var mu sync.Mutex
	var booked sync.WaitGroup
	for w := range 10 {
		booked.Go(func() {
			for i := w; i < before; i += 10 {
				b, err := db.Book(ctx, booking(int64(1000+i), "karasai", "career", at(2+i%10, 9+i%8)), rules(1000, 0))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				confirmed = append(confirmed, b.ID)
				mu.Unlock()
			}
		})
	}
	booked.Wait()
	if t.Failed() {
		t.FailNow()
	}
	// Booking goes on while the backup is written.
	stop := make(chan struct{})
	var during atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := db.Book(ctx, booking(int64(5000+w*100000+i), "balkhash", "legal", at(3+i%10, 9+i%8)), rules(1000, 0)); err != nil {
					t.Error(err)
					return
				}
				during.Add(1)
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	var buf bytes.Buffer
	if _, err := db.WriteBackup(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if during.Load() == 0 {
		t.Fatal("no booking ran during the backup; the test proves nothing")
	}

	path := filepath.Join(t.TempDir(), "backup.db")
	if err := writeFile(path, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	copyDB, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("backup does not open: %v", err)
	}
	defer copyDB.Close()
	for _, id := range confirmed {
		if _, err := copyDB.Booking(ctx, id); err != nil {
			t.Fatalf("booking %d, confirmed before the backup, is missing: %v", id, err)
		}
	}
	checkIndexes(t, copyDB)
}

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o600) }
