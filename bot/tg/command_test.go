package tg

import (
	"strings"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

func FuzzParseCommand(f *testing.F) {
	f.Add("/start center_karasai", 6)
	f.Add("/start@jastar_bot x", 17)
	f.Add("/😀", 3)
	f.Fuzz(func(t *testing.T, text string, length int) {
		m := messageWithCommand(text, length)
		cmd, args, _, ok := parseCommand(m, "jastar_bot")
		if !ok {
			return
		}
		for _, r := range cmd {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
				t.Fatalf("command %q from %q has a character Telegram commands cannot have", cmd, text)
			}
		}
		if !strings.HasPrefix(text, "/"+cmd) && !strings.HasPrefix(strings.ToLower(text), "/"+cmd) {
			t.Fatalf("command %q is not at the start of %q", cmd, text)
		}
		_ = args
	})
}

func messageWithCommand(text string, length int) *tgbotapi.Message {
	return &tgbotapi.Message{Text: text, Entities: []tgbotapi.MessageEntity{{Type: "bot_command", Offset: 0, Length: length}}}
}
