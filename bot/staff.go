package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/ops"
	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/catalog"
)

// staffEvent is what a staff notification reports.
type staffEvent int

const (
	staffNew staffEvent = iota
	staffRescheduled
	staffCancelledByPerson
)

// staffReasons are the canned reasons staff pick when cancelling, so no
// free text is needed in a group. Codes go into callback data and the
// booking record; the text is rendered in each reader's language. The
// person reads their own wording: "at your request", not "at the visitor's
// request".
var staffReasons = []struct{ code, text, person string }{
	{"absent", locales.StaffReasonAbsent, locales.PersonReasonAbsent},
	{"closed", locales.StaffReasonClosed, locales.PersonReasonClosed},
	{"dup", locales.StaffReasonDuplicate, locales.PersonReasonDuplicate},
	{"asked", locales.StaffReasonAsked, locales.PersonReasonAsked},
}

// reasonText is the staff wording of a reason code.
func reasonText(code string) (string, bool) {
	for _, r := range staffReasons {
		if r.code == code {
			return r.text, true
		}
	}
	return "", false
}

// personReasonText is the wording of a reason code for the person whose
// booking was cancelled.
func personReasonText(code string) (string, bool) {
	for _, r := range staffReasons {
		if r.code == code {
			return r.person, true
		}
	}
	return "", false
}

// staffL is the localizer of staff texts.
func (b *Bot) staffL() *locales.Localizer { return b.loc.For(b.cfg.StaffLang) }

// staffTargets are the chats that hear about a center's bookings: its own
// staff group, else the default staff group, else its staff members in
// private (which works only for those who pressed /start: Telegram lets no
// bot write first).
func (b *Bot) staffTargets(centerID string) []int64 {
	c, _ := b.cat().Center(centerID)
	switch {
	case c.StaffChatID != 0:
		return []int64{c.StaffChatID}
	case b.cfg.StaffChatID != 0:
		return []int64{b.cfg.StaffChatID}
	}
	return slices.Clone(c.StaffUserIDs)
}

// canStaff reports whether user may act on the bookings of a center.
func (b *Bot) canStaff(userID int64, centerID string) bool {
	if b.isAdmin(userID) {
		return true
	}
	c, ok := b.cat().Center(centerID)
	return ok && slices.Contains(c.StaffUserIDs, userID)
}

// staffWho names the person of a booking for staff. The name links to
// the person's Telegram chat (a text mention): the online desk promises
// that a specialist writes in Telegram, and a person with no username who
// skipped the phone could not be reached otherwise. An anonymous booking
// shows its code alone, with no link.
func (b *Bot) staffWho(l *locales.Localizer, bk storage.Booking) string {
	if who, ok := b.anonymousWho(l, bk); ok {
		return who
	}
	who := esc(bk.Name)
	if who == "" {
		who = "#" + tg.B36(bk.ID)
	}
	// A private chat's id is its user's id; an anonymised booking has none.
	if bk.ChatID > 0 {
		who = fmt.Sprintf(`<a href="tg://user?id=%d">%s</a>`, bk.ChatID, who)
	}
	if bk.Username != "" {
		who += " @" + esc(bk.Username)
	}
	if bk.Phone != "" {
		who += " · " + esc(bk.Phone)
	}
	return who
}

// staffCard describes a booking for staff: who, what, where, when.
func (b *Bot) staffCard(l *locales.Localizer, bk storage.Booking) string {
	d := b.bookingData(l, bk)
	d["Who"] = b.staffWho(l, bk)
	d["Type"] = b.staffType(fmt.Sprint(d["Type"]), bk)
	if c, ok := b.cat().Center(bk.CenterID); ok && c.Online {
		d["Place"] = esc(l.T(locales.StaffOnline))
	}
	return l.T(locales.StaffCard, d)
}

func staffKeyboard(l *locales.Localizer, bk storage.Booking) *tgbotapi.InlineKeyboardMarkup {
	id := tg.B36(bk.ID)
	kb := tgbotapi.NewInlineKeyboardMarkup(
		tgbotapi.NewInlineKeyboardRow(
			button(l.T(locales.StaffButtonAttended), cbStaffMark, id, "a"),
			button(l.T(locales.StaffButtonNoShow), cbStaffMark, id, "n"),
		),
		tgbotapi.NewInlineKeyboardRow(button(l.T(locales.StaffButtonCancel), cbStaffCancel, id)),
	)
	return &kb
}

