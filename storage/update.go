package storage

import (
	"context"
	"time"
)

// RawUpdate is one Telegram update as received, kept verbatim so that a
// restart can replay it exactly.
type RawUpdate struct {
	ID   int
	JSON []byte
}

// Inbox is the durable queue between polling and handling. A fetched batch
// is stored together with the next offset in one transaction before the
// next poll confirms it to Telegram, so a confirmed update is always either
// stored or handled and marked, and a crash loses nothing. Its handling
// starts while the batch is being stored, so the commit is not added to
// every person's wait (Unseen keeps a batch Telegram sends again from being
// handled twice).
type Inbox interface {
	// Offset returns the next getUpdates offset and when an update was last
	// received (zero when never).
	Offset(ctx context.Context) (offset int, lastReceived time.Time, err error)
	// Accept stores the updates not seen before (neither pending nor handled)
	// and the new offset in one transaction, and returns the accepted ones.
	Accept(ctx context.Context, updates []RawUpdate, nextOffset int, now time.Time) ([]RawUpdate, error)
	// Unseen returns the updates neither pending nor handled: the ones a
	// batch brings for the first time. It only reads.
	Unseen(ctx context.Context, updates []RawUpdate) ([]RawUpdate, error)
	// Pending returns the stored updates not yet handled, oldest first.
	Pending(ctx context.Context) ([]RawUpdate, error)
	// Done removes the updates from the inbox and remembers their ids as
	// handled, in one transaction.
	Done(ctx context.Context, updateIDs []int, now time.Time) error
	// Erase takes one update out of the inbox while it is being handled,
	// for an update whose text must leave no copy behind (a message that
	// signals crisis): in one transaction it deletes the raw update,
	// records its id as handled, and records that the file owes a
	// compaction, which rewrites the file soon so the text leaves the
	// freed pages too (as after PrivacyStore.Forget). The Done that
	// follows the handling deletes nothing more. An id not in the inbox is
	// no error.
	Erase(ctx context.Context, updateID int, now time.Time) error
	// ForgetHandled drops handled-update ids recorded before cutoff.
	ForgetHandled(ctx context.Context, cutoff time.Time) (int, error)
}
