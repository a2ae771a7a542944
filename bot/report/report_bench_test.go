package report

import (
	"fmt"
	"io"
	"testing"

	"jastar/storage"
)

// benchPoll is an eight-option poll with "other" and benchN answers from
// the catalog's twelve districts and "not given": the largest results
// page the issue asks for (storage/boltdb's BenchmarkPollResults_100k
// reads the counts of such a poll from the database).
const benchN = 100_000

func benchPoll() (storage.Poll, []storage.PollAnswer) {
	p := testPoll()
	for len(p.Options) < storage.MaxPollOptions {
		o := fmt.Sprintf("Нұсқа %d", len(p.Options)+1)
		p.Options = append(p.Options, storage.PollText{KK: o, RU: o})
	}
	districts := []string{"balkhash", "enbekshikazakh", "zhambyl", "ili", "karasai", "kegen", "raiymbek", "talgar", "uygur", "konaev", "alatau", "karaganda", ""}
	answers := make([]storage.PollAnswer, benchN)
	for i := range answers {
		a := storage.PollAnswer{DistrictID: districts[i%len(districts)], Lang: storage.Kazakh}
		if i%3 == 0 {
			a.Lang = storage.Russian
		}
		a.Options = []int{i % storage.MaxPollOptions}
		if i%7 == 0 {
			a.Other, a.OtherText = true, "басқа"
		}
		answers[i] = a
	}
	return p, answers
}

// BenchmarkPollChart_100k computes the results of 100,000 answers from
// their counts and draws the chart: the rest of a results page after the
// database read.
func BenchmarkPollChart_100k(b *testing.B) {
	p, answers := benchPoll()
	var tally storage.PollTally
	for _, a := range answers {
		tally.Add(a, len(p.Options))
	}
	l := testLabels(b)
	b.ResetTimer()
	for b.Loop() {
		res := storage.ResultsOf(len(p.Options), tally)
		if _, err := PollChart(p, res, l); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWritePollCSV_100k writes the CSV of 100,000 answers (from
// memory; BenchmarkWalkPollAnswers_100k in storage/boltdb reads them).
func BenchmarkWritePollCSV_100k(b *testing.B) {
	p, answers := benchPoll()
	var tally storage.PollTally
	for _, a := range answers {
		tally.Add(a, len(p.Options))
	}
	res := storage.ResultsOf(len(p.Options), tally)
	l := testLabels(b)
	walk := func(f func(storage.PollAnswer) error) error {
		for _, a := range answers {
			if err := f(a); err != nil {
				return err
			}
		}
		return nil
	}
	b.ResetTimer()
	for b.Loop() {
		if err := WritePollCSV(io.Discard, p, res, l, walk); err != nil {
			b.Fatal(err)
		}
	}
}
