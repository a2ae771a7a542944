package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
)

// Polls (issue 18): an admin asks subscribers a question (/poll); it goes
// out as a broadcast whose message carries the answer buttons; a tap is one
// AnswerPoll; /polls shows the results; a scheduler job closes due polls.
// The storage and the report files are storage/poll.go and bot/report.

// pollStore is what the polls feature reads and writes.
type pollStore interface {
	CreatePoll(ctx context.Context, p storage.Poll) (storage.Poll, error)
	DeleteDraft(ctx context.Context, id uint64) error
	Poll(ctx context.Context, id uint64) (storage.Poll, error)
	RecentPolls(ctx context.Context, before uint64, n int) ([]storage.Poll, error)
	SendPoll(ctx context.Context, id uint64, b storage.Broadcast) (storage.Poll, storage.Broadcast, error)
	AnswerPoll(ctx context.Context, id uint64, chatID int64, c storage.PollChoice, now time.Time) (storage.Poll, storage.PollAnswer, error)
	PollAnswer(ctx context.Context, id uint64, chatID int64) (storage.PollAnswer, error)
	PollTally(ctx context.Context, id uint64) (storage.Poll, storage.PollTally, error)
	WalkPollAnswers(ctx context.Context, id uint64, f func(storage.PollAnswer) error) error
	DuePolls(ctx context.Context, now time.Time) ([]storage.Poll, error)
	ClosePoll(ctx context.Context, id uint64, now time.Time) (storage.Poll, bool, error)
	SendPollSummary(ctx context.Context, id uint64, b storage.Broadcast) (storage.Poll, storage.Broadcast, error)
	PollAnswersOf(ctx context.Context, chatID int64) ([]storage.AnsweredPoll, error)
	CountAudience(ctx context.Context, a storage.Audience) (int, error)
	SetProgressMessage(ctx context.Context, id uint64, messageID int) error
	Conversation(ctx context.Context, chatID int64) (storage.Conversation, error)
	SaveConversation(ctx context.Context, c storage.Conversation) error
	DeleteConversation(ctx context.Context, chatID int64) error
}

// pollReports are the admin's reports of the broadcast that delivers a
// poll (broadcastReports, broadcast.go).
type pollReports interface {
	adminLocalizer(ctx context.Context, chatID int64) *locales.Localizer
	progressText(ctx context.Context, bc storage.Broadcast) string
}

// pollRunner starts delivering a stored broadcast, a poll's question or
// its summary (*broadcast.Runner).
type pollRunner interface {
	Run(id uint64)
}

type polls struct {
	kit
	store   pollStore
	reports pollReports
	runner  pollRunner
	// send sends any message (a photo, a file, an edit) through the
	// shared sender.
	send chattableSender
}

// otherBit is the bit of an answer mask that stands for "other"; bits 0..7
// are the options (storage.MaxPollOptions).
const otherBit = 8

// maskOf is the answer mask of a choice.
func maskOf(c storage.PollChoice) uint64 {
	var m uint64
	for _, o := range c.Options {
		m |= 1 << o
	}
	if c.Other {
		m |= 1 << otherBit
	}
	return m
}

// choiceOf is the choice a mask stands for; ok is false for bits no poll
// has (a forged button).
func choiceOf(m uint64) (storage.PollChoice, bool) {
	if m>>(otherBit+1) != 0 {
		return storage.PollChoice{}, false
	}
	var c storage.PollChoice
	for i := 0; i < storage.MaxPollOptions; i++ {
		if m&(1<<i) != 0 {
			c.Options = append(c.Options, i)
		}
	}
	c.Other = m&(1<<otherBit) != 0
	return c, true
}

// pollBody is the question and its numbered options in lang, plain text
// (a broadcast's version is sent without parse mode).
func pollBody(l *locales.Localizer, p storage.Poll, lang storage.Lang) string {
	var b strings.Builder
	b.WriteString("📊 " + p.Question.In(lang) + "\n")
	for i, o := range p.Options {
		fmt.Fprintf(&b, "\n%d. %s", i+1, o.In(lang))
	}
	if p.Other {
		fmt.Fprintf(&b, "\n%d. %s", len(p.Options)+1, l.T(locales.PollOtherOption))
	}
	hint := locales.PollHintOne
	if p.Multiple {
		hint = locales.PollHintMany
	}
	return b.String() + "\n\n" + l.T(hint)
}

