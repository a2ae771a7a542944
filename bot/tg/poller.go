package tg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/ops"
	"jastar/storage"
)

// staleOffsetAge is when a stored offset stops being trusted. Telegram picks
// a random next update_id after a week without updates
// (https://core.telegram.org/bots/api#getting-updates); an old, higher offset
// would then confirm away the new updates unseen, so we poll without one.
const staleOffsetAge = 6 * 24 * time.Hour

// conflictGiveUp is how long getUpdates may keep answering 409 Conflict
// before the bot stops. A deploy that briefly overlaps the old and the new
// instance gets a few seconds of them; a minute means another instance keeps
// polling the token, or a webhook is set, and waiting longer only hides it.
const conflictGiveUp = time.Minute

// ErrPollConflict is what Run returns when getUpdates answered 409 Conflict
// for conflictGiveUp.
var ErrPollConflict = errors.New("another instance is polling this bot token, or a webhook is set (remove it with deleteWebhook)")

// allowedUpdates are the update kinds the bot handles.
var allowedUpdates = []string{"message", "callback_query", "my_chat_member"}

// Run handles updates until ctx ends: first the ones left in the inbox by a
// previous run, then what long polling brings. On return polling has
// stopped, but handlers may still run: call Drain, with the drain deadline,
// after Run returns.
func (t *Transport) Run(ctx context.Context) error {
	d := NewDispatcher(t.opts.Workers, t.opts.Workers*32, "updates", t.log, t.metrics)
	// Handlers get a context that outlives the shutdown signal, so an update
	// being handled is finished rather than cut in half; it ends only at the
	// drain deadline.
	handlerBase, cancelHandlers := context.WithCancel(context.WithoutCancel(ctx))
	// The done log commits its last batch after the deadline too.
	done := newDoneLog(context.WithoutCancel(ctx), t.store, t.now, t.log, t.metrics)
	t.mu.Lock()
	t.run.dispatcher, t.run.cancelHandlers, t.run.done = d, cancelHandlers, done
	t.mu.Unlock()

	err := t.replayAndPoll(ctx, handlerBase, d, done)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Drain lets the handlers Run started finish, until ctx ends; then it cuts
// the late ones short, stops the background work, and commits the done
// log. It reports whether everything finished in time.
func (t *Transport) Drain(ctx context.Context) bool {
	t.mu.Lock()
	d, cancelHandlers, done := t.run.dispatcher, t.run.cancelHandlers, t.run.done
	t.run.dispatcher, t.run.cancelHandlers, t.run.done = nil, nil, nil
	t.mu.Unlock()
	clean := true
	if d != nil && !d.Stop(ctx) {
		// Cut the late handlers' calls short. Whatever they finish after
		// this is not marked handled (the done log is closed below), so
		// their updates are replayed on the next start.
		t.log.Warn("handlers still running at the shutdown deadline, cancelling them")
		cancelHandlers()
		clean = false
	}
	// Handlers have finished or been cut off, so only late ones may still
	// ask for background work, and bg refuses it from here on.
	if !t.bg.Stop(ctx) {
		t.log.Warn("background sends still running at the shutdown deadline, cancelling them")
		clean = false
	}
	if done != nil {
		done.close()
		cancelHandlers()
	}
	return clean
}

func (t *Transport) replayAndPoll(ctx, handlerBase context.Context, d *Dispatcher, done *doneLog) error {
	pending, err := t.store.Pending(ctx)
	if err != nil {
		return fmt.Errorf("read pending updates: %w", err)
	}
	if len(pending) > 0 {
		t.log.Info("replaying updates left from the last run", "count", len(pending))
	}
	for _, raw := range pending {
		if err := t.dispatch(ctx, handlerBase, d, done, raw, nil); err != nil {
			return err
		}
	}
	return t.poll(ctx, handlerBase, d, done)
}

func (t *Transport) poll(ctx, handlerBase context.Context, d *Dispatcher, done *doneLog) error {
	t.pollAPI.Client = WithContext(ctx, t.pollHTTP)
	offset, lastReceived, err := t.store.Offset(ctx)
	if err != nil {
		return fmt.Errorf("read update offset: %w", err)
	}
	backoff := time.Second
	var conflictSince time.Time // first 409 of the current run of them
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		askOffset := offset
		if !lastReceived.IsZero() && t.now().Sub(lastReceived) > staleOffsetAge {
			askOffset = 0
		}
		t.touchPoll() // a poll starting proves the loop is alive, as does one ending
		raws, decoded, highest, err := t.getUpdates(askOffset)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, ErrUnauthorized) {
				return err
			}
			var apiErr *APIError
			if errors.As(err, &apiErr) && apiErr.Code == http.StatusConflict {
				if conflictSince.IsZero() {
					conflictSince = t.now()
				}
				if lasted := t.now().Sub(conflictSince); lasted >= conflictGiveUp {
					return fmt.Errorf("getUpdates answered 409 Conflict for %s: %w", lasted.Round(time.Second), ErrPollConflict)
				}
				t.log.Error("getUpdates conflict: "+ErrPollConflict.Error(), "retry_in", backoff.String(), "err", err)
			} else {
				t.log.Warn("getUpdates failed, retrying", "retry_in", backoff.String(), "err", err)
			}
			if err := t.pollSleep(ctx, Jitter(backoff)); err != nil {
				return err
			}
			backoff = min(backoff*2, time.Minute)
			continue
		}
		backoff, conflictSince = time.Second, time.Time{}
		t.touchPoll()
		if highest == 0 {
			continue
		}
		// The next offset comes from every update_id of the batch, also of
		// updates that did not decode: one left unconfirmed would be served
		// again at once, forever.
		next := offset
		if askOffset == 0 {
			next = 0
		}
		next = max(next, highest+1)
		now := t.now()
		// The batch is handled while it is stored: storing it is a commit
		// (two fsyncs), and waiting for it before handling added that to
		// every person's wait. The inbox's promise holds all the same:
		// the next poll, which confirms the batch to Telegram, starts only
		// once the batch is stored, so a confirmed update is always stored
		// or handled and marked. A batch Telegram sends again after a
		// restart is handled only where it is new (Unseen); Accept, which
		// stores what is neither pending nor handled, then leaves out an
		// update whose handling was marked first.
		fresh, err := t.store.Unseen(ctx, raws)
		if err != nil {
			// Nothing handled, nothing confirmed: the next poll asks for the
			// same updates again.
			t.log.Error("read fetched updates' ids", "err", err)
			if err := t.pollSleep(ctx, Jitter(backoff)); err != nil {
				return err
			}
			continue
		}
		for _, raw := range fresh {
			if err := t.dispatch(ctx, handlerBase, d, done, raw, decoded[raw.ID]); err != nil {
				return err
			}
		}
		if err := t.storeFetched(ctx, raws, next, now); err != nil {
			return err
		}
		offset, lastReceived = next, now
	}
}

