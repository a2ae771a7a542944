package boltdb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

type pollTextRecord struct {
	KK string `json:"kk,omitempty"`
	RU string `json:"ru,omitempty"`
}

type pollRecord struct {
	Question           pollTextRecord   `json:"question"`
	Options            []pollTextRecord `json:"options"`
	Multiple           bool             `json:"multiple,omitempty"`
	Other              bool             `json:"other,omitempty"`
	Topic              string           `json:"topic,omitempty"`
	DistrictID         string           `json:"district_id,omitempty"`
	Lang               string           `json:"lang,omitempty"`
	ClosesAt           time.Time        `json:"closes_at"`
	NotifyRespondents  bool             `json:"notify_respondents,omitempty"`
	Status             string           `json:"status"`
	CreatedBy          int64            `json:"created_by"`
	CreatedAt          time.Time        `json:"created_at"`
	ClosedAt           time.Time        `json:"closed_at,omitzero"`
	BroadcastID        uint64           `json:"broadcast_id,omitempty"`
	SummaryBroadcastID uint64           `json:"summary_broadcast_id,omitempty"`
	SummaryOwed        bool             `json:"summary_owed,omitempty"`
}

func pollToRecord(p storage.Poll) pollRecord {
	r := pollRecord{
		Question: pollTextRecord(p.Question), Multiple: p.Multiple, Other: p.Other,
		Topic: string(p.Audience.Topic), DistrictID: p.Audience.DistrictID, Lang: string(p.Audience.Lang),
		ClosesAt: p.ClosesAt.UTC(), NotifyRespondents: p.NotifyRespondents, Status: string(p.Status),
		CreatedBy: p.CreatedBy, CreatedAt: p.CreatedAt.UTC(), ClosedAt: p.ClosedAt.UTC(),
		BroadcastID: p.BroadcastID, SummaryBroadcastID: p.SummaryBroadcastID, SummaryOwed: p.SummaryOwed,
	}
	for _, o := range p.Options {
		r.Options = append(r.Options, pollTextRecord(o))
	}
	return r
}

func (r pollRecord) toPoll(id uint64) storage.Poll {
	p := storage.Poll{
		ID: id, Question: storage.PollText(r.Question), Multiple: r.Multiple, Other: r.Other,
		Audience: storage.Audience{Topic: storage.Topic(r.Topic), DistrictID: r.DistrictID, Lang: storage.Lang(r.Lang)},
		ClosesAt: r.ClosesAt, NotifyRespondents: r.NotifyRespondents, Status: storage.PollStatus(r.Status),
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, ClosedAt: r.ClosedAt,
		BroadcastID: r.BroadcastID, SummaryBroadcastID: r.SummaryBroadcastID, SummaryOwed: r.SummaryOwed,
	}
	for _, o := range r.Options {
		p.Options = append(p.Options, storage.PollText(o))
	}
	return p
}

// countRecord and tallyRecord hold storage.PollTally with short names: the
// value is rewritten with every answer.
type countRecord struct {
	N       int   `json:"n"`
	Options []int `json:"o,omitempty"`
	Other   int   `json:"x,omitempty"`
}

type tallyRecord struct {
	All        countRecord            `json:"all"`
	ByDistrict map[string]countRecord `json:"d,omitempty"`
	ByLang     map[string]countRecord `json:"l,omitempty"`
}

func tallyToRecord(t storage.PollTally) tallyRecord {
	c := func(p storage.PollCount) countRecord {
		return countRecord{N: p.Respondents, Options: p.Options, Other: p.Other}
	}
	r := tallyRecord{All: c(t.All), ByDistrict: map[string]countRecord{}, ByLang: map[string]countRecord{}}
	for k, v := range t.ByDistrict {
		r.ByDistrict[k] = c(v)
	}
	for k, v := range t.ByLang {
		r.ByLang[string(k)] = c(v)
	}
	return r
}

func (r tallyRecord) toTally() storage.PollTally {
	c := func(p countRecord) storage.PollCount {
		return storage.PollCount{Respondents: p.N, Options: p.Options, Other: p.Other}
	}
	t := storage.PollTally{All: c(r.All), ByDistrict: map[string]storage.PollCount{}, ByLang: map[storage.Lang]storage.PollCount{}}
	for k, v := range r.ByDistrict {
		t.ByDistrict[k] = c(v)
	}
	for k, v := range r.ByLang {
		t.ByLang[storage.Lang(k)] = c(v)
	}
	return t
}

