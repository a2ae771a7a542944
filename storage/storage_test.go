package storage_test

import (
	"errors"
	"fmt"
	"testing"

	"jastar/storage"
)

// TestErrors_BookingRefusalsAreConflicts: the distinct booking refusals
// stay conflicts, so a caller that only cares that the store said no still
// sees it, and each is told apart from the others.
func TestErrors_BookingRefusalsAreConflicts(t *testing.T) {
	refusals := []error{storage.ErrSlotClosed, storage.ErrAlreadyBooked, storage.ErrBookingStarted, storage.ErrBookingNotStarted, storage.ErrBookingSettled}
	for i, err := range refusals {
		wrapped := fmt.Errorf("booking 7: %w", err)
		if !errors.Is(wrapped, storage.ErrConflict) {
			t.Errorf("%v is not a conflict", err)
		}
		for j, other := range refusals {
			if i != j && errors.Is(wrapped, other) {
				t.Errorf("%v is also %v", err, other)
			}
		}
	}
	// A slot staff closed is a closed slot to a caller that knows only
	// ErrSlotClosed, and tells itself apart from the other refusals.
	closed := fmt.Errorf("book: %w", storage.ErrClosedByCenter)
	if !errors.Is(closed, storage.ErrSlotClosed) || !errors.Is(closed, storage.ErrConflict) || errors.Is(storage.ErrSlotClosed, storage.ErrClosedByCenter) {
		t.Errorf("ErrClosedByCenter is not a distinct kind of ErrSlotClosed")
	}
	for _, err := range []error{storage.ErrInPast, storage.ErrHasBookings} {
		if !errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrSlotClosed) {
			t.Errorf("%v is not a plain conflict", err)
		}
	}
}
