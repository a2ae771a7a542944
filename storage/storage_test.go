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
}
