package bot

import (
	"context"
	"errors"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
)

// handleStart greets the person. A known language_code (kk, ru) picks the
// language; otherwise the bot asks. The greeting always carries a one-tap
// switch, because many Kazakh speakers run Telegram in Russian.
func (b *Bot) handleStart(ctx context.Context, r *Request) error {
	if err := b.endDialogue(ctx, r.ChatID); err != nil {
		return err
	}
	payload := strings.TrimSpace(r.Args)
	if h, ok := b.startPayload(payload); ok {
		if !r.User.LangSet {
			// A poster's QR code on first contact: the language comes
			// first, and the button carries the payload to after it.
			return b.askLanguage(ctx, r, payload)
		}
		return h(ctx, r)
	}
	if !r.User.LangSet {
		return b.askLanguage(ctx, r, "")
	}
	return b.greet(ctx, r)
}

// startPayload finds the handler of a deep-link payload ("center_<id>").
func (b *Bot) startPayload(payload string) (Handler, bool) {
	if payload == "" {
		return nil, false
	}
	prefix, _, _ := strings.Cut(payload, "_")
	h, ok := b.routes.startPayloads[prefix]
	return h, ok
}

func (b *Bot) greet(ctx context.Context, r *Request) error {
	if err := b.welcome(ctx, r); err != nil {
		return err
	}
	return b.offerAndMenu(ctx, r)
}

// welcome says hello with the one-tap switch to the other language.
func (b *Bot) welcome(ctx context.Context, r *Request) error {
	name := "" // the greeting has its own form without a name
	if r.From != nil && r.From.FirstName != "" {
		name = esc(r.From.FirstName)
	}
	switchKB := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		button(r.L.T(locales.SwitchLanguage), cbLanguage, string(r.User.Lang.Other())),
	))
	_, err := b.reply(ctx, r, r.L.T(locales.Welcome, locales.Data{"Name": name}), switchKB)
	return err
}

// offerAndMenu ends a greeting: the subscription offer, once per person,
// then the main menu.
func (b *Bot) offerAndMenu(ctx context.Context, r *Request) error {
	if err := b.subs.offerSubscription(ctx, r); err != nil {
		return err
	}
	_, err := b.reply(ctx, r, r.L.T(locales.MenuPrompt), b.mainMenu(r.L))
	return err
}

// askLanguage shows the bilingual question with two buttons. A deep-link
// payload rides along in the buttons (lang:<kk|ru>:<payload>) so that the
// choice opens what the link pointed to; one too long for callback data is
// dropped and the choice just greets.
func (b *Bot) askLanguage(ctx context.Context, r *Request, payload string) error {
	args := func(lang storage.Lang) []string {
		if payload == "" {
			return []string{string(lang)}
		}
		return []string{string(lang), payload}
	}
	if _, err := tg.EncodeCallback(cbLanguage, args(storage.Russian)...); err != nil {
		payload = ""
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		button(r.L.T(locales.LanguageNameKK), cbLanguage, args(storage.Kazakh)...),
		button(r.L.T(locales.LanguageNameRU), cbLanguage, args(storage.Russian)...),
	))
	_, err := b.reply(ctx, r, r.L.T(locales.ChooseLanguage), kb)
	return err
}

// handleLanguage answers /language and the menu button.
func (b *Bot) handleLanguage(ctx context.Context, r *Request) error { return b.askLanguage(ctx, r, "") }

// handleLanguageCallback (lang:<kk|ru>[:<deep-link payload>]) stores the
// chosen language and shows the menu in it at once. A first choice greets,
// then opens the deep link the person came by, if any. Telegram's command
// menu follows afterwards, once the person has their answer.
func (b *Bot) handleLanguageCallback(ctx context.Context, r *Request) error {
	lang := storage.Lang(r.Data.Arg(0))
	if !lang.Valid() || !r.Private {
		b.answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	if err := b.chooseLanguage(ctx, r, lang); err != nil {
		return err
	}
	// The menu of commands is a nicety: its failure is logged, never shown
	// as a failed switch.
	if err := b.setChatCommands(ctx, r.ChatID, lang); err != nil {
		b.log.Warn("set chat commands", "chat_id", r.ChatID, "err", err)
	}
	return nil
}

// chooseLanguage stores lang and answers in it.
func (b *Bot) chooseLanguage(ctx context.Context, r *Request, lang storage.Lang) error {
	firstChoice := !r.User.LangSet
	user, err := b.store.UpdateUser(ctx, r.ChatID, func(u *storage.User) error {
		u.Lang, u.LangSet = lang, true
		u.UpdatedAt = b.now()
		return nil
	})
	if err != nil {
		return err
	}
	r.User = user
	r.L = b.loc.For(string(lang))
	b.answer(ctx, r, r.L.T(locales.LanguageChanged))
	if firstChoice {
		if r.Message != nil {
			// The question is answered; keep the chat tidy.
			_, _ = b.send.Request(ctx, tgbotapi.NewDeleteMessage(r.ChatID, r.Message.MessageID))
		}
		if h, ok := b.startPayload(r.Data.Arg(1)); ok {
			r.Args, r.NewPerson = r.Data.Arg(1), true
			return h(ctx, r)
		}
		return b.greet(ctx, r)
	}
	_, err = b.reply(ctx, r, r.L.T(locales.LanguageChanged), b.mainMenu(r.L))
	return err
}

// handleHelp explains what the bot does, with the 🆘 button of the help
// lines under it (safety.go). The main menu it used to carry stays on
// screen from the greeting; /menu brings it back.
func (b *Bot) handleHelp(ctx context.Context, r *Request) error {
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(helpLinesButton(r.L)))
	_, err := b.reply(ctx, r, r.L.T(locales.Help), kb)
	return err
}

// handleMenu shows the main menu again.
func (b *Bot) handleMenu(ctx context.Context, r *Request) error {
	_, err := b.reply(ctx, r, r.L.T(locales.MenuPrompt), b.mainMenu(r.L))
	return err
}

// handleCancel ends the active dialogue, if any. What is left of an
// expired one goes too, unmentioned: there is nothing to cancel, and a
// later message should not hear that it expired.
func (b *Bot) handleCancel(ctx context.Context, r *Request) error {
	_, err := b.store.Conversation(ctx, r.ChatID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		if errors.Is(err, storage.ErrDialogExpired) {
			if err := b.store.DeleteConversation(ctx, r.ChatID); err != nil {
				return err
			}
		}
		_, err = b.reply(ctx, r, r.L.T(locales.NothingToCancel), b.mainMenu(r.L))
		return err
	case err != nil:
		return err
	}
	if err := b.store.DeleteConversation(ctx, r.ChatID); err != nil {
		return err
	}
	_, err = b.reply(ctx, r, r.L.T(locales.Cancelled), b.mainMenu(r.L))
	return err
}

// isStaffChat reports whether chatID is a group that receives staff
// notifications: the default staff chat or a center's own.
func (b *Bot) isStaffChat(chatID int64) bool {
	if chatID == 0 {
		return false
	}
	if chatID == b.cfg.StaffChatID {
		return true
	}
	for _, c := range b.cat().Centers {
		if c.StaffChatID == chatID {
			return true
		}
	}
	return false
}

// endDialogue drops the chat's dialogue, if any, open or expired. The read
// first spares a write transaction (and its fsync) for the common case of
// none.
func (b *Bot) endDialogue(ctx context.Context, chatID int64) error {
	_, err := b.store.Conversation(ctx, chatID)
	switch {
	case errors.Is(err, storage.ErrDialogExpired):
	case errors.Is(err, storage.ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	return b.store.DeleteConversation(ctx, chatID)
}
