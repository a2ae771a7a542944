package storage

import (
	"testing"
	"time"
)

func TestReminderPolicy_ForBooking(t *testing.T) {
	almaty := time.FixedZone("Asia/Almaty", 5*3600)
	at := func(d, h, m int) time.Time { return time.Date(2026, 12, d, h, m, 0, 0, almaty) }
	p := DefaultReminderPolicy(almaty)
	tests := []struct {
		name  string
		start time.Time
		now   time.Time
		want  []time.Time
	}{
		{"both ahead", at(3, 11, 0), at(1, 10, 0), []time.Time{at(2, 18, 0), at(3, 10, 0)}},
		{"booked after 18:00 the day before", at(3, 11, 0), at(2, 20, 0), []time.Time{at(3, 10, 0)}},
		{"first of the month", time.Date(2027, 1, 4, 9, 0, 0, 0, almaty), at(1, 10, 0), []time.Time{time.Date(2027, 1, 3, 18, 0, 0, 0, almaty), time.Date(2027, 1, 4, 8, 0, 0, 0, almaty)}},
		{"within the hour", at(3, 11, 0), at(3, 10, 30), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.ForBooking(Booking{ID: 1, ChatID: 2, Start: tt.start}, tt.now)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d reminders %+v, want %v", len(got), got, tt.want)
			}
			for i := range got {
				if !got[i].Due.Equal(tt.want[i]) || got[i].BookingID != 1 || got[i].ChatID != 2 {
					t.Errorf("reminder %d = %+v, want due %v", i, got[i], tt.want[i])
				}
			}
		})
	}
}
