package bot

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/telegramtest"
	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
)

var tagRE = regexp.MustCompile(`<[^>]+>`)

// plain is what a person sees of an HTML text: no tags, entities decoded.
func plain(s string) string { return html.UnescapeString(tagRE.ReplaceAllString(s, "")) }

func TestStart_GreetsInTheLanguageOfTelegram(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		name    string
		user    telegramtest.User
		greet   string
		switch_ string
	}{
		{"kazakh", telegramtest.User{ID: 101, FirstName: "Әлия", LanguageCode: "kk"}, kk(locales.Welcome, locales.Data{"Name": "Әлия"}), kk(locales.SwitchLanguage)},
		{"russian", telegramtest.User{ID: 102, FirstName: "Данияр", LanguageCode: "ru"}, ru(locales.Welcome, locales.Data{"Name": "Данияр"}), ru(locales.SwitchLanguage)},
		// No name: the greeting's own name-less form, not an emoji in the
		// name's place ("Привет, 👋! 👋").
		{"no name", telegramtest.User{ID: 103, LanguageCode: "ru"}, ru(locales.Welcome, locales.Data{"Name": ""}), ru(locales.SwitchLanguage)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.srv.SendText(tt.user, "/start")
			m := h.waitText(tt.user.ID, firstLine(plain(tt.greet)))
			if m.Text != plain(tt.greet) {
				t.Errorf("greeting = %q, want %q", m.Text, plain(tt.greet))
			}
			// The one-tap switch to the other language is on the greeting.
			if len(m.InlineKeyboard) != 1 || m.InlineKeyboard[0][0].Text != tt.switch_ {
				t.Errorf("greeting keyboard = %+v, want the switch %q", m.InlineKeyboard, tt.switch_)
			}
			menu := h.waitText(tt.user.ID, plain(testLocales.For(tt.user.LanguageCode).T(locales.MenuPrompt)))
			if len(menu.ReplyKeyboard) == 0 {
				t.Errorf("no main menu keyboard after the greeting")
			}
		})
	}
}

func TestStart_AsksLanguageAndStoresChoice(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := telegramtest.User{ID: 201, FirstName: "John", LanguageCode: "en"}
	h.srv.SendText(u, "/start")
	q := h.waitText(u.ID, ru(locales.ChooseLanguage))
	if len(q.InlineKeyboard) != 1 || len(q.InlineKeyboard[0]) != 2 {
		t.Fatalf("language question keyboard = %+v, want two buttons", q.InlineKeyboard)
	}
	id := h.press(u, q, "Қазақша")
	if got := h.waitAnswered(id); got != kk(locales.LanguageChanged) {
		t.Errorf("callback answer = %q", got)
	}
	h.waitText(u.ID, firstLine(plain(kk(locales.Welcome, locales.Data{"Name": "John"}))))
	stored, err := h.db.User(context.Background(), u.ID)
	if err != nil || stored.Lang != storage.Kazakh || !stored.LangSet {
		t.Errorf("stored user = %+v, %v; want Kazakh chosen", stored, err)
	}
}

func TestLanguage_SwitchesMenuAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := telegramtest.User{ID: 301, FirstName: "Айдана", LanguageCode: "ru"}
	h.srv.SendText(u, "/start")
	h.waitText(u.ID, ru(locales.MenuPrompt))
	// The menu button, in Russian, opens the question.
	h.srv.SendText(u, ru(locales.MenuLanguage))
	q := h.waitText(u.ID, ru(locales.ChooseLanguage))
	h.press(u, q, "Қазақша")
	m := h.waitText(u.ID, kk(locales.LanguageChanged))
	if len(m.ReplyKeyboard) == 0 {
		t.Fatal("language change did not resend the menu")
	}
	var labels []string
	for _, row := range m.ReplyKeyboard {
		for _, b := range row {
			labels = append(labels, b.Text)
		}
	}
	if !strings.Contains(strings.Join(labels, "|"), kk(locales.MenuHelp)) {
		t.Errorf("menu after the switch = %v, want Kazakh labels", labels)
	}
	// And the Kazakh menu button now answers in Kazakh.
	h.srv.SendText(u, kk(locales.MenuHelp))
	h.waitText(u.ID, firstLine(plain(kk(locales.Help))))
}

