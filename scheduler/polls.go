package scheduler

import (
	"context"
	"fmt"
	"time"
)

// PollCloser closes the polls whose closing time has passed at now, tells
// their admins and sends the respondents' summaries owed. The bot
// satisfies it.
type PollCloser interface {
	ClosePolls(ctx context.Context, now time.Time) error
}

// ClosePolls is the job that closes due polls; it runs every minute, so a
// poll closes within a minute of its time, and a summary left owed by a
// crash is sent on the next run.
func ClosePolls(c PollCloser) JobFunc {
	return func(ctx context.Context, now time.Time) error {
		if err := c.ClosePolls(ctx, now); err != nil {
			return fmt.Errorf("close polls: %w", err)
		}
		return nil
	}
}
