package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/telegramtest"
	"jastar/locales"
	"jastar/storage"
)

const adminID = 900

var admin = telegramtest.User{ID: adminID, FirstName: "Әкім", LanguageCode: "ru"}

// withAdmin makes adminID an admin and shows progress often, so tests see
// the edits without waiting seconds.
func withAdmin(rate float64) harnessOption {
	return withConfig(func(c *Config) {
		c.AdminIDs = []int64{adminID}
		c.BroadcastProgressEvery = 50 * time.Millisecond
		c.BroadcastRate = rate
	})
}

// subscriber registers someone who subscribed earlier: their chat on the
// fake, their user record and their subscription.
func (h *harness) subscriber(id int64, lang storage.Lang, district string, topics ...storage.Topic) telegramtest.User {
	h.t.Helper()
	u := telegramtest.User{ID: id, FirstName: fmt.Sprintf("U%d", id), LanguageCode: string(lang)}
	h.srv.AddPrivateChat(u)
	ctx := context.Background()
	now := time.Now()
	if err := h.db.SaveUser(ctx, storage.User{ChatID: id, Lang: lang, LangSet: true, Active: true, SubscriptionOffered: true, CreatedAt: now, UpdatedAt: now}); err != nil {
		h.t.Fatal(err)
	}
	s := storage.Subscription{ChatID: id, Topics: topics, DistrictID: district, Lang: lang, Active: len(topics) > 0, UpdatedAt: now}
	if err := h.db.SaveSubscription(ctx, s); err != nil {
		h.t.Fatal(err)
	}
	return u
}

// subscribers registers n subscribers to topic, with chat IDs from first.
func (h *harness) subscribers(n int, first int64, lang storage.Lang, topic storage.Topic) []int64 {
	h.t.Helper()
	var ids []int64
	for i := range int64(n) {
		ids = append(ids, h.subscriber(first+i, lang, "", topic).ID)
	}
	return ids
}

var pushedID = struct {
	sync.Mutex
	n int
}{n: 1_000_000}

// pushFormatted sends a message as Telegram delivers one the admin
// formatted in the app: plain text plus entities. A photoID makes it a
// photo with that text as caption; an album names the media group the
// photo belongs to.
func (h *harness) pushFormatted(from telegramtest.User, v version) {
	text, entities, photoID := v.text, v.entities, v.photoID
	h.t.Helper()
	pushedID.Lock()
	pushedID.n++
	id := pushedID.n
	pushedID.Unlock()
	m := map[string]any{
		"message_id": id,
		"from":       map[string]any{"id": from.ID, "is_bot": false, "first_name": from.FirstName, "language_code": from.LanguageCode},
		"chat":       map[string]any{"id": from.ID, "type": "private", "first_name": from.FirstName},
		"date":       time.Now().Unix(),
	}
	if photoID != "" {
		h.srv.AddFile(photoID, "poster.jpg", []byte("\xff\xd8\xff\xe0 jpeg"))
		m["photo"] = []map[string]any{
			{"file_id": photoID + "-small", "file_unique_id": "s", "width": 90, "height": 90},
			{"file_id": photoID, "file_unique_id": "b", "width": 1280, "height": 960},
		}
		m["caption"] = text
		m["caption_entities"] = entities
		if v.album != "" {
			m["media_group_id"] = v.album
		}
	} else {
		m["text"] = text
		m["entities"] = entities
	}
	raw, err := json.Marshal(map[string]any{"message": m})
	if err != nil {
		h.t.Fatal(err)
	}
	h.srv.PushUpdate(raw)
}

// version is what the admin sends for one language: text (with entities)
// or nothing to skip.
type version struct {
	text     string
	entities []tgbotapi.MessageEntity
	photoID  string
	album    string // media_group_id of a photo sent in an album
	skip     bool
}

