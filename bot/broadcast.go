package bot

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/tg"
	"jastar/locales"
	"jastar/scheduler/broadcast"
	"jastar/storage"
)

// Broadcasts: an admin composes an announcement in a dialogue, sees it as
// subscribers will, and confirms; the recipients are then fixed in the
// database and the runner (scheduler/broadcast) delivers to them page by
// page through the shared sender at bulk priority, claiming each recipient
// only once its send has passed the rate limits, just before it goes on the
// wire. This file is the composing dialogue, /broadcasts, the delivery
// through the sender and the admin's reports.
const (
	// DefaultBroadcastRate is messages a second for broadcasts, under
	// Telegram's ~30 a second overall so replies to people keep flowing.
	DefaultBroadcastRate = 25
	// maxCaptionUTF16 is Telegram's caption limit for bots:
	// https://core.telegram.org/bots/api#sendphoto
	maxCaptionUTF16 = 1024
	// recentBroadcasts is how many jobs /broadcasts lists.
	recentBroadcasts = 10
)

// flowBroadcast is the composing dialogue. Its steps: "kk" and "ru" take a
// version each, "topic", "district" and "lang" the audience (buttons),
// "confirm" waits for send or cancel; broadcastState keeps what they chose.
const flowBroadcast = "broadcast"

// broadcastState is what the composing dialogue has collected.
type broadcastState struct {
	// Versions are the versions given; a language left out has none.
	Versions map[storage.Lang]storage.Version `json:"versions,omitempty"`
	Audience storage.Audience                 `json:"audience"`
	// Album is the media_group_id of the last album refused, so its other
	// photos are ignored.
	Album string `json:"album,omitempty"`
}

type broadcastDialogue = dialogue[broadcastState]

// Broadcast buttons:
//
//	brc:skip:<kk|ru>          leave out that version
//	brc:t:<topic|_>           audience topic ("_" = all subscribers)
//	brc:d:<district|_>        audience district ("_" = all)
//	brc:l:<kk|ru|_>           audience language ("_" = both)
//	brc:ok, brc:no             send or drop the composed broadcast
//	bcj:<p|r|c>:<id>         pause, resume or cancel a job (/broadcasts)
const anyArg = "_"

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

// broadcastDelivery is how the broadcast runner sends: one pacer holds
// every broadcast to its rate at the wire, on top of the sender's limits.
type broadcastDelivery struct {
	send *tg.Sender
	pace *tg.Pacer
	log  *slog.Logger
}

func newBroadcastDelivery(send *tg.Sender, rate, sendRate float64, log *slog.Logger) *broadcastDelivery {
	if rate <= 0 {
		rate = DefaultBroadcastRate
	}
	if c := broadcastCap(sendRate); c > 0 {
		rate = min(rate, c)
	}
	return &broadcastDelivery{send: send, pace: tg.NewPacer(rate), log: log}
}

// Deliver sends one recipient's version, with claim called just before
// it goes on the wire, and classifies the result (broadcast.Sender). A 429 gives the
// recipient back as pending (the sender has paused its limits for the
// retry_after, so the runner's next try waits), rather than holding a claim
// while it waits; so does stopping before the message left. A send that
// may have reached Telegram (a lost answer, or a stop while it was in
// flight) is uncertain, never pending, so a resume does not send it twice.
func (d *broadcastDelivery) Deliver(ctx, wire context.Context, bc storage.Broadcast, r storage.Recipient, claim func() error) storage.DeliveryState {
	v, _, ok := bc.VersionFor(r.Lang)
	if !ok {
		if claim() != nil {
			return storage.DeliveryPending
		}
		return storage.DeliveryFailed
	}
	_, err := d.send.SendPaced(ctx, wire, r.ChatID, versionMessage(r.ChatID, v), d.pace, claim)
	var apiErr *tg.APIError
	switch {
	case err == nil:
		return storage.DeliverySent
	case errors.Is(err, tg.ErrMaybeSent):
		d.log.Warn("broadcast delivery uncertain", "broadcast_id", bc.ID, "chat_id", r.ChatID, "err", err)
		return storage.DeliveryUncertain
	case errors.Is(err, storage.ErrNotSent), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return storage.DeliveryPending // stopped (or not claimed) before sending
	case errors.Is(err, tg.ErrBlocked) || errors.Is(err, tg.ErrChatNotFound):
		return storage.DeliveryBlocked
	case errors.As(err, &apiErr) && apiErr.Code == 429:
		d.log.Warn("broadcast throttled, giving the recipient back", "broadcast_id", bc.ID, "chat_id", r.ChatID, "retry_after", apiErr.RetryAfter)
		return storage.DeliveryPending
	default:
		d.log.Warn("broadcast delivery failed", "broadcast_id", bc.ID, "chat_id", r.ChatID, "err", err)
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
		if kb := versionKeyboard(v); kb != nil {
			p.ReplyMarkup = *kb
		}
		return p
	}
	m := tgbotapi.NewMessage(chatID, v.Text)
	m.Entities = toTelegramEntities(v.Entities)
	if kb := versionKeyboard(v); kb != nil {
		m.ReplyMarkup = *kb
	}
	return m
}

