package boltdb

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
)

// benchDistricts are the districts of the bench respondents: the
// catalog's twelve and "not given".
var benchDistricts = []string{"balkhash", "enbekshikazakh", "zhambyl", "ili", "karasai", "kegen", "raiymbek", "talgar", "uygur", "konaev", "alatau", "karaganda", ""}

// benchPollDB opens a database with n subscribers who were all sent an
// eight-option poll (delivered), and returns it with the poll.
func benchPollDB(b *testing.B, n int) (*DB, storage.Poll) {
	b.Helper()
	db, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	subs := make([]storage.Subscription, n)
	for i := range subs {
		lang := storage.Kazakh
		if i%3 == 0 {
			lang = storage.Russian
		}
		subs[i] = subscriber(int64(i+1), benchDistricts[i%len(benchDistricts)], lang)
	}
	subscribeAll(b, db, subs...)
	p := testPoll(true, true)
	for len(p.Options) < storage.MaxPollOptions {
		o := fmt.Sprintf("Нұсқа %d", len(p.Options)+1)
		p.Options = append(p.Options, storage.PollText{KK: o, RU: o})
	}
	return db, sendPoll(b, db, p)
}

// benchChoice is person i's answer: one or two options, sometimes other.
func benchChoice(i int) storage.PollChoice {
	c := storage.PollChoice{Options: []int{i % storage.MaxPollOptions}}
	if i%5 == 0 {
		c.Options = append(c.Options, (i+3)%storage.MaxPollOptions)
	}
	if i%7 == 0 {
		c.Other, c.OtherText = true, "басқа"
	}
	return c
}

// BenchmarkAnswerPoll_Latency records 10,000 answers of 10,000 people
// arriving open-loop at a fixed rate, each in its own goroutine as the
// dispatcher runs chats in parallel, and reports the latency of AnswerPoll
// (one committed transaction, fsync included) at the 50th and 99th
// percentile and the worst. The issue asks for 10,000 within a minute
// (about 170 a second) under 100 ms at p99; the rates below are 6 and 18
// times that. Run it with -benchtime=1x: one iteration is the whole burst.
func BenchmarkAnswerPoll_Latency(b *testing.B) {
	const n = 10_000
	for _, rate := range []int{170, 1000, 3000} {
		b.Run(fmt.Sprintf("rate=%d/s", rate), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				db, p := benchPollDB(b, n)
				b.StartTimer()
				lat := make([]time.Duration, n)
				var wg sync.WaitGroup
				errs := make(chan error, n)
				interval := time.Second / time.Duration(rate)
				start := time.Now()
				for i := range n {
					time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
					wg.Go(func() {
						t0 := time.Now()
						_, _, err := db.AnswerPoll(context.Background(), p.ID, int64(i+1), benchChoice(i), testNow)
						lat[i] = time.Since(t0)
						if err != nil {
							errs <- err
						}
					})
				}
				wg.Wait()
				elapsed := time.Since(start)
				b.StopTimer()
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
				_, tally, err := db.PollTally(context.Background(), p.ID)
				if err != nil || tally.All.Respondents != n {
					b.Fatalf("counted %d of %d answers (%v)", tally.All.Respondents, n, err)
				}
				slices.Sort(lat)
				ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
				b.ReportMetric(ms(lat[n/2]), "p50-ms")
				b.ReportMetric(ms(lat[n*99/100]), "p99-ms")
				b.ReportMetric(ms(lat[n-1]), "max-ms")
				b.ReportMetric(float64(n)/elapsed.Seconds(), "answers/s")
				b.StartTimer()
			}
		})
	}
}

// seedAnswers records n answers (persons 1..n) through the same code as
// AnswerPoll, a thousand a transaction, so 100,000 take seconds.
func seedAnswers(b *testing.B, db *DB, p storage.Poll, n int) {
	b.Helper()
	for from := 0; from < n; from += 1000 {
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			for i := from; i < min(n, from+1000); i++ {
				_, _, refused, err := answer(tx, p.ID, int64(i+1), benchChoice(i), testNow)
				if err != nil {
					return err
				}
				if refused != nil {
					return refused
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPollResults_100k reads a poll's counts with 100,000 answers
// and computes its results: the results page's whole database work. It
// reads one small value, however many answered.
func BenchmarkPollResults_100k(b *testing.B) {
	const n = 100_000
	db, p := benchPollDB(b, n)
	seedAnswers(b, db, p, n)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		p, tally, err := db.PollTally(ctx, p.ID)
		if err != nil {
			b.Fatal(err)
		}
		if res := storage.ResultsOf(len(p.Options), tally); res.All.Respondents != n {
			b.Fatalf("results of %d respondents, want %d", res.All.Respondents, n)
		}
	}
}

// BenchmarkWalkPollAnswers_100k reads every answer of a poll with 100,000,
// as the CSV export does.
func BenchmarkWalkPollAnswers_100k(b *testing.B) {
	const n = 100_000
	db, p := benchPollDB(b, n)
	seedAnswers(b, db, p, n)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		rows := 0
		if err := db.WalkPollAnswers(ctx, p.ID, func(storage.PollAnswer) error { rows++; return nil }); err != nil {
			b.Fatal(err)
		}
		if rows != n {
			b.Fatalf("%d rows, want %d", rows, n)
		}
	}
}
