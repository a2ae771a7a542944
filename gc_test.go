package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestTuneGC_OperatorSettingsWin: GOGC or GOMEMLIMIT in the environment
// leaves the runtime as the operator set it; without them the bot collects
// less often, within a memory limit.
func TestTuneGC_OperatorSettingsWin(t *testing.T) {
	oldPercent := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	})
	for _, env := range []map[string]string{{"GOGC": "50"}, {"GOMEMLIMIT": "100MiB"}} {
		tuneGC(func(k string) string { return env[k] })
		if got := debug.SetGCPercent(100); got != 100 {
			t.Errorf("with %v: GC percent = %d, want the runtime's 100 untouched", env, got)
		}
		if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
			t.Errorf("with %v: memory limit = %d, want none", env, got)
		}
	}
	tuneGC(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("GC percent = %d, want %d", got, gcPercent)
	}
	if got := debug.SetMemoryLimit(-1); got != memoryLimit {
		t.Errorf("memory limit = %d, want %d", got, memoryLimit)
	}
}

func TestRunsTheBot(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want bool
	}{
		{nil, true},
		{[]string{"run"}, true},
		{[]string{"load"}, false},
		{[]string{"backup", "x.db"}, false},
		{[]string{"sandbox"}, false},
	} {
		if got := runsTheBot(tt.args); got != tt.want {
			t.Errorf("runsTheBot(%q) = %v, want %v", tt.args, got, tt.want)
		}
	}
}