// storeFetched stores a fetched batch and the offset after it, and tries
// again, backing off, until it is stored or ctx ends. The batch is being
// handled already, so it must not be fetched again: polling waits here (a
// full disk stops the bot taking new updates, not the ones it has).
func (t *Transport) storeFetched(ctx context.Context, raws []storage.RawUpdate, next int, now time.Time) error {
	backoff := time.Second
	for {
		_, err := t.store.Accept(ctx, raws, next, now)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		t.log.Error("store fetched updates, retrying", "retry_in", backoff.String(), "err", err)
		// The loop is alive and trying, as it is while getUpdates fails: the
		// error log, not the health check, is what tells of a full disk (a
		// restart would not empty it).
		t.touchPoll()
		if err := t.pollSleep(ctx, Jitter(backoff)); err != nil {
			return err
		}
		backoff = min(backoff*2, time.Minute)
	}
}

// getUpdates asks for updates and keeps each one's raw JSON for the inbox,
// beside its decoded form, so an update is parsed once on its way to a
// handler (the load profile showed JSON decoding as the bot's largest cost).
// highest is the largest update_id in the answer, of skipped updates too,
// or 0 if there is none.
func (t *Transport) getUpdates(offset int) (raws []storage.RawUpdate, decoded map[int]*tgbotapi.Update, highest int, err error) {
	cfg := tgbotapi.UpdateConfig{Offset: offset, Limit: 100, Timeout: int(t.opts.PollTimeout / time.Second), AllowedUpdates: allowedUpdates}
	items, err := GetUpdates(t.pollAPI.Client, t.opts.APIEndpoint, t.opts.Token, cfg)
	if err := Classify("getUpdates", t.opts.Token, err); err != nil {
		return nil, nil, 0, err
	}
	raws = make([]storage.RawUpdate, 0, len(items))
	decoded = make(map[int]*tgbotapi.Update, len(items))
	for _, it := range items {
		if it.Err != nil {
			// Only the id is read again, and only here, to confirm the
			// update away; its content is never logged.
			id := rawUpdateID(it.JSON)
			highest = max(highest, id)
			t.log.Error("skipping an update that does not decode", "update_id", id, "err", it.Err)
			continue
		}
		u := it.Update
		if u.UpdateID <= 0 {
			t.log.Warn("skipping an update without a valid update_id")
			continue
		}
		highest = max(highest, u.UpdateID)
		raws = append(raws, storage.RawUpdate{ID: u.UpdateID, JSON: it.JSON})
		decoded[u.UpdateID] = u
	}
	return raws, decoded, highest, nil
}