// pollButtons are the answer buttons for a reader of lang whose current
// choice is cur: a single-answer poll's buttons each choose one option; a
// several-answer poll's flip one option of cur, marked when chosen.
func pollButtons(l *locales.Localizer, p storage.Poll, lang storage.Lang, cur storage.PollChoice) [][]storage.Button {
	id, m := tg.B36(p.ID), maskOf(cur)
	btn := func(label string, bit int) []storage.Button {
		mask := uint64(1) << bit
		if p.Multiple {
			mask = m ^ mask
			if m&(1<<bit) != 0 {
				label = "✅ " + label
			}
		}
		data, err := tg.EncodeCallback(cbPollAnswer, id, tg.B36(mask))
		if err != nil {
			panic(err) // a poll id and a 9-bit mask always fit
		}
		return []storage.Button{{Text: label, Data: data}}
	}
	var rows [][]storage.Button
	for i, o := range p.Options {
		rows = append(rows, btn(o.In(lang), i))
	}
	if p.Other {
		rows = append(rows, btn(l.T(locales.PollOtherButton), otherBit))
	}
	return rows
}

// pollVersions are the question in each language the poll is written in,
// with its buttons, as the broadcast's versions.
func (f *polls) pollVersions(p storage.Poll) map[storage.Lang]storage.Version {
	out := map[storage.Lang]storage.Version{}
	for _, lang := range p.Langs() {
		l := f.loc.For(string(lang))
		out[lang] = storage.Version{Text: pollBody(l, p, lang), Buttons: pollButtons(l, p, lang, storage.PollChoice{})}
	}
	return out
}

// readerLang is the language a reader of l sees the poll in.
func readerLang(l *locales.Localizer, p storage.Poll) storage.Lang {
	lang := storage.Lang(l.Lang())
	if p.Question.In(lang) == "" || !lang.Valid() {
		return p.Langs()[0]
	}
	if len(p.Langs()) == 1 {
		return p.Langs()[0]
	}
	return lang
}

// answerText names a choice: the options, then "other" with its text.
func answerText(l *locales.Localizer, p storage.Poll, lang storage.Lang, c storage.PollChoice) string {
	var parts []string
	for _, o := range c.Options {
		if o >= 0 && o < len(p.Options) {
			parts = append(parts, p.Options[o].In(lang))
		}
	}
	if c.Other {
		other := l.T(locales.PollOtherOption)
		if c.OtherText != "" {
			other += ": " + c.OtherText
		}
		parts = append(parts, other)
	}
	return strings.Join(parts, "; ")
}

// answeredView is the question with the person's answer, and the buttons
// to change it while the poll is open: a single-answer poll's "change",
// or a several-answer poll's options to flip.
func answeredView(l *locales.Localizer, p storage.Poll, c storage.PollChoice) (string, *tgbotapi.InlineKeyboardMarkup) {
	lang := readerLang(l, p)
	text := esc(pollBody(l, p, lang))
	if c.Empty() {
		kb := *versionKeyboard(storage.Version{Buttons: pollButtons(l, p, lang, c)})
		return text, &kb
	}
	text += "\n\n" + l.T(locales.PollYourAnswer, locales.Data{"Answer": esc(answerText(l, p, lang, c))})
	var kb tgbotapi.InlineKeyboardMarkup
	if p.Multiple {
		kb = *versionKeyboard(storage.Version{Buttons: pollButtons(l, p, lang, c)})
	} else {
		kb = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(button(l.T(locales.PollChangeButton), cbPollChange, tg.B36(p.ID))))
	}
	return text, &kb
}

// closedView is the question, the person's answer if any, and that the
// poll is closed, with no buttons.
func closedView(l *locales.Localizer, p storage.Poll, c storage.PollChoice) string {
	lang := readerLang(l, p)
	text := esc(pollBody(l, p, lang))
	if !c.Empty() {
		text += "\n\n" + l.T(locales.PollYourAnswer, locales.Data{"Answer": esc(answerText(l, p, lang, c))})
	}
	return text + "\n\n" + l.T(locales.PollClosedNote)
}

