package tg

import (
	"context"
	"errors"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/locales"
)

// Reply sends an HTML message to the request's chat. markup may be nil, an
// inline keyboard, a reply keyboard or a keyboard removal.
func (t *Transport) Reply(ctx context.Context, r *Request, text string, markup any) (int, error) {
	return t.SendText(ctx, r.ChatID, text, markup)
}

// SendText sends an HTML message to any chat at interactive priority.
func (t *Transport) SendText(ctx context.Context, chatID int64, text string, markup any) (int, error) {
	m := tgbotapi.NewMessage(chatID, text)
	m.ParseMode = tgbotapi.ModeHTML
	m.DisableWebPagePreview = true
	if markup != nil {
		m.ReplyMarkup = markup
	}
	return t.send.Send(ctx, chatID, m)
}

// Edit replaces the text and inline keyboard of the message a button belongs
// to, so paging and toggles never flood the chat. An edit that changes
// nothing (a double press) is not an error.
func (t *Transport) Edit(ctx context.Context, r *Request, text string, kb *tgbotapi.InlineKeyboardMarkup) error {
	if r.Message == nil {
		_, err := t.Reply(ctx, r, text, kb)
		return err
	}
	e := tgbotapi.NewEditMessageText(r.ChatID, r.Message.MessageID, text)
	e.ParseMode = tgbotapi.ModeHTML
	e.DisableWebPagePreview = true
	e.ReplyMarkup = kb
	_, err := t.send.Send(ctx, r.ChatID, e)
	if IsNotModified(err) {
		return nil
	}
	return err
}

// EditKeyboard replaces only the buttons of the pressed message.
func (t *Transport) EditKeyboard(ctx context.Context, r *Request, kb tgbotapi.InlineKeyboardMarkup) error {
	if r.Message == nil {
		return nil
	}
	_, err := t.send.Send(ctx, r.ChatID, tgbotapi.NewEditMessageReplyMarkup(r.ChatID, r.Message.MessageID, kb))
	if IsNotModified(err) {
		return nil
	}
	return err
}

// Answer stops the spinner of a pressed button, with an optional notice. It
// does not wait for Telegram: the answer and the handler's edit are
// independent calls, and a person waits for both only if we send them one
// after the other.
func (t *Transport) Answer(ctx context.Context, r *Request, text string) {
	if r.Query == nil || r.answered {
		return
	}
	r.answered = true
	cfg := tgbotapi.NewCallback(r.Query.ID, text)
	t.Go(func(ctx context.Context) {
		if _, err := t.send.Request(ctx, cfg); err != nil {
			t.log.Warn("answer callback query", "chat_id", r.ChatID, "err", err)
		}
	})
}

// Alert answers a button press with a pop-up the person must close.
func (t *Transport) Alert(ctx context.Context, r *Request, text string) {
	if r.Query == nil || r.answered {
		return
	}
	r.answered = true
	if _, err := t.send.Request(ctx, tgbotapi.NewCallbackWithAlert(r.Query.ID, text)); err != nil {
		t.log.Warn("answer callback query", "chat_id", r.ChatID, "err", err)
	}
}

// Go runs f outside the handler, with a context that survives the
// handler's end but not a minute, nor the drain deadline; Drain waits for
// it. Once shutdown began f is not started (a handler that outlived the
// deadline gets no callback answer: its update is replayed).
func (t *Transport) Go(f func(ctx context.Context)) {
	started := t.bg.Run(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		f(ctx)
	})
	if !started {
		t.log.Debug("background work refused: shutting down")
	}
}

// MenuKeyboard is the main reply keyboard as registered with MenuRow, in
// l's language.
func (t *Transport) MenuKeyboard(l *locales.Localizer) tgbotapi.ReplyKeyboardMarkup {
	var rows [][]tgbotapi.KeyboardButton
	for _, row := range t.routes.menu {
		var buttons []tgbotapi.KeyboardButton
		for _, it := range row {
			btn := tgbotapi.NewKeyboardButton(l.T(it.Label))
			btn.RequestLocation = it.RequestLocation
			buttons = append(buttons, btn)
		}
		rows = append(rows, buttons)
	}
	kb := tgbotapi.NewReplyKeyboard(rows...)
	kb.ResizeKeyboard = true
	return kb
}

// IsNotModified tells an edit that changed nothing, which is no failure.
func IsNotModified(err error) bool { return err != nil && errors.Is(err, ErrNotModified) }
