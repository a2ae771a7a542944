package ops

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
)

// TestServe_HandlerPanicIsCountedAndServes: a panic while serving an
// operator's request answers 500, is counted under ops_listener, and the
// listener goes on serving.
func TestServe_HandlerPanicIsCountedAndServes(t *testing.T) {
	t.Parallel()
	m := NewMetrics()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("handler bug") })
	mux.Handle("/", Handler(m, nil, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := Serve(ctx, "127.0.0.1:0", mux, slog.New(slog.DiscardHandler), m)
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) int {
		t.Helper()
		resp, err := http.Get("http://" + addr.String() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("/boom"); code != http.StatusInternalServerError {
		t.Errorf("GET /boom = %d, want 500", code)
	}
	if code := get("/healthz"); code != http.StatusOK {
		t.Errorf("GET /healthz after the panic = %d, want 200", code)
	}
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got float64
	for _, f := range fams {
		if f.GetName() == "jastar_panics_total" {
			for _, s := range f.GetMetric() {
				if s.GetLabel()[0].GetValue() == "ops_listener" {
					got += s.GetCounter().GetValue()
				}
			}
		}
	}
	if got != 1 {
		t.Errorf(`jastar_panics_total{component="ops_listener"} = %v, want 1`, got)
	}
}
