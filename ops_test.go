package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"jastar/bot/telegramtest"
)

// freeAddr finds a loopback port for the ops listener.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type runningBot struct {
	srv    *telegramtest.Server
	env    map[string]string
	cancel context.CancelFunc
	done   chan error
}

func startBot(t *testing.T, extra map[string]string) *runningBot {
	t.Helper()
	srv := telegramtest.NewServer(t)
	environ := map[string]string{
		"TELEGRAM_BOT_TOKEN": srv.Token(), "TELEGRAM_API_URL": srv.URL(),
		"JASTAR_DB": filepath.Join(t.TempDir(), "jastar.db"), "JASTAR_CHAT_RATE": "0", "JASTAR_SEND_RATE": "0",
	}
	for k, v := range extra {
		environ[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	rb := &runningBot{srv: srv, env: environ, cancel: cancel, done: make(chan error, 1)}
	go func() { rb.done <- run(ctx, nil, env(environ), io.Discard, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-rb.done:
		case <-time.After(15 * time.Second):
			t.Error("bot did not stop")
		}
	})
	return rb
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func waitStatus(t *testing.T, url string, want int) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, body := get(t, url)
		if code == want {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %d %q, want %d", url, code, body, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestOps_HealthMetricsAndStall(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	rb := startBot(t, map[string]string{"JASTAR_HTTP_ADDR": addr})
	waitStatus(t, "http://"+addr+"/healthz", 200)
	waitStatus(t, "http://"+addr+"/readyz", 200)

	u := telegramtest.User{ID: 5, FirstName: "Ерболат", LanguageCode: "kk"}
	rb.srv.SendText(u, "/help")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := rb.srv.WaitMessages(ctx, u.ID, 1); err != nil {
		t.Fatal(err)
	}
	// Metrics are in the Prometheus text format and count what happened.
	// A scrape gathers the collectors concurrently, so one taken while the
	// update is being counted may see the update but not yet its latency or
	// the message sent for it: wait for all three.
	var families map[string]*dtoFamily
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := get(t, "http://"+addr+"/metrics")
		families = parseMetrics(t, body)
		_, latency := families["jastar_handler_seconds"]
		if (families["jastar_updates_handled_total"].sum("kind", "command") >= 1 && latency &&
			families["jastar_messages_sent_total"].sum("", "") >= 1) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := families["jastar_updates_handled_total"].sum("kind", "command"); got != 1 {
		t.Errorf("updates handled (command) = %v, want 1", got)
	}
	if got := families["jastar_messages_sent_total"].sum("", ""); got < 1 {
		t.Errorf("messages sent = %v, want >= 1", got)
	}
	if _, ok := families["jastar_handler_seconds"]; !ok {
		t.Error("no handler latency histogram")
	}
	if strings.Contains(fmt.Sprint(families), rb.env["TELEGRAM_BOT_TOKEN"]) {
		t.Error("token in metrics")
	}
}

// dtoFamily is a parsed metric family, reduced to what the test reads.
type dtoFamily struct{ samples []sample }

type sample struct {
	labels map[string]string
	value  float64
}

func (f *dtoFamily) sum(label, value string) float64 {
	if f == nil {
		return 0
	}
	var total float64
	for _, s := range f.samples {
		if label == "" || s.labels[label] == value {
			total += s.value
		}
	}
	return total
}

func parseMetrics(t *testing.T, body string) map[string]*dtoFamily {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("metrics are not in the Prometheus text format: %v", err)
	}
	out := map[string]*dtoFamily{}
	for name, mf := range fams {
		f := &dtoFamily{}
		for _, m := range mf.GetMetric() {
			s := sample{labels: map[string]string{}}
			for _, l := range m.GetLabel() {
				s.labels[l.GetName()] = l.GetValue()
			}
			switch {
			case m.Counter != nil:
				s.value = m.GetCounter().GetValue()
			case m.Gauge != nil:
				s.value = m.GetGauge().GetValue()
			case m.Histogram != nil:
				s.value = float64(m.GetHistogram().GetSampleCount())
			}
			f.samples = append(f.samples, s)
		}
		out[name] = f
	}
	return out
}
