package storage

import (
	"context"
	"time"
)

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
	// Conversation returns the chat's conversation or ErrNotFound.
	Conversation(ctx context.Context, chatID int64) (Conversation, error)
	SaveConversation(ctx context.Context, c Conversation) error
	DeleteConversation(ctx context.Context, chatID int64) error
	// ExpireConversations deletes conversations last touched before cutoff
	// and returns how many it deleted.
	ExpireConversations(ctx context.Context, cutoff time.Time) (int, error)
}
