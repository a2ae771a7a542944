package storage

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Polls (issue 18): an admin asks subscribers a question with 2 to 8
// options; the question goes out as a broadcast (Broadcast.PollID), so it
// is delivered by the broadcast runner with everything that guarantees,
// and each person's answer is one committed transaction that also moves
// the poll's live counts (PollTally). Results are a pure function of the
// counts (ResultsOf): no answer is read to show them.

// ErrPollClosed means the poll takes no answers any more: it was closed,
// or its closing time has passed. It is a conflict.
var ErrPollClosed = fmt.Errorf("poll closed: %w", ErrConflict)

// ErrNotRecipient means the chat that answered was never sent the poll (a
// forged button, or a person who was forgotten since). It is a conflict.
var ErrNotRecipient = fmt.Errorf("not a recipient of the poll: %w", ErrConflict)

// Limits of a poll, in UTF-16 code units as Telegram counts them. The
// question and its options are one message
// (https://core.telegram.org/bots/api#sendmessage, 4096 units): at these
// limits, with the options listed and a "your answer" line, it stays below.
// An option is also a button's text, which clients cut at about 40
// characters on a phone, so options are meant to be short.
const (
	MinPollOptions     = 2
	MaxPollOptions     = 8
	MaxPollQuestionLen = 1000
	MaxPollOptionLen   = 100
	// MaxPollOtherLen bounds the free text of the "other" answer: a few
	// words, not an essay, and little personal data.
	MaxPollOtherLen = 200
	// DefaultPollDuration is how long a poll stays open when the admin does
	// not say.
	DefaultPollDuration = 7 * 24 * time.Hour
	// MinPollDuration and MaxPollDuration bound the closing time from the
	// creation: under an hour most people never see it, and answers older
	// than a season answer another question.
	MinPollDuration = time.Hour
	MaxPollDuration = 90 * 24 * time.Hour
	// MinPollGroup is the smallest group of respondents whose answers are
	// shown: a district with fewer is "fewer than 5", so nobody's answer
	// can be told from a small group.
	MinPollGroup = 5
)

// PollStatus is where a poll is in its life.
type PollStatus string

// The statuses of a poll: a draft is composed but not sent; sending has its
// recipients fixed and is being delivered (answers count already); open is
// delivered; closed takes no answers. Closed is final.
const (
	PollDraft   PollStatus = "draft"
	PollSending PollStatus = "sending"
	PollOpen    PollStatus = "open"
	PollClosed  PollStatus = "closed"
)

// Valid reports whether s is a known status.
func (s PollStatus) Valid() bool {
	return s == PollDraft || s == PollSending || s == PollOpen || s == PollClosed
}

// CanBecome reports whether the status may change to next: draft →
// sending → open; sending or open → closed.
func (s PollStatus) CanBecome(next PollStatus) bool {
	switch next {
	case PollSending:
		return s == PollDraft
	case PollOpen:
		return s == PollSending
	case PollClosed:
		return s == PollSending || s == PollOpen
	}
	return false
}

// PollText is one text of a poll in both languages; one may be empty, and
// its readers get the other.
type PollText struct {
	KK, RU string
}

// In returns the text in lang, or in the other language when lang's is
// empty.
func (t PollText) In(lang Lang) string { return pick(lang, t.KK, t.RU) }

func (t PollText) get(lang Lang) string {
	if lang == Russian {
		return t.RU
	}
	return t.KK
}

// Poll is a question to subscribers, its options, who it goes to and when
// it closes.
type Poll struct {
	ID       uint64
	Question PollText
	Options  []PollText
	// Multiple allows choosing several options.
	Multiple bool
	// Other adds an "other — write it" answer that takes a short free text
	// (MaxPollOtherLen).
	Other bool
	// Audience selects the recipients exactly as for a broadcast.
	Audience Audience
	ClosesAt time.Time
	// NotifyRespondents sends each respondent a short summary when the
	// poll closes.
	NotifyRespondents bool
	Status            PollStatus
	// CreatedBy is the Telegram user id of the admin who composed it.
	CreatedBy int64
	CreatedAt time.Time
	ClosedAt  time.Time
	// BroadcastID is the broadcast that delivers the question, once sent;
	// SummaryBroadcastID the one that delivers the respondents' summary.
	BroadcastID        uint64
	SummaryBroadcastID uint64
	// SummaryOwed is set when a poll with NotifyRespondents closes and
	// cleared once its summary broadcast is created.
	SummaryOwed bool
	// Respondents is filled by the store from the live counts; it is not
	// stored with the poll.
	Respondents int
}

