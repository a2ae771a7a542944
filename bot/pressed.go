package bot

import (
	"context"
	"errors"
	"fmt"

	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
)

// pressed loads the record a button names by the id (base 36) in its
// argument arg. ok is false, and the press answered "outdated button",
// when the argument is no id or the record is gone: a forged button, or
// one left in the chat after its record was deleted.
func pressed[T any](ctx context.Context, k kit, r *tg.Request, arg int, load func(context.Context, uint64) (T, error)) (T, bool, error) {
	var zero T
	id, err := r.Data.ID(arg)
	if err != nil {
		k.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return zero, false, nil
	}
	v, err := load(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		k.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return zero, false, nil
	}
	if err != nil {
		return zero, false, fmt.Errorf("the record %d of button %s: %w", id, r.Data.Prefix, err)
	}
	return v, true, nil
}
