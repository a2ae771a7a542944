package bot

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/report"
	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/catalog"
)

// maxPeriodDays bounds /export and /stats: a year of bookings of a region
// fits a message and a Telegram document easily, more is a mistake.
const maxPeriodDays = 366

// exportStore is what /export reads.
type exportStore interface {
	BookingsOn(ctx context.Context, centerIDs []string, from, to time.Time) ([]storage.Booking, error)
	AllBookingsOn(ctx context.Context, from, to time.Time) ([]storage.Booking, error)
}

// fileSender sends what is not text (a document, a photo) through the
// rate-limited sender; *tg.Sender is one.
type fileSender interface {
	Send(ctx context.Context, chatID int64, c tgbotapi.Chattable) (int, error)
}

// export is the feature: /export, the bookings of the sender's centers as
// a CSV document.
type export struct {
	kit
	store exportStore
	files fileSender
}

// handleExport: /export [DD.MM.YYYY [DD.MM.YYYY]] sends the bookings of the
// sender's centers (all centers for admins) as a CSV document.
func (f *export) handleExport(ctx context.Context, r *tg.Request) error {
	centers := f.staffCenters(r)
	admin := r.From != nil && f.isAdmin(r.From.ID)
	if len(centers) == 0 && !admin {
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.NotAllowed), nil)
		return err
	}
	now := f.now().In(f.cfg.Location)
	from, to, ok := parsePeriod(r.Args, f.cfg.Location, monthOf(now))
	if !ok {
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.ExportUsage), nil)
		return err
	}
	var list []storage.Booking
	var err error
	if admin {
		list, err = f.store.AllBookingsOn(ctx, from.At(0, f.cfg.Location), to.At(24*60, f.cfg.Location))
	} else {
		list, err = f.store.BookingsOn(ctx, centers, from.At(0, f.cfg.Location), to.At(24*60, f.cfg.Location))
	}
	if err != nil {
		return err
	}
	l := r.L
	period := locales.Data{"From": from.At(0, f.cfg.Location).Format("02.01.2006"), "To": to.At(0, f.cfg.Location).Format("02.01.2006")}
	if len(list) == 0 {
		_, err := f.tx.Reply(ctx, r, l.T(locales.ExportEmpty, period), nil)
		return err
	}
	var buf bytes.Buffer
	if err := report.WriteBookingsCSV(&buf, list, BookingsCSVLabels(f.catalog(), l), f.cfg.Location); err != nil {
		return err
	}
	name := fmt.Sprintf("jastar-bookings-%s-%s.csv", from, to)
	doc := tgbotapi.NewDocument(r.ChatID, tgbotapi.FileBytes{Name: name, Bytes: buf.Bytes()})
	doc.Caption = l.N(locales.ExportCaption, len(list), period)
	doc.ParseMode = tgbotapi.ModeHTML
	_, err = f.files.Send(ctx, r.ChatID, doc)
	if err == nil {
		f.log.Info("bookings exported", "chat_id", r.ChatID, "user_id", fromID(r), "bookings", len(list), "admin", admin)
	}
	return err
}

// monthOf is the current month, the default period of /export.
func monthOf(now time.Time) [2]catalog.Date {
	first := time.Date(now.Year(), now.Month(), 1, 12, 0, 0, 0, now.Location())
	return [2]catalog.Date{catalog.DateOf(first), catalog.DateOf(first.AddDate(0, 1, -1))}
}

// parsePeriod reads "", "DD.MM.YYYY" or "DD.MM.YYYY DD.MM.YYYY" (both days
// included); an empty argument gives def. A period backwards or longer than
// maxPeriodDays is refused.
func parsePeriod(args string, loc *time.Location, def [2]catalog.Date) (from, to catalog.Date, ok bool) {
	fields := strings.Fields(args)
	if len(fields) == 0 {
		return def[0], def[1], true
	}
	if len(fields) > 2 {
		return from, to, false
	}
	var days []time.Time
	for _, f := range fields {
		t, err := time.ParseInLocation("02.01.2006", f, loc)
		if err != nil {
			return from, to, false
		}
		days = append(days, t)
	}
	if len(days) == 1 {
		days = append(days, days[0])
	}
	if days[1].Before(days[0]) || days[1].Sub(days[0]) > maxPeriodDays*24*time.Hour {
		return from, to, false
	}
	return catalog.DateOf(days[0]), catalog.DateOf(days[1]), true
}

// BookingsCSVLabels are the words of the bookings CSV in l's language:
// names from cat, and the code of an anonymous booking with its type's
// letter in l's language (the staff's, who read the file).
func BookingsCSVLabels(cat *catalog.Catalog, l *locales.Localizer) report.BookingLabels {
	return report.BookingLabels{
		Header: [11]string{
			l.T(locales.CSVID), l.T(locales.CSVDate), l.T(locales.CSVTime), l.T(locales.CSVType), l.T(locales.CSVCenter),
			l.T(locales.CSVStatus), l.T(locales.CSVName), l.T(locales.CSVUsername), l.T(locales.CSVPhone),
			l.T(locales.CSVCreated), l.T(locales.CSVCancelReason),
		},
		Type: func(id string) string {
			if t, ok := cat.Type(id); ok {
				return t.Name.In(l.Lang())
			}
			return id
		},
		Center: func(id string) string {
			if c, ok := cat.Center(id); ok {
				return c.Name.In(l.Lang())
			}
			return id
		},
		Status:        func(s storage.BookingStatus) string { return l.T(statusText[s]) },
		AnonymousCode: func(bk storage.Booking) string { return anonymousCodeIn(cat, bk, l.Lang()) },
		CancelReason:  func(bk storage.Booking) string { return cancelReasonText(l, bk) },
	}
}

// cancelReasonText is why a booking was cancelled, in l's language; "" for
// one not cancelled.
func cancelReasonText(l *locales.Localizer, bk storage.Booking) string {
	if bk.Status != storage.BookingCancelled {
		return ""
	}
	if bk.CancelReason == cancelByPerson {
		return l.T(locales.CSVReasonByPerson)
	}
	if text, ok := closureReasonText(l, bk); ok {
		return text
	}
	if code, ok := strings.CutPrefix(bk.CancelReason, "staff_"); ok {
		if text, known := reasonText(code); known {
			return l.T(text)
		}
	}
	return bk.CancelReason
}
