// Package storage is the center of the bot: the domain types every other
// package speaks (users, conversations, updates, bookings...), the store
// interfaces they are kept behind, and the sentinel errors stores return.
//
// It imports no other package of ours and nothing of bbolt or Telegram:
// adapters depend on it, never the other way round.
package storage

import "errors"

// Sentinel errors returned (wrapped) by every store implementation; callers
// test them with errors.Is.
var (
	// ErrNotFound means the record asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the change contradicts what is stored (a double
	// booking, a stale version, a record that belongs to someone else).
	ErrConflict = errors.New("conflict")
	// ErrFull means a capacity rule refused the change (slot or event full).
	ErrFull = errors.New("full")
	// ErrLimit means a per-person limit refused the change.
	ErrLimit = errors.New("limit reached")
	// ErrSchemaTooNew means the database was written by a newer version of
	// the bot; opening it would risk corrupting data we do not understand.
	ErrSchemaTooNew = errors.New("database schema is newer than this program")
)
