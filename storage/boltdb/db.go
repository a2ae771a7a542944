// Package boltdb implements the storage interfaces on one bbolt file.
//
// It imports storage and bbolt only. No production package but main imports
// it; everything else talks to the storage interfaces.
package boltdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"jastar/storage"
)

// ErrLocked means another process holds the database file.
var ErrLocked = errors.New("database file is in use by another process")

// DB is the bbolt-backed store. It is safe for concurrent use.
type DB struct {
	bolt    *handle // *bolt.DB behind a lock so Compact can swap the file (compact.go)
	path    string
	compact compactThrottle
	onPanic func(component string)             // Options.OnPanic
	users   recordCache[int64, storage.User]   // people read lately (recordcache.go)
	events  recordCache[uint64, storage.Event] // events read lately
}

// recovered is deferred at the top of every goroutine the database starts
// (the compaction timer's): a panic there must not kill the bot. It logs
// the panic with its component and stack, tells Options.OnPanic, and
// reports through *panicked (when not nil) so the caller can leave its
// work to be retried.
func (db *DB) recovered(component string, panicked *bool) {
	p := recover()
	if p == nil {
		return
	}
	if panicked != nil {
		*panicked = true
	}
	db.compact.log.Error("panic recovered", "component", component, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	if db.onPanic != nil {
		db.onPanic(component)
	}
}

// Options tune Open.
type Options struct {
	// LockTimeout bounds the wait for the file lock, so a second instance
	// fails at once instead of hanging. Default one second.
	LockTimeout time.Duration
	// ReadOnly opens the file for reading only (backups, exports).
	ReadOnly bool
	// BulkLoad skips the fsync of every commit, for filling a database
	// with test data (the load tool's seeding); call Sync before Close.
	// A crash loses what was loaded: never use it for the running bot.
	BulkLoad bool
	// Log receives what no caller waits for: a failed background
	// compaction, a panic recovered in it. Nil means slog.Default().
	Log *slog.Logger
	// OnPanic, when set, is told the component of every panic recovered in
	// the database's own background work (the compaction timer), after it
	// is logged with its stack; main counts it in jastar_panics_total. A
	// callback, because this package imports nothing of the bot's.
	OnPanic func(component string)
}

// Open opens (creating with mode 0600) the database at path, creates every
// bucket and runs pending migrations in one write transaction.
//
// A file whose last run died owing a compaction (a /forget, then a crash
// before the rewrite) is compacted here, before Open returns: the erased
// person's bytes are still in its free pages. Nothing else uses the file
// yet, and it costs about a second per 100 MB, once. If it fails (a full
// disk) the bot still starts, and the throttle retries it in the
// background.
func Open(path string, opts Options) (*DB, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	boltOpts := &bolt.Options{
		Timeout:  opts.LockTimeout,
		ReadOnly: opts.ReadOnly,
		// The freelist is written with every commit. Skipping that makes
		// commits a little cheaper but rebuilds it at open by reading every
		// page: with a 200 MB database that is 200 MB resident before the
		// first update (the load tool measured it).
		FreelistType: bolt.FreelistMapType,
		NoSync:       opts.BulkLoad,
	}
	bdb, err := bolt.Open(path, 0o600, boltOpts)
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db := &DB{bolt: &handle{db: bdb, opts: boltOpts}, path: path}
	db.bolt.writeEnded = func(tx *bolt.Tx) {
		db.users.ended(tx)
		db.events.ended(tx)
	}
	db.compact.log = opts.Log
	if db.compact.log == nil {
		db.compact.log = slog.Default()
	}
	db.onPanic = opts.OnPanic
	if opts.ReadOnly {
		if err := db.bolt.View(func(tx *bolt.Tx) error { return checkVersion(tx) }); err != nil {
			bdb.Close()
			return nil, err
		}
		return db, nil
	}
	var owed bool
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		if err := prepare(tx); err != nil {
			return err
		}
		owed = compactOwed(tx)
		return nil
	})
	if err != nil {
		bdb.Close()
		return nil, fmt.Errorf("prepare %s: %w", path, err)
	}
	if owed {
		db.compactAtOpen()
	}
	return db, nil
}

// Sync flushes the file to disk; needed after a BulkLoad.
func (db *DB) Sync() error {
	db.bolt.mu.RLock()
	defer db.bolt.mu.RUnlock()
	return db.bolt.db.Sync()
}

// Close closes the file.
func (db *DB) Close() error {
	// A compaction a /forget is waiting for runs now: the person was told
	// their data is gone, and the file must not keep it past this process.
	if db.compact.stop() {
		if err := db.Compact(); err != nil {
			db.bolt.Close()
			return err
		}
	}
	return db.bolt.Close()
}

// Path is the file the database lives in.
func (db *DB) Path() string { return db.path }

// Ping reads the meta bucket, proving the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return errors.New("meta bucket missing")
		}
		return nil
	})
}

// Size returns the size of the database file in bytes.
func (db *DB) Size() (int64, error) {
	fi, err := os.Stat(db.path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func prepare(tx *bolt.Tx) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return migrate(tx)
}

// SchemaVersion returns the schema version stored in the file.
func (db *DB) SchemaVersion() (int, error) {
	var v int
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v = int(decodeUint(tx.Bucket(bucketMeta).Get(keySchemaVersion)))
		return nil
	})
	return v, err
}

func checkVersion(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return errors.New("not a jastar database: meta bucket missing")
	}
	stored := int(decodeUint(meta.Get(keySchemaVersion)))
	if stored > schemaVersion {
		return fmt.Errorf("schema version %d, this program knows up to %d: %w", stored, schemaVersion, storage.ErrSchemaTooNew)
	}
	return nil
}