// markCorrection is how long after a mark staff can still switch it between
// attended and no-show: long enough to notice a mis-tap, short enough that
// old messages stop changing statistics.
const markCorrection = 24 * time.Hour

// markSettled reports whether a marked booking's mark can no longer be
// corrected.
func (b *Bot) markSettled(bk storage.Booking) bool {
	return b.now().Sub(bk.UpdatedAt) > markCorrection
}

// markedKeyboard is the keyboard of a marked booking: while the mark may
// still be corrected, one button that switches it; afterwards, and for a
// cancelled booking, none.
func (b *Bot) markedKeyboard(l *locales.Localizer, bk storage.Booking) *tgbotapi.InlineKeyboardMarkup {
	if bk.Status == storage.BookingCancelled || b.markSettled(bk) {
		return nil
	}
	label, to := locales.StaffButtonToNoShow, "n"
	if bk.Status == storage.BookingNoShow {
		label, to = locales.StaffButtonToAttended, "a"
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(button(l.T(label), cbStaffMark, tg.B36(bk.ID), to)))
	return &kb
}

// staffNoticeTimeout bounds the send of one staff notice once a queue
// worker has taken it (it may wait for the group's rate limit); one cut off
// keeps StaffNotified=false for the morning digest.
const staffNoticeTimeout = 10 * time.Minute

// notifyStaffLater is notifyStaff outside the handler: the person's
// confirmation never waits behind the staff group's rate limit, and the
// worker is free for the next update. Notices go through one FIFO queue per
// booking, so staff hear of one booking's changes in the order they
// happened (a "new booking" never arrives after its "cancelled"), while
// notices of different bookings go out side by side: a queue per staff chat
// sent one notice at a time and fell behind a busy afternoon. Run waits
// for the queue at shutdown up to its drain deadline; a notice not sent by
// then, refused after it or failed keeps StaffNotified=false and is listed
// in the next morning digest.
func (b *Bot) notifyStaffLater(bk storage.Booking, ev staffEvent, old storage.Booking) {
	queued := b.bg.Queue(int64(bk.ID), func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, staffNoticeTimeout)
		defer cancel()
		// A notice that panics (a card that cannot be formatted) is
		// recovered here, so the queue goes on; its booking keeps
		// StaffNotified=false, and the digest lists it like a dropped one.
		var panicked bool
		defer func() {
			if panicked {
				b.log.Warn("staff notification panicked, left for the digest", "booking_id", bk.ID, "center_id", bk.CenterID)
			}
		}()
		defer ops.Recovered(b.log, b.metrics, "staff_notice", &panicked)
		b.notifyStaff(ctx, bk, ev, old)
	})
	if !queued {
		b.log.Warn("staff notification not queued (shutting down or backlog full), left for the digest", "booking_id", bk.ID, "center_id", bk.CenterID)
	}
}

