package bot

import (
	"context"
	"errors"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/tg"
	"jastar/locales"
)

// reply sends an HTML message to the request's chat. markup may be nil, an
// inline keyboard, a reply keyboard or a keyboard removal.
func (b *Bot) reply(ctx context.Context, r *Request, text string, markup any) (int, error) {
	return b.sendText(ctx, r.ChatID, text, markup)
}

// sendText sends an HTML message to any chat at interactive priority.
func (b *Bot) sendText(ctx context.Context, chatID int64, text string, markup any) (int, error) {
	m := tgbotapi.NewMessage(chatID, text)
	m.ParseMode = tgbotapi.ModeHTML
	m.DisableWebPagePreview = true
	if markup != nil {
		m.ReplyMarkup = markup
	}
	return b.send.Send(ctx, chatID, m)
}

// edit replaces the text and inline keyboard of the message a button belongs
// to, so paging and toggles never flood the chat. An edit that changes
// nothing (a double press) is not an error.
func (b *Bot) edit(ctx context.Context, r *Request, text string, kb *tgbotapi.InlineKeyboardMarkup) error {
	if r.Message == nil {
		_, err := b.reply(ctx, r, text, kb)
		return err
	}
	e := tgbotapi.NewEditMessageText(r.ChatID, r.Message.MessageID, text)
	e.ParseMode = tgbotapi.ModeHTML
	e.DisableWebPagePreview = true
	e.ReplyMarkup = kb
	_, err := b.send.Send(ctx, r.ChatID, e)
	if isNotModified(err) {
		return nil
	}
	return err
}

// answer stops the spinner of a pressed button, with an optional notice. It
// does not wait for Telegram: the answer and the handler's edit are
// independent calls, and a person waits for both only if we send them one
// after the other.
func (b *Bot) answer(ctx context.Context, r *Request, text string) {
	if r.Query == nil || r.answered {
		return
	}
	r.answered = true
	cfg := tgbotapi.NewCallback(r.Query.ID, text)
	b.background(func(ctx context.Context) {
		if _, err := b.send.Request(ctx, cfg); err != nil {
			b.log.Warn("answer callback query", "chat_id", r.ChatID, "err", err)
		}
	})
}

// background runs f outside the handler, with a context that survives the
// handler's end but not a minute, nor the drain deadline; Run waits for it
// at shutdown. Once shutdown began f is not started (a handler that
// outlived the deadline gets no callback answer: its update is replayed).
func (b *Bot) background(f func(ctx context.Context)) {
	started := b.bg.Run(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		f(ctx)
	})
	if !started {
		b.log.Debug("background work refused: shutting down")
	}
}

// alert answers a button press with a pop-up the person must close.
func (b *Bot) alert(ctx context.Context, r *Request, text string) {
	if r.Query == nil || r.answered {
		return
	}
	r.answered = true
	if _, err := b.send.Request(ctx, tgbotapi.NewCallbackWithAlert(r.Query.ID, text)); err != nil {
		b.log.Warn("answer callback query", "chat_id", r.ChatID, "err", err)
	}
}

// mainMenu is the reply keyboard with the sections that work.
func (b *Bot) mainMenu(l *locales.Localizer) tgbotapi.ReplyKeyboardMarkup {
	var rows [][]tgbotapi.KeyboardButton
	for _, row := range b.routes.menu {
		var buttons []tgbotapi.KeyboardButton
		for _, it := range row {
			btn := tgbotapi.NewKeyboardButton(l.T(it.label))
			btn.RequestLocation = it.requestLocation
			buttons = append(buttons, btn)
		}
		rows = append(rows, buttons)
	}
	kb := tgbotapi.NewReplyKeyboard(rows...)
	kb.ResizeKeyboard = true
	kb.InputFieldPlaceholder = l.T(locales.MenuPrompt)
	return kb
}

// button makes an inline button; data comes from EncodeCallback of constant
// prefixes and ids, so an encoding error is a programming error.
func button(text, prefix string, args ...string) tgbotapi.InlineKeyboardButton {
	data, err := tg.EncodeCallback(prefix, args...)
	if err != nil {
		panic(err)
	}
	return tgbotapi.NewInlineKeyboardButtonData(text, data)
}

func isNotModified(err error) bool { return err != nil && errors.Is(err, tg.ErrNotModified) }
