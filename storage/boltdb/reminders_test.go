package boltdb

import (
	"context"
	"errors"
	"testing"
	"time"

	"jastar/storage"
)

// claimDue claims up to limit reminders due at now one by one, as the sweep
// does right before each send, and returns them.
func claimDue(ctx context.Context, db *DB, now time.Time, limit int) ([]storage.Reminder, error) {
	due, err := db.DueReminders(ctx, now, storage.Reminder{}, limit)
	if err != nil {
		return nil, err
	}
	var out []storage.Reminder
	for _, r := range due {
		c, err := db.ClaimReminder(ctx, r.ID)
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
	return out, nil
}

// TestDueReminders_PagesWithoutClaiming: reading due reminders changes
// nothing, and the cursor pages through them in due order.
func TestDueReminders_PagesWithoutClaiming(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTemp(t)
	for i, d := range []int{5, 3, 4} {
		if _, err := db.Book(ctx, booking(int64(7+i), "kegen", "legal", at(d, 11)), rules(1, 3)); err != nil {
			t.Fatal(err)
		}
	}
	all, err := db.DueReminders(ctx, at(6, 0), storage.Reminder{}, 100)
	if err != nil || len(all) != 6 {
		t.Fatalf("due = %d, %v; want 6", len(all), err)
	}
	again, _ := db.DueReminders(ctx, at(6, 0), storage.Reminder{}, 100)
	if len(again) != 6 {
		t.Errorf("a second read found %d, want the same 6: reading claims nothing", len(again))
	}
	var paged []storage.Reminder
	var after storage.Reminder
	for {
		page, err := db.DueReminders(ctx, at(6, 0), after, 4)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, page...)
		if len(page) < 4 {
			break
		}
		after = page[len(page)-1]
	}
	if len(paged) != 6 {
		t.Fatalf("paged through %d, want 6", len(paged))
	}
	for i := range paged {
		if paged[i].ID != all[i].ID || (i > 0 && paged[i].Due.Before(paged[i-1].Due)) {
			t.Errorf("page order differs at %d: %+v vs %+v", i, paged[i], all[i])
		}
	}
}

// TestClaimReminder_InFlightUntilSettled: a claimed reminder is never due
// again nor claimable; settled as uncertain it is kept for the digest; left
// in flight by a crash, it is settled as uncertain at the next start.
func TestClaimReminder_InFlightUntilSettled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, path := openTemp(t)
	for _, chat := range []int64{7, 8, 9} {
		if _, err := db.Book(ctx, booking(chat, "kegen", "legal", at(2, 11)), rules(3, 3)); err != nil {
			t.Fatal(err)
		}
	}
	due, err := db.DueReminders(ctx, at(1, 18), storage.Reminder{}, 100)
	if err != nil || len(due) != 3 {
		t.Fatalf("due = %+v, %v", due, err)
	}
	for _, r := range due {
		if _, err := db.ClaimReminder(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ClaimReminder(ctx, due[0].ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a second claim = %v, want ErrNotFound", err)
	}
	if left, _ := db.DueReminders(ctx, at(1, 18), storage.Reminder{}, 100); len(left) != 0 {
		t.Errorf("claimed reminders still due: %+v", left)
	}
	checkIndexes(t, db)
	if err := db.SettleReminder(ctx, due[0].ID, false); err != nil { // sent
		t.Fatal(err)
	}
	if err := db.SettleReminder(ctx, due[1].ID, true); err != nil { // its send panicked
		t.Fatal(err)
	}
	if err := db.SettleReminder(ctx, due[0].ID, false); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("settling twice = %v, want ErrNotFound", err)
	}
	// due[2] is on the wire when the process dies.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	settled, err := db.SettleInFlightReminders(ctx)
	if err != nil || len(settled) != 1 || settled[0].ID != due[2].ID || settled[0].ChatID != 9 {
		t.Fatalf("settled at start = %+v, %v; want the one in flight", settled, err)
	}
	if again, _ := db.SettleInFlightReminders(ctx); len(again) != 0 {
		t.Errorf("a second start settled %+v again", again)
	}
	unc, err := db.UncertainReminders(ctx)
	if err != nil || len(unc) != 2 || unc[0].ID != due[1].ID || unc[1].ID != due[2].ID || unc[1].BookingID == 0 {
		t.Fatalf("uncertain = %+v, %v", unc, err)
	}
	if err := db.ForgetUncertainReminders(ctx, []uint64{unc[0].ID}); err != nil {
		t.Fatal(err)
	}
	if unc, _ := db.UncertainReminders(ctx); len(unc) != 1 || unc[0].ID != due[2].ID {
		t.Errorf("after forgetting one: %+v", unc)
	}
	// Forget erases the person's uncertain reminder too.
	if _, err := db.Forget(ctx, 9); err != nil {
		t.Fatal(err)
	}
	if unc, _ := db.UncertainReminders(ctx); len(unc) != 0 {
		t.Errorf("after /forget the person's uncertain reminder stays: %+v", unc)
	}
}

// TestPutBackReminders_EndsTheFlight: a reminder put back is due again and
// no longer in flight, so a restart reports nothing.
func TestPutBackReminders_EndsTheFlight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTemp(t)
	if _, err := db.Book(ctx, booking(7, "kegen", "legal", at(2, 11)), rules(1, 3)); err != nil {
		t.Fatal(err)
	}
	claimed, err := claimDue(ctx, db, at(1, 18), 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claimed %+v, %v", claimed, err)
	}
	if err := db.PutBackReminders(ctx, claimed); err != nil {
		t.Fatal(err)
	}
	if rs, _ := db.SettleInFlightReminders(ctx); len(rs) != 0 {
		t.Errorf("a put-back reminder was still in flight: %+v", rs)
	}
	if due, _ := db.DueReminders(ctx, at(1, 18), storage.Reminder{}, 10); len(due) != 1 || due[0].ID != claimed[0].ID {
		t.Errorf("due after put-back = %+v", due)
	}
	checkIndexes(t, db)
}
