// Package ops is what an operator watches: the optional HTTP listener with
// /healthz, /readyz and /metrics (Prometheus text format), and the metrics
// the bot records.
//
// It imports nothing of ours; the bot records into Metrics, and main hands
// the listener the checks it runs.
package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the bot's Prometheus collectors, on a registry of their own so
// tests can build as many as they like.
type Metrics struct {
	registry *prometheus.Registry

	Updates        *prometheus.CounterVec   // updates handled, by kind
	HandlerLatency *prometheus.HistogramVec // handling time, by kind
	HandlerErrors  *prometheus.CounterVec   // handler errors and panics, by kind
	Sent           prometheus.Counter       // messages Telegram accepted
	Throttled      prometheus.Counter       // 429 answers
	SendFailures   prometheus.Counter       // sends given up, except on 429s (counted in Throttled)
	Bookings       *prometheus.CounterVec   // bookings made, by type and center
	Broadcast      *prometheus.CounterVec   // broadcast deliveries, by outcome
	Panics         *prometheus.CounterVec   // panics recovered outside handlers, by component
	// RemindersUncertain counts reminders whose send had no known outcome
	// (in flight at a crash, or panicked): never resent, listed for staff.
	RemindersUncertain prometheus.Counter
	// BroadcastRetries counts the waits of broadcast runners before trying
	// again, by cause (database, panic).
	BroadcastRetries *prometheus.CounterVec
	// CrisisAnswers counts the messages answered as signalling crisis:
	// the only trace such a message leaves (issue 17).
	CrisisAnswers prometheus.Counter
}

// NewMetrics builds the collectors and registers them with Go runtime and
// process metrics.
func NewMetrics() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		registry: r,
		Updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jastar_updates_handled_total", Help: "Telegram updates handled, by kind.",
		}, []string{"kind"}),
		HandlerLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "jastar_handler_seconds", Help: "Time to handle one update, by kind.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"kind"}),
		HandlerErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jastar_handler_errors_total", Help: "Updates whose handling failed or panicked, by kind.",
		}, []string{"kind"}),
		Sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jastar_messages_sent_total", Help: "Messages Telegram accepted.",
		}),
		Throttled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jastar_telegram_429_total", Help: "Too Many Requests answers from Telegram.",
		}),
		SendFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jastar_send_failures_total", Help: "Calls to Telegram given up after retries or refused; a 429 given up on counts in jastar_telegram_429_total only, since the caller may try again.",
		}),
		Bookings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jastar_bookings_total", Help: "Consultation bookings made, by type and center.",
		}, []string{"type", "center"}),
		Broadcast: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jastar_broadcast_deliveries_total", Help: "Broadcast deliveries, by outcome (sent, blocked, failed, uncertain).",
		}, []string{"outcome"}),
		Panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jastar_panics_total", Help: "Panics recovered in background work (not in handlers: see jastar_handler_errors_total), by component.",
		}, []string{"component"}),
		RemindersUncertain: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jastar_reminders_uncertain_total", Help: "Reminders that may or may not have reached their person (in flight at a crash, or their send panicked): never resent; the morning staff digest lists their bookings.",
		}),
		BroadcastRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jastar_broadcast_retries_total", Help: "Waits of a broadcast runner before it tries again, by cause (database: an error reading or writing the broadcast; panic).",
		}, []string{"cause"}),
		CrisisAnswers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jastar_crisis_answers_total", Help: "Messages that signalled crisis and got the help lines first; the text of such a message is never stored or logged, so this count is all there is of it.",
		}),
	}
	r.MustRegister(m.Updates, m.HandlerLatency, m.HandlerErrors, m.Sent, m.Throttled, m.SendFailures, m.Bookings, m.Broadcast, m.Panics, m.RemindersUncertain,
		m.BroadcastRetries, m.CrisisAnswers,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Recovered is deferred at the top of every goroutine the bot starts
// outside a handler: it stops a panic there from killing the process, logs
// it with its component and stack, and counts it. It reports through
// *panicked (when not nil) so the caller can leave its work to be retried.
// m may be nil (tests that build no metrics).
func Recovered(log *slog.Logger, m *Metrics, component string, panicked *bool) {
	p := recover()
	if p == nil {
		return
	}
	if panicked != nil {
		*panicked = true
	}
	log.Error("panic recovered", "component", component, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	if m != nil {
		m.Panics.WithLabelValues(component).Inc()
	}
}

// Registry is where the collectors live, for tests that gather them.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Check is a health check: nil when healthy, an error saying why not.
type Check func(ctx context.Context) error

// Handler serves /healthz (liveness: every check passes), /readyz (every
// readiness check passes) and /metrics.
func Handler(m *Metrics, live, ready []Check) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", checkHandler(live))
	mux.HandleFunc("GET /readyz", checkHandler(ready))
	return mux
}

func checkHandler(checks []Check) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		for _, c := range checks {
			if err := c(ctx); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintln(w, "unhealthy:", err)
				return
			}
		}
		fmt.Fprintln(w, "ok")
	}
}

// Recovering wraps h so that a panic in it is logged with its stack and
// counted under component (m may be nil), and the request answered 500.
// net/http would recover it too, but uncounted, into its own error log.
func Recovering(log *slog.Logger, m *Metrics, component string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var panicked bool
		defer func() {
			if panicked {
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		defer Recovered(log, m, component, &panicked)
		h.ServeHTTP(w, r)
	})
}

// Serve listens on addr until ctx ends. It returns once the listener is up
// (or failed), and stops the server when ctx ends. A panic in h or in the
// listener's own goroutines is recovered and counted in m (component
// "ops_listener").
func Serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger, m *Metrics) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: Recovering(log, m, "ops_listener", h), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer Recovered(log, m, "ops_listener", nil)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("ops listener stopped", "err", err)
		}
	}()
	go func() {
		defer Recovered(log, m, "ops_listener", nil)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("ops listener up", "addr", ln.Addr().String())
	return ln.Addr(), nil
}
