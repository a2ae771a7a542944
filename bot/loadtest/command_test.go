package loadtest

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"jastar/storage"
	"jastar/storage/boltdb"
	"jastar/storage/catalog"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// boltCommand opens the database as main does for the load tool.
func boltCommand() Command {
	return Command{Open: func(path string, how Access) (Store, error) {
		db, err := boltdb.Open(path, boltdb.Options{ReadOnly: how == ReadOnly, BulkLoad: how == BulkLoad})
		if err != nil {
			return nil, err
		}
		return db, nil
	}}
}

// TestCheckCapacity_SeesCancelledOverlaps seeds a slot of capacity 1 whose
// two bookings overlapped before both were cancelled: the state at the end
// (nothing active) hides it, the replay must not.
func TestCheckCapacity_SeesCancelledOverlaps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	loc, _ := time.LoadLocation(Zone)
	cat := catalog.Default(loc)
	center := cat.Centers[0]
	sch := center.Schedules[0]
	began := time.Now()
	start := began.Add(72 * time.Hour).Truncate(time.Hour)
	path := filepath.Join(t.TempDir(), "over.db")
	db, err := boltdb.Open(path, boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	book := func(chat int64, at time.Time, capacity int) storage.Booking {
		t.Helper()
		b, err := db.Book(ctx, storage.Booking{ChatID: chat, Name: "Test", Lang: storage.Kazakh, TypeID: sch.Type,
			CenterID: center.ID, Start: start, End: start.Add(time.Hour)}, storage.BookRules{Capacity: capacity, Now: at, NotBefore: at})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cancel := func(b storage.Booking, at time.Time) {
		t.Helper()
		if _, err := db.Cancel(ctx, b.ID, "by_person", at); err != nil {
			t.Fatal(err)
		}
	}
	// A seat taken and given back, then taken again at the very instant:
	// fine. Then a second seat taken while the first is held, as a broken
	// capacity rule would allow: over.
	// Steps are 10 s apart, well beyond releaseSlack.
	step := func(n int) time.Time { return began.Add(time.Duration(n) * 10 * time.Second) }
	a := book(1, step(1), sch.Capacity)
	cancel(a, step(2))
	b := book(2, step(2), sch.Capacity)
	c := book(3, step(3), sch.Capacity+1)
	cancel(b, step(4))
	cancel(c, step(5))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	cc, err := boltCommand().CheckCapacity(ctx, path, cat, began)
	if err != nil {
		t.Fatal(err)
	}
	if cc.Checked != 3 || cc.Made != 3 || cc.Slots != 1 || len(cc.Over) != 1 {
		t.Fatalf("check = %+v; want 3 bookings in 1 slot, that slot over capacity", cc)
	}
	if o := cc.Over[0]; o.Held != sch.Capacity+1 || !o.At.Equal(step(3)) {
		t.Errorf("over = %s; want %d held from the third booking's time", o, sch.Capacity+1)
	}
	if err := Verdict(Report{Notices: 3}, Report{}, cc); err == nil || !strings.Contains(err.Error(), "capacity") {
		t.Errorf("verdict = %v; want the run failed for capacity", err)
	}
}

func TestReplayCapacity(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	// Steps are 10 s apart, well beyond releaseSlack.
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * 10 * time.Second) }
	slot := t0.Add(48 * time.Hour)
	booked := func(center string, from int) storage.Booking {
		return storage.Booking{CenterID: center, TypeID: "psy", Start: slot, Status: storage.BookingBooked, CreatedAt: at(from), UpdatedAt: at(from)}
	}
	cancelled := func(center string, from, to int) storage.Booking {
		b := booked(center, from)
		b.Status, b.UpdatedAt = storage.BookingCancelled, at(to)
		return b
	}
	capacity := func(center, _ string) int {
		if center == "two" {
			return 2
		}
		if center == "one" {
			return 1
		}
		return 0
	}
	tests := []struct {
		name     string
		bookings []storage.Booking
		overHeld []int
	}{
		{"one after another", []storage.Booking{cancelled("one", 1, 2), cancelled("one", 3, 4), booked("one", 5)}, nil},
		{"given back and taken at one instant", []storage.Booking{cancelled("one", 1, 2), booked("one", 2)}, nil},
		// Stamped when each request began: a cancel stamped just after a
		// booking may have committed first.
		{"given back a moment after the next was stamped", []storage.Booking{cancelled("one", 1, 2), {CenterID: "one", TypeID: "psy", Start: slot,
			Status: storage.BookingBooked, CreatedAt: at(2).Add(-releaseSlack / 2), UpdatedAt: at(2)}}, nil},
		{"two at once, both cancelled", []storage.Booking{cancelled("one", 1, 5), cancelled("one", 2, 3)}, []int{2}},
		{"three at once in a slot of two", []storage.Booking{booked("two", 1), booked("two", 2), cancelled("two", 3, 4)}, []int{3}},
		{"two at once in a slot of two", []storage.Booking{booked("two", 1), booked("two", 2)}, nil},
		{"a slot the catalog lacks", []storage.Booking{cancelled("gone", 1, 2)}, []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc := replayCapacity(tt.bookings, capacity)
			var held []int
			for _, o := range cc.Over {
				held = append(held, o.Held)
			}
			if cc.Checked != len(tt.bookings) || !slices.Equal(held, tt.overHeld) {
				t.Errorf("replay = %+v; want %d checked, over holding %v", cc, len(tt.bookings), tt.overHeld)
			}
		})
	}
}

