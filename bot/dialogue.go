package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"jastar/storage"
)

// dialogue is a chat's dialogue with the typed state of its flow: every
// flow keeps what it has collected in its own struct S, and storage keeps
// that struct encoded, knowing nothing of it.
type dialogue[S any] struct {
	storage.Conversation // chat, flow, step, token and when it was touched
	State                S
}

// newDialogue starts a dialogue of flow in chatID at step, with a fresh
// token for its buttons and an empty state.
func newDialogue[S any](chatID int64, flow, step string, now time.Time) dialogue[S] {
	return dialogue[S]{Conversation: storage.Conversation{ChatID: chatID, Flow: flow, Step: step, Token: newToken(), UpdatedAt: now}}
}

// dialogueOf decodes the state of conv as its flow's S. A state that does
// not decode (written by a version whose struct differed) is an error:
// callers end such a dialogue rather than go on with half of it.
func dialogueOf[S any](conv storage.Conversation) (dialogue[S], error) {
	d := dialogue[S]{Conversation: conv}
	if len(conv.State) == 0 {
		return d, nil
	}
	if err := json.Unmarshal(conv.State, &d.State); err != nil {
		return d, fmt.Errorf("decode the state of dialogue %s in chat %d: %w", conv.Flow, conv.ChatID, err)
	}
	return d, nil
}

// stored is the conversation to save: the state encoded, touched at now.
func (d dialogue[S]) stored(now time.Time) (storage.Conversation, error) {
	raw, err := json.Marshal(d.State)
	if err != nil {
		return storage.Conversation{}, fmt.Errorf("encode the state of dialogue %s in chat %d: %w", d.Flow, d.ChatID, err)
	}
	c := d.Conversation
	c.State, c.UpdatedAt = raw, now
	return c, nil
}

// saveDialogue stores d, its state encoded, touched at now.
func saveDialogue[S any](ctx context.Context, st dialogueStore, d dialogue[S], now time.Time) error {
	conv, err := d.stored(now)
	if err != nil {
		return err
	}
	if err := st.SaveConversation(ctx, conv); err != nil {
		return fmt.Errorf("save dialogue %s of chat %d: %w", d.Flow, d.ChatID, err)
	}
	return nil
}
