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

// TokenKey is the Data key of a dialogue's token, the value its buttons
// carry. An expired dialogue keeps only this of its data, so a late press
// on one of its buttons can be told "expired" rather than "stale".
const TokenKey = "tok"

// Conversation is the state of a multi-step dialogue in one chat: which flow,
// which step, and what has been collected so far. It lives in the database so
// a restart in the middle of a dialogue loses nothing.
type Conversation struct {
	ChatID    int64
	Flow      string
	Step      string
	Data      map[string]string
	UpdatedAt time.Time
}

// Get returns a collected value, "" when absent.
func (c Conversation) Get(key string) string { return c.Data[key] }

// Set stores a collected value, creating the map on first use.
func (c *Conversation) Set(key, value string) {
	if c.Data == nil {
		c.Data = make(map[string]string)
	}
	c.Data[key] = value
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
