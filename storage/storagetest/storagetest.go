// Package storagetest opens real stores for tests: a bbolt file in the test's
// temporary directory, closed at cleanup.
package storagetest

import (
	"path/filepath"
	"testing"

	"jastar/storage/boltdb"
)

// Open opens a fresh database in t.TempDir() and closes it at cleanup.
func Open(t testing.TB) *boltdb.DB {
	t.Helper()
	return OpenAt(t, filepath.Join(t.TempDir(), "jastar.db"))
}

// OpenAt opens the database at path (to reopen one a test wrote) and closes
// it at cleanup. It skips the fsync of each commit (BulkLoad): what a test
// checks is what the file holds for the processes that read it, which
// fsync does not change (a reopened file, a copy taken mid-send, a raw scan
// after /forget); only a power cut would tell, and fsync made the bot's
// tests wait on the disk for most of their time.
func OpenAt(t testing.TB, path string) *boltdb.DB {
	t.Helper()
	db, err := boltdb.Open(path, boltdb.Options{BulkLoad: true})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}
