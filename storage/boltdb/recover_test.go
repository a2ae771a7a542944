package boltdb

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestCompaction_PanicIsReportedAndRetried: a panic in the compaction
// timer's check (here its clock) does not kill the process: it is logged
// with its component and stack, reported through Options.OnPanic, and the
// owed compaction is checked again after a backoff, so the erased person
// still leaves the file.
func TestCompaction_PanicIsReportedAndRetried(t *testing.T) {
	t.Parallel()
	f := newCompactFixture(t, map[int64]string{1: "Айгерім Сапарова"})
	var logs bytes.Buffer
	f.db.compact.log = slog.New(slog.NewJSONHandler(&logs, nil))
	var reported []string
	f.db.onPanic = func(c string) { reported = append(reported, c) }
	f.forget(t, 1)
	good := f.db.compact.now
	f.db.compact.now = func() time.Time { panic("clock broke") }
	f.clock.step(t) // panics inside; step returning is the process going on
	if fmt.Sprint(reported) != "[compaction]" {
		t.Errorf("reported panics %v, want [compaction]", reported)
	}
	if !strings.Contains(logs.String(), `"component":"compaction"`) || !strings.Contains(logs.String(), "clock broke") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("the panic is not logged with its component and stack:\n%s", logs.String())
	}
	if f.clock.wait < compactEvery {
		t.Errorf("the next check after a panic comes in %v, want a backoff of at least %v", f.clock.wait, compactEvery)
	}
	f.db.compact.now = good
	for i := 0; i < 5 && !f.rewritten(t); i++ {
		f.clock.step(t)
	}
	if !f.rewritten(t) {
		t.Fatal("the owed compaction never ran after the panic")
	}
	assertGone(t, f.path, "Айгерім")
}
