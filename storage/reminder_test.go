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

func TestReminder_Stale(t *testing.T) {
	start := time.Date(2026, 12, 3, 11, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		r    Reminder
		now  time.Time
		want bool
	}{
		{"booking ahead", Reminder{Kind: ReminderBookingHourBefore, Start: start}, start.Add(-time.Minute), false},
		{"booking begun", Reminder{Kind: ReminderBookingHourBefore, Start: start}, start, true},
		{"event passed", Reminder{Kind: ReminderEventDayBefore, Start: start}, start.Add(time.Hour), true},
		{"feedback fresh", Reminder{Kind: ReminderFeedback, Start: start, Due: start.Add(2 * time.Hour)}, start.Add(3 * time.Hour), false},
		{"feedback too old", Reminder{Kind: ReminderFeedback, Start: start, Due: start.Add(2 * time.Hour)}, start.Add(2*time.Hour + FeedbackExpiry + time.Minute), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.Stale(tt.now); got != tt.want {
				t.Errorf("Stale = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFeedbackReminder(t *testing.T) {
	start := time.Date(2026, 12, 3, 11, 0, 0, 0, time.UTC)
	b := Booking{ID: 7, ChatID: 42, Start: start, End: start.Add(time.Hour)}
	if got := FeedbackReminder(b, start.Add(30*time.Minute)); !got.Due.Equal(b.End.Add(FeedbackAfter)) || got.Kind != ReminderFeedback || got.BookingID != 7 || got.ChatID != 42 {
		t.Errorf("marked during the slot: %+v", got)
	}
	late := start.Add(24 * time.Hour)
	if got := FeedbackReminder(b, late); !got.Due.Equal(late) {
		t.Errorf("marked the next day: due %v, want %v", got.Due, late)
	}
}

func TestReminderPolicy_ForEvent(t *testing.T) {
	almaty := time.FixedZone("Asia/Almaty", 5*3600)
	start := time.Date(2026, 12, 5, 15, 0, 0, 0, almaty)
	got := DefaultReminderPolicy(almaty).ForEvent(17, 42, start, time.Date(2026, 12, 1, 10, 0, 0, 0, almaty))
	if len(got) != 2 || got[0].Kind != ReminderEventDayBefore || got[1].Kind != ReminderEventHourBefore {
		t.Fatalf("got %+v", got)
	}
	for _, r := range got {
		if r.EventID != 17 || r.BookingID != 0 || r.ChatID != 42 || !r.Start.Equal(start) {
			t.Errorf("reminder %+v", r)
		}
	}
}