func TestFallbacks_AreLocalizedAndPointToMenu(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := telegramtest.User{ID: 401, FirstName: "Ерлан", LanguageCode: "kk"}
	h.srv.SendText(u, "/start")
	h.waitText(u.ID, kk(locales.MenuPrompt))
	tests := []struct {
		name string
		send func()
		want string
	}{
		{"unknown command", func() { h.srv.SendText(u, "/weather") }, kk(locales.UnknownCommand)},
		{"sticker", func() { h.srv.SendSticker(u) }, kk(locales.NotText)},
		{"photo", func() { h.srv.SendPhoto(u) }, kk(locales.NotText)},
		{"voice", func() { h.srv.SendVoice(u) }, kk(locales.NotText)},
		{"free text", func() { h.srv.SendText(u, "сәлем") }, kk(locales.NotUnderstood)},
		{"cancel without a dialogue", func() { h.srv.SendText(u, "/cancel") }, kk(locales.NothingToCancel)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(h.botMessages(u.ID))
			tt.send()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			msgs, err := h.srv.WaitMessages(ctx, u.ID, before+1)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			last := msgs[len(msgs)-1]
			if last.Text != plain(tt.want) {
				t.Errorf("answer = %q, want %q", last.Text, plain(tt.want))
			}
			if len(last.ReplyKeyboard) == 0 {
				t.Errorf("answer carries no menu")
			}
		})
	}
}

func TestGroups_OtherThanStaffAreIgnoredPolitely(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const group = -100500
	u := telegramtest.User{ID: 501, FirstName: "Нұрлан", LanguageCode: "ru"}
	h.srv.SendGroupText(group, "Жастар чаты", u, "всем привет")
	h.srv.SendGroupText(group, "Жастар чаты", u, "/start@"+h.srv.Bot().UserName)
	m := h.waitText(group, ru(locales.GroupOnlyPrivate))
	msgs := h.botMessages(group)
	if len(msgs) != 1 || msgs[0].ID != m.ID {
		t.Errorf("bot wrote %d messages in a foreign group, want exactly the one polite note", len(msgs))
	}
}

func TestCommands_RegisteredPerLanguage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if err := h.bot.RegisterCommands(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"", "kk", "ru"} {
		cmds := h.srv.Commands(lang)
		if len(cmds) == 0 {
			t.Fatalf("no commands registered for %q", lang)
		}
		want := testLocales.For(lang).T(locales.CommandLanguage)
		found := false
		for _, c := range cmds {
			if c.Command == "language" && c.Description == want {
				found = true
			}
		}
		if !found {
			t.Errorf("commands for %q = %+v, want /language described as %q", lang, cmds, want)
		}
	}
}

// TestOffset_SurvivesRestartWithoutLossOrRepeat stops the bot between
// updates and checks every update is answered exactly once.
func TestOffset_SurvivesRestartWithoutLossOrRepeat(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := telegramtest.User{ID: 601, FirstName: "Асель", LanguageCode: "ru"}
	h.srv.SendText(u, "/help")
	h.waitText(u.ID, firstLine(plain(ru(locales.Help))))
	h.stop()
	// Updates that arrive while the bot is down.
	h.srv.SendText(u, "/help")
	h.srv.SendText(u, "/cancel")
	h.restart()
	h.waitText(u.ID, ru(locales.NothingToCancel))
	h.srv.SendText(u, "/menu")
	h.waitText(u.ID, ru(locales.MenuPrompt))
	helps := 0
	for _, m := range h.botMessages(u.ID) {
		if strings.HasPrefix(m.Text, firstLine(plain(ru(locales.Help)))) {
			helps++
		}
	}
	if helps != 2 {
		t.Errorf("help answered %d times, want 2 (one before, one during the restart)\n%s", helps, h.transcript(u.ID))
	}
}

