package bot

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"jastar/bot/telegramtest"
	"jastar/locales"
	"jastar/storage"
)

// TestAnonymousBooking_EndToEnd: a person books a psychologist without
// showing their name; staff learn of the booking, list it, get it in the
// digest and the CSV, see it moved and cancelled, and never once read the
// person's name, username or phone, or get a link to their chat; the
// person gets the code, their reminders, moves, cancels, /mydata and
// /forget as with any booking.
func TestAnonymousBooking_EndToEnd(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	l := tl("ru")
	const name, username, phone = "Зарина", "zarina_hidden", "+77015550123"
	u := telegramtest.User{ID: 5001, FirstName: name, Username: username, LanguageCode: "ru"}
	admin := telegramtest.User{ID: testAdmin, FirstName: "Админ", LanguageCode: "ru"}
	h.srv.AddPrivateChat(admin)

	// The person shared their phone before: the bot knows it.
	h.srv.SendContact(u, phone)
	h.waitText(u.ID, l.T(locales.ContactSaved))

	h.srv.SendText(u, "/book")
	m := h.waitText(u.ID, plain(firstLine(l.T(locales.BookChooseType))))
	h.press(u, m, "психолог")
	m = h.waitMessage(u.ID, m.ID, "Консультация психолога")
	if !hasButton(m, l.T(locales.HelpButton)) {
		t.Errorf("the psychologist's card has no 🆘 button: %+v", m.InlineKeyboard)
	}
	h.press(u, m, "Карасай")
	m = h.waitMessage(u.ID, m.ID, "Карасай")
	h.press(u, m, dayLabel("ru", at(t, 2, 12)))
	m = h.waitMessage(u.ID, m.ID, l.Date(at(t, 2, 12)))
	h.press(u, m, "11:00")
	m = h.waitMessage(u.ID, m.ID, plain(firstLine(l.T(locales.AnonymousAsk))))
	h.press(u, m, l.T(locales.AnonymousHideName))
	m = h.waitMessage(u.ID, m.ID, plain(firstLine(l.T(locales.BookSummary))))
	if strings.Contains(m.Text, phone) {
		t.Errorf("the summary of an anonymous booking shows the phone:\n%s", m.Text)
	}
	h.press(u, m, plain(l.T(locales.BookConfirm)))
	done := h.waitMessage(u.ID, m.ID, plain(firstLine(l.T(locales.BookConfirmed))))

	mine, err := h.db.BookingsOf(ctx, u.ID, h.bot.now())
	if err != nil || len(mine) != 1 {
		t.Fatalf("bookings = %+v, %v; want one", mine, err)
	}
	bk := mine[0]
	if !bk.Anonymous || bk.Name != "" || bk.Username != "" || bk.Phone != "" || bk.TypeID != psychologyType {
		t.Errorf("stored booking = %+v, want an anonymous psychologist's booking with nothing of the person", bk)
	}
	code := storage.AnonymousCode("П", bk.ID)
	if !strings.Contains(done.Text, code) || !hasButton(done, l.T(locales.HelpButton)) {
		t.Errorf("the confirmation lacks the code %s or the 🆘 button:\n%s\n%+v", code, done.Text, done.InlineKeyboard)
	}

	// The calendar file's title, which a phone's alarm shows, is the
	// center's: the type is discreet.
	if ics := string(h.waitDocument(u.ID).Document.Data); strings.Contains(ics, "психолог") || !strings.Contains(ics, "SUMMARY:Молодёжный ресурсный центр Карасай") {
		t.Errorf("the calendar file names the type or not the center:\n%s", ics)
	}

	// Staff: the notice, the day list, the digest, the export.
	h.waitText(testStaffChat, "Новая запись", code)
	h.srv.SendGroupText(testStaffChat, "Staff", admin, "/tomorrow")
	h.waitText(testStaffChat, "2 декабря", code)
	if err := h.bot.StaffDigest(ctx, at2(t, 2, 8, 30)); err != nil {
		t.Fatal(err)
	}
	h.waitText(testStaffChat, plain(firstLine(l.T(locales.StaffDigestHeader))), code)
	h.srv.SendText(admin, "/export 01.12.2026 31.12.2026")
	doc := h.waitDocument(admin.ID)
	rows := readCSV(t, doc.Document.Data)
	if len(rows) != 2 || rows[1][6] != code || rows[1][7] != "" || rows[1][8] != "" {
		t.Errorf("the CSV = %q, want one row with the code for a name and nothing else of the person", rows)
	}

	// The person: the reminder the evening before, discreet, with the code.
	h.sweepAt(clock, at(t, 1, 18))
	rem := h.waitText(u.ID, plain(firstLine(l.T(locales.ReminderDayBeforeDiscreet))))
	if !strings.Contains(rem.Text, code) || strings.Contains(rem.Text, "психолог") {
		t.Errorf("the reminder = %q, want the code and not the type", rem.Text)
	}

	// Moved to the 3rd: no second question, the code stays.
	h.srv.SendText(u, "/mybookings")
	item := h.waitButton(u.ID, l.T(locales.MyBookingReschedule))
	if !strings.Contains(item.Text, code) {
		t.Errorf("my bookings lack the code:\n%s", item.Text)
	}
	h.press(u, item, l.T(locales.MyBookingReschedule))
	m = h.waitText(u.ID, plain(firstLine(l.T(locales.BookRescheduleHint))))
	h.press(u, m, dayLabel("ru", at(t, 3, 12)))
	m = h.waitMessage(u.ID, m.ID, l.Date(at(t, 3, 12)))
	h.press(u, m, "11:00")
	m = h.waitMessage(u.ID, m.ID, plain(firstLine(l.T(locales.BookSummary))), "3 декабря")
	h.press(u, m, plain(l.T(locales.BookConfirmMove)))
	moved := h.waitMessage(u.ID, m.ID, plain(firstLine(l.T(locales.BookRescheduled))))
	if !strings.Contains(moved.Text, code) {
		t.Errorf("the move's confirmation lacks the code:\n%s", moved.Text)
	}
	h.waitText(testStaffChat, "Запись перенесена", code)
	if got, _ := h.db.Booking(ctx, bk.ID); !got.Anonymous || !got.Start.Equal(at(t, 3, 11)) {
		t.Errorf("moved booking = %+v, want anonymous on the 3rd at 11:00", got)
	}

	// /mydata shows it as the person's, with the code.
	h.srv.SendText(u, "/mydata")
	h.waitText(u.ID, plain(firstLine(l.T(locales.MyDataHeader))), code)

	// Cancelled from "My bookings".
	h.srv.SendText(u, "/mybookings")
	item = h.waitButton(u.ID, l.T(locales.MyBookingCancel))
	h.press(u, item, l.T(locales.MyBookingCancel))
	ask := h.waitMessage(u.ID, item.ID, plain(firstLine(l.T(locales.MyBookingCancelAsk))))
	h.press(u, ask, l.T(locales.MyBookingCancelYes))
	h.waitMessage(u.ID, item.ID, plain(firstLine(l.T(locales.MyBookingCancelled))))
	h.waitText(testStaffChat, "Посетитель отменил запись", code)

	// A second anonymous booking, then /forget: cancelled as the person's.
	second, err := h.db.Book(ctx, storage.Booking{ChatID: u.ID, Anonymous: true, Lang: storage.Russian, TypeID: psychologyType,
		CenterID: "karasai", Start: at(t, 4, 15), End: at(t, 4, 16)},
		storage.BookRules{Capacity: 1, MaxActive: 3, Now: h.bot.now(), NotBefore: h.bot.now(), Reminders: h.bot.cfg.Reminders})
	if err != nil {
		t.Fatal(err)
	}
	h.srv.SendText(u, "/forget")
	ask = h.waitText(u.ID, plain(firstLine(l.T(locales.ForgetAsk))))
	h.press(u, ask, l.T(locales.ForgetYes))
	h.waitMessage(u.ID, ask.ID, plain(firstLine(l.T(locales.ForgetDone))), plain(strings.TrimSpace(l.N(locales.ForgetCancelledBookings, 1))))
	h.waitText(testStaffChat, "Посетитель отменил запись", storage.AnonymousCode("П", second.ID))

	// Nothing of the person reached a staff chat or file, in any message
	// or edit, as text, link or mention.
	h.stop()
	for _, chat := range []int64{testStaffChat, admin.ID} {
		for _, msg := range h.srv.Transcript(chat) {
			seen := msg.Text
			if msg.Document != nil {
				seen += string(msg.Document.Data)
			}
			for _, secret := range []string{name, username, phone, phone[1:], strconv.FormatInt(u.ID, 10)} {
				if strings.Contains(seen, secret) {
					t.Errorf("chat %d got %q:\n%s", chat, secret, seen)
				}
			}
			for _, e := range msg.Entities {
				if e.Type == "text_mention" || e.URL != "" {
					t.Errorf("chat %d got a link or mention %+v in:\n%s", chat, e, msg.Text)
				}
			}
		}
	}
	for _, c := range h.srv.Calls("") {
		if chat := c.Params.Get("chat_id"); chat == strconv.FormatInt(testStaffChat, 10) || chat == strconv.FormatInt(admin.ID, 10) {
			if strings.Contains(c.Params.Encode(), strconv.FormatInt(u.ID, 10)) {
				t.Errorf("a %s call to staff names the person's chat: %v", c.Method, c.Params)
			}
		}
	}
}

