package bot

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"jastar/bot/telegramtest"
	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/boltdb"
	"jastar/storage/storagetest"
)

// seedBooking stores a booking as if made at made, bypassing the dialogue,
// with the given status.
func seedBooking(t *testing.T, h *harness, bk storage.Booking, made time.Time, status storage.BookingStatus) storage.Booking {
	t.Helper()
	ctx := context.Background()
	if bk.End.IsZero() {
		bk.End = bk.Start.Add(time.Hour)
	}
	got, err := h.db.Book(ctx, bk, storage.BookRules{Capacity: 100, Now: made, NotBefore: made})
	if err != nil {
		t.Fatal(err)
	}
	switch status {
	case storage.BookingAttended, storage.BookingNoShow:
		// Staff mark a consultation once it has begun, not before.
		got, err = h.db.SetStatus(ctx, got.ID, status, laterOf(made, got.Start))
	case storage.BookingCancelled:
		got, err = h.db.Cancel(ctx, got.ID, "staff_closed", made)
	}
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func TestForget_LeavesNothingBehind(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t, withAdmin(0))
	ctx := context.Background()
	const name, username, phone = "Жанаргүл Zq9", "zhanargul_zq9", "+77015550199"
	u := telegramtest.User{ID: 4242, FirstName: name, Username: username, LanguageCode: "ru"}
	l := tl("ru")

	// A future booking through the dialogue, and a past one already attended.
	sum := h.toSummary(u, "ru", 2, 11, phone)
	h.press(u, sum, plain(l.T(locales.BookConfirm)))
	h.waitMessage(u.ID, sum.ID, plain(firstLine(l.T(locales.BookConfirmed))))
	h.waitText(testStaffChat, name)
	if got := counterValue(t, h, "jastar_bookings_total", map[string]string{"type": "career", "center": "karasai"}); got != 1 {
		t.Errorf("jastar_bookings_total{career,karasai} = %v, want 1", got)
	}
	past := seedBooking(t, h, storage.Booking{ChatID: u.ID, Name: name, Username: username, Phone: phone, Lang: storage.Russian,
		TypeID: "legal", CenterID: "karasai", Start: time.Date(2026, 11, 20, 11, 0, 0, 0, almaty(t))},
		time.Date(2026, 11, 10, 9, 0, 0, 0, almaty(t)), storage.BookingAttended)

	// A place at an event with one seat, and someone waiting for it.
	ev := h.addEvent("karasai", "Workshop Zq", at(t, 5, 15), 1)
	if _, _, err := h.db.Register(ctx, ev.ID, u.ID, at(t, 1, 10), h.bot.cfg.Reminders); err != nil {
		t.Fatal(err)
	}
	waiting := telegramtest.User{ID: 4244, FirstName: "Waiting", LanguageCode: "ru"}
	h.srv.SendText(waiting, "/start")
	if reg, _, err := h.db.Register(ctx, ev.ID, waiting.ID, at(t, 1, 10), h.bot.cfg.Reminders); err != nil || reg.Status != storage.Waitlisted {
		t.Fatalf("second registration = %+v, %v; want waitlisted", reg, err)
	}

	// A rating with the person's own words on the past consultation.
	const comment = "Консультант Zq9 помог"
	if _, err := h.db.SaveRating(ctx, storage.Feedback{BookingID: past.ID, ChatID: u.ID, TypeID: "legal", CenterID: "karasai", Rating: 4, At: at(t, 1, 9)}); err != nil {
		t.Fatal(err)
	}
	if err := h.db.SaveFeedbackComment(ctx, past.ID, comment); err != nil {
		t.Fatal(err)
	}
	// A subscription, and an announcement received through it.
	if err := h.db.SaveSubscription(ctx, storage.Subscription{ChatID: u.ID, Topics: []storage.Topic{storage.TopicEvents}, Lang: storage.Russian, Active: true, UpdatedAt: at(t, 1, 9)}); err != nil {
		t.Fatal(err)
	}
	report := h.confirmAndWait(h.compose(version{text: "Тренинг сенбіде"}, version{text: "Тренинг в субботу"},
		ru(locales.TopicEvents), ru(locales.AllDistricts), ru(locales.BroadcastBothLanguages)))
	if !strings.Contains(report.Text, "Отправлено: 1") {
		t.Fatalf("broadcast report = %q, want 1 sent", report.Text)
	}
	h.waitText(u.ID, "Тренинг в субботу")
	bc := lastBroadcast(t, h)

	// /mydata shows all of it.
	h.srv.SendText(u, "/mydata")
	m := h.waitText(u.ID, plain(l.T(locales.MyDataHeader)))
	for _, want := range []string{name, "@" + username, phone, "Workshop Zq", l.T(locales.StatusRegistered), l.T(locales.LanguageNameRU), plain(l.N(locales.MyDataBookingsHeader, 2)),
		l.T(locales.StatusAttended), l.T(locales.StatusBooked),
		l.T(locales.MyDataSubscriptionOn, locales.Data{"Topic": l.T(locales.TopicEvents), "District": l.T(locales.AllDistricts)}),
		plain(l.N(locales.MyDataFeedbackHeader, 1)), l.T(locales.MyDataFeedbackComment, locales.Data{"Comment": comment}),
		l.N(locales.MyDataBroadcastsHeader, 1),
		l.T(locales.MyDataBroadcastLine, locales.Data{"Date": l.DateWithYear(bc.CreatedAt.In(almaty(t))), "Text": "Тренинг в субботу", "Status": l.T(locales.DeliverySent)})} {
		if !strings.Contains(m.Text, plain(want)) {
			t.Errorf("/mydata lacks %q:\n%s", want, m.Text)
		}
	}

	// /forget asks first; "no" keeps everything.
	h.srv.SendText(u, "/forget")
	ask := h.waitText(u.ID, plain(firstLine(l.T(locales.ForgetAsk))), plain(strings.TrimSpace(l.N(locales.ForgetUpcoming, 1))))
	h.waitAnswered(h.press(u, ask, l.T(locales.ForgetNo)))
	h.waitMessage(u.ID, ask.ID, l.T(locales.ForgetKept))
	if _, err := h.db.User(ctx, u.ID); err != nil {
		t.Fatalf("user after \"no\": %v", err)
	}
	// A forged confirmation from long ago is refused.
	id, _ := h.srv.PressButton(u, u.ID, ask.ID, "fgy:"+tg.B36(uint64(at(t, 1, 9).Unix())))
	if got := h.waitAnswered(id); got != l.T(locales.ForgetStale) {
		t.Errorf("stale confirmation answered %q", got)
	}

	h.srv.SendText(u, "/forget")
	ask = h.waitText(u.ID, plain(firstLine(l.T(locales.ForgetAsk))))
	h.press(u, ask, l.T(locales.ForgetYes))
	h.waitMessage(u.ID, ask.ID, plain(firstLine(l.T(locales.ForgetDone))), plain(strings.TrimSpace(l.N(locales.ForgetCancelledBookings, 1))))
	// Staff were told through the ordinary cancellation.
	h.waitText(testStaffChat, plain(firstLine(ru(locales.StaffCancelledByPerson))))

	if _, err := h.db.User(ctx, u.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("user after forget: %v, want not found", err)
	}
	// The person waiting moved up to the freed place and was told.
	if reg, err := h.db.Registration(ctx, ev.ID, waiting.ID); err != nil || reg.Status != storage.Registered {
		t.Errorf("waiting person after forget: %+v, %v; want registered", reg, err)
	}
	if _, err := h.db.Registration(ctx, ev.ID, u.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("registration after forget: %v, want not found", err)
	}
	h.waitText(waiting.ID, "Workshop Zq")
	if n, _ := h.db.SlotCounts(ctx, "karasai", "career", at(t, 2, 0), at(t, 3, 0)); len(n) != 0 {
		t.Errorf("seat still taken after forget: %v", n)
	}
	if _, err := h.db.Subscription(ctx, u.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("subscription after forget: %v, want not found", err)
	}
	if n, err := h.db.CountAudience(ctx, storage.Audience{}); err != nil || n != 0 {
		t.Errorf("audience after forget = %d, %v; want nobody", n, err)
	}
	if got, err := h.db.Broadcast(ctx, bc.ID); err != nil || got.Counts.Sent != 1 || got.Total != 1 {
		t.Errorf("broadcast after forget = %+v, %v; want its count of 1 sent kept", got, err)
	}
	if f, err := h.db.Feedback(ctx, past.ID); err != nil || f.Rating != 4 || f.ChatID != 0 || f.Comment != "" {
		t.Errorf("feedback after forget = %+v, %v; want rating 4 without author or comment", f, err)
	}
	kept, err := h.db.Booking(ctx, past.ID)
	if err != nil || kept.ChatID != 0 || kept.Name != "" || kept.Phone != "" || kept.Status != storage.BookingAttended || kept.TypeID != "legal" {
		t.Errorf("past booking after forget = %+v, %v; want anonymised, attended, legal", kept, err)
	}
	h.stop()
	if err := h.db.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(h.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{name, "Жанаргүл", username, phone, phone[1:], comment} {
		if bytes.Contains(file, []byte(secret)) {
			t.Errorf("the database file still holds %q", secret)
		}
	}
	// Every key that names a chat (users, subscriptions and their index,
	// deliveries and theirs...) holds it as 8 bytes with the sign bit
	// flipped: none of them may be left.
	var key [8]byte
	binary.BigEndian.PutUint64(key[:], uint64(u.ID)^(1<<63))
	if bytes.Contains(file, key[:]) {
		t.Errorf("the database file still holds the chat id %d in a key", u.ID)
	}
	if strings.Contains(h.logs.String(), "Жанаргүл") || strings.Contains(h.logs.String(), phone[1:]) {
		t.Error("the log holds the person's name or phone")
	}
}

// seedDelivery stores a broadcast created at created, addressed to the
// active subscribers (chatID among them), and settles chatID's delivery as
// state, bypassing the sender.
func seedDelivery(t *testing.T, h *harness, chatID int64, text string, created time.Time, state storage.DeliveryState) {
	t.Helper()
	ctx := context.Background()
	bc, err := h.db.CreateBroadcast(ctx, storage.Broadcast{
		AdminChatID: testAdmin, Audience: storage.Audience{Topic: storage.TopicEvents}, CreatedAt: created,
		Versions: map[storage.Lang]storage.Version{storage.Kazakh: {Text: text}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, done, err := h.db.AddRecipients(ctx, bc.ID, 100); err != nil || !done {
		t.Fatalf("add recipients: done %v, %v", done, err)
	}
	if state == storage.DeliveryPending {
		return
	}
	if ok, err := h.db.ClaimDelivery(ctx, bc.ID, chatID); err != nil || !ok {
		t.Fatalf("claim: %v, %v", ok, err)
	}
	if err := h.db.SettleDelivery(ctx, bc.ID, chatID, state); err != nil {
		t.Fatal(err)
	}
}

// /mydata counts the broadcasts addressed to the person and shows the
// latest few, since /forget deletes their delivery records too.
func TestMyData_Broadcasts(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t)
	ctx := context.Background()
	u := h.person(4401, storage.Kazakh)
	if err := h.db.SaveSubscription(ctx, storage.Subscription{ChatID: u.ID, Topics: []storage.Topic{storage.TopicEvents}, Lang: storage.Kazakh, Active: true, UpdatedAt: at(t, 1, 9)}); err != nil {
		t.Fatal(err)
	}
	long := "Жастар үйінде сенбі күні үлкен тренинг өтеді, бәріңізді шақырамыз!\nТолығырақ сайтта"
	seedDelivery(t, h, u.ID, "Бірінші хабар", at(t, 1, 9), storage.DeliverySent)
	seedDelivery(t, h, u.ID, "Екінші хабар", at(t, 2, 9), storage.DeliverySent)
	seedDelivery(t, h, u.ID, long, at(t, 3, 9), storage.DeliverySent)
	seedDelivery(t, h, u.ID, "Жеткізілмеген", at(t, 4, 9), storage.DeliveryFailed)
	seedDelivery(t, h, u.ID, "Кезекте", at(t, 5, 9), storage.DeliveryPending)

	h.srv.SendText(u, "/mydata")
	m := h.waitText(u.ID, plain(kk(locales.MyDataHeader)))
	l := tl("kk")
	line := func(d int, text, status string) string {
		return l.T(locales.MyDataBroadcastLine, locales.Data{"Date": l.DateWithYear(at(t, d, 9)), "Text": text, "Status": l.T(status)})
	}
	want := []string{
		plain(l.N(locales.MyDataBroadcastsHeader, 5)),
		line(5, "Кезекте", locales.DeliveryPending),
		line(4, "Жеткізілмеген", locales.DeliveryFailed),
		line(3, string([]rune(long)[:40])+"…", locales.DeliverySent),
		l.N(locales.MyDataBroadcastsOlder, 2),
	}
	if !strings.Contains(m.Text, strings.Join(want, "\n")) {
		t.Errorf("/mydata lacks the broadcasts, newest first:\n%s\nin:\n%s", strings.Join(want, "\n"), m.Text)
	}
	for _, old := range []string{"Бірінші хабар", "Екінші хабар"} {
		if strings.Contains(m.Text, old) {
			t.Errorf("/mydata lists %q, older than the last %d", old, broadcastsShown)
		}
	}
}

func TestMyData_Kazakh(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t)
	u := telegramtest.User{ID: 4343, FirstName: "Дәулет", LanguageCode: "kk"}
	h.srv.SendText(u, "/mydata")
	m := h.waitText(u.ID, plain(kk(locales.MyDataHeader)), "Дәулет", plain(kk(locales.MyDataNoBookings)), plain(kk(locales.MyDataNoPhone)))
	if !strings.Contains(m.Text, kk(locales.LanguageNameKK)) {
		t.Errorf("/mydata does not name the language:\n%s", m.Text)
	}
}

// counterValue reads a counter from the bot's registry by its labels.
func counterValue(t *testing.T, h *harness, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := h.bot.metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// TestForget_ItsOwnUpdateNeverEntersTheInbox: the press that confirms
// /forget carries the person's name, and the transport stores a polled
// batch while it is being handled, so the batch may be stored after Forget
// erased the person and compacted. The press is marked handled before
// Forget runs, so the inbox never takes it: no copy of the name waits
// there for the handler to end, to be deleted with no compaction owed.
func TestForget_ItsOwnUpdateNeverEntersTheInbox(t *testing.T) {
	t.Parallel()
	var store *storagetest.Failing
	h, _ := bookingHarness(t, withStore(func(db *boltdb.DB) Store { store = storagetest.Wrap(t, db); return store }))
	const name = "Зарина Zq7"
	u := telegramtest.User{ID: 4251, FirstName: name, LanguageCode: "ru"}
	l := tl("ru")
	h.srv.SendText(u, "/forget")
	ask := h.waitText(u.ID, plain(firstLine(l.T(locales.ForgetAsk))))
	eventually(t, func() bool { return h.srv.PendingUpdates() == 0 }) // the /forget's batch is stored

	// The press's batch is held out of the store, and the handler's last
	// edit on the wire, after Forget.
	stored, releaseStore := store.Stall("Accept", store.Calls("Accept")+1)
	edited, releaseEdit := make(chan struct{}), make(chan struct{})
	var held atomic.Bool
	h.srv.SetAfterCall(func(ctx context.Context, c telegramtest.Call) bool {
		if c.Method == "editMessageText" && c.Params.Get("chat_id") == strconv.FormatInt(u.ID, 10) && held.CompareAndSwap(false, true) {
			close(edited)
			<-releaseEdit
		}
		return false
	})
	h.press(u, ask, l.T(locales.ForgetYes))
	waitClosed(t, stored, "the press's batch to be stored")
	waitClosed(t, edited, "the handler to edit after Forget")
	releaseStore()
	eventually(t, func() bool { return h.srv.PendingUpdates() == 0 }) // stored and confirmed
	pending, err := h.db.Pending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pending {
		if strings.Contains(string(p.JSON), "Zq7") {
			t.Errorf("update %d, with the forgotten person's name, entered the inbox after Forget", p.ID)
		}
	}
	close(releaseEdit)
	h.waitMessage(u.ID, ask.ID, plain(firstLine(l.T(locales.ForgetDone, locales.Data{"Details": ""}))))
}