type answerRecord struct {
	Options    []int     `json:"options,omitempty"`
	Other      bool      `json:"other,omitempty"`
	OtherText  string    `json:"other_text,omitempty"`
	DistrictID string    `json:"district_id,omitempty"`
	Lang       string    `json:"lang,omitempty"`
	At         time.Time `json:"at,omitzero"`
}

func answerToRecord(a storage.PollAnswer) answerRecord {
	return answerRecord{
		Options: a.Options, Other: a.Other, OtherText: a.OtherText,
		DistrictID: a.DistrictID, Lang: string(a.Lang), At: a.At.UTC(),
	}
}

func (r answerRecord) toAnswer(pollID uint64, chatID int64) storage.PollAnswer {
	return storage.PollAnswer{
		PollID: pollID, ChatID: chatID,
		PollChoice: storage.PollChoice{Options: r.Options, Other: r.Other, OtherText: r.OtherText},
		DistrictID: r.DistrictID, Lang: storage.Lang(r.Lang), At: r.At,
	}
}

func getPollRecord(tx *bolt.Tx, id uint64) (pollRecord, error) {
	return getRecord[pollRecord](tx, bucketPolls, encodeUint(id), "poll %d", id)
}

func putPollRecord(tx *bolt.Tx, id uint64, r pollRecord) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode poll %d: %w", id, err)
	}
	return tx.Bucket(bucketPolls).Put(encodeUint(id), raw)
}

// getTally returns the poll's counts; a poll nobody answered has none
// stored.
func getTally(tx *bolt.Tx, id uint64) (storage.PollTally, error) {
	r, err := getRecord[tallyRecord](tx, bucketPollCounts, encodeUint(id), "poll counts %d", id)
	if isNotFound(err) {
		return storage.PollTally{}, nil
	}
	if err != nil {
		return storage.PollTally{}, err
	}
	return r.toTally(), nil
}

func putTally(tx *bolt.Tx, id uint64, t storage.PollTally) error {
	raw, err := json.Marshal(tallyToRecord(t))
	if err != nil {
		return fmt.Errorf("encode poll counts %d: %w", id, err)
	}
	return tx.Bucket(bucketPollCounts).Put(encodeUint(id), raw)
}

// getPoll returns the poll with Respondents from its counts.
func getPoll(tx *bolt.Tx, id uint64) (storage.Poll, error) {
	r, err := getPollRecord(tx, id)
	if err != nil {
		return storage.Poll{}, err
	}
	t, err := getTally(tx, id)
	if err != nil {
		return storage.Poll{}, err
	}
	p := r.toPoll(id)
	p.Respondents = t.All.Respondents
	return p, nil
}

// CreatePoll implements storage.PollStore.
func (db *DB) CreatePoll(ctx context.Context, p storage.Poll) (storage.Poll, error) {
	if err := ctx.Err(); err != nil {
		return storage.Poll{}, err
	}
	p.Status, p.BroadcastID, p.SummaryBroadcastID, p.SummaryOwed, p.ClosedAt, p.Respondents = storage.PollDraft, 0, 0, false, time.Time{}, 0
	if err := p.Validate(); err != nil {
		return storage.Poll{}, err
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		id, err := tx.Bucket(bucketPolls).NextSequence()
		if err != nil {
			return err
		}
		p.ID = id
		return putPollRecord(tx, id, pollToRecord(p))
	})
	if err != nil {
		return storage.Poll{}, fmt.Errorf("create poll: %w", err)
	}
	return p, nil
}

// DeleteDraft implements storage.PollStore.
func (db *DB) DeleteDraft(ctx context.Context, id uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		r, err := getPollRecord(tx, id)
		if err != nil {
			return err
		}
		if storage.PollStatus(r.Status) != storage.PollDraft {
			return fmt.Errorf("delete poll %d in status %s: %w", id, r.Status, storage.ErrConflict)
		}
		return tx.Bucket(bucketPolls).Delete(encodeUint(id))
	})
}

// Poll implements storage.PollStore.
func (db *DB) Poll(ctx context.Context, id uint64) (storage.Poll, error) {
	return viewOne(ctx, db, func(tx *bolt.Tx) (storage.Poll, error) { return getPoll(tx, id) })
}