// versionKeyboard is the inline keyboard of v's buttons (a poll's
// answers), nil when it has none.
func versionKeyboard(v storage.Version) *tgbotapi.InlineKeyboardMarkup {
	if len(v.Buttons) == 0 {
		return nil
	}
	rows := make([][]tgbotapi.InlineKeyboardButton, 0, len(v.Buttons))
	for _, row := range v.Buttons {
		var out []tgbotapi.InlineKeyboardButton
		for _, btn := range row {
			out = append(out, tgbotapi.NewInlineKeyboardButtonData(btn.Text, btn.Data))
		}
		rows = append(rows, out)
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(rows...)
	return &kb
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

// broadcastReports tells the admin who composed a broadcast how it goes, in
// their language: it is the runner's Reporter (scheduler/broadcast), and
// the composer and polls show a job's progress with its texts.
type broadcastReports struct {
	kit
	store reportStore
	send  chattableSender // edits the progress message
	// notes are the runner's troubles (retrying, halted); New sets it
	// once the runner, which reports here, is built.
	notes runnerNotes
	subs  unreachableForgetter
}

// reportStore is what the reports read: the admin's language.
type reportStore interface {
	User(ctx context.Context, chatID int64) (storage.User, error)
}

// runnerNotes says whether a broadcast's runner is retrying or halted
// (*broadcast.Runner).
type runnerNotes interface {
	Note(id uint64) (broadcast.Note, bool)
}

// unreachableForgetter unsubscribes a chat Telegram will not deliver to
// (subscriptions, subscription.go).
type unreachableForgetter interface {
	unsubscribeUnreachable(ctx context.Context, chatID int64)
}

// adminLocalizer is the localizer of the admin who composed bc.
func (f *broadcastReports) adminLocalizer(ctx context.Context, chatID int64) *locales.Localizer {
	if u, err := f.store.User(ctx, chatID); err == nil && u.Lang.Valid() {
		return f.loc.For(string(u.Lang))
	}
	return f.loc.For(string(storage.Kazakh))
}

func (f *broadcastReports) progressText(ctx context.Context, bc storage.Broadcast) string {
	l := f.adminLocalizer(ctx, bc.AdminChatID)
	return jobText(l, locales.BroadcastProgress, locales.PollProgress, bc, f.countsData(l, bc)) + f.runnerNoteText(l, bc.ID)
}

// jobText renders the broadcast message id of bc, or its poll variant
// when bc delivers a poll, named by the poll's own number.
func jobText(l *locales.Localizer, id, pollID string, bc storage.Broadcast, d locales.Data) string {
	if bc.PollID == 0 {
		return l.T(id, d)
	}
	d["Poll"] = bc.PollID
	return l.T(pollID, d)
}

// countsData are the numbers of bc for its progress, report and list
// entry. Each recipient is in exactly one of sent, blocked, failed,
// uncertain and left, so the lines add up to the total.
func (f *broadcastReports) countsData(l *locales.Localizer, bc storage.Broadcast) locales.Data {
	return locales.Data{
		"ID": bc.ID, "Status": l.T(statusLabel(bc.Status)), "Total": l.Int(bc.Total),
		"Sent": l.Int(bc.Counts.Sent), "Left": l.Int(bc.Left()), "Blocked": l.Int(bc.Counts.Blocked),
		"Failed": l.Int(bc.Counts.Failed), "Uncertain": l.Int(bc.Counts.Uncertain),
	}
}

// runnerNoteText is the line, with its newline, that tells the admin the
// runner of id is retrying or halted; "" when it is not in trouble.
func (f *broadcastReports) runnerNoteText(l *locales.Localizer, id uint64) string {
	n, ok := f.notes.Note(id)
	if !ok {
		return ""
	}
	msgID := locales.BroadcastRetryingDB
	switch {
	case n.Halted:
		msgID = locales.BroadcastHaltedNote
	case n.Internal:
		msgID = locales.BroadcastRetryingInternal
	}
	return "\n" + l.T(msgID, locales.Data{"Time": l.Clock(n.Since.In(f.cfg.Location))})
}

// showProgress edits the progress message; the admin may have deleted it,
// which is no reason to stop.
func (f *broadcastReports) showProgress(ctx context.Context, bc storage.Broadcast, text string) {
	if bc.ProgressMessageID == 0 {
		return
	}
	e := tgbotapi.NewEditMessageText(bc.AdminChatID, bc.ProgressMessageID, text)
	if _, err := f.send.Send(ctx, bc.AdminChatID, e); err != nil && !tg.IsNotModified(err) && ctx.Err() == nil {
		f.log.Warn("edit broadcast progress", "broadcast_id", bc.ID, "err", err)
	}
}

// broadcastReports is the broadcast runner's Reporter: it tells the admin
// in their language.

// Progress shows bc's counts in the admin's progress message.
func (f *broadcastReports) Progress(ctx context.Context, bc storage.Broadcast) {
	f.showProgress(ctx, bc, f.progressText(ctx, bc))
}

// Finished shows the final numbers in the progress message and sends the
// report as a new message, so the admin is notified.
func (f *broadcastReports) Finished(ctx context.Context, bc storage.Broadcast) {
	l := f.adminLocalizer(ctx, bc.AdminChatID)
	f.showProgress(ctx, bc, f.progressText(ctx, bc))
	if _, err := f.tx.SendText(ctx, bc.AdminChatID, jobText(l, locales.BroadcastReport, locales.PollReport, bc, f.countsData(l, bc)), nil); err != nil {
		f.log.Warn("send broadcast report", "broadcast_id", bc.ID, "err", err)
	}
}

// Halted tells the admin bc was paused after repeated panics.
func (f *broadcastReports) Halted(ctx context.Context, bc storage.Broadcast) {
	l := f.adminLocalizer(ctx, bc.AdminChatID)
	if _, err := f.tx.SendText(ctx, bc.AdminChatID, l.T(locales.BroadcastHalted, locales.Data{"ID": bc.ID}), nil); err != nil {
		f.log.Warn("tell the admin a broadcast was paused", "broadcast_id", bc.ID, "err", err)
	}
}

// Unreachable unsubscribes a recipient who blocked the bot.
func (f *broadcastReports) Unreachable(ctx context.Context, chatID int64) {
	f.subs.unsubscribeUnreachable(ctx, chatID)
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

// composerStore is what the composing dialogue and /broadcasts read and
// write.
type composerStore interface {
	dialogueStore
	CountAudience(ctx context.Context, a storage.Audience) (int, error)
	CreateBroadcast(ctx context.Context, b storage.Broadcast) (storage.Broadcast, error)
	SetProgressMessage(ctx context.Context, id uint64, messageID int) error
	Broadcast(ctx context.Context, id uint64) (storage.Broadcast, error)
	RecentBroadcasts(ctx context.Context, n int) ([]storage.Broadcast, error)
	SetBroadcastStatus(ctx context.Context, id uint64, next storage.BroadcastStatus, now time.Time) (storage.Broadcast, error)
}

// broadcastRunner delivers broadcasts (*broadcast.Runner): Run starts or
// resumes one, Halt stops its runner and closes the channel once it has.
type broadcastRunner interface {
	Run(id uint64)
	Halt(id uint64) <-chan struct{}
}

// jobReports are the admin's reports of a broadcast (broadcastReports).
type jobReports interface {
	progressText(ctx context.Context, bc storage.Broadcast) string
	countsData(l *locales.Localizer, bc storage.Broadcast) locales.Data
	runnerNoteText(l *locales.Localizer, id uint64) string
	Progress(ctx context.Context, bc storage.Broadcast)
	Finished(ctx context.Context, bc storage.Broadcast)
}

// broadcasts is the feature: the composing dialogue (/broadcast) and the
// list of jobs with their buttons (/broadcasts), admins only.
type broadcasts struct {
	kit
	store   composerStore
	send    chattableSender
	jobs    broadcastRunner
	reports jobReports
}

// handleBroadcast starts the composing dialogue (admins only).
func (f *broadcasts) handleBroadcast(ctx context.Context, r *tg.Request) error {
	if r.From == nil || !f.isAdmin(r.From.ID) {
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.NotAllowed), f.mainMenu(r.L))
		return err
	}
	if err := saveDialogue(ctx, f.store, newDialogue[broadcastState](r.ChatID, flowBroadcast, "kk", f.now()), f.now()); err != nil {
		return err
	}
	return f.askVersion(ctx, r, storage.Kazakh)
}

func (f *broadcasts) askVersion(ctx context.Context, r *tg.Request, lang storage.Lang) error {
	id := locales.BroadcastAskKK
	if lang == storage.Russian {
		id = locales.BroadcastAskRU
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		button(r.L.T(locales.BroadcastSkipButton), cbBroadcast, "skip", string(lang)),
	))
	_, err := f.tx.Reply(ctx, r, r.L.T(id), kb)
	return err
}

