package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"jastar/storage"
)

func testBookingLabels() BookingLabels {
	return BookingLabels{
		Header: [11]string{"№", "Дата", "Время", "Вид", "Центр", "Статус", "Имя", "Username", "Телефон", "Создана", "Причина отмены"},
		Type:   func(id string) string { return map[string]string{"career": "Профориентация"}[id] },
		Center: func(id string) string { return map[string]string{"karasai": "Центр Карасай"}[id] },
		Status: func(s storage.BookingStatus) string {
			return map[storage.BookingStatus]string{storage.BookingBooked: "записан", storage.BookingCancelled: "отменена"}[s]
		},
		AnonymousCode: func(bk storage.Booking) string { return "П-" + bk.CenterID },
		CancelReason: func(bk storage.Booking) string {
			if bk.Status == storage.BookingCancelled {
				return "по просьбе человека"
			}
			return ""
		},
	}
}

// TestWriteBookingsCSV: the file Excel opens in a Russian or Kazakh locale
// has the BOM, ';' columns and CRLF lines, dates and times in the region's
// zone, a typed formula defused, and nothing of an anonymous person but
// the code.
func TestWriteBookingsCSV(t *testing.T) {
	loc := time.FixedZone("Almaty", 5*3600)
	made := time.Date(2026, 11, 30, 9, 5, 0, 0, loc)
	list := []storage.Booking{
		{ID: 1, Name: "=HYPERLINK(\"http://x\")", Username: "evil", Phone: "+77011234567", TypeID: "career", CenterID: "karasai",
			Start: time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC), Status: storage.BookingBooked, CreatedAt: made},
		{ID: 2, Name: "Айгүл", Username: "aigul", Phone: "+77017654321", Anonymous: true, TypeID: "career", CenterID: "karasai",
			Start: time.Date(2026, 12, 3, 10, 0, 0, 0, loc), Status: storage.BookingCancelled, CreatedAt: made},
	}
	var buf bytes.Buffer
	if err := WriteBookingsCSV(&buf, list, testBookingLabels(), loc); err != nil {
		t.Fatal(err)
	}
	rest, ok := bytes.CutPrefix(buf.Bytes(), csvBOM)
	if !ok {
		t.Fatal("no UTF-8 BOM: Excel would garble Cyrillic and Kazakh letters")
	}
	if !bytes.Contains(rest, []byte("\r\n")) {
		t.Error("lines do not end with CRLF")
	}
	r := csv.NewReader(bytes.NewReader(rest))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"№", "Дата", "Время", "Вид", "Центр", "Статус", "Имя", "Username", "Телефон", "Создана", "Причина отмены"},
		{"1", "02.12.2026", "11:00", "Профориентация", "Центр Карасай", "записан", "'=HYPERLINK(\"http://x\")", "evil", "'+77011234567", "30.11.2026 09:05", ""},
		{"2", "03.12.2026", "10:00", "Профориентация", "Центр Карасай", "отменена", "П-karasai", "", "", "30.11.2026 09:05", "по просьбе человека"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %q", len(rows), len(want), rows)
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d = %q, want %q", i, rows[i], want[i])
		}
	}
}
