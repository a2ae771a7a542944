package boltdb

import (
	"context"
	"errors"
	"testing"

	"jastar/storage"
)

func TestSetStatus_AttendedWritesOneFeedbackReminder(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	b, err := db.Book(ctx, booking(7, "kegen", "legal", at(3, 11)), rules(1, 3))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetStatus(ctx, b.ID, storage.BookingAttended, at(3, 11)); err != nil {
		t.Fatal(err)
	}
	rs, err := db.RemindersOf(ctx, b.ID)
	if err != nil || len(rs) != 1 {
		t.Fatalf("reminders after attended = %+v, %v; want the feedback question only", rs, err)
	}
	if r := rs[0]; r.Kind != storage.ReminderFeedback || !r.Due.Equal(at(3, 13)) || r.ChatID != 7 {
		t.Errorf("feedback reminder = %+v, want due an hour after the end", r)
	}
	// A second press is refused by the store and writes no second question.
	if _, err := db.SetStatus(ctx, b.ID, storage.BookingAttended, at(3, 12)); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("second mark = %v", err)
	}
	if rs, _ := db.RemindersOf(ctx, b.ID); len(rs) != 1 {
		t.Errorf("reminders after a second mark = %+v", rs)
	}
}

func TestFeedback_RateOnceCommentOnce(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)
	f := storage.Feedback{BookingID: 5, ChatID: 7, TypeID: "legal", CenterID: "kegen", Rating: 4, At: at(3, 13)}
	if _, err := db.SaveRating(ctx, f); err != nil {
		t.Fatal(err)
	}
	again := f
	again.Rating = 1
	got, err := db.SaveRating(ctx, again)
	if !errors.Is(err, storage.ErrConflict) || got.Rating != 4 {
		t.Errorf("second rating = %+v, %v; want ErrConflict and the first kept", got, err)
	}
	if _, err := db.SaveRating(ctx, storage.Feedback{BookingID: 6, Rating: 9}); err == nil {
		t.Error("rating 9 accepted")
	}
	if err := db.SaveFeedbackComment(ctx, 99, "x"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("comment without rating = %v", err)
	}
	if err := db.SaveFeedbackComment(ctx, 5, "Рақмет!"); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveFeedbackComment(ctx, 5, "again"); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("second comment = %v", err)
	}
	db.Close()
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var all []storage.Feedback
	if err := db.FeedbackSince(ctx, at(3, 0), func(f storage.Feedback) error { all = append(all, f); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].Rating != 4 || all[0].Comment != "Рақмет!" || all[0].CenterID != "kegen" || !all[0].At.Equal(at(3, 13)) {
		t.Errorf("feedback after reopen = %+v", all)
	}
	if err := db.FeedbackSince(ctx, at(4, 0), func(storage.Feedback) error { t.Error("feedback before from"); return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestForget_AnonymisesFeedback(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	b, err := db.Book(ctx, booking(7, "kegen", "legal", at(3, 11)), rules(1, 3))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SaveRating(ctx, storage.Feedback{BookingID: b.ID, ChatID: 7, TypeID: "legal", CenterID: "kegen", Rating: 2, At: at(3, 13)}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveFeedbackComment(ctx, b.ID, "Меня зовут Айгерим, было долго"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Forget(ctx, 7); err != nil {
		t.Fatal(err)
	}
	f, err := db.Feedback(ctx, b.ID)
	if err != nil || f.Rating != 2 || f.ChatID != 0 || f.Comment != "" || f.CenterID != "kegen" {
		t.Errorf("feedback after forget = %+v, %v; want the rating only", f, err)
	}
}
