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

// introStore is what the greeting, the language choice and /cancel read
// and write.
type introStore interface {
	Conversation(ctx context.Context, chatID int64) (storage.Conversation, error)
	DeleteConversation(ctx context.Context, chatID int64) error
	// UpdateUser stores the language chosen.
	UpdateUser(ctx context.Context, chatID int64, change func(*storage.User) error) (storage.User, error)
}

// deepLinks finds the handler of a deep link's prefix in the route table
// (*tg.Routes).
type deepLinks interface {
	Payload(prefix string) (tg.Handler, bool)
}

// chatCommands shows Telegram's command menu in a chat's language
// (commandMenu, commands.go).
type chatCommands interface {
	setChatCommands(ctx context.Context, chatID int64, lang storage.Lang) error
}

// subscriptionOfferer makes the one-time subscription offer
// (subscription.go).
type subscriptionOfferer interface {
	offerSubscription(ctx context.Context, r *tg.Request) error
}

// intro is the feature: /start, /help, /language, /cancel, /menu.
type intro struct {
	kit
	store    introStore
	links    deepLinks
	commands chatCommands
	// send deletes the answered language question (deleteMessage).
	send  requester
	offer subscriptionOfferer
}

// handleStart greets the person. A known language_code (kk, ru) picks the
// language; otherwise the bot asks. The greeting always carries a one-tap
// switch, because many Kazakh speakers run Telegram in Russian.
func (f *intro) handleStart(ctx context.Context, r *tg.Request) error {
	if err := f.endDialogue(ctx, r.ChatID); err != nil {
		return err
	}
	payload := strings.TrimSpace(r.Args)
	if h, ok := f.startPayload(payload); ok {
		if !r.User.LangSet {
			// A poster's QR code on first contact: the language comes
			// first, and the button carries the payload to after it.
			return f.askLanguage(ctx, r, payload)
		}
		return h(ctx, r)
	}
	if !r.User.LangSet {
		return f.askLanguage(ctx, r, "")
	}
	return f.greet(ctx, r)
}

// startPayload finds the handler of a deep-link payload ("center_<id>").
func (f *intro) startPayload(payload string) (tg.Handler, bool) {
	if payload == "" {
		return nil, false
	}
	prefix, _, _ := strings.Cut(payload, "_")
	return f.links.Payload(prefix)
}

func (f *intro) greet(ctx context.Context, r *tg.Request) error {
	if err := f.welcome(ctx, r); err != nil {
		return err
	}
	return f.offerAndMenu(ctx, r)
}

// welcome says hello with the one-tap switch to the other language.
func (f *intro) welcome(ctx context.Context, r *tg.Request) error {
	name := "" // the greeting has its own form without a name
	if r.From != nil && r.From.FirstName != "" {
		name = esc(r.From.FirstName)
	}
	switchKB := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		button(r.L.T(locales.SwitchLanguage), cbLanguage, string(r.User.Lang.Other())),
	))
	_, err := f.tx.Reply(ctx, r, r.L.T(locales.Welcome, locales.Data{"Name": name}), switchKB)
	return err
}

// offerAndMenu ends a greeting: the subscription offer, once per person,
// then the main menu.
func (f *intro) offerAndMenu(ctx context.Context, r *tg.Request) error {
	if err := f.offer.offerSubscription(ctx, r); err != nil {
		return err
	}
	_, err := f.tx.Reply(ctx, r, r.L.T(locales.MenuPrompt), f.mainMenu(r.L))
	return err
}

// askLanguage shows the bilingual question with two buttons. A deep-link
// payload rides along in the buttons (lang:<kk|ru>:<payload>) so that the
// choice opens what the link pointed to; one too long for callback data is
// dropped and the choice just greets.
func (f *intro) askLanguage(ctx context.Context, r *tg.Request, payload string) error {
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
	_, err := f.tx.Reply(ctx, r, r.L.T(locales.ChooseLanguage), kb)
	return err
}

// handleLanguage answers /language and the menu button.
func (f *intro) handleLanguage(ctx context.Context, r *tg.Request) error {
	return f.askLanguage(ctx, r, "")
}