// handleBroadcastStep takes the admin's message in the composing dialogue.
func (f *broadcasts) handleBroadcastStep(ctx context.Context, r *tg.Request, conv storage.Conversation) error {
	if r.From == nil || !f.isAdmin(r.From.ID) {
		// An admin removed from the list mid-dialogue.
		if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
			return err
		}
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.NotAllowed), f.mainMenu(r.L))
		return err
	}
	d, err := dialogueOf[broadcastState](conv)
	if err != nil || len(conv.State) == 0 {
		// Written by a version whose state differed (or by the untyped
		// one): start over rather than send half of it.
		if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
			return err
		}
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.DialogExpired), f.mainMenu(r.L))
		return err
	}
	if d.Step != "kk" && d.Step != "ru" {
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.BroadcastUseButtons), nil)
		return err
	}
	if r.Message != nil && r.Message.MediaGroupID != "" {
		return f.refuseAlbum(ctx, r, d, r.Message.MediaGroupID)
	}
	v, problem := versionFromMessage(r.Message)
	if problem != "" {
		_, err := f.tx.Reply(ctx, r, r.L.T(problem), nil)
		return err
	}
	if d.State.Versions == nil {
		d.State.Versions = make(map[storage.Lang]storage.Version)
	}
	d.State.Versions[storage.Lang(d.Step)] = v
	return f.nextVersionStep(ctx, r, d)
}

