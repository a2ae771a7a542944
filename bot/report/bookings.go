package report

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"

	"jastar/storage"
)

// BookingLabels are the words of the bookings CSV (/export and "jastar
// export") in the reader's language.
type BookingLabels struct {
	// Header is the column headers, in order: id, date, time, type,
	// center, status, name, username, phone, created, cancel reason.
	Header [11]string
	// Type and Center name a consultation type and a center by id.
	Type, Center func(id string) string
	Status       func(storage.BookingStatus) string
	// AnonymousCode is what an anonymous booking shows in the name column.
	AnonymousCode func(storage.Booking) string
	// CancelReason is why a cancelled booking was cancelled, "" for any
	// other.
	CancelReason func(storage.Booking) string
}

// WriteBookingsCSV writes bookings as a CSV file for Excel: a UTF-8 BOM,
// the header, ';' between columns, CRLF line ends. Dates are DD.MM.YYYY
// and times HH:MM in loc, as Excel in these locales reads them. A phone is
// only there if the person consented (the booking holds none otherwise).
// An anonymous booking has its code in the name column and nothing of the
// person: the file leaves the bot for anyone's computer.
func WriteBookingsCSV(w io.Writer, list []storage.Booking, l BookingLabels, loc *time.Location) error {
	if _, err := w.Write(csvBOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Comma = csvSeparator
	cw.UseCRLF = true
	if err := cw.Write(safeRow(l.Header[:])); err != nil {
		return err
	}
	for _, bk := range list {
		start := bk.Start.In(loc)
		name, username, phone := bk.Name, bk.Username, bk.Phone
		if bk.Anonymous {
			name, username, phone = l.AnonymousCode(bk), "", ""
		}
		row := []string{
			strconv.FormatUint(bk.ID, 10), start.Format("02.01.2006"), start.Format("15:04"), l.Type(bk.TypeID), l.Center(bk.CenterID),
			l.Status(bk.Status), name, username, phone,
			bk.CreatedAt.In(loc).Format("02.01.2006 15:04"), l.CancelReason(bk),
		}
		if err := cw.Write(safeRow(row)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
