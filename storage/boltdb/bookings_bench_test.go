package boltdb

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

// Bench data: benchCenters × benchTypes slot series of capacity 2, 8 slots a
// day, every slot full; booking i belongs to person i/5. Every day of every
// series therefore looks the same whatever the size of the database, so the
// benchmarks compare the same lookup at 1,000 and 1,000,000 bookings.
const (
	benchCenters = 10
	benchTypes   = 6
	benchSeats   = 2
	benchPerSlot = benchCenters * benchTypes * benchSeats
)

var benchBase = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func benchBooking(i int) storage.Booking {
	s := i / benchPerSlot
	center, typ := i%benchCenters, (i/benchCenters)%benchTypes
	start := benchBase.Add(time.Duration(s/8)*24*time.Hour + time.Duration(4+s%8)*time.Hour)
	return storage.Booking{
		ID: uint64(i + 1), ChatID: int64(1_000_000 + i/5), Name: "Bench", Lang: storage.Kazakh,
		CenterID: benchCenterID(center), TypeID: benchTypeID(typ), Start: start, End: start.Add(time.Hour),
		Status: storage.BookingBooked, CreatedAt: benchBase, UpdatedAt: benchBase,
	}
}

func benchCenterID(c int) string { return "center_" + string(rune('a'+c)) }
func benchTypeID(t int) string   { return "type_" + string(rune('a'+t)) }

// fillBench writes n bookings straight into the buckets, each bucket in key
// order and in large transactions, so a million take seconds, not minutes.
// The keys and values are exactly what Book writes.
func fillBench(b *testing.B, n int) *DB {
	b.Helper()
	db, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	slots := (n + benchPerSlot - 1) / benchPerSlot
	// index i of the booking of slot s, seat, center, type (see benchBooking).
	idx := func(s, seat, center, typ int) int {
		return s*benchPerSlot + seat*benchCenters*benchTypes + typ*benchCenters + center
	}
	type put struct {
		bucket []byte
		key    []byte
		val    []byte
	}
	var batch []put
	flush := func() {
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			for _, p := range batch {
				// bbolt's default fill: pages about half used, as in
				// the file the bot writes with bookings arriving in
				// any order, not packed as in-order loading would allow.
				if err := tx.Bucket(p.bucket).Put(p.key, p.val); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	add := func(bucket, key, val []byte) {
		batch = append(batch, put{bucket, key, val})
		if len(batch) == 200_000 {
			flush()
		}
	}
	for i := range n { // records and by-chat: both ascend with i
		bk := benchBooking(i)
		raw, err := jsonBooking(bk)
		if err != nil {
			b.Fatal(err)
		}
		add(bucketBookings, encodeUint(bk.ID), raw)
	}
	for i := range n {
		bk := benchBooking(i)
		add(bucketBookingsByChat, chatBookingKey(bk.ChatID, bk.Start, bk.ID), nil)
	}
	for c := range benchCenters { // by slot: center, type, start, id
		for t := range benchTypes {
			for s := range slots {
				for seat := range benchSeats {
					if i := idx(s, seat, c, t); i < n {
						bk := benchBooking(i)
						add(bucketBookingsBySlot, slotKey(bk.CenterID, bk.TypeID, bk.Start, bk.ID), nil)
					}
				}
			}
		}
	}
	for c := range benchCenters { // by center: center, start, id
		for s := range slots {
			for seat := range benchSeats {
				for t := range benchTypes {
					if i := idx(s, seat, c, t); i < n {
						bk := benchBooking(i)
						add(bucketBookingsByCenterDay, centerDayKey(bk.CenterID, bk.Start, bk.ID), nil)
					}
				}
			}
		}
	}
	flush()
	return db
}

// BenchmarkBookings measures the two hot lookups at 1,000 and 1,000,000
// stored bookings: the free-slot count of one center, type and day, and one
// person's upcoming bookings. Index seeks keep them within 2x of each other:
//
//	go test -run '^$' -bench Bookings -benchtime 2000x ./storage/boltdb/
func BenchmarkBookings(b *testing.B) {
	ctx := context.Background()
	for _, size := range []struct {
		name string
		n    int
	}{{"1k", 1_000}, {"1M", 1_000_000}} {
		db := fillBench(b, size.n)
		// A day in the middle of the data, and a person in the middle.
		mid := benchBooking(size.n / 2)
		y, m, d := mid.Start.Date()
		day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		b.Run("SlotCounts/"+size.name, func(b *testing.B) {
			for b.Loop() {
				counts, err := db.SlotCounts(ctx, mid.CenterID, mid.TypeID, day, day.Add(24*time.Hour))
				if err != nil || len(counts) == 0 {
					b.Fatalf("SlotCounts = %v, %v", counts, err)
				}
			}
		})
		b.Run("BookingsOf/"+size.name, func(b *testing.B) {
			for b.Loop() {
				got, err := db.BookingsOf(ctx, mid.ChatID, benchBase)
				if err != nil || len(got) == 0 {
					b.Fatalf("BookingsOf = %d, %v", len(got), err)
				}
			}
		})
	}
}
