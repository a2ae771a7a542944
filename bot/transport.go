package bot

import (
	"context"
	"errors"
	"html"
	"log/slog"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
)

// The bot's side of the transport (bot/tg): what only the bot knows that
// the transport asks for (who a person is, the main menu, the texts of an
// expired dialogue, the crisis check's exception). The features reply
// through the transport itself (kit.tx).

// ErrPollConflict is what Run returns when getUpdates kept answering 409
// Conflict: another instance polls the token, or a webhook is set.
var ErrPollConflict = tg.ErrPollConflict

// buildTransport builds the transport with the bot's hooks.
func (b *Bot) buildTransport(log *slog.Logger) *tg.Transport {
	return tg.New(tg.Options{
		Token: b.cfg.Token, APIEndpoint: b.cfg.APIEndpoint,
		Workers: b.cfg.Workers, PollTimeout: b.cfg.PollTimeout, HandlerTimeout: b.cfg.HandlerTimeout, DialogTTL: b.cfg.DialogTTL,
		Store: b.store, Sender: b.send, Locales: b.loc, Log: log, Metrics: b.metrics, Now: b.now,
	}, tg.Hooks{
		Person:        b.person,
		IsStaffChat:   b.isStaffChat,
		MainMenu:      func(l *locales.Localizer) any { return mainMenu(b.transport, l) },
		ExpiredText:   b.expiredText,
		StepTakesText: b.stepTakesText,
	})
}

// Run handles updates until ctx ends, beside the broadcast runner. On
// return, polling has stopped and handlers that were running have finished
// (or drainTimeout passed), and the runners recorded where they stopped.
func (b *Bot) Run(ctx context.Context, drainTimeout time.Duration) error {
	// Broadcast sends on the wire end only at the drain deadline (see
	// broadcast.Runner.Stop), not at the signal.
	wire, abortSends := context.WithCancel(context.WithoutCancel(ctx))
	defer abortSends()
	b.runner.Start(ctx, wire)
	if err := b.guide.loadCards(ctx); err != nil {
		// Cards show the catalog's values until the next change reloads.
		b.log.Error("load center cards", "err", err)
	}

	pollErr := b.transport.Run(ctx)

	drainCtx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	b.transport.Drain(drainCtx)
	b.runner.Stop(drainCtx, abortSends)
	return pollErr
}

// person is who sent an update: in a private chat their record, created on
// first contact; in a group the stored record if any, else a guess of the
// language, and nothing is written.
func (b *Bot) person(ctx context.Context, from *tgbotapi.User, private bool) (storage.User, bool, error) {
	if private {
		return b.touchUser(ctx, from)
	}
	if stored, err := b.store.User(ctx, from.ID); err == nil {
		return stored, false, nil
	}
	return storage.User{ChatID: from.ID, Lang: guessLang(from.LanguageCode)}, false, nil
}

// touchUser loads the person, creating the record on first contact and
// writing only when something changed, so most updates cost one read.
// created tells that this call made the record.
func (b *Bot) touchUser(ctx context.Context, from *tgbotapi.User) (u storage.User, created bool, err error) {
	u, err = b.store.User(ctx, from.ID)
	if err == nil && u.Active && u.FirstName == from.FirstName && u.Username == from.UserName {
		return u, false, nil
	}
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return storage.User{ChatID: from.ID, Lang: guessLang(from.LanguageCode)}, false, err
	}
	now := b.now()
	u, err = b.store.UpdateUser(ctx, from.ID, func(u *storage.User) error {
		created = u.CreatedAt.IsZero()
		if created {
			u.CreatedAt = now
			u.Lang = guessLang(from.LanguageCode)
			u.LangSet = u.Lang != "" && strings.HasPrefix(strings.ToLower(from.LanguageCode), string(u.Lang))
			if !u.Lang.Valid() {
				u.Lang = storage.Kazakh
			}
		}
		u.FirstName, u.Username = from.FirstName, from.UserName
		u.Active = true
		u.UpdatedAt = now
		return nil
	})
	return u, created, err
}

// guessLang maps Telegram's language_code to a language we speak, "" if none.
func guessLang(code string) storage.Lang {
	code = strings.ToLower(code)
	switch {
	case strings.HasPrefix(code, "kk"):
		return storage.Kazakh
	case strings.HasPrefix(code, "ru"):
		return storage.Russian
	}
	return ""
}

// expiredText says a dialogue of flow closed for inactivity: for a booking,
// after how long and which menu button starts it again.
func (b *Bot) expiredText(l *locales.Localizer, flow string) string {
	if flow != flowBook {
		return l.T(locales.DialogExpired)
	}
	return l.T(locales.BookExpired, locales.Data{"Duration": duration(l, b.cfg.DialogTTL)})
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

// esc escapes text from people or the catalog for parse_mode HTML.
func esc(s string) string { return html.EscapeString(s) }