// RecentPolls implements storage.PollStore: a reverse walk from before.
func (db *DB) RecentPolls(ctx context.Context, before uint64, n int) ([]storage.Poll, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []storage.Poll
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketPolls).Cursor()
		var k []byte
		if before == 0 {
			k, _ = c.Last()
		} else {
			// Seek lands on before itself or the first id after it (or
			// nothing); the page starts at the one below.
			if k, _ = c.Seek(encodeUint(before)); k == nil {
				k, _ = c.Last()
			} else {
				k, _ = c.Prev()
			}
		}
		for ; k != nil && len(out) < n; k, _ = c.Prev() {
			if id := decodeUint(k); before == 0 || id < before {
				p, err := getPoll(tx, id)
				if err != nil {
					return err
				}
				out = append(out, p)
			}
		}
		return nil
	})
	return out, err
}

// SendPoll implements storage.PollStore. Like CreateBroadcast, the
// audience is read in a read transaction (it decodes every subscription
// of the audience and holds up no writer); the write transaction then
// checks the poll is still a draft, stores the broadcast with that list and
// makes the poll sending, so a poll is never sent twice nor left sending
// without its broadcast.
func (db *DB) SendPoll(ctx context.Context, id uint64, b storage.Broadcast) (storage.Poll, storage.Broadcast, error) {
	if err := ctx.Err(); err != nil {
		return storage.Poll{}, storage.Broadcast{}, err
	}
	var snap []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		r, err := getPollRecord(tx, id)
		if err != nil {
			return err
		}
		snap, err = audienceSnapshot(tx, r.toPoll(id).Audience)
		return err
	})
	if err != nil {
		return storage.Poll{}, storage.Broadcast{}, fmt.Errorf("read poll %d audience: %w", id, err)
	}
	var p storage.Poll
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		r, err := getPollRecord(tx, id)
		if err != nil {
			return err
		}
		p = r.toPoll(id)
		if !p.Status.CanBecome(storage.PollSending) {
			return fmt.Errorf("send poll %d in status %s: %w", id, p.Status, storage.ErrConflict)
		}
		b.PollID, b.Audience = id, p.Audience
		if b, err = insertBroadcast(tx, b, snap); err != nil {
			return err
		}
		p.Status, p.BroadcastID = storage.PollSending, b.ID
		return putPollRecord(tx, id, pollToRecord(p))
	})
	if err != nil {
		return storage.Poll{}, storage.Broadcast{}, fmt.Errorf("send poll %d: %w", id, err)
	}
	return p, b, nil
}

// pollDelivered makes a sending poll open once its broadcast is over (done
// or cancelled); a poll closed meanwhile stays closed.
func pollDelivered(tx *bolt.Tx, id uint64) error {
	r, err := getPollRecord(tx, id)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if storage.PollStatus(r.Status) != storage.PollSending {
		return nil
	}
	r.Status = string(storage.PollOpen)
	return putPollRecord(tx, id, r)
}

// AnswerPoll implements storage.PollStore. It is one transaction through
// Batch, so a burst of answers shares commits: the answer, its by-chat
// entry and the counts are written together or not at all. The answer is
// keyed by poll and chat, so a redelivered tap finds its own answer and
// changes nothing, and a change first uncounts the old answer.
//
// Refusals (closed, not a recipient, a bad choice) return from the
// transaction without an error and are reported after it: an error inside
// a Batch would make bbolt roll back and rerun everyone else's answers of
// that batch, and after a poll closes, refusals come in bursts.
func (db *DB) AnswerPoll(ctx context.Context, id uint64, chatID int64, c storage.PollChoice, now time.Time) (storage.Poll, storage.PollAnswer, error) {
	if err := ctx.Err(); err != nil {
		return storage.Poll{}, storage.PollAnswer{}, err
	}
	var (
		p       storage.Poll
		a       storage.PollAnswer
		refused error
	)
	err := db.bolt.Batch(func(tx *bolt.Tx) error {
		refused = nil
		var err error
		p, a, refused, err = answer(tx, id, chatID, c, now)
		return err
	})
	if err == nil {
		err = refused
	}
	if err != nil {
		return p, storage.PollAnswer{}, fmt.Errorf("answer poll %d: %w", id, err)
	}
	return p, a, nil
}