// rawUpdateID is the update_id of an update that does not decode as a
// whole, or 0 if even that is unreadable.
func rawUpdateID(raw json.RawMessage) int {
	var head struct {
		UpdateID int `json:"update_id"`
	}
	// raw is valid JSON (it came out of the answer's array), so only a
	// missing or non-numeric update_id leaves 0.
	_ = json.Unmarshal(raw, &head)
	return max(head.UpdateID, 0)
}

// dispatch hands one stored update to the worker of its chat; once handled,
// it leaves the inbox.
func (t *Transport) dispatch(ctx, handlerBase context.Context, d *Dispatcher, done *doneLog, raw storage.RawUpdate, decoded *tgbotapi.Update) error {
	if decoded == nil {
		decoded = new(tgbotapi.Update)
		if err := json.Unmarshal(raw.JSON, decoded); err != nil {
			t.log.Error("decode stored update, dropping it", "update_id", raw.ID, "err", err)
			done.add(raw.ID)
			return nil
		}
	}
	u := *decoded
	return d.Submit(ctx, chatKey(u), func() {
		hctx, cancel := context.WithTimeout(handlerBase, t.opts.HandlerTimeout)
		defer cancel()
		t.handle(hctx, u)
		done.add(raw.ID)
	})
}

// chatKey is the chat an update belongs to, for per-chat ordering.
func chatKey(u tgbotapi.Update) int64 {
	switch {
	case u.Message != nil:
		return u.Message.Chat.ID
	case u.CallbackQuery != nil && u.CallbackQuery.Message != nil:
		return u.CallbackQuery.Message.Chat.ID
	case u.CallbackQuery != nil:
		return u.CallbackQuery.From.ID
	case u.MyChatMember != nil:
		return u.MyChatMember.Chat.ID
	}
	return 0
}

// Jitter spreads retries of many instances or chats over time: d/2 to 3d/2.
func Jitter(d time.Duration) time.Duration { return d/2 + rand.N(d) }

// doneLog takes handled update ids off the workers' hands and marks them in
// the inbox a batch at a time: one commit (one fsync) for many updates, and
// no worker waits for it. A crash before the commit replays those updates;
// the window is the same as between a handler's own commit and Done.
type doneLog struct {
	// mu guards the send on ids against its close: a handler that outlived
	// the drain deadline may finish after close.
	mu       sync.RWMutex
	shut     bool
	ids      chan int
	finished chan struct{}
}

func newDoneLog(ctx context.Context, store Store, now func() time.Time, log *slog.Logger, metrics *ops.Metrics) *doneLog {
	d := &doneLog{ids: make(chan int, 4096), finished: make(chan struct{})}
	go func() {
		defer close(d.finished)
		defer ops.Recovered(log, metrics, "done_log", nil)
		batch := make([]int, 0, 256)
		// A commit that panics is recovered on its own, so the log goes
		// on taking ids (a handler never blocks on a dead reader); its
		// batch stays in the inbox and is replayed at the next start, as
		// after a crash before the commit.
		flush := func() {
			if len(batch) == 0 {
				return
			}
			defer func() { batch = batch[:0] }()
			defer ops.Recovered(log, metrics, "done_log", nil)
			if err := store.Done(ctx, batch, now()); err != nil {
				log.Error("mark updates handled", "count", len(batch), "err", err)
			}
		}
		for id := range d.ids {
			batch = append(batch, id)
			// Take whatever else is already waiting, then commit.
			for more := true; more && len(batch) < cap(batch); {
				select {
				case next, ok := <-d.ids:
					if !ok {
						more = false
						break
					}
					batch = append(batch, next)
				default:
					more = false
				}
			}
			flush()
		}
		flush()
	}()
	return d
}

// add queues id to be marked handled. After close it does nothing: the
// update stays in the inbox and is replayed on the next start.
func (d *doneLog) add(id int) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.shut {
		return
	}
	d.ids <- id
}

// close commits what is left and waits for it.
func (d *doneLog) close() {
	d.mu.Lock()
	d.shut = true
	close(d.ids)
	d.mu.Unlock()
	<-d.finished
}
