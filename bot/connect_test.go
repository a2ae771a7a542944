package bot

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"jastar/bot/telegramtest"
)

// TestConnect_NotABotAPI: a TELEGRAM_API_URL that answers getMe with a
// client error is no Bot API; retrying cannot help, so Connect fails at
// once and names the variable, instead of "unreachable, retrying" forever.
func TestConnect_NotABotAPI(t *testing.T) {
	t.Parallel()
	connect := func(t *testing.T, endpoint string) error {
		t.Helper()
		bt, err := New(Config{Token: telegramtest.DefaultToken, APIEndpoint: endpoint}, Deps{Locales: testLocales})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = bt.Connect(ctx)
		if ctx.Err() != nil {
			t.Fatalf("Connect kept retrying until the test's deadline: %v", err)
		}
		return err
	}
	t.Run("Bot API answers 404", func(t *testing.T) {
		srv := telegramtest.NewServer(t)
		srv.FailNext("getMe", 1, http.StatusNotFound, 0)
		err := connect(t, srv.Endpoint())
		if err == nil || !strings.Contains(err.Error(), "TELEGRAM_API_URL") || !strings.Contains(err.Error(), "404") {
			t.Errorf("Connect = %v, want an error naming TELEGRAM_API_URL and the 404", err)
		}
		if n := len(srv.Calls("getMe")); n != 1 {
			t.Errorf("getMe called %d times, want 1", n)
		}
	})
	t.Run("a web server's HTML 404 page", func(t *testing.T) {
		web := httptest.NewServer(http.NotFoundHandler())
		t.Cleanup(web.Close)
		err := connect(t, web.URL+"/bot%s/%s")
		if err == nil || !strings.Contains(err.Error(), "TELEGRAM_API_URL") || !strings.Contains(err.Error(), web.URL+" answered 404") {
			t.Errorf("Connect = %v, want an error naming TELEGRAM_API_URL, the URL and the 404", err)
		}
	})
}
