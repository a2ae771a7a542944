package bot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"jastar/bot/telegramtest"
	"jastar/locales"
	"jastar/scheduler"
	"jastar/storage"
	"jastar/storage/storagetest"
)

// sweepAt moves the fake clock to now and runs one reminder sweep, as cron
// would at that minute. Remind sends synchronously, so what the sweep sent
// is in the fake's transcript when it returns.
func (h *harness) sweepAt(clock *fakeClock, now time.Time) {
	h.t.Helper()
	clock.Set(now)
	if err := scheduler.NewReminders(h.db, h.bot, slogJSON(h.logs)).Sweep(context.Background(), now); err != nil {
		h.t.Fatalf("sweep at %v: %v", now, err)
	}
}

// person stores a person who talked to the bot in lang.
func (h *harness) person(id int64, lang storage.Lang) telegramtest.User {
	h.t.Helper()
	u := telegramtest.User{ID: id, FirstName: "Дана", LanguageCode: string(lang)}
	h.srv.AddPrivateChat(u)
	now := h.bot.now()
	if err := h.db.SaveUser(context.Background(), storage.User{ChatID: id, Lang: lang, LangSet: true, Active: true, CreatedAt: now, UpdatedAt: now}); err != nil {
		h.t.Fatal(err)
	}
	return u
}

// at2 is a time on day d of December 2026 in Almaty, to the minute.
func at2(t *testing.T, d, hr, min int) time.Time {
	return time.Date(2026, 12, d, hr, min, 0, 0, almaty(t))
}

func TestReminders_BothAtLocalTimesInBothLanguages(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	cat := h.bot.cat()
	center, _ := cat.Center("karasai")
	for i, lang := range []storage.Lang{storage.Russian, storage.Kazakh} {
		t.Run(string(lang), func(t *testing.T) {
			l := tl(string(lang))
			u := h.person(int64(2000+i), lang)
			// Wednesday 2 December, 11:00 (clock: Tuesday 1 December, 10:00).
			clock.Set(at(t, 1, 10))
			h.book(u.ID, lang, "karasai", "career", at(t, 2, 11+i))
			start := at(t, 2, 11+i)

			h.sweepAt(clock, at2(t, 1, 17, 59))
			if got := h.botMessages(u.ID); len(got) != 0 {
				t.Fatalf("a minute early sent %q", got[0].Text)
			}
			h.sweepAt(clock, at(t, 1, 18))
			msgs := h.botMessages(u.ID)
			if len(msgs) != 1 {
				t.Fatalf("at 18:00 the day before: %d messages, want 1\n%s", len(msgs), h.transcript(u.ID))
			}
			day := msgs[0]
			for _, want := range []string{
				plain(firstLine(l.T(locales.ReminderDayBefore))), l.Date(start), start.Format("15:04"),
				center.Name.In(string(lang)), l.T(locales.AskTheCenter),
			} {
				if !strings.Contains(day.Text, want) {
					t.Errorf("day-before reminder lacks %q:\n%s", want, day.Text)
				}
			}
			if len(day.InlineKeyboard) != 1 || !strings.HasPrefix(day.InlineKeyboard[0][0].CallbackData, cbMyCancel+":") {
				t.Errorf("day-before keyboard = %+v, want the cancel button", day.InlineKeyboard)
			}

			hourBefore := start.Add(-time.Hour)
			h.sweepAt(clock, hourBefore.Add(-time.Minute))
			if n := len(h.botMessages(u.ID)); n != 1 {
				t.Fatalf("a minute before the hour-before: %d messages", n)
			}
			h.sweepAt(clock, hourBefore)
			msgs = h.botMessages(u.ID)
			if len(msgs) != 2 {
				t.Fatalf("at the hour before: %d messages\n%s", len(msgs), h.transcript(u.ID))
			}
			soon := msgs[1]
			for _, want := range []string{plain(firstLine(l.T(locales.ReminderSoon))), start.Format("15:04"), l.Date(start), center.Name.In(string(lang))} {
				if !strings.Contains(soon.Text, want) {
					t.Errorf("hour-before reminder lacks %q:\n%s", want, soon.Text)
				}
			}
			// Nothing is left to send.
			h.sweepAt(clock, start.Add(-time.Minute))
			if n := len(h.botMessages(u.ID)); n != 2 {
				t.Errorf("%d messages after a later sweep, want 2", n)
			}
		})
	}
}