// TestInbox_ReplaysUpdatesStoredButNotHandled simulates a kill -9 between
// storing a batch and handling it.
func TestInbox_ReplaysUpdatesStoredButNotHandled(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := telegramtest.User{ID: 602, FirstName: "Бауыржан", LanguageCode: "kk"}
	h.stop()
	raw := fmt.Sprintf(`{"update_id":900001,"message":{"message_id":1,"date":%d,"chat":{"id":%d,"type":"private"},"from":{"id":%d,"is_bot":false,"first_name":"Бауыржан","language_code":"kk"},"text":"/help","entities":[{"type":"bot_command","offset":0,"length":5}]}}`, time.Now().Unix(), u.ID, u.ID)
	if _, err := h.db.Accept(context.Background(), []storage.RawUpdate{{ID: 900001, JSON: []byte(raw)}}, 900002, time.Now()); err != nil {
		t.Fatal(err)
	}
	h.srv.AddPrivateChat(u)
	h.restart()
	h.waitText(u.ID, firstLine(plain(kk(locales.Help))))
	pending, err := h.db.Pending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	eventuallyOK(5*time.Second, func() bool {
		pending, _ = h.db.Pending(context.Background())
		return len(pending) == 0
	})
	if len(pending) != 0 {
		t.Errorf("inbox still holds %d updates after handling", len(pending))
	}
}

func TestSender_ObeysRetryAfter(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := telegramtest.User{ID: 901, FirstName: "Р", LanguageCode: "ru"}
	h.srv.FailNext("sendMessage", 1, 429, 1)
	h.srv.SendText(u, "/help")
	h.waitText(u.ID, firstLine(plain(ru(locales.Help))))
	// The fake shows a message before it records the call that sent it.
	var calls []telegramtest.Call
	eventuallyOK(5*time.Second, func() bool { calls = h.srv.Calls("sendMessage"); return len(calls) >= 2 })
	if len(calls) < 2 {
		t.Fatalf("sendMessage calls = %d, want the throttled one and its retry", len(calls))
	}
	first, retry := calls[0], calls[1]
	if first.Status != 429 {
		t.Errorf("first call status = %d, want 429", first.Status)
	}
	if gap := retry.At.Sub(first.At); gap < time.Second {
		t.Errorf("retried after %v, before retry_after of 1 s", gap)
	}
}

func TestSender_RetriesServerErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := telegramtest.User{ID: 902, FirstName: "Р", LanguageCode: "ru"}
	h.srv.FailNext("sendMessage", 2, 502, 0)
	h.srv.SendText(u, "/help")
	h.waitText(u.ID, firstLine(plain(ru(locales.Help))))
}