// notifyStaff tells the center's staff about a booking, a reschedule (old
// is the booking before the move) or a cancellation by the person. A
// notification no chat accepted is logged and the booking keeps
// StaffNotified=false, so the morning digest still reports it.
func (b *Bot) notifyStaff(ctx context.Context, bk storage.Booking, ev staffEvent, old storage.Booking) {
	l := b.staffL()
	card := b.staffCard(l, bk)
	var text string
	var kb *tgbotapi.InlineKeyboardMarkup
	switch ev {
	case staffNew:
		text, kb = l.T(locales.StaffNewBooking, locales.Data{"Text": card}), staffKeyboard(l, bk)
	case staffRescheduled:
		from := esc(l.DateTime(old.Start.In(b.cfg.Location)))
		text, kb = l.T(locales.StaffRescheduled, locales.Data{"Text": card, "From": from}), staffKeyboard(l, bk)
	case staffCancelledByPerson:
		text = l.T(locales.StaffCancelledByPerson, locales.Data{"Text": card})
	}
	delivered := false
	targets := b.staffTargets(bk.CenterID)
	for _, chatID := range targets {
		var markup any
		if kb != nil {
			markup = kb
		}
		if _, err := b.sendText(ctx, chatID, text, markup); err != nil {
			b.log.Warn("staff notification not delivered", "booking_id", bk.ID, "center_id", bk.CenterID, "chat_id", chatID, "err", err)
			continue
		}
		delivered = true
	}
	if len(targets) == 0 {
		b.log.Warn("staff notification has no recipient: set JASTAR_STAFF_CHAT_ID or the center's staff_chat_id", "booking_id", bk.ID, "center_id", bk.CenterID)
	}
	// The store set StaffNotified=false with the change; only a delivery
	// of a notice about the booking as it still is sets it: one about an
	// older state must not cover a newer change staff have not heard of.
	if delivered {
		// Not cancellable: staff have the notice, and a shutdown that
		// began meanwhile must not leave it owed to the digest as well.
		current, err := b.store.MarkStaffNotified(context.WithoutCancel(ctx), bk)
		if err != nil {
			b.log.Error("record staff notified", "booking_id", bk.ID, "err", err)
		} else if !current {
			b.log.Info("staff notified of an earlier state of the booking, its latest change is still owed", "booking_id", bk.ID)
		}
	}
}

// staffBooking loads the booking a staff button names and checks that the
// presser is staff of its center or an admin. Anyone else is told "not
// allowed" and nothing changes.
func (b *Bot) staffBooking(ctx context.Context, r *Request) (storage.Booking, bool, error) {
	id, err := r.Data.ID(0)
	if err != nil {
		b.answer(ctx, r, r.L.T(locales.OutdatedButton))
		return storage.Booking{}, false, nil
	}
	bk, err := b.store.Booking(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		b.answer(ctx, r, r.L.T(locales.OutdatedButton))
		return bk, false, nil
	}
	if err != nil {
		return bk, false, err
	}
	if r.From == nil || !b.canStaff(r.From.ID, bk.CenterID) {
		b.log.Info("staff button refused", "chat_id", r.ChatID, "user_id", fromID(r), "booking_id", bk.ID)
		b.alert(ctx, r, r.L.T(locales.NotAllowed))
		return bk, false, nil
	}
	return bk, true, nil
}

func fromID(r *Request) int64 {
	if r.From == nil {
		return 0
	}
	return r.From.ID
}

func staffName(r *Request) string {
	if r.From == nil {
		return ""
	}
	if r.From.UserName != "" {
		return "@" + esc(r.From.UserName)
	}
	return esc(r.From.FirstName)
}

// handleStaffMark: sm:<id>:<a|n> marks attended or no-show once the
// consultation has begun, and within markCorrection after a mark switches
// it. The store writes the feedback question at most once, so a correction
// never asks it twice.
func (b *Bot) handleStaffMark(ctx context.Context, r *Request) error {
	bk, ok, err := b.staffBooking(ctx, r)
	if !ok || err != nil {
		return err
	}
	l := b.staffL()
	status, line := storage.BookingAttended, locales.StaffMarkedAttended
	switch r.Data.Arg(1) {
	case "a":
	case "n":
		status, line = storage.BookingNoShow, locales.StaffMarkedNoShow
	default:
		b.answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	now := b.now()
	switch {
	case bk.Status == storage.BookingCancelled:
		b.answer(ctx, r, l.T(locales.StaffBookingCancelled))
		return nil
	case bk.Status == status || (!bk.Active() && b.markSettled(bk)):
		b.answer(ctx, r, l.T(locales.StaffAlreadyMarked))
		return nil
	case now.Before(bk.Start):
		b.alert(ctx, r, l.T(locales.StaffMarkTooEarly, locales.Data{"When": l.DateTime(bk.Start.In(b.cfg.Location))}))
		return nil
	}
	marked, err := b.store.SetStatus(ctx, bk.ID, status, now)
	if errors.Is(err, storage.ErrConflict) {
		// Changed by another press meanwhile.
		b.answer(ctx, r, l.T(locales.StaffAlreadyMarked))
		return nil
	}
	if err != nil {
		return err
	}
	b.answer(ctx, r, l.T(locales.StaffMarked))
	text := b.staffCard(l, marked) + "\n\n" + l.T(line, locales.Data{"Name": staffName(r)})
	return b.edit(ctx, r, text, b.markedKeyboard(l, marked))
}

// handleStaffCancel: sc:<id> swaps the buttons for the canned reasons.
func (b *Bot) handleStaffCancel(ctx context.Context, r *Request) error {
	bk, ok, err := b.staffBooking(ctx, r)
	if !ok || err != nil {
		return err
	}
	l := b.staffL()
	if !b.staffCanCancel(ctx, r, bk) {
		return nil
	}
	var rows [][]tgbotapi.InlineKeyboardButton
	for _, reason := range staffReasons {
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(reason.text), cbStaffReason, tg.B36(bk.ID), reason.code)))
	}
	rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonBack), cbStaffBack, tg.B36(bk.ID))))
	b.answer(ctx, r, "")
	return b.editKeyboard(ctx, r, tgbotapi.NewInlineKeyboardMarkup(rows...))
}

