package boltdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

var testAlmaty = time.FixedZone("Asia/Almaty", 5*3600)

// testNow is Tuesday 1 December 2026, 10:00 in Almaty.
var testNow = time.Date(2026, 12, 1, 10, 0, 0, 0, testAlmaty)

func rules(capacity, maxActive int) storage.BookRules {
	return storage.BookRules{
		Capacity: capacity, MaxActive: maxActive, Now: testNow, NotBefore: testNow.Add(time.Hour),
		Reminders: storage.DefaultReminderPolicy(testAlmaty),
	}
}

func booking(chatID int64, center, typ string, start time.Time) storage.Booking {
	return storage.Booking{
		ChatID: chatID, Name: "Айгерим", Lang: storage.Russian, CenterID: center, TypeID: typ,
		Start: start, End: start.Add(time.Hour),
	}
}

// at is a time on day d of December 2026 in Almaty.
func at(d, h int) time.Time { return time.Date(2026, 12, d, h, 0, 0, 0, testAlmaty) }

// checkIndexes proves every booking is in exactly the indexes its status
// calls for and every index entry names a stored booking that fits it.
func checkIndexes(t *testing.T, db *DB) {
	t.Helper()
	err := db.bolt.View(func(tx *bolt.Tx) error {
		want := map[string]map[string]bool{"slot": {}, "chat": {}, "center": {}}
		err := tx.Bucket(bucketBookings).ForEach(func(k, _ []byte) error {
			b, err := getBooking(tx, decodeUint(k))
			if err != nil {
				return err
			}
			if b.ChatID != 0 { // anonymised bookings belong to nobody
				want["chat"][string(chatBookingKey(b.ChatID, b.Start, b.ID))] = true
			}
			want["center"][string(centerDayKey(b.CenterID, b.Start, b.ID))] = true
			if b.Status != storage.BookingCancelled {
				want["slot"][string(slotKey(b.CenterID, b.TypeID, b.Start, b.ID))] = true
			}
			return nil
		})
		if err != nil {
			return err
		}
		for name, bucket := range map[string][]byte{"slot": bucketBookingsBySlot, "chat": bucketBookingsByChat, "center": bucketBookingsByCenterDay} {
			got := map[string]bool{}
			_ = tx.Bucket(bucket).ForEach(func(k, _ []byte) error { got[string(k)] = true; return nil })
			if len(got) != len(want[name]) {
				t.Errorf("index %s has %d entries, want %d", name, len(got), len(want[name]))
			}
			for k := range want[name] {
				if !got[k] {
					t.Errorf("index %s lacks %x", name, k)
				}
			}
		}
		// Reminder indexes match the reminders.
		n := tx.Bucket(bucketReminders).Stats().KeyN
		if d := tx.Bucket(bucketRemindersByDue).Stats().KeyN; d != n {
			t.Errorf("reminders_by_due has %d entries, reminders %d", d, n)
		}
		if d := tx.Bucket(bucketRemindersByBooking).Stats().KeyN; d != n {
			t.Errorf("reminders_by_booking has %d entries, reminders %d", d, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBook_RulesAndReopen(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)
	a, err := db.Book(ctx, booking(7, "karasai", "career", at(2, 11)), rules(2, 3))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == 0 || a.Status != storage.BookingBooked || !a.CreatedAt.Equal(testNow) {
		t.Fatalf("booked = %+v", a)
	}
	tests := []struct {
		name string
		b    storage.Booking
		r    storage.BookRules
		want error
	}{
		{"same person same slot", booking(7, "karasai", "career", at(2, 11)), rules(2, 3), storage.ErrAlreadyBooked},
		{"same person same time elsewhere", booking(7, "kegen", "legal", at(2, 11)), rules(2, 3), storage.ErrAlreadyBooked},
		{"slot in the past", booking(8, "karasai", "career", at(1, 9)), rules(2, 3), storage.ErrSlotClosed},
		{"inside the minimum notice", booking(8, "karasai", "career", testNow.Add(30*time.Minute)), rules(2, 3), storage.ErrSlotClosed},
		{"full", booking(9, "karasai", "career", at(2, 11)), rules(1, 3), storage.ErrFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := db.Book(ctx, tt.b, tt.r); !errors.Is(err, tt.want) {
				t.Errorf("Book = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := db.Book(ctx, booking(9, "karasai", "career", at(2, 11)), rules(2, 3)); err != nil {
		t.Fatalf("second seat of a capacity-2 slot: %v", err)
	}
	if _, err := db.Book(ctx, booking(10, "karasai", "career", at(2, 11)), rules(2, 3)); !errors.Is(err, storage.ErrFull) {
		t.Fatalf("third booking of a capacity-2 slot = %v, want ErrFull", err)
	}
	// The per-person limit counts upcoming active bookings only.
	for _, h := range []int{12, 15} {
		if _, err := db.Book(ctx, booking(7, "karasai", "career", at(3, h)), rules(2, 3)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Book(ctx, booking(7, "karasai", "career", at(4, 12)), rules(2, 3)); !errors.Is(err, storage.ErrLimit) {
		t.Fatalf("fourth booking = %v, want ErrLimit", err)
	}
	checkIndexes(t, db)

	db.Close()
	db2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	mine, err := db2.BookingsOf(ctx, 7, testNow)
	if err != nil || len(mine) != 3 {
		t.Fatalf("BookingsOf after reopen = %d, %v; want 3", len(mine), err)
	}
	for i, want := range []time.Time{at(2, 11), at(3, 12), at(3, 15)} {
		if !mine[i].Start.Equal(want) || mine[i].Name != "Айгерим" || mine[i].Lang != storage.Russian {
			t.Errorf("booking %d = %+v, want start %v", i, mine[i], want)
		}
	}
	counts, err := db2.SlotCounts(ctx, "karasai", "career", at(2, 0), at(3, 0))
	if err != nil || len(counts) != 1 || counts[at(2, 11).Unix()] != 2 {
		t.Errorf("SlotCounts = %v, %v; want 2 at 11:00", counts, err)
	}
	// Another type of the same center has its own seats.
	counts, _ = db2.SlotCounts(ctx, "karasai", "legal", at(2, 0), at(3, 0))
	if len(counts) != 0 {
		t.Errorf("legal counts = %v, want none", counts)
	}
	day, err := db2.BookingsOn(ctx, []string{"karasai", "kegen"}, at(3, 0), at(4, 0))
	if err != nil || len(day) != 2 || !day[0].Start.Before(day[1].Start) {
		t.Errorf("BookingsOn = %+v, %v; want 2 in order", day, err)
	}
}

func TestBook_NegativeAndPositiveChatsKeepApart(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	for _, chat := range []int64{-5, 5, 1 << 40} {
		if _, err := db.Book(ctx, booking(chat, "kegen", "legal", at(int(2+chat%3+3)%5+2, 11)), rules(5, 3)); err != nil {
			t.Fatal(err)
		}
	}
	for _, chat := range []int64{-5, 5, 1 << 40} {
		got, err := db.BookingsOf(ctx, chat, testNow)
		if err != nil || len(got) != 1 || got[0].ChatID != chat {
			t.Errorf("BookingsOf(%d) = %+v, %v", chat, got, err)
		}
	}
}

// TestBook_AnonymousStaysAnonymous: the flag of an anonymous booking
// survives a reopen and a move, so staff never see a moved one by name.
func TestBook_AnonymousStaysAnonymous(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)
	anon := booking(7, "karasai", "psychology", at(2, 11))
	anon.Name, anon.Anonymous = "", true
	booked, err := db.Book(ctx, anon, rules(1, 3))
	if err != nil {
		t.Fatal(err)
	}
	named, err := db.Book(ctx, booking(8, "karasai", "psychology", at(2, 12)), rules(1, 3))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Reschedule(ctx, booked.ID, at(3, 11), at(3, 12), rules(1, 3)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if got, err := db2.Booking(ctx, booked.ID); err != nil || !got.Anonymous || got.Name != "" || !got.Start.Equal(at(3, 11)) {
		t.Errorf("anonymous booking after a move and a reopen = %+v, %v", got, err)
	}
	if got, err := db2.Booking(ctx, named.ID); err != nil || got.Anonymous || got.Name != "Айгерим" {
		t.Errorf("named booking = %+v, %v", got, err)
	}
}

func TestBook_FiftyRaceForTheLastSeat(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	slot := at(2, 11)
	// One of two seats is taken already.
	if _, err := db.Book(ctx, booking(1, "karasai", "career", slot), rules(2, 3)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, full := 0, 0
	start := make(chan struct{})
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := db.Book(ctx, booking(int64(100+i), "karasai", "career", slot), rules(2, 3))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, storage.ErrFull):
				full++
			default:
				t.Errorf("Book = %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if won != 1 || full != 49 {
		t.Errorf("won %d, full %d; want exactly 1 and 49", won, full)
	}
	counts, _ := db.SlotCounts(ctx, "karasai", "career", slot, slot.Add(time.Second))
	if counts[slot.Unix()] != 2 {
		t.Errorf("slot holds %d, want its capacity 2", counts[slot.Unix()])
	}
	checkIndexes(t, db)
}

func TestCancelAndReschedule_FreeSeatsAndMoveReminders(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	b, err := db.Book(ctx, booking(7, "kegen", "legal", at(3, 11)), rules(1, 3))
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := db.RemindersOf(ctx, b.ID)
	if len(rs) != 2 || !rs[0].Due.Equal(at(2, 18)) || !rs[1].Due.Equal(at(3, 10)) {
		t.Fatalf("reminders = %+v; want 18:00 the day before and 10:00", rs)
	}
	// Someone else holds 14:00: moving there fails and changes nothing.
	if _, err := db.Book(ctx, booking(8, "kegen", "legal", at(3, 14)), rules(1, 3)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Reschedule(ctx, b.ID, at(3, 14), at(3, 15), rules(1, 3)); !errors.Is(err, storage.ErrFull) {
		t.Fatalf("reschedule into a full slot = %v, want ErrFull", err)
	}
	if got, _ := db.Booking(ctx, b.ID); !got.Start.Equal(at(3, 11)) || !got.Active() {
		t.Fatalf("after a failed move the booking is %+v", got)
	}
	// The person's limit does not count the booking being moved.
	old, moved, err := db.Reschedule(ctx, b.ID, at(4, 9), at(4, 10), rules(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if !old.Start.Equal(at(3, 11)) || !moved.Start.Equal(at(4, 9)) || moved.ID != b.ID {
		t.Errorf("moved %v -> %v", old.Start, moved.Start)
	}
	counts, _ := db.SlotCounts(ctx, "kegen", "legal", at(3, 0), at(5, 0))
	if counts[at(3, 11).Unix()] != 0 || counts[at(4, 9).Unix()] != 1 {
		t.Errorf("counts after move = %v", counts)
	}
	rs, _ = db.RemindersOf(ctx, b.ID)
	if len(rs) != 2 || !rs[0].Due.Equal(at(3, 18)) || !rs[1].Due.Equal(at(4, 8)) {
		t.Errorf("reminders after move = %+v", rs)
	}
	// Cancel frees the seat and drops the reminders; a second cancel conflicts.
	c, err := db.Cancel(ctx, b.ID, "by_person", testNow)
	if err != nil || c.Status != storage.BookingCancelled || c.CancelReason != "by_person" {
		t.Fatalf("Cancel = %+v, %v", c, err)
	}
	if _, err := db.Cancel(ctx, b.ID, "by_person", testNow); !errors.Is(err, storage.ErrBookingSettled) {
		t.Errorf("second Cancel = %v, want ErrBookingSettled", err)
	}
	if _, _, err := db.Reschedule(ctx, b.ID, at(4, 10), at(4, 11), rules(1, 3)); !errors.Is(err, storage.ErrBookingSettled) {
		t.Errorf("reschedule of a cancelled booking = %v, want ErrBookingSettled", err)
	}
	counts, _ = db.SlotCounts(ctx, "kegen", "legal", at(3, 0), at(5, 0))
	if counts[at(4, 9).Unix()] != 0 {
		t.Errorf("cancelled booking still holds its seat: %v", counts)
	}
	if rs, _ := db.RemindersOf(ctx, b.ID); len(rs) != 0 {
		t.Errorf("reminders after cancel = %+v", rs)
	}
	if mine, _ := db.BookingsOf(ctx, 7, testNow); len(mine) != 0 {
		t.Errorf("cancelled booking still listed: %+v", mine)
	}
	checkIndexes(t, db)
}

func TestSetStatus(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	b, err := db.Book(ctx, booking(7, "kegen", "legal", at(3, 11)), rules(1, 3))
	if err != nil {
		t.Fatal(err)
	}
	// A mark before the consultation begins is refused and changes nothing.
	if got, err := db.SetStatus(ctx, b.ID, storage.BookingAttended, at(3, 10)); !errors.Is(err, storage.ErrBookingNotStarted) || got.Status != storage.BookingBooked {
		t.Fatalf("mark before the start = %+v, %v; want ErrBookingNotStarted and still booked", got, err)
	}
	if rs, _ := db.RemindersOf(ctx, b.ID); len(rs) != 2 {
		t.Fatalf("an early mark touched the reminders: %+v", rs)
	}
	got, err := db.SetStatus(ctx, b.ID, storage.BookingAttended, at(3, 12))
	if err != nil || got.Status != storage.BookingAttended {
		t.Fatalf("SetStatus = %+v, %v", got, err)
	}
	if _, err := db.SetStatus(ctx, b.ID, storage.BookingAttended, at(3, 12)); !errors.Is(err, storage.ErrBookingSettled) {
		t.Errorf("marking twice = %v, want ErrBookingSettled", err)
	}
	if _, err := db.SetStatus(ctx, b.ID, storage.BookingNoShow, at(3, 12)); err != nil {
		t.Errorf("correcting attended to no-show = %v", err)
	}
	if _, err := db.SetStatus(ctx, 999, storage.BookingNoShow, at(3, 12)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown booking = %v, want ErrNotFound", err)
	}
	if rs, _ := db.RemindersOf(ctx, b.ID); len(rs) != 0 {
		t.Errorf("reminders of a marked booking = %+v", rs)
	}
	if cur, err := db.Booking(ctx, b.ID); err != nil {
		t.Fatal(err)
	} else if _, err := db.MarkStaffNotified(ctx, cur); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Booking(ctx, b.ID); !got.StaffNotified || got.Status != storage.BookingNoShow {
		t.Errorf("booking = %+v", got)
	}
	checkIndexes(t, db)
}

// TestSetStatus_CorrectionAsksFeedbackOnce flips a mark back and forth:
// a question still waiting is taken back and written again, one already
// sent is never written a second time.
func TestSetStatus_CorrectionAsksFeedbackOnce(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	b, err := db.Book(ctx, booking(7, "kegen", "legal", at(3, 11)), rules(1, 3))
	if err != nil {
		t.Fatal(err)
	}
	feedback := func() int {
		rs, _ := db.RemindersOf(ctx, b.ID)
		n := 0
		for _, r := range rs {
			if r.Kind == storage.ReminderFeedback {
				n++
			}
		}
		return n
	}
	steps := []struct {
		status storage.BookingStatus
		want   int
	}{
		{storage.BookingAttended, 1},
		{storage.BookingNoShow, 0},   // not sent yet: taken back
		{storage.BookingAttended, 1}, // and written again
	}
	for _, s := range steps {
		if _, err := db.SetStatus(ctx, b.ID, s.status, at(3, 12)); err != nil {
			t.Fatal(err)
		}
		if got := feedback(); got != s.want {
			t.Fatalf("after %s: %d feedback questions due, want %d", s.status, got, s.want)
		}
	}
	// The sweep sends the question; corrections after that write no other.
	claimed, err := claimDue(ctx, db, at(3, 14), 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claimed %+v, %v; want the one question", claimed, err)
	}
	for _, s := range []storage.BookingStatus{storage.BookingNoShow, storage.BookingAttended} {
		if _, err := db.SetStatus(ctx, b.ID, s, at(3, 15)); err != nil {
			t.Fatal(err)
		}
	}
	if got := feedback(); got != 0 {
		t.Errorf("after the question went out a correction queued %d more", got)
	}
}

// TestStartedBookingStaysPut: once a consultation has begun, neither the
// person nor staff can move or cancel it; staff mark it instead.
func TestStartedBookingStaysPut(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	b, err := db.Book(ctx, booking(7, "kegen", "legal", at(2, 11)), rules(1, 3))
	if err != nil {
		t.Fatal(err)
	}
	later := rules(1, 3)
	later.Now, later.NotBefore = at(2, 11), at(2, 12)
	if _, _, err := db.Reschedule(ctx, b.ID, at(3, 11), at(3, 12), later); !errors.Is(err, storage.ErrBookingStarted) {
		t.Errorf("moving a booking that started = %v, want ErrBookingStarted", err)
	}
	if _, err := db.Cancel(ctx, b.ID, "staff_absent", at(2, 11)); !errors.Is(err, storage.ErrBookingStarted) {
		t.Errorf("cancelling a booking that started = %v, want ErrBookingStarted", err)
	}
	got, _ := db.Booking(ctx, b.ID)
	if !got.Active() || !got.Start.Equal(at(2, 11)) {
		t.Errorf("booking after refused changes = %+v", got)
	}
	checkIndexes(t, db)
}

func TestClaimReminder_OnceInOrder(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)
	for i, d := range []int{5, 3, 4} {
		if _, err := db.Book(ctx, booking(int64(7+i), "kegen", "legal", at(d, 11)), rules(1, 3)); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// By 10:00 on the 4th: day-before of the 3rd and 4th, hour-before of the 3rd.
	got, err := claimDue(ctx, db, at(4, 10), 100)
	if err != nil {
		t.Fatal(err)
	}
	var desc []string
	for _, r := range got {
		desc = append(desc, fmt.Sprintf("%s@%s", r.Kind, r.Due.In(testAlmaty).Format("02 15:04")))
	}
	want := []string{"booking_day_before@02 18:00", "booking_hour_before@03 10:00", "booking_day_before@03 18:00", "booking_hour_before@04 10:00"}
	if fmt.Sprint(desc) != fmt.Sprint(want) {
		t.Errorf("claimed %v, want %v", desc, want)
	}
	if again, _ := claimDue(ctx, db, at(4, 10), 100); len(again) != 0 {
		t.Errorf("claimed twice: %+v", again)
	}
	// The limit bounds one claim; the rest stays for the next.
	first, _ := claimDue(ctx, db, at(6, 0), 1)
	rest, _ := claimDue(ctx, db, at(6, 0), 10)
	if len(first) != 1 || len(rest) != 1 || first[0].Due.After(rest[0].Due) {
		t.Errorf("limited claims = %+v then %+v", first, rest)
	}
	checkIndexes(t, db)
}

func TestCatalogIDKeys_FixedWidth(t *testing.T) {
	a := slotKey("a", "bc", at(2, 11), 1)
	b := slotKey("ab", "c", at(2, 11), 1)
	if bytes.Equal(a, b) || len(a) != len(b) || len(a) != 2*idWidth+16 {
		t.Errorf("slot keys %x and %x must differ and have the same fixed width", a, b)
	}
}

// TestMarkStaffNotified_OnlyForTheCurrentState: a notice about a booking as
// it was (booked) must not mark its later cancellation, made in the same
// clock tick, as heard of by staff; one about the cancellation does.
func TestMarkStaffNotified_OnlyForTheCurrentState(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	booked, err := db.Book(ctx, booking(7, "kegen", "legal", at(3, 11)), rules(1, 3))
	if err != nil {
		t.Fatal(err)
	}
	cancelled, err := db.Cancel(ctx, booked.ID, "by_person", booked.UpdatedAt)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := db.MarkStaffNotified(ctx, booked); ok || err != nil {
		t.Errorf("marking from the booked state = %v, %v; want false", ok, err)
	}
	if got, _ := db.Booking(ctx, booked.ID); got.StaffNotified {
		t.Error("the cancellation is marked notified by the notice of the booking")
	}
	if ok, err := db.MarkStaffNotified(ctx, cancelled); !ok || err != nil {
		t.Errorf("marking from the cancelled state = %v, %v; want true", ok, err)
	}
	if got, _ := db.Booking(ctx, booked.ID); !got.StaffNotified {
		t.Error("the cancellation notice did not mark the booking notified")
	}
}
