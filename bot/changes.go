package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/catalog"
)

// What staff changed of their centers (issue 16): /changes shows admins
// the change log a page at a time, newest first; the morning digest names
// the day's closures; /stats and the CSV export count the bookings
// closures cancelled apart from other cancellations.

// changesPage is how many changes a page lists: each is two short lines,
// so a page stays far below a message's 4096 characters.
const changesPage = 10

// changeStore reads the change log.
type changeStore interface {
	Changes(ctx context.Context, before uint64, limit int) ([]storage.Change, error)
}

// changes is the feature: /changes and its pages.
type changes struct {
	kit
	store changeStore
}

// handleChanges: /changes, admins only: the newest page.
func (f *changes) handleChanges(ctx context.Context, r *tg.Request) error {
	if !f.isAdmin(fromID(r)) {
		f.log.Warn("refused the change log to a non-admin", "user_id", fromID(r))
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.NotAllowed), nil)
		return err
	}
	text, kb, err := f.page(ctx, r.L, 0)
	if err != nil {
		return err
	}
	_, err = f.tx.Reply(ctx, r, text, kb)
	return err
}

// handlePage: chg:<before id base 36>, an older page, in place.
func (f *changes) handlePage(ctx context.Context, r *tg.Request) error {
	before, err := r.Data.ID(0)
	if err != nil {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	if !f.isAdmin(fromID(r)) {
		return f.refuseCenter(ctx, r, "", "changes")
	}
	text, kb, err := f.page(ctx, r.L, before)
	if err != nil {
		return err
	}
	f.tx.Answer(ctx, r, "")
	return f.tx.Edit(ctx, r, text, kb)
}

// page renders up to changesPage changes older than before (0: newest).
func (f *changes) page(ctx context.Context, l *locales.Localizer, before uint64) (string, *tgbotapi.InlineKeyboardMarkup, error) {
	list, err := f.store.Changes(ctx, before, changesPage+1)
	if err != nil {
		return "", nil, fmt.Errorf("read the change log: %w", err)
	}
	more := len(list) > changesPage
	list = list[:min(len(list), changesPage)]
	cat := f.catalog()
	parts := []string{l.T(locales.ChangesTitle)}
	for _, c := range list {
		parts = append(parts, changeText(l, cat, c))
	}
	if len(list) == 0 {
		parts = append(parts, l.T(locales.ChangesEmpty))
	}
	if !more {
		return strings.Join(parts, "\n\n"), nil, nil
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		button(l.T(locales.ButtonOlder), cbChanges, tg.B36(list[len(list)-1].ID)),
	))
	return strings.Join(parts, "\n\n"), &kb, nil
}

// changeText is one change: when, which center, who (a user id: the log
// names no one), and what before and after.
func changeText(l *locales.Localizer, cat *catalog.Catalog, c storage.Change) string {
	loc := cat.Location()
	center := c.CenterID
	if ce, ok := cat.Center(c.CenterID); ok {
		center = ce.Name.In(l.Lang())
	}
	head := fmt.Sprintf("<b>%s</b> · %s · id %d", esc(l.DateTime(c.At.In(loc))), esc(center), c.By)
	var what string
	switch c.Kind {
	case storage.ChangeCardSet, storage.ChangeCardReset:
		field := l.T(fieldLabel(c.Field))
		before, after := l.T(locales.ChangeCatalogValue), l.T(locales.ChangeCatalogValue)
		if c.Before != nil {
			before = esc(overrideText(l, *c.Before))
		}
		if c.After != nil {
			after = esc(overrideText(l, *c.After))
		}
		what = field + ": " + before + " → " + after
	case storage.ChangeClose, storage.ChangeReopen:
		id := locales.ChangeClose
		if c.Kind == storage.ChangeReopen {
			id = locales.ChangeReopen
		}
		var cl storage.Closure
		if c.Closure != nil {
			cl = *c.Closure
		}
		what = l.T(id, locales.Data{
			"When": esc(spanText(l, loc, cl.From, cl.To)), "Type": esc(typeName(l, cat, cl.TypeID)),
			"Reason": esc(l.T(reasonLabel(cl.Reason))), "Count": l.Int(len(c.Cancelled)),
		})
	case storage.ChangeSessionAdd, storage.ChangeSessionRemove:
		id := locales.ChangeSessionAdd
		if c.Kind == storage.ChangeSessionRemove {
			id = locales.ChangeSessionRemove
		}
		var s storage.ExtraSession
		if c.Session != nil {
			s = *c.Session
		}
		what = l.T(id, locales.Data{
			"When": esc(spanText(l, loc, s.Start, s.End)), "Type": esc(typeName(l, cat, s.TypeID)), "Count": l.Int(len(c.Cancelled)),
		})
	default:
		what = esc(string(c.Kind))
	}
	return head + "\n" + what
}

// typeName is a type's label, "all consultations" for none, or its id
// when the catalog no longer has it.
func typeName(l *locales.Localizer, cat *catalog.Catalog, typeID string) string {
	if typeID == "" {
		return l.T(locales.CloseAllTypes)
	}
	if t, ok := cat.Type(typeID); ok {
		return typeLabel(l, t)
	}
	return typeID
}

// overrideText is a card value as the log shows it.
func overrideText(l *locales.Localizer, o storage.CardOverride) string {
	switch o.Field {
	case storage.CardPhone:
		return storage.FormatPhone(o.Text)
	case storage.CardHours:
		return weekText(l, o.Hours)
	case storage.CardPin:
		return fmt.Sprintf("%.5f, %.5f", o.Lat, o.Lon)
	case storage.CardPhoto:
		return "📷"
	}
	return o.Text
}

// closureLines are the closures of the day for a staff digest, one line
// each: center, type, time, reason.
func closureLines(l *locales.Localizer, cat *catalog.Catalog, list []storage.Closure) []string {
	if len(list) == 0 {
		return nil
	}
	lines := []string{"\n" + l.T(locales.StaffDigestClosures)}
	for _, c := range list {
		center := c.CenterID
		if ce, ok := cat.Center(c.CenterID); ok {
			center = ce.Name.In(l.Lang())
		}
		lines = append(lines, "• "+esc(center)+" · "+esc(typeName(l, cat, c.TypeID))+" · "+
			esc(spanText(l, cat.Location(), c.From, c.To))+" · "+esc(l.T(reasonLabel(c.Reason))))
	}
	return lines
}

// closureCancelled counts the cancelled bookings of list whose center
// closed their time.
func closureCancelled(list []storage.Booking) int {
	n := 0
	for _, bk := range list {
		if _, ok := storage.ClosureCancel(bk.CancelReason); ok && bk.Status == storage.BookingCancelled {
			n++
		}
	}
	return n
}

// closureReasonText is the CSV's cancel reason of a booking a closure
// cancelled.
func closureReasonText(l *locales.Localizer, bk storage.Booking) (string, bool) {
	why, ok := storage.ClosureCancel(bk.CancelReason)
	if !ok {
		return "", false
	}
	return l.T(locales.CSVReasonClosure, locales.Data{"Reason": l.T(reasonLabel(why))}), true
}

// digestClosures reads the closures in force of centers over a day.
func digestClosures(ctx context.Context, st interface {
	Closures(ctx context.Context, centerIDs []string, from, to time.Time) ([]storage.Closure, error)
}, ids []string, from, to time.Time) ([]storage.Closure, error) {
	list, err := st.Closures(ctx, ids, from, to)
	if err != nil {
		return nil, fmt.Errorf("closures of the day: %w", err)
	}
	return list, nil
}
