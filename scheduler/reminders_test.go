package scheduler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"jastar/bot/ops"
	"jastar/storage"
	"jastar/storage/storagetest"
)

// recorder is a Notifier that records what it was asked to send.
type recorder struct {
	mu   sync.Mutex
	sent []storage.Reminder
	fail map[int64]error
}

func (n *recorder) Remind(_ context.Context, r storage.Reminder) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.fail[r.ChatID]; err != nil {
		return err
	}
	n.sent = append(n.sent, r)
	return nil
}

func (n *recorder) chats() []int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []int64
	for _, r := range n.sent {
		out = append(out, r.ChatID)
	}
	return out
}

func reminder(chat int64, due, start time.Time) storage.Reminder {
	return storage.Reminder{Kind: storage.ReminderBookingHourBefore, BookingID: uint64(chat), ChatID: chat, Due: due, Start: start}
}

func TestSweep_DueOnlyOnceInOrder(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t)
	loc := almaty(t)
	now := time.Date(2026, 12, 2, 18, 0, 0, 0, loc)
	err := db.AddReminders(ctx, []storage.Reminder{
		reminder(3, now.Add(time.Minute), now.Add(2*time.Hour)), // not yet
		reminder(2, now, now.Add(time.Hour)),                    // due now
		reminder(1, now.Add(-time.Minute), now.Add(time.Hour)),  // due a minute ago
	})
	if err != nil {
		t.Fatal(err)
	}
	n := &recorder{}
	s := NewReminders(db, n, slog.New(slog.DiscardHandler))
	if err := s.Sweep(ctx, now.Add(-2*time.Minute)); err != nil || len(n.chats()) != 0 {
		t.Fatalf("sweep before anything is due sent %v, %v", n.chats(), err)
	}
	if err := s.Sweep(ctx, now); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(n.chats()); got != "[1 2]" {
		t.Errorf("sent to %s, want [1 2] (earliest first)", got)
	}
	if err := s.Sweep(ctx, now); err != nil || len(n.chats()) != 2 {
		t.Errorf("second sweep in the same minute sent again: %v, %v", n.chats(), err)
	}
	if err := s.Sweep(ctx, now.Add(time.Minute)); err != nil || fmt.Sprint(n.chats()) != "[1 2 3]" {
		t.Errorf("next minute: sent %v, %v", n.chats(), err)
	}
}

func TestSweep_AfterDowntime(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t)
	loc := almaty(t)
	down := time.Date(2026, 12, 2, 17, 0, 0, 0, loc)
	back := down.Add(3 * time.Hour) // 20:00
	err := db.AddReminders(ctx, []storage.Reminder{
		// day-before of tomorrow 11:00, due 18:00 while down: still ahead.
		{Kind: storage.ReminderBookingDayBefore, BookingID: 1, ChatID: 1, Due: down.Add(time.Hour), Start: down.Add(18 * time.Hour)},
		// hour-before of 19:00 today, due 18:00 while down: passed.
		{Kind: storage.ReminderBookingHourBefore, BookingID: 2, ChatID: 2, Due: down.Add(time.Hour), Start: down.Add(2 * time.Hour)},
	})
	if err != nil {
		t.Fatal(err)
	}
	n := &recorder{}
	res, err := NewReminders(db, n, slog.New(slog.DiscardHandler)).sweep(ctx, back)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(n.chats()) != "[1]" || res.Dropped != 1 || res.Sent != 1 {
		t.Errorf("after downtime sent to %v (%+v), want chat 1 sent and chat 2 dropped", n.chats(), res)
	}
}

