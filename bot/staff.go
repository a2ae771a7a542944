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

// staffStore is what the staff side of bookings reads and writes.
type staffStore interface {
	Booking(ctx context.Context, id uint64) (storage.Booking, error)
	BookingsOn(ctx context.Context, centerIDs []string, from, to time.Time) ([]storage.Booking, error)
	SetStatus(ctx context.Context, id uint64, status storage.BookingStatus, now time.Time) (storage.Booking, error)
	Cancel(ctx context.Context, id uint64, reason string, now time.Time) (storage.Booking, error)
	MarkStaffNotified(ctx context.Context, bk storage.Booking) (bool, error)
	User(ctx context.Context, chatID int64) (storage.User, error)
}

// staffTexts says a booking as booking and "My bookings" do
// (bookingTexts, booking.go).
type staffTexts interface {
	bookingData(l *locales.Localizer, bk storage.Booking) locales.Data
	// staffType and anonymousWho are what staff read of an anonymous
	// booking (booking_safety.go).
	staffType(typeText string, bk storage.Booking) string
	anonymousWho(l *locales.Localizer, bk storage.Booking) (string, bool)
	myBookingText(l *locales.Localizer, bk storage.Booking) string
}

// staff is the feature: the notices of bookings to the centers' staff,
// their buttons (attended, no-show, cancel with a reason) and the day
// lists /today, /tomorrow, /bookings.
type staff struct {
	kit
	store staffStore
	texts staffTexts
	// bg sends the notices outside the handlers, one queue per booking.
	bg *tg.Background
}

// staffL is the localizer of staff texts.
func (k kit) staffL() *locales.Localizer { return k.loc.For(k.cfg.StaffLang) }

// staffTargets are the chats that hear about a center's bookings: its own
// staff group, else the default staff group, else its staff members in
// private (which works only for those who pressed /start: Telegram lets no
// bot write first).
func (k kit) staffTargets(centerID string) []int64 {
	c, _ := k.catalog().Center(centerID)
	switch {
	case c.StaffChatID != 0:
		return []int64{c.StaffChatID}
	case k.cfg.StaffChatID != 0:
		return []int64{k.cfg.StaffChatID}
	}
	return slices.Clone(c.StaffUserIDs)
}

