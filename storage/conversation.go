package storage

import (
	"context"
	"fmt"
	"time"
)

// ErrDialogExpired means the chat's dialogue was closed for being idle. It
// is an ErrNotFound too, so a caller that only asks "is a dialogue open?"
// sees none; a caller that wants to explain a late answer tests for it.
var ErrDialogExpired = fmt.Errorf("dialogue expired: %w", ErrNotFound)

// Conversation is the state of a multi-step dialogue in one chat: which flow,
// which step, and what has been collected so far. It lives in the database so
// a restart in the middle of a dialogue loses nothing.
type Conversation struct {
	ChatID int64
	Flow   string
	Step   string
	// Token names this one dialogue: its buttons carry it, so a button of
	// a finished dialogue is refused. An expired dialogue keeps its flow
	// and token only, so a late press can be told "expired" rather than
	// "stale".
	Token string
	// State is what the flow has collected so far, encoded by the flow
	// itself (the bot keeps a typed struct per flow); storage keeps it as
	// it is given.
	State     []byte
	UpdatedAt time.Time
}

// ConversationStore keeps one conversation per chat.
type ConversationStore interface {
	// Conversation returns the chat's conversation or ErrNotFound. For a
	// dialogue that ExpireConversations closed it returns ErrDialogExpired
	// together with what is left of it: flow, step, UpdatedAt and the token.
	Conversation(ctx context.Context, chatID int64) (Conversation, error)
	// SaveConversation stores c, replacing the chat's dialogue, open or
	// expired.
	SaveConversation(ctx context.Context, c Conversation) error
	// DeleteConversation removes the chat's dialogue, open or expired.
	DeleteConversation(ctx context.Context, chatID int64) error
	// ExpireConversations closes the dialogues last touched before cutoff,
	// keeping of each only what ErrDialogExpired needs, and returns how
	// many it closed.
	ExpireConversations(ctx context.Context, cutoff time.Time) (int, error)
	// DropExpiredConversations removes what is left of the dialogues last
	// touched before cutoff and already expired, and returns how many.
	DropExpiredConversations(ctx context.Context, cutoff time.Time) (int, error)
}
