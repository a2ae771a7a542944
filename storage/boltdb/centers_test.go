package boltdb_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"jastar/storage"
	"jastar/storage/boltdb"
	"jastar/storage/storagetest"
)

// The tests of a center's staff changes run on real bbolt files in the
// test's directory, through the public store only.

var almaty = time.FixedZone("Asia/Almaty", 5*3600)

// now is Tuesday 1 December 2026, 10:00 in Almaty.
var now = time.Date(2026, 12, 1, 10, 0, 0, 0, almaty)

// on is hour h of day d of December 2026 in Almaty.
func on(d, h int) time.Time { return time.Date(2026, 12, d, h, 0, 0, 0, almaty) }

const staffID int64 = 501

func bookRules(capacity int) storage.BookRules {
	return storage.BookRules{
		Capacity: capacity, MaxActive: 3, Now: now, NotBefore: now.Add(time.Hour),
		Reminders: storage.DefaultReminderPolicy(almaty),
	}
}

func book(t *testing.T, db *boltdb.DB, chatID int64, center, typ string, start time.Time) storage.Booking {
	t.Helper()
	b, err := db.Book(context.Background(), storage.Booking{
		ChatID: chatID, Name: "Әлия", Lang: storage.Kazakh, CenterID: center, TypeID: typ, Start: start, End: start.Add(time.Hour),
	}, bookRules(2))
	if err != nil {
		t.Fatalf("book %d at %v: %v", chatID, start, err)
	}
	return b
}

func illness(center, typ string, from, to time.Time) storage.Closure {
	return storage.Closure{CenterID: center, TypeID: typ, From: from, To: to, Reason: storage.ReasonIllness, By: staffID}
}

func ids(bs []storage.Booking) []uint64 {
	var out []uint64
	for _, b := range bs {
		out = append(out, b.ID)
	}
	return out
}

