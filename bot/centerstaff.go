package bot

import (
	"context"
	"errors"
	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"slices"
	"time"

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
func (k kit) refuseCenter(ctx context.Context, r *Request, centerID, action string) error {
	k.log.Warn("refused a change of a center the user does not run", "user_id", fromID(r), "chat_id", r.ChatID, "center_id", centerID, "action", action)
	if r.Query != nil {
		k.tx.alert(ctx, r, r.L.T(locales.NotAllowed))
		return nil
	}
	_, err := k.tx.reply(ctx, r, r.L.T(locales.NotAllowed), nil)
	return err
}

// dialogueStore is the part of the conversation store a staff dialogue uses.
type dialogueStore interface {
	Conversation(ctx context.Context, chatID int64) (storage.Conversation, error)
	SaveConversation(ctx context.Context, c storage.Conversation) error
	DeleteConversation(ctx context.Context, chatID int64) error
}

// dialogue loads the chat's open dialogue of flow whose token is tok. ok
// is false (and the press answered) when there is none, another one, or
// it is idle past the TTL.
func (k kit) dialogue(ctx context.Context, st dialogueStore, r *Request, flow, tok string) (storage.Conversation, bool, error) {
	conv, err := st.Conversation(ctx, r.ChatID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && (conv.Flow != flow || conv.Token != tok || k.now().Sub(conv.UpdatedAt) > k.cfg.DialogTTL)) {
		k.tx.answer(ctx, r, r.L.T(locales.StaffStepStale))
		return conv, false, nil
	}
	if err != nil {
		return conv, false, err
	}
	return conv, true, nil
}

// save stores the dialogue at its new step.
func (k kit) save(ctx context.Context, st dialogueStore, conv storage.Conversation) error {
	conv.UpdatedAt = k.now()
	return st.SaveConversation(ctx, conv)
}

// beginAtCenter opens a staff dialogue of flow at step for one center
// (from a button on its card: cb:<center>), after checking the presser
// runs it, and sends its first question, drawn by render. centerKey is
// where the dialogue keeps the center; action names it in the refusal's
// log line.
func (k kit) beginAtCenter(ctx context.Context, st dialogueStore, r *Request, flow, step, centerKey, action string,
	render func(*locales.Localizer, *catalog.Catalog, storage.Conversation) (string, *tgbotapi.InlineKeyboardMarkup)) error {
	cat := k.catalog()
	center := r.Data.Arg(0)
	if !k.runs(cat, fromID(r), center) {
		return k.refuseCenter(ctx, r, center, action)
	}
	conv := storage.Conversation{ChatID: r.ChatID, Flow: flow, Step: step}
	conv.Token = newToken()
	conv.Set(centerKey, center)
	if err := k.save(ctx, st, conv); err != nil {
		return err
	}
	k.tx.answer(ctx, r, "")
	text, kb := render(r.L, cat, conv)
	_, err := k.tx.sendText(ctx, r.ChatID, text, kb)
	return err
}

// localDay is the calendar day of t in the catalog's zone.
func localDay(cat *catalog.Catalog, t time.Time) catalog.Date {
	return catalog.DateOf(t.In(cat.Location()))
}
