package boltdb

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

// getRecord decodes the JSON record stored under key in bucket. name and
// args say in errors which record it is ("user %d"); a missing record wraps
// storage.ErrNotFound.
func getRecord[R any](tx *bolt.Tx, bucket, key []byte, name string, args ...any) (R, error) {
	var r R
	raw := tx.Bucket(bucket).Get(key)
	if raw == nil {
		return r, fmt.Errorf("%s: %w", fmt.Sprintf(name, args...), storage.ErrNotFound)
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, fmt.Errorf("decode %s: %w", fmt.Sprintf(name, args...), err)
	}
	return r, nil
}

// viewOne checks ctx, then returns what get reads in one read transaction:
// the whole of the store methods that look up a single value.
func viewOne[T any](ctx context.Context, db *DB, get func(*bolt.Tx) (T, error)) (T, error) {
	var v T
	if err := ctx.Err(); err != nil {
		return v, err
	}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		v, err = get(tx)
		return err
	})
	return v, err
}
