package tg

import (
	"context"
	"log/slog"
	"testing"

	"jastar/bot/ops"
)

// TestDispatcher_PanickingJobLeavesTheQueueWorking: a job that panics is
// recovered and counted; the chat's next job runs on the same worker, and
// the panicking job's slot is freed, so a queue of one keeps taking jobs.
func TestDispatcher_PanickingJobLeavesTheQueueWorking(t *testing.T) {
	t.Parallel()
	m := ops.NewMetrics()
	d := NewDispatcher(1, 1, "staff_notice", slog.New(slog.DiscardHandler), m)
	ran := make(chan int, 3)
	if err := d.Submit(context.Background(), 7, func() { panic("card bug") }); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		// With one slot, each submit waits for the job before it: a slot
		// lost with the panic would block here forever.
		if err := d.Submit(context.Background(), 7, func() { ran <- i }); err != nil {
			t.Fatal(err)
		}
	}
	if !d.Stop(context.Background()) {
		t.Fatal("the dispatcher did not finish its jobs")
	}
	close(ran)
	var got []int
	for i := range ran {
		got = append(got, i)
	}
	if len(got) != 3 || got[0] != 0 || got[2] != 2 {
		t.Errorf("jobs after the panic ran %v, want [0 1 2] in order", got)
	}
	if n := metricSum(t, m, "jastar_panics_total"); n != 1 {
		t.Errorf("jastar_panics_total = %v, want 1", n)
	}
}
