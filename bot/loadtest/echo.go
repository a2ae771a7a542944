package loadtest

import (
	"context"
	"net/http"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/telegramtest"
)

// startEcho runs the baseline: getUpdates, then one sendMessage per update
// from a pool of workers as wide as the bot's, with no logic and no
// database. Whatever it reaches is the ceiling of this machine and the fake.
func startEcho(ctx context.Context, srv *telegramtest.Server, workers int) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	// As many idle connections as workers, like the bot's own client.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = workers+16, workers+16
	api := &tgbotapi.BotAPI{Token: srv.Token(), Client: &http.Client{Timeout: 30 * time.Second, Transport: tr}}
	api.SetAPIEndpoint(srv.Endpoint())
	jobs := make(chan int64, 1024)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for chat := range jobs {
				_, _ = api.Send(tgbotapi.NewMessage(chat, "echo"))
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		offset := 0
		for ctx.Err() == nil {
			updates, err := api.GetUpdates(tgbotapi.UpdateConfig{Offset: offset, Timeout: 1, Limit: 100})
			if err != nil {
				continue
			}
			for _, u := range updates {
				offset = u.UpdateID + 1
				if chat := u.FromChat(); chat != nil {
					jobs <- chat.ID
				}
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}
