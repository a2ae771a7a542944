package bot

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"jastar/bot/telegramtest"
	"jastar/locales"
	"jastar/storage"
)

func TestSubscription_OfferedOnceThenToggles(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := telegramtest.User{ID: 601, FirstName: "Дана", LanguageCode: "kk"}
	h.srv.SendText(u, "/start")
	offer := h.waitText(u.ID, kk(locales.SubscriptionOffer))
	h.waitText(u.ID, kk(locales.MenuPrompt))
	// A second /start does not nag.
	h.srv.SendText(u, "/start")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.srv.WaitMessages(ctx, u.ID, 5); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range h.botMessages(u.ID) {
		if m.Text == kk(locales.SubscriptionOffer) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("offer shown %d times, want once", n)
	}

	// Accepting opens the toggles in place; each press edits the same message.
	h.press(u, offer, kk(locales.SubscriptionOfferYes))
	m := h.waitText(u.ID, firstLine(plain(kk(locales.SubscriptionSettings))))
	h.waitAnswered(h.press(u, m, kk(locales.TopicEvents)))
	m = h.waitText(u.ID, kk(locales.SubscriptionStatusOn))
	if m.ID != offer.ID || !hasButton(m, "✅ "+kk(locales.TopicEvents)) || !hasButton(m, "⬜ "+kk(locales.TopicNews)) {
		t.Errorf("after toggling events: message %d, keyboard %+v", m.ID, m.InlineKeyboard)
	}
	// District: the list, then back to the toggles with it shown.
	district := h.bot.cat().ListedDistricts()[0]
	h.press(u, m, "📍")
	m = h.waitText(u.ID, kk(locales.SubscriptionChooseDistrict))
	h.press(u, m, district.Name.KK)
	m = h.waitText(u.ID, kk(locales.SubscriptionStatusOn), district.Name.KK)
	s, err := h.db.Subscription(context.Background(), u.ID)
	if err != nil || !s.Active || !slices.Equal(s.Topics, []storage.Topic{storage.TopicEvents}) || s.DistrictID != district.ID || s.Lang != storage.Kazakh {
		t.Errorf("stored subscription = %+v, %v", s, err)
	}
	// Toggling the only topic off unsubscribes.
	h.press(u, m, kk(locales.TopicEvents))
	h.waitText(u.ID, kk(locales.SubscriptionStatusOff))
	if n, _ := h.db.CountAudience(context.Background(), storage.Audience{}); n != 0 {
		t.Errorf("audience after switching everything off = %d", n)
	}
}

func hasButton(m telegramtest.Message, text string) bool {
	for _, row := range m.InlineKeyboard {
		for _, b := range row {
			if b.Text == text {
				return true
			}
		}
	}
	return false
}

func TestSubscription_MenuCommandsAndForgedButtons(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := telegramtest.User{ID: 602, FirstName: "Артём", LanguageCode: "ru"}
	h.srv.SendText(u, "/start")
	h.waitText(u.ID, ru(locales.MenuPrompt))
	h.srv.SendText(u, ru(locales.MenuSubscriptions))
	m := h.waitText(u.ID, firstLine(plain(ru(locales.SubscriptionSettings))))
	h.press(u, m, ru(locales.TopicJobs))
	h.waitText(u.ID, ru(locales.SubscriptionStatusOn))
	for _, data := range []string{"sub:t:weather", "sub:dd:atlantis", "sub:zz"} {
		id, _ := h.srv.PressButton(u, u.ID, m.ID, data)
		if got := h.waitAnswered(id); got != ru(locales.OutdatedButton) {
			t.Errorf("forged %s answered %q", data, got)
		}
	}
	if s, _ := h.db.Subscription(context.Background(), u.ID); !s.Has(storage.TopicJobs) || s.DistrictID != "" {
		t.Errorf("forged buttons changed the subscription: %+v", s)
	}
	h.srv.SendText(u, "/unsubscribe")
	h.waitText(u.ID, ru(locales.Unsubscribed))
	h.srv.SendText(u, "/unsubscribe")
	h.waitText(u.ID, ru(locales.NotSubscribed))
	if s, _ := h.db.Subscription(context.Background(), u.ID); s.Active {
		t.Errorf("still active after /unsubscribe: %+v", s)
	}
}

func TestSubscription_BlockedThenBackIsNotResubscribed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdmin(0))
	u := h.subscriber(603, storage.Russian, "", storage.TopicNews, storage.TopicEvents)
	h.srv.Block(u.ID)
	confirm := h.compose(version{text: "Жаңалық"}, version{skip: true}, ru(locales.TopicNews), ru(locales.AllDistricts), ru(locales.BroadcastBothLanguages))
	h.confirmAndWait(confirm)
	h.srv.Unblock(u.ID)
	h.srv.SendText(u, "/start")
	h.waitText(u.ID, ru(locales.MenuPrompt))
	s, err := h.db.Subscription(context.Background(), u.ID)
	if err != nil || s.Active || len(s.Topics) != 0 {
		t.Errorf("after coming back: %+v, %v; want not subscribed", s, err)
	}
	for _, m := range h.botMessages(u.ID) {
		if strings.Contains(m.Text, ru(locales.SubscriptionOffer)) {
			t.Errorf("the offer was shown again to someone who had it")
		}
	}
	// Their settings show nothing switched on; old topics do not come back.
	h.srv.SendText(u, "/subscribe")
	m := h.waitText(u.ID, ru(locales.SubscriptionStatusOff))
	h.press(u, m, ru(locales.TopicEvents))
	h.waitText(u.ID, ru(locales.SubscriptionStatusOn))
	if s, _ := h.db.Subscription(context.Background(), u.ID); !slices.Equal(s.Topics, []storage.Topic{storage.TopicEvents}) {
		t.Errorf("topics after resubscribing = %v, want only events", s.Topics)
	}
}

// TestSubscriptionOffer_AFailedWelcomeKeepsItForNextTime: the offer's flag
// is stored only once the greeting got as far as the offer. A welcome that
// Telegram refuses leaves the offer to the next /start, not lost.
func TestSubscriptionOffer_AFailedWelcomeKeepsItForNextTime(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := telegramtest.User{ID: 613, FirstName: "Ерлан", LanguageCode: "ru"}
	h.srv.FailNext("sendMessage", 1, http.StatusBadRequest, 0)
	h.srv.SendText(u, "/start")
	h.waitText(u.ID, plain(ru(locales.SomethingWentWrong)))
	if stored, err := h.db.User(context.Background(), u.ID); err != nil || stored.SubscriptionOffered {
		t.Errorf("stored person = %+v, %v; want the offer still to make", stored, err)
	}
	h.srv.SendText(u, "/start")
	h.waitText(u.ID, ru(locales.SubscriptionOffer))
	h.waitText(u.ID, ru(locales.MenuPrompt))
}
