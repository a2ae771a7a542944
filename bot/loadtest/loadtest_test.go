package loadtest

import (
	"context"
	"slices"
	"testing"

	"jastar/locales"
)

// TestRun_EchoServesTheSameMix checks the echo baseline gets the realistic
// scenario's kinds of update, presses included, and answers every one.
func TestRun_EchoServesTheSameMix(t *testing.T) {
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
