package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/ops"
	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
)

// Broadcasts: an admin composes an announcement in a dialogue, sees it as
// subscribers will, and confirms; the recipients are then fixed in the
// database and a runner delivers to them page by page through the shared
// sender at bulk priority, claiming each recipient only once its send has
// passed the rate limits, just before it goes on the wire.
const (
	// DefaultBroadcastRate is messages a second for broadcasts, under
	// Telegram's ~30 a second overall so replies to people keep flowing.
	DefaultBroadcastRate = 25
	// broadcastPage is how many recipients a runner reads at once; memory
	// per broadcast is one page, whatever the audience.
	broadcastPage = 200
	// broadcastFill is how many recipients one transaction fixes.
	broadcastFill = 1000
	// broadcastSenders bounds the sends per broadcast that wait for the rate
	// or are in flight. Each send costs a Bot API round trip and two
	// committed transactions (claim, outcome); 8 reached only ~13/s on a
	// loaded 2-core machine, 16 keeps the rate with cycles of up to 600 ms.
	// Only the sends past the limits hold a claim: at 25 a second with a
	// 50 ms round trip and the commits, about 2.
	broadcastSenders = 16
	// defaultProgressEvery is how often the admin's progress message is
	// edited.
	defaultProgressEvery = 5 * time.Second
	// defaultBroadcastRetry is the first wait of a runner after a database
	// error or a panic; the waits double up to maxBroadcastRetry.
	defaultBroadcastRetry = time.Second
	maxBroadcastRetry     = time.Minute
	// maxBroadcastPanics is how many panics a runner survives on one job
	// before it pauses the job for an admin: a panic that comes back at
	// every try is in the code or the data, and trying forever would only
	// repeat it (before runners recovered, it crash-looped the bot, since
	// the job resumed at every start).
	maxBroadcastPanics = 3
	// maxCaptionUTF16 is Telegram's caption limit for bots:
	// https://core.telegram.org/bots/api#sendphoto
	maxCaptionUTF16 = 1024
	// recentBroadcasts is how many jobs /broadcasts lists.
	recentBroadcasts = 10
)

// flowBroadcast is the composing dialogue. Its steps: "kk" and "ru" take a
// version each, "topic", "district" and "lang" the audience (buttons),
// "confirm" waits for send or cancel. The key "album" holds the
// media_group_id of the last album refused, so its other photos are ignored.
const flowBroadcast = "broadcast"

// Broadcast buttons:
//
//	brc:skip:<kk|ru>          leave out that version
//	brc:t:<topic|_>           audience topic ("_" = all subscribers)
//	brc:d:<district|_>        audience district ("_" = all)
//	brc:l:<kk|ru|_>           audience language ("_" = both)
//	brc:ok, brc:no             send or drop the composed broadcast
//	bcj:<p|r|c>:<id>         pause, resume or cancel a job (/broadcasts)
const anyArg = "_"

// broadcaster runs one goroutine per running broadcast and shares one
// pacer between them, on top of the sender's global limit.
type broadcaster struct {
	mu   sync.Mutex
	base context.Context // Run's context; nil before Run
	// wire is the context of the sends on the wire: it outlives base (a
	// pause or shutdown stops claiming, but lets what is in flight finish)
	// and ends only at the drain deadline.
	wire  context.Context
	jobs  map[uint64]*broadcastJob
	notes map[uint64]runnerNote // runners in trouble, shown in /broadcasts
	wg    sync.WaitGroup
	pace  *tg.Pacer
	every time.Duration
	retry time.Duration
}

