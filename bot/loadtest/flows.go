package loadtest

import (
	"jastar/bot/telegramtest"
)

// Realistic returns the scenario a young person plays: greeting, help, the
// language switch and back. Features add their steps here.
func Realistic() Scenario {
	return Scenario{
		Text("start", "/start", WithMenu),
		Text("help", "/help", WithMenu),
		Text("language", "/language", WithKeyboard),
		Press("choose language", "lang:", func(e telegramtest.Event) bool {
			return e.Kind == "message" && len(e.Message.ReplyKeyboard) > 0
		}),
		Text("unknown text", "сәлем", WithMenu),
	}
}