// handleStaffBack: sb:<id> restores the marks.
func (b *Bot) handleStaffBack(ctx context.Context, r *Request) error {
	bk, ok, err := b.staffBooking(ctx, r)
	if !ok || err != nil {
		return err
	}
	b.answer(ctx, r, "")
	if !bk.Active() {
		kb := b.markedKeyboard(b.staffL(), bk)
		if kb == nil {
			return nil
		}
		return b.editKeyboard(ctx, r, *kb)
	}
	return b.editKeyboard(ctx, r, *staffKeyboard(b.staffL(), bk))
}

// staffCanCancel reports whether staff may still cancel bk, answering the
// press when not: a cancelled or marked booking is settled, and one that
// has begun is marked attended or no-show instead, never cancelled.
func (b *Bot) staffCanCancel(ctx context.Context, r *Request, bk storage.Booking) bool {
	l := b.staffL()
	switch {
	case bk.Status == storage.BookingCancelled:
		b.answer(ctx, r, l.T(locales.StaffBookingCancelled))
	case !bk.Active():
		b.answer(ctx, r, l.T(locales.StaffAlreadyMarked))
	case !bk.Start.After(b.now()):
		b.alert(ctx, r, l.T(locales.StaffCancelStarted))
	default:
		return true
	}
	return false
}

