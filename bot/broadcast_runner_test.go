package bot

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"jastar/bot/telegramtest"
	"jastar/locales"
	"jastar/scheduler/broadcast"
	"jastar/storage"
	"jastar/storage/boltdb"
	"jastar/storage/storagetest"
)

// otherStores is every store of the bot but the broadcasts'.
type otherStores interface {
	storage.UserStore
	storage.ConversationStore
	storage.Inbox
	storage.BookingStore
	storage.PrivacyStore
	storage.EventStore
	storage.FeedbackStore
	storage.SubscriptionStore
	storage.UncertainReminderStore
	storage.CardStore
	storage.ClosureStore
	storage.ExtraSessionStore
	storage.ChangeStore
	storage.PollStore
}

// faultyStore is the database with broadcasts that fail when told to.
type faultyStore struct {
	otherStores
	*storagetest.FailingBroadcasts
}

// withFaultyBroadcasts gives the bot broadcasts that fail when *fb says.
func withFaultyBroadcasts(fb **storagetest.FailingBroadcasts) harnessOption {
	return withStore(func(db *boltdb.DB) Store {
		*fb = storagetest.FailBroadcasts(db)
		return faultyStore{otherStores: db, FailingBroadcasts: *fb}
	})
}

// withRetry makes a broadcast runner's first wait after a failure short.
func withRetry(d time.Duration) harnessOption {
	return withConfig(func(c *Config) { c.BroadcastRetry = d })
}

// broadcastCalls are the successful sendMessage calls to chats, in arrival
// order.
func broadcastCalls(srv *telegramtest.Server, chats []int64) []telegramtest.Call {
	want := map[string]bool{}
	for _, id := range chats {
		want[strconv.FormatInt(id, 10)] = true
	}
	var out []telegramtest.Call
	for _, c := range srv.Calls("sendMessage") {
		if c.Status == 200 && want[c.Params.Get("chat_id")] {
			out = append(out, c)
		}
	}
	return out
}

var reportNumberRE = regexp.MustCompile(`: (\d+)`)

// checkReportAddsUp checks that the lines of a broadcast report after
// "Всего" add up to it, and returns the total.
func checkReportAddsUp(t *testing.T, report string) int {
	t.Helper()
	total, sum := -1, 0
	for _, line := range strings.Split(report, "\n")[1:] {
		m := reportNumberRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		if total < 0 {
			total = n
			continue
		}
		sum += n
	}
	if total < 0 || sum != total {
		t.Errorf("report lines add up to %d, total %d:\n%s", sum, total, report)
	}
	return total
}

// noteFragment is the text of a runner note before its time.
func noteFragment(id string) string {
	s, _, _ := strings.Cut(ru(id, locales.Data{"Time": "\x00"}), "\x00")
	return s
}

// TestBroadcast_RateHoldsInEveryWindow: JASTAR_BROADCAST_RATE holds in
// every second, from the very start (no burst), and a broadcast configured
// at the whole send rate leaves room for replies: people chatting
// meanwhile are answered while it is still sending.
//
// The rate is measured where the sender holds it: the instants its pacer
// lets each message onto the wire. The fake's arrival times are the same
// instants plus the trip through two HTTP stacks, whose length varies with
// the machine's load by more than the pacer's margin (the race detector on
// two busy cores), so counted there a correct pacer was seen to give 12 in
// a second.
func TestBroadcast_RateHoldsInEveryWindow(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdmin(12), withConfig(func(c *Config) {
		c.Limits.PerSecond = 12
		c.BroadcastProgressEvery = time.Hour // its edits would take from the send rate too
	}))
	var (
		mu       sync.Mutex
		admitted []time.Time
	)
	h.bot.pace.OnAdmit(func(at time.Time) {
		mu.Lock()
		admitted = append(admitted, at)
		mu.Unlock()
	})
	const n = 40
	ids := h.subscribers(n, 4001, storage.Russian, storage.TopicNews)
	person := telegramtest.User{ID: 4999, FirstName: "Айгерім", LanguageCode: "kk"}
	confirm := h.compose(version{skip: true}, version{text: "Темп"}, ru(locales.TopicNews), ru(locales.AllDistricts), ru(locales.BroadcastBothLanguages))
	before := h.reports()
	h.press(admin, confirm, ru(locales.BroadcastSendButton))
	waitSent(t, h, 1, 5)
	for range 3 {
		h.ask(person, "/help", firstLine(plain(kk(locales.Help))))
	}
	h.waitReport(before, 30*time.Second)

	calls := broadcastCalls(h.srv, ids)
	if len(calls) != n {
		t.Fatalf("%d broadcast messages, want %d", len(calls), n)
	}
	mu.Lock()
	at := slices.Clone(admitted)
	mu.Unlock()
	// Every message went through the pacer, once: nothing was retried.
	if len(at) != n {
		t.Fatalf("the pacer let %d messages through, want the %d broadcast ones", len(at), n)
	}
	var arrived []time.Time
	for _, c := range calls {
		arrived = append(arrived, c.At)
	}
	slices.SortFunc(arrived, time.Time.Compare)
	// 12 a second is the whole send rate: the broadcast keeps a tenth of
	// it for replies.
	t.Logf("%d messages in %v, at most %d in one second (%d by arrival)", len(at), at[len(at)-1].Sub(at[0]),
		telegramtest.MaxInWindow(at, time.Second), telegramtest.MaxInWindow(arrived, time.Second))
	if got := telegramtest.MaxInWindow(at, time.Second); got > 10 {
		t.Errorf("%d broadcast messages within one second, want at most 10", got)
	}
	last := calls[len(calls)-1].At
	for _, c := range h.srv.Calls("sendMessage") {
		if c.Params.Get("chat_id") == strconv.FormatInt(person.ID, 10) && !c.At.Before(last) {
			t.Errorf("a reply went out after the broadcast had ended: replies waited for it")
		}
	}
}