func TestBlocked_MarksUserInactive(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := telegramtest.User{ID: 903, FirstName: "Р", LanguageCode: "ru"}
	h.srv.SendText(u, "/start")
	h.waitText(u.ID, ru(locales.MenuPrompt))
	h.srv.Block(u.ID)
	h.srv.SendText(u, "/help")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if got, err := h.db.User(context.Background(), u.ID); err == nil && !got.Active {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Error("user who blocked the bot is still active")
}

// TestConnect_TokenNeverLogged points the bot at a closed port: the bot
// retries, says so, and never writes the token.
func TestConnect_TokenNeverLogged(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	const token = "7777777:SECRET-token_value"
	logs := &syncBuffer{}
	bt, err := New(Config{Token: token, APIEndpoint: "http://" + addr + "/bot%s/%s"},
		Deps{Store: nil, Locales: testLocales, Log: slogJSON(logs)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	err = bt.Connect(ctx)
	if err == nil {
		t.Fatal("Connect succeeded against a closed port")
	}
	out := logs.String() + err.Error()
	if strings.Contains(out, token) || strings.Contains(out, "SECRET") {
		t.Fatalf("token leaked:\n%s", out)
	}
	if !strings.Contains(logs.String(), "Bot API unreachable, retrying") {
		t.Errorf("no retry message in logs:\n%s", logs.String())
	}
}

func TestConnect_RejectedToken(t *testing.T) {
	t.Parallel()
	srv := telegramtest.NewServer(t)
	bt, err := New(Config{Token: "1:wrongwrongwrong", APIEndpoint: srv.Endpoint()}, Deps{Locales: testLocales})
	if err != nil {
		t.Fatal(err)
	}
	err = bt.Connect(context.Background())
	if !errors.Is(err, tg.ErrUnauthorized) {
		t.Fatalf("Connect with a rejected token = %v, want tg.ErrUnauthorized", err)
	}
}

// TestOffset_StaleAfterAWeekIsNotTrusted: Telegram restarts update ids at a
// random value after a week without updates. An old, higher stored offset
// must not make the bot confirm away the new, lower ids unseen.
func TestOffset_StaleAfterAWeekIsNotTrusted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.stop()
	weekAgo := time.Now().Add(-8 * 24 * time.Hour)
	old := []storage.RawUpdate{{ID: 5_000_000, JSON: []byte(`{"update_id":5000000}`)}}
	if _, err := h.db.Accept(context.Background(), old, 5_000_001, weekAgo); err != nil {
		t.Fatal(err)
	}
	if err := h.db.Done(context.Background(), []int{5_000_000}, weekAgo); err != nil {
		t.Fatal(err)
	}
	u := telegramtest.User{ID: 1001, FirstName: "Ғ", LanguageCode: "kk"}
	h.srv.SendText(u, "/help") // gets a low update id from the fake
	h.restart()
	h.waitText(u.ID, firstLine(plain(kk(locales.Help))))
}

// botTexts is the text of the bot's messages in chat that were not deleted.
func (h *harness) botTexts(chatID int64) []string {
	var out []string
	for _, m := range h.botMessages(chatID) {
		if !m.Deleted {
			out = append(out, m.Text)
		}
	}
	return out
}

// inOrder reports whether texts has, in this order, one text starting with
// each prefix, and nothing else.
func inOrder(texts []string, prefixes ...string) bool {
	if len(texts) != len(prefixes) {
		return false
	}
	for i, p := range prefixes {
		if !strings.HasPrefix(texts[i], p) {
			return false
		}
	}
	return true
}

// A poster's QR code is often the first contact: the person gets the
// language question or the greeting with its switch, the card, and the
// subscription offer, as a plain /start would give them.
func TestStart_DeepLinkOnFirstContact(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	card := "Молодёжный ресурсный центр Карасайского района"
	t.Run("russian telegram greets first", func(t *testing.T) {
		u := telegramtest.User{ID: 2601, FirstName: "Данияр", LanguageCode: "ru"}
		h.srv.SendText(u, "/start center_karasai")
		h.waitText(u.ID, ru(locales.MenuPrompt))
		got := h.botTexts(u.ID)
		want := []string{firstLine(plain(ru(locales.Welcome, locales.Data{"Name": "Данияр"}))), card, ru(locales.SubscriptionOffer), ru(locales.MenuPrompt)}
		if !inOrder(got, want...) {
			t.Fatalf("messages = %q, want greeting, card, offer, menu", got)
		}
		welcome := h.botMessages(u.ID)[0]
		if d := buttonData(welcome); len(d) != 1 || d[0] != "lang:kk" {
			t.Errorf("greeting buttons = %v, want the switch to Kazakh", d)
		}
		// A second poster: only the card and the menu, no greeting, no
		// second offer.
		h.srv.SendText(u, "/start center_balkhash")
		h.waitText(u.ID, "Молодёжный ресурсный центр Балхашского района")
		h.waitMatch(u.ID, "second menu", func(m telegramtest.Message) bool {
			return m.Text == ru(locales.MenuPrompt) && m.ID > welcome.ID+3
		})
		got = h.botTexts(u.ID)[4:]
		if !inOrder(got, "Молодёжный ресурсный центр Балхашского района", ru(locales.MenuPrompt)) {
			t.Errorf("second deep link gave %q, want the card and the menu", got)
		}
	})
	t.Run("other telegram language asks first", func(t *testing.T) {
		u := telegramtest.User{ID: 2602, FirstName: "John", LanguageCode: "en"}
		h.srv.SendText(u, "/start center_karasai")
		q := h.waitText(u.ID, ru(locales.ChooseLanguage))
		if got := h.botTexts(u.ID); len(got) != 1 {
			t.Fatalf("before the choice: %q, want only the question", got)
		}
		h.press(u, q, "Русский")
		h.waitText(u.ID, ru(locales.MenuPrompt))
		got := h.botTexts(u.ID)
		want := []string{firstLine(plain(ru(locales.Welcome, locales.Data{"Name": "John"}))), card, ru(locales.SubscriptionOffer), ru(locales.MenuPrompt)}
		if !inOrder(got, want...) {
			t.Fatalf("after the choice: %q, want greeting, card, offer, menu", got)
		}
		stored, err := h.db.User(context.Background(), u.ID)
		if err != nil || stored.Lang != storage.Russian || !stored.LangSet || !stored.SubscriptionOffered {
			t.Errorf("stored user = %+v, %v; want Russian chosen and the offer made", stored, err)
		}
	})
}

// commandDescriptions are the descriptions of a command list, in order.
func commandDescriptions(cmds []tgbotapi.BotCommand) []string {
	var out []string
	for _, c := range cmds {
		out = append(out, c.Description)
	}
	return out
}

// Telegram's command menu follows the language the person chose, not only
// their app's language_code; a failure to set it does not fail the switch.
func TestLanguage_CommandMenuFollowsChoice(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// menuIn checks, after the reply to /help (updates of one chat are
	// handled in order, so the language button's work is over by then),
	// that the chat's command menu is in lang.
	menuIn := func(t *testing.T, u telegramtest.User, lang string) {
		t.Helper()
		l := testLocales.For(lang)
		h.srv.SendText(u, "/help")
		h.waitText(u.ID, firstLine(plain(l.T(locales.Help))))
		want := []string{l.T(locales.CommandStart), l.T(locales.CommandLanguage), l.T(locales.CommandCancel)}
		if got := commandDescriptions(h.srv.ChatCommands(u.ID)); len(got) < 3 || !slices.Equal(got[:3], want) {
			t.Errorf("chat commands = %q, want them in %s, starting %q", got, lang, want)
		}
	}

	t.Run("switch on the greeting", func(t *testing.T) {
		u := telegramtest.User{ID: 2701, FirstName: "Айдана", LanguageCode: "ru"}
		h.srv.SendText(u, "/start")
		greeting := h.waitText(u.ID, firstLine(plain(ru(locales.Welcome, locales.Data{"Name": "Айдана"}))))
		h.press(u, greeting, ru(locales.SwitchLanguage))
		h.waitText(u.ID, kk(locales.LanguageChanged))
		menuIn(t, u, "kk")
	})
	t.Run("first choice", func(t *testing.T) {
		u := telegramtest.User{ID: 2702, FirstName: "John", LanguageCode: "en"}
		h.srv.SendText(u, "/start")
		h.press(u, h.waitText(u.ID, ru(locales.ChooseLanguage)), "Русский")
		h.waitText(u.ID, ru(locales.MenuPrompt))
		menuIn(t, u, "ru")
	})
	t.Run("failure is not the person's", func(t *testing.T) {
		u := telegramtest.User{ID: 2703, FirstName: "Ерлан", LanguageCode: "kk"}
		h.srv.SendText(u, "/start")
		greeting := h.waitText(u.ID, firstLine(plain(kk(locales.Welcome, locales.Data{"Name": "Ерлан"}))))
		h.srv.FailNext("setMyCommands", 1, http.StatusBadRequest, 0)
		id := h.press(u, greeting, kk(locales.SwitchLanguage))
		if got := h.waitAnswered(id); got != ru(locales.LanguageChanged) {
			t.Errorf("button answered %q, want %q", got, ru(locales.LanguageChanged))
		}
		h.waitText(u.ID, ru(locales.LanguageChanged))
		h.srv.SendText(u, "/help")
		h.waitText(u.ID, firstLine(plain(ru(locales.Help))))
		for _, m := range h.botMessages(u.ID) {
			if m.Text == ru(locales.SomethingWentWrong) || m.Text == kk(locales.SomethingWentWrong) {
				t.Errorf("the failed command menu reached the person: %q", m.Text)
			}
		}
		if stored, err := h.db.User(context.Background(), u.ID); err != nil || stored.Lang != storage.Russian {
			t.Errorf("stored user = %+v, %v; want Russian", stored, err)
		}
	})
}
