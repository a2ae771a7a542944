package storage_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"jastar/storage"
)

var pollNow = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// validPoll is a poll in both languages that Validate accepts.
func validPoll() storage.Poll {
	return storage.Poll{
		Question: storage.PollText{KK: "Қандай тренинг керек?", RU: "Какой тренинг нужен?"},
		Options: []storage.PollText{
			{KK: "IT", RU: "IT"},
			{KK: "Кәсіпкерлік", RU: "Предпринимательство"},
			{KK: "Тілдер", RU: "Языки"},
		},
		Status:    storage.PollDraft,
		CreatedBy: 42,
		CreatedAt: pollNow,
		ClosesAt:  storage.DefaultClosesAt(pollNow),
	}
}

func TestPoll_Validate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*storage.Poll)
		ok     bool
	}{
		{"both languages", func(*storage.Poll) {}, true},
		{"kazakh only", func(p *storage.Poll) {
			p.Question.RU = ""
			for i := range p.Options {
				p.Options[i].RU = ""
			}
		}, true},
		{"russian only", func(p *storage.Poll) {
			p.Question.KK = ""
			for i := range p.Options {
				p.Options[i].KK = ""
			}
		}, true},
		{"a question on two lines", func(p *storage.Poll) { p.Question.KK = "Сұрақ:\nқайсысы?" }, true},
		{"eight options", func(p *storage.Poll) {
			for len(p.Options) < 8 {
				n := string(rune('A' + len(p.Options)))
				p.Options = append(p.Options, storage.PollText{KK: n, RU: n})
			}
		}, true},
		{"no question", func(p *storage.Poll) { p.Question = storage.PollText{} }, false},
		{"one option", func(p *storage.Poll) { p.Options = p.Options[:1] }, false},
		{"nine options", func(p *storage.Poll) {
			for len(p.Options) < 9 {
				n := string(rune('A' + len(p.Options)))
				p.Options = append(p.Options, storage.PollText{KK: n, RU: n})
			}
		}, false},
		{"an option missing a language the question has", func(p *storage.Poll) { p.Options[1].RU = "" }, false},
		{"an option in a language the question lacks", func(p *storage.Poll) {
			p.Question.RU = ""
			for i := range p.Options {
				p.Options[i].RU = ""
			}
			p.Options[0].RU = "IT"
		}, false},
		{"a repeated option", func(p *storage.Poll) { p.Options[2].KK = "it" }, false},
		{"an option on two lines", func(p *storage.Poll) { p.Options[0].KK = "I\nT" }, false},
		{"an option with surrounding spaces", func(p *storage.Poll) { p.Options[0].RU = " IT" }, false},
		{"an option too long", func(p *storage.Poll) { p.Options[0].KK = strings.Repeat("ә", storage.MaxPollOptionLen+1) }, false},
		{"a question too long", func(p *storage.Poll) { p.Question.RU = strings.Repeat("я", storage.MaxPollQuestionLen+1) }, false},
		{"a question at the limit", func(p *storage.Poll) { p.Question.RU = strings.Repeat("я", storage.MaxPollQuestionLen) }, true},
		{"no admin", func(p *storage.Poll) { p.CreatedBy = 0 }, false},
		{"unknown status", func(p *storage.Poll) { p.Status = "maybe" }, false},
		{"unknown topic", func(p *storage.Poll) { p.Audience.Topic = "sports" }, false},
		{"unknown audience language", func(p *storage.Poll) { p.Audience.Lang = "en" }, false},
		{"audience as broadcasts", func(p *storage.Poll) {
			p.Audience = storage.Audience{Topic: storage.TopicJobs, DistrictID: "karasai", Lang: storage.Russian}
		}, true},
		{"closing in an hour", func(p *storage.Poll) { p.ClosesAt = pollNow.Add(time.Hour) }, true},
		{"closing too soon", func(p *storage.Poll) { p.ClosesAt = pollNow.Add(59 * time.Minute) }, false},
		{"closing before creation", func(p *storage.Poll) { p.ClosesAt = pollNow.Add(-time.Hour) }, false},
		{"closing in 91 days", func(p *storage.Poll) { p.ClosesAt = pollNow.Add(91 * 24 * time.Hour) }, false},
		{"no creation time", func(p *storage.Poll) { p.CreatedAt = time.Time{} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPoll()
			tt.change(&p)
			err := p.Validate()
			if tt.ok && err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
			if !tt.ok && !errors.Is(err, storage.ErrInvalid) {
				t.Errorf("Validate() = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestPollText_In(t *testing.T) {
	both := storage.PollText{KK: "Иә", RU: "Да"}
	kk := storage.PollText{KK: "Иә"}
	tests := []struct {
		text storage.PollText
		lang storage.Lang
		want string
	}{
		{both, storage.Kazakh, "Иә"},
		{both, storage.Russian, "Да"},
		{kk, storage.Russian, "Иә"}, // Russian readers get the Kazakh text left alone
	}
	for _, tt := range tests {
		if got := tt.text.In(tt.lang); got != tt.want {
			t.Errorf("%+v.In(%s) = %q, want %q", tt.text, tt.lang, got, tt.want)
		}
	}
}

func TestPollStatus_CanBecome(t *testing.T) {
	all := []storage.PollStatus{storage.PollDraft, storage.PollSending, storage.PollOpen, storage.PollClosed}
	allowed := map[[2]storage.PollStatus]bool{
		{storage.PollDraft, storage.PollSending}:  true,
		{storage.PollSending, storage.PollOpen}:   true,
		{storage.PollSending, storage.PollClosed}: true,
		{storage.PollOpen, storage.PollClosed}:    true,
	}
	for _, from := range all {
		for _, to := range all {
			if got := from.CanBecome(to); got != allowed[[2]storage.PollStatus{from, to}] {
				t.Errorf("%s.CanBecome(%s) = %v", from, to, got)
			}
		}
	}
}

func TestPoll_Answerable(t *testing.T) {
	p := validPoll()
	tests := []struct {
		status storage.PollStatus
		at     time.Time
		want   bool
	}{
		{storage.PollDraft, pollNow, false},
		{storage.PollSending, pollNow, true},
		{storage.PollOpen, p.ClosesAt.Add(-time.Second), true},
		{storage.PollOpen, p.ClosesAt, false},
		{storage.PollClosed, pollNow, false},
	}
	for _, tt := range tests {
		p.Status = tt.status
		if got := p.Answerable(tt.at); got != tt.want {
			t.Errorf("%s poll answerable at %s = %v, want %v", tt.status, tt.at, got, tt.want)
		}
		if due := p.Due(tt.at); due != (!tt.want && (tt.status == storage.PollSending || tt.status == storage.PollOpen)) {
			t.Errorf("%s poll due at %s = %v", tt.status, tt.at, due)
		}
	}
}

func TestPoll_CheckChoice(t *testing.T) {
	single := validPoll()
	multi := validPoll()
	multi.Multiple, multi.Other = true, true
	tests := []struct {
		name   string
		poll   storage.Poll
		choice storage.PollChoice
		want   storage.PollChoice
		ok     bool
	}{
		{"one option", single, storage.PollChoice{Options: []int{1}}, storage.PollChoice{Options: []int{1}}, true},
		{"withdrawn", single, storage.PollChoice{}, storage.PollChoice{}, true},
		{"a forged index", single, storage.PollChoice{Options: []int{3}}, storage.PollChoice{}, false},
		{"a negative index", single, storage.PollChoice{Options: []int{-1}}, storage.PollChoice{}, false},
		{"two in a single-answer poll", single, storage.PollChoice{Options: []int{0, 1}}, storage.PollChoice{}, false},
		{"other where there is none", single, storage.PollChoice{Other: true, OtherText: "спорт"}, storage.PollChoice{}, false},
		{"several, sorted", multi, storage.PollChoice{Options: []int{2, 0}}, storage.PollChoice{Options: []int{0, 2}}, true},
		{"the same option twice", multi, storage.PollChoice{Options: []int{2, 2}}, storage.PollChoice{}, false},
		{"options and other, text trimmed", multi, storage.PollChoice{Options: []int{1}, Other: true, OtherText: "  спорт "},
			storage.PollChoice{Options: []int{1}, Other: true, OtherText: "спорт"}, true},
		{"text without other", multi, storage.PollChoice{Options: []int{1}, OtherText: "спорт"}, storage.PollChoice{}, false},
		{"other text too long", multi, storage.PollChoice{Other: true, OtherText: strings.Repeat("ө", storage.MaxPollOtherLen+1)}, storage.PollChoice{}, false},
		{"other text at the limit", multi, storage.PollChoice{Other: true, OtherText: strings.Repeat("ө", storage.MaxPollOtherLen)},
			storage.PollChoice{Other: true, OtherText: strings.Repeat("ө", storage.MaxPollOtherLen)}, true},
		{"other text on two lines", multi, storage.PollChoice{Other: true, OtherText: "a\nb"}, storage.PollChoice{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.poll.CheckChoice(tt.choice)
			if !tt.ok {
				if !errors.Is(err, storage.ErrInvalid) {
					t.Errorf("CheckChoice(%+v) = %v, want ErrInvalid", tt.choice, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("CheckChoice(%+v) = %v", tt.choice, err)
			}
			if !slices.Equal(got.Options, tt.want.Options) || got.Other != tt.want.Other || got.OtherText != tt.want.OtherText {
				t.Errorf("CheckChoice(%+v) = %+v, want %+v", tt.choice, got, tt.want)
			}
		})
	}
}

// TestPollTally_AddRemove: a change of answer moves the counts; removing
// everything leaves no empty groups behind.
func TestPollTally_AddRemove(t *testing.T) {
	var tally storage.PollTally
	a := storage.PollAnswer{PollChoice: storage.PollChoice{Options: []int{0, 2}}, DistrictID: "karasai", Lang: storage.Kazakh}
	b := storage.PollAnswer{PollChoice: storage.PollChoice{Other: true}, DistrictID: "", Lang: storage.Russian}
	tally.Add(a, 3)
	tally.Add(b, 3)
	if tally.All.Respondents != 2 || !slices.Equal(tally.All.Options, []int{1, 0, 1}) || tally.All.Other != 1 {
		t.Errorf("all = %+v, want 2 respondents, options 1 0 1, other 1", tally.All)
	}
	changed := a
	changed.Options, changed.DistrictID = []int{1}, "talgar"
	tally.Remove(a, 3)
	tally.Add(changed, 3)
	if _, ok := tally.ByDistrict["karasai"]; ok {
		t.Errorf("karasai still counted after its only respondent moved: %+v", tally.ByDistrict)
	}
	if got := tally.ByDistrict["talgar"]; got.Respondents != 1 || !slices.Equal(got.Options, []int{0, 1, 0}) {
		t.Errorf("talgar = %+v", got)
	}
	if tally.All.Respondents != 2 || !slices.Equal(tally.All.Options, []int{0, 1, 0}) {
		t.Errorf("all after the change = %+v", tally.All)
	}
	tally.Remove(changed, 3)
	tally.Remove(b, 3)
	if tally.All.Respondents != 0 || len(tally.ByDistrict) != 0 || len(tally.ByLang) != 0 {
		t.Errorf("tally after removing everyone = %+v", tally)
	}
}

func TestResultsOf(t *testing.T) {
	count := func(n int, opts ...int) storage.PollCount {
		return storage.PollCount{Respondents: n, Options: opts}
	}
	type group struct {
		key    string
		hidden bool
		n      int
	}
	tests := []struct {
		name      string
		districts map[string]storage.PollCount
		want      []group
	}{
		{"every district large enough",
			map[string]storage.PollCount{"karasai": count(10, 6, 4), "talgar": count(5, 1, 4), "": count(7, 7, 0)},
			[]group{{"karasai", false, 10}, {"", false, 7}, {"talgar", false, 5}}},
		{"a small district and a small not-given both hidden",
			map[string]storage.PollCount{"karasai": count(10, 6, 4), "talgar": count(3, 1, 2), "": count(2, 2, 0), "esik": count(8, 4, 4)},
			[]group{{"karasai", false, 10}, {"esik", false, 8}, {"", true, 0}, {"talgar", true, 0}}},
		// One hidden district would be the overall minus the others: the
		// smallest shown one goes with it.
		{"a single small district takes the next smallest with it",
			map[string]storage.PollCount{"karasai": count(10, 6, 4), "talgar": count(4, 1, 3), "esik": count(6, 4, 2)},
			[]group{{"karasai", false, 10}, {"esik", true, 0}, {"talgar", true, 0}}},
		{"two small districts under five together take the next with them",
			map[string]storage.PollCount{"karasai": count(10, 6, 4), "talgar": count(1, 1, 0), "esik": count(2, 2, 0), "kegen": count(9, 4, 5)},
			[]group{{"karasai", false, 10}, {"esik", true, 0}, {"kegen", true, 0}, {"talgar", true, 0}}},
		{"every district small",
			map[string]storage.PollCount{"karasai": count(4, 4, 0), "talgar": count(1, 1, 0)},
			[]group{{"karasai", true, 0}, {"talgar", true, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tally := storage.PollTally{ByDistrict: tt.districts}
			for _, c := range tt.districts {
				tally.All.Respondents += c.Respondents
				for len(tally.All.Options) < len(c.Options) {
					tally.All.Options = append(tally.All.Options, 0)
				}
				for i, n := range c.Options {
					tally.All.Options[i] += n
				}
			}
			res := storage.ResultsOf(2, tally)
			var got []group
			for _, g := range res.ByDistrict {
				got = append(got, group{g.Key, g.Hidden, g.Respondents})
				if g.Hidden && (g.Options != nil || g.Other != (storage.PollShare{})) {
					t.Errorf("hidden district %q carries numbers: %+v", g.Key, g)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("districts = %+v, want %+v", got, tt.want)
			}
			if res.All.Respondents != tally.All.Respondents || res.All.Hidden {
				t.Errorf("overall = %+v, want all %d respondents shown", res.All, tally.All.Respondents)
			}
		})
	}
}

func TestResultsOf_Shares(t *testing.T) {
	tally := storage.PollTally{
		All:    storage.PollCount{Respondents: 8, Options: []int{6, 4}, Other: 2},
		ByLang: map[storage.Lang]storage.PollCount{storage.Russian: {Respondents: 3, Options: []int{3, 0}}, storage.Kazakh: {Respondents: 5, Options: []int{3, 4}, Other: 2}},
	}
	res := storage.ResultsOf(2, tally)
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	// Several answers allowed: shares are of the people, so they add up to
	// more than one.
	if !near(res.All.Options[0].Share, 0.75) || !near(res.All.Options[1].Share, 0.5) || !near(res.All.Other.Share, 0.25) {
		t.Errorf("overall shares = %+v, other %+v", res.All.Options, res.All.Other)
	}
	if len(res.ByLang) != 2 || res.ByLang[0].Key != "kk" || res.ByLang[1].Key != "ru" || res.ByLang[1].Respondents != 3 {
		t.Errorf("languages = %+v, want Kazakh then Russian, unhidden even when small", res.ByLang)
	}
	if empty := storage.ResultsOf(2, storage.PollTally{}); empty.All.Respondents != 0 || len(empty.All.Options) != 2 || empty.All.Options[0].Share != 0 {
		t.Errorf("results of no answers = %+v", empty.All)
	}
}

func TestErrors_PollRefusals(t *testing.T) {
	for _, err := range []error{storage.ErrPollClosed, storage.ErrNotRecipient} {
		if !errors.Is(err, storage.ErrConflict) {
			t.Errorf("%v is not a conflict", err)
		}
	}
	if errors.Is(storage.ErrPollClosed, storage.ErrNotRecipient) || errors.Is(storage.ErrNotRecipient, storage.ErrPollClosed) {
		t.Error("the poll refusals are not told apart")
	}
}