// compose runs the admin's dialogue up to the confirmation and returns it.
// Labels are the Russian button texts of topic, district and language.
func (h *harness) compose(kkV, ruV version, topic, district, lang string) telegramtest.Message {
	h.t.Helper()
	h.srv.SendText(admin, "/broadcast")
	for _, step := range []struct {
		ask string
		v   version
	}{{locales.BroadcastAskKK, kkV}, {locales.BroadcastAskRU, ruV}} {
		q := h.waitText(adminID, firstLine(plain(ru(step.ask))))
		if step.v.skip {
			h.press(admin, q, ru(locales.BroadcastSkipButton))
		} else {
			h.pushFormatted(admin, step.v)
		}
	}
	q := h.waitText(adminID, ru(locales.BroadcastAskTopic))
	h.press(admin, q, topic)
	q = h.waitText(adminID, ru(locales.BroadcastAskDistrict))
	h.press(admin, q, district)
	q = h.waitText(adminID, ru(locales.BroadcastAskLang))
	h.press(admin, q, lang)
	return h.waitText(adminID, "Получателей")
}

// confirm presses send and waits for the final report of the broadcast.
func (h *harness) confirmAndWait(confirm telegramtest.Message) telegramtest.Message {
	h.t.Helper()
	before := h.reports()
	h.press(admin, confirm, ru(locales.BroadcastSendButton))
	return h.waitReport(before, 30*time.Second)
}

func isReport(m telegramtest.Message) bool { return strings.Contains(m.Text, "Всего:") }

// reports counts the broadcast reports the admin has.
func (h *harness) reports() int {
	n := 0
	for _, m := range h.botMessages(adminID) {
		if isReport(m) {
			n++
		}
	}
	return n
}

// waitReport waits for the report after the first `before` ones.
func (h *harness) waitReport(before int, timeout time.Duration) telegramtest.Message {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	seen := 0
	m, err := h.srv.WaitFor(ctx, adminID, func(m telegramtest.Message) bool {
		if !isReport(m) {
			return false
		}
		seen++
		return seen > before
	})
	if err != nil {
		h.t.Fatalf("no broadcast report: %v; transcript:\n%s", err, h.transcript(adminID))
	}
	return m
}

// received is the bot's messages in chat after the first n (which the
// test set up).
func (h *harness) received(chatID int64) []telegramtest.Message { return h.botMessages(chatID) }

func lastBroadcast(t *testing.T, h *harness) storage.Broadcast {
	t.Helper()
	list, err := h.db.RecentBroadcasts(context.Background(), 1)
	if err != nil || len(list) == 0 {
		t.Fatalf("recent broadcasts = %v, %v", list, err)
	}
	return list[0]
}

func TestBroadcast_NonAdminsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdmin(0))
	u := telegramtest.User{ID: 501, FirstName: "Нұрлан", LanguageCode: "kk"}
	for _, cmd := range []string{"/broadcast", "/broadcasts"} {
		before := len(h.botMessages(u.ID))
		h.srv.SendText(u, cmd)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		msgs, err := h.srv.WaitMessages(ctx, u.ID, before+1)
		cancel()
		if err != nil || msgs[len(msgs)-1].Text != plain(kk(locales.NotAllowed)) {
			t.Fatalf("%s by a non-admin: %v; transcript:\n%s", cmd, err, h.transcript(u.ID))
		}
	}
	// A forged pause button and a forged send button do nothing either.
	h.srv.SendText(u, "/help")
	m := h.waitText(u.ID, firstLine(plain(kk(locales.Help))))
	for _, data := range []string{"bcj:p:1", "brc:ok"} {
		id, _ := h.srv.PressButton(u, u.ID, m.ID, data)
		if got := h.waitAnswered(id); got != kk(locales.NotAllowed) {
			t.Errorf("forged %s answered %q, want not allowed", data, got)
		}
	}
	if list, _ := h.db.RecentBroadcasts(context.Background(), 10); len(list) != 0 {
		t.Errorf("a non-admin created broadcasts: %+v", list)
	}
}

