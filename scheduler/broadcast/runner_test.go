package broadcast_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"jastar/bot/ops"
	"jastar/scheduler/broadcast"
	"jastar/storage"
	"jastar/storage/boltdb"
	"jastar/storage/storagetest"
)

// scriptedSender is a Sender with no Telegram: it claims, then says what
// the script says of the recipient (sent by default), and records who got
// a message. hold, when set, keeps every send waiting until it is closed.
type scriptedSender struct {
	mu       sync.Mutex
	outcome  map[int64]storage.DeliveryState
	received map[int64]int
	hold     chan struct{}
}

func (s *scriptedSender) Deliver(ctx, wire context.Context, bc storage.Broadcast, r storage.Recipient, claim func() error) storage.DeliveryState {
	if s.hold != nil {
		select {
		case <-s.hold:
		case <-ctx.Done():
			return storage.DeliveryPending // stopped while waiting for the rate
		}
	}
	if claim() != nil {
		return storage.DeliveryPending
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	state, ok := s.outcome[r.ChatID]
	if !ok {
		state = storage.DeliverySent
	}
	if state == storage.DeliverySent {
		s.received[r.ChatID]++
	}
	return state
}

// reports is a Reporter that records what the admin was told.
type reports struct {
	mu          sync.Mutex
	finished    chan storage.Broadcast
	unreachable []int64
}

func newReports() *reports { return &reports{finished: make(chan storage.Broadcast, 1)} }

func (r *reports) Progress(context.Context, storage.Broadcast) {}

func (r *reports) Halted(context.Context, storage.Broadcast) {}

func (r *reports) Finished(_ context.Context, bc storage.Broadcast) { r.finished <- bc }

func (r *reports) Unreachable(_ context.Context, chatID int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unreachable = append(r.unreachable, chatID)
}

func (r *reports) blocked() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.unreachable
}

func newSender(outcome map[int64]storage.DeliveryState) *scriptedSender {
	return &scriptedSender{outcome: outcome, received: map[int64]int{}}
}

func (s *scriptedSender) got(chat int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received[chat]
}