func TestDB_AddClosure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jastar.db")
	db := storagetest.OpenAt(t, path)

	inside := book(t, db, 1, "karasai", "psychology", on(2, 14))
	cutInto := book(t, db, 2, "karasai", "psychology", on(2, 12)) // 12:00-13:00, the closure starts 12:30
	otherType := book(t, db, 3, "karasai", "career", on(2, 14))
	before := book(t, db, 4, "karasai", "psychology", on(2, 10))
	otherCenter := book(t, db, 5, "kegen", "psychology", on(2, 14))
	gone := book(t, db, 6, "karasai", "psychology", on(2, 15))
	if _, err := db.Cancel(ctx, gone.ID, "by_person", now); err != nil {
		t.Fatal(err)
	}
	closure := illness("karasai", "psychology", on(2, 12).Add(30*time.Minute), on(2, 18))

	preview, err := db.PreviewClosure(ctx, closure, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint64{cutInto.ID, inside.ID}; !slices.Equal(ids(preview), want) {
		t.Fatalf("preview = bookings %v, want %v", ids(preview), want)
	}
	if b, _ := db.Booking(ctx, inside.ID); !b.Active() {
		t.Fatalf("the preview cancelled booking %d", inside.ID)
	}
	if log, _ := db.Changes(ctx, 0, 10); len(log) != 0 {
		t.Fatalf("the preview logged %d changes", len(log))
	}

	made, cancelled, err := db.AddClosure(ctx, closure, now)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(cancelled), ids(preview)) || !slices.Equal(made.Cancelled, ids(preview)) || made.ID == 0 {
		t.Fatalf("AddClosure = %+v cancelling %v, want the preview's %v", made, ids(cancelled), ids(preview))
	}
	for _, b := range cancelled {
		if b.Status != storage.BookingCancelled || b.CancelReason != "closure_illness" || b.StaffNotified {
			t.Errorf("returned booking %d = %s %q notified %v", b.ID, b.Status, b.CancelReason, b.StaffNotified)
		}
		if rs, _ := db.RemindersOf(ctx, b.ID); len(rs) != 0 {
			t.Errorf("booking %d keeps %d reminders", b.ID, len(rs))
		}
	}
	for _, b := range []storage.Booking{otherType, before, otherCenter} {
		if got, _ := db.Booking(ctx, b.ID); !got.Active() {
			t.Errorf("booking %d outside the closure is %s", b.ID, got.Status)
		}
	}
	if got, _ := db.Booking(ctx, gone.ID); got.CancelReason != "by_person" {
		t.Errorf("a booking the person cancelled was cancelled again: %q", got.CancelReason)
	}
	if n, _ := db.SlotCounts(ctx, "karasai", "psychology", on(2, 0), on(3, 0)); n[on(2, 14).Unix()] != 0 {
		t.Errorf("the cancelled seat is still taken: %v", n)
	}

	// Nobody books into the closure, nor moves into it.
	_, err = db.Book(ctx, storage.Booking{ChatID: 7, CenterID: "karasai", TypeID: "psychology", Start: on(2, 16), End: on(2, 17)}, bookRules(2))
	if !errors.Is(err, storage.ErrClosedByCenter) || !errors.Is(err, storage.ErrSlotClosed) || !errors.Is(err, storage.ErrConflict) {
		t.Errorf("Book inside the closure = %v, want ErrClosedByCenter", err)
	}
	if _, _, err := db.Reschedule(ctx, before.ID, on(2, 16), on(2, 17), bookRules(2)); !errors.Is(err, storage.ErrClosedByCenter) {
		t.Errorf("Reschedule into the closure = %v, want ErrClosedByCenter", err)
	}
	// Other types, and the hour after it, still book.
	book(t, db, 8, "karasai", "career", on(2, 16))
	book(t, db, 9, "karasai", "psychology", on(2, 18))

	// A second, overlapping closure of every type cancels what the first
	// left, and nobody twice.
	second, cancelled2, err := db.AddClosure(ctx, illness("karasai", "", on(2, 13), on(2, 15)), now)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint64{otherType.ID}; !slices.Equal(ids(cancelled2), want) {
		t.Errorf("the overlapping closure cancelled %v, want %v", ids(cancelled2), want)
	}

	// The file keeps it all.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = storagetest.OpenAt(t, path)
	got, err := db.Closure(ctx, made.ID)
	if err != nil || got.From.Unix() != closure.From.Unix() || got.To.Unix() != closure.To.Unix() || got.TypeID != "psychology" ||
		got.Reason != storage.ReasonIllness || got.By != staffID || !got.At.Equal(now) || !slices.Equal(got.Cancelled, made.Cancelled) || !got.InForce() {
		t.Fatalf("Closure after reopening the file = %+v, %v; want %+v", got, err, made)
	}
	listed, err := db.Closures(ctx, []string{"karasai", "kegen"}, on(2, 0), on(3, 0))
	if err != nil || len(listed) != 2 || listed[0].ID != made.ID || listed[1].ID != second.ID {
		t.Errorf("Closures = %+v, %v; want both, by start", listed, err)
	}
	if listed, _ := db.Closures(ctx, []string{"karasai"}, on(3, 0), on(4, 0)); len(listed) != 0 {
		t.Errorf("Closures of the next day = %+v", listed)
	}
}

func TestDB_Reopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	b := book(t, db, 1, "karasai", "psychology", on(2, 14))
	c, _, err := db.AddClosure(ctx, illness("karasai", "psychology", on(2, 9), on(2, 18)), now)
	if err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Hour)
	reopened, err := db.Reopen(ctx, c.ID, staffID+1, later)
	if err != nil || reopened.InForce() || reopened.ReopenedBy != staffID+1 || !reopened.ReopenedAt.Equal(later) {
		t.Fatalf("Reopen = %+v, %v", reopened, err)
	}
	// Reopening never resurrects a cancelled booking; the slot is offered
	// and booked again like any other.
	if got, _ := db.Booking(ctx, b.ID); got.Status != storage.BookingCancelled {
		t.Errorf("booking %d is %s after the reopen", b.ID, got.Status)
	}
	if listed, _ := db.Closures(ctx, []string{"karasai"}, on(2, 0), on(3, 0)); len(listed) != 0 {
		t.Errorf("a reopened closure is listed: %+v", listed)
	}
	book(t, db, 1, "karasai", "psychology", on(2, 14))
	if _, err := db.Reopen(ctx, c.ID, staffID, later); !errors.Is(err, storage.ErrInPast) {
		t.Errorf("a second Reopen = %v, want ErrInPast", err)
	}

	// A closure that is over stays.
	over, _, err := db.AddClosure(ctx, illness("karasai", "legal", on(1, 11), on(1, 12)), now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Reopen(ctx, over.ID, staffID, on(1, 12)); !errors.Is(err, storage.ErrInPast) {
		t.Errorf("Reopen of a closure that is over = %v, want ErrInPast", err)
	}
	if _, err := db.Reopen(ctx, 999, staffID, now); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Reopen of no closure = %v, want ErrNotFound", err)
	}
	// Nor is a closure made that ended already, or that is malformed.
	if _, _, err := db.AddClosure(ctx, illness("karasai", "", on(1, 8), on(1, 9)), now); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("AddClosure in the past = %v, want ErrInvalid", err)
	}
	bad := illness("karasai", "", on(2, 8), on(2, 9))
	bad.Reason = "holiday"
	if _, _, err := db.AddClosure(ctx, bad, now); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("AddClosure with an unknown reason = %v, want ErrInvalid", err)
	}
}

