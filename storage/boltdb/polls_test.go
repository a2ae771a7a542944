package boltdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

// testPoll is a draft composed at testNow, closing a week later.
func testPoll(multiple, other bool) storage.Poll {
	return storage.Poll{
		Question: storage.PollText{KK: "Қай тренинг керек?", RU: "Какой тренинг нужен?"},
		Options: []storage.PollText{
			{KK: "IT", RU: "IT"}, {KK: "Кәсіпкерлік", RU: "Предпринимательство"}, {KK: "Тілдер", RU: "Языки"},
		},
		Multiple: multiple, Other: other, NotifyRespondents: true,
		CreatedBy: 9001, CreatedAt: testNow, ClosesAt: storage.DefaultClosesAt(testNow),
	}
}

// subscriber is chat chatID subscribed to every topic from district
// ("" = none given) with language lang.
func subscriber(chatID int64, district string, lang storage.Lang) storage.Subscription {
	return storage.Subscription{ChatID: chatID, Topics: storage.AllTopics(), DistrictID: district, Lang: lang, Active: true, UpdatedAt: testNow}
}

// subscribeAll writes the subscriptions 5,000 a transaction: saving 10,000
// one commit at a time would only slow the test down, and bbolt splits a
// node only at commit, so 100,000 inserts in one transaction cost minutes.
func subscribeAll(t testing.TB, db *DB, subs ...storage.Subscription) {
	t.Helper()
	for chunk := range slices.Chunk(subs, 5000) {
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			for _, s := range chunk {
				if err := putSubscription(tx, s); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// sendPoll stores p, sends it and delivers it to every recipient, as the
// runner would (claimed, sent), marking the delivery sent in one
// transaction. It returns the poll as the store has it.
func sendPoll(t testing.TB, db *DB, p storage.Poll) storage.Poll {
	t.Helper()
	ctx := context.Background()
	p, err := db.CreatePoll(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	p, b, err := db.SendPoll(ctx, p.ID, storage.Broadcast{AdminChatID: p.CreatedBy, CreatedAt: testNow})
	if err != nil {
		t.Fatal(err)
	}
	for done := false; !done; {
		if _, done, err = db.AddRecipients(ctx, b.ID, 5000); err != nil {
			t.Fatal(err)
		}
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		var chats []int64
		walkDeliveries(tx, b.ID, 0, false, func(chatID int64, _ storage.DeliveryState, _ storage.Lang) bool {
			chats = append(chats, chatID)
			return true
		})
		for _, chatID := range chats {
			_, lang := decodeDelivery(tx.Bucket(bucketDeliveries).Get(deliveryKey(b.ID, chatID)))
			if err := tx.Bucket(bucketDeliveries).Put(deliveryKey(b.ID, chatID), encodeDelivery(storage.DeliveryClaimed, lang)); err != nil {
				return err
			}
			if err := settle(tx, b.ID, chatID, storage.DeliverySent); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func choice(options ...int) storage.PollChoice { return storage.PollChoice{Options: options} }

func TestDB_SendPoll(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	subscribeAll(t, db, subscriber(1, "karasai", storage.Kazakh), subscriber(2, "talgar", storage.Russian),
		storage.Subscription{ChatID: 3, Topics: []storage.Topic{storage.TopicNews}, Lang: storage.Kazakh, Active: true})
	p := testPoll(false, false)
	p.Audience = storage.Audience{Topic: storage.TopicEvents}
	p, err := db.CreatePoll(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != storage.PollDraft || p.ID == 0 {
		t.Fatalf("created poll = %+v, want a draft with an id", p)
	}
	buttons := [][]storage.Button{{{Text: "IT", Data: fmt.Sprintf("pa:%d:0", p.ID)}, {Text: "Тілдер", Data: fmt.Sprintf("pa:%d:2", p.ID)}}}
	// The admin's broadcast audience is ignored: the poll's decides.
	sent, b, err := db.SendPoll(ctx, p.ID, storage.Broadcast{
		AdminChatID: 9001, CreatedAt: testNow, Audience: storage.Audience{Topic: storage.TopicNews},
		Versions: map[storage.Lang]storage.Version{storage.Kazakh: {Text: "Қай тренинг керек?", Buttons: buttons}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if sent.Status != storage.PollSending || sent.BroadcastID != b.ID || b.PollID != p.ID || b.Audience != p.Audience {
		t.Errorf("sent poll %+v, broadcast %+v: want sending, linked both ways, the poll's audience", sent, b)
	}
	if _, _, err := db.SendPoll(ctx, p.ID, storage.Broadcast{CreatedAt: testNow}); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("second SendPoll = %v, want a conflict: a poll is sent once", err)
	}
	if _, done, err := db.AddRecipients(ctx, b.ID, 100); err != nil || !done {
		t.Fatalf("add recipients: %v %v", done, err)
	}
	got, err := db.Broadcast(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Total != 2 || got.PollID != p.ID || !slices.EqualFunc(got.Versions[storage.Kazakh].Buttons, buttons, slices.Equal) {
		t.Errorf("stored broadcast = %+v; want the 2 events subscribers, the poll id and its buttons", got)
	}
	if _, err := db.SetBroadcastStatus(ctx, b.ID, storage.BroadcastDone, testNow); err != nil {
		t.Fatal(err)
	}
	if open, _ := db.Poll(ctx, p.ID); open.Status != storage.PollOpen {
		t.Errorf("poll after its broadcast = %s, want open", open.Status)
	}
	if err := db.DeleteDraft(ctx, p.ID); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("deleting a sent poll = %v, want a conflict", err)
	}
	draft, _ := db.CreatePoll(ctx, testPoll(false, false))
	if err := db.DeleteDraft(ctx, draft.ID); err != nil {
		t.Errorf("delete draft: %v", err)
	}
	if _, err := db.Poll(ctx, draft.ID); !isNotFound(err) {
		t.Errorf("deleted draft: %v, want not found", err)
	}
	bad := testPoll(false, false)
	bad.Options = bad.Options[:1]
	if _, err := db.CreatePoll(ctx, bad); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("poll with one option = %v, want invalid", err)
	}
}

func TestDB_AnswerPoll(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)
	const kk, ru, pending = 11, 12, 13
	subscribeAll(t, db, subscriber(kk, "karasai", storage.Kazakh), subscriber(ru, "", storage.Russian))
	if err := db.SaveUser(ctx, storage.User{ChatID: ru, Lang: storage.Russian, Active: true}); err != nil {
		t.Fatal(err)
	}
	p := sendPoll(t, db, testPoll(true, true))

	counts := func() storage.PollTally {
		t.Helper()
		_, tally, err := db.PollTally(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		return tally
	}
	answer := func(chatID int64, c storage.PollChoice) error {
		_, _, err := db.AnswerPoll(ctx, p.ID, chatID, c, testNow.Add(time.Hour))
		return err
	}
	if err := answer(kk, choice(0, 2)); err != nil {
		t.Fatal(err)
	}
	// Telegram redelivers the same tap: counted once.
	for range 3 {
		if err := answer(kk, choice(2, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := answer(ru, storage.PollChoice{Other: true, OtherText: "Спорт"}); err != nil {
		t.Fatal(err)
	}
	if c := counts(); c.All.Respondents != 2 || !slices.Equal(c.All.Options, []int{1, 0, 1}) || c.All.Other != 1 {
		t.Errorf("counts = %+v, want 2 people: IT 1, languages 1, other 1", c.All)
	}
	// A change moves the counts.
	got, a, err := db.AnswerPoll(ctx, p.ID, kk, choice(1), testNow.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.Respondents != 2 || !slices.Equal(a.Options, []int{1}) || a.DistrictID != "karasai" || a.Lang != storage.Kazakh {
		t.Errorf("changed answer = %+v (poll respondents %d)", a, got.Respondents)
	}
	c := counts()
	if c.All.Respondents != 2 || !slices.Equal(c.All.Options, []int{0, 1, 0}) {
		t.Errorf("counts after the change = %+v", c.All)
	}
	if d := c.ByDistrict["karasai"]; d.Respondents != 1 || !slices.Equal(d.Options, []int{0, 1, 0}) {
		t.Errorf("karasai = %+v", d)
	}
	if d := c.ByDistrict[""]; d.Respondents != 1 || d.Other != 1 {
		t.Errorf("district not given = %+v, want the Russian speaker's other", d)
	}
	if l := c.ByLang[storage.Russian]; l.Respondents != 1 {
		t.Errorf("Russian = %+v", l)
	}

	before := counts()
	refusals := []struct {
		name   string
		chatID int64
		choice storage.PollChoice
		at     time.Time
		want   error
	}{
		{"a forged option", kk, choice(3), testNow, storage.ErrInvalid},
		{"two options meant as one, out of range", kk, choice(-1), testNow, storage.ErrInvalid},
		{"a chat the poll never reached", pending, choice(0), testNow, storage.ErrNotRecipient},
		{"after the closing time", kk, choice(0), p.ClosesAt, storage.ErrPollClosed},
	}
	for _, r := range refusals {
		if _, _, err := db.AnswerPoll(ctx, p.ID, r.chatID, r.choice, r.at); !errors.Is(err, r.want) {
			t.Errorf("%s: %v, want %v", r.name, err, r.want)
		}
	}
	if _, _, err := db.AnswerPoll(ctx, p.ID+100, kk, choice(0), testNow); !isNotFound(err) {
		t.Errorf("answer to no poll: %v, want not found", err)
	}
	if after := counts(); after.All.Respondents != before.All.Respondents || !slices.Equal(after.All.Options, before.All.Options) {
		t.Errorf("a refused answer moved the counts: %+v to %+v", before.All, after.All)
	}

	// Withdrawing an answer uncounts it.
	if err := answer(ru, storage.PollChoice{}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PollAnswer(ctx, p.ID, ru); !isNotFound(err) {
		t.Errorf("withdrawn answer: %v, want not found", err)
	}
	if c := counts(); c.All.Respondents != 1 || c.All.Other != 0 || len(c.ByLang) != 1 {
		t.Errorf("counts after withdrawing = %+v", c)
	}

	if _, closed, err := db.ClosePoll(ctx, p.ID, testNow.Add(3*time.Hour)); err != nil || !closed {
		t.Fatalf("close: %v %v", closed, err)
	}
	if err := answer(kk, choice(0)); !errors.Is(err, storage.ErrPollClosed) || !errors.Is(err, storage.ErrConflict) {
		t.Errorf("answer after closing = %v, want ErrPollClosed, a conflict", err)
	}

	// Everything is on disk.
	db.Close()
	db2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	mine, err := db2.PollAnswersOf(ctx, kk)
	if err != nil || len(mine) != 1 || mine[0].Poll.ID != p.ID || !slices.Equal(mine[0].Answer.Options, []int{1}) || mine[0].Poll.Respondents != 1 {
		t.Errorf("answers of the person after reopening = %+v, %v", mine, err)
	}
}

// TestDB_AnswerPoll_Concurrent: 10,000 people answer at once, a tenth of
// the taps delivered twice and a tenth of the people changing their mind;
// every answer counts exactly once, and the live counts equal a recount of
// the answers.
func TestDB_AnswerPoll_Concurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTemp(t)
	// The race detector checks these answers' interleavings as well with
	// 2,000 people, at a tenth of what 10,000 would cost under it.
	n := 10_000
	if testing.Short() || raceEnabled {
		n = 2000
	}
	districts := []string{"karasai", "talgar", "esik", ""}
	var subs []storage.Subscription
	for i := range n {
		lang := storage.Kazakh
		if i%3 == 0 {
			lang = storage.Russian
		}
		subs = append(subs, subscriber(int64(i+1), districts[i%len(districts)], lang))
	}
	subscribeAll(t, db, subs...)
	p := sendPoll(t, db, testPoll(false, false))

	want := storage.PollCount{Respondents: n, Options: make([]int, 3)}
	final := func(i int) int {
		if i%10 == 0 {
			return (i + 1) % 3 // changed their mind
		}
		return i % 3
	}
	for i := range n {
		want.Options[final(i)]++
	}
	work := make(chan int)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for i := range work {
				taps := []int{i % 3}
				if i%10 == 5 {
					taps = append(taps, i%3) // redelivered
				}
				if i%10 == 0 {
					taps = append(taps, final(i))
				}
				for _, o := range taps {
					if _, _, err := db.AnswerPoll(ctx, p.ID, int64(i+1), choice(o), testNow); err != nil {
						select {
						case errs <- err:
						default:
						}
						return
					}
				}
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	_, tally, err := db.PollTally(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tally.All.Respondents != want.Respondents || !slices.Equal(tally.All.Options, want.Options) {
		t.Errorf("counts = %+v, want %+v", tally.All, want)
	}
	var recount storage.PollTally
	rows := 0
	err = db.WalkPollAnswers(ctx, p.ID, func(a storage.PollAnswer) error {
		rows++
		recount.Add(a, 3)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows != n {
		t.Errorf("%d answers stored, want %d", rows, n)
	}
	for _, d := range districts {
		if got, want := tally.ByDistrict[d], recount.ByDistrict[d]; got.Respondents != want.Respondents || !slices.Equal(got.Options, want.Options) {
			t.Errorf("district %q: live %+v, recount %+v", d, got, want)
		}
	}
	for _, l := range []storage.Lang{storage.Kazakh, storage.Russian} {
		if got, want := tally.ByLang[l], recount.ByLang[l]; got.Respondents != want.Respondents || !slices.Equal(got.Options, want.Options) {
			t.Errorf("language %s: live %+v, recount %+v", l, got, want)
		}
	}
}

func TestDB_ClosePoll(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	subscribeAll(t, db, subscriber(1, "karasai", storage.Kazakh), subscriber(2, "karasai", storage.Russian), subscriber(3, "talgar", storage.Kazakh))
	p := sendPoll(t, db, testPoll(false, false))
	for _, chatID := range []int64{1, 2, 3} {
		if _, _, err := db.AnswerPoll(ctx, p.ID, chatID, choice(0), testNow); err != nil {
			t.Fatal(err)
		}
	}
	// Person 3 unsubscribes: no summary for them.
	if _, err := db.Unsubscribe(ctx, 3, testNow); err != nil {
		t.Fatal(err)
	}
	quiet := sendPoll(t, db, testPoll(false, false))

	if due, err := db.DuePolls(ctx, p.ClosesAt.Add(-time.Second)); err != nil || len(due) != 0 {
		t.Errorf("due before closing time = %v, %v; want none", due, err)
	}
	due, err := db.DuePolls(ctx, p.ClosesAt)
	if err != nil || len(due) != 2 {
		t.Fatalf("due at closing time = %v, %v; want both polls", due, err)
	}
	closed, first, err := db.ClosePoll(ctx, p.ID, p.ClosesAt)
	if err != nil || !first || closed.Status != storage.PollClosed || !closed.SummaryOwed || closed.Respondents != 3 {
		t.Fatalf("close = %+v, %v, %v; want closed now, summary owed, 3 respondents", closed, first, err)
	}
	if _, again, err := db.ClosePoll(ctx, p.ID, p.ClosesAt); err != nil || again {
		t.Errorf("second close = %v, %v; want no error and not closed again", again, err)
	}
	// The closed poll stays due until its summary is out; the other one
	// is due to close.
	if due, _ := db.DuePolls(ctx, p.ClosesAt); len(due) != 2 {
		t.Errorf("due after closing one = %d polls, want 2", len(due))
	}
	_, sb, err := db.SendPollSummary(ctx, p.ID, storage.Broadcast{AdminChatID: 9001, CreatedAt: p.ClosesAt,
		Versions: map[storage.Lang]storage.Version{storage.Kazakh: {Text: "3 жас жауап берді"}, storage.Russian: {Text: "Ответили 3"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, done, err := db.AddRecipients(ctx, sb.ID, 100); err != nil || !done {
		t.Fatal(done, err)
	}
	left, _ := db.PendingRecipients(ctx, sb.ID, 0, false, 10)
	wantLeft := []storage.Recipient{{ChatID: 1, Lang: storage.Kazakh}, {ChatID: 2, Lang: storage.Russian}}
	if !slices.Equal(left, wantLeft) || sb.PollID != 0 {
		t.Errorf("summary recipients = %v (poll id %d), want %v, no buttons' poll", left, sb.PollID, wantLeft)
	}
	if _, _, err := db.SendPollSummary(ctx, p.ID, storage.Broadcast{CreatedAt: p.ClosesAt}); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("second summary = %v, want a conflict", err)
	}
	// A poll nobody answered owes a summary to nobody.
	if _, _, err := db.ClosePoll(ctx, quiet.ID, p.ClosesAt); err != nil {
		t.Fatal(err)
	}
	q, none, err := db.SendPollSummary(ctx, quiet.ID, storage.Broadcast{CreatedAt: p.ClosesAt})
	if err != nil || none.ID != 0 || q.SummaryOwed {
		t.Errorf("summary of an unanswered poll = %+v, %+v, %v; want no broadcast, nothing owed", q, none, err)
	}
	if due, _ := db.DuePolls(ctx, p.ClosesAt); len(due) != 0 {
		t.Errorf("due after both summaries = %v, want none", due)
	}
	draft, _ := db.CreatePoll(ctx, testPoll(false, false))
	if _, _, err := db.ClosePoll(ctx, draft.ID, testNow); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("closing a draft = %v, want a conflict", err)
	}
}

// TestDB_ClosePoll_StopsDelivery: a poll that closes while its question is
// still going out stops the delivery: nobody is asked what takes no answer.
func TestDB_ClosePoll_StopsDelivery(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	subscribeAll(t, db, subscriber(1, "", storage.Kazakh), subscriber(2, "", storage.Kazakh))
	p, err := db.CreatePoll(ctx, testPoll(false, false))
	if err != nil {
		t.Fatal(err)
	}
	_, b, err := db.SendPoll(ctx, p.ID, storage.Broadcast{CreatedAt: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.AddRecipients(ctx, b.ID, 100); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.ClosePoll(ctx, p.ID, testNow.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.ClaimDelivery(ctx, b.ID, 1); err != nil || ok {
		t.Errorf("claim after the poll closed = %v, %v; want refused", ok, err)
	}
	if got, _ := db.Broadcast(ctx, b.ID); got.Status != storage.BroadcastCancelled {
		t.Errorf("delivery after closing = %s, want cancelled", got.Status)
	}
	if got, _ := db.Poll(ctx, p.ID); got.Status != storage.PollClosed {
		t.Errorf("poll = %s, want it to stay closed", got.Status)
	}
}

func TestDB_RecentPolls(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	var ids []uint64
	for range 5 {
		p, err := db.CreatePoll(ctx, testPoll(false, false))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	page := func(before uint64, n int) []uint64 {
		list, err := db.RecentPolls(ctx, before, n)
		if err != nil {
			t.Fatal(err)
		}
		var out []uint64
		for _, p := range list {
			out = append(out, p.ID)
		}
		return out
	}
	if got := page(0, 2); !slices.Equal(got, []uint64{ids[4], ids[3]}) {
		t.Errorf("first page = %v", got)
	}
	if got := page(ids[3], 2); !slices.Equal(got, []uint64{ids[2], ids[1]}) {
		t.Errorf("second page = %v", got)
	}
	if got := page(ids[1], 2); !slices.Equal(got, []uint64{ids[0]}) {
		t.Errorf("last page = %v", got)
	}
	if got := page(ids[4]+10, 1); !slices.Equal(got, []uint64{ids[4]}) {
		t.Errorf("page before an id past the end = %v", got)
	}
}

// TestDB_Forget_PollAnswers scans the raw file, as TestDB_Forget does: the
// person's free text is gone from every byte, no key names them, and the
// counts and the CSV rows still include their answer, unlinked.
func TestDB_Forget_PollAnswers(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jastar.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const me, other = int64(880001), int64(880002)
	const secret = "Zhanargul-Poll-Secret"
	subscribeAll(t, db, subscriber(me, "karasai", storage.Kazakh), subscriber(other, "talgar", storage.Russian))
	p := sendPoll(t, db, testPoll(true, true))
	for i := range 4 { // old versions of the answer land in freed pages
		if _, _, err := db.AnswerPoll(ctx, p.ID, me, storage.PollChoice{Options: []int{i % 3}, Other: true, OtherText: fmt.Sprintf("%s %d", secret, i)}, testNow); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := db.AnswerPoll(ctx, p.ID, other, choice(1), testNow); err != nil {
		t.Fatal(err)
	}
	if mine, _ := db.PollAnswersOf(ctx, me); len(mine) != 1 || mine[0].Answer.OtherText != secret+" 3" {
		t.Fatalf("answers of the person before forget = %+v", mine)
	}
	_, before, _ := db.PollTally(ctx, p.ID)

	rep, err := db.Forget(ctx, me)
	if err != nil {
		t.Fatal(err)
	}
	if rep.PollAnswers != 1 {
		t.Errorf("report = %+v, want 1 poll answer unlinked", rep)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file, []byte(secret)) {
		t.Errorf("the database file still contains the person's free text")
	}
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if mine, err := db.PollAnswersOf(ctx, me); err != nil || len(mine) != 0 {
		t.Errorf("answers of the person after forget = %+v, %v; want none", mine, err)
	}
	if _, err := db.PollAnswer(ctx, p.ID, me); !isNotFound(err) {
		t.Errorf("the person's answer after forget: %v, want not found", err)
	}
	_, after, err := db.PollTally(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.All.Respondents != before.All.Respondents || !slices.Equal(after.All.Options, before.All.Options) ||
		after.All.Other != before.All.Other || after.ByDistrict["karasai"].Respondents != 1 {
		t.Errorf("counts after forget = %+v, want unchanged %+v", after, before)
	}
	var rows []storage.PollAnswer
	if err := db.WalkPollAnswers(ctx, p.ID, func(a storage.PollAnswer) error { rows = append(rows, a); return nil }); err != nil {
		t.Fatal(err)
	}
	var anon *storage.PollAnswer
	for i, a := range rows {
		if a.ChatID == 0 {
			anon = &rows[i]
		}
	}
	if len(rows) != 2 || anon == nil || anon.OtherText != "" || !anon.Other || !anon.At.IsZero() || anon.DistrictID != "karasai" || !slices.Equal(anon.Options, []int{0}) {
		t.Errorf("answers after forget = %+v; want the other person's and the forgotten one's unlinked, without text or time", rows)
	}
	err = db.bolt.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketPollAnswers, bucketPollAnswersByChat, bucketPollAnswersAnon} {
			_ = tx.Bucket(name).ForEach(func(k, _ []byte) error {
				if bytes.Contains(k, encodeChatID(me)) {
					t.Errorf("%s still has key %x of the person", name, k)
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Forgotten, the person can no longer answer: their delivery is gone.
	if _, _, err := db.AnswerPoll(ctx, p.ID, me, choice(2), testNow); !errors.Is(err, storage.ErrNotRecipient) {
		t.Errorf("answer after forget = %v, want ErrNotRecipient", err)
	}
}
