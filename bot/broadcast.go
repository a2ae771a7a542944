package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/locales"
	"jastar/storage"
)

// Broadcasts: an admin composes an announcement in a dialogue, sees it as
// subscribers will, and confirms; the recipients are then fixed in the
// database and a runner delivers to them page by page through the shared
// sender at bulk priority, claiming each recipient before sending it.
const (
	// DefaultBroadcastRate is messages a second for broadcasts, under
	// Telegram's ~30 a second overall so replies to people keep flowing.
	DefaultBroadcastRate = 25
	// broadcastPage is how many recipients a runner reads at once; memory
	// per broadcast is one page, whatever the audience.
	broadcastPage = 200
	// broadcastFill is how many recipients one transaction fixes.
	broadcastFill = 1000
	// broadcastSenders bounds the sends in flight per broadcast. Each send
	// costs a Bot API round trip and two committed transactions (claim,
	// outcome); 8 reached only ~13/s on a loaded 2-core machine, 16 keeps
	// the rate with cycles of up to 600 ms. At most this many messages can
	// be uncertain after a crash.
	broadcastSenders = 16
	// defaultProgressEvery is how often the admin's progress message is
	// edited.
	defaultProgressEvery = 5 * time.Second
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
// token bucket between them, on top of the sender's global limit.
type broadcaster struct {
	mu    sync.Mutex
	base  context.Context // Run's context; nil before Run
	jobs  map[uint64]*broadcastJob
	wg    sync.WaitGroup
	limit *bucket
	every time.Duration
}

type broadcastJob struct {
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

func newBroadcaster(rate float64, every time.Duration) *broadcaster {
	if rate <= 0 {
		rate = DefaultBroadcastRate
	}
	if every <= 0 {
		every = defaultProgressEvery
	}
	// A burst of one second lets the broadcast catch up after its senders
	// were held up (a slow fsync, a late timer on a busy machine) instead of
	// losing that time: measured at 25/s, a burst of one reached only 87% of
	// the rate. The catching up is capped by the sender's global bucket,
	// which stays under Telegram's limit and serves replies first.
	return &broadcaster{jobs: make(map[uint64]*broadcastJob), limit: newBucket(wallClock{}, rate, max(3, int(rate))), every: every}
}

// startBroadcasts is called when Run starts: later starts run under ctx,
// and broadcasts that were preparing or running when the last process
// stopped resume where they stopped.
func (b *Bot) startBroadcasts(ctx context.Context) {
	b.casts.mu.Lock()
	b.casts.base = ctx
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
// context ending has already told them to.
func (b *Bot) stopBroadcasts(ctx context.Context) {
	done := make(chan struct{})
	go func() { b.casts.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		b.log.Warn("broadcasts still sending at the shutdown deadline")
	}
}

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
	ctx, cancel := context.WithCancel(c.base)
	j := &broadcastJob{ctx: ctx, cancel: cancel, done: make(chan struct{})}
	c.jobs[id] = j
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer close(j.done)
		defer cancel()
		if old != nil {
			select {
			case <-old.done:
			case <-ctx.Done():
				return
			}
		}
		b.runBroadcast(ctx, id)
		c.mu.Lock()
		if c.jobs[id] == j {
			delete(c.jobs, id)
		}
		c.mu.Unlock()
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

// runBroadcast writes out the recipients fixed at confirm if that is
// unfinished (after a restart it resumes with the same list), then delivers
// page by page until nobody is pending, the broadcast is paused or
// cancelled, or ctx ends. The cursor advances only over pages in which
// every recipient has an outcome.
func (b *Bot) runBroadcast(ctx context.Context, id uint64) {
	log := b.log.With("broadcast_id", id)
	for {
		_, done, err := b.store.AddRecipients(ctx, id, broadcastFill)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("write broadcast recipients", "err", err)
			}
			return
		}
		if done {
			break
		}
	}
	// Nothing of this broadcast is in flight now, so a claim left after the
	// cursor is from a crash: its message may have gone out. Never resend.
	if n, err := b.store.SettleStaleClaims(ctx, id); err != nil {
		if ctx.Err() == nil {
			log.Error("settle stale broadcast claims", "err", err)
		}
		return
	} else if n > 0 {
		log.Warn("deliveries uncertain after a restart", "count", n)
		b.metrics.Broadcast.WithLabelValues("uncertain").Add(float64(n))
	}

	progressCtx, stopProgress := context.WithCancel(ctx)
	var progress sync.WaitGroup
	progress.Go(func() { b.reportProgress(progressCtx, id) })
	defer func() {
		stopProgress()
		progress.Wait()
	}()

	for ctx.Err() == nil {
		bc, err := b.store.Broadcast(ctx, id)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("load broadcast", "err", err)
			}
			return
		}
		if bc.Status != storage.BroadcastRunning {
			return
		}
		page, err := b.store.PendingRecipients(ctx, id, bc.Cursor, bc.HasCursor, broadcastPage)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("read pending recipients", "err", err)
			}
			return
		}
		if len(page) == 0 {
			if _, err := b.store.SetBroadcastStatus(ctx, id, storage.BroadcastDone, b.now()); err != nil {
				if !errors.Is(err, storage.ErrConflict) {
					log.Error("finish broadcast", "err", err)
				}
				return
			}
			stopProgress()
			progress.Wait()
			b.finalReport(context.WithoutCancel(ctx), id)
			log.Info("broadcast finished")
			return
		}
		if !b.deliverPage(ctx, bc, page) {
			continue // paused, cancelled or stopping: the loop decides
		}
		if err := b.store.AdvanceCursor(ctx, id, page[len(page)-1].ChatID); err != nil {
			if ctx.Err() == nil {
				log.Error("advance broadcast cursor", "err", err)
			}
			return
		}
	}
}

