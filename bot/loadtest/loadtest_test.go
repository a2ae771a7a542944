package loadtest

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/telegramtest"
	"jastar/locales"
)

// TestRun_EchoServesTheSameMix checks the echo baseline gets the realistic
// scenario's kinds of update, presses included, and answers every one.
func TestRun_EchoServesTheSameMix(t *testing.T) {
	t.Parallel()
	texts, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	real := Realistic(texts)
	echo := EchoScenario(real)
	kinds := func(sc Scenario) []string {
		var out []string
		for _, st := range sc {
			out = append(out, st.Kind)
		}
		return out
	}
	if got, want := kinds(echo), kinds(real); !slices.Equal(got, want) || !slices.Contains(want, KindPress) || !slices.Contains(want, KindLocation) {
		t.Fatalf("echo kinds = %v; want the realistic %v, with presses and a location", got, want)
	}
	rep, err := Run(context.Background(), "echo", Options{Users: 5, Concurrency: 5, Iterations: 2, Scenario: real})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(5 * 2 * len(real)); rep.Updates != want || rep.Missing != 0 || rep.Unanswered != 0 || len(rep.FailedStep) != 0 {
		t.Errorf("echo report = %s; want %d updates answered, every press answered", rep, want)
	}
}

// scriptedBot is a tiny bot with no logic: it answers "hi" with a calendar
// file and two messages, a press of "n" with an answer and an edit, and a
// press of "b" (a booking) with an answer, an edit and a message to the
// staff chat. Its answer each step waits for comes last, so every call
// belongs to the step it answers.
type scriptedBot struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (b *scriptedBot) Stop() error            { b.cancel(); <-b.done; return nil }
func (b *scriptedBot) PeakRSS() int64         { return 0 }
func (b *scriptedBot) CPU() time.Duration     { return 0 }
func (b *scriptedBot) DBSize() int64          { return 0 }
func (b *scriptedBot) Errors() (int64, error) { return 0, nil }

func startScriptedBot(staff int64) StartFunc {
	return func(ctx context.Context, apiURL, token string) (Bot, error) {
		api, err := tgbotapi.NewBotAPIWithAPIEndpoint(token, apiURL+"/bot%s/%s")
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithCancel(ctx)
		b := &scriptedBot{cancel: cancel, done: make(chan struct{})}
		kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
			tgbotapi.NewInlineKeyboardButtonData("next", "n"), tgbotapi.NewInlineKeyboardButtonData("book", "b")))
		go func() {
			defer close(b.done)
			offset := 0
			for ctx.Err() == nil {
				updates, err := api.GetUpdates(tgbotapi.UpdateConfig{Offset: offset, Timeout: 1})
				if err != nil {
					continue
				}
				for _, u := range updates {
					offset = u.UpdateID + 1
					go func() {
						if q := u.CallbackQuery; q != nil {
							_, _ = api.Request(tgbotapi.NewCallback(q.ID, ""))
							if q.Data == "b" {
								_, _ = api.Send(tgbotapi.NewMessage(staff, "new booking"))
							}
							_, _ = api.Request(tgbotapi.NewEditMessageTextAndMarkup(q.Message.Chat.ID, q.Message.MessageID, "page "+q.Data, kb))
							return
						}
						chat := u.Message.Chat.ID
						_, _ = api.Send(tgbotapi.NewDocument(chat, tgbotapi.FileBytes{Name: "a.ics", Bytes: []byte("BEGIN:VCALENDAR")}))
						_, _ = api.Send(tgbotapi.NewMessage(chat, "hello"))
						m := tgbotapi.NewMessage(chat, "choose")
						m.ReplyMarkup = kb
						_, _ = api.Send(m)
					}()
				}
			}
		}()
		return b, nil
	}
}

// TestRun_CallMatchedEchoMakesTheBotsCalls runs a scripted bot, then the
// call-matched echo with the mix the bot's run measured: the echo makes the
// same calls, method by method, as the bot did for the same number of
// scenarios.
func TestRun_CallMatchedEchoMakesTheBotsCalls(t *testing.T) {
	t.Parallel()
	const staff = -100777
	edited := func(e telegramtest.Event) bool { return e.Kind == "edit" }
	scenario := Scenario{
		Text("hi", "hi", func(e telegramtest.Event) bool { return e.Kind == "message" && e.Message.Text == "choose" }),
		Press("next", "n", edited),
		Press("book", "b", edited),
	}
	scenario[2].Booked = func(telegramtest.Event) bool { return true }
	opts := Options{Users: 4, Concurrency: 4, Iterations: 5, Scenario: scenario, StartBot: startScriptedBot(staff),
		StaffChats: []int64{staff}, StaffNotice: func(e telegramtest.Event) bool { return e.Kind == "message" }}
	bot, err := Run(context.Background(), "bot", opts)
	if err != nil {
		t.Fatal(err)
	}
	want := CallMix{
		"hi":      {"sendDocument": 1, "sendMessage": 2},
		"next":    {"answerCallbackQuery": 1, "editMessageText": 1},
		"book":    {"answerCallbackQuery": 1, "editMessageText": 1},
		StaffStep: {"sendMessage": 1},
	}
	if bot.Scenarios != 20 || bot.Missing != 0 || !maps.EqualFunc(bot.Mix, want, maps.Equal) {
		t.Fatalf("bot run %s with mix\n%s; want 20 scenarios and the mix\n%s", bot, bot.Mix, want)
	}
	opts.Mix = bot.Mix
	matched, err := Run(context.Background(), "matched", opts)
	if err != nil {
		t.Fatal(err)
	}
	if matched.Scenarios != 20 || matched.Missing != 0 || matched.Unanswered != 0 || !maps.Equal(matched.Calls, bot.Calls) {
		t.Errorf("matched run %s made calls %v; want 20 scenarios and the bot's calls %v", matched, matched.Calls, bot.Calls)
	}
}

// TestSlowestSteps: the report names the steps the latency's tail comes
// from, slowest p99 first, at most as many as asked.
func TestSlowestSteps(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	got := slowestSteps(map[string][]time.Duration{
		"help":    ms(1, 2, 3),
		"confirm": ms(30, 10, 20),
		"start":   ms(5, 15),
		"events":  ms(4),
	}, 2)
	want := []StepLatency{{"confirm", 30 * time.Millisecond}, {"start", 15 * time.Millisecond}}
	if !slices.Equal(got, want) {
		t.Errorf("slowestSteps = %v, want %v", got, want)
	}
	if got := slowestSteps(nil, 3); len(got) != 0 {
		t.Errorf("no steps: %v", got)
	}
}
