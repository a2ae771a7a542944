package main

import (
	"runtime/debug"
)

// The bot's live heap is small (about 10 MB: a few hundred updates in flight,
// the catalog, the texts), so Go's default GOGC=100 collects every few
// megabytes of garbage, and the profile of `jastar load` showed garbage
// collection taking 15% of the bot's CPU. Collecting less often (GOGC=300)
// raised the rate by 15–20%; the soft memory limit caps what that costs, so
// the heap can never grow past the limit however busy the bot is, and the
// process stays under its memory budget (64 MB resident with 100,000 people
// stored; the database pages bbolt maps come on top of the Go heap).
const (
	gcPercent   = 300
	memoryLimit = 36 << 20 // bytes of Go-managed memory
)

// tuneGC applies the settings above unless the operator set GOGC or
// GOMEMLIMIT, which the Go runtime has already applied and which win.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(gcPercent)
	debug.SetMemoryLimit(memoryLimit)
}

// runsTheBot reports whether args start the long-running bot (`jastar` or
// `jastar run`), the one process the settings are measured for.
func runsTheBot(args []string) bool {
	return len(args) == 0 || args[0] == "run"
}
