package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
)

// The feedback dialogue: after the rating, one optional comment.
const (
	flowFeedback = "feedback"
	stepComment  = "comment"
)

// feedbackState is what the comment step keeps: the booking rated.
type feedbackState struct {
	BookingID uint64 `json:"booking"`
}

// askFeedback sends "how was it?" with 1–5 buttons. The reminder that
// triggers it is written once, with the attended mark, and claimed before
// this runs, so the question is never sent twice.
func (b *Bot) askFeedback(ctx context.Context, r storage.Reminder, u storage.User) error {
	bk, err := b.store.Booking(ctx, r.BookingID)
	if err != nil {
		return fmt.Errorf("feedback reminder %d: %w", r.ID, err)
	}
	if bk.Status != storage.BookingAttended || bk.ChatID != r.ChatID {
		return fmt.Errorf("feedback reminder %d of booking %d (%s): %w", r.ID, bk.ID, bk.Status, errObsolete)
	}
	l := b.personL(u, bk.Lang)
	var row []tgbotapi.InlineKeyboardButton
	for n := 1; n <= 5; n++ {
		row = append(row, button(strconv.Itoa(n), cbFeedbackRate, tg.B36(bk.ID), strconv.Itoa(n)))
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(row)
	return b.sendReminder(ctx, r.ChatID, l.T(locales.FeedbackAsk, b.bookingData(l, bk)), kb)
}

// feedbackBooking loads the attended booking a feedback button names and
// checks it is the presser's; anything else is an outdated button.
func (b *Bot) feedbackBooking(ctx context.Context, r *Request, id uint64) (storage.Booking, bool, error) {
	bk, err := b.store.Booking(ctx, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && (bk.ChatID != r.ChatID || !r.Private || bk.Status != storage.BookingAttended)) {
		b.answer(ctx, r, r.L.T(locales.OutdatedButton))
		return bk, false, nil
	}
	return bk, err == nil, err
}

// handleFeedbackRate: fb:<booking id>:<1..5> stores the rating once and
// offers a comment. A second press keeps the first rating and says so.
func (b *Bot) handleFeedbackRate(ctx context.Context, r *Request) error {
	id, err := r.Data.ID(0)
	n, nerr := strconv.Atoi(r.Data.Arg(1))
	if err != nil || nerr != nil || n < 1 || n > 5 {
		b.answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	bk, ok, err := b.feedbackBooking(ctx, r, id)
	if !ok || err != nil {
		return err
	}
	_, err = b.store.SaveRating(ctx, storage.Feedback{
		BookingID: bk.ID, ChatID: bk.ChatID, TypeID: bk.TypeID, CenterID: bk.CenterID, Rating: n, At: b.now(),
	})
	if errors.Is(err, storage.ErrConflict) {
		b.answer(ctx, r, r.L.T(locales.FeedbackAlreadyRated))
		return nil
	}
	if err != nil {
		return err
	}
	d := newDialogue[feedbackState](r.ChatID, flowFeedback, stepComment, b.now())
	d.State.BookingID = bk.ID
	conv, err := d.stored(b.now())
	if err != nil {
		return err
	}
	if err := b.store.SaveConversation(ctx, conv); err != nil {
		return err
	}
	b.answer(ctx, r, "")
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		button(r.L.T(locales.FeedbackSkip), cbFeedbackSkip, tg.B36(bk.ID)),
	))
	return b.edit(ctx, r, r.L.T(locales.FeedbackRated, locales.Data{"Rating": n}), &kb)
}

// handleFeedbackSkip: fbs:<booking id> ends the dialogue without a comment.
func (b *Bot) handleFeedbackSkip(ctx context.Context, r *Request) error {
	id, err := r.Data.ID(0)
	if err != nil {
		b.answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	bk, ok, err := b.feedbackBooking(ctx, r, id)
	if !ok || err != nil {
		return err
	}
	f, err := b.store.Feedback(ctx, bk.ID)
	if errors.Is(err, storage.ErrNotFound) {
		b.answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	if err != nil {
		return err
	}
	if err := b.endFeedback(ctx, r.ChatID, bk.ID); err != nil {
		return err
	}
	b.answer(ctx, r, "")
	return b.edit(ctx, r, r.L.T(locales.FeedbackDone, locales.Data{"Rating": f.Rating}), nil)
}

// endFeedback deletes the chat's dialogue if it is the comment step of this
// booking's feedback, and leaves any other dialogue alone.
func (b *Bot) endFeedback(ctx context.Context, chatID int64, bookingID uint64) error {
	conv, err := b.store.Conversation(ctx, chatID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if conv.Flow != flowFeedback {
		return nil
	}
	if d, err := dialogueOf[feedbackState](conv); err == nil && d.State.BookingID != bookingID {
		return nil
	}
	return b.store.DeleteConversation(ctx, chatID)
}

// handleFeedbackStep takes the comment: one text message.
func (b *Bot) handleFeedbackStep(ctx context.Context, r *Request, conv storage.Conversation) error {
	text := strings.TrimSpace(r.Message.Text)
	if text == "" {
		_, err := b.reply(ctx, r, r.L.T(locales.FeedbackCommentText), nil)
		return err
	}
	if isLabel(text, locales.FeedbackSkip, b.loc) {
		if err := b.store.DeleteConversation(ctx, r.ChatID); err != nil {
			return err
		}
		_, err := b.reply(ctx, r, r.L.T(locales.FeedbackThanks), b.mainMenu(r.L))
		return err
	}
	d, err := dialogueOf[feedbackState](conv)
	if err != nil || d.State.BookingID == 0 {
		return b.store.DeleteConversation(ctx, r.ChatID)
	}
	err = b.store.SaveFeedbackComment(ctx, d.State.BookingID, text)
	if err != nil && !errors.Is(err, storage.ErrConflict) {
		return err
	}
	if err := b.store.DeleteConversation(ctx, r.ChatID); err != nil {
		return err
	}
	_, err = b.reply(ctx, r, r.L.T(locales.FeedbackThanks), b.mainMenu(r.L))
	return err
}