// answer records one answer in tx. A refusal is returned as refused, with
// nothing written; err is the database failing.
func answer(tx *bolt.Tx, id uint64, chatID int64, c storage.PollChoice, now time.Time) (p storage.Poll, a storage.PollAnswer, refused, err error) {
	r, err := getPollRecord(tx, id)
	if isNotFound(err) {
		return p, a, err, nil
	}
	if err != nil {
		return p, a, nil, err
	}
	p = r.toPoll(id)
	// Only a chat the question reached has its buttons: a delivery that is
	// pending, blocked or failed (or none) means the tap is forged.
	var deliveryLang storage.Lang
	if p.BroadcastID != 0 {
		var state storage.DeliveryState
		state, deliveryLang = decodeDelivery(tx.Bucket(bucketDeliveries).Get(deliveryKey(p.BroadcastID, chatID)))
		if state != storage.DeliveryClaimed && state != storage.DeliverySent && state != storage.DeliveryUncertain {
			p.BroadcastID = 0
		}
	}
	if p.BroadcastID == 0 {
		return p, a, fmt.Errorf("chat %d: %w", chatID, storage.ErrNotRecipient), nil
	}
	if !p.Answerable(now) {
		return p, a, fmt.Errorf("at %s: %w", now.UTC().Format(time.RFC3339), storage.ErrPollClosed), nil
	}
	choice, refused := p.CheckChoice(c)
	if refused != nil {
		return p, a, refused, nil
	}
	tally, err := getTally(tx, id)
	if err != nil {
		return p, a, nil, err
	}
	defer func() { p.Respondents = tally.All.Respondents }()

	answers, byChat := tx.Bucket(bucketPollAnswers), tx.Bucket(bucketPollAnswersByChat)
	key := pollAnswerKey(id, chatID)
	var old *storage.PollAnswer
	if raw := answers.Get(key); raw != nil {
		var or answerRecord
		if err := json.Unmarshal(raw, &or); err != nil {
			return p, a, nil, fmt.Errorf("decode answer of %d: %w", chatID, err)
		}
		o := or.toAnswer(id, chatID)
		old = &o
	}

	a = storage.PollAnswer{PollID: id, ChatID: chatID, PollChoice: choice, At: now}
	if s, err := getSubscription(tx, chatID); err == nil {
		a.DistrictID = s.DistrictID
	} else if !isNotFound(err) {
		return p, a, nil, err
	}
	a.Lang = deliveryLang
	if u, err := getUser(tx, chatID); err == nil && u.Lang.Valid() {
		a.Lang = u.Lang
	}
	if !a.Lang.Valid() {
		a.Lang = storage.Kazakh
	}

	if old != nil {
		if sameAnswer(*old, a) {
			return p, *old, nil, nil // a redelivered tap: counted already
		}
		tally.Remove(*old, len(p.Options))
	}
	if choice.Empty() {
		if err := answers.Delete(key); err != nil {
			return p, a, nil, err
		}
		if err := byChat.Delete(pollChatKey(chatID, id)); err != nil {
			return p, a, nil, err
		}
	} else {
		tally.Add(a, len(p.Options))
		raw, err := json.Marshal(answerToRecord(a))
		if err != nil {
			return p, a, nil, fmt.Errorf("encode answer of %d: %w", chatID, err)
		}
		if err := answers.Put(key, raw); err != nil {
			return p, a, nil, err
		}
		if err := byChat.Put(pollChatKey(chatID, id), nil); err != nil {
			return p, a, nil, err
		}
	}
	return p, a, nil, putTally(tx, id, tally)
}

// sameAnswer reports whether b would record nothing new over a: the same
// choice from the same district and language.
func sameAnswer(a, b storage.PollAnswer) bool {
	return slices.Equal(a.Options, b.Options) && a.Other == b.Other && a.OtherText == b.OtherText &&
		a.DistrictID == b.DistrictID && a.Lang == b.Lang
}

// PollAnswer implements storage.PollStore.
func (db *DB) PollAnswer(ctx context.Context, id uint64, chatID int64) (storage.PollAnswer, error) {
	return viewOne(ctx, db, func(tx *bolt.Tx) (storage.PollAnswer, error) {
		r, err := getRecord[answerRecord](tx, bucketPollAnswers, pollAnswerKey(id, chatID), "answer of %d to poll %d", chatID, id)
		if err != nil {
			return storage.PollAnswer{}, err
		}
		return r.toAnswer(id, chatID), nil
	})
}

// PollTally implements storage.PollStore: two small values, whatever the
// number of answers.
func (db *DB) PollTally(ctx context.Context, id uint64) (storage.Poll, storage.PollTally, error) {
	var t storage.PollTally
	p, err := viewOne(ctx, db, func(tx *bolt.Tx) (storage.Poll, error) {
		p, err := getPoll(tx, id)
		if err != nil {
			return p, err
		}
		t, err = getTally(tx, id)
		return p, err
	})
	return p, t, err
}