// handleLanguageCallback (lang:<kk|ru>[:<deep-link payload>]) stores the
// chosen language and shows the menu in it at once. A first choice greets,
// then opens the deep link the person came by, if any. Telegram's command
// menu follows afterwards, once the person has their answer.
func (f *intro) handleLanguageCallback(ctx context.Context, r *tg.Request) error {
	lang := storage.Lang(r.Data.Arg(0))
	if !lang.Valid() || !r.Private {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	if err := f.chooseLanguage(ctx, r, lang); err != nil {
		return err
	}
	// The menu of commands is a nicety: its failure is logged, never shown
	// as a failed switch.
	if err := f.commands.setChatCommands(ctx, r.ChatID, lang); err != nil {
		f.log.Warn("set chat commands", "chat_id", r.ChatID, "err", err)
	}
	return nil
}

// chooseLanguage stores lang and answers in it.
func (f *intro) chooseLanguage(ctx context.Context, r *tg.Request, lang storage.Lang) error {
	firstChoice := !r.User.LangSet
	user, err := f.store.UpdateUser(ctx, r.ChatID, func(u *storage.User) error {
		u.Lang, u.LangSet = lang, true
		u.UpdatedAt = f.now()
		return nil
	})
	if err != nil {
		return err
	}
	r.User = user
	r.L = f.loc.For(string(lang))
	f.tx.Answer(ctx, r, r.L.T(locales.LanguageChanged))
	if firstChoice {
		if r.Message != nil {
			// The question is answered; keep the chat tidy.
			f.deleteMessage(ctx, r.ChatID, r.Message.MessageID)
		}
		if h, ok := f.startPayload(r.Data.Arg(1)); ok {
			r.Args, r.NewPerson = r.Data.Arg(1), true
			return h(ctx, r)
		}
		return f.greet(ctx, r)
	}
	_, err = f.tx.Reply(ctx, r, r.L.T(locales.LanguageChanged), f.mainMenu(r.L))
	return err
}

// handleHelp explains what the bot does, with the 🆘 button of the help
// lines under it (safety.go). The main menu it used to carry stays on
// screen from the greeting; /menu brings it back.
func (f *intro) handleHelp(ctx context.Context, r *tg.Request) error {
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(helpLinesButton(r.L)))
	_, err := f.tx.Reply(ctx, r, r.L.T(locales.Help), kb)
	return err
}

// handleMenu shows the main menu again.
func (f *intro) handleMenu(ctx context.Context, r *tg.Request) error {
	_, err := f.tx.Reply(ctx, r, r.L.T(locales.MenuPrompt), f.mainMenu(r.L))
	return err
}

// handleCancel ends the active dialogue, if any. What is left of an
// expired one goes too, unmentioned: there is nothing to cancel, and a
// later message should not hear that it expired.
func (f *intro) handleCancel(ctx context.Context, r *tg.Request) error {
	_, err := f.store.Conversation(ctx, r.ChatID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		if errors.Is(err, storage.ErrDialogExpired) {
			if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
				return err
			}
		}
		_, err = f.tx.Reply(ctx, r, r.L.T(locales.NothingToCancel), f.mainMenu(r.L))
		return err
	case err != nil:
		return err
	}
	if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
		return err
	}
	_, err = f.tx.Reply(ctx, r, r.L.T(locales.Cancelled), f.mainMenu(r.L))
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
func (f *intro) endDialogue(ctx context.Context, chatID int64) error {
	_, err := f.store.Conversation(ctx, chatID)
	switch {
	case errors.Is(err, storage.ErrDialogExpired):
	case errors.Is(err, storage.ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	return f.store.DeleteConversation(ctx, chatID)
}

// deleteMessage deletes a message, quietly: a message too old to delete
// (https://core.telegram.org/bots/api#deletemessage) is left as it is.
func (f *intro) deleteMessage(ctx context.Context, chatID int64, messageID int) {
	_, _ = f.send.Request(ctx, tgbotapi.NewDeleteMessage(chatID, messageID))
}