// TestDB_ClosureRacesBookings: people keep booking one slot while staff
// close it twice, overlapping. Whatever the interleaving, no active booking
// is left inside a closure, every refusal says the center closed the time,
// and each cancelled booking was cancelled by exactly one closure.
func TestDB_ClosureRacesBookings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	slot := on(2, 14)
	const bookers, rounds = 8, 6
	type result struct {
		b   storage.Booking
		err error
	}
	results := make(chan result, bookers*rounds)
	landed := make(chan struct{}, bookers*rounds)
	var wg sync.WaitGroup
	for i := range bookers {
		wg.Go(func() {
			for r := range rounds {
				b, err := db.Book(ctx, storage.Booking{
					ChatID: int64(100 + i*rounds + r), CenterID: "karasai", TypeID: "psychology", Start: slot, End: slot.Add(time.Hour),
				}, bookRules(bookers*rounds))
				results <- result{b, err}
				if err == nil {
					landed <- struct{}{}
				}
			}
		})
	}
	// The closures go in once some bookings have landed, while the rest
	// are still coming, so both orders happen.
	for range bookers / 2 {
		<-landed
	}
	closures := make([]storage.Closure, 2)
	closeErrs := make([]error, 2)
	for i, c := range []storage.Closure{
		illness("karasai", "psychology", on(2, 13), on(2, 16)),
		{CenterID: "karasai", From: on(2, 14), To: on(2, 15), Reason: storage.ReasonEventInHall, By: staffID},
	} {
		wg.Go(func() { closures[i], _, closeErrs[i] = db.AddClosure(ctx, c, now) })
	}
	wg.Wait()
	close(results)
	for _, err := range closeErrs {
		if err != nil {
			t.Fatal(err)
		}
	}

	byClosure := map[uint64]int{}
	for _, c := range closures {
		for _, id := range c.Cancelled {
			byClosure[id]++
		}
	}
	made, refused := 0, 0
	for r := range results {
		switch {
		case r.err == nil:
			made++
			got, _ := db.Booking(ctx, r.b.ID)
			if got.Active() {
				t.Errorf("booking %d is active inside the closures", got.ID)
			}
			if _, ok := storage.ClosureCancel(got.CancelReason); !ok || byClosure[got.ID] != 1 {
				t.Errorf("booking %d cancelled as %q by %d closures, want once by a closure", got.ID, got.CancelReason, byClosure[got.ID])
			}
		case errors.Is(r.err, storage.ErrClosedByCenter):
			refused++
		default:
			t.Errorf("Book = %v, want success or ErrClosedByCenter", r.err)
		}
	}
	if n, _ := db.SlotCounts(ctx, "karasai", "psychology", on(2, 0), on(3, 0)); len(n) != 0 {
		t.Errorf("seats still taken inside the closures: %v", n)
	}
	if len(byClosure) != made || made < bookers/2 {
		t.Errorf("%d bookings landed, the closures cancelled %d", made, len(byClosure))
	}
	t.Logf("%d bookings landed before a closure, %d were refused", made, refused)
}

