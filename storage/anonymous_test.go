package storage_test

import (
	"strings"
	"testing"

	"jastar/storage"
)

func TestAnonymousCode(t *testing.T) {
	// Pinned: a person keeps the code of their booking across releases, so
	// these must never change.
	tests := []struct {
		letter string
		id     uint64
		want   string
	}{
		{"П", 1, "П-2863"},
		{"П", 2, "П-6244"},
		{"п", 3, "П-7849"},
		{"Психолог кеңесі", 4821, "П-0071"},
		{"ә", 10000, "Ә-8846"},
		{"К", 10001, "К-2863"}, // every AnonymousCodes bookings the codes come round again
		{"", 42, "8224"},
		{"7", 42, "8224"},
		{"П", 18446744073709551615, "П-8293"},
	}
	for _, tt := range tests {
		if got := storage.AnonymousCode(tt.letter, tt.id); got != tt.want {
			t.Errorf("AnonymousCode(%q, %d) = %q, want %q", tt.letter, tt.id, got, tt.want)
		}
	}
}

// Any AnonymousCodes bookings in a row get different codes, whatever the
// first id, and the codes of neighbouring bookings say nothing about each
// other: they do not count up.
func TestAnonymousCode_distinctAndUnordered(t *testing.T) {
	for _, start := range []uint64{0, 1, 5000, 123456789} {
		seen := make(map[string]uint64, storage.AnonymousCodes)
		for id := start; id < start+storage.AnonymousCodes; id++ {
			code := storage.AnonymousCode("П", id)
			if !strings.HasPrefix(code, "П-") || len(code) != len("П-0000") {
				t.Fatalf("AnonymousCode(%d) = %q, want П- and four digits", id, code)
			}
			if first, dup := seen[code]; dup {
				t.Fatalf("bookings %d and %d share the code %s", first, id, code)
			}
			seen[code] = id
		}
	}
	rising := 0
	for id := uint64(1); id <= 100; id++ {
		if storage.AnonymousCode("", id+1) > storage.AnonymousCode("", id) {
			rising++
		}
	}
	if rising < 30 || rising > 70 {
		t.Errorf("the next booking's code is higher %d times in 100: codes follow the ids", rising)
	}
}