// staffWho names the person of a booking for staff. The name links to
// the person's Telegram chat (a text mention): the online desk promises
// that a specialist writes in Telegram, and a person with no username who
// skipped the phone could not be reached otherwise. An anonymous booking
// shows its code alone, with no link.
func (f *staff) staffWho(l *locales.Localizer, bk storage.Booking) string {
	if who, ok := f.texts.anonymousWho(l, bk); ok {
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
func (f *staff) staffCard(l *locales.Localizer, bk storage.Booking) string {
	d := f.texts.bookingData(l, bk)
	d["Who"] = f.staffWho(l, bk)
	d["Type"] = f.texts.staffType(fmt.Sprint(d["Type"]), bk)
	if c, ok := f.catalog().Center(bk.CenterID); ok && c.Online {
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
func (f *staff) markSettled(bk storage.Booking) bool {
	return f.now().Sub(bk.UpdatedAt) > markCorrection
}

// markedKeyboard is the keyboard of a marked booking: while the mark may
// still be corrected, one button that switches it; afterwards, and for a
// cancelled booking, none.
func (f *staff) markedKeyboard(l *locales.Localizer, bk storage.Booking) *tgbotapi.InlineKeyboardMarkup {
	if bk.Status == storage.BookingCancelled || f.markSettled(bk) {
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
func (f *staff) notifyStaffLater(bk storage.Booking, ev staffEvent, old storage.Booking) {
	queued := f.bg.Queue(int64(bk.ID), func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, staffNoticeTimeout)
		defer cancel()
		// A notice that panics (a card that cannot be formatted) is
		// recovered here, so the queue goes on; its booking keeps
		// StaffNotified=false, and the digest lists it like a dropped one.
		var panicked bool
		defer func() {
			if panicked {
				f.log.Warn("staff notification panicked, left for the digest", "booking_id", bk.ID, "center_id", bk.CenterID)
			}
		}()
		defer ops.Recovered(f.log, f.metrics, "staff_notice", &panicked)
		f.notifyStaff(ctx, bk, ev, old)
	})
	if !queued {
		f.log.Warn("staff notification not queued (shutting down or backlog full), left for the digest", "booking_id", bk.ID, "center_id", bk.CenterID)
	}
}

// notifyStaff tells the center's staff about a booking, a reschedule (old
// is the booking before the move) or a cancellation by the person. A
// notification no chat accepted is logged and the booking keeps
// StaffNotified=false, so the morning digest still reports it.
func (f *staff) notifyStaff(ctx context.Context, bk storage.Booking, ev staffEvent, old storage.Booking) {
	l := f.staffL()
	card := f.staffCard(l, bk)
	var text string
	var kb *tgbotapi.InlineKeyboardMarkup
	switch ev {
	case staffNew:
		text, kb = l.T(locales.StaffNewBooking, locales.Data{"Text": card}), staffKeyboard(l, bk)
	case staffRescheduled:
		from := esc(l.DateTime(old.Start.In(f.cfg.Location)))
		text, kb = l.T(locales.StaffRescheduled, locales.Data{"Text": card, "From": from}), staffKeyboard(l, bk)
	case staffCancelledByPerson:
		text = l.T(locales.StaffCancelledByPerson, locales.Data{"Text": card})
	}
	delivered := false
	targets := f.staffTargets(bk.CenterID)
	for _, chatID := range targets {
		var markup any
		if kb != nil {
			markup = kb
		}
		if _, err := f.tx.SendText(ctx, chatID, text, markup); err != nil {
			f.log.Warn("staff notification not delivered", "booking_id", bk.ID, "center_id", bk.CenterID, "chat_id", chatID, "err", err)
			continue
		}
		delivered = true
	}
	if len(targets) == 0 {
		f.log.Warn("staff notification has no recipient: set JASTAR_STAFF_CHAT_ID or the center's staff_chat_id", "booking_id", bk.ID, "center_id", bk.CenterID)
	}
	// The store set StaffNotified=false with the change; only a delivery
	// of a notice about the booking as it still is sets it: one about an
	// older state must not cover a newer change staff have not heard of.
	if delivered {
		// Not cancellable: staff have the notice, and a shutdown that
		// began meanwhile must not leave it owed to the digest as well.
		current, err := f.store.MarkStaffNotified(context.WithoutCancel(ctx), bk)
		if err != nil {
			f.log.Error("record staff notified", "booking_id", bk.ID, "err", err)
		} else if !current {
			f.log.Info("staff notified of an earlier state of the booking, its latest change is still owed", "booking_id", bk.ID)
		}
	}
}

// staffBooking loads the booking a staff button names and checks that the
// presser is staff of its center or an admin. Anyone else is told "not
// allowed" and nothing changes.
func (f *staff) staffBooking(ctx context.Context, r *tg.Request) (storage.Booking, bool, error) {
	bk, ok, err := pressed(ctx, f.kit, r, 0, f.store.Booking)
	if !ok || err != nil {
		return bk, false, err
	}
	if r.From == nil || !f.runs(f.catalog(), r.From.ID, bk.CenterID) {
		f.log.Info("staff button refused", "chat_id", r.ChatID, "user_id", fromID(r), "booking_id", bk.ID)
		f.tx.Alert(ctx, r, r.L.T(locales.NotAllowed))
		return bk, false, nil
	}
	return bk, true, nil
}

func fromID(r *tg.Request) int64 {
	if r.From == nil {
		return 0
	}
	return r.From.ID
}

func staffName(r *tg.Request) string {
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
func (f *staff) handleStaffMark(ctx context.Context, r *tg.Request) error {
	bk, ok, err := f.staffBooking(ctx, r)
	if !ok || err != nil {
		return err
	}
	l := f.staffL()
	status, line := storage.BookingAttended, locales.StaffMarkedAttended
	switch r.Data.Arg(1) {
	case "a":
	case "n":
		status, line = storage.BookingNoShow, locales.StaffMarkedNoShow
	default:
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	now := f.now()
	switch {
	case bk.Status == storage.BookingCancelled:
		f.tx.Answer(ctx, r, l.T(locales.StaffBookingCancelled))
		return nil
	case bk.Status == status || (!bk.Active() && f.markSettled(bk)):
		f.tx.Answer(ctx, r, l.T(locales.StaffAlreadyMarked))
		return nil
	case now.Before(bk.Start):
		f.tx.Alert(ctx, r, l.T(locales.StaffMarkTooEarly, locales.Data{"When": l.DateTime(bk.Start.In(f.cfg.Location))}))
		return nil
	}
	marked, err := f.store.SetStatus(ctx, bk.ID, status, now)
	if errors.Is(err, storage.ErrConflict) {
		// Changed by another press meanwhile.
		f.tx.Answer(ctx, r, l.T(locales.StaffAlreadyMarked))
		return nil
	}
	if err != nil {
		return err
	}
	f.tx.Answer(ctx, r, l.T(locales.StaffMarked))
	text := f.staffCard(l, marked) + "\n\n" + l.T(line, locales.Data{"Name": staffName(r)})
	return f.tx.Edit(ctx, r, text, f.markedKeyboard(l, marked))
}

// handleStaffCancel: sc:<id> swaps the buttons for the canned reasons.
func (f *staff) handleStaffCancel(ctx context.Context, r *tg.Request) error {
	bk, ok, err := f.staffBooking(ctx, r)
	if !ok || err != nil {
		return err
	}
	l := f.staffL()
	if !f.staffCanCancel(ctx, r, bk) {
		return nil
	}
	var rows [][]tgbotapi.InlineKeyboardButton
	for _, reason := range staffReasons {
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(reason.text), cbStaffReason, tg.B36(bk.ID), reason.code)))
	}
	rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonBack), cbStaffBack, tg.B36(bk.ID))))
	f.tx.Answer(ctx, r, "")
	return f.tx.EditKeyboard(ctx, r, tgbotapi.NewInlineKeyboardMarkup(rows...))
}