// deliverPage sends to one page of recipients with a small fixed pool and
// reports whether every one of them got an outcome.
func (b *Bot) deliverPage(ctx context.Context, bc storage.Broadcast, page []storage.Recipient) bool {
	work := make(chan storage.Recipient)
	var settled atomic.Int64
	var wg sync.WaitGroup
	for range min(broadcastSenders, len(page)) {
		wg.Go(func() {
			for r := range work {
				if b.deliver(ctx, bc, r) {
					settled.Add(1)
				}
			}
		})
	}
feed:
	for _, r := range page {
		select {
		case work <- r:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	return ctx.Err() == nil && settled.Load() == int64(len(page))
}

// deliver claims one recipient, sends, and records the outcome. It reports
// whether the recipient now has an outcome.
func (b *Bot) deliver(ctx context.Context, bc storage.Broadcast, r storage.Recipient) bool {
	claimed, err := b.store.ClaimDelivery(ctx, bc.ID, r.ChatID)
	if err != nil || !claimed {
		if err != nil && ctx.Err() == nil {
			b.log.Error("claim broadcast delivery", "broadcast_id", bc.ID, "chat_id", r.ChatID, "err", err)
		}
		return false
	}
	state := b.sendBroadcast(ctx, bc, r)
	// The outcome is recorded even while stopping: the send happened.
	if err := b.store.SettleDelivery(context.WithoutCancel(ctx), bc.ID, r.ChatID, state); err != nil {
		b.log.Error("record broadcast delivery", "broadcast_id", bc.ID, "chat_id", r.ChatID, "err", err)
		return false
	}
	if outcome := deliveryOutcome(state); outcome != "" {
		b.metrics.Broadcast.WithLabelValues(outcome).Inc()
	}
	if state == storage.DeliveryBlocked {
		b.unsubscribeUnreachable(context.WithoutCancel(ctx), r.ChatID)
	}
	return state != storage.DeliveryPending
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

// sendBroadcast sends one recipient's version and classifies the result.
// A 429 the sender gave up on is waited out and tried again: Telegram
// asked for patience, not for the message to be dropped. Stopping before
// the message left gives the recipient back as pending; a send that may
// have reached Telegram (a lost answer, or a stop while it was in flight)
// is uncertain, never pending, so a resume does not send it twice.
func (b *Bot) sendBroadcast(ctx context.Context, bc storage.Broadcast, r storage.Recipient) storage.DeliveryState {
	v, _, ok := bc.VersionFor(r.Lang)
	if !ok {
		return storage.DeliveryFailed
	}
	for {
		if err := b.casts.limit.wait(ctx, Bulk); err != nil {
			return storage.DeliveryPending
		}
		_, err := b.send.SendBulk(ctx, r.ChatID, versionMessage(r.ChatID, v))
		var apiErr *APIError
		switch {
		case err == nil:
			return storage.DeliverySent
		case errors.Is(err, ErrMaybeSent):
			b.log.Warn("broadcast delivery uncertain", "broadcast_id", bc.ID, "chat_id", r.ChatID, "err", err)
			return storage.DeliveryUncertain
		case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			return storage.DeliveryPending // the sender stopped before sending
		case errors.Is(err, ErrBlocked) || errors.Is(err, ErrChatNotFound):
			return storage.DeliveryBlocked
		case errors.As(err, &apiErr) && apiErr.Code == 429:
			b.log.Warn("broadcast throttled, waiting", "broadcast_id", bc.ID, "chat_id", r.ChatID, "retry_after", apiErr.RetryAfter)
			if sleep(ctx, time.Duration(max(apiErr.RetryAfter, 1))*time.Second) != nil {
				return storage.DeliveryPending
			}
		default:
			b.log.Warn("broadcast delivery failed", "broadcast_id", bc.ID, "chat_id", r.ChatID, "err", err)
			return storage.DeliveryFailed
		}
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
	return l.T(locales.BroadcastProgress, b.countsData(l, bc))
}

func (b *Bot) countsData(l *locales.Localizer, bc storage.Broadcast) locales.Data {
	return locales.Data{
		"ID": bc.ID, "Status": l.T(statusLabel(bc.Status)), "Total": l.Int(bc.Total),
		"Sent": l.Int(bc.Counts.Sent), "Left": l.Int(bc.Left()), "Blocked": l.Int(bc.Counts.Blocked),
		// The progress shows uncertain ones among the failed; the report
		// tells them apart.
		"Failed": l.Int(bc.Counts.Failed + bc.Counts.Uncertain), "Uncertain": l.Int(bc.Counts.Uncertain),
	}
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
	for _, d := range b.cat.ListedDistricts() {
		if validArg(d.ID) {
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
		if _, ok := b.cat.District(arg); arg != anyArg && !ok {
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
		name := r.L.T(locales.LanguageNameKK)
		if lang == storage.Russian {
			name = r.L.T(locales.LanguageNameRU)
		}
		if _, err := b.reply(ctx, r, r.L.T(locales.BroadcastPreviewFor, locales.Data{"Lang": name}), nil); err != nil {
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
		text += "\n\n" + l.T(locales.BroadcastListItem, d)
		id := B36(bc.ID)
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