// refuseAlbum answers an album sent as a version. Telegram delivers an
// album as one message per photo with a shared media_group_id; without this
// the second photo would become the next version. The first message of the
// album gets the answer, the rest are ignored, and the step stays.
func (f *broadcasts) refuseAlbum(ctx context.Context, r *tg.Request, d broadcastDialogue, group string) error {
	if d.State.Album == group {
		return nil
	}
	d.State.Album = group
	if err := saveDialogue(ctx, f.store, d, f.now()); err != nil {
		return err
	}
	_, err := f.tx.Reply(ctx, r, r.L.T(locales.BroadcastNoAlbum), nil)
	return err
}

// nextVersionStep moves from the Kazakh version to the Russian one, and
// from there to the audience.
func (f *broadcasts) nextVersionStep(ctx context.Context, r *tg.Request, d broadcastDialogue) error {
	if d.Step == "kk" {
		d.Step = "ru"
		if err := saveDialogue(ctx, f.store, d, f.now()); err != nil {
			return err
		}
		return f.askVersion(ctx, r, storage.Russian)
	}
	d.Step = "topic"
	if err := saveDialogue(ctx, f.store, d, f.now()); err != nil {
		return err
	}
	text, kb := f.topicQuestion(r.L, locales.BroadcastAskTopic)
	_, err := f.tx.Reply(ctx, r, text, kb)
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

func (f *broadcasts) topicQuestion(l *locales.Localizer, prompt string) (string, tgbotapi.InlineKeyboardMarkup) {
	return f.audienceQuestion(l, cbBroadcast, "t", prompt)
}

func (f *broadcasts) districtQuestion(l *locales.Localizer) (string, tgbotapi.InlineKeyboardMarkup) {
	return f.audienceQuestion(l, cbBroadcast, "d", locales.BroadcastAskDistrict)
}

func (f *broadcasts) langQuestion(l *locales.Localizer) (string, tgbotapi.InlineKeyboardMarkup) {
	return f.audienceQuestion(l, cbBroadcast, "l", locales.BroadcastAskLang)
}

// audienceQuestion asks one part of an audience, step "t" (topic), "d"
// (district) or "l" (language), with buttons <prefix>:<step>:<value|_>:
// broadcasts and polls choose their audience alike.
func (k kit) audienceQuestion(l *locales.Localizer, prefix, step, prompt string) (string, tgbotapi.InlineKeyboardMarkup) {
	switch step {
	case "d":
		return k.districtButtons(l, prefix, prompt)
	case "l":
		return k.langButtons(l, prefix, prompt)
	}
	return k.topicButtons(l, prefix, prompt)
}

func (k kit) topicButtons(l *locales.Localizer, prefix, prompt string) (string, tgbotapi.InlineKeyboardMarkup) {
	var rows [][]tgbotapi.InlineKeyboardButton
	for _, t := range storage.AllTopics() {
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(topicLabel(t)), prefix, "t", string(t))))
	}
	rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.BroadcastAllTopics), prefix, "t", anyArg)))
	return l.T(prompt), tgbotapi.NewInlineKeyboardMarkup(rows...)
}