func TestReminders_CancelButtonCancels(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	u := h.person(2101, storage.Kazakh)
	bk := h.book(u.ID, storage.Kazakh, "karasai", "career", at(t, 3, 11))
	h.sweepAt(clock, at(t, 2, 18))
	rem := h.waitText(u.ID, plain(firstLine(kk(locales.ReminderDayBefore))))
	// Someone else's press is refused.
	other := telegramtest.User{ID: 2102, FirstName: "X", LanguageCode: "kk"}
	id, _ := h.srv.PressButton(other, other.ID, rem.ID, rem.InlineKeyboard[0][0].CallbackData)
	h.waitAnswered(id)
	h.press(u, rem, kk(locales.MyBookingCancel))
	ask := h.waitMessage(u.ID, rem.ID, plain(firstLine(kk(locales.MyBookingCancelAsk))))
	h.press(u, ask, kk(locales.MyBookingCancelYes))
	h.waitMessage(u.ID, rem.ID, plain(firstLine(kk(locales.MyBookingCancelled))))
	if got, _ := h.db.Booking(ctx, bk.ID); got.Status != storage.BookingCancelled {
		t.Fatalf("status after cancel from the reminder = %s", got.Status)
	}
	before := len(h.botMessages(u.ID))
	h.sweepAt(clock, at(t, 3, 10))
	if n := len(h.botMessages(u.ID)); n != before {
		t.Errorf("hour-before of a cancelled booking sent: %s", h.transcript(u.ID))
	}
}