// handleStaffReason: sr:<id>:<reason> cancels the booking and tells the
// person why, in their language.
func (b *Bot) handleStaffReason(ctx context.Context, r *Request) error {
	bk, ok, err := b.staffBooking(ctx, r)
	if !ok || err != nil {
		return err
	}
	l := b.staffL()
	reason, known := reasonText(r.Data.Arg(1))
	if !known {
		b.answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	if !b.staffCanCancel(ctx, r, bk) {
		return nil
	}
	cancelled, err := b.store.Cancel(ctx, bk.ID, "staff_"+r.Data.Arg(1), b.now())
	if errors.Is(err, storage.ErrConflict) {
		// Cancelled, marked or begun since it was loaded: say which, or
		// that it is cancelled when the booking can still be cancelled.
		if cur, err := b.store.Booking(ctx, bk.ID); err != nil || b.staffCanCancel(ctx, r, cur) {
			b.answer(ctx, r, l.T(locales.StaffBookingCancelled))
		}
		return nil
	}
	if err != nil {
		return err
	}
	b.answer(ctx, r, l.T(locales.StaffMarked))
	text := l.T(locales.StaffCancelledByStaff, locales.Data{"Text": b.staffCard(l, cancelled), "Reason": esc(l.T(reason)), "Name": staffName(r)})
	if err := b.edit(ctx, r, text, nil); err != nil {
		b.log.Warn("edit staff notification", "booking_id", bk.ID, "err", err)
	}
	u, _ := b.store.User(ctx, cancelled.ChatID) // unreadable: the booking's language
	pl := b.personL(u, cancelled.Lang)
	personReason, _ := personReasonText(r.Data.Arg(1))
	msg := pl.T(locales.BookingCancelledByCenter, locales.Data{"Text": b.myBookingText(pl, cancelled), "Reason": esc(pl.T(personReason))})
	if _, err := b.sendText(ctx, cancelled.ChatID, msg, nil); err != nil {
		b.log.Warn("tell person of cancellation", "booking_id", bk.ID, "chat_id", cancelled.ChatID, "err", err)
	}
	return nil
}

// editKeyboard replaces only the buttons of the pressed message.
func (b *Bot) editKeyboard(ctx context.Context, r *Request, kb tgbotapi.InlineKeyboardMarkup) error {
	if r.Message == nil {
		return nil
	}
	_, err := b.send.Send(ctx, r.ChatID, tgbotapi.NewEditMessageReplyMarkup(r.ChatID, r.Message.MessageID, kb))
	if isNotModified(err) {
		return nil
	}
	return err
}

// staffCenters are the centers whose bookings the sender may list here: the
// ones they are staff of (all for admins), and in a group only those whose
// notifications go to that group.
func (b *Bot) staffCenters(r *Request) []string {
	var out []string
	for _, c := range b.cat().Centers {
		if r.From == nil || !b.canStaff(r.From.ID, c.ID) {
			continue
		}
		if !r.Private && !slices.Contains(b.staffTargets(c.ID), r.ChatID) {
			continue
		}
		out = append(out, c.ID)
	}
	return out
}

func (b *Bot) handleStaffToday(ctx context.Context, r *Request) error {
	return b.staffDay(ctx, r, catalog.DateOf(b.now().In(b.cfg.Location)))
}

func (b *Bot) handleStaffTomorrow(ctx context.Context, r *Request) error {
	t := b.now().In(b.cfg.Location)
	return b.staffDay(ctx, r, catalog.DateOf(time.Date(t.Year(), t.Month(), t.Day()+1, 12, 0, 0, 0, b.cfg.Location)))
}

// handleStaffBookings: /bookings DD.MM.YYYY.
func (b *Bot) handleStaffBookings(ctx context.Context, r *Request) error {
	t, err := time.ParseInLocation("02.01.2006", strings.TrimSpace(r.Args), b.cfg.Location)
	if err != nil {
		if len(b.staffCenters(r)) == 0 {
			_, err := b.reply(ctx, r, r.L.T(locales.NotAllowed), nil)
			return err
		}
		_, err := b.reply(ctx, r, b.staffL().T(locales.StaffBookingsUsage), nil)
		return err
	}
	return b.staffDay(ctx, r, catalog.DateOf(t))
}

// staffDay lists one day's bookings of the sender's centers, split into
// messages below Telegram's 4096-character limit.
func (b *Bot) staffDay(ctx context.Context, r *Request, day catalog.Date) error {
	centers := b.staffCenters(r)
	if len(centers) == 0 {
		_, err := b.reply(ctx, r, r.L.T(locales.NotAllowed), nil)
		return err
	}
	loc := b.cfg.Location
	from := day.At(0, loc)
	list, err := b.store.BookingsOn(ctx, centers, from, day.At(24*60, loc))
	if err != nil {
		return err
	}
	l := b.staffL()
	date := esc(l.Date(from))
	if len(list) == 0 {
		_, err := b.reply(ctx, r, l.T(locales.StaffDayEmpty, locales.Data{"Date": date}), nil)
		return err
	}
	status := map[storage.BookingStatus]string{
		storage.BookingBooked: locales.StaffStatusBooked, storage.BookingAttended: locales.StaffStatusAttended,
		storage.BookingNoShow: locales.StaffStatusNoShow, storage.BookingCancelled: locales.StaffStatusCancelled,
	}
	var msg strings.Builder
	msg.WriteString(l.T(locales.StaffDayHeader, locales.Data{"Date": date, "Count": len(list)}))
	for _, bk := range list {
		d := b.bookingData(l, bk)
		line := l.T(locales.StaffDayLine, locales.Data{
			"Time": l.Clock(bk.Start.In(loc)), "Status": l.T(status[bk.Status]), "Type": d["Type"], "Place": d["Place"], "Who": b.staffWho(l, bk),
		})
		if msg.Len()+len(line) > 3800 {
			if _, err := b.reply(ctx, r, msg.String(), nil); err != nil {
				return err
			}
			msg.Reset()
		}
		msg.WriteString("\n" + line)
	}
	_, err = b.reply(ctx, r, msg.String(), nil)
	return err
}
