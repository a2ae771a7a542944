package bot

import (
	"context"
	"errors"
	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"slices"
	"time"

	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/catalog"
)

// Who runs a center (issue 16): its staff (staff_user_ids) and the admins
// (JASTAR_ADMIN_IDS), who run every center. The features that change a
// center (mycenter.go, closures.go, sessions.go) check it on every press
// and command, since a button's center is untrusted input.

// catalog is the catalog in force now. Read it once per request: a reload
// (SIGHUP) swaps it between two requests, never inside one's reads.
func (k kit) catalog() *catalog.Catalog { return k.cat() }

// isAdmin reports whether user is one of the bot's admins.
func (k kit) isAdmin(userID int64) bool { return slices.Contains(k.cfg.AdminIDs, userID) }

// runs reports whether user may change the center: an admin, or one of its
// staff.
func (k kit) runs(cat *catalog.Catalog, userID int64, centerID string) bool {
	c, ok := cat.Center(centerID)
	return ok && (k.isAdmin(userID) || slices.Contains(c.StaffUserIDs, userID))
}

// centersRunBy are the centers user may change, in catalog order.
func (k kit) centersRunBy(cat *catalog.Catalog, userID int64) []catalog.Center {
	var out []catalog.Center
	for _, c := range cat.Centers {
		if k.isAdmin(userID) || slices.Contains(c.StaffUserIDs, userID) {
			out = append(out, c)
		}
	}
	return out
}

// refuseCenter logs a press or command on a center the presser does not
// run (a forged button, or one forwarded from another center's staff) and
// tells them no. It logs ids only.
func (k kit) refuseCenter(ctx context.Context, r *tg.Request, centerID, action string) error {
	k.log.Warn("refused a change of a center the user does not run", "user_id", fromID(r), "chat_id", r.ChatID, "center_id", centerID, "action", action)
	if r.Query != nil {
		k.tx.Alert(ctx, r, r.L.T(locales.NotAllowed))
		return nil
	}
	_, err := k.tx.Reply(ctx, r, r.L.T(locales.NotAllowed), nil)
	return err
}

// dialogueStore is the part of the conversation store a staff dialogue uses.
type dialogueStore interface {
	Conversation(ctx context.Context, chatID int64) (storage.Conversation, error)
	SaveConversation(ctx context.Context, c storage.Conversation) error
	DeleteConversation(ctx context.Context, chatID int64) error
}

// staffDialogue loads the chat's open dialogue of flow whose token is tok,
// with its state decoded as S. ok is false (and the press answered) when
// there is none, another one, one idle past the TTL, or one whose state
// does not decode: a dialogue saved by an older version, without a typed
// state, is over (dialogues live minutes), and is ended.
func staffDialogue[S any](ctx context.Context, k kit, st dialogueStore, r *tg.Request, flow, tok string) (dialogue[S], bool, error) {
	conv, err := st.Conversation(ctx, r.ChatID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return dialogue[S]{}, false, err
	}
	if err == nil && conv.Flow == flow && conv.Token == tok && k.now().Sub(conv.UpdatedAt) <= k.cfg.DialogTTL {
		if d, ok := stateOf[S](k, conv); ok {
			return d, true, nil
		}
	}
	k.tx.Answer(ctx, r, r.L.T(locales.StaffStepStale))
	return dialogue[S]{}, false, nil
}

// staffStep is the dialogue a typed message continues, its state decoded
// as S. A state that does not decode ends the dialogue, and the person is
// told to start again: ok is false.
func staffStep[S any](ctx context.Context, k kit, st dialogueStore, r *tg.Request, conv storage.Conversation) (dialogue[S], bool, error) {
	if d, ok := stateOf[S](k, conv); ok {
		return d, true, nil
	}
	if err := st.DeleteConversation(ctx, r.ChatID); err != nil {
		return dialogue[S]{}, false, err
	}
	_, err := k.tx.Reply(ctx, r, r.L.T(locales.StaffStepStale), nil)
	return dialogue[S]{}, false, err
}

// centerState is the state of a staff dialogue about one center.
type centerState interface{ centerID() string }

// staffTextStep is the dialogue a typed message continues, for a step that
// waits for text: ok is false, and the person has been answered, when its
// state is gone (start again), the presser no longer runs its center
// (refused and logged as action) or another step is open (use the buttons).
func staffTextStep[S centerState](ctx context.Context, k kit, st dialogueStore, r *tg.Request, stored storage.Conversation, step, action string) (dialogue[S], bool, error) {
	d, ok, err := staffStep[S](ctx, k, st, r, stored)
	if !ok || err != nil {
		return d, false, err
	}
	if center := d.State.centerID(); !k.runs(k.catalog(), fromID(r), center) {
		return d, false, k.refuseCenter(ctx, r, center, action)
	}
	if d.Step != step {
		_, err := k.tx.Reply(ctx, r, r.L.T(locales.StaffUseButtons), nil)
		return d, false, err
	}
	return d, true, nil
}

// stateOf decodes conv's state as S; false for none (a dialogue saved
// before the states were typed) or one that does not decode.
func stateOf[S any](k kit, conv storage.Conversation) (dialogue[S], bool) {
	if len(conv.State) == 0 {
		return dialogue[S]{}, false
	}
	d, err := dialogueOf[S](conv)
	if err != nil {
		k.log.Warn("dialogue state unreadable, dialogue ended", "chat_id", conv.ChatID, "flow", conv.Flow, "err", err)
		return d, false
	}
	return d, true
}

// beginAtCenter opens a staff dialogue of flow at step for one center
// (from a button on its card: cb:<center>), after checking the presser
// runs it, and sends its first question, drawn by render. state is the
// dialogue's first state, holding the center; action names the dialogue
// in the refusal's log line.
func beginAtCenter[S any](ctx context.Context, k kit, st dialogueStore, r *tg.Request, flow, step, action string, state func(center string) S,
	render func(*locales.Localizer, *catalog.Catalog, dialogue[S]) (string, *tgbotapi.InlineKeyboardMarkup)) error {
	cat := k.catalog()
	center := r.Data.Arg(0)
	if !k.runs(cat, fromID(r), center) {
		return k.refuseCenter(ctx, r, center, action)
	}
	d := newDialogue[S](r.ChatID, flow, step, k.now())
	d.State = state(center)
	if err := saveDialogue(ctx, st, d, k.now()); err != nil {
		return err
	}
	k.tx.Answer(ctx, r, "")
	text, kb := render(r.L, cat, d)
	_, err := k.tx.SendText(ctx, r.ChatID, text, kb)
	return err
}

// localDay is the calendar day of t in the catalog's zone.
func localDay(cat *catalog.Catalog, t time.Time) catalog.Date {
	return catalog.DateOf(t.In(cat.Location()))
}

// sendCenterList answers a button that lists something of one center
// (<prefix>:<center>): if the presser runs the center, list draws the list
// and its buttons, sent as a new message; else the press is refused.
func (k kit) sendCenterList(ctx context.Context, r *tg.Request, action string,
	list func(context.Context, *locales.Localizer, *catalog.Catalog, string) (string, tgbotapi.InlineKeyboardMarkup, error)) error {
	cat := k.catalog()
	centerID := r.Data.Arg(0)
	if !k.runs(cat, fromID(r), centerID) {
		return k.refuseCenter(ctx, r, centerID, action)
	}
	k.tx.Answer(ctx, r, "")
	text, kb, err := list(ctx, r.L, cat, centerID)
	if err != nil {
		return err
	}
	_, err = k.tx.SendText(ctx, r.ChatID, text, kb)
	return err
}