func TestDB_ExtraSession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jastar.db")
	db := storagetest.OpenAt(t, path)
	// A Saturday job fair: 10:00-12:00, hour slots, two places each.
	s, err := db.AddExtraSession(ctx, storage.ExtraSession{
		CenterID: "karasai", TypeID: "career", Start: on(5, 10), End: on(5, 12), SlotMinutes: 60, Capacity: 2, By: staffID,
	}, now)
	if err != nil || s.ID == 0 || !s.At.Equal(now) {
		t.Fatalf("AddExtraSession = %+v, %v", s, err)
	}
	if _, err := db.AddExtraSession(ctx, storage.ExtraSession{
		CenterID: "karasai", TypeID: "career", Start: on(5, 11), End: on(5, 13), SlotMinutes: 60, Capacity: 1, By: staffID,
	}, now); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("an overlapping session = %v, want ErrConflict", err)
	}
	other, err := db.AddExtraSession(ctx, storage.ExtraSession{
		CenterID: "karasai", TypeID: "legal", Start: on(5, 11), End: on(5, 13), SlotMinutes: 60, Capacity: 1, By: staffID,
	}, now)
	if err != nil {
		t.Fatalf("a session of another type at the same time = %v", err)
	}

	// The weekly schedule gives a Saturday slot no places (Capacity 0);
	// the session gives two, checked in the booking's transaction.
	noSchedule := bookRules(0)
	take := func(chatID int64, start time.Time) error {
		_, err := db.Book(ctx, storage.Booking{ChatID: chatID, CenterID: "karasai", TypeID: "career", Start: start, End: start.Add(time.Hour)}, noSchedule)
		return err
	}
	for _, chat := range []int64{1, 2} {
		if err := take(chat, on(5, 10)); err != nil {
			t.Fatalf("booking %d into the session: %v", chat, err)
		}
	}
	if err := take(3, on(5, 10)); !errors.Is(err, storage.ErrFull) {
		t.Errorf("a third booking of a two-place slot = %v, want ErrFull", err)
	}
	if err := take(3, on(5, 10).Add(30*time.Minute)); !errors.Is(err, storage.ErrFull) {
		t.Errorf("a booking between the session's slots = %v, want ErrFull", err)
	}
	if err := take(3, on(5, 12)); !errors.Is(err, storage.ErrFull) {
		t.Errorf("a booking after the session = %v, want ErrFull", err)
	}
	listed, err := db.ExtraSessions(ctx, []string{"karasai"}, on(5, 0), on(6, 0))
	if err != nil || len(listed) != 2 || listed[0].ID != s.ID || listed[1].ID != other.ID {
		t.Errorf("ExtraSessions = %+v, %v", listed, err)
	}

	// Removal: refused while people are booked, unless staff cancel them.
	if _, _, err := db.RemoveExtraSession(ctx, s.ID, staffID, now, ""); !errors.Is(err, storage.ErrHasBookings) {
		t.Fatalf("RemoveExtraSession with people booked = %v, want ErrHasBookings", err)
	}
	affected, err := db.ExtraSessionBookings(ctx, s.ID, now)
	if err != nil || len(affected) != 2 {
		t.Fatalf("ExtraSessionBookings = %d, %v; want 2", len(affected), err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = storagetest.OpenAt(t, path)
	removed, cancelled, err := db.RemoveExtraSession(ctx, s.ID, staffID, now, storage.ReasonTraining)
	if err != nil || removed.ID != s.ID || !slices.Equal(ids(cancelled), ids(affected)) {
		t.Fatalf("RemoveExtraSession = %+v, %v, %v; want %v cancelled", removed, ids(cancelled), err, ids(affected))
	}
	for _, b := range cancelled {
		if got, _ := db.Booking(ctx, b.ID); got.Status != storage.BookingCancelled || got.CancelReason != "closure_training" {
			t.Errorf("booking %d = %s %q", b.ID, got.Status, got.CancelReason)
		}
	}
	if err := take(4, on(5, 11)); !errors.Is(err, storage.ErrFull) {
		t.Errorf("a booking into the removed session = %v, want ErrFull", err)
	}
	if _, err := db.ExtraSession(ctx, s.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the removed session = %v, want ErrNotFound", err)
	}
	if _, _, err := db.RemoveExtraSession(ctx, other.ID, staffID, on(5, 11), ""); !errors.Is(err, storage.ErrInPast) {
		t.Errorf("removing a session under way = %v, want ErrInPast", err)
	}
	if _, _, err := db.RemoveExtraSession(ctx, other.ID, staffID, now, ""); err != nil {
		t.Errorf("removing a session nobody booked = %v", err)
	}
}

func TestDB_ExtraSessionUnderClosure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	if _, err := db.AddExtraSession(ctx, storage.ExtraSession{
		CenterID: "karasai", TypeID: "career", Start: on(5, 10), End: on(5, 12), SlotMinutes: 60, Capacity: 2, By: staffID,
	}, now); err != nil {
		t.Fatal(err)
	}
	b, err := db.Book(ctx, storage.Booking{ChatID: 1, CenterID: "karasai", TypeID: "career", Start: on(5, 10), End: on(5, 11)}, bookRules(0))
	if err != nil {
		t.Fatal(err)
	}
	_, cancelled, err := db.AddClosure(ctx, illness("karasai", "", on(5, 0), on(6, 0)), now)
	if err != nil || !slices.Equal(ids(cancelled), []uint64{b.ID}) {
		t.Fatalf("closing the session's day cancelled %v, %v; want booking %d", ids(cancelled), err, b.ID)
	}
	if _, err := db.Book(ctx, storage.Booking{ChatID: 2, CenterID: "karasai", TypeID: "career", Start: on(5, 11), End: on(5, 12)}, bookRules(0)); !errors.Is(err, storage.ErrClosedByCenter) {
		t.Errorf("booking a session slot under a closure = %v, want ErrClosedByCenter", err)
	}
}

