package storagetest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"jastar/storage"
	"jastar/storage/boltdb"
)

// SeedExportDB writes a database with three December 2026 bookings (two
// at Karasai, one of them with a name that starts like a formula, and one
// at Konaev) and one in January, and closes it: the export tests of the
// command line and of the admin socket read it.
func SeedExportDB(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jastar.db")
	db, err := boltdb.Open(path, boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	loc, err := time.LoadLocation("Asia/Almaty")
	if err != nil {
		t.Fatal(err)
	}
	made := time.Date(2026, 11, 1, 9, 0, 0, 0, loc)
	for i, s := range []struct {
		center string
		start  time.Time
		name   string
	}{
		{"karasai", time.Date(2026, 12, 2, 11, 0, 0, 0, loc), "Әлия"},
		{"karasai", time.Date(2026, 12, 31, 17, 0, 0, 0, loc), "+cmd"},
		{"konaev", time.Date(2026, 12, 3, 11, 0, 0, 0, loc), "Данияр"},
		{"karasai", time.Date(2027, 1, 1, 11, 0, 0, 0, loc), "Январь"},
	} {
		_, err := db.Book(context.Background(), storage.Booking{ChatID: int64(i + 1), Name: s.name, TypeID: "career", CenterID: s.center,
			Start: s.start, End: s.start.Add(time.Hour)}, storage.BookRules{Capacity: 5, Now: made, NotBefore: made})
		if err != nil {
			t.Fatal(err)
		}
	}
	return path
}
