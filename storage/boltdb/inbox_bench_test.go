package boltdb

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

// BenchmarkHandledUpdate is the database's part of one update under load,
// as the bot does it: the poller accepts batches of 64 updates, 64 handlers
// at a time each save their person's dialogue, and one done log marks the
// handled ids in batches of whatever is waiting. It reports the commits
// per update, each with its two fsyncs: the figure to compare between
// versions of the inbox's transactions, and one that does not depend on how
// busy the machine is.
//
//	go test -run '^$' -bench HandledUpdate -benchtime 20000x ./storage/boltdb/
func BenchmarkHandledUpdate(b *testing.B) {
	db, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	raw := json.RawMessage(`{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"text":"hi"}}`)

	done := make(chan int, 4096)
	doneFinished := make(chan struct{})
	go func() { // the done log: whatever is waiting, in one call
		defer close(doneFinished)
		var batch []int
		for id := range done {
			batch = append(batch[:0], id)
			for more := true; more; {
				select {
				case next, ok := <-done:
					if !ok {
						more = false
						break
					}
					batch = append(batch, next)
				default:
					more = false
				}
			}
			if err := db.Done(ctx, batch, now); err != nil {
				b.Error(err)
			}
		}
	}()

	const batchSize, handlers = 64, 64
	commitsBefore := lastTxID(b, db)
	b.ResetTimer()
	for start := 0; start < b.N; start += batchSize {
		n := min(batchSize, b.N-start)
		ups := make([]storage.RawUpdate, n)
		for i := range ups {
			ups[i] = storage.RawUpdate{ID: start + i + 1, JSON: raw}
		}
		accepted, err := db.Accept(ctx, ups, start+n+1, now)
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, handlers)
		for _, u := range accepted {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				chat := int64(u.ID%1000 + 1)
				c := storage.Conversation{ChatID: chat, Flow: "book", Step: "day", State: []byte(`{"n":` + strconv.Itoa(u.ID) + `}`), UpdatedAt: now}
				if err := db.SaveConversation(ctx, c); err != nil {
					b.Error(err)
				}
				done <- u.ID
			}()
		}
		wg.Wait()
	}
	close(done)
	<-doneFinished
	b.StopTimer()
	b.ReportMetric(float64(lastTxID(b, db)-commitsBefore)/float64(b.N), "commits/update")
}

// lastTxID is the id of the last committed write transaction: every commit
// adds one.
func lastTxID(b *testing.B, db *DB) int {
	var id int
	if err := db.bolt.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		b.Fatal(err)
	}
	return id
}