func (k kit) districtButtons(l *locales.Localizer, prefix, prompt string) (string, tgbotapi.InlineKeyboardMarkup) {
	rows := [][]tgbotapi.InlineKeyboardButton{
		tgbotapi.NewInlineKeyboardRow(button(l.T(locales.AllDistricts), prefix, "d", anyArg)),
	}
	for _, d := range k.catalog().ListedDistricts() {
		if tg.ValidArg(d.ID) {
			rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(d.Name.In(l.Lang()), prefix, "d", d.ID)))
		}
	}
	return l.T(prompt), tgbotapi.NewInlineKeyboardMarkup(rows...)
}

func (k kit) langButtons(l *locales.Localizer, prefix, prompt string) (string, tgbotapi.InlineKeyboardMarkup) {
	return l.T(prompt), tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		button(l.T(locales.LanguageNameKK), prefix, "l", string(storage.Kazakh)),
		button(l.T(locales.LanguageNameRU), prefix, "l", string(storage.Russian)),
		button(l.T(locales.BroadcastBothLanguages), prefix, "l", anyArg),
	))
}

func (k kit) audienceText(l *locales.Localizer, a storage.Audience) string {
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
	return l.T(locales.BroadcastAudience, locales.Data{"Topic": topic, "District": esc(k.districtName(l, a.DistrictID)), "Lang": lang})
}

