package bot

import (
	"context"
	"errors"
	"slices"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
)

// Subscription buttons, all under cbSubscription:
//
//	sub:t:<topic>     switch a topic on or off
//	sub:d             show the district choice
//	sub:dd:<id|_>     choose a district ("_" = all districts)
//	sub:back          back from the district choice
//	sub:off           unsubscribe from everything
//	sub:open          open the settings from the one-time offer
//	sub:no            decline the offer
const anyDistrict = "_"

// subscriptionStore is what subscriptions read and write.
type subscriptionStore interface {
	Subscription(ctx context.Context, chatID int64) (storage.Subscription, error)
	SaveSubscription(ctx context.Context, s storage.Subscription) error
	Unsubscribe(ctx context.Context, chatID int64, now time.Time) (bool, error)
	// UpdateUser marks the one-time offer as made.
	UpdateUser(ctx context.Context, chatID int64, change func(*storage.User) error) (storage.User, error)
}

// subscriptions is the feature: /subscribe, /unsubscribe, the settings
// buttons and the one-time offer.
type subscriptions struct {
	kit
	store subscriptionStore
}

// topicLabel is the message ID of a topic's name.
func topicLabel(t storage.Topic) string {
	switch t {
	case storage.TopicEvents:
		return locales.TopicEvents
	case storage.TopicJobs:
		return locales.TopicJobs
	}
	return locales.TopicNews
}

// districtName is the district's name in l's language, or "all districts".
func (k kit) districtName(l *locales.Localizer, id string) string {
	if d, ok := k.catalog().District(id); ok && id != "" {
		return d.Name.In(l.Lang())
	}
	return l.T(locales.AllDistricts)
}

// loadSubscription returns the chat's subscription, a new inactive one when
// there is none.
func (f *subscriptions) loadSubscription(ctx context.Context, chatID int64) (storage.Subscription, error) {
	s, err := f.store.Subscription(ctx, chatID)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Subscription{ChatID: chatID}, nil
	}
	return s, err
}

// subscriptionView is the settings text and its toggles.
func (f *subscriptions) subscriptionView(l *locales.Localizer, s storage.Subscription) (string, tgbotapi.InlineKeyboardMarkup) {
	status := l.T(locales.SubscriptionStatusOff)
	if s.Active {
		status = l.T(locales.SubscriptionStatusOn)
	}
	district := f.districtName(l, s.DistrictID)
	text := l.T(locales.SubscriptionSettings, locales.Data{"Status": status, "District": esc(district)})
	var rows [][]tgbotapi.InlineKeyboardButton
	for _, t := range storage.AllTopics() {
		mark := "⬜ "
		if s.Has(t) {
			mark = "✅ "
		}
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(mark+l.T(topicLabel(t)), cbSubscription, "t", string(t))))
	}
	rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.SubscriptionDistrictButton, locales.Data{"District": district}), cbSubscription, "d")))
	if s.Active {
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.SubscriptionOffButton), cbSubscription, "off")))
	}
	return text, tgbotapi.NewInlineKeyboardMarkup(rows...)
}

// districtView lets the person pick one listed district or all of them.
func (f *subscriptions) districtView(l *locales.Localizer, s storage.Subscription) (string, tgbotapi.InlineKeyboardMarkup) {
	mark := func(on bool) string {
		if on {
			return "✅ "
		}
		return ""
	}
	rows := [][]tgbotapi.InlineKeyboardButton{
		tgbotapi.NewInlineKeyboardRow(button(mark(s.DistrictID == "")+l.T(locales.AllDistricts), cbSubscription, "dd", anyDistrict)),
	}
	for _, d := range f.catalog().ListedDistricts() {
		if !tg.ValidArg(d.ID) {
			continue // an id no button can carry; the catalog check warns about it
		}
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(mark(s.DistrictID == d.ID)+d.Name.In(l.Lang()), cbSubscription, "dd", d.ID)))
	}
	rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonBack), cbSubscription, "back")))
	return l.T(locales.SubscriptionChooseDistrict), tgbotapi.NewInlineKeyboardMarkup(rows...)
}