func TestCountErrors(t *testing.T) {
	t.Parallel()
	const metrics = `# HELP jastar_handler_errors_total Updates whose handling failed or panicked, by kind.
# TYPE jastar_handler_errors_total counter
jastar_handler_errors_total{kind="callback"} 2
jastar_handler_errors_total{kind="message"} 1
# HELP jastar_send_failures_total Calls to Telegram given up after retries or refused.
# TYPE jastar_send_failures_total counter
jastar_send_failures_total 4
# HELP jastar_messages_sent_total Messages Telegram accepted.
# TYPE jastar_messages_sent_total counter
jastar_messages_sent_total 900
`
	n, err := countErrors(strings.NewReader(metrics))
	if err != nil || n != 7 {
		t.Errorf("countErrors = %d, %v; want 7 (3 handler errors, 4 send failures)", n, err)
	}
	n, err = countErrors(strings.NewReader("# TYPE jastar_messages_sent_total counter\njastar_messages_sent_total 5\n"))
	if err != nil || n != 0 {
		t.Errorf("countErrors without error counters = %d, %v; want 0", n, err)
	}
	if err := Verdict(Report{Errors: n + 1}, Report{}, Capacity{}); err == nil || !strings.Contains(err.Error(), "1 errors") {
		t.Errorf("verdict with an error = %v; want the run failed", err)
	}
}

func TestChildEnv(t *testing.T) {
	t.Parallel()
	shell := map[string]string{
		"PATH": "/usr/bin", "HOME": "/home/x", "JASTAR_CATALOG": "/tmp/other.toml", "JASTAR_MAX_BOOKINGS": "1",
		"JASTAR_SEND_RATE": "30", "TELEGRAM_BOT_TOKEN": "real:token",
	}
	got := childEnv(env(shell), "TELEGRAM_BOT_TOKEN=1:fake", "JASTAR_CATALOG=")
	want := []string{"PATH=/usr/bin", "HOME=/home/x", "JASTAR_SEND_RATE=0", "JASTAR_CHAT_RATE=0", "JASTAR_GROUP_RATE=0", "TELEGRAM_BOT_TOKEN=1:fake"}
	if !slices.Equal(got, want) {
		t.Errorf("childEnv = %q; want %q (nothing of the shell's settings)", got, want)
	}
}

// TestSeed_StoresWhatItSays: -seed-users, -seed-bookings and
// -seed-subscribers fill the file through the store, as the bot writes it,
// with past bookings only, so the run starts at the size asked for.
func TestSeed_StoresWhatItSays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	loc, _ := time.LoadLocation(Zone)
	cat := catalog.Default(loc)
	now := time.Date(2027, 6, 15, 10, 0, 0, 0, loc)
	path := filepath.Join(t.TempDir(), "seed.db")
	if err := boltCommand().seedDB(ctx, path, seedSizes{users: 100, bookings: 150, subscribers: 7}, cat, now); err != nil {
		t.Fatal(err)
	}
	db, err := boltdb.Open(path, boltdb.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	all, err := db.AllBookingsOn(ctx, now.AddDate(-3, 0, 0), now.AddDate(1, 0, 0))
	if err != nil || len(all) != 150 {
		t.Fatalf("%d bookings (%v), want 150", len(all), err)
	}
	for _, b := range all {
		if !b.Start.Before(now) {
			t.Errorf("booking %d at %v, want history before %v", b.ID, b.Start, now)
		}
	}
	subs, err := db.CountSubscribers(ctx)
	if err != nil || subs.Total != 7 {
		t.Errorf("subscribers %+v (%v), want 7", subs, err)
	}
	for _, chat := range []int64{50_000_000, 50_000_099} {
		if _, err := db.User(ctx, chat); err != nil {
			t.Errorf("seeded person %d: %v", chat, err)
		}
	}
}