// current is the chat's answer to the poll, empty when none.
func (f *polls) current(ctx context.Context, id uint64, chatID int64) (storage.PollChoice, error) {
	a, err := f.store.PollAnswer(ctx, id, chatID)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.PollChoice{}, nil
	}
	return a.PollChoice, err
}

// showClosed tells the presser the poll is closed and takes the buttons
// off the message.
func (f *polls) showClosed(ctx context.Context, r *tg.Request, p storage.Poll) error {
	f.tx.Alert(ctx, r, r.L.T(locales.PollClosedAlert))
	c, err := f.current(ctx, p.ID, r.ChatID)
	if err != nil {
		return err
	}
	return f.tx.Edit(ctx, r, closedView(r.L, p, c), nil)
}

// handleAnswer records a tap on an answer button: pa:<poll>:<mask>. The
// mask is the whole new choice, so a tap Telegram delivers twice records
// the same answer twice, which the store counts once.
func (f *polls) handleAnswer(ctx context.Context, r *tg.Request) error {
	id, err1 := r.Data.ID(0)
	mask, err2 := r.Data.ID(1)
	choice, ok := choiceOf(mask)
	if err1 != nil || err2 != nil || !ok {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	p, err := f.store.Poll(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	if err != nil {
		return err
	}
	if !p.Answerable(f.now()) {
		if p.Status == storage.PollDraft {
			f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
			return nil
		}
		return f.showClosed(ctx, r, p)
	}
	if choice.Other {
		cur, err := f.current(ctx, id, r.ChatID)
		if err != nil {
			return err
		}
		if !cur.Other {
			return f.askOther(ctx, r, p, mask)
		}
		choice.OtherText = cur.OtherText // flipping another option keeps the text
	}
	if err := f.dropOtherWait(ctx, r.ChatID, id); err != nil {
		return err
	}
	return f.record(ctx, r, id, choice, r.Message)
}

// dropOtherWait ends the chat's wait for the "other" text of poll id, if
// it has one: a tap after "other" is the newer answer, and the text the
// person writes next (a thank-you, a question) must not replace it.
// Another feature's dialogue is left alone.
func (f *polls) dropOtherWait(ctx context.Context, chatID int64, id uint64) error {
	conv, err := f.store.Conversation(ctx, chatID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read dialogue of poll %d: %w", id, err)
	}
	if conv.Flow != flowPollOther {
		return nil
	}
	// A wait this version cannot read is dropped too: it cannot be
	// finished.
	if d, err := dialogueOf[pollOtherState](conv); err == nil && len(conv.State) > 0 && d.State.PollID != id {
		return nil
	}
	if err := f.store.DeleteConversation(ctx, chatID); err != nil {
		return fmt.Errorf("end the other text of poll %d: %w", id, err)
	}
	return nil
}

// record stores the choice and shows it on msg, the question's message.
func (f *polls) record(ctx context.Context, r *tg.Request, id uint64, choice storage.PollChoice, msg *tgbotapi.Message) error {
	p, a, err := f.store.AnswerPoll(ctx, id, r.ChatID, choice, f.now())
	switch {
	case errors.Is(err, storage.ErrPollClosed):
		p, err := f.store.Poll(ctx, id)
		if err != nil {
			return err
		}
		return f.showClosed(ctx, r, p)
	case errors.Is(err, storage.ErrNotRecipient), errors.Is(err, storage.ErrInvalid), errors.Is(err, storage.ErrNotFound):
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	case err != nil:
		return fmt.Errorf("answer poll %d: %w", id, err)
	}
	f.log.Info("poll answered", "poll_id", id, "chat_id", r.ChatID)
	f.tx.Answer(ctx, r, r.L.T(locales.PollSaved))
	text, kb := answeredView(r.L, p, a.PollChoice)
	if msg == nil {
		_, err := f.tx.Reply(ctx, r, text, kb)
		return err
	}
	e := tgbotapi.NewEditMessageText(r.ChatID, msg.MessageID, text)
	e.ParseMode = tgbotapi.ModeHTML
	e.ReplyMarkup = kb
	if _, err := f.send.Send(ctx, r.ChatID, e); err != nil && !tg.IsNotModified(err) {
		return fmt.Errorf("show poll %d answer: %w", id, err)
	}
	return nil
}

// handleChange brings the option buttons back under the question:
// pac:<poll>.
func (f *polls) handleChange(ctx context.Context, r *tg.Request) error {
	p, ok, err := pressed(ctx, f.kit, r, 0, f.store.Poll)
	if !ok || err != nil {
		return err
	}
	id := p.ID
	if !p.Answerable(f.now()) {
		return f.showClosed(ctx, r, p)
	}
	cur, err := f.current(ctx, id, r.ChatID)
	if err != nil {
		return err
	}
	lang := readerLang(r.L, p)
	text := esc(pollBody(r.L, p, lang))
	if !cur.Empty() {
		text += "\n\n" + r.L.T(locales.PollYourAnswer, locales.Data{"Answer": esc(answerText(r.L, p, lang, cur))})
	}
	f.tx.Answer(ctx, r, "")
	return f.tx.Edit(ctx, r, text, versionKeyboard(storage.Version{Buttons: pollButtons(r.L, p, lang, cur)}))
}

// flowPollOther takes the free text of an "other" answer.
const flowPollOther = "pollother"

// pollOtherState is what the wait for an "other" text keeps.
type pollOtherState struct {
	PollID uint64 `json:"poll"`
	Mask   uint64 `json:"mask"` // the choice, other included (maskOf)
	// MessageID is the question's message, edited to show the answer; 0
	// when unknown.
	MessageID int `json:"msg,omitempty"`
}

func (f *polls) askOther(ctx context.Context, r *tg.Request, p storage.Poll, mask uint64) error {
	d := newDialogue[pollOtherState](r.ChatID, flowPollOther, "text", f.now())
	d.State = pollOtherState{PollID: p.ID, Mask: mask}
	if r.Message != nil {
		d.State.MessageID = r.Message.MessageID
	}
	if err := saveDialogue(ctx, f.store, d, f.now()); err != nil {
		return err
	}
	f.tx.Answer(ctx, r, "")
	_, err := f.tx.Reply(ctx, r, r.L.T(locales.PollAskOther, locales.Data{"Max": storage.MaxPollOtherLen}), nil)
	return err
}

// handleOtherStep takes the "other" text and records the answer.
func (f *polls) handleOtherStep(ctx context.Context, r *tg.Request, conv storage.Conversation) error {
	text := ""
	if r.Message != nil {
		text = strings.TrimSpace(r.Message.Text)
	}
	if text == "" || utf16Len(text) > storage.MaxPollOtherLen || strings.ContainsAny(text, "\n\r\t") {
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.PollOtherBad, locales.Data{"Max": storage.MaxPollOtherLen}), nil)
		return err
	}
	// A wait saved by a version whose state differed (or the untyped
	// one) names no poll: the answer is refused as outdated.
	d, derr := dialogueOf[pollOtherState](conv)
	id := d.State.PollID
	choice, ok := choiceOf(d.State.Mask)
	if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
		return err
	}
	if derr != nil || id == 0 || !ok {
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.OutdatedButton), f.mainMenu(r.L))
		return err
	}
	choice.OtherText = text
	var msg *tgbotapi.Message
	if n := d.State.MessageID; n > 0 {
		msg = &tgbotapi.Message{MessageID: n}
	}
	p, a, err := f.store.AnswerPoll(ctx, id, r.ChatID, choice, f.now())
	switch {
	case errors.Is(err, storage.ErrPollClosed):
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.PollClosedAlert), f.mainMenu(r.L))
		return err
	case errors.Is(err, storage.ErrNotRecipient), errors.Is(err, storage.ErrInvalid), errors.Is(err, storage.ErrNotFound):
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.OutdatedButton), f.mainMenu(r.L))
		return err
	case err != nil:
		return fmt.Errorf("answer poll %d: %w", id, err)
	}
	f.log.Info("poll answered", "poll_id", id, "chat_id", r.ChatID)
	view, kb := answeredView(r.L, p, a.PollChoice)
	if msg != nil {
		e := tgbotapi.NewEditMessageText(r.ChatID, msg.MessageID, view)
		e.ParseMode = tgbotapi.ModeHTML
		e.ReplyMarkup = kb
		if _, err := f.send.Send(ctx, r.ChatID, e); err != nil && !tg.IsNotModified(err) {
			f.log.Warn("show poll answer", "poll_id", id, "err", err)
		}
	}
	_, err = f.tx.Reply(ctx, r, r.L.T(locales.PollSaved), f.mainMenu(r.L))
	return err
}