func TestBroadcast_TopicAndDistrictTargetingWithPreview(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdmin(0))
	district := h.bot.cat().ListedDistricts()[0]
	other := h.bot.cat().ListedDistricts()[1]
	inDistrict := h.subscriber(11, storage.Kazakh, district.ID, storage.TopicEvents)
	anyDistrict := h.subscriber(12, storage.Russian, "", storage.TopicEvents, storage.TopicNews)
	wrongTopic := h.subscriber(13, storage.Kazakh, district.ID, storage.TopicJobs)
	wrongDistrict := h.subscriber(14, storage.Russian, other.ID, storage.TopicEvents)
	unsubscribed := h.subscriber(15, storage.Kazakh, "")

	confirm := h.compose(version{text: "Тренинг сенбіде"}, version{text: "Тренинг в субботу"},
		ru(locales.TopicEvents), district.Name.RU, ru(locales.BroadcastBothLanguages))
	if !strings.Contains(confirm.Text, "Получателей: 2.") {
		t.Errorf("confirmation = %q, want 2 recipients", confirm.Text)
	}
	// The preview: each version exactly as its readers get it, before the
	// confirmation.
	var previews []string
	for _, m := range h.botMessages(adminID) {
		if m.Text == "Тренинг сенбіде" || m.Text == "Тренинг в субботу" {
			previews = append(previews, m.Text)
		}
	}
	if strings.Join(previews, "|") != "Тренинг сенбіде|Тренинг в субботу" {
		t.Errorf("previews = %q, want the Kazakh then the Russian version", previews)
	}
	report := h.confirmAndWait(confirm)
	if !strings.Contains(report.Text, "Отправлено: 2") {
		t.Errorf("report = %q, want 2 sent", report.Text)
	}
	want := map[int64]string{inDistrict.ID: "Тренинг сенбіде", anyDistrict.ID: "Тренинг в субботу"}
	for _, u := range []telegramtest.User{inDistrict, anyDistrict, wrongTopic, wrongDistrict, unsubscribed} {
		got := h.received(u.ID)
		switch w, ok := want[u.ID]; {
		case ok && (len(got) != 1 || got[0].Text != w):
			t.Errorf("chat %d got %d messages %+v, want exactly %q", u.ID, len(got), got, w)
		case !ok && len(got) != 0:
			t.Errorf("chat %d is outside the audience but got %q", u.ID, got[0].Text)
		}
	}
}

func TestBroadcast_LanguageVersionsAndFallback(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdmin(0))
	kkReader := h.subscriber(21, storage.Kazakh, "", storage.TopicNews)
	ruReader := h.subscriber(22, storage.Russian, "", storage.TopicNews)

	t.Run("both versions", func(t *testing.T) {
		confirm := h.compose(version{text: "Жаңалық"}, version{text: "Новость"}, ru(locales.TopicNews), ru(locales.AllDistricts), ru(locales.BroadcastBothLanguages))
		h.confirmAndWait(confirm)
		if got := h.received(kkReader.ID); len(got) != 1 || got[0].Text != "Жаңалық" {
			t.Errorf("Kazakh reader got %+v", got)
		}
		if got := h.received(ruReader.ID); len(got) != 1 || got[0].Text != "Новость" {
			t.Errorf("Russian reader got %+v", got)
		}
	})
	t.Run("russian left out", func(t *testing.T) {
		before := len(h.botMessages(adminID))
		confirm := h.compose(version{text: "Тек қазақша"}, version{skip: true}, ru(locales.BroadcastAllTopics), ru(locales.AllDistricts), ru(locales.BroadcastBothLanguages))
		// Both previews show the Kazakh text: that is what Russian
		// readers will get.
		n := 0
		for _, m := range h.botMessages(adminID)[before:] {
			if m.Text == "Тек қазақша" {
				n++
			}
		}
		if n != 2 {
			t.Errorf("previews of the fallback = %d, want 2", n)
		}
		h.confirmAndWait(confirm)
		if got := h.received(ruReader.ID); len(got) != 2 || got[1].Text != "Тек қазақша" {
			t.Errorf("Russian reader got %+v, want the Kazakh version", got)
		}
	})
	t.Run("only russian readers", func(t *testing.T) {
		confirm := h.compose(version{skip: true}, version{text: "Только по-русски"}, ru(locales.TopicNews), ru(locales.AllDistricts), ru(locales.LanguageNameRU))
		if !strings.Contains(confirm.Text, "Получателей: 1.") {
			t.Errorf("confirmation = %q, want 1 recipient", confirm.Text)
		}
		h.confirmAndWait(confirm)
		if got := h.received(kkReader.ID); len(got) != 2 {
			t.Errorf("Kazakh reader got %d messages, want none new", len(got))
		}
		if got := h.received(ruReader.ID); len(got) != 3 || got[2].Text != "Только по-русски" {
			t.Errorf("Russian reader got %+v", got)
		}
	})
}