func TestDB_Card(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jastar.db")
	db := storagetest.OpenAt(t, path)
	phone := storage.CardOverride{CenterID: "karasai", Field: storage.CardPhone, Text: "+77011234567", By: staffID, At: now}
	if _, had, err := db.SetCard(ctx, phone); err != nil || had {
		t.Fatalf("SetCard = had %v, %v", had, err)
	}
	week := storage.WeekHours{time.Monday: {Open: 540, Close: 1080}, time.Saturday: {Open: 600, Close: 840}}
	for _, o := range []storage.CardOverride{
		{CenterID: "karasai", Field: storage.CardHours, Hours: week, By: staffID, At: now},
		{CenterID: "karasai", Field: storage.CardPin, Lat: 43.2, Lon: 76.63, By: staffID, At: now},
		{CenterID: "kegen", Field: storage.CardNote, Text: "Кіреберіс аула жақтан", By: staffID + 1, At: now},
	} {
		if _, _, err := db.SetCard(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := db.SetCard(ctx, storage.CardOverride{CenterID: "karasai", Field: storage.CardPhone, Text: "8 701 123 45 67", By: staffID, At: now}); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("SetCard of a phone as typed = %v, want ErrInvalid", err)
	}
	later := now.Add(time.Hour)
	newPhone := phone
	newPhone.Text, newPhone.At, newPhone.By = "+77271234567", later, staffID+2
	before, had, err := db.SetCard(ctx, newPhone)
	if err != nil || !had || before.Text != phone.Text || before.By != staffID {
		t.Fatalf("SetCard over a value = %+v, had %v, %v", before, had, err)
	}
	// The same value again changes nothing and logs nothing.
	if _, _, err := db.SetCard(ctx, newPhone); err != nil {
		t.Fatal(err)
	}

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = storagetest.OpenAt(t, path)
	card, err := db.Card(ctx, "karasai")
	if err != nil || len(card) != 3 || card[storage.CardPhone].Text != "+77271234567" || card[storage.CardPhone].By != staffID+2 ||
		!card[storage.CardPhone].At.Equal(later) || card[storage.CardHours].Hours != week || card[storage.CardPin].Lat != 43.2 {
		t.Fatalf("Card after reopening the file = %+v, %v", card, err)
	}
	all, err := db.Cards(ctx)
	if err != nil || len(all) != 2 || len(all["karasai"]) != 3 || all["kegen"][storage.CardNote].Text != "Кіреберіс аула жақтан" {
		t.Errorf("Cards = %+v, %v", all, err)
	}

	reset, err := db.ResetCard(ctx, "karasai", storage.CardPin, 900, later)
	if err != nil || reset.Lat != 43.2 {
		t.Fatalf("ResetCard = %+v, %v", reset, err)
	}
	if card, _ := db.Card(ctx, "karasai"); len(card) != 2 {
		t.Errorf("after the reset the card has %d fields, want 2", len(card))
	}
	if _, err := db.ResetCard(ctx, "karasai", storage.CardPin, 900, later); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a second ResetCard = %v, want ErrNotFound", err)
	}

	// The log, newest first: the reset, the new phone, then the first four.
	log, err := db.Changes(ctx, 0, 10)
	if err != nil || len(log) != 6 {
		t.Fatalf("Changes = %d entries, %v; want 6", len(log), err)
	}
	if c := log[0]; c.Kind != storage.ChangeCardReset || c.Field != storage.CardPin || c.By != 900 || c.Before == nil || c.Before.Lat != 43.2 || c.After != nil {
		t.Errorf("newest change = %+v", c)
	}
	if c := log[1]; c.Kind != storage.ChangeCardSet || c.Before == nil || c.Before.Text != "+77011234567" || c.After == nil || c.After.Text != "+77271234567" || !c.At.Equal(later) {
		t.Errorf("second change = %+v", c)
	}
	if c := log[5]; c.Kind != storage.ChangeCardSet || c.Before != nil || c.After.Text != "+77011234567" || c.CenterID != "karasai" {
		t.Errorf("oldest change = %+v", c)
	}
}

