// Package storage is the center of the bot: the domain types every other
// package speaks (users, conversations, updates, bookings...), the store
// interfaces they are kept behind, and the sentinel errors stores return.
//
// It imports no other package of ours and nothing of bbolt or Telegram:
// adapters depend on it, never the other way round.
package storage

import (
	"errors"
	"fmt"
)

// Sentinel errors returned (wrapped) by every store implementation; callers
// test them with errors.Is.
var (
	// ErrNotFound means the record asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the change contradicts what is stored (a double
	// booking, a stale version, a record that belongs to someone else).
	ErrConflict = errors.New("conflict")
	// ErrSlotClosed means the slot no longer takes bookings: it starts
	// inside the minimum notice, or has begun. It is a conflict.
	ErrSlotClosed = fmt.Errorf("slot closed: %w", ErrConflict)
	// ErrAlreadyBooked means the person already holds a booking at that
	// time (or the booking already is at it). It is a conflict.
	ErrAlreadyBooked = fmt.Errorf("already booked at this time: %w", ErrConflict)
	// ErrBookingStarted means the booking has begun: a cancel or a move is
	// too late. It is a conflict.
	ErrBookingStarted = fmt.Errorf("booking started: %w", ErrConflict)
	// ErrBookingNotStarted means a staff mark (attended, no-show) came
	// before the booking began. It is a conflict.
	ErrBookingNotStarted = fmt.Errorf("booking not started: %w", ErrConflict)
	// ErrBookingSettled means the booking is no longer active: cancelled,
	// or already marked as the change would mark it. It is a conflict.
	ErrBookingSettled = fmt.Errorf("booking settled: %w", ErrConflict)
	// ErrClosedByCenter means staff closed the time the slot runs in (a
	// closure in force covers it). It is an ErrSlotClosed, so a caller that
	// only tells "too late" from "full" still refuses it as closed.
	ErrClosedByCenter = fmt.Errorf("closed by the center: %w", ErrSlotClosed)
	// ErrInPast means a closure or extra session has begun or is over (or
	// the closure was reopened already): too late to reopen or remove. It
	// is a conflict.
	ErrInPast = fmt.Errorf("begun or over: %w", ErrConflict)
	// ErrHasBookings means people are booked into what was to be removed,
	// and the caller did not ask to cancel them. It is a conflict.
	ErrHasBookings = fmt.Errorf("has bookings: %w", ErrConflict)
	// ErrInvalid means a value breaks a rule of its type (a phone that is
	// no Kazakhstan number, a closure that ends before it starts).
	ErrInvalid = errors.New("invalid")
	// ErrFull means a capacity rule refused the change (slot or event full).
	ErrFull = errors.New("full")
	// ErrLimit means a per-person limit refused the change.
	ErrLimit = errors.New("limit reached")
	// ErrSchemaTooNew means the database was written by a newer version of
	// the bot; opening it would risk corrupting data we do not understand.
	ErrSchemaTooNew = errors.New("database schema is newer than this program")
)