// handleStaffBack: sb:<id> restores the marks.
func (f *staff) handleStaffBack(ctx context.Context, r *tg.Request) error {
	bk, ok, err := f.staffBooking(ctx, r)
	if !ok || err != nil {
		return err
	}
	f.tx.Answer(ctx, r, "")
	if !bk.Active() {
		kb := f.markedKeyboard(f.staffL(), bk)
		if kb == nil {
			return nil
		}
		return f.tx.EditKeyboard(ctx, r, *kb)
	}
	return f.tx.EditKeyboard(ctx, r, *staffKeyboard(f.staffL(), bk))
}

// staffCanCancel reports whether staff may still cancel bk, answering the
// press when not: a cancelled or marked booking is settled, and one that
// has begun is marked attended or no-show instead, never cancelled.
func (f *staff) staffCanCancel(ctx context.Context, r *tg.Request, bk storage.Booking) bool {
	l := f.staffL()
	switch {
	case bk.Status == storage.BookingCancelled:
		f.tx.Answer(ctx, r, l.T(locales.StaffBookingCancelled))
	case !bk.Active():
		f.tx.Answer(ctx, r, l.T(locales.StaffAlreadyMarked))
	case !bk.Start.After(f.now()):
		f.tx.Alert(ctx, r, l.T(locales.StaffCancelStarted))
	default:
		return true
	}
	return false
}

