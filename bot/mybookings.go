package bot

import (
	"context"
	"errors"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
)

// cancelByPerson is the reason code of a cancellation by the person.
const cancelByPerson = "by_person"

// myBookingsStore is what "My bookings" reads and writes.
type myBookingsStore interface {
	Booking(ctx context.Context, id uint64) (storage.Booking, error)
	BookingsOf(ctx context.Context, chatID int64, from time.Time) ([]storage.Booking, error)
	Cancel(ctx context.Context, id uint64, reason string, now time.Time) (storage.Booking, error)
}

// rescheduler opens the booking dialogue to move a booking (booking.go).
type rescheduler interface {
	beginMove(ctx context.Context, r *tg.Request, bk storage.Booking) error
}

// myBookings is the feature: the person's upcoming bookings, each with
// "reschedule" and "cancel".
type myBookings struct {
	kit
	store myBookingsStore
	texts *bookingTexts
	staff staffNotifier
	move  rescheduler
}

// handleMyBookings lists the person's upcoming bookings, one message each
// with "reschedule" and "cancel", after a header that states the limit.
func (f *myBookings) handleMyBookings(ctx context.Context, r *tg.Request) error {
	mine, err := f.store.BookingsOf(ctx, r.ChatID, f.now())
	if err != nil {
		return err
	}
	if len(mine) == 0 {
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.MyBookingsNone), f.mainMenu(r.L))
		return err
	}
	if _, err := f.tx.Reply(ctx, r, r.L.T(locales.MyBookingsHeader, locales.Data{"Count": len(mine), "Max": f.cfg.MaxBookings}), f.mainMenu(r.L)); err != nil {
		return err
	}
	for _, bk := range mine {
		if _, err := f.tx.Reply(ctx, r, f.texts.myBookingText(r.L, bk), myBookingKeyboard(r.L, bk)); err != nil {
			return err
		}
	}
	return nil
}

// myBookingText is a booking as "My bookings" lists it; staff's notice of
// a cancellation quotes it to the person.
func (bt *bookingTexts) myBookingText(l *locales.Localizer, bk storage.Booking) string {
	return l.T(locales.MyBookingItem, bt.bookingData(l, bk)) + bt.anonymousNote(l, bk)
}

func myBookingKeyboard(l *locales.Localizer, bk storage.Booking) *tgbotapi.InlineKeyboardMarkup {
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		button(l.T(locales.MyBookingReschedule), cbMyMove, tg.B36(bk.ID)),
		button(l.T(locales.MyBookingCancel), cbMyCancel, tg.B36(bk.ID)),
	))
	return &kb
}

// ownBooking loads the booking a button names and checks that it belongs to
// the chat that pressed it, is active and still ahead. Otherwise it answers
// the press and returns ok=false: a forged id and another person's booking
// get the same answer, so ids reveal nothing.
func (f *myBookings) ownBooking(ctx context.Context, r *tg.Request) (storage.Booking, bool, error) {
	id, err := r.Data.ID(0)
	if err != nil {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return storage.Booking{}, false, nil
	}
	bk, err := f.store.Booking(ctx, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && (bk.ChatID != r.ChatID || !r.Private)) {
		f.tx.Answer(ctx, r, r.L.T(locales.BookingGone))
		return bk, false, nil
	}
	if err != nil {
		return bk, false, err
	}
	if !bk.Active() || !bk.Start.After(f.now()) {
		f.tx.Answer(ctx, r, r.L.T(locales.BookingGone))
		return bk, false, f.tx.Edit(ctx, r, f.texts.myBookingText(r.L, bk), nil)
	}
	return bk, true, nil
}

// handleMyCancel: mc:<id> asks before cancelling; people mis-tap.
func (f *myBookings) handleMyCancel(ctx context.Context, r *tg.Request) error {
	bk, ok, err := f.ownBooking(ctx, r)
	if !ok || err != nil {
		return err
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		button(r.L.T(locales.MyBookingCancelYes), cbMyCancelYes, tg.B36(bk.ID)),
		button(r.L.T(locales.MyBookingCancelNo), cbMyKeep, tg.B36(bk.ID)),
	))
	f.tx.Answer(ctx, r, "")
	return f.tx.Edit(ctx, r, r.L.T(locales.MyBookingCancelAsk, locales.Data{"Text": f.texts.myBookingText(r.L, bk)}), &kb)
}

// handleMyCancelYes: mcy:<id> cancels and tells staff.
func (f *myBookings) handleMyCancelYes(ctx context.Context, r *tg.Request) error {
	bk, ok, err := f.ownBooking(ctx, r)
	if !ok || err != nil {
		return err
	}
	cancelled, err := f.cancelForPerson(ctx, bk.ID)
	if errors.Is(err, storage.ErrConflict) {
		f.tx.Answer(ctx, r, r.L.T(locales.BookingGone))
		return nil
	}
	if err != nil {
		return err
	}
	f.tx.Answer(ctx, r, "")
	return f.tx.Edit(ctx, r, r.L.T(locales.MyBookingCancelled, locales.Data{"Text": f.texts.myBookingText(r.L, cancelled)}), nil)
}

// cancelForPerson cancels a booking at its person's request (freeing the
// seat and deleting its reminders) and tells the center's staff: the one
// path of "My bookings" and /forget.
func (f *myBookings) cancelForPerson(ctx context.Context, id uint64) (storage.Booking, error) {
	cancelled, err := f.store.Cancel(ctx, id, cancelByPerson, f.now())
	if err != nil {
		return cancelled, err
	}
	f.staff.notifyStaffLater(cancelled, staffCancelledByPerson, storage.Booking{})
	return cancelled, nil
}

// handleMyKeep: mck:<id> puts the booking back as it was.
func (f *myBookings) handleMyKeep(ctx context.Context, r *tg.Request) error {
	bk, ok, err := f.ownBooking(ctx, r)
	if !ok || err != nil {
		return err
	}
	f.tx.Answer(ctx, r, r.L.T(locales.MyBookingKept))
	return f.tx.Edit(ctx, r, f.texts.myBookingText(r.L, bk), myBookingKeyboard(r.L, bk))
}

// handleMyMove: mm:<id> starts the booking dialogue at the day step for the
// same type and center; the booking keeps its time until the new one is
// confirmed.
func (f *myBookings) handleMyMove(ctx context.Context, r *tg.Request) error {
	bk, ok, err := f.ownBooking(ctx, r)
	if !ok || err != nil {
		return err
	}
	return f.move.beginMove(ctx, r, bk)
}