type broadcastJob struct {
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// runnerNote is what an admin is told about a runner in trouble: retrying
// after a database error or a panic since a time, or halted after
// repeated panics. It lives in memory: the database may be what fails.
type runnerNote struct {
	internal bool // a panic rather than a database error
	halted   bool
	since    time.Time
}

// broadcastCap is the most broadcasts may send a second under a sender
// limit of sendRate: they leave a tenth of it (at least one message a
// second) to replies to people who are chatting.
func broadcastCap(sendRate float64) float64 {
	if sendRate <= 0 {
		return 0 // unlimited
	}
	reserve := max(1, sendRate/10)
	if sendRate > reserve {
		return sendRate - reserve
	}
	return sendRate / 2
}

func newBroadcaster(rate, sendRate float64, every, retry time.Duration) *broadcaster {
	if rate <= 0 {
		rate = DefaultBroadcastRate
	}
	if c := broadcastCap(sendRate); c > 0 {
		rate = min(rate, c)
	}
	if every <= 0 {
		every = defaultProgressEvery
	}
	if retry <= 0 {
		retry = defaultBroadcastRetry
	}
	return &broadcaster{
		jobs: make(map[uint64]*broadcastJob), notes: make(map[uint64]runnerNote),
		pace: tg.NewPacer(rate), every: every, retry: min(retry, maxBroadcastRetry),
	}
}

func (c *broadcaster) note(id uint64) (runnerNote, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.notes[id]
	return n, ok
}

// noteRetry records that the runner of id is retrying; since is kept from
// the first failure of a streak.
func (c *broadcaster) noteRetry(id uint64, internal bool, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.notes[id]
	if !ok || n.halted {
		n = runnerNote{since: now}
	}
	n.internal = n.internal || internal
	c.notes[id] = n
}

func (c *broadcaster) noteHalted(id uint64, now time.Time) {
	c.mu.Lock()
	c.notes[id] = runnerNote{internal: true, halted: true, since: now}
	c.mu.Unlock()
}

func (c *broadcaster) clearNote(id uint64) {
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

// startBroadcasts is called when Run starts: later starts run under ctx,
// and broadcasts that were preparing or running when the last process
// stopped resume where they stopped.
func (b *Bot) startBroadcasts(ctx, wire context.Context) {
	b.casts.mu.Lock()
	b.casts.base, b.casts.wire = ctx, wire
	b.casts.mu.Unlock()
	list, err := b.store.UnfinishedBroadcasts(ctx)
	if err != nil {
		b.log.Error("list unfinished broadcasts", "err", err)
		return
	}
	for _, bc := range list {
		b.log.Info("resuming broadcast", "broadcast_id", bc.ID, "status", string(bc.Status))
		b.startBroadcast(bc.ID)
	}
}

// stopBroadcasts waits, until ctx ends, for the runners to stop; Run's
// context ending has already told them to claim no one more. At the
// deadline it cuts the sends still on the wire (abort ends their context:
// they count as maybe sent) and waits a moment more for the runners to
// record that, so no runner writes after the database is closed.
func (b *Bot) stopBroadcasts(ctx context.Context, abort context.CancelFunc) {
	done := make(chan struct{})
	go func() { b.casts.wg.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	b.log.Warn("broadcasts still sending at the shutdown deadline, cutting their sends")
	abort()
	select {
	case <-done:
	case <-time.After(broadcastAbortGrace):
		b.log.Warn("broadcast runners still running after their sends were cut")
	}
}

// broadcastAbortGrace is how long shutdown waits for runners to record
// the sends it cut: a write to the database each, no network.
const broadcastAbortGrace = time.Second

// startBroadcast starts the runner of broadcast id unless one is running.
// A runner that is stopping (after a pause) is waited for first, so two
// runners never deliver the same broadcast.
func (b *Bot) startBroadcast(id uint64) {
	c := b.casts
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.base == nil || c.base.Err() != nil {
		return // Run will resume it
	}
	old := c.jobs[id]
	if old != nil && old.ctx.Err() == nil {
		return
	}
	delete(c.notes, id) // a resumed job starts with a clean slate
	ctx, cancel := context.WithCancel(c.base)
	j := &broadcastJob{ctx: ctx, cancel: cancel, done: make(chan struct{})}
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
		defer ops.Recovered(b.log, b.metrics, "broadcast", nil)
		if old != nil {
			select {
			case <-old.done:
			case <-ctx.Done():
				return
			}
		}
		b.runBroadcast(ctx, id)
	}()
}

// stopBroadcast tells the runner of id to stop and returns a channel closed
// when it has (already closed when none runs).
func (b *Bot) stopBroadcast(id uint64) <-chan struct{} {
	c := b.casts
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

// errRunnerPanic marks a pass of a runner that ended in a panic, recovered
// and logged where it happened.
var errRunnerPanic = errors.New("broadcast runner panicked")

// errNotClaimed stops a send whose recipient could not be claimed: the
// broadcast is no longer running, or the recipient is no longer pending.
var errNotClaimed = errors.New("recipient not claimed")

// runBroadcast delivers broadcast id in passes until nobody is pending, the
// broadcast is paused or cancelled, or ctx ends. A pass that fails on the
// database or panics is tried again after a capped backoff with jitter
// (never at once, so a full disk costs a log line per wait, not a spinning
// core), counted in jastar_broadcast_retries_total and shown in
// /broadcasts; a failed read no longer ends the runner and leaves the
// broadcast "running" with nobody sending. After maxBroadcastPanics panics
// the job is paused for an admin.
func (b *Bot) runBroadcast(ctx context.Context, id uint64) {
	log := b.log.With("broadcast_id", id)
	progressCtx, stopProgress := context.WithCancel(ctx)
	var progress sync.WaitGroup
	progress.Go(func() {
		defer ops.Recovered(b.log, b.metrics, "broadcast", nil)
		b.reportProgress(progressCtx, id)
	})
	defer func() {
		stopProgress()
		progress.Wait()
	}()

	wait := backoff{min: b.casts.retry, max: maxBroadcastRetry}
	panics := 0
	for {
		finished, progressed, err := b.broadcastPass(ctx, id, log)
		if ctx.Err() != nil {
			b.casts.clearNote(id) // paused, cancelled or shutting down: not retrying any more
			return
		}
		if err == nil {
			b.casts.clearNote(id)
			if finished {
				stopProgress()
				progress.Wait()
				b.finalReport(context.WithoutCancel(ctx), id)
				log.Info("broadcast finished")
			}
			return
		}
		cause := "database"
		if errors.Is(err, errRunnerPanic) {
			cause = "panic"
			if panics++; panics >= maxBroadcastPanics {
				b.haltBroadcast(ctx, id, log)
				return
			}
		}
		if progressed {
			wait.reset()
			b.casts.clearNote(id)
		}
		d := wait.next()
		b.metrics.BroadcastRetries.WithLabelValues(cause).Inc()
		b.casts.noteRetry(id, cause == "panic", b.now())
		log.Error("broadcast interrupted, retrying", "cause", cause, "retry_in", d.String(), "err", err)
		if tg.Sleep(ctx, d) != nil {
			b.casts.clearNote(id)
			return
		}
	}
}

// broadcastPass writes out the recipients fixed at confirm if that is
// unfinished (after a restart it resumes with the same list), settles the
// claims a crash left, then delivers page by page. The cursor advances
// only over pages in which every recipient has an outcome. It reports
// whether the broadcast is finished and whether any recipient got an
// outcome; an error is the database failing or a panic.
func (b *Bot) broadcastPass(ctx context.Context, id uint64, log *slog.Logger) (finished, progressed bool, err error) {
	var panicked bool
	defer func() {
		if panicked {
			finished, err = false, errRunnerPanic
		}
	}()
	defer ops.Recovered(log, b.metrics, "broadcast", &panicked)

	for {
		_, done, err := b.store.AddRecipients(ctx, id, broadcastFill)
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
	n, err := b.store.SettleStaleClaims(ctx, id)
	if err != nil {
		return false, false, fmt.Errorf("settle stale broadcast claims: %w", err)
	}
	if n > 0 {
		log.Warn("deliveries uncertain after a restart", "count", n)
		b.metrics.Broadcast.WithLabelValues("uncertain").Add(float64(n))
	}

	for ctx.Err() == nil {
		bc, err := b.store.Broadcast(ctx, id)
		if err != nil {
			return false, progressed, fmt.Errorf("load broadcast: %w", err)
		}
		if bc.Status != storage.BroadcastRunning {
			return false, progressed, nil
		}
		page, err := b.store.PendingRecipients(ctx, id, bc.Cursor, bc.HasCursor, broadcastPage)
		if err != nil {
			return false, progressed, fmt.Errorf("read pending recipients: %w", err)
		}
		if len(page) == 0 {
			if _, err := b.store.SetBroadcastStatus(ctx, id, storage.BroadcastDone, b.now()); err != nil {
				if errors.Is(err, storage.ErrConflict) {
					return false, progressed, nil // paused or cancelled meanwhile
				}
				return false, progressed, fmt.Errorf("finish broadcast: %w", err)
			}
			return true, progressed, nil
		}
		complete, settled, err := b.deliverPage(ctx, bc, page)
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
		if err := b.store.AdvanceCursor(ctx, id, page[len(page)-1].ChatID); err != nil {
			return false, progressed, fmt.Errorf("advance broadcast cursor: %w", err)
		}
	}
	return false, progressed, nil
}

// deliverPage sends to one page of recipients with a small fixed pool. It
// reports whether every one of them got an outcome and how many did. The
// first database error or panic stops the page: the senders still waiting
// for the rate give their recipients back unclaimed.
func (b *Bot) deliverPage(ctx context.Context, bc storage.Broadcast, page []storage.Recipient) (complete bool, settled int, err error) {
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
	for range min(broadcastSenders, len(page)) {
		wg.Go(func() {
			var panicked bool
			defer func() {
				if panicked {
					fail(errRunnerPanic)
				}
			}()
			defer ops.Recovered(b.log, b.metrics, "broadcast", &panicked)
			for r := range work {
				ok, e := b.deliver(pageCtx, ctx, bc, r)
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
	for _, r := range page {
		select {
		case work <- r:
		case <-pageCtx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	return err == nil && ctx.Err() == nil && settled == len(page), settled, err
}

// deliver sends to one recipient, claiming it once the send has passed the
// rate limits, and records the outcome. It reports whether the recipient
// now has an outcome; an error is the database failing. The send stops
// with ctx; the outcome of a send that went out is recorded until runCtx
// ends.
func (b *Bot) deliver(ctx, runCtx context.Context, bc storage.Broadcast, r storage.Recipient) (bool, error) {
	claimed := false
	var claimErr error
	claim := func() error {
		ok, err := b.store.ClaimDelivery(ctx, bc.ID, r.ChatID)
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
	state := b.sendBroadcast(ctx, bc, r, claim)
	if !claimed {
		return false, claimErr
	}
	if err := b.recordOutcome(runCtx, bc.ID, r.ChatID, state); err != nil {
		return false, err
	}
	if outcome := deliveryOutcome(state); outcome != "" {
		b.metrics.Broadcast.WithLabelValues(outcome).Inc()
	}
	if state == storage.DeliveryBlocked {
		b.unsubscribeUnreachable(context.WithoutCancel(ctx), r.ChatID)
	}
	return state != storage.DeliveryPending, nil
}

// recordOutcome records the outcome of a claimed recipient, trying again
// while the database fails: an outcome not recorded leaves the recipient
// claimed. It is tried once even when ctx has ended (the send happened);
// it gives up when ctx ends, and the claim then becomes uncertain at the
// next pass or start, never resent.
func (b *Bot) recordOutcome(ctx context.Context, id uint64, chatID int64, state storage.DeliveryState) error {
	wait := backoff{min: b.casts.retry, max: maxBroadcastRetry}
	for {
		err := b.store.SettleDelivery(context.WithoutCancel(ctx), id, chatID, state)
		if err == nil {
			return nil
		}
		err = fmt.Errorf("record broadcast delivery %d: %w", chatID, err)
		if ctx.Err() != nil || errors.Is(err, storage.ErrConflict) {
			return err
		}
		d := wait.next()
		b.metrics.BroadcastRetries.WithLabelValues("database").Inc()
		b.log.Error("record broadcast delivery, retrying", "broadcast_id", id, "chat_id", chatID, "retry_in", d.String(), "err", err)
		if tg.Sleep(ctx, d) != nil {
			return err
		}
	}
}

// haltBroadcast pauses broadcast id after its runner panicked
// maxBroadcastPanics times. Nothing is lost: recipients without an outcome
// stay pending, the admin is told, and /broadcasts offers resume (after a
// fix) and cancel.
func (b *Bot) haltBroadcast(ctx context.Context, id uint64, log *slog.Logger) {
	b.casts.noteHalted(id, b.now())
	log.Error("broadcast paused after repeated panics", "panics", maxBroadcastPanics)
	bc, err := b.store.SetBroadcastStatus(ctx, id, storage.BroadcastPaused, b.now())
	if err != nil {
		// Still preparing (only a running job pauses) or the database
		// fails: the note in /broadcasts says it stopped; it resumes at the
		// next start.
		log.Error("pause broadcast after panics", "err", err)
		return
	}
	l := b.adminLocalizer(ctx, bc.AdminChatID)
	b.showProgress(ctx, bc, b.progressText(ctx, bc))
	if _, err := b.sendText(ctx, bc.AdminChatID, l.T(locales.BroadcastHalted, locales.Data{"ID": bc.ID}), nil); err != nil {
		log.Warn("tell the admin a broadcast was paused", "err", err)
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

// sendBroadcast sends one recipient's version, with claim called just
// before it goes on the wire, and classifies the result. A 429 gives the
// recipient back as pending (the sender has paused its limits for the
// retry_after, so the runner's next try waits), rather than holding a claim
// while it waits; so does stopping before the message left. A send that
// may have reached Telegram (a lost answer, or a stop while it was in
// flight) is uncertain, never pending, so a resume does not send it twice.
func (b *Bot) sendBroadcast(ctx context.Context, bc storage.Broadcast, r storage.Recipient, claim func() error) storage.DeliveryState {
	v, _, ok := bc.VersionFor(r.Lang)
	if !ok {
		if claim() != nil {
			return storage.DeliveryPending
		}
		return storage.DeliveryFailed
	}
	b.casts.mu.Lock()
	wire := b.casts.wire
	b.casts.mu.Unlock()
	_, err := b.send.SendPaced(ctx, wire, r.ChatID, versionMessage(r.ChatID, v), b.casts.pace, claim)
	var apiErr *tg.APIError
	switch {
	case err == nil:
		return storage.DeliverySent
	case errors.Is(err, tg.ErrMaybeSent):
		b.log.Warn("broadcast delivery uncertain", "broadcast_id", bc.ID, "chat_id", r.ChatID, "err", err)
		return storage.DeliveryUncertain
	case errors.Is(err, storage.ErrNotSent), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return storage.DeliveryPending // stopped (or not claimed) before sending
	case errors.Is(err, tg.ErrBlocked) || errors.Is(err, tg.ErrChatNotFound):
		return storage.DeliveryBlocked
	case errors.As(err, &apiErr) && apiErr.Code == 429:
		b.log.Warn("broadcast throttled, giving the recipient back", "broadcast_id", bc.ID, "chat_id", r.ChatID, "retry_after", apiErr.RetryAfter)
		return storage.DeliveryPending
	default:
		b.log.Warn("broadcast delivery failed", "broadcast_id", bc.ID, "chat_id", r.ChatID, "err", err)
		return storage.DeliveryFailed
	}
}

// versionMessage is the message a subscriber gets: the admin's text with
// its entities and no parse_mode, so nothing in it can fail to parse; a
// photo is resent by file_id with the text as caption.
func versionMessage(chatID int64, v storage.Version) tgbotapi.Chattable {
	if v.PhotoID != "" {
		p := tgbotapi.NewPhoto(chatID, tgbotapi.FileID(v.PhotoID))
		p.Caption = v.Text
		p.CaptionEntities = toTelegramEntities(v.Entities)
		return p
	}
	m := tgbotapi.NewMessage(chatID, v.Text)
	m.Entities = toTelegramEntities(v.Entities)
	return m
}

func toTelegramEntities(es []storage.Entity) []tgbotapi.MessageEntity {
	if len(es) == 0 {
		return nil
	}
	out := make([]tgbotapi.MessageEntity, 0, len(es))
	for _, e := range es {
		te := tgbotapi.MessageEntity{Type: e.Type, Offset: e.Offset, Length: e.Length, URL: e.URL, Language: e.Language}
		if e.UserID != 0 {
			te.User = &tgbotapi.User{ID: e.UserID}
		}
		out = append(out, te)
	}
	return out
}

func fromTelegramEntities(es []tgbotapi.MessageEntity) []storage.Entity {
	var out []storage.Entity
	for _, e := range es {
		se := storage.Entity{Type: e.Type, Offset: e.Offset, Length: e.Length, URL: e.URL, Language: e.Language}
		if e.User != nil {
			se.UserID = e.User.ID
		}
		out = append(out, se)
	}
	return out
}

// reportProgress edits the admin's progress message every few seconds
// while something changed.
func (b *Bot) reportProgress(ctx context.Context, id uint64) {
	t := time.NewTicker(b.casts.every)
	defer t.Stop()
	last := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		bc, err := b.store.Broadcast(ctx, id)
		if err != nil {
			continue
		}
		if text := b.progressText(ctx, bc); text != last {
			b.showProgress(ctx, bc, text)
			last = text
		}
	}
}

// adminLocalizer is the localizer of the admin who composed bc.
func (b *Bot) adminLocalizer(ctx context.Context, chatID int64) *locales.Localizer {
	if u, err := b.store.User(ctx, chatID); err == nil && u.Lang.Valid() {
		return b.loc.For(string(u.Lang))
	}
	return b.loc.For(string(storage.Kazakh))
}

func (b *Bot) progressText(ctx context.Context, bc storage.Broadcast) string {
	l := b.adminLocalizer(ctx, bc.AdminChatID)
	return l.T(locales.BroadcastProgress, b.countsData(l, bc)) + b.runnerNoteText(l, bc.ID)
}

// countsData are the numbers of bc for its progress, report and list
// entry. Each recipient is in exactly one of sent, blocked, failed,
// uncertain and left, so the lines add up to the total.
func (b *Bot) countsData(l *locales.Localizer, bc storage.Broadcast) locales.Data {
	return locales.Data{
		"ID": bc.ID, "Status": l.T(statusLabel(bc.Status)), "Total": l.Int(bc.Total),
		"Sent": l.Int(bc.Counts.Sent), "Left": l.Int(bc.Left()), "Blocked": l.Int(bc.Counts.Blocked),
		"Failed": l.Int(bc.Counts.Failed), "Uncertain": l.Int(bc.Counts.Uncertain),
	}
}

// runnerNoteText is the line, with its newline, that tells the admin the
// runner of id is retrying or halted; "" when it is not in trouble.
func (b *Bot) runnerNoteText(l *locales.Localizer, id uint64) string {
	n, ok := b.casts.note(id)
	if !ok {
		return ""
	}
	msgID := locales.BroadcastRetryingDB
	switch {
	case n.halted:
		msgID = locales.BroadcastHaltedNote
	case n.internal:
		msgID = locales.BroadcastRetryingInternal
	}
	return "\n" + l.T(msgID, locales.Data{"Time": l.Clock(n.since.In(b.cfg.Location))})
}

// showProgress edits the progress message; the admin may have deleted it,
// which is no reason to stop.
func (b *Bot) showProgress(ctx context.Context, bc storage.Broadcast, text string) {
	if bc.ProgressMessageID == 0 {
		return
	}
	e := tgbotapi.NewEditMessageText(bc.AdminChatID, bc.ProgressMessageID, text)
	if _, err := b.send.Send(ctx, bc.AdminChatID, e); err != nil && !isNotModified(err) && ctx.Err() == nil {
		b.log.Warn("edit broadcast progress", "broadcast_id", bc.ID, "err", err)
	}
}

// finalReport shows the final numbers in the progress message and sends
// the report as a new message, so the admin is notified.
func (b *Bot) finalReport(ctx context.Context, id uint64) {
	bc, err := b.store.Broadcast(ctx, id)
	if err != nil {
		b.log.Error("load broadcast for its report", "broadcast_id", id, "err", err)
		return
	}
	l := b.adminLocalizer(ctx, bc.AdminChatID)
	b.showProgress(ctx, bc, b.progressText(ctx, bc))
	if _, err := b.sendText(ctx, bc.AdminChatID, l.T(locales.BroadcastReport, b.countsData(l, bc)), nil); err != nil {
		b.log.Warn("send broadcast report", "broadcast_id", id, "err", err)
	}
}

func statusLabel(s storage.BroadcastStatus) string {
	switch s {
	case storage.BroadcastPreparing:
		return locales.BroadcastStatusPreparing
	case storage.BroadcastRunning:
		return locales.BroadcastStatusRunning
	case storage.BroadcastPaused:
		return locales.BroadcastStatusPaused
	case storage.BroadcastCancelled:
		return locales.BroadcastStatusCancelled
	}
	return locales.BroadcastStatusDone
}

// ---- composing ----

// handleBroadcast starts the composing dialogue (admins only).
func (b *Bot) handleBroadcast(ctx context.Context, r *Request) error {
	if r.From == nil || !b.isAdmin(r.From.ID) {
		_, err := b.reply(ctx, r, r.L.T(locales.NotAllowed), b.mainMenu(r.L))
		return err
	}
	conv := storage.Conversation{ChatID: r.ChatID, Flow: flowBroadcast, Step: "kk", UpdatedAt: b.now()}
	if err := b.store.SaveConversation(ctx, conv); err != nil {
		return err
	}
	return b.askVersion(ctx, r, storage.Kazakh)
}

func (b *Bot) askVersion(ctx context.Context, r *Request, lang storage.Lang) error {
	id := locales.BroadcastAskKK
	if lang == storage.Russian {
		id = locales.BroadcastAskRU
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		button(r.L.T(locales.BroadcastSkipButton), cbBroadcast, "skip", string(lang)),
	))
	_, err := b.reply(ctx, r, r.L.T(id), kb)
	return err
}

// handleBroadcastStep takes the admin's message in the composing dialogue.
func (b *Bot) handleBroadcastStep(ctx context.Context, r *Request, conv storage.Conversation) error {
	if r.From == nil || !b.isAdmin(r.From.ID) {
		// An admin removed from the list mid-dialogue.
		if err := b.store.DeleteConversation(ctx, r.ChatID); err != nil {
			return err
		}
		_, err := b.reply(ctx, r, r.L.T(locales.NotAllowed), b.mainMenu(r.L))
		return err
	}
	if conv.Step != "kk" && conv.Step != "ru" {
		_, err := b.reply(ctx, r, r.L.T(locales.BroadcastUseButtons), nil)
		return err
	}
	if r.Message != nil && r.Message.MediaGroupID != "" {
		return b.refuseAlbum(ctx, r, conv, r.Message.MediaGroupID)
	}
	v, problem := versionFromMessage(r.Message)
	if problem != "" {
		_, err := b.reply(ctx, r, r.L.T(problem), nil)
		return err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode broadcast version: %w", err)
	}
	conv.Set(conv.Step, string(raw))
	return b.nextVersionStep(ctx, r, conv)
}

// refuseAlbum answers an album sent as a version. Telegram delivers an
// album as one message per photo with a shared media_group_id; without this
// the second photo would become the next version. The first message of the
// album gets the answer, the rest are ignored, and the step stays.
func (b *Bot) refuseAlbum(ctx context.Context, r *Request, conv storage.Conversation, group string) error {
	if conv.Get("album") == group {
		return nil
	}
	conv.Set("album", group)
	conv.UpdatedAt = b.now()
	if err := b.store.SaveConversation(ctx, conv); err != nil {
		return err
	}
	_, err := b.reply(ctx, r, r.L.T(locales.BroadcastNoAlbum), nil)
	return err
}

// nextVersionStep moves from the Kazakh version to the Russian one, and
// from there to the audience.
func (b *Bot) nextVersionStep(ctx context.Context, r *Request, conv storage.Conversation) error {
	conv.UpdatedAt = b.now()
	if conv.Step == "kk" {
		conv.Step = "ru"
		if err := b.store.SaveConversation(ctx, conv); err != nil {
			return err
		}
		return b.askVersion(ctx, r, storage.Russian)
	}
	conv.Step = "topic"
	if err := b.store.SaveConversation(ctx, conv); err != nil {
		return err
	}
	text, kb := b.topicQuestion(r.L, locales.BroadcastAskTopic)
	_, err := b.reply(ctx, r, text, kb)
	return err
}

// versionFromMessage takes a text or one photo with its caption, keeping
// the entities as they are. problem is a message ID when it cannot.
func versionFromMessage(m *tgbotapi.Message) (storage.Version, string) {
	switch {
	case m == nil:
		return storage.Version{}, locales.BroadcastBadContent
	case len(m.Photo) > 0:
		// Telegram lists the sizes of a photo; resend the largest.
		best := m.Photo[0]
		for _, p := range m.Photo[1:] {
			if p.Width*p.Height > best.Width*best.Height {
				best = p
			}
		}
		if utf16Len(m.Caption) > maxCaptionUTF16 {
			return storage.Version{}, locales.BroadcastCaptionTooLong
		}
		return storage.Version{Text: m.Caption, Entities: fromTelegramEntities(m.CaptionEntities), PhotoID: best.FileID}, ""
	case m.Text != "":
		return storage.Version{Text: m.Text, Entities: fromTelegramEntities(m.Entities)}, ""
	}
	return storage.Version{}, locales.BroadcastBadContent
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func (b *Bot) topicQuestion(l *locales.Localizer, prompt string) (string, tgbotapi.InlineKeyboardMarkup) {
	var rows [][]tgbotapi.InlineKeyboardButton
	for _, t := range storage.AllTopics() {
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(topicLabel(t)), cbBroadcast, "t", string(t))))
	}
	rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.BroadcastAllTopics), cbBroadcast, "t", anyArg)))
	return l.T(prompt), tgbotapi.NewInlineKeyboardMarkup(rows...)
}

func (b *Bot) districtQuestion(l *locales.Localizer) (string, tgbotapi.InlineKeyboardMarkup) {
	rows := [][]tgbotapi.InlineKeyboardButton{
		tgbotapi.NewInlineKeyboardRow(button(l.T(locales.AllDistricts), cbBroadcast, "d", anyArg)),
	}
	for _, d := range b.cat().ListedDistricts() {
		if tg.ValidArg(d.ID) {
			rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(d.Name.In(l.Lang()), cbBroadcast, "d", d.ID)))
		}
	}
	return l.T(locales.BroadcastAskDistrict), tgbotapi.NewInlineKeyboardMarkup(rows...)
}

func (b *Bot) langQuestion(l *locales.Localizer) (string, tgbotapi.InlineKeyboardMarkup) {
	return l.T(locales.BroadcastAskLang), tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		button(l.T(locales.LanguageNameKK), cbBroadcast, "l", string(storage.Kazakh)),
		button(l.T(locales.LanguageNameRU), cbBroadcast, "l", string(storage.Russian)),
		button(l.T(locales.BroadcastBothLanguages), cbBroadcast, "l", anyArg),
	))
}

// composed reads the versions and audience collected in conv.
func composed(conv storage.Conversation) (map[storage.Lang]storage.Version, storage.Audience, error) {
	versions := map[storage.Lang]storage.Version{}
	for _, lang := range []storage.Lang{storage.Kazakh, storage.Russian} {
		raw := conv.Get(string(lang))
		if raw == "" || raw == anyArg {
			continue
		}
		var v storage.Version
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			return nil, storage.Audience{}, fmt.Errorf("decode %s version: %w", lang, err)
		}
		versions[lang] = v
	}
	a := storage.Audience{Topic: storage.Topic(conv.Get("topic")), DistrictID: conv.Get("district"), Lang: storage.Lang(conv.Get("lang"))}
	return versions, a, nil
}

