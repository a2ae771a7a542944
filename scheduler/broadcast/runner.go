// Package broadcast is the durable job runner that delivers broadcasts: the
// recipients fixed at confirm are sent to page by page, each claimed in a
// committed transaction just before its send goes on the wire and settled
// after, so a restart resumes from the unclaimed ones and nobody gets a
// message twice. It knows no Telegram: a Sender delivers one recipient's
// message and says what became of it, a Reporter tells the admin.
//
// It imports storage and bot/ops (metrics, panic recovery); never bot.
package broadcast

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"jastar/bot/ops"
	"jastar/storage"
)

const (
	// page is how many recipients a runner reads at once; memory per
	// broadcast is one page, whatever the audience.
	page = 200
	// fill is how many recipients one transaction fixes.
	fill = 1000
	// Senders bounds the sends per broadcast that wait for the rate or are
	// in flight. Each send costs a Bot API round trip and two committed
	// transactions (claim, outcome); 8 reached only ~13/s on a loaded
	// 2-core machine, 16 keeps the rate with cycles of up to 600 ms. Only
	// the sends past the limits hold a claim: at 25 a second with a 50 ms
	// round trip and the commits, about 2.
	Senders = 16
	// DefaultProgressEvery is how often the admin's progress is reported.
	DefaultProgressEvery = 5 * time.Second
	// DefaultRetry is the first wait of a runner after a database error or
	// a panic; the waits double up to maxRetry.
	DefaultRetry = time.Second
	maxRetry     = time.Minute
	// MaxPanics is how many panics a runner survives on one job before it
	// pauses the job for an admin: a panic that comes back at every try is
	// in the code or the data, and trying forever would only repeat it
	// (before runners recovered, it crash-looped the bot, since the job
	// resumed at every start).
	MaxPanics = 3
	// abortGrace is how long shutdown waits for runners to record the
	// sends it cut: a write to the database each, no network.
	abortGrace = time.Second
)

// Store is the runner's protocol with the database.
type Store interface {
	UnfinishedBroadcasts(ctx context.Context) ([]storage.Broadcast, error)
	Broadcast(ctx context.Context, id uint64) (storage.Broadcast, error)
	AddRecipients(ctx context.Context, id uint64, max int) (added int, done bool, err error)
	SettleStaleClaims(ctx context.Context, id uint64) (int, error)
	PendingRecipients(ctx context.Context, id uint64, after int64, hasAfter bool, limit int) ([]storage.Recipient, error)
	ClaimDelivery(ctx context.Context, id uint64, chatID int64) (bool, error)
	SettleDelivery(ctx context.Context, id uint64, chatID int64, state storage.DeliveryState) error
	AdvanceCursor(ctx context.Context, id uint64, after int64) error
	SetBroadcastStatus(ctx context.Context, id uint64, status storage.BroadcastStatus, now time.Time) (storage.Broadcast, error)
}

// Sender delivers one recipient's message of bc. It calls claim once,
// just before the message goes on the wire, and sends nothing if claim
// fails. ctx ends its wait for the rate; wire ends a call on the wire. It
// says what became of the recipient: pending (given back unclaimed, or
// claim failed), sent, blocked, failed, or uncertain (it may have arrived).
type Sender interface {
	Deliver(ctx, wire context.Context, bc storage.Broadcast, r storage.Recipient, claim func() error) storage.DeliveryState
}

// Reporter tells the admin who composed a broadcast how it goes, and
// unsubscribes a recipient the bot can no longer reach.
type Reporter interface {
	// Progress shows bc's counts in the admin's progress message.
	Progress(ctx context.Context, bc storage.Broadcast)
	// Finished shows the final counts and sends the report.
	Finished(ctx context.Context, bc storage.Broadcast)
	// Halted tells the admin bc was paused after repeated panics.
	Halted(ctx context.Context, bc storage.Broadcast)
	// Unreachable unsubscribes a recipient who blocked the bot or whose
	// chat is gone.
	Unreachable(ctx context.Context, chatID int64)
}

// Note is what an admin is told about a runner in trouble: retrying after
// a database error or a panic since a time, or halted after repeated
// panics. It lives in memory: the database may be what fails.
type Note struct {
	Internal bool // a panic rather than a database error
	Halted   bool
	Since    time.Time
}