// handleStaffReason: sr:<id>:<reason> cancels the booking and tells the
// person why, in their language.
func (f *staff) handleStaffReason(ctx context.Context, r *tg.Request) error {
	bk, ok, err := f.staffBooking(ctx, r)
	if !ok || err != nil {
		return err
	}
	l := f.staffL()
	reason, known := reasonText(r.Data.Arg(1))
	if !known {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	if !f.staffCanCancel(ctx, r, bk) {
		return nil
	}
	cancelled, err := f.store.Cancel(ctx, bk.ID, "staff_"+r.Data.Arg(1), f.now())
	if errors.Is(err, storage.ErrConflict) {
		// Cancelled, marked or begun since it was loaded: say which, or
		// that it is cancelled when the booking can still be cancelled.
		if cur, err := f.store.Booking(ctx, bk.ID); err != nil || f.staffCanCancel(ctx, r, cur) {
			f.tx.Answer(ctx, r, l.T(locales.StaffBookingCancelled))
		}
		return nil
	}
	if err != nil {
		return err
	}
	f.tx.Answer(ctx, r, l.T(locales.StaffMarked))
	text := l.T(locales.StaffCancelledByStaff, locales.Data{"Text": f.staffCard(l, cancelled), "Reason": esc(l.T(reason)), "Name": staffName(r)})
	if err := f.tx.Edit(ctx, r, text, nil); err != nil {
		f.log.Warn("edit staff notification", "booking_id", bk.ID, "err", err)
	}
	u, _ := f.store.User(ctx, cancelled.ChatID) // unreadable: the booking's language
	pl := personL(f.loc, u, cancelled.Lang)
	personReason, _ := personReasonText(r.Data.Arg(1))
	msg := pl.T(locales.BookingCancelledByCenter, locales.Data{"Text": f.texts.myBookingText(pl, cancelled), "Reason": esc(pl.T(personReason))})
	if _, err := f.tx.SendText(ctx, cancelled.ChatID, msg, nil); err != nil {
		f.log.Warn("tell person of cancellation", "booking_id", bk.ID, "chat_id", cancelled.ChatID, "err", err)
	}
	return nil
}

// staffCenters are the centers whose bookings the sender may list here: the
// ones they are staff of (all for admins), and in a group only those whose
// notifications go to that group.
func (k kit) staffCenters(r *tg.Request) []string {
	cat := k.catalog()
	var out []string
	for _, c := range cat.Centers {
		if r.From == nil || !k.runs(cat, r.From.ID, c.ID) {
			continue
		}
		if !r.Private && !slices.Contains(k.staffTargets(c.ID), r.ChatID) {
			continue
		}
		out = append(out, c.ID)
	}
	return out
}

func (f *staff) handleStaffToday(ctx context.Context, r *tg.Request) error {
	return f.staffDay(ctx, r, catalog.DateOf(f.now().In(f.cfg.Location)))
}

func (f *staff) handleStaffTomorrow(ctx context.Context, r *tg.Request) error {
	t := f.now().In(f.cfg.Location)
	return f.staffDay(ctx, r, catalog.DateOf(time.Date(t.Year(), t.Month(), t.Day()+1, 12, 0, 0, 0, f.cfg.Location)))
}

// handleStaffBookings: /bookings DD.MM.YYYY.
func (f *staff) handleStaffBookings(ctx context.Context, r *tg.Request) error {
	t, err := time.ParseInLocation("02.01.2006", strings.TrimSpace(r.Args), f.cfg.Location)
	if err != nil {
		if len(f.staffCenters(r)) == 0 {
			_, err := f.tx.Reply(ctx, r, r.L.T(locales.NotAllowed), nil)
			return err
		}
		_, err := f.tx.Reply(ctx, r, f.staffL().T(locales.StaffBookingsUsage), nil)
		return err
	}
	return f.staffDay(ctx, r, catalog.DateOf(t))
}

// staffDay lists one day's bookings of the sender's centers, split into
// messages below Telegram's 4096-character limit.
func (f *staff) staffDay(ctx context.Context, r *tg.Request, day catalog.Date) error {
	centers := f.staffCenters(r)
	if len(centers) == 0 {
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.NotAllowed), nil)
		return err
	}
	loc := f.cfg.Location
	from := day.At(0, loc)
	list, err := f.store.BookingsOn(ctx, centers, from, day.At(24*60, loc))
	if err != nil {
		return err
	}
	l := f.staffL()
	date := esc(l.Date(from))
	if len(list) == 0 {
		_, err := f.tx.Reply(ctx, r, l.T(locales.StaffDayEmpty, locales.Data{"Date": date}), nil)
		return err
	}
	status := map[storage.BookingStatus]string{
		storage.BookingBooked: locales.StaffStatusBooked, storage.BookingAttended: locales.StaffStatusAttended,
		storage.BookingNoShow: locales.StaffStatusNoShow, storage.BookingCancelled: locales.StaffStatusCancelled,
	}
	var msg strings.Builder
	msg.WriteString(l.T(locales.StaffDayHeader, locales.Data{"Date": date, "Count": len(list)}))
	for _, bk := range list {
		d := f.texts.bookingData(l, bk)
		line := l.T(locales.StaffDayLine, locales.Data{
			"Time": l.Clock(bk.Start.In(loc)), "Status": l.T(status[bk.Status]), "Type": d["Type"], "Place": d["Place"], "Who": f.staffWho(l, bk),
		})
		if msg.Len()+len(line) > 3800 {
			if _, err := f.tx.Reply(ctx, r, msg.String(), nil); err != nil {
				return err
			}
			msg.Reset()
		}
		msg.WriteString("\n" + line)
	}
	_, err = f.tx.Reply(ctx, r, msg.String(), nil)
	return err
}