func TestBroadcast_KeepsFormattingExactly(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdmin(0))
	reader := h.subscriber(31, storage.Kazakh, "", storage.TopicJobs)
	// Stray "<b" and "*" would break HTML or Markdown parsing; entities
	// carry the formatting instead. Offsets are UTF-16 units.
	text := "Грант <b до 1 000 000 ₸ * 2 — толығырақ 👉 сайтта"
	entities := []tgbotapi.MessageEntity{
		{Type: "bold", Offset: 0, Length: 5},
		{Type: "italic", Offset: 6, Length: 2},
		{Type: "text_link", Offset: 30, Length: 9, URL: "https://example.kz/grant"},
	}
	caption := "Постер <i> & *жұмыс*"
	capEntities := []tgbotapi.MessageEntity{{Type: "underline", Offset: 0, Length: 6}}
	confirm := h.compose(version{text: text, entities: entities}, version{text: caption, entities: capEntities, photoID: "AgACposter"},
		ru(locales.TopicJobs), ru(locales.AllDistricts), ru(locales.BroadcastBothLanguages))
	h.confirmAndWait(confirm)
	got := h.received(reader.ID)
	if len(got) != 1 {
		t.Fatalf("reader got %d messages", len(got))
	}
	if got[0].Text != text || got[0].ParseMode != "" {
		t.Errorf("text = %q (parse_mode %q), want %q without parse_mode", got[0].Text, got[0].ParseMode, text)
	}
	if !entitiesEqual(got[0].Entities, entities) {
		t.Errorf("entities = %+v, want %+v", got[0].Entities, entities)
	}
	// The Russian version is a photo: resent by the largest size's file_id,
	// caption and its entities unchanged. The admin's preview shows it.
	var photo *telegramtest.Message
	for _, m := range h.botMessages(adminID) {
		if m.Photo != nil {
			photo = &m
		}
	}
	if photo == nil || photo.Photo.FileID != "AgACposter" || photo.Text != caption || !entitiesEqual(photo.Entities, capEntities) {
		t.Errorf("photo preview = %+v, want the big photo with the caption and its entities", photo)
	}
}

func entitiesEqual(a, b []tgbotapi.MessageEntity) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || a[i].Offset != b[i].Offset || a[i].Length != b[i].Length || a[i].URL != b[i].URL {
			return false
		}
	}
	return true
}

func TestBroadcast_BlockedAndVanishedAreUnsubscribed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdmin(0))
	ok := h.subscriber(41, storage.Kazakh, "", storage.TopicEvents)
	blocked := h.subscriber(42, storage.Kazakh, "", storage.TopicEvents)
	h.srv.Block(blocked.ID)
	// A subscriber whose chat Telegram no longer knows: 400 chat not found.
	gone := int64(43)
	if err := h.db.SaveSubscription(context.Background(), storage.Subscription{ChatID: gone, Topics: []storage.Topic{storage.TopicEvents}, Lang: storage.Russian, Active: true}); err != nil {
		t.Fatal(err)
	}
	confirm := h.compose(version{text: "Іс-шара"}, version{skip: true}, ru(locales.TopicEvents), ru(locales.AllDistricts), ru(locales.BroadcastBothLanguages))
	report := h.confirmAndWait(confirm)
	if !strings.Contains(report.Text, "Отправлено: 1") || !strings.Contains(report.Text, "Заблокировали или нет чата: 2") {
		t.Errorf("report = %q, want 1 sent and 2 unreachable", report.Text)
	}
	if got := h.received(ok.ID); len(got) != 1 {
		t.Errorf("reachable subscriber got %d messages", len(got))
	}
	for _, id := range []int64{blocked.ID, gone} {
		s, err := h.db.Subscription(context.Background(), id)
		if err != nil || s.Active {
			t.Errorf("chat %d subscription = %+v, %v; want inactive", id, s, err)
		}
	}
	// Not retried: the next broadcast's audience no longer has them.
	n, err := h.db.CountAudience(context.Background(), storage.Audience{Topic: storage.TopicEvents})
	if err != nil || n != 1 {
		t.Errorf("audience after the broadcast = %d, %v; want 1", n, err)
	}
	// The operator sees the same outcomes on /metrics.
	for outcome, want := range map[string]float64{"sent": 1, "blocked": 2, "failed": 0, "uncertain": 0} {
		if got := counterValue(t, h, "jastar_broadcast_deliveries_total", map[string]string{"outcome": outcome}); got != want {
			t.Errorf("jastar_broadcast_deliveries_total{outcome=%q} = %v, want %v", outcome, got, want)
		}
	}
	if calls := h.srv.Calls("sendMessage"); countTo(calls, blocked.ID) != 1 {
		t.Errorf("blocked chat was tried %d times, want once", countTo(calls, blocked.ID))
	}
}