// handleSubscribe answers /subscribe and the menu button with the settings.
func (f *subscriptions) handleSubscribe(ctx context.Context, r *tg.Request) error {
	s, err := f.loadSubscription(ctx, r.ChatID)
	if err != nil {
		return err
	}
	text, kb := f.subscriptionView(r.L, s)
	_, err = f.tx.Reply(ctx, r, text, kb)
	return err
}

// handleUnsubscribe answers /unsubscribe: off at once, no questions.
func (f *subscriptions) handleUnsubscribe(ctx context.Context, r *tg.Request) error {
	was, err := f.store.Unsubscribe(ctx, r.ChatID, f.now())
	if err != nil {
		return err
	}
	msg := locales.NotSubscribed
	if was {
		msg = locales.Unsubscribed
	}
	_, err = f.tx.Reply(ctx, r, r.L.T(msg), f.mainMenu(r.L))
	return err
}

// handleSubscriptionCallback handles every settings button. Each press
// changes only the presser's own subscription (the chat it came from), so
// a forged payload can at worst toggle one's own topics.
func (f *subscriptions) handleSubscriptionCallback(ctx context.Context, r *tg.Request) error {
	if !r.Private {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	s, err := f.loadSubscription(ctx, r.ChatID)
	if err != nil {
		return err
	}
	switch r.Data.Arg(0) {
	case "open", "back":
		text, kb := f.subscriptionView(r.L, s)
		return f.tx.Edit(ctx, r, text, &kb)
	case "no":
		return f.tx.Edit(ctx, r, r.L.T(locales.SubscriptionOfferDeclined), nil)
	case "d":
		text, kb := f.districtView(r.L, s)
		return f.tx.Edit(ctx, r, text, &kb)
	case "t":
		t := storage.Topic(r.Data.Arg(1))
		if !t.Valid() {
			f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
			return nil
		}
		// An inactive subscription's old topics do not count: switching
		// one topic on after blocking the bot never revives the rest.
		topics := []storage.Topic{}
		if s.Active {
			topics = slices.Clone(s.Topics)
		}
		if i := slices.Index(topics, t); i >= 0 {
			topics = slices.Delete(topics, i, i+1)
		} else {
			topics = append(topics, t)
		}
		s.Topics, s.Active = topics, len(topics) > 0
	case "dd":
		id := r.Data.Arg(1)
		if id == anyDistrict {
			id = ""
		} else if _, ok := f.catalog().District(id); !ok {
			f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
			return nil
		}
		s.DistrictID = id
	case "off":
		s.Topics, s.Active = nil, false
	default:
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	s.ChatID, s.Lang, s.UpdatedAt = r.ChatID, r.User.Lang, f.now()
	if err := f.store.SaveSubscription(ctx, s); err != nil {
		return err
	}
	f.tx.Answer(ctx, r, r.L.T(locales.SubscriptionSaved))
	text, kb := f.subscriptionView(r.L, s)
	return f.tx.Edit(ctx, r, text, &kb)
}

// offerSubscription offers the subscription once, inside the first
// greeting (before the menu, which stays the last message). The flag is set
// before the offer is sent, so a failed send never turns into a second
// offer: the person is never nagged.
func (f *subscriptions) offerSubscription(ctx context.Context, r *tg.Request) error {
	if r.User.SubscriptionOffered || !r.Private {
		return nil
	}
	offered := false
	_, err := f.store.UpdateUser(ctx, r.ChatID, func(u *storage.User) error {
		offered = !u.SubscriptionOffered && !u.CreatedAt.IsZero()
		u.SubscriptionOffered = true
		return nil
	})
	if err != nil || !offered {
		return err
	}
	r.User.SubscriptionOffered = true
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		button(r.L.T(locales.SubscriptionOfferYes), cbSubscription, "open"),
		button(r.L.T(locales.SubscriptionOfferNo), cbSubscription, "no"),
	))
	_, err = f.tx.Reply(ctx, r, r.L.T(locales.SubscriptionOffer), kb)
	return err
}

// unsubscribeUnreachable deactivates the subscription of a chat Telegram
// will not deliver to (blocked, deleted), so no broadcast tries it again.
func (f *subscriptions) unsubscribeUnreachable(ctx context.Context, chatID int64) {
	if _, err := f.store.Unsubscribe(ctx, chatID, f.now()); err != nil {
		f.log.Error("unsubscribe unreachable chat", "chat_id", chatID, "err", err)
	}
}