func (b *Bot) audienceText(l *locales.Localizer, a storage.Audience) string {
	topic := l.T(locales.BroadcastAllTopics)
	if a.Topic != "" {
		topic = l.T(topicLabel(a.Topic))
	}
	lang := l.T(locales.BroadcastBothLanguages)
	switch a.Lang {
	case storage.Kazakh:
		lang = l.T(locales.LanguageNameKK)
	case storage.Russian:
		lang = l.T(locales.LanguageNameRU)
	}
	return l.T(locales.BroadcastAudience, locales.Data{"Topic": topic, "District": esc(b.districtName(l, a.DistrictID)), "Lang": lang})
}

// handleBroadcastCallback handles the composing dialogue's buttons. A
// button only acts in the step that showed it, so an old keyboard cannot
// skip or send anything.
func (b *Bot) handleBroadcastCallback(ctx context.Context, r *Request) error {
	if r.From == nil || !b.isAdmin(r.From.ID) || !r.Private {
		b.alert(ctx, r, r.L.T(locales.NotAllowed))
		return nil
	}
	conv, err := b.store.Conversation(ctx, r.ChatID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && conv.Flow != flowBroadcast) {
		b.answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	if err != nil {
		return err
	}
	action, arg := r.Data.Arg(0), r.Data.Arg(1)
	want := map[string]string{"skip": arg, "t": "topic", "d": "district", "l": "lang", "ok": "confirm", "no": conv.Step}[action]
	if want == "" || want != conv.Step {
		b.answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	conv.UpdatedAt = b.now()
	switch action {
	case "skip":
		if conv.Step == "ru" && conv.Get("kk") == anyArg {
			b.alert(ctx, r, r.L.T(locales.BroadcastNeedOneVersion))
			return nil
		}
		conv.Set(conv.Step, anyArg)
		b.answer(ctx, r, "")
		ask := locales.BroadcastAskKK
		if conv.Step == "ru" {
			ask = locales.BroadcastAskRU
		}
		_ = b.edit(ctx, r, r.L.T(ask), nil) // drop the used button; a failed edit changes nothing
		return b.nextVersionStep(ctx, r, conv)
	case "t":
		if t := storage.Topic(arg); arg != anyArg && !t.Valid() {
			b.answer(ctx, r, r.L.T(locales.OutdatedButton))
			return nil
		}
		conv.Set("topic", clearAny(arg))
		conv.Step = "district"
		if err := b.store.SaveConversation(ctx, conv); err != nil {
			return err
		}
		text, kb := b.districtQuestion(r.L)
		return b.edit(ctx, r, text, &kb)
	case "d":
		if _, ok := b.cat().District(arg); arg != anyArg && !ok {
			b.answer(ctx, r, r.L.T(locales.OutdatedButton))
			return nil
		}
		conv.Set("district", clearAny(arg))
		conv.Step = "lang"
		if err := b.store.SaveConversation(ctx, conv); err != nil {
			return err
		}
		text, kb := b.langQuestion(r.L)
		return b.edit(ctx, r, text, &kb)
	case "l":
		if l := storage.Lang(arg); arg != anyArg && !l.Valid() {
			b.answer(ctx, r, r.L.T(locales.OutdatedButton))
			return nil
		}
		conv.Set("lang", clearAny(arg))
		return b.preview(ctx, r, conv)
	case "ok":
		return b.confirmBroadcast(ctx, r, conv)
	default: // "no"
		if err := b.store.DeleteConversation(ctx, r.ChatID); err != nil {
			return err
		}
		if err := b.edit(ctx, r, r.L.T(locales.BroadcastCancelledDialog), nil); err != nil {
			return err
		}
		_, err := b.reply(ctx, r, r.L.T(locales.MenuPrompt), b.mainMenu(r.L))
		return err
	}
}

func clearAny(arg string) string {
	if arg == anyArg {
		return ""
	}
	return arg
}

// preview counts the audience and sends the admin each version exactly as
// its readers will get it, then asks to send or cancel. An empty audience
// goes back to the topic question.
func (b *Bot) preview(ctx context.Context, r *Request, conv storage.Conversation) error {
	versions, a, err := composed(conv)
	if err != nil {
		return err
	}
	n, err := b.store.CountAudience(ctx, a)
	if err != nil {
		return err
	}
	if n == 0 {
		conv.Step = "topic"
		if err := b.store.SaveConversation(ctx, conv); err != nil {
			return err
		}
		text, kb := b.topicQuestion(r.L, locales.BroadcastNobody)
		return b.edit(ctx, r, text, &kb)
	}
	conv.Step = "confirm"
	if err := b.store.SaveConversation(ctx, conv); err != nil {
		return err
	}
	if err := b.edit(ctx, r, b.audienceText(r.L, a), nil); err != nil {
		return err
	}
	readers := []storage.Lang{storage.Kazakh, storage.Russian}
	if a.Lang.Valid() {
		readers = []storage.Lang{a.Lang}
	}
	bc := storage.Broadcast{Versions: versions}
	for _, lang := range readers {
		v, _, ok := bc.VersionFor(lang)
		if !ok {
			continue
		}
		preview := locales.BroadcastPreviewKK
		if lang == storage.Russian {
			preview = locales.BroadcastPreviewRU
		}
		if _, err := b.reply(ctx, r, r.L.T(preview), nil); err != nil {
			return err
		}
		if _, err := b.send.Send(ctx, r.ChatID, versionMessage(r.ChatID, v)); err != nil {
			return err
		}
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		button(r.L.T(locales.BroadcastSendButton), cbBroadcast, "ok"),
		button(r.L.T(locales.ButtonCancel), cbBroadcast, "no"),
	))
	text := b.audienceText(r.L, a) + "\n" + r.L.N(locales.BroadcastRecipients, n)
	_, err = b.reply(ctx, r, text, kb)
	return err
}

// confirmBroadcast stores the job with its recipients fixed (the audience
// as it is now), ends the dialogue and starts the runner, which writes them
// out before it sends to anyone.
func (b *Bot) confirmBroadcast(ctx context.Context, r *Request, conv storage.Conversation) error {
	versions, a, err := composed(conv)
	if err != nil {
		return err
	}
	if len(versions) == 0 {
		b.answer(ctx, r, r.L.T(locales.OutdatedButton))
		return b.store.DeleteConversation(ctx, r.ChatID)
	}
	bc, err := b.store.CreateBroadcast(ctx, storage.Broadcast{AdminChatID: r.ChatID, Versions: versions, Audience: a, CreatedAt: b.now()})
	if err != nil {
		return err
	}
	if err := b.store.DeleteConversation(ctx, r.ChatID); err != nil {
		return err
	}
	b.log.Info("broadcast confirmed", "broadcast_id", bc.ID, "chat_id", r.ChatID)
	b.answer(ctx, r, r.L.T(locales.BroadcastStarted, locales.Data{"ID": bc.ID}))
	if err := b.edit(ctx, r, b.audienceText(r.L, a)+"\n"+r.L.T(locales.BroadcastStarted, locales.Data{"ID": bc.ID}), nil); err != nil {
		b.log.Warn("edit broadcast confirmation", "broadcast_id", bc.ID, "err", err)
	}
	progressID, err := b.reply(ctx, r, b.progressText(ctx, bc), nil)
	if err == nil {
		if err := b.store.SetProgressMessage(ctx, bc.ID, progressID); err != nil {
			b.log.Error("store broadcast progress message", "broadcast_id", bc.ID, "err", err)
		}
	} else {
		b.log.Warn("send broadcast progress", "broadcast_id", bc.ID, "err", err)
	}
	b.startBroadcast(bc.ID)
	return nil
}

// ---- the list of jobs ----

// handleBroadcasts lists recent broadcasts with their controls (admins only).
func (b *Bot) handleBroadcasts(ctx context.Context, r *Request) error {
	if r.From == nil || !b.isAdmin(r.From.ID) {
		_, err := b.reply(ctx, r, r.L.T(locales.NotAllowed), b.mainMenu(r.L))
		return err
	}
	text, kb, err := b.broadcastList(ctx, r.L)
	if err != nil {
		return err
	}
	if kb == nil {
		_, err = b.reply(ctx, r, text, nil)
	} else {
		_, err = b.reply(ctx, r, text, *kb)
	}
	return err
}

func (b *Bot) broadcastList(ctx context.Context, l *locales.Localizer) (string, *tgbotapi.InlineKeyboardMarkup, error) {
	list, err := b.store.RecentBroadcasts(ctx, recentBroadcasts)
	if err != nil {
		return "", nil, err
	}
	if len(list) == 0 {
		return l.T(locales.BroadcastListEmpty), nil, nil
	}
	text := l.T(locales.BroadcastListTitle)
	var rows [][]tgbotapi.InlineKeyboardButton
	for _, bc := range list {
		created := bc.CreatedAt.In(b.cfg.Location)
		d := b.countsData(l, bc)
		d["Date"] = l.ShortDate(created) + " " + l.Clock(created)
		d["Audience"] = b.audienceText(l, bc.Audience)
		text += "\n\n" + l.T(locales.BroadcastListItem, d) + b.runnerNoteText(l, bc.ID)
		id := tg.B36(bc.ID)
		var row []tgbotapi.InlineKeyboardButton
		switch bc.Status {
		case storage.BroadcastRunning:
			row = append(row, button(l.T(locales.BroadcastPauseButton, locales.Data{"ID": bc.ID}), cbBroadcastJob, "p", id))
		case storage.BroadcastPaused:
			row = append(row, button(l.T(locales.BroadcastResumeButton, locales.Data{"ID": bc.ID}), cbBroadcastJob, "r", id))
		}
		if !bc.Status.Final() {
			row = append(row, button(l.T(locales.BroadcastCancelJobButton, locales.Data{"ID": bc.ID}), cbBroadcastJob, "c", id))
			rows = append(rows, row)
		}
	}
	if len(rows) == 0 {
		return text, nil, nil
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(rows...)
	return text, &kb, nil
}

// handleBroadcastJobCallback pauses, resumes or cancels a broadcast. The
// presser must be an admin; the status change is checked in the store, so
// a stale button cannot resume a cancelled job.
func (b *Bot) handleBroadcastJobCallback(ctx context.Context, r *Request) error {
	if r.From == nil || !b.isAdmin(r.From.ID) || !r.Private {
		b.alert(ctx, r, r.L.T(locales.NotAllowed))
		return nil
	}
	id, err := r.Data.ID(1)
	next := map[string]storage.BroadcastStatus{"p": storage.BroadcastPaused, "r": storage.BroadcastRunning, "c": storage.BroadcastCancelled}[r.Data.Arg(0)]
	if err != nil || next == "" {
		b.answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	bc, err := b.store.SetBroadcastStatus(ctx, id, next, b.now())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		b.answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	case errors.Is(err, storage.ErrConflict):
		b.answer(ctx, r, r.L.T(locales.BroadcastCannotChange))
	case err != nil:
		return err
	default:
		b.log.Info("broadcast status changed", "broadcast_id", id, "status", string(next), "chat_id", r.ChatID)
		switch next {
		case storage.BroadcastRunning:
			b.startBroadcast(id)
		case storage.BroadcastPaused:
			<-b.stopBroadcast(id)
			b.showProgress(ctx, bc, b.progressText(ctx, bc))
		case storage.BroadcastCancelled:
			<-b.stopBroadcast(id)
			b.finalReport(ctx, id)
		}
		b.answer(ctx, r, r.L.T(locales.BroadcastChanged, locales.Data{"ID": strconv.FormatUint(id, 10), "Status": r.L.T(statusLabel(next))}))
	}
	text, kb, err := b.broadcastList(ctx, r.L)
	if err != nil {
		return err
	}
	return b.edit(ctx, r, text, kb)
}
