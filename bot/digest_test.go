package bot

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"jastar/locales"
	"jastar/scheduler"
	"jastar/storage"
	"jastar/storage/catalog"
)

const (
	karasaiChat = -1001000000001
	kegenChat   = -1001000000002
)

// twoChatCatalog is the default catalog with karasai and kegen each
// reporting to its own staff group.
func twoChatCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	data := catalog.DefaultTOML()
	for center, chat := range map[string]string{"karasai": "-1001000000001", "kegen": "-1001000000002"} {
		block := bytes.Index(data, []byte("[[centers]]\nid = \""+center+"\""))
		if block < 0 {
			t.Fatalf("center %s not in the default catalog", center)
		}
		rel := bytes.Index(data[block:], []byte("staff_chat_id = 0"))
		if rel < 0 {
			t.Fatalf("center %s has no staff_chat_id", center)
		}
		at := block + rel
		data = append(data[:at:at], append([]byte("staff_chat_id = "+chat), data[at+len("staff_chat_id = 0"):]...)...)
	}
	cat, err := catalog.Parse("two-chats.toml", data, almaty(t))
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func TestStaffDigest_PerCenterChat(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t, withCatalog(twoChatCatalog(t)), withConfig(func(c *Config) { c.StaffChatID = 0 }))
	ctx := context.Background()
	h.srv.AddGroup(karasaiChat, "Karasai staff")
	h.srv.AddGroup(kegenChat, "Kegen staff")
	// Karasai: two today (one later cancelled), one on the 3rd whose
	// notification never arrived. Kegen: nothing today.
	clock.Set(at2(t, 1, 7, 0))
	today := h.book(3201, storage.Kazakh, "karasai", "career", at(t, 1, 11))
	cancelled := h.book(3202, storage.Russian, "karasai", "career", at(t, 1, 14))
	if _, err := h.db.Cancel(ctx, cancelled.ID, cancelByPerson, h.bot.now()); err != nil {
		t.Fatal(err)
	}
	later := h.book(3203, storage.Russian, "karasai", "career", at(t, 3, 15))
	if cur, err := h.db.Booking(ctx, cancelled.ID); err != nil {
		t.Fatal(err)
	} else if _, err := h.db.MarkStaffNotified(ctx, cur); err != nil {
		t.Fatal(err)
	}

	if err := h.bot.StaffDigest(ctx, at2(t, 1, 8, 30)); err != nil {
		t.Fatal(err)
	}
	karasai := h.waitText(karasaiChat, plain(firstLine(ru(locales.StaffDigestHeader))))
	for _, want := range []string{"1 декабря", "11:00", "Ерлан @erlan", plain(ru(locales.StaffDigestUnnotified)), "3 декабря 15:00"} {
		if !strings.Contains(karasai.Text, want) {
			t.Errorf("karasai digest lacks %q:\n%s", want, karasai.Text)
		}
	}
	if strings.Contains(karasai.Text, "14:00") {
		t.Errorf("karasai digest lists the cancelled booking:\n%s", karasai.Text)
	}
	kegen := h.waitText(kegenChat, "Доброе утро! На сегодня")
	if !strings.Contains(kegen.Text, "1 декабря") || len(h.botMessages(kegenChat)) != 1 {
		t.Errorf("kegen digest: %s", h.transcript(kegenChat))
	}
	for _, id := range []uint64{today.ID, later.ID} {
		if got, _ := h.db.Booking(ctx, id); !got.StaffNotified {
			t.Errorf("booking %d not marked notified after the digest", id)
		}
	}
	// The next morning the 3rd's booking is no longer "not reported".
	if err := h.bot.StaffDigest(ctx, at2(t, 2, 8, 30)); err != nil {
		t.Fatal(err)
	}
	msgs := h.botMessages(karasaiChat)
	last := msgs[len(msgs)-1]
	if !strings.Contains(last.Text, "Доброе утро! На сегодня") || strings.Contains(last.Text, "15:00") {
		t.Errorf("second digest = %q", last.Text)
	}
}