// TestBroadcast_CrashLeavesOnlyInFlightUncertain: the process dies (the
// database as it was at one instant) while a broadcast is sending at a
// slow rate. Only the message truly in flight is claimed, so after the
// restart only it is uncertain, not the recipients that were waiting for
// the rate; nobody gets the message twice; and the report adds up.
func TestBroadcast_CrashLeavesOnlyInFlightUncertain(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdmin(2))
	const n = 12
	ids := h.subscribers(n, 5001, storage.Kazakh, storage.TopicEvents)
	confirm := h.compose(version{text: "Бір рет"}, version{skip: true}, ru(locales.TopicEvents), ru(locales.AllDistricts), ru(locales.BroadcastBothLanguages))

	// The crash: when the 4th message reaches Telegram, the database is
	// copied as it is; what the old process does after that is ignored.
	snapshot := h.dbPath + ".crash"
	crashed := make(chan map[string]bool, 1)
	var once sync.Once
	h.srv.SetAfterCall(func(ctx context.Context, c telegramtest.Call) bool {
		if c.Method != "sendMessage" || c.Status != 200 || c.Params.Get("chat_id") == strconv.Itoa(adminID) {
			return false
		}
		if len(broadcastCalls(h.srv, ids)) < 4 {
			return false
		}
		once.Do(func() {
			var buf bytes.Buffer
			if _, err := h.db.WriteBackup(context.Background(), &buf); err != nil {
				t.Error(err)
			}
			if err := os.WriteFile(snapshot, buf.Bytes(), 0o600); err != nil {
				t.Error(err)
			}
			delivered := map[string]bool{}
			for _, c := range broadcastCalls(h.srv, ids) {
				delivered[c.Params.Get("chat_id")] = true
			}
			crashed <- delivered
		})
		return false
	})
	h.press(admin, confirm, ru(locales.BroadcastSendButton))
	delivered := <-crashed

	// Restart on the copy, against a new Telegram that knows the chats.
	h.stop()
	if err := h.db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(snapshot, h.dbPath); err != nil {
		t.Fatal(err)
	}
	h.db = storagetest.OpenAt(t, h.dbPath)
	h.srv = telegramtest.NewServer(t)
	h.srv.AddPrivateChat(admin)
	for _, id := range ids {
		h.srv.AddPrivateChat(telegramtest.User{ID: id, FirstName: "U", LanguageCode: "kk"})
	}
	h.cfg.Token, h.cfg.APIEndpoint = h.srv.Token(), h.srv.Endpoint()
	h.start()
	report := h.waitReport(0, 30*time.Second)

	bc := lastBroadcast(t, h)
	// At 2 a second against an instant Telegram, in flight at the crash
	// were the 4th message and at most the one before, whose outcome may
	// still have been on its way to the disk.
	if bc.Counts.Uncertain < 1 || bc.Counts.Uncertain > 2 {
		t.Errorf("%d recipients uncertain after the crash, want the 1 or 2 in flight; counts %+v", bc.Counts.Uncertain, bc.Counts)
	}
	if bc.Status != storage.BroadcastDone || bc.Counts.Done() != n {
		t.Errorf("after the restart: %+v", bc)
	}
	if total := checkReportAddsUp(t, report.Text); total != n {
		t.Errorf("report total %d, want %d", total, n)
	}
	for _, id := range ids {
		got := len(h.received(id))
		if delivered[strconv.FormatInt(id, 10)] {
			got++
		}
		if got != 1 {
			t.Errorf("chat %d got the message %d times, want once", id, got)
		}
	}
}