func countTo(calls []telegramtest.Call, chatID int64) int {
	n := 0
	for _, c := range calls {
		if c.Params.Get("chat_id") == fmt.Sprint(chatID) {
			n++
		}
	}
	return n
}

func TestBroadcast_429RetryAfterNothingLost(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdmin(0))
	var users []telegramtest.User
	for i := range 6 {
		users = append(users, h.subscriber(int64(51+i), storage.Russian, "", storage.TopicNews))
	}
	confirm := h.compose(version{skip: true}, version{text: "Срочная новость"}, ru(locales.TopicNews), ru(locales.AllDistricts), ru(locales.BroadcastBothLanguages))
	h.srv.FailNext("sendMessage", 3, 429, 1)
	report := h.confirmAndWait(confirm)
	if !strings.Contains(report.Text, "Отправлено: 6") {
		t.Errorf("report = %q, want all 6 sent", report.Text)
	}
	for _, u := range users {
		if got := h.received(u.ID); len(got) != 1 {
			t.Errorf("chat %d got %d messages, want exactly 1", u.ID, len(got))
		}
	}
	// retry_after was obeyed: nothing was sent within the second after the
	// first 429.
	var first429 time.Time
	for _, c := range h.srv.Calls("sendMessage") {
		if c.Status == 429 && first429.IsZero() {
			first429 = c.At
		}
		if c.Status == 200 && !first429.IsZero() && c.At.After(first429) && c.At.Sub(first429) < 900*time.Millisecond {
			t.Errorf("a message went %v after a 429 with retry_after 1", c.At.Sub(first429))
		}
	}
	if first429.IsZero() {
		t.Error("no 429 was answered; the test did not test anything")
	}
}

// waitSent polls the store until the broadcast has at least n outcomes.
func waitSent(t *testing.T, h *harness, id uint64, n int) storage.Broadcast {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		bc, err := h.db.Broadcast(context.Background(), id)
		if err == nil && bc.Counts.Done() >= n {
			return bc
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("broadcast %d never reached %d outcomes", id, n)
	return storage.Broadcast{}
}

func TestBroadcast_RestartResumesWithoutDuplicates(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdmin(10))
	const n = 40
	ids := h.subscribers(n, 1001, storage.Kazakh, storage.TopicEvents)
	confirm := h.compose(version{text: "Бір рет қана"}, version{skip: true}, ru(locales.TopicEvents), ru(locales.AllDistricts), ru(locales.BroadcastBothLanguages))
	// A slow Bot API keeps sends in flight when the process stops.
	h.srv.SetLatency(150 * time.Millisecond)
	h.press(admin, confirm, ru(locales.BroadcastSendButton))
	bc := waitSent(t, h, 1, 8)
	if bc.Counts.Done() >= n {
		t.Fatalf("the broadcast finished before the restart: %+v", bc.Counts)
	}
	h.restart()
	h.srv.SetLatency(0)
	report := h.waitReport(0, 30*time.Second)
	bc, _ = h.db.Broadcast(context.Background(), bc.ID)
	if bc.Status != storage.BroadcastDone || bc.Total != n || bc.Counts.Sent+bc.Counts.Uncertain != n {
		t.Errorf("after the restart: %+v; report %q", bc, report.Text)
	}
	for _, id := range ids {
		if got := len(h.received(id)); got > 1 || (got == 0 && bc.Counts.Uncertain == 0) {
			t.Errorf("chat %d got %d messages, want exactly 1", id, got)
		}
	}
}