func TestStaffDigest_FailedChatIsReportedAndRetriedTomorrow(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t, withCatalog(twoChatCatalog(t)), withConfig(func(c *Config) { c.StaffChatID = 0 }))
	ctx := context.Background()
	h.srv.AddGroup(kegenChat, "Kegen staff")
	// The karasai group does not exist: the bot was removed from it.
	later := h.book(3301, storage.Russian, "karasai", "career", at(t, 3, 15))
	err := h.bot.StaffDigest(ctx, at2(t, 2, 8, 30))
	if err == nil {
		t.Fatal("a digest no chat received reported success")
	}
	h.waitText(kegenChat, "Доброе утро! На сегодня")
	if got, _ := h.db.Booking(ctx, later.ID); got.StaffNotified {
		t.Error("booking marked notified although its chat got nothing")
	}
}

// subscribers is a stand-in for the subscription store.
type subscribers []storage.User

func (s subscribers) EventSubscribers(ctx context.Context, fn func(chatID int64, lang, districtID string) error) error {
	for _, u := range s {
		if err := fn(u.ChatID, string(u.Lang), ""); err != nil {
			return err
		}
	}
	return nil
}

func TestWeeklyDigest_ComingWeekInEachLanguage(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t)
	ctx := context.Background()
	for _, e := range []storage.Event{
		{CenterID: "karasai", TitleKK: "Түйіндеме жазу", TitleRU: "Как написать резюме", Start: at(t, 3, 15)},
		{CenterID: "kegen", TitleKK: "Жастар форумы", TitleRU: "Молодёжный форум", Start: at(t, 6, 11)},
		{CenterID: "karasai", TitleKK: "Келесі апта", TitleRU: "Следующая неделя", Start: at(t, 9, 11)},
	} {
		e.Minutes, e.Capacity, e.CreatedAt = 60, 10, h.bot.now()
		if _, err := h.db.CreateEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	kkUser := h.person(4001, storage.Kazakh)
	ruUser := h.person(4002, storage.Russian)
	blocked := h.person(4003, storage.Russian)
	if _, err := h.db.UpdateUser(ctx, blocked.ID, func(u *storage.User) error { u.Active = false; return nil }); err != nil {
		t.Fatal(err)
	}
	subs := subscribers{{ChatID: kkUser.ID, Lang: storage.Kazakh}, {ChatID: ruUser.ID, Lang: storage.Russian}, {ChatID: blocked.ID, Lang: storage.Russian}}
	// Monday 7 December would be the cron day; the test runs it on the 1st.
	if err := scheduler.WeeklyDigest(subs, h.bot, slogJSON(h.logs))(ctx, at(t, 1, 10)); err != nil {
		t.Fatal(err)
	}
	kkMsg := h.waitText(kkUser.ID, plain(kk(locales.WeeklyEventsHeader)), "Түйіндеме жазу", "Жастар форумы", "3 желтоқсан")
	ruMsg := h.waitText(ruUser.ID, plain(ru(locales.WeeklyEventsHeader)), "Как написать резюме", "Молодёжный форум", "6 декабря")
	for _, m := range []string{kkMsg.Text, ruMsg.Text} {
		if strings.Contains(m, "Келесі апта") || strings.Contains(m, "Следующая неделя") {
			t.Errorf("digest lists an event beyond the week:\n%s", m)
		}
	}
	if len(ruMsg.InlineKeyboard) != 1 || !strings.HasPrefix(ruMsg.InlineKeyboard[0][0].CallbackData, cbEventList+":") {
		t.Errorf("digest keyboard = %+v", ruMsg.InlineKeyboard)
	}
	if msgs := h.botMessages(blocked.ID); len(msgs) != 0 {
		t.Errorf("a person who blocked the bot got the digest")
	}
	// A week without events: nobody gets an empty message.
	if err := scheduler.WeeklyDigest(subs, h.bot, slogJSON(h.logs))(ctx, at(t, 20, 10)); err != nil {
		t.Fatal(err)
	}
	if n := len(h.botMessages(kkUser.ID)); n != 1 {
		t.Errorf("%d messages after an empty week, want 1", n)
	}
}

