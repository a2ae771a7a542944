package bot

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
	"jastar/bot/tg"
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
// previous run, then what long polling brings. On return, polling has stopped
// and handlers that were running have finished (or drainTimeout passed).
func (b *Bot) Run(ctx context.Context, drainTimeout time.Duration) error {
	d := tg.NewDispatcher(b.cfg.Workers, b.cfg.Workers*32, "updates", b.log, b.metrics)
	// Handlers get a context that outlives the shutdown signal, so an update
	// being handled is finished rather than cut in half; it ends only at the
	// drain deadline.
	handlerBase, cancelHandlers := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHandlers()
	// The done log commits its last batch after the deadline too.
	b.done = newDoneLog(context.WithoutCancel(ctx), b.store, b.now, b.log, b.metrics)
	// Broadcast sends on the wire end only at the drain deadline (see
	// broadcast.Runner.Stop), not at the signal.
	wire, abortSends := context.WithCancel(context.WithoutCancel(ctx))
	defer abortSends()
	b.runner.Start(ctx, wire)
	if err := b.loadCards(ctx); err != nil {
		// Cards show the catalog's values until the next change reloads.
		b.log.Error("load center cards", "err", err)
	}

	pollErr := b.replayAndPoll(ctx, handlerBase, d)

	drainCtx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if !d.Stop(drainCtx) {
		// Cut the late handlers' calls short. Whatever they finish after
		// this is not marked handled (the done log is closed below), so
		// their updates are replayed on the next start.
		b.log.Warn("handlers still running at the shutdown deadline, cancelling them")
		cancelHandlers()
	}
	// Handlers have finished or been cut off, so only late ones may still
	// ask for background work, and bg refuses it from here on.
	if !b.bg.Stop(drainCtx) {
		b.log.Warn("background sends still running at the shutdown deadline, cancelling them")
	}
	b.done.close()
	b.runner.Stop(drainCtx, abortSends)
	if errors.Is(pollErr, context.Canceled) {
		return nil
	}
	return pollErr
}

func (b *Bot) replayAndPoll(ctx, handlerBase context.Context, d *tg.Dispatcher) error {
	pending, err := b.store.Pending(ctx)
	if err != nil {
		return fmt.Errorf("read pending updates: %w", err)
	}
	if len(pending) > 0 {
		b.log.Info("replaying updates left from the last run", "count", len(pending))
	}
	for _, raw := range pending {
		if err := b.dispatch(ctx, handlerBase, d, raw, nil); err != nil {
			return err
		}
	}
	return b.poll(ctx, handlerBase, d)
}

func (b *Bot) poll(ctx, handlerBase context.Context, d *tg.Dispatcher) error {
	b.pollAPI.Client = tg.WithContext(ctx, b.pollHTTP)
	offset, lastReceived, err := b.store.Offset(ctx)
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
		if !lastReceived.IsZero() && b.now().Sub(lastReceived) > staleOffsetAge {
			askOffset = 0
		}
		b.touchPoll() // a poll starting proves the loop is alive, as does one ending
		raws, decoded, highest, err := b.getUpdates(askOffset)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, tg.ErrUnauthorized) {
				return err
			}
			var apiErr *tg.APIError
			if errors.As(err, &apiErr) && apiErr.Code == http.StatusConflict {
				if conflictSince.IsZero() {
					conflictSince = b.now()
				}
				if lasted := b.now().Sub(conflictSince); lasted >= conflictGiveUp {
					return fmt.Errorf("getUpdates answered 409 Conflict for %s: %w", lasted.Round(time.Second), ErrPollConflict)
				}
				b.log.Error("getUpdates conflict: "+ErrPollConflict.Error(), "retry_in", backoff.String(), "err", err)
			} else {
				b.log.Warn("getUpdates failed, retrying", "retry_in", backoff.String(), "err", err)
			}
			if err := b.pollSleep(ctx, jitter(backoff)); err != nil {
				return err
			}
			backoff = min(backoff*2, time.Minute)
			continue
		}
		backoff, conflictSince = time.Second, time.Time{}
		b.touchPoll()
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
		now := b.now()
		accepted, err := b.store.Accept(ctx, raws, next, now)
		if err != nil {
			// Not stored, so not confirmed: the next poll asks for the same
			// updates again.
			b.log.Error("store fetched updates", "err", err)
			if err := b.pollSleep(ctx, jitter(backoff)); err != nil {
				return err
			}
			continue
		}
		offset, lastReceived = next, now
		for _, raw := range accepted {
			if err := b.dispatch(ctx, handlerBase, d, raw, decoded[raw.ID]); err != nil {
				return err
			}
		}
	}
}

// getUpdates asks for updates and keeps each one's raw JSON for the inbox,
// beside its decoded form, so an update is parsed once on its way to a
// handler (the load profile showed JSON decoding as the bot's largest cost).
// highest is the largest update_id in the answer, of skipped updates too,
// or 0 if there is none.
func (b *Bot) getUpdates(offset int) (raws []storage.RawUpdate, decoded map[int]*tgbotapi.Update, highest int, err error) {
	cfg := tgbotapi.UpdateConfig{Offset: offset, Limit: 100, Timeout: int(b.cfg.PollTimeout / time.Second), AllowedUpdates: allowedUpdates}
	items, err := tg.GetUpdates(b.pollAPI.Client, b.cfg.APIEndpoint, b.cfg.Token, cfg)
	if err := tg.Classify("getUpdates", b.cfg.Token, err); err != nil {
		return nil, nil, 0, err
	}
	raws = make([]storage.RawUpdate, 0, len(items))
	decoded = make(map[int]*tgbotapi.Update, len(items))
	for _, it := range items {
		u := new(tgbotapi.Update)
		if err := json.Unmarshal(it, u); err != nil {
			// Only the id is read again, and only here, to confirm the
			// update away; its content is never logged.
			id := rawUpdateID(it)
			highest = max(highest, id)
			b.log.Error("skipping an update that does not decode", "update_id", id, "err", err)
			continue
		}
		if u.UpdateID <= 0 {
			b.log.Warn("skipping an update without a valid update_id")
			continue
		}
		highest = max(highest, u.UpdateID)
		raws = append(raws, storage.RawUpdate{ID: u.UpdateID, JSON: it})
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
func (b *Bot) dispatch(ctx, handlerBase context.Context, d *tg.Dispatcher, raw storage.RawUpdate, decoded *tgbotapi.Update) error {
	if decoded == nil {
		decoded = new(tgbotapi.Update)
		if err := json.Unmarshal(raw.JSON, decoded); err != nil {
			b.log.Error("decode stored update, dropping it", "update_id", raw.ID, "err", err)
			b.done.add(raw.ID)
			return nil
		}
	}
	u := *decoded
	return d.Submit(ctx, chatKey(u), func() {
		hctx, cancel := context.WithTimeout(handlerBase, b.cfg.HandlerTimeout)
		defer cancel()
		b.handle(hctx, u)
		b.done.add(raw.ID)
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

// jitter spreads retries of many instances or chats over time.
func jitter(d time.Duration) time.Duration { return d/2 + rand.N(d) }

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

func newDoneLog(ctx context.Context, store storage.Inbox, now func() time.Time, log *slog.Logger, metrics *ops.Metrics) *doneLog {
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