// Options are the runner's timings; zero values take the defaults.
type Options struct {
	ProgressEvery time.Duration
	Retry         time.Duration // the first wait after a failure
}

// Runner runs one goroutine per running broadcast.
type Runner struct {
	store    Store
	send     Sender
	report   Reporter
	log      *slog.Logger
	metrics  *ops.Metrics
	now      func() time.Time
	every    time.Duration
	retryMin time.Duration

	mu   sync.Mutex
	base context.Context // Start's context; nil before Start
	// wire is the context of the sends on the wire: it outlives base (a
	// pause or shutdown stops claiming, but lets what is in flight finish)
	// and ends only at the drain deadline.
	wire  context.Context
	jobs  map[uint64]*job
	notes map[uint64]Note // runners in trouble, shown in /broadcasts
	wg    sync.WaitGroup
}

type job struct {
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// New builds a runner. metrics may not be nil.
func New(store Store, send Sender, report Reporter, opts Options, log *slog.Logger, metrics *ops.Metrics, now func() time.Time) *Runner {
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = DefaultProgressEvery
	}
	if opts.Retry <= 0 {
		opts.Retry = DefaultRetry
	}
	return &Runner{
		store: store, send: send, report: report, log: log.With("component", "broadcast"), metrics: metrics, now: now,
		every: opts.ProgressEvery, retryMin: min(opts.Retry, maxRetry),
		jobs: make(map[uint64]*job), notes: make(map[uint64]Note),
	}
}

// Start is called when the bot starts: later runs go under ctx, sends on
// the wire under wire, and broadcasts that were preparing or running when
// the last process stopped resume where they stopped.
func (c *Runner) Start(ctx, wire context.Context) {
	c.mu.Lock()
	c.base, c.wire = ctx, wire
	c.mu.Unlock()
	list, err := c.store.UnfinishedBroadcasts(ctx)
	if err != nil {
		c.log.Error("list unfinished broadcasts", "err", err)
		return
	}
	for _, bc := range list {
		c.log.Info("resuming broadcast", "broadcast_id", bc.ID, "status", string(bc.Status))
		c.Run(bc.ID)
	}
}

// Stop waits, until ctx ends, for the runners to stop; the end of Start's
// context has already told them to claim no one more. At the deadline it
// cuts the sends still on the wire (abort ends the wire context: they
// count as maybe sent) and waits a moment more for the runners to record
// that, so no runner writes after the database is closed.
func (c *Runner) Stop(ctx context.Context, abort context.CancelFunc) {
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	c.log.Warn("broadcasts still sending at the shutdown deadline, cutting their sends")
	abort()
	select {
	case <-done:
	case <-time.After(abortGrace):
		c.log.Warn("broadcast runners still running after their sends were cut")
	}
}

// Run starts the runner of broadcast id unless one is running. A runner
// that is stopping (after a pause) is waited for first, so two runners
// never deliver the same broadcast.
func (c *Runner) Run(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.base == nil || c.base.Err() != nil {
		return // Start will resume it
	}
	old := c.jobs[id]
	if old != nil && old.ctx.Err() == nil {
		return
	}
	delete(c.notes, id) // a resumed job starts with a clean slate
	ctx, cancel := context.WithCancel(c.base)
	j := &job{ctx: ctx, cancel: cancel, done: make(chan struct{})}
	c.jobs[id] = j
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer close(j.done)
		defer cancel()
		defer func() {
			c.mu.Lock()
			if c.jobs[id] == j {
				delete(c.jobs, id)
			}
			c.mu.Unlock()
		}()
		// The passes recover their own panics; this is for the rest.
		defer ops.Recovered(c.log, c.metrics, "broadcast", nil)
		if old != nil {
			select {
			case <-old.done:
			case <-ctx.Done():
				return
			}
		}
		c.run(ctx, id)
	}()
}

// Halt tells the runner of id to stop and returns a channel closed when it
// has (already closed when none runs).
func (c *Runner) Halt(id uint64) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if j, ok := c.jobs[id]; ok {
		j.cancel()
		return j.done
	}
	done := make(chan struct{})
	close(done)
	return done
}

// Note says whether the runner of id is in trouble, and how.
func (c *Runner) Note(id uint64) (Note, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.notes[id]
	return n, ok
}