func TestReminders_MoveWithRescheduleAndGoWithCancel(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	u := h.person(2201, storage.Russian)
	moved := h.book(u.ID, storage.Russian, "karasai", "career", at(t, 3, 11))
	gone := h.book(u.ID, storage.Russian, "karasai", "career", at(t, 4, 15))
	now := h.bot.now()
	_, _, err := h.db.Reschedule(ctx, moved.ID, at(t, 5, 14), at(t, 5, 15), storage.BookRules{
		Capacity: 2, MaxActive: 3, Now: now, NotBefore: now.Add(time.Hour), Reminders: h.bot.cfg.Reminders,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.Cancel(ctx, gone.ID, cancelByPerson, now); err != nil {
		t.Fatal(err)
	}
	// The old due times of both bookings: nothing.
	for _, due := range []time.Time{at(t, 2, 18), at(t, 3, 10), at(t, 3, 18), at(t, 4, 14)} {
		h.sweepAt(clock, due)
	}
	if msgs := h.botMessages(u.ID); len(msgs) != 0 {
		t.Fatalf("reminders at the old times: %s", h.transcript(u.ID))
	}
	h.sweepAt(clock, at(t, 4, 18))
	h.waitText(u.ID, "Напоминание", "5 декабря", "14:00")
	h.sweepAt(clock, at(t, 5, 13))
	h.waitText(u.ID, "Скоро консультация", "14:00")
	if n := len(h.botMessages(u.ID)); n != 2 {
		t.Errorf("%d reminders, want 2:\n%s", n, h.transcript(u.ID))
	}
}

// TestReminders_NeverTwiceAcrossRestart: a sweep claims a reminder and the
// process dies before its send had an outcome. After the restart it is
// reported, never sent again; the next reminder still comes.
func TestReminders_NeverTwiceAcrossRestart(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	u := h.person(2301, storage.Russian)
	h.book(u.ID, storage.Russian, "karasai", "career", at(t, 2, 11))
	if claimed := claimDue(t, h, at(t, 1, 18)); len(claimed) != 1 {
		t.Fatalf("claimed %+v, want the day-before reminder", claimed)
	}
	h.restart() // the crash: the claimed reminder's send had no outcome
	if err := scheduler.NewReminders(h.db, h.bot, slogJSON(h.logs)).RecoverInFlight(ctx); err != nil {
		t.Fatal(err)
	}
	for _, now := range []time.Time{at(t, 1, 18), at2(t, 1, 18, 1), at(t, 2, 10), at2(t, 2, 10, 1)} {
		h.sweepAt(clock, now)
	}
	msgs := h.botMessages(u.ID)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "Скоро консультация") {
		t.Errorf("after the restart: %d messages, want only the hour-before once:\n%s", len(msgs), h.transcript(u.ID))
	}
}

// claimDue claims every reminder due at now, as a sweep does right before
// each send, and returns them.
func claimDue(t *testing.T, h *harness, now time.Time) []storage.Reminder {
	t.Helper()
	due, err := h.db.DueReminders(context.Background(), now, storage.Reminder{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []storage.Reminder
	for _, r := range due {
		c, err := h.db.ClaimReminder(context.Background(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// TestReminders_CrashOnTheWireIsToldToStaff: at 18:00 four day-before
// reminders fall due and the process is killed (kill -9) while the second
// is on the wire: Telegram delivered it, its answer never came back. On the
// file the crash left, the restarted bot logs that reminder by its ids,
// counts it, sends it never again and sends the two not yet reached once;
// the next morning's staff digest lists the booking for staff to call, once.
func TestReminders_CrashOnTheWireIsToldToStaff(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	var chats []int64
	var bookings []storage.Booking
	for i := range 4 {
		u := h.person(int64(3600+i), storage.Russian)
		bookings = append(bookings, h.book(u.ID, storage.Russian, "karasai", "career", at(t, 2, 10+i)))
		chats = append(chats, u.ID)
	}
	onWire := chats[1]
	entered, release := holdFirstMessage(h, onWire)
	clock.Set(at(t, 1, 18))
	killed, kill := context.WithCancel(ctx)
	defer kill()
	done := make(chan error, 1)
	go func() { done <- scheduler.NewReminders(h.db, h.bot, slogJSON(h.logs)).Sweep(killed, at(t, 1, 18)) }()
	<-entered
	// The kill -9: the file is copied now, while the second reminder is on
	// the wire. A process killed so writes nothing after this instant, so
	// the copy must come before the old sweep can hear of the kill: once
	// its call is cut it settles that reminder itself, and a copy taken
	// after that would be the file of a shutdown, not of a crash. The old
	// sweep is then stopped before its next claim; what it writes
	// meanwhile is thrown away with the file.
	crashed := filepath.Join(t.TempDir(), "crashed.db")
	f, err := os.Create(crashed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.WriteBackup(ctx, f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	kill()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	h.srv.SetAfterCall(nil)

	// The restart, on the file as the kill left it.
	h.stop()
	if err := h.db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(crashed, h.dbPath); err != nil {
		t.Fatal(err)
	}
	h.db = storagetest.OpenAt(t, h.dbPath)
	h.start()
	logged := len(h.logs.String())
	if err := scheduler.NewReminders(h.db, h.bot, slogJSON(h.logs)).WithMetrics(h.bot.metrics).RecoverInFlight(ctx); err != nil {
		t.Fatal(err)
	}
	if got := counterValue(t, h, "jastar_reminders_uncertain_total", map[string]string{}); got != 1 {
		t.Errorf("jastar_reminders_uncertain_total = %v, want 1", got)
	}
	if line := h.logs.String()[logged:]; !strings.Contains(line, fmt.Sprintf(`"booking_id":%d`, bookings[1].ID)) || !strings.Contains(line, `"reminder_id"`) {
		t.Errorf("the uncertain reminder is not logged with its ids:\n%s", line)
	}
	h.sweepAt(clock, at2(t, 1, 18, 1))
	h.sweepAt(clock, at2(t, 1, 18, 2))
	assertUncertainToldOnce(t, h, clock, chats, "11:00")
	if err := h.bot.StaffDigest(ctx, at2(t, 3, 8, 30)); err != nil {
		t.Fatal(err)
	}
	if n := countText(h, testStaffChat, plain(ru(locales.StaffDigestUncertain))); n != 1 {
		t.Errorf("%d digests ask staff to call, want only the first", n)
	}
}

// TestReminders_ShutdownOnTheWireIsToldToStaff: the bot stops (SIGTERM)
// while a day-before reminder is on the wire: Telegram delivered it, and
// the stop cut the call before its answer came. Nobody knows it arrived, so
// it is never sent again and the next morning's staff digest lists the
// booking for staff to call, as after a crash; the reminder not yet
// reached waits for the next sweep.
func TestReminders_ShutdownOnTheWireIsToldToStaff(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	var chats []int64
	for i := range 2 {
		u := h.person(int64(3700+i), storage.Russian)
		h.book(u.ID, storage.Russian, "karasai", "career", at(t, 2, 10+i))
		chats = append(chats, u.ID)
	}
	onWire := chats[0]
	entered, release := holdFirstMessage(h, onWire)
	clock.Set(at(t, 1, 18))
	stop, shutdown := context.WithCancel(ctx)
	defer shutdown()
	done := make(chan error, 1)
	go func() { done <- scheduler.NewReminders(h.db, h.bot, slogJSON(h.logs)).Sweep(stop, at(t, 1, 18)) }()
	<-entered
	shutdown()
	// The sweep returns once the stop cut the call; Telegram's answer is
	// held until then, so the sweep never hears it.
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	close(release)
	h.srv.SetAfterCall(nil)

	h.sweepAt(clock, at2(t, 1, 18, 1))
	assertUncertainToldOnce(t, h, clock, chats, "10:00")
}

func TestReminders_MissedDuringDowntime(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ahead := h.person(2401, storage.Kazakh)
	passed := h.person(2402, storage.Russian)
	h.book(ahead.ID, storage.Kazakh, "karasai", "career", at(t, 2, 14))
	h.book(passed.ID, storage.Russian, "karasai", "career", at(t, 2, 11))
	// Down from before 18:00 on the 1st until 12:30 on the 2nd.
	h.sweepAt(clock, at2(t, 2, 12, 30))
	msgs := h.botMessages(ahead.ID)
	if len(msgs) != 1 {
		t.Fatalf("ahead: %d messages, want one:\n%s", len(msgs), h.transcript(ahead.ID))
	}
	// Sent on the day itself: not "tomorrow", even though the day-before
	// reminder was the one due first.
	if !strings.Contains(msgs[0].Text, plain(firstLine(kk(locales.ReminderSoon)))) || !strings.Contains(msgs[0].Text, "14:00") {
		t.Errorf("late reminder = %q", msgs[0].Text)
	}
	if msgs := h.botMessages(passed.ID); len(msgs) != 0 {
		t.Errorf("reminder of a passed appointment sent: %q", msgs[0].Text)
	}
	if !strings.Contains(h.logs.String(), "reminder dropped") {
		t.Error("dropped reminders are not logged")
	}
	// The hour-before is still its own reminder, at 13:00, once.
	h.sweepAt(clock, at(t, 2, 13))
	h.sweepAt(clock, at2(t, 2, 13, 1))
	if msgs := h.botMessages(ahead.ID); len(msgs) != 2 || !strings.Contains(msgs[1].Text, "14:00") {
		t.Errorf("after 13:00: %d messages, want the late one and the hour-before:\n%s", len(msgs), h.transcript(ahead.ID))
	}
}

func TestReminders_BlockedPersonSkipped(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	u := h.person(2501, storage.Russian)
	h.book(u.ID, storage.Russian, "karasai", "career", at(t, 2, 11))
	h.book(u.ID, storage.Russian, "kegen", "legal", at(t, 2, 15))
	h.srv.Block(u.ID)
	h.sweepAt(clock, at(t, 1, 18))
	if got, _ := h.db.User(ctx, u.ID); got.Active {
		t.Fatal("a 403 did not mark the person inactive")
	}
	tries := 0
	for _, c := range h.srv.Calls("sendMessage") {
		if c.Params.Get("chat_id") == "2501" {
			tries++
		}
	}
	if tries != 1 {
		t.Errorf("%d sends to a person who blocked the bot, want 1 (the one that got 403)", tries)
	}
	h.sweepAt(clock, at(t, 2, 14))
	for _, c := range h.srv.Calls("sendMessage") {
		if c.Params.Get("chat_id") == "2501" {
			tries--
		}
	}
	if tries != 0 {
		t.Error("later reminders were tried after the 403")
	}
}

func TestReminders_EventRegistration(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	e, err := h.db.CreateEvent(ctx, storage.Event{
		CenterID: "karasai", TitleKK: "Түйіндеме жазу тренингі", TitleRU: "Тренинг: как написать резюме",
		Start: at(t, 3, 15), Minutes: 90, Capacity: 10, CreatedAt: h.bot.now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	kept := h.person(2601, storage.Kazakh)
	left := h.person(2602, storage.Russian)
	for _, u := range []int64{kept.ID, left.ID} {
		if _, _, err := h.db.Register(ctx, e.ID, u, h.bot.now(), h.bot.cfg.Reminders); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := h.db.Unregister(ctx, e.ID, left.ID, h.bot.now(), h.bot.cfg.Reminders); err != nil {
		t.Fatal(err)
	}
	h.sweepAt(clock, at2(t, 2, 17, 59))
	if n := len(h.botMessages(kept.ID)); n != 0 {
		t.Fatalf("event reminder a minute early:\n%s", h.transcript(kept.ID))
	}
	h.sweepAt(clock, at(t, 2, 18))
	rem := h.waitText(kept.ID, plain(firstLine(kk(locales.EventReminderDayBefore))), "Түйіндеме жазу тренингі", "15:00", "3 желтоқсан", kk(locales.AskTheCenter))
	if msgs := h.botMessages(left.ID); len(msgs) != 0 {
		t.Errorf("a person who gave the place up was reminded: %q", msgs[0].Text)
	}
	// The button gives the place up; the hour-before then never comes.
	h.press(kept, rem, kk(locales.ButtonUnregister))
	eventually(t, func() bool {
		_, err := h.db.Registration(ctx, e.ID, kept.ID)
		return err != nil
	})
	before := len(h.botMessages(kept.ID))
	h.sweepAt(clock, at(t, 3, 14))
	if n := len(h.botMessages(kept.ID)); n != before {
		t.Errorf("hour-before sent after unregistering:\n%s", h.transcript(kept.ID))
	}
}

func TestReminders_CancelledEventSendsNothing(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	e, err := h.db.CreateEvent(ctx, storage.Event{
		CenterID: "karasai", TitleKK: "Кездесу", TitleRU: "Встреча", Start: at(t, 3, 15), Minutes: 60, Capacity: 10, CreatedAt: h.bot.now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	u := h.person(2701, storage.Russian)
	if _, _, err := h.db.Register(ctx, e.ID, u.ID, h.bot.now(), h.bot.cfg.Reminders); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.db.CancelEvent(ctx, e.ID, h.bot.now()); err != nil {
		t.Fatal(err)
	}
	h.sweepAt(clock, at(t, 2, 18))
	h.sweepAt(clock, at(t, 3, 14))
	// The cancellation notice, and no reminder after it.
	msgs := h.botMessages(u.ID)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, stem("ru", locales.EventCancelledNotice)) {
		t.Errorf("after cancelling, want only the cancellation notice:\n%s", h.transcript(u.ID))
	}
}

// notifierFunc lets a test act at the moment the sweep hands a reminder
// over, between its claim and its send.
type notifierFunc func(ctx context.Context, r storage.Reminder) error

func (f notifierFunc) Remind(ctx context.Context, r storage.Reminder) error { return f(ctx, r) }

// TestReminders_MovedBetweenClaimAndSend: the sweep has claimed the
// day-before reminder when the person reschedules. The claimed one must not
// go out (it would say "tomorrow" of a date that is not tomorrow); the new
// time's own reminder comes instead.
func TestReminders_MovedBetweenClaimAndSend(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	u := h.person(2801, storage.Russian)
	bk := h.book(u.ID, storage.Russian, "karasai", "career", at(t, 2, 11))
	clock.Set(at(t, 1, 18))
	reschedule := notifierFunc(func(ctx context.Context, r storage.Reminder) error {
		now := h.bot.now()
		_, _, err := h.db.Reschedule(ctx, bk.ID, at(t, 4, 14), at(t, 4, 15), storage.BookRules{
			Capacity: 2, MaxActive: 3, Now: now, NotBefore: now.Add(time.Hour), Reminders: h.bot.cfg.Reminders,
		})
		if err != nil {
			t.Fatal(err)
		}
		return h.bot.Remind(ctx, r)
	})
	if err := scheduler.NewReminders(h.db, reschedule, slogJSON(h.logs)).Sweep(ctx, at(t, 1, 18)); err != nil {
		t.Fatal(err)
	}
	if msgs := h.botMessages(u.ID); len(msgs) != 0 {
		t.Fatalf("the reminder of the old time went out after the move: %q", msgs[0].Text)
	}
	if !strings.Contains(h.logs.String(), "what it is about changed") {
		t.Error("the dropped reminder is not logged")
	}
	h.sweepAt(clock, at(t, 3, 18))
	msgs := h.botMessages(u.ID)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "4 декабря") || !strings.Contains(msgs[0].Text, "14:00") {
		t.Errorf("want the new time's day-before reminder only:\n%s", h.transcript(u.ID))
	}
}

// TestReminders_EventMovedBetweenClaimAndSend: likewise for an event whose
// time staff change after the sweep claimed its reminder; the person hears
// of the change from the notice instead.
func TestReminders_EventMovedBetweenClaimAndSend(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	e := h.addEvent("karasai", "Кездесу", at(t, 2, 15), 10)
	u := h.person(2802, storage.Kazakh)
	if _, _, err := h.db.Register(ctx, e.ID, u.ID, h.bot.now(), h.bot.cfg.Reminders); err != nil {
		t.Fatal(err)
	}
	clock.Set(at(t, 1, 18))
	move := notifierFunc(func(ctx context.Context, r storage.Reminder) error {
		if r.Kind == storage.ReminderEventDayBefore {
			_, _, err := h.db.UpdateEvent(ctx, e.ID, func(e *storage.Event) error { e.Start = at(t, 5, 15); return nil }, h.bot.cfg.Reminders, h.bot.now())
			if err != nil {
				t.Fatal(err)
			}
		}
		return h.bot.Remind(ctx, r)
	})
	if err := scheduler.NewReminders(h.db, move, slogJSON(h.logs)).Sweep(ctx, at(t, 1, 18)); err != nil {
		t.Fatal(err)
	}
	if n := countText(h, u.ID, plain(firstLine(kk(locales.EventReminderDayBefore)))); n != 0 {
		t.Fatalf("the reminder of the old time went out after the move:\n%s", h.transcript(u.ID))
	}
	h.sweepAt(clock, at2(t, 1, 18, 1))
	h.waitText(u.ID, stem("kk", locales.EventChangedNotice), "5 желтоқсан")
}

// TestReminders_ShutdownPutsBackUnsent: at 18:00 every day-before reminder
// falls due, and a deploy stops the sweep part-way. The reminders it had
// claimed but not tried go back to the database; after the restart each
// person gets exactly one reminder.
func TestReminders_ShutdownPutsBackUnsent(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	const people, before = 24, 10
	var chats []int64
	for i := range people {
		u := h.person(int64(3000+i), storage.Russian)
		h.book(u.ID, storage.Russian, "karasai", "career", at(t, 2, 9+i/2))
		chats = append(chats, u.ID)
	}
	clock.Set(at(t, 1, 18))
	ctx, shutdown := context.WithCancel(context.Background())
	defer shutdown()
	tried := 0
	stopping := notifierFunc(func(ctx context.Context, r storage.Reminder) error {
		tried++
		err := h.bot.Remind(ctx, r)
		if tried == before {
			shutdown() // the signal arrives while this one is being sent
		}
		return err
	})
	if err := scheduler.NewReminders(h.db, stopping, slogJSON(h.logs)).Sweep(ctx, at(t, 1, 18)); err != nil {
		t.Fatalf("a sweep stopped at shutdown returned %v", err)
	}
	if tried != before {
		t.Fatalf("the sweep tried %d reminders after the shutdown began, want it to stop at %d", tried, before)
	}
	h.restart()
	h.sweepAt(clock, at2(t, 1, 18, 1))
	h.sweepAt(clock, at2(t, 1, 18, 2))
	for _, id := range chats {
		if n := countText(h, id, plain(firstLine(ru(locales.ReminderDayBefore)))); n != 1 {
			t.Errorf("chat %d: %d day-before reminders, want exactly 1:\n%s", id, n, h.transcript(id))
		}
	}
}

// TestRemind_StoppedBeforeTheSendSaysNotSent: a shutdown that lands while a
// reminder is being prepared (its booking read, before the message) says
// "not sent", so the sweep keeps it for the next process instead of
// counting it failed and losing it.
func TestRemind_StoppedBeforeTheSendSaysNotSent(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t)
	u := h.person(3401, storage.Kazakh)
	bk := h.book(u.ID, storage.Kazakh, "karasai", "career", at(t, 2, 11))
	rs, err := h.db.RemindersOf(context.Background(), bk.ID)
	if err != nil || len(rs) == 0 {
		t.Fatalf("reminders of the booking = %v, %v", rs, err)
	}
	before := len(h.srv.Transcript(u.ID))
	ctx, stop := context.WithCancel(context.Background())
	stop()
	if err := h.bot.Remind(ctx, rs[0]); !errors.Is(err, storage.ErrNotSent) || !errors.Is(err, context.Canceled) {
		t.Errorf("Remind after the stop = %v, want a not-sent error wrapping the stop", err)
	}
	if got := len(h.srv.Transcript(u.ID)); got != before {
		t.Errorf("the person got %d new messages, want none", got-before)
	}
}

// holdFirstMessage holds the first message the bot sends to chatID on the
// wire: entered closes when the fake Bot API has it, and it is answered
// once the test closes release.
func holdFirstMessage(h *harness, chatID int64) (entered, release chan struct{}) {
	entered, release = make(chan struct{}), make(chan struct{})
	var held atomic.Bool
	h.srv.SetAfterCall(func(ctx context.Context, c telegramtest.Call) bool {
		if c.Method == "sendMessage" && c.Params.Get("chat_id") == strconv.FormatInt(chatID, 10) && held.CompareAndSwap(false, true) {
			close(entered)
			<-release
		}
		return false
	})
	return entered, release
}

// assertUncertainToldOnce checks that each of chats got exactly one
// day-before reminder, and that the next morning's staff digest lists the
// booking at slot alone as one whose reminder may not have arrived.
func assertUncertainToldOnce(t *testing.T, h *harness, clock *fakeClock, chats []int64, slot string) {
	t.Helper()
	for _, id := range chats {
		if n := countText(h, id, plain(firstLine(ru(locales.ReminderDayBefore)))); n != 1 {
			t.Errorf("chat %d: %d day-before reminders, want exactly 1:\n%s", id, n, h.transcript(id))
		}
	}
	clock.Set(at2(t, 2, 8, 30))
	if err := h.bot.StaffDigest(context.Background(), at2(t, 2, 8, 30)); err != nil {
		t.Fatal(err)
	}
	digest := h.waitText(testStaffChat, plain(ru(locales.StaffDigestUncertain)))
	_, call, _ := strings.Cut(digest.Text, plain(ru(locales.StaffDigestUncertain)))
	if !strings.Contains(call, slot) || strings.Count(call, "\n") != 1 {
		t.Errorf("the digest's call list is %q, want the %s booking alone", call, slot)
	}
}
