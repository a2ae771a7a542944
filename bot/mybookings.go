package bot

import (
	"context"
	"errors"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
)

// cancelByPerson is the reason code of a cancellation by the person.
const cancelByPerson = "by_person"

// handleMyBookings lists the person's upcoming bookings, one message each
// with "reschedule" and "cancel", after a header that states the limit.
func (b *Bot) handleMyBookings(ctx context.Context, r *Request) error {
	mine, err := b.store.BookingsOf(ctx, r.ChatID, b.now())
	if err != nil {
		return err
	}
	if len(mine) == 0 {
		_, err := b.reply(ctx, r, r.L.T(locales.MyBookingsNone), b.mainMenu(r.L))
		return err
	}
	if _, err := b.reply(ctx, r, r.L.T(locales.MyBookingsHeader, locales.Data{"Count": len(mine), "Max": b.cfg.MaxBookings}), b.mainMenu(r.L)); err != nil {
		return err
	}
	for _, bk := range mine {
		if _, err := b.reply(ctx, r, b.myBookingText(r.L, bk), myBookingKeyboard(r.L, bk)); err != nil {
			return err
		}
	}
	return nil
}

func (b *Bot) myBookingText(l *locales.Localizer, bk storage.Booking) string {
	return l.T(locales.MyBookingItem, b.bookingData(l, bk)) + b.texts.anonymousNote(l, bk)
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
func (b *Bot) ownBooking(ctx context.Context, r *Request) (storage.Booking, bool, error) {
	id, err := r.Data.ID(0)
	if err != nil {
		b.answer(ctx, r, r.L.T(locales.OutdatedButton))
		return storage.Booking{}, false, nil
	}
	bk, err := b.store.Booking(ctx, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && (bk.ChatID != r.ChatID || !r.Private)) {
		b.answer(ctx, r, r.L.T(locales.BookingGone))
		return bk, false, nil
	}
	if err != nil {
		return bk, false, err
	}
	if !bk.Active() || !bk.Start.After(b.now()) {
		b.answer(ctx, r, r.L.T(locales.BookingGone))
		return bk, false, b.edit(ctx, r, b.myBookingText(r.L, bk), nil)
	}
	return bk, true, nil
}

// handleMyCancel: mc:<id> asks before cancelling; people mis-tap.
func (b *Bot) handleMyCancel(ctx context.Context, r *Request) error {
	bk, ok, err := b.ownBooking(ctx, r)
	if !ok || err != nil {
		return err
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		button(r.L.T(locales.MyBookingCancelYes), cbMyCancelYes, tg.B36(bk.ID)),
		button(r.L.T(locales.MyBookingCancelNo), cbMyKeep, tg.B36(bk.ID)),
	))
	b.answer(ctx, r, "")
	return b.edit(ctx, r, r.L.T(locales.MyBookingCancelAsk, locales.Data{"Text": b.myBookingText(r.L, bk)}), &kb)
}

// handleMyCancelYes: mcy:<id> cancels and tells staff.
func (b *Bot) handleMyCancelYes(ctx context.Context, r *Request) error {
	bk, ok, err := b.ownBooking(ctx, r)
	if !ok || err != nil {
		return err
	}
	cancelled, err := b.cancelForPerson(ctx, bk.ID)
	if errors.Is(err, storage.ErrConflict) {
		b.answer(ctx, r, r.L.T(locales.BookingGone))
		return nil
	}
	if err != nil {
		return err
	}
	b.answer(ctx, r, "")
	return b.edit(ctx, r, r.L.T(locales.MyBookingCancelled, locales.Data{"Text": b.myBookingText(r.L, cancelled)}), nil)
}

// cancelForPerson cancels a booking at its person's request (freeing the
// seat and deleting its reminders) and tells the center's staff: the one
// path of "My bookings" and /forget.
func (b *Bot) cancelForPerson(ctx context.Context, id uint64) (storage.Booking, error) {
	cancelled, err := b.store.Cancel(ctx, id, cancelByPerson, b.now())
	if err != nil {
		return cancelled, err
	}
	b.notifyStaffLater(cancelled, staffCancelledByPerson, storage.Booking{})
	return cancelled, nil
}

// handleMyKeep: mck:<id> puts the booking back as it was.
func (b *Bot) handleMyKeep(ctx context.Context, r *Request) error {
	bk, ok, err := b.ownBooking(ctx, r)
	if !ok || err != nil {
		return err
	}
	b.answer(ctx, r, r.L.T(locales.MyBookingKept))
	return b.edit(ctx, r, b.myBookingText(r.L, bk), myBookingKeyboard(r.L, bk))
}

// handleMyMove: mm:<id> starts the booking dialogue at the day step for the
// same type and center; the booking keeps its time until the new one is
// confirmed.
func (b *Bot) handleMyMove(ctx context.Context, r *Request) error {
	bk, ok, err := b.ownBooking(ctx, r)
	if !ok || err != nil {
		return err
	}
	return b.booking.beginMove(ctx, r, bk)
}