// noteRetry records that the runner of id is retrying; since is kept from
// the first failure of a streak.
func (c *Runner) noteRetry(id uint64, internal bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.notes[id]
	if !ok || n.Halted {
		n = Note{Since: c.now()}
	}
	n.Internal = n.Internal || internal
	c.notes[id] = n
}

func (c *Runner) noteHalted(id uint64) {
	c.mu.Lock()
	c.notes[id] = Note{Internal: true, Halted: true, Since: c.now()}
	c.mu.Unlock()
}

func (c *Runner) clearNote(id uint64) {
	c.mu.Lock()
	delete(c.notes, id)
	c.mu.Unlock()
}

// backoff is capped exponential backoff with jitter: each wait is drawn
// from [d/2, d), and d doubles from min up to max.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur <= 0 {
		b.cur = b.min
	}
	d := b.cur/2 + rand.N(b.cur/2+1)
	b.cur = min(2*b.cur, b.max)
	return d
}

func (b *backoff) reset() { b.cur = 0 }

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// errPanic marks a pass of a runner that ended in a panic, recovered and
// logged where it happened.
var errPanic = errors.New("broadcast runner panicked")

// errNotClaimed stops a send whose recipient could not be claimed: the
// broadcast is no longer running, or the recipient is no longer pending.
var errNotClaimed = errors.New("recipient not claimed")

// ErrNotClaimed reports whether err is the claim's refusal: the broadcast
// stopped running or the recipient is no longer pending. A Sender gives
// such a recipient back as pending.
func ErrNotClaimed(err error) bool { return errors.Is(err, errNotClaimed) }

// run delivers broadcast id in passes until nobody is pending, the
// broadcast is paused or cancelled, or ctx ends. A pass that fails on the
// database or panics is tried again after a capped backoff with jitter
// (never at once, so a full disk costs a log line per wait, not a spinning
// core), counted in jastar_broadcast_retries_total and shown in
// /broadcasts; a failed read does not end the runner and leave the
// broadcast "running" with nobody sending. After MaxPanics panics the job
// is paused for an admin.
func (c *Runner) run(ctx context.Context, id uint64) {
	log := c.log.With("broadcast_id", id)
	progressCtx, stopProgress := context.WithCancel(ctx)
	var progress sync.WaitGroup
	progress.Go(func() {
		defer ops.Recovered(c.log, c.metrics, "broadcast", nil)
		c.reportProgress(progressCtx, ctx, id)
	})
	defer func() {
		stopProgress()
		progress.Wait()
	}()

	wait := backoff{min: c.retryMin, max: maxRetry}
	panics := 0
	for {
		finished, progressed, err := c.pass(ctx, id, log)
		if ctx.Err() != nil {
			c.clearNote(id) // paused, cancelled or shutting down: not retrying any more
			return
		}
		if err == nil {
			c.clearNote(id)
			if finished {
				stopProgress()
				progress.Wait()
				c.finish(context.WithoutCancel(ctx), id, log)
				log.Info("broadcast finished")
			}
			return
		}
		cause := "database"
		if errors.Is(err, errPanic) {
			cause = "panic"
			if panics++; panics >= MaxPanics {
				c.halt(ctx, id, log)
				return
			}
		}
		if progressed {
			wait.reset()
			c.clearNote(id)
		}
		d := wait.next()
		c.metrics.BroadcastRetries.WithLabelValues(cause).Inc()
		c.noteRetry(id, cause == "panic")
		log.Error("broadcast interrupted, retrying", "cause", cause, "retry_in", d.String(), "err", err)
		if sleep(ctx, d) != nil {
			c.clearNote(id)
			return
		}
	}
}

