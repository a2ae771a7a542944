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

// feedbackStore is what feedback reads and writes.
type feedbackStore interface {
	dialogueStore
	Booking(ctx context.Context, id uint64) (storage.Booking, error)
	SaveRating(ctx context.Context, f storage.Feedback) (storage.Feedback, error)
	SaveFeedbackComment(ctx context.Context, bookingID uint64, comment string) error
	Feedback(ctx context.Context, bookingID uint64) (storage.Feedback, error)
}

// feedback is the feature: the question after an attended consultation
// (sent as a reminder), the rating and the optional comment.
type feedback struct {
	kit
	store feedbackStore
	texts *bookingTexts
	bulk  bulkSender
}

// askFeedback sends "how was it?" with 1–5 buttons. The reminder that
// triggers it is written once, with the attended mark, and claimed before
// this runs, so the question is never sent twice.
func (f *feedback) askFeedback(ctx context.Context, r storage.Reminder, u storage.User) error {
	bk, err := f.store.Booking(ctx, r.BookingID)
	if err != nil {
		return fmt.Errorf("feedback reminder %d: %w", r.ID, err)
	}
	if bk.Status != storage.BookingAttended || bk.ChatID != r.ChatID {
		return fmt.Errorf("feedback reminder %d of booking %d (%s): %w", r.ID, bk.ID, bk.Status, errObsolete)
	}
	l := personL(f.loc, u, bk.Lang)
	var row []tgbotapi.InlineKeyboardButton
	for n := 1; n <= 5; n++ {
		row = append(row, button(strconv.Itoa(n), cbFeedbackRate, tg.B36(bk.ID), strconv.Itoa(n)))
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(row)
	return sendReminder(ctx, f.bulk, r.ChatID, l.T(locales.FeedbackAsk, f.texts.bookingData(l, bk)), kb)
}

// feedbackBooking loads the attended booking a feedback button names and
// checks it is the presser's; anything else is an outdated button.
func (f *feedback) feedbackBooking(ctx context.Context, r *tg.Request, id uint64) (storage.Booking, bool, error) {
	bk, err := f.store.Booking(ctx, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && (bk.ChatID != r.ChatID || !r.Private || bk.Status != storage.BookingAttended)) {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return bk, false, nil
	}
	return bk, err == nil, err
}

// handleFeedbackRate: fb:<booking id>:<1..5> stores the rating once and
// offers a comment. A second press keeps the first rating and says so.
func (f *feedback) handleFeedbackRate(ctx context.Context, r *tg.Request) error {
	id, err := r.Data.ID(0)
	n, nerr := strconv.Atoi(r.Data.Arg(1))
	if err != nil || nerr != nil || n < 1 || n > 5 {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	bk, ok, err := f.feedbackBooking(ctx, r, id)
	if !ok || err != nil {
		return err
	}
	_, err = f.store.SaveRating(ctx, storage.Feedback{
		BookingID: bk.ID, ChatID: bk.ChatID, TypeID: bk.TypeID, CenterID: bk.CenterID, Rating: n, At: f.now(),
	})
	if errors.Is(err, storage.ErrConflict) {
		f.tx.Answer(ctx, r, r.L.T(locales.FeedbackAlreadyRated))
		return nil
	}
	if err != nil {
		return err
	}
	d := newDialogue[feedbackState](r.ChatID, flowFeedback, stepComment, f.now())
	d.State.BookingID = bk.ID
	conv, err := d.stored(f.now())
	if err != nil {
		return err
	}
	if err := f.store.SaveConversation(ctx, conv); err != nil {
		return err
	}
	f.tx.Answer(ctx, r, "")
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		button(r.L.T(locales.FeedbackSkip), cbFeedbackSkip, tg.B36(bk.ID)),
	))
	return f.tx.Edit(ctx, r, r.L.T(locales.FeedbackRated, locales.Data{"Rating": n}), &kb)
}

// handleFeedbackSkip: fbs:<booking id> ends the dialogue without a comment.
func (f *feedback) handleFeedbackSkip(ctx context.Context, r *tg.Request) error {
	id, err := r.Data.ID(0)
	if err != nil {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	bk, ok, err := f.feedbackBooking(ctx, r, id)
	if !ok || err != nil {
		return err
	}
	given, err := f.store.Feedback(ctx, bk.ID)
	if errors.Is(err, storage.ErrNotFound) {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	if err != nil {
		return err
	}
	if err := f.endFeedback(ctx, r.ChatID, bk.ID); err != nil {
		return err
	}
	f.tx.Answer(ctx, r, "")
	return f.tx.Edit(ctx, r, r.L.T(locales.FeedbackDone, locales.Data{"Rating": given.Rating}), nil)
}

// endFeedback deletes the chat's dialogue if it is the comment step of this
// booking's feedback, and leaves any other dialogue alone.
func (f *feedback) endFeedback(ctx context.Context, chatID int64, bookingID uint64) error {
	conv, err := f.store.Conversation(ctx, chatID)
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
	return f.store.DeleteConversation(ctx, chatID)
}

// handleFeedbackStep takes the comment: one text message.
func (f *feedback) handleFeedbackStep(ctx context.Context, r *tg.Request, conv storage.Conversation) error {
	text := strings.TrimSpace(r.Message.Text)
	if text == "" {
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.FeedbackCommentText), nil)
		return err
	}
	if isLabel(text, locales.FeedbackSkip, f.loc) {
		if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
			return err
		}
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.FeedbackThanks), f.mainMenu(r.L))
		return err
	}
	d, err := dialogueOf[feedbackState](conv)
	if err != nil || d.State.BookingID == 0 {
		return f.store.DeleteConversation(ctx, r.ChatID)
	}
	err = f.store.SaveFeedbackComment(ctx, d.State.BookingID, text)
	if err != nil && !errors.Is(err, storage.ErrConflict) {
		return err
	}
	if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
		return err
	}
	_, err = f.tx.Reply(ctx, r, r.L.T(locales.FeedbackThanks), f.mainMenu(r.L))
	return err
}
