package bot

import (
	"context"
	"fmt"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
)

// commandMenu is Telegram's menu of commands: the route table's menu
// commands (routes.go), described in each language.
type commandMenu struct {
	routes *tg.Routes
	loc    *locales.Bundle
	send   requester
}

// requester makes a Bot API call whose result is true, such as
// setMyCommands or deleteMessage (*tg.Sender).
type requester interface {
	Request(ctx context.Context, c tgbotapi.Chattable) (*tgbotapi.APIResponse, error)
}

// register publishes the command list per language (setMyCommands), so
// Telegram's menu shows it in the person's language.
func (m *commandMenu) register(ctx context.Context) error {
	for _, lang := range []string{"", "kk", "ru"} {
		l := m.loc.For(lang)
		if lang == "" {
			l = m.loc.For("kk")
		}
		cfg := tgbotapi.NewSetMyCommands(m.list(l)...)
		cfg.LanguageCode = lang
		if _, err := m.send.Request(ctx, cfg); err != nil {
			return fmt.Errorf("set commands for %q: %w", lang, err)
		}
	}
	return nil
}

// list is the command menu with its descriptions in l's language.
func (m *commandMenu) list(l *locales.Localizer) []tgbotapi.BotCommand {
	var cmds []tgbotapi.BotCommand
	for _, c := range m.routes.MenuCommands() {
		cmds = append(cmds, tgbotapi.BotCommand{Command: c.Name, Description: l.T(c.Description)})
	}
	return cmds
}

// setChatCommands publishes the command list in lang for one private chat
// (scope chat, https://core.telegram.org/bots/api#botcommandscopechat): it
// overrides the lists per language_code, so Telegram's menu follows the
// language the person chose rather than their app's.
func (m *commandMenu) setChatCommands(ctx context.Context, chatID int64, lang storage.Lang) error {
	cfg := tgbotapi.NewSetMyCommandsWithScope(tgbotapi.NewBotCommandScopeChat(chatID), m.list(m.loc.For(string(lang)))...)
	if _, err := m.send.Request(ctx, cfg); err != nil {
		return fmt.Errorf("set commands of chat %d: %w", chatID, err)
	}
	return nil
}