// pass writes out the recipients fixed at confirm if that is unfinished
// (after a restart it resumes with the same list), settles the claims a
// crash left, then delivers page by page. The cursor advances only over
// pages in which every recipient has an outcome. It reports whether the
// broadcast is finished and whether any recipient got an outcome; an error
// is the database failing or a panic.
func (c *Runner) pass(ctx context.Context, id uint64, log *slog.Logger) (finished, progressed bool, err error) {
	var panicked bool
	defer func() {
		if panicked {
			finished, err = false, errPanic
		}
	}()
	defer ops.Recovered(log, c.metrics, "broadcast", &panicked)

	for {
		_, done, err := c.store.AddRecipients(ctx, id, fill)
		if err != nil {
			return false, false, fmt.Errorf("write broadcast recipients: %w", err)
		}
		if done {
			break
		}
	}
	// Nothing of this broadcast is in flight now (a pass ends only when its
	// sends have), so a claim left after the cursor is from a crash or an
	// outcome that could not be recorded: its message may have gone out.
	// Never resend.
	n, err := c.store.SettleStaleClaims(ctx, id)
	if err != nil {
		return false, false, fmt.Errorf("settle stale broadcast claims: %w", err)
	}
	if n > 0 {
		log.Warn("deliveries uncertain after a restart", "count", n)
		c.metrics.Broadcast.WithLabelValues("uncertain").Add(float64(n))
	}

	for ctx.Err() == nil {
		bc, err := c.store.Broadcast(ctx, id)
		if err != nil {
			return false, progressed, fmt.Errorf("load broadcast: %w", err)
		}
		if bc.Status != storage.BroadcastRunning {
			return false, progressed, nil
		}
		recipients, err := c.store.PendingRecipients(ctx, id, bc.Cursor, bc.HasCursor, page)
		if err != nil {
			return false, progressed, fmt.Errorf("read pending recipients: %w", err)
		}
		if len(recipients) == 0 {
			if _, err := c.store.SetBroadcastStatus(ctx, id, storage.BroadcastDone, c.now()); err != nil {
				if errors.Is(err, storage.ErrConflict) {
					return false, progressed, nil // paused or cancelled meanwhile
				}
				return false, progressed, fmt.Errorf("finish broadcast: %w", err)
			}
			return true, progressed, nil
		}
		complete, settled, err := c.deliverPage(ctx, bc, recipients)
		progressed = progressed || settled > 0
		if err != nil {
			return false, progressed, err
		}
		if !complete {
			// Paused, cancelled or stopping (the loop decides), or a 429
			// gave recipients back: the limits are paused for its
			// retry_after, so the next page read waits there.
			continue
		}
		if err := c.store.AdvanceCursor(ctx, id, recipients[len(recipients)-1].ChatID); err != nil {
			return false, progressed, fmt.Errorf("advance broadcast cursor: %w", err)
		}
	}
	return false, progressed, nil
}

