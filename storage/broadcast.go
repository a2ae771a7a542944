package storage

import (
	"context"
	"time"
)

// BroadcastStatus is where a broadcast is in its life.
type BroadcastStatus string

// The statuses of a broadcast. Preparing fixes the recipients; only a
// running broadcast claims recipients; cancelled and done are final.
const (
	BroadcastPreparing BroadcastStatus = "preparing"
	BroadcastRunning   BroadcastStatus = "running"
	BroadcastPaused    BroadcastStatus = "paused"
	BroadcastCancelled BroadcastStatus = "cancelled"
	BroadcastDone      BroadcastStatus = "done"
)

// Final reports whether nothing more will be sent.
func (s BroadcastStatus) Final() bool { return s == BroadcastCancelled || s == BroadcastDone }

// CanBecome reports whether the status may change to next: preparing →
// running; running ⇄ paused; running → done; anything not final → cancelled.
func (s BroadcastStatus) CanBecome(next BroadcastStatus) bool {
	switch next {
	case BroadcastRunning:
		return s == BroadcastPreparing || s == BroadcastPaused
	case BroadcastPaused, BroadcastDone:
		return s == BroadcastRunning
	case BroadcastCancelled:
		return !s.Final()
	}
	return false
}

// Entity is one formatting span of an admin's text, as Telegram's
// MessageEntity: offsets and lengths in UTF-16 code units. Keeping entities
// instead of markup means no admin text can fail to parse.
type Entity struct {
	Type     string
	Offset   int
	Length   int
	URL      string // text_link
	Language string // pre
	UserID   int64  // text_mention
}

// Version is a broadcast's content in one language: a text, or a photo with
// the text as its caption.
type Version struct {
	Text     string
	Entities []Entity
	// PhotoID is the Telegram file_id of the photo, resent by id.
	PhotoID string
	// Buttons are rows of inline callback buttons sent under the message
	// (a poll's answers); nil for a plain announcement.
	Buttons [][]Button
}

// Button is one inline button: its label and its callback_data, which the
// bot's callback codec wrote (at most 64 bytes,
// https://core.telegram.org/bots/api#inlinekeyboardbutton).
type Button struct {
	Text string
	Data string
}

// DeliveryState is the state of one recipient of a broadcast.
type DeliveryState byte

// The delivery states. A recipient is claimed, in its own committed
// transaction, before the message is sent; one found claimed after a restart
// may or may not have received it and becomes uncertain, never resent.
const (
	DeliveryPending DeliveryState = iota + 1
	DeliveryClaimed
	DeliverySent
	DeliveryBlocked // 403 or chat not found: unsubscribed, not retried
	DeliveryFailed
	DeliveryUncertain
)

// DeliveryCounts are a broadcast's outcomes so far.
type DeliveryCounts struct {
	Sent, Blocked, Failed, Uncertain int
}

// Done is how many recipients have an outcome.
func (c DeliveryCounts) Done() int { return c.Sent + c.Blocked + c.Failed + c.Uncertain }

// Broadcast is an announcement job: its content per language, its audience,
// its status and its progress.
type Broadcast struct {
	ID          uint64
	AdminChatID int64
	// ProgressMessageID is the admin's message that shows the progress.
	ProgressMessageID int
	Versions          map[Lang]Version
	Audience          Audience
	Status            BroadcastStatus
	// Total is the number of recipients fixed so far (all of them once
	// preparing is over).
	Total  int
	Counts DeliveryCounts
	// Cursor is the last recipient of the last finished page: every
	// recipient up to it has an outcome. HasCursor is false before the first.
	Cursor     int64
	HasCursor  bool
	CreatedAt  time.Time
	FinishedAt time.Time

	// PollID is the poll this broadcast delivers (SendPoll), 0 for an
	// announcement. Its versions carry the poll's buttons; when it ends,
	// done or cancelled, the poll becomes open.
	PollID uint64
}

// Left is how many recipients have no outcome yet.
func (b Broadcast) Left() int { return max(0, b.Total-b.Counts.Done()) }

// VersionFor returns the version for a reader of lang, falling back to the
// other language when that version was left out.
func (b Broadcast) VersionFor(lang Lang) (Version, Lang, bool) {
	if v, ok := b.Versions[lang]; ok {
		return v, lang, true
	}
	if v, ok := b.Versions[lang.Other()]; ok {
		return v, lang.Other(), true
	}
	return Version{}, "", false
}

// Recipient is one chat a broadcast goes to, with the language fixed when
// the recipients were.
type Recipient struct {
	ChatID int64
	Lang   Lang
}

// BroadcastStore keeps broadcast jobs and their per-recipient deliveries.
// Recipients are written and read in pages, so memory never grows with the
// audience.
type BroadcastStore interface {
	// CreateBroadcast stores a new broadcast in status preparing, with its
	// recipients fixed: the audience's subscribers as they are at this
	// call, whoever subscribes or unsubscribes later. It returns the
	// broadcast with its ID.
	CreateBroadcast(ctx context.Context, b Broadcast) (Broadcast, error)
	// AddRecipients writes up to max more of the recipients fixed at
	// CreateBroadcast as pending deliveries, from where the last call
	// stopped (also after a restart). When all are written it makes the
	// broadcast running and reports done.
	AddRecipients(ctx context.Context, id uint64, max int) (added int, done bool, err error)
	// Broadcast returns the broadcast or ErrNotFound.
	Broadcast(ctx context.Context, id uint64) (Broadcast, error)
	// RecentBroadcasts returns up to n broadcasts, newest first.
	RecentBroadcasts(ctx context.Context, n int) ([]Broadcast, error)
	// UnfinishedBroadcasts returns the preparing and running broadcasts.
	UnfinishedBroadcasts(ctx context.Context) ([]Broadcast, error)
	// SetBroadcastStatus changes the status if the change is allowed
	// (ErrConflict otherwise) and returns the broadcast.
	SetBroadcastStatus(ctx context.Context, id uint64, next BroadcastStatus, now time.Time) (Broadcast, error)
	// SetProgressMessage records the admin's progress message.
	SetProgressMessage(ctx context.Context, id uint64, messageID int) error
	// PendingRecipients returns up to limit pending recipients after the
	// chat after (from the first when hasAfter is false), in chat order.
	PendingRecipients(ctx context.Context, id uint64, after int64, hasAfter bool, limit int) ([]Recipient, error)
	// ClaimDelivery marks a pending recipient claimed if the broadcast is
	// running, and reports whether it did.
	ClaimDelivery(ctx context.Context, id uint64, chatID int64) (bool, error)
	// SettleDelivery records the outcome of a claimed recipient and counts
	// it; DeliveryPending releases the claim for a later try.
	SettleDelivery(ctx context.Context, id uint64, chatID int64, state DeliveryState) error
	// AdvanceCursor records that every recipient up to chatID has an outcome.
	AdvanceCursor(ctx context.Context, id uint64, chatID int64) error
	// SettleStaleClaims turns the claims a crash left behind (after the
	// cursor) into uncertain outcomes and returns how many there were. Call
	// it only while nothing sends for the broadcast.
	SettleStaleClaims(ctx context.Context, id uint64) (int, error)
}