// TestBroadcast_DatabaseFailures: a broadcast whose database fails waits
// and tries again, never spinning, never stopping for good; the admin sees
// the trouble in /broadcasts; and once the database is back, everyone gets
// the message exactly once.
func TestBroadcast_DatabaseFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		method string
		nth    int
		count  int // failures; -1 until healed
	}{
		// A full disk: claims fail. Before, the runner re-read and
		// re-claimed at once, 115k failed claims in 500 ms.
		{"claims fail", "ClaimDelivery", 3, -1},
		// A failed read ended the runner, leaving the broadcast "running"
		// with nobody sending until a restart.
		{"reads fail", "PendingRecipients", 2, 3},
		{"outcomes fail", "SettleDelivery", 2, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var fb *storagetest.FailingBroadcasts
			h := newHarness(t, withAdmin(50), withRetry(20*time.Millisecond), withFaultyBroadcasts(&fb))
			const n = 10
			ids := h.subscribers(n, 6001, storage.Russian, storage.TopicJobs)
			confirm := h.compose(version{skip: true}, version{text: "Вакансия"}, ru(locales.TopicJobs), ru(locales.AllDistricts), ru(locales.BroadcastBothLanguages))
			fb.Fail(tc.method, tc.nth, tc.count, nil)
			before := h.reports()
			h.press(admin, confirm, ru(locales.BroadcastSendButton))
			if tc.count < 0 {
				waitRetries(t, h, 3)
				h.srv.SendText(admin, "/broadcasts")
				h.waitText(adminID, plain(ru(locales.BroadcastListTitle)), noteFragment(locales.BroadcastRetryingDB))
				fb.Heal(tc.method)
			}
			report := h.waitReport(before, 30*time.Second)
			checkReportAddsUp(t, report.Text)

			retries := counterValue(t, h, "jastar_broadcast_retries_total", map[string]string{"cause": "database"})
			_, failed := fb.Calls(tc.method)
			if retries < 1 {
				t.Errorf("jastar_broadcast_retries_total{cause=database} = %v, want the waits counted", retries)
			}
			// Each try fails at most once per sender before the runner waits.
			if limit := broadcast.Senders * (int(retries) + 1); failed > limit {
				t.Errorf("%d failed %s calls with %v waits between them: the runner spun", failed, tc.method, retries)
			}
			bc := lastBroadcast(t, h)
			if bc.Status != storage.BroadcastDone || bc.Counts.Sent != n {
				t.Errorf("broadcast = %+v, want all %d sent", bc.Counts, n)
			}
			for _, id := range ids {
				if got := len(h.received(id)); got != 1 {
					t.Errorf("chat %d got %d messages, want 1", id, got)
				}
			}
			h.srv.SendText(admin, "/broadcasts")
			list := h.waitText(adminID, plain(ru(locales.BroadcastListTitle)), ru(locales.BroadcastStatusDone))
			if strings.Contains(list.Text, "🔁") {
				t.Errorf("/broadcasts still shows the retrying note after the broadcast finished:\n%s", list.Text)
			}
		})
	}
}

// waitRetries waits until broadcast runners have waited n times.
func waitRetries(t *testing.T, h *harness, n float64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for counterValue(t, h, "jastar_broadcast_retries_total", map[string]string{"cause": "database"}) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the runner never retried %v times", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBroadcast_PanicsPauseTheJob: a runner that panics on its job
// survives (the bot goes on answering), tries again after a wait, and after
// a few panics pauses the job and tells the admin, instead of retrying
// forever (before, the panic killed the process, and the job, resumed at
// every start, crash-looped the bot). Resumed after a fix, it completes.
func TestBroadcast_PanicsPauseTheJob(t *testing.T) {
	t.Parallel()
	var fb *storagetest.FailingBroadcasts
	h := newHarness(t, withAdmin(50), withRetry(20*time.Millisecond), withFaultyBroadcasts(&fb))
	const n = 5
	ids := h.subscribers(n, 7001, storage.Russian, storage.TopicNews)
	confirm := h.compose(version{skip: true}, version{text: "Паника"}, ru(locales.TopicNews), ru(locales.AllDistricts), ru(locales.BroadcastBothLanguages))
	fb.Panic("PendingRecipients", 1, -1)
	h.press(admin, confirm, ru(locales.BroadcastSendButton))

	h.waitText(adminID, firstLine(ru(locales.BroadcastHalted, locales.Data{"ID": 1})))
	if got := counterValue(t, h, "jastar_panics_total", map[string]string{"component": "broadcast"}); got != broadcast.MaxPanics {
		t.Errorf("jastar_panics_total{component=broadcast} = %v, want %d", got, broadcast.MaxPanics)
	}
	if bc := lastBroadcast(t, h); bc.Status != storage.BroadcastPaused {
		t.Errorf("status after the panics = %s, want paused", bc.Status)
	}
	person := telegramtest.User{ID: 7999, FirstName: "Ерлан", LanguageCode: "kk"}
	h.ask(person, "/help", firstLine(plain(kk(locales.Help))))

	h.srv.SendText(admin, "/broadcasts")
	list := h.waitText(adminID, plain(ru(locales.BroadcastListTitle)), noteFragment(locales.BroadcastHaltedNote))
	fb.Heal("PendingRecipients")
	before := h.reports()
	h.waitAnswered(h.press(admin, list, "Продолжить №1"))
	report := h.waitReport(before, 30*time.Second)
	checkReportAddsUp(t, report.Text)
	for _, id := range ids {
		if got := len(h.received(id)); got != 1 {
			t.Errorf("chat %d got %d messages, want 1", id, got)
		}
	}
}
