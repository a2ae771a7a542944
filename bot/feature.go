package bot

import (
	"context"
	"log/slog"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/ops"
	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage/catalog"
)

// The shape of a feature. The transport (bot/tg) owns an update from the
// poll to the send and knows no feature; the features live here, each a
// type with:
//   - a kit: the transport to reply through and the read-only parts
//     every feature shares (catalog, configuration, clock, texts, logger,
//     metrics);
//   - the narrow store interface it uses, declared in its own file, so the
//     types say what it reads and writes;
//   - for what it needs of another feature (the booking texts, the slot
//     finder, the staff's notices...), a small interface declared in its
//     own file, which New satisfies with that feature: never *Bot;
//   - a routes method in routes.go that registers its entry points in the
//     transport's table (t.Command, t.Callback, t.Flow, ...), so routes.go
//     stays the one list of every entry point.
// The bot builds each feature once in New and registers its routes.

// replies is the transport as a feature sees it: answer the request, send
// to a chat, edit the message a button was pressed on (or only its
// buttons), answer the press, close an expired dialogue, and the main
// menu's rows. *tg.Transport is it.
type replies interface {
	Reply(ctx context.Context, r *tg.Request, text string, markup any) (int, error)
	SendText(ctx context.Context, chatID int64, text string, markup any) (int, error)
	Edit(ctx context.Context, r *tg.Request, text string, kb *tgbotapi.InlineKeyboardMarkup) error
	EditKeyboard(ctx context.Context, r *tg.Request, kb tgbotapi.InlineKeyboardMarkup) error
	Answer(ctx context.Context, r *tg.Request, text string)
	Alert(ctx context.Context, r *tg.Request, text string)
	TellExpired(ctx context.Context, r *tg.Request, flow string) error
	MenuKeyboard(l *locales.Localizer) tgbotapi.ReplyKeyboardMarkup
}

// kit is what every feature is given. It holds no store: each feature
// adds the narrow store interface it uses.
type kit struct {
	tx replies
	// cat is the catalog in force; a reload swaps it between requests, so
	// read it once per request (kit.catalog).
	cat     func() *catalog.Catalog
	cfg     Config
	loc     *locales.Bundle
	now     func() time.Time
	log     *slog.Logger
	metrics *ops.Metrics
}

// kit returns the kit of a feature, its logger named for it.
func (b *Bot) kit(component string) kit {
	return kit{tx: b.transport, cat: b.cat, cfg: b.cfg, loc: b.loc, now: b.now, log: b.log.With("feature", component), metrics: b.metrics}
}

// mainMenu is the main reply keyboard, which a final answer puts back.
func (k kit) mainMenu(l *locales.Localizer) tgbotapi.ReplyKeyboardMarkup { return mainMenu(k.tx, l) }

// mainMenu is the keyboard of t's menu rows (routes.go) with the prompt in
// the input field: the one main menu of the features and the transport.
func mainMenu(t interface {
	MenuKeyboard(l *locales.Localizer) tgbotapi.ReplyKeyboardMarkup
}, l *locales.Localizer) tgbotapi.ReplyKeyboardMarkup {
	kb := t.MenuKeyboard(l)
	kb.InputFieldPlaceholder = l.T(locales.MenuPrompt)
	return kb
}

// feature is a part of the bot that registers its own entry points.
type feature interface {
	routes(t *tg.Routes)
}