// TestDiscreetType_PreviewsKeepItOut: a psychologist's consultation booked
// with the name shown: the staff notice keeps the type out of its preview
// (behind a spoiler, which Telegram hides in notifications) while showing
// the name, and the reminders on the person's phone name the center, not
// the type. A career consultation's reminder still names its type.
func TestDiscreetType_PreviewsKeepItOut(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	l := tl("ru")
	psych, _ := h.bot.cat().Type(psychologyType)
	career, _ := h.bot.cat().Type("career")
	u := h.person(5101, storage.Russian)
	bk := h.book(u.ID, storage.Russian, "karasai", psychologyType, at(t, 2, 11))
	other := h.person(5102, storage.Russian)
	h.book(other.ID, storage.Russian, "karasai", "career", at(t, 2, 12))

	h.bot.staff.notifyStaff(ctx, bk, staffNew, storage.Booking{})
	note := h.waitText(testStaffChat, "Новая запись", "Ерлан")
	first, _, _ := strings.Cut(note.Text, "\n")
	if strings.Contains(first, psych.Name.RU) || strings.Contains(first, "психолог") {
		t.Errorf("the notice's first line names the type: %q", first)
	}
	pos := strings.Index(note.Text, psych.Name.RU)
	if pos < 0 {
		t.Fatalf("the notice lacks the type for staff:\n%s", note.Text)
	}
	hidden := false
	offset := len(utf16Units(note.Text[:pos]))
	for _, e := range note.Entities {
		if e.Type == "spoiler" && e.Offset <= offset && offset+len(utf16Units(psych.Name.RU)) <= e.Offset+e.Length {
			hidden = true
		}
	}
	if !hidden {
		t.Errorf("the type is not behind a spoiler in the notice: %+v\n%s", note.Entities, note.Text)
	}

	h.sweepAt(clock, at2(t, 1, 18, 0))
	rem := h.waitText(u.ID, plain(firstLine(l.T(locales.ReminderDayBeforeDiscreet))))
	if strings.Contains(rem.Text, psych.Name.RU) || strings.Contains(rem.Text, "психолог") || !strings.Contains(rem.Text, "Карасай") {
		t.Errorf("the discreet reminder = %q, want the center and not the type", rem.Text)
	}
	if m := h.waitText(other.ID, plain(firstLine(l.T(locales.ReminderDayBefore)))); !strings.Contains(m.Text, career.Name.RU) {
		t.Errorf("the career reminder lost its type: %q", m.Text)
	}
	h.sweepAt(clock, at2(t, 2, 10, 0))
	soon := h.waitText(u.ID, plain(firstLine(l.T(locales.ReminderSoonDiscreet, locales.Data{"Time": "11:00"}))))
	if strings.Contains(soon.Text, psych.Name.RU) || strings.Contains(soon.Text, "психолог") {
		t.Errorf("the discreet reminder an hour before = %q", soon.Text)
	}
	if strings.Contains(rem.Text, "🔒") {
		t.Errorf("a booking with the name shown got an anonymous code: %q", rem.Text)
	}
}

// utf16Units is s in UTF-16 code units, as Telegram counts entity offsets.
func utf16Units(s string) []uint16 {
	var out []uint16
	for _, r := range s {
		if r >= 0x10000 {
			out = append(out, 0, 0)
		} else {
			out = append(out, 0)
		}
	}
	return out
}