// answersPage is how many answers WalkPollAnswers reads per transaction.
const answersPage = 1000

// WalkPollAnswers implements storage.PollStore: the linked answers in chat
// order, then the unlinked ones, each page in its own read transaction
// that resumes after the last key of the one before.
func (db *DB) WalkPollAnswers(ctx context.Context, id uint64, f func(storage.PollAnswer) error) error {
	prefix := encodeUint(id)
	for _, bucket := range [][]byte{bucketPollAnswers, bucketPollAnswersAnon} {
		var after []byte
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			var page []storage.PollAnswer
			err := db.bolt.View(func(tx *bolt.Tx) error {
				c := tx.Bucket(bucket).Cursor()
				k, v := c.Seek(prefix)
				if after != nil {
					if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
						k, v = c.Next()
					}
				}
				for ; k != nil && bytes.HasPrefix(k, prefix) && len(page) < answersPage; k, v = c.Next() {
					var r answerRecord
					if err := json.Unmarshal(v, &r); err != nil {
						return fmt.Errorf("decode answer %x: %w", k, err)
					}
					chatID := int64(0)
					if bytes.Equal(bucket, bucketPollAnswers) {
						chatID = decodeChatID(k[8:16])
					}
					page = append(page, r.toAnswer(id, chatID))
					after = append(after[:0], k...)
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("read answers of poll %d: %w", id, err)
			}
			for _, a := range page {
				if err := f(a); err != nil {
					return err
				}
			}
			if len(page) < answersPage {
				break
			}
		}
	}
	return nil
}

// DuePolls implements storage.PollStore. Polls are few (an office asks a
// few a month), so a scan of their records is cheap.
func (db *DB) DuePolls(ctx context.Context, now time.Time) ([]storage.Poll, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []storage.Poll
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPolls).ForEach(func(k, v []byte) error {
			var r pollRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode poll %d: %w", decodeUint(k), err)
			}
			p := r.toPoll(decodeUint(k))
			if !p.Due(now) && !(p.Status == storage.PollClosed && p.SummaryOwed) {
				return nil
			}
			p, err := getPoll(tx, p.ID)
			if err != nil {
				return err
			}
			out = append(out, p)
			return nil
		})
	})
	return out, err
}

// ClosePoll implements storage.PollStore. A poll closed while its question
// is still being delivered has its broadcast cancelled in the same
// transaction: nobody is asked a question that no longer takes answers.
// The runner sees the cancel at its next claim and stops.
func (db *DB) ClosePoll(ctx context.Context, id uint64, now time.Time) (storage.Poll, bool, error) {
	if err := ctx.Err(); err != nil {
		return storage.Poll{}, false, err
	}
	var p storage.Poll
	closed := false
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		closed = false
		r, err := getPollRecord(tx, id)
		if err != nil {
			return err
		}
		t, err := getTally(tx, id)
		if err != nil {
			return err
		}
		p = r.toPoll(id)
		p.Respondents = t.All.Respondents
		if p.Status == storage.PollClosed {
			return nil
		}
		if !p.Status.CanBecome(storage.PollClosed) {
			return fmt.Errorf("close poll %d in status %s: %w", id, p.Status, storage.ErrConflict)
		}
		p.Status, p.ClosedAt, p.SummaryOwed = storage.PollClosed, now.UTC(), p.NotifyRespondents
		if err := putPollRecord(tx, id, pollToRecord(p)); err != nil {
			return err
		}
		closed = true
		if p.BroadcastID == 0 {
			return nil
		}
		err = updateProgress(tx, p.BroadcastID, func(bp *progressRecord) error {
			if storage.BroadcastStatus(bp.Status).Final() {
				return nil
			}
			bp.Status, bp.FinishedAt, bp.Snapshot, bp.Filled = string(storage.BroadcastCancelled), now.UTC(), false, 0
			return nil
		})
		if err != nil && !isNotFound(err) {
			return err
		}
		return tx.Bucket(bucketBroadcastSnapshots).Delete(encodeUint(p.BroadcastID))
	})
	if err != nil {
		return storage.Poll{}, false, fmt.Errorf("close poll %d: %w", id, err)
	}
	return p, closed, nil
}