func TestBroadcast_PauseResumeCancel(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdmin(5))
	const n = 30
	ids := h.subscribers(n, 2001, storage.Russian, storage.TopicJobs)
	confirm := h.compose(version{skip: true}, version{text: "Вакансия"}, ru(locales.TopicJobs), ru(locales.AllDistricts), ru(locales.BroadcastBothLanguages))
	h.press(admin, confirm, ru(locales.BroadcastSendButton))
	waitSent(t, h, 1, 3)

	h.srv.SendText(admin, "/broadcasts")
	list := h.waitText(adminID, plain(ru(locales.BroadcastListTitle)), ru(locales.BroadcastStatusRunning))
	h.waitAnswered(h.press(admin, list, "Пауза №1"))
	paused, _ := h.db.Broadcast(context.Background(), 1)
	if paused.Status != storage.BroadcastPaused {
		t.Fatalf("status after pause = %s", paused.Status)
	}
	// Nothing goes out while paused (the rate would allow 2–3 messages).
	time.Sleep(600 * time.Millisecond)
	still, _ := h.db.Broadcast(context.Background(), 1)
	if still.Counts != paused.Counts {
		t.Errorf("sent while paused: %+v then %+v", paused.Counts, still.Counts)
	}
	list = h.waitText(adminID, plain(ru(locales.BroadcastListTitle)), ru(locales.BroadcastStatusPaused))
	h.waitAnswered(h.press(admin, list, "Продолжить №1"))
	waitSent(t, h, 1, paused.Counts.Done()+3)

	list = h.waitText(adminID, plain(ru(locales.BroadcastListTitle)), ru(locales.BroadcastStatusRunning))
	h.waitAnswered(h.press(admin, list, "Отменить №1"))
	report := h.waitReport(0, 10*time.Second)
	cancelled, _ := h.db.Broadcast(context.Background(), 1)
	if cancelled.Status != storage.BroadcastCancelled || cancelled.Left() == 0 {
		t.Errorf("after cancel: %+v, report %q", cancelled, report.Text)
	}
	time.Sleep(600 * time.Millisecond)
	after, _ := h.db.Broadcast(context.Background(), 1)
	if after.Counts != cancelled.Counts {
		t.Errorf("sent after cancel: %+v then %+v", cancelled.Counts, after.Counts)
	}
	total := 0
	for _, id := range ids {
		got := len(h.received(id))
		if got > 1 {
			t.Errorf("chat %d got %d messages", id, got)
		}
		total += got
	}
	if total != after.Counts.Sent {
		t.Errorf("messages delivered = %d, counted sent = %d", total, after.Counts.Sent)
	}
	// A stale resume button cannot bring a cancelled broadcast back.
	id, _ := h.srv.PressButton(admin, adminID, list.ID, "bcj:r:1")
	if got := h.waitAnswered(id); got != ru(locales.BroadcastCannotChange) {
		t.Errorf("resume of a cancelled broadcast answered %q", got)
	}
}

