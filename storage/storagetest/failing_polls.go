package storagetest

import (
	"context"
	"time"

	"jastar/storage"
)

// The wrappers of the poll store (storage/poll.go).

// AnswerPoll is (*boltdb.DB).AnswerPoll, or the injected failure.
func (f *Failing) AnswerPoll(ctx context.Context, id uint64, chatID int64, c storage.PollChoice, now time.Time) (storage.Poll, storage.PollAnswer, error) {
	if err := f.before(ctx, "AnswerPoll"); err != nil {
		var r0 storage.Poll
		var r1 storage.PollAnswer
		return r0, r1, err
	}
	return f.DB.AnswerPoll(ctx, id, chatID, c, now)
}

// ClosePoll is (*boltdb.DB).ClosePoll, or the injected failure.
func (f *Failing) ClosePoll(ctx context.Context, id uint64, now time.Time) (storage.Poll, bool, error) {
	if err := f.before(ctx, "ClosePoll"); err != nil {
		var r0 storage.Poll
		var r1 bool
		return r0, r1, err
	}
	return f.DB.ClosePoll(ctx, id, now)
}

// CreatePoll is (*boltdb.DB).CreatePoll, or the injected failure.
func (f *Failing) CreatePoll(ctx context.Context, p storage.Poll) (storage.Poll, error) {
	if err := f.before(ctx, "CreatePoll"); err != nil {
		var r0 storage.Poll
		return r0, err
	}
	return f.DB.CreatePoll(ctx, p)
}

// DeleteDraft is (*boltdb.DB).DeleteDraft, or the injected failure.
func (f *Failing) DeleteDraft(ctx context.Context, id uint64) error {
	if err := f.before(ctx, "DeleteDraft"); err != nil {
		return err
	}
	return f.DB.DeleteDraft(ctx, id)
}

// DuePolls is (*boltdb.DB).DuePolls, or the injected failure.
func (f *Failing) DuePolls(ctx context.Context, now time.Time) ([]storage.Poll, error) {
	if err := f.before(ctx, "DuePolls"); err != nil {
		var r0 []storage.Poll
		return r0, err
	}
	return f.DB.DuePolls(ctx, now)
}

// Poll is (*boltdb.DB).Poll, or the injected failure.
func (f *Failing) Poll(ctx context.Context, id uint64) (storage.Poll, error) {
	if err := f.before(ctx, "Poll"); err != nil {
		var r0 storage.Poll
		return r0, err
	}
	return f.DB.Poll(ctx, id)
}

// PollAnswer is (*boltdb.DB).PollAnswer, or the injected failure.
func (f *Failing) PollAnswer(ctx context.Context, id uint64, chatID int64) (storage.PollAnswer, error) {
	if err := f.before(ctx, "PollAnswer"); err != nil {
		var r0 storage.PollAnswer
		return r0, err
	}
	return f.DB.PollAnswer(ctx, id, chatID)
}

// PollAnswersOf is (*boltdb.DB).PollAnswersOf, or the injected failure.
func (f *Failing) PollAnswersOf(ctx context.Context, chatID int64) ([]storage.AnsweredPoll, error) {
	if err := f.before(ctx, "PollAnswersOf"); err != nil {
		var r0 []storage.AnsweredPoll
		return r0, err
	}
	return f.DB.PollAnswersOf(ctx, chatID)
}

// PollTally is (*boltdb.DB).PollTally, or the injected failure.
func (f *Failing) PollTally(ctx context.Context, id uint64) (storage.Poll, storage.PollTally, error) {
	if err := f.before(ctx, "PollTally"); err != nil {
		var r0 storage.Poll
		var r1 storage.PollTally
		return r0, r1, err
	}
	return f.DB.PollTally(ctx, id)
}

// RecentPolls is (*boltdb.DB).RecentPolls, or the injected failure.
func (f *Failing) RecentPolls(ctx context.Context, before uint64, n int) ([]storage.Poll, error) {
	if err := f.before(ctx, "RecentPolls"); err != nil {
		var r0 []storage.Poll
		return r0, err
	}
	return f.DB.RecentPolls(ctx, before, n)
}

// SendPoll is (*boltdb.DB).SendPoll, or the injected failure.
func (f *Failing) SendPoll(ctx context.Context, id uint64, b storage.Broadcast) (storage.Poll, storage.Broadcast, error) {
	if err := f.before(ctx, "SendPoll"); err != nil {
		var r0 storage.Poll
		var r1 storage.Broadcast
		return r0, r1, err
	}
	return f.DB.SendPoll(ctx, id, b)
}

// SendPollSummary is (*boltdb.DB).SendPollSummary, or the injected failure.
func (f *Failing) SendPollSummary(ctx context.Context, id uint64, b storage.Broadcast) (storage.Poll, storage.Broadcast, error) {
	if err := f.before(ctx, "SendPollSummary"); err != nil {
		var r0 storage.Poll
		var r1 storage.Broadcast
		return r0, r1, err
	}
	return f.DB.SendPollSummary(ctx, id, b)
}

// WalkPollAnswers is (*boltdb.DB).WalkPollAnswers, or the injected failure.
func (f *Failing) WalkPollAnswers(ctx context.Context, id uint64, each func(storage.PollAnswer) error) error {
	if err := f.before(ctx, "WalkPollAnswers"); err != nil {
		return err
	}
	return f.DB.WalkPollAnswers(ctx, id, each)
}
