package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"jastar/bot/loadtest"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/boltdb"
	"jastar/storage/catalog"
)

// inProcessBot runs the real program in this process, for a quick load
// smoke test (the load command runs it as a child process instead).
type inProcessBot struct {
	addr   string
	cancel context.CancelFunc
	done   chan error
}

func (b *inProcessBot) Stop() error            { b.cancel(); return <-b.done }
func (b *inProcessBot) PeakRSS() int64         { return 0 }
func (b *inProcessBot) DBSize() int64          { return 0 }
func (b *inProcessBot) Errors() (int64, error) { return opsErrors(b.addr) }

// rehearsedDates are the moments the whole-path tests also run at, besides
// today: the suite must pass on any date, so each of these stands for a
// kind of day that once broke, or could break, a test leaning on dated
// content. See also bot.TestFlows_OnAnyDate.
var rehearsedDates = []struct{ name, at string }{
	{"in 2026", "2026-12-10 10:00"},
	{"after every example event", "2027-06-15"},
	{"leap day", "2028-02-29 09:30"},
	{"on Nauryz", "2027-03-22 12:00"},
	{"New Year's Eve late", "2029-12-31 23:10"},
}

func TestLoad_SmokeEveryAnswerArrives(t *testing.T) {
	t.Run("today", func(t *testing.T) { loadSmoke(t, "") })
	for _, d := range rehearsedDates {
		t.Run(d.name, func(t *testing.T) { loadSmoke(t, d.at) })
	}
}

// loadSmoke runs the load scenario against the bot in this process, its
// clock at the -now value at ("" for the real clock), with the events the
// load tool brings.
func loadSmoke(t *testing.T, at string) {
	addr := freeAddr(t)
	texts, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "load.db")
	loc, err := time.LoadLocation(loadZone)
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.Default(loc)
	began := time.Now()
	args := []string{"run"}
	if at != "" {
		if began, err = parseRehearsal(at, loc); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-now", at)
	}
	if err := prepareLoadDB(context.Background(), dbPath, began, cat); err != nil {
		t.Fatal(err)
	}
	opts := loadtest.Options{
		Users: 30, Concurrency: 30, Iterations: 2, Timeout: 30 * time.Second, Scenario: loadtest.Realistic(texts),
		StaffChats: staffChats(cat), StaffNotice: loadtest.StaffNotice(texts),
		StartBot: func(ctx context.Context, apiURL, token string) (loadtest.Bot, error) {
			ctx, cancel := context.WithCancel(ctx)
			b := &inProcessBot{addr: addr, cancel: cancel, done: make(chan error, 1)}
			environ := map[string]string{
				"TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_URL": apiURL, "JASTAR_HTTP_ADDR": addr,
				"JASTAR_DB": dbPath, "JASTAR_SEND_RATE": "0", "JASTAR_CHAT_RATE": "0", "JASTAR_GROUP_RATE": "0",
				"JASTAR_TIMEZONE": loadZone, "JASTAR_STAFF_CHAT_ID": strconv.FormatInt(loadStaffChat, 10),
			}
			go func() { b.done <- run(ctx, args, env(environ), io.Discard, io.Discard) }()
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
					resp.Body.Close()
					if resp.StatusCode == 200 {
						return b, nil
					}
				}
			}
			b.Stop()
			t.Fatal("bot never ready")
			return nil, nil
		},
	}
	rep, err := loadtest.Run(context.Background(), "bot", opts)
	if err != nil {
		t.Fatal(err)
	}
	want := int64(30 * 2 * len(loadtest.Realistic(texts)))
	if rep.Missing != 0 || len(rep.FailedStep) != 0 || rep.Scenarios != 60 || rep.Bookings+rep.SlotTaken != 60 ||
		(rep.SlotTaken == 0 && rep.Updates != want) {
		t.Errorf("report = %s; want %d updates answered in 60 scenarios and nothing missing", rep, want)
	}
	if rep.Errors != 0 || rep.Unanswered != 0 {
		t.Errorf("report = %s; want no errors and every press answered", rep)
	}
	cc, err := checkCapacity(context.Background(), dbPath, cat, began)
	if err != nil {
		t.Fatal(err)
	}
	if len(cc.Over) != 0 || int64(cc.Made) != rep.Bookings || rep.Notices != rep.Bookings {
		t.Errorf("capacity check %+v, %d staff notices; want %d bookings made, each noticed, none over capacity", cc, rep.Notices, rep.Bookings)
	}
	if err := loadVerdict(rep, loadtest.Report{}, cc); err != nil {
		t.Errorf("verdict: %v", err)
	}
}

// TestCheckCapacity_SeesCancelledOverlaps seeds a slot of capacity 1 whose
// two bookings overlapped before both were cancelled: the state at the end
// (nothing active) hides it, the replay must not.
func TestCheckCapacity_SeesCancelledOverlaps(t *testing.T) {
	ctx := context.Background()
	loc, _ := time.LoadLocation(loadZone)
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

	cc, err := checkCapacity(ctx, path, cat, began)
	if err != nil {
		t.Fatal(err)
	}
	if cc.Checked != 3 || cc.Made != 3 || cc.Slots != 1 || len(cc.Over) != 1 {
		t.Fatalf("check = %+v; want 3 bookings in 1 slot, that slot over capacity", cc)
	}
	if o := cc.Over[0]; o.Held != sch.Capacity+1 || !o.At.Equal(step(3)) {
		t.Errorf("over = %s; want %d held from the third booking's time", o, sch.Capacity+1)
	}
	if err := loadVerdict(loadtest.Report{Notices: 3}, loadtest.Report{}, cc); err == nil || !strings.Contains(err.Error(), "capacity") {
		t.Errorf("verdict = %v; want the run failed for capacity", err)
	}
}

func TestReplayCapacity(t *testing.T) {
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
	if err := loadVerdict(loadtest.Report{Errors: n + 1}, loadtest.Report{}, capacityCheck{}); err == nil || !strings.Contains(err.Error(), "1 errors") {
		t.Errorf("verdict with an error = %v; want the run failed", err)
	}
}

func TestChildEnv(t *testing.T) {
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
