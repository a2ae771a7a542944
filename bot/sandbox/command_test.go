package sandbox

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"jastar/bot/config"
)

// unusable is a Command that fails the test if it gets as far as the
// database, the configuration or the bot.
func unusable(t *testing.T) Command {
	return Command{
		Open: func(string, bool) (Store, error) {
			t.Error("the sandbox opened its database")
			return nil, errors.New("no database here")
		},
		Config: func(func(string) string) (BotConfig, error) {
			t.Error("the sandbox read the bot's configuration")
			return BotConfig{}, errors.New("no configuration here")
		},
		RunBot: func(context.Context, func(string) string, io.Writer, string) error {
			t.Error("the sandbox ran the bot")
			return nil
		},
	}
}

// TestCommand_Flags: a page address beyond loopback is refused as a
// configuration error, -h shows the flags and succeeds, and an argument is
// a usage error; none of them touches a database or starts the bot.
func TestCommand_Flags(t *testing.T) {
	t.Parallel()
	env := func(string) string { return "" }
	c := unusable(t)
	var out, errOut bytes.Buffer
	err := c.Run(context.Background(), []string{"-addr", "0.0.0.0:8080"}, env, &out, &errOut)
	var cerr *config.Error
	if !errors.As(err, &cerr) || !strings.Contains(err.Error(), "loopback only") {
		t.Errorf("public address: err = %v, want a configuration error about loopback", err)
	}
	if err := c.Run(context.Background(), []string{"-h"}, env, &out, &errOut); err != nil {
		t.Errorf("-h: %v", err)
	}
	if !strings.Contains(errOut.String(), "-addr") {
		t.Errorf("-h printed %q, want the -addr flag", errOut.String())
	}
	if err := c.Run(context.Background(), []string{"extra"}, env, &out, &errOut); !errors.Is(err, config.ErrUsage) {
		t.Errorf("extra argument: err = %v, want a usage error", err)
	}
}