// deliverPage sends to one page of recipients with a small fixed pool. It
// reports whether every one of them got an outcome and how many did. The
// first database error or panic stops the page: the senders still waiting
// for the rate give their recipients back unclaimed.
func (c *Runner) deliverPage(ctx context.Context, bc storage.Broadcast, recipients []storage.Recipient) (complete bool, settled int, err error) {
	pageCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	fail := func(e error) {
		mu.Lock()
		if err == nil {
			err = e
		}
		mu.Unlock()
		cancel()
	}
	work := make(chan storage.Recipient)
	var wg sync.WaitGroup
	for range min(Senders, len(recipients)) {
		wg.Go(func() {
			var panicked bool
			defer func() {
				if panicked {
					fail(errPanic)
				}
			}()
			defer ops.Recovered(c.log, c.metrics, "broadcast", &panicked)
			for r := range work {
				ok, e := c.deliver(pageCtx, ctx, bc, r)
				if e != nil {
					fail(e)
				}
				if ok {
					mu.Lock()
					settled++
					mu.Unlock()
				}
			}
		})
	}
feed:
	for _, r := range recipients {
		select {
		case work <- r:
		case <-pageCtx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	return err == nil && ctx.Err() == nil && settled == len(recipients), settled, err
}

// deliver sends to one recipient, claiming it once the send has passed the
// rate limits, and records the outcome. It reports whether the recipient
// now has an outcome; an error is the database failing. The send stops
// with ctx; the outcome of a send that went out is recorded until runCtx
// ends.
func (c *Runner) deliver(ctx, runCtx context.Context, bc storage.Broadcast, r storage.Recipient) (bool, error) {
	claimed := false
	var claimErr error
	claim := func() error {
		ok, err := c.store.ClaimDelivery(ctx, bc.ID, r.ChatID)
		switch {
		case err != nil && ctx.Err() != nil:
			return ctx.Err() // stopping, not a database error
		case err != nil:
			claimErr = fmt.Errorf("claim broadcast delivery %d: %w", r.ChatID, err)
			return claimErr
		case !ok:
			return errNotClaimed
		}
		claimed = true
		return nil
	}
	c.mu.Lock()
	wire := c.wire
	c.mu.Unlock()
	state := c.send.Deliver(ctx, wire, bc, r, claim)
	if !claimed {
		return false, claimErr
	}
	if err := c.recordOutcome(runCtx, bc.ID, r.ChatID, state); err != nil {
		return false, err
	}
	if outcome := deliveryOutcome(state); outcome != "" {
		c.metrics.Broadcast.WithLabelValues(outcome).Inc()
	}
	if state == storage.DeliveryBlocked {
		c.report.Unreachable(context.WithoutCancel(ctx), r.ChatID)
	}
	return state != storage.DeliveryPending, nil
}

// recordOutcome records the outcome of a claimed recipient, trying again
// while the database fails: an outcome not recorded leaves the recipient
// claimed. It is tried once even when ctx has ended (the send happened);
// it gives up when ctx ends, and the claim then becomes uncertain at the
// next pass or start, never resent.
func (c *Runner) recordOutcome(ctx context.Context, id uint64, chatID int64, state storage.DeliveryState) error {
	wait := backoff{min: c.retryMin, max: maxRetry}
	for {
		err := c.store.SettleDelivery(context.WithoutCancel(ctx), id, chatID, state)
		if err == nil {
			return nil
		}
		err = fmt.Errorf("record broadcast delivery %d: %w", chatID, err)
		if ctx.Err() != nil || errors.Is(err, storage.ErrConflict) {
			return err
		}
		d := wait.next()
		c.metrics.BroadcastRetries.WithLabelValues("database").Inc()
		c.log.Error("record broadcast delivery, retrying", "broadcast_id", id, "chat_id", chatID, "retry_in", d.String(), "err", err)
		if sleep(ctx, d) != nil {
			return err
		}
	}
}

// halt pauses broadcast id after its runner panicked MaxPanics times.
// Nothing is lost: recipients without an outcome stay pending, the admin
// is told, and /broadcasts offers resume (after a fix) and cancel.
func (c *Runner) halt(ctx context.Context, id uint64, log *slog.Logger) {
	c.noteHalted(id)
	log.Error("broadcast paused after repeated panics", "panics", MaxPanics)
	bc, err := c.store.SetBroadcastStatus(ctx, id, storage.BroadcastPaused, c.now())
	if err != nil {
		// Still preparing (only a running job pauses) or the database
		// fails: the note in /broadcasts says it stopped; it resumes at the
		// next start.
		log.Error("pause broadcast after panics", "err", err)
		return
	}
	c.report.Progress(ctx, bc)
	c.report.Halted(ctx, bc)
}

// finish reports a finished broadcast.
func (c *Runner) finish(ctx context.Context, id uint64, log *slog.Logger) {
	bc, err := c.store.Broadcast(ctx, id)
	if err != nil {
		log.Error("load broadcast for its report", "err", err)
		return
	}
	c.report.Finished(ctx, bc)
}

// reportProgress reports the progress every few seconds while something
// changed, until stop ends. An edit on the wire when stop ends is not cut:
// it runs under ctx, the job's, so the final report's edit, which waits
// for this loop, can never be overtaken by a stale edit that Telegram
// still applies after the cut.
func (c *Runner) reportProgress(stop, ctx context.Context, id uint64) {
	t := time.NewTicker(c.every)
	defer t.Stop()
	type shown struct {
		counts storage.DeliveryCounts
		status storage.BroadcastStatus
		total  int
		note   Note
	}
	var last shown
	for {
		select {
		case <-stop.Done():
			return
		case <-t.C:
		}
		bc, err := c.store.Broadcast(ctx, id)
		if err != nil {
			continue
		}
		note, _ := c.Note(id)
		if now := (shown{bc.Counts, bc.Status, bc.Total, note}); now != last {
			c.report.Progress(ctx, bc)
			last = now
		}
	}
}

// deliveryOutcome is the metric label of a settled delivery, "" for a
// recipient given back as pending.
func deliveryOutcome(state storage.DeliveryState) string {
	switch state {
	case storage.DeliverySent:
		return "sent"
	case storage.DeliveryBlocked:
		return "blocked"
	case storage.DeliveryFailed:
		return "failed"
	case storage.DeliveryUncertain:
		return "uncertain"
	}
	return ""
}