// Langs returns the languages the poll is written in, Kazakh first.
func (p Poll) Langs() []Lang {
	var out []Lang
	for _, l := range []Lang{Kazakh, Russian} {
		if p.Question.get(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// Answerable reports whether the poll takes answers at now.
func (p Poll) Answerable(now time.Time) bool {
	return (p.Status == PollSending || p.Status == PollOpen) && now.Before(p.ClosesAt)
}

// Due reports whether the poll should be closed at now.
func (p Poll) Due(now time.Time) bool {
	return (p.Status == PollSending || p.Status == PollOpen) && !now.Before(p.ClosesAt)
}

// DefaultClosesAt is the closing time of a poll composed at now when the
// admin gives none.
func DefaultClosesAt(now time.Time) time.Time { return now.Add(DefaultPollDuration) }

// Validate checks the poll's texts, options, audience and closing time.
// Every language the question is written in must be in every option too,
// and the other one in none: a reader sees one consistent language.
func (p Poll) Validate() error {
	langs := p.Langs()
	if len(langs) == 0 {
		return fmt.Errorf("poll without a question: %w", ErrInvalid)
	}
	if !p.Status.Valid() {
		return fmt.Errorf("poll status %q: %w", p.Status, ErrInvalid)
	}
	if p.CreatedBy == 0 {
		return fmt.Errorf("poll without its admin: %w", ErrInvalid)
	}
	if n := len(p.Options); n < MinPollOptions || n > MaxPollOptions {
		return fmt.Errorf("poll with %d options: %w", n, ErrInvalid)
	}
	for _, l := range []Lang{Kazakh, Russian} {
		want := slices.Contains(langs, l)
		if err := checkPollText("question", l, p.Question.get(l), MaxPollQuestionLen, true); err != nil {
			return err
		}
		seen := map[string]bool{}
		for i, o := range p.Options {
			text := o.get(l)
			if (text != "") != want {
				return fmt.Errorf("option %d in %s does not match the question's languages: %w", i+1, l, ErrInvalid)
			}
			if err := checkPollText(fmt.Sprintf("option %d", i+1), l, text, MaxPollOptionLen, false); err != nil {
				return err
			}
			key := strings.ToLower(text)
			if want && seen[key] {
				return fmt.Errorf("option %d in %s repeats another: %w", i+1, l, ErrInvalid)
			}
			seen[key] = true
		}
	}
	if a := p.Audience; (a.Topic != "" && !a.Topic.Valid()) || (a.Lang != "" && !a.Lang.Valid()) {
		return fmt.Errorf("poll audience %+v: %w", a, ErrInvalid)
	}
	if d := p.ClosesAt.Sub(p.CreatedAt); p.CreatedAt.IsZero() || d < MinPollDuration || d > MaxPollDuration {
		return fmt.Errorf("poll closing %s after its creation: %w", d, ErrInvalid)
	}
	return nil
}

// checkPollText checks one text in one language; empty passes (the
// language check is the caller's). Only a question may span lines.
func checkPollText(what string, l Lang, s string, limit int, lines bool) error {
	if s == "" {
		return nil
	}
	if strings.TrimSpace(s) != s {
		return fmt.Errorf("%s in %s has surrounding spaces: %w", what, l, ErrInvalid)
	}
	if n := UTF16Len(s); n > limit {
		return fmt.Errorf("%s in %s has %d characters of %d: %w", what, l, n, limit, ErrInvalid)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && !(lines && r == '\n') }) {
		return fmt.Errorf("%s in %s has a control character: %w", what, l, ErrInvalid)
	}
	return nil
}

// PollChoice is what a person chose: option indexes (0-based, into
// Poll.Options), and "other" with its text. An empty choice withdraws the
// answer.
type PollChoice struct {
	Options   []int
	Other     bool
	OtherText string
}

// Empty reports whether nothing is chosen.
func (c PollChoice) Empty() bool { return len(c.Options) == 0 && !c.Other }

// CheckChoice returns c normalised (options sorted) or ErrInvalid when it
// does not fit the poll: an index out of range or repeated (a stale button
// of an edited poll, or a forged one), several options where one is
// allowed, "other" where the poll has none, a text without "other", or a
// text too long.
func (p Poll) CheckChoice(c PollChoice) (PollChoice, error) {
	opts := slices.Clone(c.Options)
	slices.Sort(opts)
	for i, o := range opts {
		if o < 0 || o >= len(p.Options) {
			return c, fmt.Errorf("option %d of a poll with %d: %w", o, len(p.Options), ErrInvalid)
		}
		if i > 0 && opts[i-1] == o {
			return c, fmt.Errorf("option %d chosen twice: %w", o, ErrInvalid)
		}
	}
	n := len(opts)
	if c.Other {
		if !p.Other {
			return c, fmt.Errorf("other answer to a poll without one: %w", ErrInvalid)
		}
		n++
	}
	if n > 1 && !p.Multiple {
		return c, fmt.Errorf("%d answers to a single-answer poll: %w", n, ErrInvalid)
	}
	text := strings.TrimSpace(c.OtherText)
	switch {
	case text != "" && !c.Other:
		return c, fmt.Errorf("other text without the other answer: %w", ErrInvalid)
	case UTF16Len(text) > MaxPollOtherLen:
		return c, fmt.Errorf("other text of %d characters: %w", UTF16Len(text), ErrInvalid)
	case strings.ContainsFunc(text, unicode.IsControl):
		return c, fmt.Errorf("other text has a control character: %w", ErrInvalid)
	}
	if len(opts) == 0 {
		opts = nil
	}
	return PollChoice{Options: opts, Other: c.Other, OtherText: text}, nil
}

// PollAnswer is one person's answer to a poll. It is personal data: /mydata
// lists it, and /forget unlinks it (ChatID 0, no text, no time) while the
// counts keep it.
type PollAnswer struct {
	PollID uint64
	ChatID int64 // 0 once the person was forgotten
	PollChoice
	// DistrictID is the district of the person's subscription when they
	// answered, "" when they gave none; Lang their language then.
	DistrictID string
	Lang       Lang
	At         time.Time
}

// AnsweredPoll is a poll and the person's answer to it, for /mydata.
type AnsweredPoll struct {
	Poll   Poll
	Answer PollAnswer
}

// PollCount counts the answers of one group of respondents: how many
// people answered, how many chose each option (indexed like
// Poll.Options) and how many chose "other".
type PollCount struct {
	Respondents int
	Options     []int
	Other       int
}

func (c *PollCount) add(ch PollChoice, n, sign int) {
	if len(c.Options) < n {
		c.Options = append(c.Options, make([]int, n-len(c.Options))...)
	}
	c.Respondents += sign
	for _, o := range ch.Options {
		if o >= 0 && o < n {
			c.Options[o] += sign
		}
	}
	if ch.Other {
		c.Other += sign
	}
}

// PollTally are a poll's live counts, overall and by group. The store keeps
// them in the transaction that records each answer, so results never scan
// the answers. ByDistrict uses "" for "not given".
type PollTally struct {
	All        PollCount
	ByDistrict map[string]PollCount
	ByLang     map[Lang]PollCount
}

// Add counts an answer to a poll of options options.
func (t *PollTally) Add(a PollAnswer, options int) { t.move(a, options, 1) }

// Remove uncounts an answer Add counted, when it is changed or withdrawn.
func (t *PollTally) Remove(a PollAnswer, options int) { t.move(a, options, -1) }

func (t *PollTally) move(a PollAnswer, options, sign int) {
	if t.ByDistrict == nil {
		t.ByDistrict = map[string]PollCount{}
	}
	if t.ByLang == nil {
		t.ByLang = map[Lang]PollCount{}
	}
	t.All.add(a.PollChoice, options, sign)
	d := t.ByDistrict[a.DistrictID]
	d.add(a.PollChoice, options, sign)
	t.ByDistrict[a.DistrictID] = d
	if d.Respondents == 0 {
		delete(t.ByDistrict, a.DistrictID)
	}
	l := t.ByLang[a.Lang]
	l.add(a.PollChoice, options, sign)
	t.ByLang[a.Lang] = l
	if l.Respondents == 0 {
		delete(t.ByLang, a.Lang)
	}
}

// PollShare is a number of people and their share of the group's
// respondents (0..1). With several answers allowed, shares add up to more
// than one.
type PollShare struct {
	Count int
	Share float64
}

// PollGroup is the result of one group of respondents: everyone, a
// district ("" = not given) or a language. A hidden group has fewer than
// MinPollGroup respondents (or had to be hidden with one, see ResultsOf)
// and carries no numbers at all.
type PollGroup struct {
	Key         string
	Hidden      bool
	Respondents int
	Options     []PollShare
	Other       PollShare
}

// PollResults are what the results page, the chart and the summaries
// show.
type PollResults struct {
	All        PollGroup
	ByDistrict []PollGroup // shown groups by respondents, most first; hidden ones after, by key
	ByLang     []PollGroup // Kazakh first
}

// ResultsOf computes the results of a poll of options options from its
// counts. Districts with fewer than MinPollGroup respondents are hidden.
// Hiding them alone would not be enough when the overall numbers are
// shown: the overall minus the shown districts is the hidden ones, so when
// the hidden districts hold fewer than MinPollGroup people together, or
// only one district is hidden, the smallest shown district is hidden too,
// until that no longer holds.
func ResultsOf(options int, t PollTally) PollResults {
	res := PollResults{All: groupOf("", t.All, options)}
	var groups []PollGroup
	for key, c := range t.ByDistrict {
		if c.Respondents > 0 {
			groups = append(groups, groupOf(key, c, options))
		}
	}
	// Smallest first, so hiding walks up from the front.
	slices.SortFunc(groups, func(a, b PollGroup) int {
		if a.Respondents != b.Respondents {
			return a.Respondents - b.Respondents
		}
		return strings.Compare(a.Key, b.Key)
	})
	hidden, people := 0, 0
	for i := range groups {
		if groups[i].Respondents < MinPollGroup {
			hidden, people = hidden+1, people+groups[i].Respondents
			groups[i].Hidden = true
		}
	}
	for i := hidden; i < len(groups) && hidden > 0 && (hidden == 1 || people < MinPollGroup); i++ {
		hidden, people = hidden+1, people+groups[i].Respondents
		groups[i].Hidden = true
	}
	for i := range groups {
		if groups[i].Hidden {
			groups[i] = PollGroup{Key: groups[i].Key, Hidden: true}
		}
	}
	slices.SortStableFunc(groups, func(a, b PollGroup) int {
		switch {
		case a.Hidden != b.Hidden:
			if a.Hidden {
				return 1
			}
			return -1
		case a.Hidden:
			return strings.Compare(a.Key, b.Key)
		case a.Respondents != b.Respondents:
			return b.Respondents - a.Respondents
		}
		return strings.Compare(a.Key, b.Key)
	})
	res.ByDistrict = groups
	for _, l := range []Lang{Kazakh, Russian} {
		if c, ok := t.ByLang[l]; ok && c.Respondents > 0 {
			res.ByLang = append(res.ByLang, groupOf(string(l), c, options))
		}
	}
	return res
}

func groupOf(key string, c PollCount, options int) PollGroup {
	g := PollGroup{Key: key, Respondents: c.Respondents, Options: make([]PollShare, options)}
	share := func(n int) PollShare {
		if c.Respondents <= 0 {
			return PollShare{Count: n}
		}
		return PollShare{Count: n, Share: float64(n) / float64(c.Respondents)}
	}
	for i := range g.Options {
		if i < len(c.Options) {
			g.Options[i] = share(c.Options[i])
		}
	}
	g.Other = share(c.Other)
	return g
}

// PollStore keeps polls, their answers and live counts. A poll is
// delivered as a broadcast (Broadcast.PollID) through BroadcastStore.
type PollStore interface {
	// CreatePoll validates the poll and stores it as a draft; it returns
	// the poll with its ID.
	CreatePoll(ctx context.Context, p Poll) (Poll, error)
	// DeleteDraft deletes a poll that is still a draft (ErrConflict
	// otherwise).
	DeleteDraft(ctx context.Context, id uint64) error
	// Poll returns the poll, with Respondents, or ErrNotFound.
	Poll(ctx context.Context, id uint64) (Poll, error)
	// RecentPolls returns up to n polls with an ID below before (0: from
	// the newest), newest first, with Respondents.
	RecentPolls(ctx context.Context, before uint64, n int) ([]Poll, error)
	// SendPoll fixes the recipients of the draft (its audience's
	// subscribers at this call, as CreateBroadcast does) and, in one
	// transaction, stores b as its broadcast (PollID and Audience set from
	// the poll, status preparing) and makes the poll sending. The
	// broadcast runner then delivers it like any other; when the
	// broadcast ends (done or cancelled) the poll becomes open.
	SendPoll(ctx context.Context, id uint64, b Broadcast) (Poll, Broadcast, error)
	// AnswerPoll records the chat's choice, replacing any earlier one, and
	// moves the counts, in one transaction: the same choice twice counts
	// once, a change moves the counts, an empty choice withdraws the
	// answer. It refuses a closed poll (ErrPollClosed), a chat the poll
	// was not sent to (ErrNotRecipient) and a choice CheckChoice refuses
	// (ErrInvalid). The district and language are the chat's at now.
	AnswerPoll(ctx context.Context, id uint64, chatID int64, c PollChoice, now time.Time) (Poll, PollAnswer, error)
	// PollAnswer returns the chat's answer to the poll or ErrNotFound.
	PollAnswer(ctx context.Context, id uint64, chatID int64) (PollAnswer, error)
	// PollTally returns the poll with its live counts.
	PollTally(ctx context.Context, id uint64) (Poll, PollTally, error)
	// WalkPollAnswers calls f for every answer of the poll (those of
	// forgotten people too, unlinked), reading them in short transactions
	// of a page each; f runs outside any transaction. It stops at the
	// first error f returns.
	WalkPollAnswers(ctx context.Context, id uint64, f func(PollAnswer) error) error
	// DuePolls returns the polls to close at now (sending or open, closing
	// time passed) and the closed ones whose respondents' summary is owed.
	DuePolls(ctx context.Context, now time.Time) ([]Poll, error)
	// ClosePoll closes the poll and reports whether this call closed it
	// (false when it was closed already). A poll with NotifyRespondents
	// then owes its summary. A draft cannot close (ErrConflict).
	ClosePoll(ctx context.Context, id uint64, now time.Time) (Poll, bool, error)
	// SendPollSummary fixes the recipients of the respondents' summary,
	// the respondents still linked to their answer whose subscription is
	// active, and stores b as their broadcast, in one transaction that
	// also clears SummaryOwed. With no such respondent it creates no
	// broadcast and returns a zero Broadcast. A poll that owes no summary
	// is a conflict.
	SendPollSummary(ctx context.Context, id uint64, b Broadcast) (Poll, Broadcast, error)
	// PollAnswersOf returns the person's answers with their polls, oldest
	// poll first (/mydata).
	PollAnswersOf(ctx context.Context, chatID int64) ([]AnsweredPoll, error)
}