func TestSweep_BothDueTogetherSendsTheLater(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t)
	loc := almaty(t)
	start := time.Date(2026, 12, 3, 11, 0, 0, 0, loc)
	err := db.AddReminders(ctx, []storage.Reminder{
		{Kind: storage.ReminderBookingDayBefore, BookingID: 9, ChatID: 5, Due: start.Add(-17 * time.Hour), Start: start},
		{Kind: storage.ReminderBookingHourBefore, BookingID: 9, ChatID: 5, Due: start.Add(-time.Hour), Start: start},
		{Kind: storage.ReminderBookingHourBefore, BookingID: 10, ChatID: 6, Due: start.Add(-time.Hour), Start: start},
	})
	if err != nil {
		t.Fatal(err)
	}
	n := &recorder{}
	res, err := NewReminders(db, n, slog.New(slog.DiscardHandler)).sweep(ctx, start.Add(-30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 2 || res.Dropped != 1 || len(n.sent) != 2 || n.sent[0].Kind != storage.ReminderBookingHourBefore {
		t.Errorf("sweep = %+v, sent %+v; want one hour-before per booking", res, n.sent)
	}
}

// TestSweep_CrashMidSweepLeavesOnlyTheSendInFlight: five reminders are due
// and the process dies (kill -9) while the second is on the wire. The
// database as it is at that moment (a consistent copy taken while the send
// hangs) holds the first as sent, the second as in flight and the other
// three still due. The restarted process reports the second as uncertain
// (a log line with its ids, the metric), sends it never again, sends the
// other three, and keeps the second for the staff digest.
func TestSweep_CrashMidSweepLeavesOnlyTheSendInFlight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	now := time.Date(2026, 12, 2, 18, 0, 0, 0, almaty(t))
	var rs []storage.Reminder
	for i := range 5 {
		rs = append(rs, reminder(int64(i+1), now, now.Add(time.Hour)))
	}
	if err := db.AddReminders(ctx, rs); err != nil {
		t.Fatal(err)
	}
	n := &holdingNotifier{hold: 2, entered: make(chan storage.Reminder), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- NewReminders(db, n, slog.New(slog.DiscardHandler)).Sweep(ctx, now) }()
	onWire := <-n.entered

	// The file as a kill -9 would leave it now.
	crashed := filepath.Join(t.TempDir(), "crashed.db")
	f, err := os.Create(crashed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.WriteBackup(ctx, f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	close(n.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	restarted := storagetest.OpenAt(t, crashed)
	if got := backCount(t, restarted, 3, 4, 5); got != 3 {
		t.Errorf("%d of the 3 reminders not yet reached are stored, want all: only the one on the wire may be claimed", got)
	}
	var logs bytes.Buffer
	m := ops.NewMetrics()
	s := NewReminders(restarted, &recorder{}, slog.New(slog.NewJSONHandler(&logs, nil))).WithMetrics(m)
	if err := s.RecoverInFlight(ctx); err != nil {
		t.Fatal(err)
	}
	if got := testCounter(t, m, "jastar_reminders_uncertain_total"); got != 1 {
		t.Errorf("jastar_reminders_uncertain_total = %v, want 1", got)
	}
	if !strings.Contains(logs.String(), fmt.Sprintf(`"reminder_id":%d`, onWire.ID)) || !strings.Contains(logs.String(), `"booking_id":2`) {
		t.Errorf("the uncertain reminder is not logged by its ids:\n%s", logs.String())
	}
	if err := s.Sweep(ctx, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(s.notifier.(*recorder).chats()); got != "[3 4 5]" {
		t.Errorf("after the restart sent to %s, want [3 4 5]: the sent one and the one in flight never again", got)
	}
	uncertain, err := restarted.UncertainReminders(ctx)
	if err != nil || len(uncertain) != 1 || uncertain[0].ID != onWire.ID {
		t.Errorf("uncertain reminders = %+v, %v; want the one that was on the wire", uncertain, err)
	}
	// A second start finds nothing left in flight.
	if err := s.RecoverInFlight(ctx); err != nil || testCounter(t, m, "jastar_reminders_uncertain_total") != 1 {
		t.Errorf("a second recovery counted again (%v)", err)
	}
}

// holdingNotifier records every send and holds the hold-th one (1-based)
// until released, reporting it on entered: a send on the wire.
type holdingNotifier struct {
	recorder
	hold    int
	calls   int
	entered chan storage.Reminder
	release chan struct{}
}

func (n *holdingNotifier) Remind(ctx context.Context, r storage.Reminder) error {
	n.mu.Lock()
	n.calls++
	held := n.calls == n.hold
	n.mu.Unlock()
	if held {
		n.entered <- r
		<-n.release
	}
	return n.recorder.Remind(ctx, r)
}

// panickingNotifier panics on the reminders of chat, and records the rest.
type panickingNotifier struct {
	recorder
	chat int64
}

func (n *panickingNotifier) Remind(ctx context.Context, r storage.Reminder) error {
	if r.ChatID == n.chat {
		panic("formatter bug")
	}
	return n.recorder.Remind(ctx, r)
}

// TestSweep_PanicInASendIsUncertainAndTheRestGoes: a send that panics (a
// formatter bug) does not kill the process or stop the sweep; it is
// counted in jastar_panics_total and as uncertain, never sent again, and
// kept for the staff digest.
func TestSweep_PanicInASendIsUncertainAndTheRestGoes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	now := time.Date(2026, 12, 2, 18, 0, 0, 0, almaty(t))
	if err := db.AddReminders(ctx, []storage.Reminder{reminder(1, now, now.Add(time.Hour)), reminder(2, now, now.Add(time.Hour)), reminder(3, now, now.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	m := ops.NewMetrics()
	n := &panickingNotifier{chat: 2}
	s := NewReminders(db, n, slog.New(slog.DiscardHandler)).WithMetrics(m)
	res, err := s.sweep(ctx, now)
	if err != nil || res.Sent != 2 || res.Uncertain != 1 || fmt.Sprint(n.chats()) != "[1 3]" {
		t.Fatalf("sweep = %+v, %v, sent %v; want 1 and 3 sent, 2 uncertain", res, err, n.chats())
	}
	if got := testCounter(t, m, "jastar_panics_total"); got != 1 {
		t.Errorf("jastar_panics_total = %v, want 1", got)
	}
	if got := testCounter(t, m, "jastar_reminders_uncertain_total"); got != 1 {
		t.Errorf("jastar_reminders_uncertain_total = %v, want 1", got)
	}
	n.chat = 0
	if res, err := s.sweep(ctx, now.Add(time.Minute)); err != nil || res != (SweepResult{}) {
		t.Errorf("next sweep = %+v, %v; want nothing (never twice)", res, err)
	}
	if u, err := db.UncertainReminders(ctx); err != nil || len(u) != 1 || u[0].ChatID != 2 {
		t.Errorf("uncertain = %+v, %v; want chat 2's", u, err)
	}
}

// testCounter sums the samples of the counter family name.
func testCounter(t *testing.T, m *ops.Metrics, name string) float64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var v float64
	for _, f := range fams {
		if f.GetName() == name {
			for _, mm := range f.GetMetric() {
				v += mm.GetCounter().GetValue()
			}
		}
	}
	return v
}

func TestSweep_OneFailureDoesNotStopTheRest(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t)
	now := time.Date(2026, 12, 2, 18, 0, 0, 0, almaty(t))
	if err := db.AddReminders(ctx, []storage.Reminder{reminder(1, now, now.Add(time.Hour)), reminder(2, now, now.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	n := &recorder{fail: map[int64]error{1: errors.New("blocked")}}
	res, err := NewReminders(db, n, slog.New(slog.DiscardHandler)).sweep(ctx, now)
	if err != nil || res.Failed != 1 || fmt.Sprint(n.chats()) != "[2]" {
		t.Errorf("sweep = %+v, %v, sent %v", res, err, n.chats())
	}
	// A failed reminder is not retried: it was claimed.
	res, _ = NewReminders(db, &recorder{}, slog.New(slog.DiscardHandler)).sweep(ctx, now)
	if res != (SweepResult{}) {
		t.Errorf("second sweep = %+v, want nothing", res)
	}
}

// BenchmarkSweep shows that a pass costs the due reminders only: the same
// five due reminders among 1,000 or 100,000 future ones take the same time.
func BenchmarkSweep(b *testing.B) {
	for _, stored := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("stored=%d", stored), func(b *testing.B) {
			ctx := context.Background()
			db := storagetest.Open(b)
			now := time.Date(2026, 12, 2, 18, 0, 0, 0, time.UTC)
			future := make([]storage.Reminder, 0, stored)
			for i := range stored {
				due := now.Add(time.Duration(i+1) * time.Minute)
				future = append(future, reminder(int64(i+10), due, due.Add(time.Hour)))
			}
			if err := db.AddReminders(ctx, future); err != nil {
				b.Fatal(err)
			}
			s := NewReminders(db, &recorder{}, slog.New(slog.DiscardHandler))
			due := make([]storage.Reminder, 5)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				for j := range due {
					due[j] = reminder(int64(j+1), now.Add(-time.Duration(j)*time.Minute), now.Add(time.Hour))
				}
				if err := db.AddReminders(ctx, due); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				res, err := s.sweep(ctx, now)
				if err != nil || res.Sent != len(due) {
					b.Fatalf("sweep = %+v, %v", res, err)
				}
			}
		})
	}
}

// blockingNotifier holds the first send until released, then fails it the
// way the sender fails a send abandoned before reaching Telegram; it
// records every later send.
type blockingNotifier struct {
	recorder
	entered, release chan struct{}
	once             sync.Once
}

func (n *blockingNotifier) Remind(ctx context.Context, r storage.Reminder) error {
	first := false
	n.once.Do(func() { first = true })
	if first {
		close(n.entered)
		<-n.release
		return fmt.Errorf("telegram sendMessage: %w: %w", storage.ErrNotSent, context.Canceled)
	}
	return n.recorder.Remind(ctx, r)
}

// TestSweep_ShutdownWhileASendHangs: the shutdown comes while a send hangs
// (it can, up to the HTTP client's timeout). Nothing but that send was
// claimed, so the reminders not yet tried are in the database all along;
// the sweep claims none of them after the stop; the hanging one, abandoned
// before it reached Telegram, goes back; the next process sends each once.
func TestSweep_ShutdownWhileASendHangs(t *testing.T) {
	t.Parallel()
	db := storagetest.OpenAt(t, filepath.Join(t.TempDir(), "jastar.db"))
	now := time.Date(2026, 12, 2, 18, 0, 0, 0, almaty(t))
	var rs []storage.Reminder
	for i := range 4 {
		rs = append(rs, reminder(int64(i+1), now, now.Add(time.Hour)))
	}
	if err := db.AddReminders(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
	n := &blockingNotifier{entered: make(chan struct{}), release: make(chan struct{})}
	ctx, shutdown := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewReminders(db, n, slog.New(slog.DiscardHandler)).Sweep(ctx, now) }()
	<-n.entered
	shutdown()
	if got := backCount(t, db, 2, 3, 4); got != 3 {
		t.Errorf("while the first send hangs %d of the 3 others are stored, want all", got)
	}
	close(n.release)
	if err := <-done; err != nil {
		t.Fatalf("a sweep stopped at shutdown returned %v", err)
	}
	if len(n.chats()) != 0 {
		t.Errorf("the sweep sent %v after the stop, want nothing", n.chats())
	}
	if got := backCount(t, db, 1); got != 1 {
		t.Errorf("the abandoned send's reminder: %d stored, want it put back", got)
	}
	next := &recorder{}
	s := NewReminders(db, next, slog.New(slog.DiscardHandler))
	if err := s.RecoverInFlight(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Sweep(context.Background(), now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(next.chats()); got != "[1 2 3 4]" {
		t.Errorf("after the restart sent to %s, want [1 2 3 4], each once", got)
	}
	if u, _ := db.UncertainReminders(context.Background()); len(u) != 0 {
		t.Errorf("uncertain = %+v, want none: nothing was on the wire", u)
	}
}

// backCount is how many of the bookings' reminders are stored.
func backCount(t *testing.T, db storage.ReminderStore, bookings ...uint64) int {
	t.Helper()
	n := 0
	for _, id := range bookings {
		rs, err := db.RemindersOf(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		n += len(rs)
	}
	return n
}

// TestSweep_DatabaseFails: the database fails under the sweep. A failed
// read or claim ends the sweep with an error (the job logs it) and holds
// nothing: the reminder is still due and nothing is in flight. A read that
// fails in the Notifier before its send puts the reminder back for the
// next sweep. Each sweep tries each reminder once: no spin. When the
// database works again every reminder goes, once.
func TestSweep_DatabaseFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := storagetest.NewFailing(t)
	now := time.Date(2026, 12, 2, 18, 0, 0, 0, almaty(t))
	if err := f.AddReminders(ctx, []storage.Reminder{reminder(1, now, now.Add(time.Hour)), reminder(2, now, now.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	n := &recorder{}
	s := NewReminders(f, n, slog.New(slog.DiscardHandler))

	f.FailFrom("DueReminders", 1, nil)
	for range 3 {
		if err := s.Sweep(ctx, now); !errors.Is(err, storagetest.ErrInjected) {
			t.Errorf("sweep with the index unreadable = %v, want the failure", err)
		}
	}
	if got := f.Calls("DueReminders"); got != 3 {
		t.Errorf("three sweeps read the index %d times, want 3", got)
	}
	f.Heal()

	f.FailOn("ClaimReminder", f.Calls("ClaimReminder")+1, nil)
	if err := s.Sweep(ctx, now); !errors.Is(err, storagetest.ErrInjected) {
		t.Errorf("sweep with a failed claim = %v, want the failure", err)
	}
	if len(n.chats()) != 0 || backCount(t, f, 1, 2) != 2 {
		t.Errorf("after a failed claim sent %v with %d stored, want nothing sent and both still due", n.chats(), backCount(t, f, 1, 2))
	}
	if rs, _ := f.SettleInFlightReminders(ctx); len(rs) != 0 {
		t.Errorf("a failed claim left %+v in flight", rs)
	}

	// The Notifier's own read fails before the send: not sent, kept.
	n.fail = map[int64]error{1: fmt.Errorf("load user 1: %w: %w", storage.ErrNotSent, storagetest.ErrInjected)}
	res, err := s.sweep(ctx, now)
	if err != nil || res.PutBack != 1 || res.Sent != 1 || fmt.Sprint(n.chats()) != "[2]" {
		t.Errorf("sweep with a failing read = %+v, %v, sent %v; want 1 put back and 2 sent", res, err, n.chats())
	}
	n.fail = nil
	if err := s.Sweep(ctx, now.Add(time.Minute)); err != nil || fmt.Sprint(n.chats()) != "[2 1]" {
		t.Errorf("once the database works: sent %v, %v; want 1 too, each once", n.chats(), err)
	}
}
