package bot

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/report"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/catalog"
)

// maxPeriodDays bounds /export and /stats: a year of bookings of a region
// fits a message and a Telegram document easily, more is a mistake.
const maxPeriodDays = 366

// csvBOM makes Excel read the file as UTF-8; without it Excel guesses the
// Windows code page and Cyrillic and Kazakh letters turn into mojibake.
var csvBOM = []byte{0xEF, 0xBB, 0xBF}

// CSVSeparator is ';': Excel in Russian and Kazakh locales (decimal comma)
// splits CSV columns on the list separator ';', and would put a
// comma-separated file into a single column. The "sep=;" hint line is not
// used: with it Excel ignores the BOM.
const CSVSeparator = ';'

// handleExport: /export [DD.MM.YYYY [DD.MM.YYYY]] sends the bookings of the
// sender's centers (all centers for admins) as a CSV document.
func (b *Bot) handleExport(ctx context.Context, r *Request) error {
	centers := b.staffCenters(r)
	admin := r.From != nil && b.isAdmin(r.From.ID)
	if len(centers) == 0 && !admin {
		_, err := b.reply(ctx, r, r.L.T(locales.NotAllowed), nil)
		return err
	}
	now := b.now().In(b.cfg.Location)
	from, to, ok := parsePeriod(r.Args, b.cfg.Location, monthOf(now))
	if !ok {
		_, err := b.reply(ctx, r, r.L.T(locales.ExportUsage), nil)
		return err
	}
	var list []storage.Booking
	var err error
	if admin {
		list, err = b.store.AllBookingsOn(ctx, from.At(0, b.cfg.Location), to.At(24*60, b.cfg.Location))
	} else {
		list, err = b.store.BookingsOn(ctx, centers, from.At(0, b.cfg.Location), to.At(24*60, b.cfg.Location))
	}
	if err != nil {
		return err
	}
	l := r.L
	period := locales.Data{"From": from.At(0, b.cfg.Location).Format("02.01.2006"), "To": to.At(0, b.cfg.Location).Format("02.01.2006")}
	if len(list) == 0 {
		_, err := b.reply(ctx, r, l.T(locales.ExportEmpty, period), nil)
		return err
	}
	var buf bytes.Buffer
	if err := WriteBookingsCSV(&buf, list, b.cat(), l, b.cfg.Location); err != nil {
		return err
	}
	name := fmt.Sprintf("jastar-bookings-%s-%s.csv", from, to)
	doc := tgbotapi.NewDocument(r.ChatID, tgbotapi.FileBytes{Name: name, Bytes: buf.Bytes()})
	doc.Caption = l.N(locales.ExportCaption, len(list), period)
	doc.ParseMode = tgbotapi.ModeHTML
	_, err = b.send.Send(ctx, r.ChatID, doc)
	if err == nil {
		b.log.Info("bookings exported", "chat_id", r.ChatID, "user_id", fromID(r), "bookings", len(list), "admin", admin)
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

// WriteBookingsCSV writes bookings as a CSV file for Excel: a UTF-8 BOM, a
// header in l's language, ';' between columns, CRLF line ends. Dates are
// DD.MM.YYYY and times HH:MM in loc, as Excel in these locales reads them.
// A phone is only there if the person consented (the booking holds none
// otherwise). An anonymous booking has its code in the name column and
// nothing of the person: the file leaves the bot for anyone's computer.
// The code's letter is the type's in l's language, the staff's.
func WriteBookingsCSV(w io.Writer, list []storage.Booking, cat *catalog.Catalog, l *locales.Localizer, loc *time.Location) error {
	if _, err := w.Write(csvBOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Comma = CSVSeparator
	cw.UseCRLF = true
	header := []string{
		l.T(locales.CSVID), l.T(locales.CSVDate), l.T(locales.CSVTime), l.T(locales.CSVType), l.T(locales.CSVCenter),
		l.T(locales.CSVStatus), l.T(locales.CSVName), l.T(locales.CSVUsername), l.T(locales.CSVPhone),
		l.T(locales.CSVCreated), l.T(locales.CSVCancelReason),
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, bk := range list {
		typ, center := bk.TypeID, bk.CenterID
		if t, ok := cat.Type(bk.TypeID); ok {
			typ = t.Name.In(l.Lang())
		}
		if c, ok := cat.Center(bk.CenterID); ok {
			center = c.Name.In(l.Lang())
		}
		start := bk.Start.In(loc)
		name, username, phone := bk.Name, bk.Username, bk.Phone
		if bk.Anonymous {
			name, username, phone = anonymousCodeIn(cat, bk, l.Lang()), "", ""
		}
		row := []string{
			strconv.FormatUint(bk.ID, 10), start.Format("02.01.2006"), start.Format("15:04"), typ, center,
			l.T(statusText[bk.Status]), name, username, phone,
			bk.CreatedAt.In(loc).Format("02.01.2006 15:04"), cancelReasonText(l, bk),
		}
		for i := range row {
			row[i] = report.CSVSafe(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

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