// SendPollSummary implements storage.PollStore. The respondents are read
// from the poll's answers inside the write transaction: a closed poll's
// answers no longer change, and the walk (a key and a subscription lookup
// per respondent, about 100 ms for 100,000) happens once per poll.
func (db *DB) SendPollSummary(ctx context.Context, id uint64, b storage.Broadcast) (storage.Poll, storage.Broadcast, error) {
	if err := ctx.Err(); err != nil {
		return storage.Poll{}, storage.Broadcast{}, err
	}
	var p storage.Poll
	var out storage.Broadcast
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		out = storage.Broadcast{}
		r, err := getPollRecord(tx, id)
		if err != nil {
			return err
		}
		p = r.toPoll(id)
		if !p.SummaryOwed {
			return fmt.Errorf("poll %d owes no summary: %w", id, storage.ErrConflict)
		}
		snap, err := respondentsSnapshot(tx, id)
		if err != nil {
			return err
		}
		if len(snap) > 0 {
			b.PollID = 0 // a plain announcement: no answer buttons
			if out, err = insertBroadcast(tx, b, snap); err != nil {
				return err
			}
		}
		p.SummaryOwed, p.SummaryBroadcastID = false, out.ID
		return putPollRecord(tx, id, pollToRecord(p))
	})
	if err != nil {
		return storage.Poll{}, storage.Broadcast{}, fmt.Errorf("send summary of poll %d: %w", id, err)
	}
	return p, out, nil
}

// respondentsSnapshot lists, as a broadcast_snapshots value in chat order,
// the respondents still linked to their answer whose subscription is
// active, each with their current language.
func respondentsSnapshot(tx *bolt.Tx, id uint64) ([]byte, error) {
	var snap []byte
	prefix := encodeUint(id)
	c := tx.Bucket(bucketPollAnswers).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		chatID := decodeChatID(k[8:16])
		s, err := getSubscription(tx, chatID)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !s.Active {
			continue
		}
		var r answerRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return nil, fmt.Errorf("decode answer of %d: %w", chatID, err)
		}
		lang := storage.Lang(r.Lang)
		if u, err := getUser(tx, chatID); err == nil && u.Lang.Valid() {
			lang = u.Lang
		}
		if !lang.Valid() {
			lang = storage.Kazakh
		}
		snap = append(append(snap, k[8:16]...), lang...)
	}
	return snap, nil
}

// PollAnswersOf implements storage.PollStore through poll_answers_by_chat.
func (db *DB) PollAnswersOf(ctx context.Context, chatID int64) ([]storage.AnsweredPoll, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []storage.AnsweredPoll
	err := db.bolt.View(func(tx *bolt.Tx) error {
		prefix := encodeChatID(chatID)
		c := tx.Bucket(bucketPollAnswersByChat).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			id := decodeUint(k[8:16])
			r, err := getRecord[answerRecord](tx, bucketPollAnswers, pollAnswerKey(id, chatID), "answer of %d to poll %d", chatID, id)
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return err
			}
			p, err := getPoll(tx, id)
			if err != nil {
				return err
			}
			out = append(out, storage.AnsweredPoll{Poll: p, Answer: r.toAnswer(id, chatID)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("poll answers of %d: %w", chatID, err)
	}
	return out, nil
}

// unlinkPollAnswers is Forget's part for polls: each of the person's
// answers moves to poll_answers_anon without chat, time or free text (the
// text may name them), and their by-chat entries go. The counts stay as
// they are: the answer still counts, anonymously.
func unlinkPollAnswers(tx *bolt.Tx, chatID int64) (int, error) {
	prefix := encodeChatID(chatID)
	byChat := tx.Bucket(bucketPollAnswersByChat)
	keys := keysWithPrefix(byChat, prefix)
	answers, anon := tx.Bucket(bucketPollAnswers), tx.Bucket(bucketPollAnswersAnon)
	n := 0
	for _, k := range keys {
		id := decodeUint(k[8:16])
		key := pollAnswerKey(id, chatID)
		if raw := answers.Get(key); raw != nil {
			var r answerRecord
			if err := json.Unmarshal(raw, &r); err != nil {
				return 0, fmt.Errorf("decode answer of %d to poll %d: %w", chatID, id, err)
			}
			r.OtherText, r.At = "", time.Time{}
			seq, err := anon.NextSequence()
			if err != nil {
				return 0, err
			}
			stripped, err := json.Marshal(r)
			if err != nil {
				return 0, fmt.Errorf("encode answer of poll %d: %w", id, err)
			}
			if err := anon.Put(pollAnonKey(id, seq), stripped); err != nil {
				return 0, err
			}
			if err := answers.Delete(key); err != nil {
				return 0, err
			}
			n++
		}
		if err := byChat.Delete(k); err != nil {
			return 0, err
		}
	}
	return n, nil
}
