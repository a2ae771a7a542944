package loadtest

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/ops"
	"jastar/bot/telegramtest"
)

// echoButton is the callback data of the one button every echo message
// carries, so the echo scenario has something to press.
const echoButton = "e"

// echoJob is one update for an echo worker: a chat to answer with a
// message, or a callback query to answer.
type echoJob struct {
	chat     int64
	callback string
}

// startEcho runs the baseline: getUpdates, then one call per update from a
// pool of workers as wide as the bot's, with no logic and no database: a
// sendMessage (with one inline button) for a message, an
// answerCallbackQuery for a press. Whatever it reaches is the ceiling of
// this machine and the fake.
func startEcho(ctx context.Context, srv *telegramtest.Server, workers int) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	// As many idle connections as workers, like the bot's own client.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = workers+16, workers+16
	api := &tgbotapi.BotAPI{Token: srv.Token(), Client: &http.Client{Timeout: 30 * time.Second, Transport: tr}}
	api.SetAPIEndpoint(srv.Endpoint())
	jobs := make(chan echoJob, 1024)
	keyboard := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("echo", echoButton)))
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer ops.Recovered(slog.New(slog.NewTextHandler(os.Stderr, nil)), nil, "load_echo", nil)
			for j := range jobs {
				if j.callback != "" {
					_, _ = api.Request(tgbotapi.NewCallback(j.callback, ""))
					continue
				}
				m := tgbotapi.NewMessage(j.chat, "echo")
				m.ReplyMarkup = keyboard
				_, _ = api.Send(m)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		defer ops.Recovered(slog.New(slog.NewTextHandler(os.Stderr, nil)), nil, "load_echo", nil)
		offset := 0
		for ctx.Err() == nil {
			updates, err := api.GetUpdates(tgbotapi.UpdateConfig{Offset: offset, Timeout: 1, Limit: 100})
			if err != nil {
				continue
			}
			for _, u := range updates {
				offset = u.UpdateID + 1
				switch {
				case u.CallbackQuery != nil:
					jobs <- echoJob{callback: u.CallbackQuery.ID}
				case u.FromChat() != nil:
					jobs <- echoJob{chat: u.FromChat().ID}
				}
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}