// subscribe stores n Kazakh-speaking subscribers of events. They are
// stored by sixteen writers at once, as people subscribing would be, so
// the database commits them in groups: one by one, each write waited for a
// commit (and its fsyncs) of its own, 2.7 s for 450 people.
func subscribe(t *testing.T, db *boltdb.DB, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	var chats []int64
	for i := range int64(n) {
		chats = append(chats, 1000+i)
	}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < n; i += 16 {
				id, now := chats[i], time.Now()
				if err := db.SaveUser(ctx, storage.User{ChatID: id, Lang: storage.Kazakh, LangSet: true, Active: true, CreatedAt: now, UpdatedAt: now}); err != nil {
					t.Error(err)
					return
				}
				if err := db.SaveSubscription(ctx, storage.Subscription{ChatID: id, Topics: []storage.Topic{storage.TopicEvents}, Lang: storage.Kazakh, Active: true, UpdatedAt: now}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return chats
}

func newBroadcast(t *testing.T, db *boltdb.DB) storage.Broadcast {
	t.Helper()
	bc, err := db.CreateBroadcast(context.Background(), storage.Broadcast{
		AdminChatID: 1, Versions: map[storage.Lang]storage.Version{storage.Kazakh: {Text: "Сәлем"}},
		Audience: storage.Audience{Topic: storage.TopicEvents}, CreatedAt: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return bc
}

func newRunner(db *boltdb.DB, s broadcast.Sender, r broadcast.Reporter) *broadcast.Runner {
	return broadcast.New(db, s, r, broadcast.Options{ProgressEvery: 10 * time.Millisecond, Retry: 10 * time.Millisecond},
		slog.New(slog.DiscardHandler), ops.NewMetrics(), time.Now)
}

// TestRunner_DeliversToEveryRecipientOnce: a broadcast to more recipients
// than a page reaches each once, settles a blocked one as blocked and has
// the bot unsubscribe them, and reports counts that add up to the total.
func TestRunner_DeliversToEveryRecipientOnce(t *testing.T) {
	t.Parallel()
	db := storagetest.Open(t)
	chats := subscribe(t, db, 450)
	blocked := chats[7]
	s := newSender(map[int64]storage.DeliveryState{blocked: storage.DeliveryBlocked})
	rep := newReports()
	run := newRunner(db, s, rep)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run.Start(ctx, context.Background())
	bc := newBroadcast(t, db)
	run.Run(bc.ID)

	var done storage.Broadcast
	select {
	case done = <-rep.finished:
	case <-time.After(30 * time.Second):
		t.Fatal("the broadcast never finished")
	}
	if done.Status != storage.BroadcastDone || done.Total != 450 || done.Counts.Sent != 449 || done.Counts.Blocked != 1 || done.Counts.Done() != done.Total {
		t.Errorf("finished broadcast %+v; want 449 sent, 1 blocked, of 450", done)
	}
	for _, c := range chats {
		if want := 1; c == blocked {
			if s.got(c) != 0 {
				t.Errorf("blocked chat %d received %d", c, s.got(c))
			}
		} else if s.got(c) != want {
			t.Errorf("chat %d received %d messages, want 1", c, s.got(c))
		}
	}
	if got := rep.blocked(); len(got) != 1 || got[0] != blocked {
		t.Errorf("unreachable = %v, want [%d]", got, blocked)
	}
	cancel()
	run.Stop(context.Background(), func() {})
}

// TestRunner_HaltAndResumeSendsNobodyTwice: halting a runner while its
// sends wait for the rate claims no one more; a new runner for the same
// broadcast (a resume, or the next start) finishes it, and nobody gets the
// message twice.
func TestRunner_HaltAndResumeSendsNobodyTwice(t *testing.T) {
	t.Parallel()
	db := storagetest.Open(t)
	chats := subscribe(t, db, 60)
	s := newSender(nil)
	s.hold = make(chan struct{})
	rep := newReports()
	run := newRunner(db, s, rep)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run.Start(ctx, context.Background())
	bc := newBroadcast(t, db)
	run.Run(bc.ID)
	// Let the runner reach the held sends, then stop it while they wait.
	waitStatus(t, db, bc.ID, storage.BroadcastRunning)
	<-run.Halt(bc.ID)
	if n := s.got(chats[0]); n != 0 {
		t.Fatalf("a held send went out before the release: %d", n)
	}
	close(s.hold)
	run.Run(bc.ID)
	select {
	case done := <-rep.finished:
		if done.Counts.Sent != 60 || done.Counts.Done() != done.Total {
			t.Errorf("finished broadcast %+v; want all 60 sent", done)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the resumed broadcast never finished")
	}
	for _, c := range chats {
		if s.got(c) != 1 {
			t.Errorf("chat %d received %d messages, want 1", c, s.got(c))
		}
	}
}

// heldProgress is a Reporter whose first progress report stays on the wire
// until the test releases it, and which records whether its context was
// cancelled meanwhile and whether the final report came after it.
type heldProgress struct {
	*reports
	entered, release chan struct{}
	once             sync.Once
	mu               sync.Mutex
	cut, returned    bool
}

func (r *heldProgress) Progress(ctx context.Context, _ storage.Broadcast) {
	first := false
	r.once.Do(func() { first = true })
	if !first {
		return
	}
	close(r.entered)
	select {
	case <-r.release:
	case <-ctx.Done():
		r.mu.Lock()
		r.cut = true
		r.mu.Unlock()
	}
	r.mu.Lock()
	r.returned = true
	r.mu.Unlock()
}

func (r *heldProgress) Finished(ctx context.Context, bc storage.Broadcast) {
	r.mu.Lock()
	if !r.returned {
		r.cut = true // the final report overtook an edit still on the wire
	}
	r.mu.Unlock()
	r.reports.Finished(ctx, bc)
}

// TestRunner_FinalReportWaitsForTheProgressOnTheWire: when a job ends while
// a progress edit is on the wire, that edit is let finish rather than cut,
// and the final report comes after it. A cut call only closes our side:
// Telegram may still apply the stale edit after the final one, and the
// admin's progress message would say "sending" forever.
func TestRunner_FinalReportWaitsForTheProgressOnTheWire(t *testing.T) {
	t.Parallel()
	db := storagetest.Open(t)
	subscribe(t, db, 3)
	s := newSender(nil)
	s.hold = make(chan struct{})
	rep := &heldProgress{reports: newReports(), entered: make(chan struct{}), release: make(chan struct{})}
	run := newRunner(db, s, rep)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run.Start(ctx, context.Background())
	bc := newBroadcast(t, db)
	run.Run(bc.ID)
	<-rep.entered
	close(s.hold) // the job can end now, with the edit still on the wire
	// Wait until the job is settled in the database: the runner then
	// stops its progress loop, which used to cut the edit.
	waitStatus(t, db, bc.ID, storage.BroadcastDone)
	close(rep.release)
	select {
	case <-rep.finished:
	case <-time.After(30 * time.Second):
		t.Fatal("no final report")
	}
	rep.mu.Lock()
	defer rep.mu.Unlock()
	if rep.cut {
		t.Error("the progress edit on the wire was cut, or overtaken by the final report")
	}
	cancel()
	run.Stop(context.Background(), func() {})
}

// waitStatus waits until the broadcast id has the status want in the
// database.
func waitStatus(t *testing.T, db *boltdb.DB, id uint64, want storage.BroadcastStatus) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		cur, err := db.Broadcast(context.Background(), id)
		if err == nil && cur.Status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("broadcast %d never reached status %v", id, want)
		}
	}
}