func TestDB_Changes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	b := book(t, db, 1, "karasai", "psychology", on(2, 14))
	c, _, err := db.AddClosure(ctx, illness("karasai", "psychology", on(2, 9), on(2, 18)), now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Reopen(ctx, c.ID, staffID, now); err != nil {
		t.Fatal(err)
	}
	s, err := db.AddExtraSession(ctx, storage.ExtraSession{CenterID: "kegen", TypeID: "career", Start: on(5, 10), End: on(5, 12), SlotMinutes: 60, Capacity: 1, By: staffID}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.RemoveExtraSession(ctx, s.ID, staffID, now, ""); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		note := storage.CardOverride{CenterID: "kegen", Field: storage.CardNote, Text: fmt.Sprintf("note %d", i), By: staffID, At: now}
		if _, _, err := db.SetCard(ctx, note); err != nil {
			t.Fatal(err)
		}
	}

	// Seven changes, two a page, newest first.
	var all []storage.Change
	var before uint64
	for page := 0; ; page++ {
		got, err := db.Changes(ctx, before, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			break
		}
		if len(got) > 2 || page > 4 {
			t.Fatalf("page %d has %d changes", page, len(got))
		}
		all = append(all, got...)
		before = got[len(got)-1].ID
	}
	if len(all) != 7 {
		t.Fatalf("%d changes in all, want 7", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID {
			t.Errorf("change %d after %d: not newest first", all[i].ID, all[i-1].ID)
		}
	}
	kinds := []storage.ChangeKind{
		storage.ChangeCardSet, storage.ChangeCardSet, storage.ChangeCardSet,
		storage.ChangeSessionRemove, storage.ChangeSessionAdd, storage.ChangeReopen, storage.ChangeClose,
	}
	for i, k := range kinds {
		if all[i].Kind != k || all[i].By != staffID {
			t.Errorf("change %d = %s by %d, want %s by %d", i, all[i].Kind, all[i].By, k, staffID)
		}
	}
	if c := all[6]; c.Closure == nil || c.Closure.ID != c.Closure.ID || !slices.Equal(c.Cancelled, []uint64{b.ID}) || !c.Closure.InForce() {
		t.Errorf("the close = %+v", c)
	}
	if c := all[5]; c.Closure == nil || c.Closure.InForce() || c.Closure.ID != all[6].Closure.ID {
		t.Errorf("the reopen = %+v", c)
	}
	if c := all[3]; c.Session == nil || c.Session.ID != s.ID || c.Session.Capacity != 1 || c.CenterID != "kegen" {
		t.Errorf("the session removal = %+v", c)
	}
	if c := all[0]; c.Before == nil || c.Before.Text != "note 1" || c.After.Text != "note 2" {
		t.Errorf("the last note = %+v", c)
	}
	if got, _ := db.Changes(ctx, all[2].ID, 100); len(got) != 4 || got[0].ID != all[3].ID {
		t.Errorf("Changes before %d = %d entries", all[2].ID, len(got))
	}
	if got, _ := db.Changes(ctx, all[0].ID+100, 1); len(got) != 1 || got[0].ID != all[0].ID {
		t.Errorf("Changes before an id not yet given = %+v", got)
	}
}