// TestWeeklyDigest_SubscribersByDistrictOnMonday runs the job as main wires
// it (the store lists the subscribers) at the cron's Monday 10:00.
func TestWeeklyDigest_SubscribersByDistrictOnMonday(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	monday := at(t, 7, 10)
	clock.Set(monday)
	for _, e := range []storage.Event{
		{CenterID: "karasai", TitleKK: "Түйіндеме жазу", TitleRU: "Как написать резюме", Start: at(t, 9, 15)},
		{CenterID: "kegen", TitleKK: "Жастар форумы", TitleRU: "Молодёжный форум", Start: at(t, 10, 11)},
		{CenterID: "online", TitleKK: "Онлайн сұхбат", TitleRU: "Онлайн-собеседование", Start: at(t, 11, 17)},
		{CenterID: "karasai", TitleKK: "Келесі апта", TitleRU: "Следующая неделя", Start: at(t, 15, 11)},
	} {
		e.Minutes, e.Capacity, e.CreatedAt = 60, 10, monday
		if _, err := h.db.CreateEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	karasai := h.subscriber(5001, storage.Kazakh, "karasai", storage.TopicEvents)
	everywhere := h.subscriber(5002, storage.Russian, "", storage.TopicNews, storage.TopicEvents)
	gone := h.subscriber(5003, storage.Russian, "", storage.TopicEvents)
	if _, err := h.db.Unsubscribe(ctx, gone.ID, monday); err != nil {
		t.Fatal(err)
	}
	jobsOnly := h.subscriber(5004, storage.Kazakh, "", storage.TopicJobs)
	blocked := h.subscriber(5005, storage.Kazakh, "", storage.TopicEvents)
	h.srv.Block(blocked.ID)

	job := scheduler.WeeklyDigest(h.db, h.bot, slogJSON(h.logs))
	if err := job(ctx, monday); err != nil {
		t.Fatal(err)
	}

	kkMsg := h.waitText(karasai.ID, plain(kk(locales.WeeklyEventsDistrictHeader, locales.Data{"District": "Қарасай ауданы"})),
		"Түйіндеме жазу", "Онлайн сұхбат", "9 желтоқсан")
	ruMsg := h.waitText(everywhere.ID, plain(ru(locales.WeeklyEventsHeader)),
		"Как написать резюме", "Молодёжный форум", "Онлайн-собеседование")
	if strings.Contains(kkMsg.Text, "Жастар форумы") {
		t.Errorf("the karasai subscriber got kegen's event:\n%s", kkMsg.Text)
	}
	for _, m := range []string{kkMsg.Text, ruMsg.Text} {
		if strings.Contains(m, "Келесі апта") || strings.Contains(m, "Следующая неделя") {
			t.Errorf("digest lists an event beyond the week:\n%s", m)
		}
	}
	calls := h.srv.Calls("sendMessage")
	for chat, want := range map[int64]int{karasai.ID: 1, everywhere.ID: 1, gone.ID: 0, jobsOnly.ID: 0, blocked.ID: 1} {
		if n := countTo(calls, chat); n != want {
			t.Errorf("chat %d: %d sendMessage calls, want %d", chat, n, want)
		}
	}
	if len(calls) != 3 {
		t.Errorf("%d sendMessage calls in all, want 3 (two digests, one refused)", len(calls))
	}
	// The 403 told the bot: the blocked person is unsubscribed and the next
	// Monday's digest does not try them again.
	if s, err := h.db.Subscription(ctx, blocked.ID); err != nil || s.Active {
		t.Errorf("blocked person's subscription after the digest: %+v, %v", s, err)
	}
	if err := job(ctx, at(t, 14, 10)); err != nil {
		t.Fatal(err)
	}
	calls = h.srv.Calls("sendMessage")
	if n := countTo(calls, blocked.ID); n != 1 {
		t.Errorf("blocked person tried %d times in two weeks, want once", n)
	}
	// The 14th's week has only karasai's event of the 15th: both hear of it.
	h.waitText(karasai.ID, "Келесі апта")
	h.waitText(everywhere.ID, "Следующая неделя")
	if len(calls) != 5 {
		t.Errorf("%d sendMessage calls after two weeks, want 5", len(calls))
	}
}