// TestBroadcast_PauseDuringALostAnswerNeverResends: the admin pauses while
// a message is in flight whose answer never comes back. Telegram may have
// delivered it, so the recipient is counted uncertain and the resumed
// broadcast does not send it again.
func TestBroadcast_PauseDuringALostAnswerNeverResends(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdmin(5))
	const n = 20
	ids := h.subscribers(n, 3001, storage.Kazakh, storage.TopicNews)
	confirm := h.compose(version{text: "Бір хабар"}, version{skip: true}, ru(locales.TopicNews), ru(locales.AllDistricts), ru(locales.BroadcastBothLanguages))

	// Hold the first broadcast message Telegram takes, then lose its answer.
	held := make(chan string, 1)
	release := make(chan struct{})
	var armed sync.Once
	h.srv.SetAfterCall(func(ctx context.Context, c telegramtest.Call) bool {
		if c.Method != "sendMessage" || c.Params.Get("chat_id") == fmt.Sprint(adminID) {
			return false
		}
		drop := false
		armed.Do(func() {
			drop = true
			held <- c.Params.Get("chat_id")
			select {
			case <-release:
			case <-ctx.Done():
			}
		})
		return drop
	})
	h.press(admin, confirm, ru(locales.BroadcastSendButton))
	heldChat := <-held

	h.srv.SendText(admin, "/broadcasts")
	list := h.waitText(adminID, plain(ru(locales.BroadcastListTitle)), ru(locales.BroadcastStatusRunning))
	pause := h.press(admin, list, "Пауза №1")
	// The runner is stopping (the pause waits for it) when the lost answer
	// surfaces.
	deadline := time.Now().Add(10 * time.Second)
	for bc, _ := h.db.Broadcast(context.Background(), 1); bc.Status != storage.BroadcastPaused; bc, _ = h.db.Broadcast(context.Background(), 1) {
		if time.Now().After(deadline) {
			t.Fatalf("the broadcast never paused: %s", bc.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	h.waitAnswered(pause)

	list = h.waitText(adminID, plain(ru(locales.BroadcastListTitle)), ru(locales.BroadcastStatusPaused))
	h.press(admin, list, "Продолжить №1")
	h.waitReport(0, 30*time.Second)
	bc := lastBroadcast(t, h)
	if bc.Counts.Uncertain != 1 || bc.Counts.Sent != n-1 {
		t.Errorf("counts = %+v, want %d sent and the held one uncertain", bc.Counts, n-1)
	}
	for outcome, want := range map[string]float64{"sent": n - 1, "uncertain": 1} {
		if got := counterValue(t, h, "jastar_broadcast_deliveries_total", map[string]string{"outcome": outcome}); got != want {
			t.Errorf("jastar_broadcast_deliveries_total{outcome=%q} = %v, want %v", outcome, got, want)
		}
	}
	for _, id := range ids {
		if got := len(h.received(id)); got != 1 {
			t.Errorf("chat %d got %d messages, want exactly 1 (held chat %s)", id, got, heldChat)
		}
	}
}

// TestBroadcast_AlbumRefused: an album arrives as one message per photo.
// The admin is told once to send a single photo, the other photos are
// ignored (the second must not become the Russian version), and the step
// still waits for the Kazakh version.
func TestBroadcast_AlbumRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdmin(0))
	kkReader := h.subscriber(61, storage.Kazakh, "", storage.TopicNews)
	ruReader := h.subscriber(62, storage.Russian, "", storage.TopicNews)
	h.srv.SendText(admin, "/broadcast")
	h.waitText(adminID, firstLine(plain(ru(locales.BroadcastAskKK))))
	for _, photo := range []string{"AgACalbum1", "AgACalbum2", "AgACalbum3"} {
		h.pushFormatted(admin, version{text: "Альбом", photoID: photo, album: "13579"})
	}
	h.waitText(adminID, ru(locales.BroadcastNoAlbum))
	h.pushFormatted(admin, version{text: "Жаңалық"})
	h.waitText(adminID, firstLine(plain(ru(locales.BroadcastAskRU))))
	h.pushFormatted(admin, version{text: "Новость"})
	q := h.waitText(adminID, ru(locales.BroadcastAskTopic))
	h.press(admin, q, ru(locales.TopicNews))
	q = h.waitText(adminID, ru(locales.BroadcastAskDistrict))
	h.press(admin, q, ru(locales.AllDistricts))
	q = h.waitText(adminID, ru(locales.BroadcastAskLang))
	h.press(admin, q, ru(locales.BroadcastBothLanguages))
	h.confirmAndWait(h.waitText(adminID, "Получателей"))

	refusals := 0
	for _, m := range h.botMessages(adminID) {
		if m.Text == ru(locales.BroadcastNoAlbum) {
			refusals++
		}
		if m.Photo != nil {
			t.Errorf("a photo of the album was taken as a version: %+v", m.Photo)
		}
	}
	if refusals != 1 {
		t.Errorf("album refused %d times, want once; transcript:\n%s", refusals, h.transcript(adminID))
	}
	if got := h.received(kkReader.ID); len(got) != 1 || got[0].Text != "Жаңалық" {
		t.Errorf("Kazakh reader got %+v, want the text version", got)
	}
	if got := h.received(ruReader.ID); len(got) != 1 || got[0].Text != "Новость" {
		t.Errorf("Russian reader got %+v, want the text version", got)
	}
}

// A composing dialogue saved by the version before typed state (its
// versions in the untyped map) cannot be read on: the next message ends it
// as expired, and nothing is sent to anyone.
func TestBroadcast_UntypedDialogueExpires(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdmin(0))
	h.subscriber(61, storage.Kazakh, "", storage.TopicNews)
	h.srv.SendText(admin, "/help")
	h.waitText(adminID, stem("ru", locales.Help))
	old := storage.Conversation{ChatID: adminID, Flow: flowBroadcast, Step: "ru", UpdatedAt: h.bot.now()}
	if err := h.db.SaveConversation(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	h.pushFormatted(admin, version{text: "Новость"})
	h.waitText(adminID, ru(locales.DialogExpired))
	if _, err := h.db.Conversation(context.Background(), adminID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the dialogue is still there: %v", err)
	}
}
