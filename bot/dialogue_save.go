package bot

import (
	"context"
	"fmt"
	"time"
)

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
