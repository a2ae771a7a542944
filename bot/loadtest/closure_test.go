package loadtest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jastar/storage"
	"jastar/storage/catalog"
)

// TestCheckCapacity_Closures: the afternoon PrepareClosure books is closed
// in the store; the check then finds its people cancelled, and a booking
// made inside the closed time behind the rules' back (as a bug would) is
// reported, as is a person told twice, or never.
func TestCheckCapacity_Closures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	loc, _ := time.LoadLocation(Zone)
	cat := catalog.Default(loc)
	now := time.Date(2027, 6, 15, 10, 0, 0, 0, loc) // a Tuesday
	path := filepath.Join(t.TempDir(), "closure.db")
	cmd := boltCommand()
	plan, err := cmd.PrepareClosure(ctx, path, now, cat)
	if err != nil {
		t.Fatal(err)
	}
	if want := (catalog.Date{Year: 2027, Month: 6, Day: 16}); plan.Day != want || len(plan.Victims) == 0 {
		t.Fatalf("plan %+v; want tomorrow's afternoon with people booked in it", plan)
	}
	from, to := plan.Span(loc)
	db, err := cmd.Open(path, ReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	closure, _, err := db.(interface {
		AddClosure(context.Context, storage.Closure, time.Time) (storage.Closure, []storage.Booking, error)
	}).AddClosure(ctx, storage.Closure{CenterID: plan.CenterID, TypeID: plan.TypeID, From: from, To: to, Reason: storage.ReasonIllness, By: Closer}, now)
	if err != nil {
		t.Fatal(err)
	}
	// The store refuses a booking inside a closure, so the lost race is
	// staged below: a morning booking, and a closure said to cover it.
	sch, _ := cat.ScheduleFor(plan.CenterID, plan.TypeID)
	morning := plan.Day.At(sch.Open, loc)
	inside, err := db.Book(ctx, storage.Booking{ChatID: 7, Name: "X", Lang: storage.Kazakh, TypeID: plan.TypeID, CenterID: plan.CenterID,
		Start: morning, End: morning.Add(time.Hour)}, storage.BookRules{Capacity: sch.Capacity, Now: now.Add(-time.Minute), NotBefore: now})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	cc, err := cmd.CheckCapacity(ctx, path, cat, now)
	if err != nil {
		t.Fatal(err)
	}
	if cc.Closures != 1 || len(cc.InsideClosed) != 0 || len(cc.ClosedCancelled) != len(closure.Cancelled) || len(closure.Cancelled) != len(plan.Victims) {
		t.Fatalf("check %+v; want the closure and its %d people cancelled, nobody inside", cc, len(plan.Victims))
	}
	told := map[int64]int{}
	for _, chat := range plan.Victims {
		told[chat] = 1
	}
	if err := Verdict(Report{Closing: true, Closed: true, Told: told}, Report{}, cc); err != nil {
		t.Errorf("everyone told once: %v", err)
	}
	told[plan.Victims[0]] = 2
	delete(told, plan.Victims[len(plan.Victims)-1])
	if err := Verdict(Report{Closing: true, Closed: true, Told: told}, Report{}, cc); err == nil || !strings.Contains(err.Error(), "told exactly once") {
		t.Errorf("one told twice, one never: verdict %v, want a notification error", err)
	}

	// A booking inside a closed range, as a lost race would leave it.
	checkClosures([]storage.Closure{{ID: 9, CenterID: plan.CenterID, TypeID: plan.TypeID, From: morning, To: to, At: now}},
		[]storage.Booking{inside}, &cc)
	if len(cc.InsideClosed) != 1 {
		t.Fatalf("inside = %q, want the active booking", cc.InsideClosed)
	}
	if err := Verdict(Report{}, Report{}, cc); err == nil || !strings.Contains(err.Error(), "inside a closed range") {
		t.Errorf("verdict %v, want a capacity error", err)
	}
}