// handleBroadcastCallback handles the composing dialogue's buttons. A
// button only acts in the step that showed it, so an old keyboard cannot
// skip or send anything.
func (f *broadcasts) handleBroadcastCallback(ctx context.Context, r *tg.Request) error {
	if r.From == nil || !f.isAdmin(r.From.ID) || !r.Private {
		f.tx.Alert(ctx, r, r.L.T(locales.NotAllowed))
		return nil
	}
	conv, err := f.store.Conversation(ctx, r.ChatID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && (conv.Flow != flowBroadcast || len(conv.State) == 0)) {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	if err != nil {
		return err
	}
	d, err := dialogueOf[broadcastState](conv)
	if err != nil {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	action, arg := r.Data.Arg(0), r.Data.Arg(1)
	want := map[string]string{"skip": arg, "t": "topic", "d": "district", "l": "lang", "ok": "confirm", "no": d.Step}[action]
	if want == "" || want != d.Step {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	switch action {
	case "skip":
		// The Russian step comes after the Kazakh one, so no Kazakh
		// version there means it was left out.
		if _, kk := d.State.Versions[storage.Kazakh]; d.Step == "ru" && !kk {
			f.tx.Alert(ctx, r, r.L.T(locales.BroadcastNeedOneVersion))
			return nil
		}
		delete(d.State.Versions, storage.Lang(d.Step))
		f.tx.Answer(ctx, r, "")
		ask := locales.BroadcastAskKK
		if d.Step == "ru" {
			ask = locales.BroadcastAskRU
		}
		_ = f.tx.Edit(ctx, r, r.L.T(ask), nil) // drop the used button; a failed edit changes nothing
		return f.nextVersionStep(ctx, r, d)
	case "t":
		if t := storage.Topic(arg); arg != anyArg && !t.Valid() {
			f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
			return nil
		}
		d.State.Audience.Topic = storage.Topic(clearAny(arg))
		d.Step = "district"
		if err := saveDialogue(ctx, f.store, d, f.now()); err != nil {
			return err
		}
		text, kb := f.districtQuestion(r.L)
		return f.tx.Edit(ctx, r, text, &kb)
	case "d":
		if _, ok := f.catalog().District(arg); arg != anyArg && !ok {
			f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
			return nil
		}
		d.State.Audience.DistrictID = clearAny(arg)
		d.Step = "lang"
		if err := saveDialogue(ctx, f.store, d, f.now()); err != nil {
			return err
		}
		text, kb := f.langQuestion(r.L)
		return f.tx.Edit(ctx, r, text, &kb)
	case "l":
		if l := storage.Lang(arg); arg != anyArg && !l.Valid() {
			f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
			return nil
		}
		d.State.Audience.Lang = storage.Lang(clearAny(arg))
		return f.preview(ctx, r, d)
	case "ok":
		return f.confirmBroadcast(ctx, r, d)
	default: // "no"
		if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
			return err
		}
		if err := f.tx.Edit(ctx, r, r.L.T(locales.BroadcastCancelledDialog), nil); err != nil {
			return err
		}
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.MenuPrompt), f.mainMenu(r.L))
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
func (f *broadcasts) preview(ctx context.Context, r *tg.Request, d broadcastDialogue) error {
	versions, a := d.State.Versions, d.State.Audience
	n, err := f.store.CountAudience(ctx, a)
	if err != nil {
		return err
	}
	if n == 0 {
		d.Step = "topic"
		if err := saveDialogue(ctx, f.store, d, f.now()); err != nil {
			return err
		}
		text, kb := f.topicQuestion(r.L, locales.BroadcastNobody)
		return f.tx.Edit(ctx, r, text, &kb)
	}
	d.Step = "confirm"
	if err := saveDialogue(ctx, f.store, d, f.now()); err != nil {
		return err
	}
	if err := f.tx.Edit(ctx, r, f.audienceText(r.L, a), nil); err != nil {
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
		if _, err := f.tx.Reply(ctx, r, r.L.T(preview), nil); err != nil {
			return err
		}
		if _, err := f.send.Send(ctx, r.ChatID, versionMessage(r.ChatID, v)); err != nil {
			return err
		}
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		button(r.L.T(locales.BroadcastSendButton), cbBroadcast, "ok"),
		button(r.L.T(locales.ButtonCancel), cbBroadcast, "no"),
	))
	text := f.audienceText(r.L, a) + "\n" + r.L.N(locales.BroadcastRecipients, n)
	_, err = f.tx.Reply(ctx, r, text, kb)
	return err
}

// confirmBroadcast stores the job with its recipients fixed (the audience
// as it is now), ends the dialogue and starts the runner, which writes them
// out before it sends to anyone.
func (f *broadcasts) confirmBroadcast(ctx context.Context, r *tg.Request, d broadcastDialogue) error {
	versions, a := d.State.Versions, d.State.Audience
	if len(versions) == 0 {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return f.store.DeleteConversation(ctx, r.ChatID)
	}
	bc, err := f.store.CreateBroadcast(ctx, storage.Broadcast{AdminChatID: r.ChatID, Versions: versions, Audience: a, CreatedAt: f.now()})
	if err != nil {
		return err
	}
	if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
		return err
	}
	f.log.Info("broadcast confirmed", "broadcast_id", bc.ID, "chat_id", r.ChatID)
	f.tx.Answer(ctx, r, r.L.T(locales.BroadcastStarted, locales.Data{"ID": bc.ID}))
	if err := f.tx.Edit(ctx, r, f.audienceText(r.L, a)+"\n"+r.L.T(locales.BroadcastStarted, locales.Data{"ID": bc.ID}), nil); err != nil {
		f.log.Warn("edit broadcast confirmation", "broadcast_id", bc.ID, "err", err)
	}
	progressID, err := f.tx.Reply(ctx, r, f.reports.progressText(ctx, bc), nil)
	if err == nil {
		if err := f.store.SetProgressMessage(ctx, bc.ID, progressID); err != nil {
			f.log.Error("store broadcast progress message", "broadcast_id", bc.ID, "err", err)
		}
	} else {
		f.log.Warn("send broadcast progress", "broadcast_id", bc.ID, "err", err)
	}
	f.jobs.Run(bc.ID)
	return nil
}

// ---- the list of jobs ----

// handleBroadcasts lists recent broadcasts with their controls (admins only).
func (f *broadcasts) handleBroadcasts(ctx context.Context, r *tg.Request) error {
	if r.From == nil || !f.isAdmin(r.From.ID) {
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.NotAllowed), f.mainMenu(r.L))
		return err
	}
	text, kb, err := f.broadcastList(ctx, r.L)
	if err != nil {
		return err
	}
	if kb == nil {
		_, err = f.tx.Reply(ctx, r, text, nil)
	} else {
		_, err = f.tx.Reply(ctx, r, text, *kb)
	}
	return err
}

func (f *broadcasts) broadcastList(ctx context.Context, l *locales.Localizer) (string, *tgbotapi.InlineKeyboardMarkup, error) {
	list, err := f.store.RecentBroadcasts(ctx, recentBroadcasts)
	if err != nil {
		return "", nil, err
	}
	if len(list) == 0 {
		return l.T(locales.BroadcastListEmpty), nil, nil
	}
	text := l.T(locales.BroadcastListTitle)
	var rows [][]tgbotapi.InlineKeyboardButton
	for _, bc := range list {
		created := bc.CreatedAt.In(f.cfg.Location)
		d := f.reports.countsData(l, bc)
		d["Date"] = l.ShortDate(created) + " " + l.Clock(created)
		d["Audience"] = f.audienceText(l, bc.Audience)
		text += "\n\n" + l.T(locales.BroadcastListItem, d) + f.reports.runnerNoteText(l, bc.ID)
		if bc.PollID != 0 {
			text += "\n" + l.T(locales.PollBroadcastLabel, locales.Data{"ID": bc.PollID})
		}
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
func (f *broadcasts) handleBroadcastJobCallback(ctx context.Context, r *tg.Request) error {
	if r.From == nil || !f.isAdmin(r.From.ID) || !r.Private {
		f.tx.Alert(ctx, r, r.L.T(locales.NotAllowed))
		return nil
	}
	id, err := r.Data.ID(1)
	next := map[string]storage.BroadcastStatus{"p": storage.BroadcastPaused, "r": storage.BroadcastRunning, "c": storage.BroadcastCancelled}[r.Data.Arg(0)]
	if err != nil || next == "" {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	bc, err := f.store.SetBroadcastStatus(ctx, id, next, f.now())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	case errors.Is(err, storage.ErrConflict):
		f.tx.Answer(ctx, r, r.L.T(locales.BroadcastCannotChange))
	case err != nil:
		return err
	default:
		f.log.Info("broadcast status changed", "broadcast_id", id, "status", string(next), "chat_id", r.ChatID)
		switch next {
		case storage.BroadcastRunning:
			f.jobs.Run(id)
		case storage.BroadcastPaused:
			<-f.jobs.Halt(id)
			f.reports.Progress(ctx, bc)
		case storage.BroadcastCancelled:
			<-f.jobs.Halt(id)
			if bc, err := f.store.Broadcast(ctx, id); err == nil {
				f.reports.Finished(ctx, bc)
			} else {
				f.log.Error("load broadcast for its report", "broadcast_id", id, "err", err)
			}
		}
		f.tx.Answer(ctx, r, r.L.T(locales.BroadcastChanged, locales.Data{"ID": strconv.FormatUint(id, 10), "Status": r.L.T(statusLabel(next))}))
	}
	text, kb, err := f.broadcastList(ctx, r.L)
	if err != nil {
		return err
	}
	return f.tx.Edit(ctx, r, text, kb)
}
