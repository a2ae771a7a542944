package bot

import (
	"bytes"
	"context"
	"encoding/csv"
	"image"
	"image/png"
	"strings"
	"testing"
	"time"

	"jastar/bot/telegramtest"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/catalog"
)

const testStaffKarasai = 7100

// scopedHarness is bookingHarness with a staff member of Karasai only.
func scopedHarness(t *testing.T) *harness {
	t.Helper()
	cat := catalog.Default(almaty(t))
	for i := range cat.Centers {
		if cat.Centers[i].ID == "karasai" {
			cat.Centers[i].StaffUserIDs = []int64{testStaffKarasai}
		}
	}
	h, _ := bookingHarness(t, withCatalog(cat))
	return h
}

// waitWith waits for a bot message in chat that satisfies pred.
func (h *harness) waitWith(chatID int64, pred func(telegramtest.Message) bool) telegramtest.Message {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := h.srv.WaitFor(ctx, chatID, pred)
	if err != nil {
		h.t.Fatalf("chat %d: no such bot message; transcript:\n%s", chatID, h.transcript(chatID))
	}
	return m
}

func (h *harness) waitPhoto(chatID int64) telegramtest.Message {
	h.t.Helper()
	return h.waitWith(chatID, func(m telegramtest.Message) bool { return m.Photo != nil })
}

// readCSV checks the BOM and parses the rest as Excel would in a Russian
// or Kazakh locale.
func readCSV(t *testing.T, data []byte) [][]string {
	t.Helper()
	rest, ok := bytes.CutPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	if !ok {
		t.Fatalf("CSV does not start with the UTF-8 BOM: % x", data[:min(3, len(data))])
	}
	if !bytes.Contains(rest, []byte("\r\n")) {
		t.Error("CSV lines do not end with CRLF")
	}
	r := csv.NewReader(bytes.NewReader(rest))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestExport_StaffScopeColumnsAndInjection(t *testing.T) {
	t.Parallel()
	h := scopedHarness(t)
	made := at(t, 1, 9)
	seedBooking(t, h, storage.Booking{ChatID: 11, Name: "=HYPERLINK(\"http://x\")", Username: "evil", Lang: storage.Russian,
		TypeID: "career", CenterID: "karasai", Start: at(t, 3, 11)}, made, storage.BookingBooked)
	seedBooking(t, h, storage.Booking{ChatID: 12, Name: "Айгүл", Phone: "+77017654321", Lang: storage.Kazakh,
		TypeID: "legal", CenterID: "karasai", Start: at(t, 4, 15)}, made, storage.BookingCancelled)
	seedBooking(t, h, storage.Booking{ChatID: 13, Name: "Other Center Person", Lang: storage.Russian,
		TypeID: "career", CenterID: "konaev", Start: at(t, 3, 12)}, made, storage.BookingBooked)
	seedBooking(t, h, storage.Booking{ChatID: 14, Name: "Next Month", Lang: storage.Russian,
		TypeID: "career", CenterID: "karasai", Start: time.Date(2027, 1, 5, 11, 0, 0, 0, almaty(t))}, made, storage.BookingBooked)
	// Today, for /today's scoping.
	seedBooking(t, h, storage.Booking{ChatID: 15, Name: "Today Karasai", TypeID: "career", CenterID: "karasai", Start: at(t, 1, 15)}, made, storage.BookingBooked)
	seedBooking(t, h, storage.Booking{ChatID: 16, Name: "Today Konaev", TypeID: "career", CenterID: "konaev", Start: at(t, 1, 15)}, made, storage.BookingBooked)

	staff := telegramtest.User{ID: testStaffKarasai, FirstName: "Staff", LanguageCode: "ru"}
	l := tl("ru")

	t.Run("staff get their centers of this month", func(t *testing.T) {
		h.srv.SendText(staff, "/export")
		doc := h.waitDocument(staff.ID)
		if !strings.HasSuffix(doc.Document.FileName, ".csv") || !strings.Contains(doc.Text, "01.12.2026") {
			t.Errorf("document %q, caption %q", doc.Document.FileName, doc.Text)
		}
		rows := readCSV(t, doc.Document.Data)
		wantHeader := []string{l.T(locales.CSVID), l.T(locales.CSVDate), l.T(locales.CSVTime), l.T(locales.CSVType), l.T(locales.CSVCenter),
			l.T(locales.CSVStatus), l.T(locales.CSVName), l.T(locales.CSVUsername), l.T(locales.CSVPhone), l.T(locales.CSVCreated), l.T(locales.CSVCancelReason)}
		if strings.Join(rows[0], "|") != strings.Join(wantHeader, "|") {
			t.Errorf("header = %q, want %q", rows[0], wantHeader)
		}
		if len(rows) != 4 {
			t.Fatalf("got %d bookings, want 3 of Karasai in December:\n%q", len(rows)-1, rows)
		}
		for _, row := range rows[1:] {
			if strings.Contains(row[6], "Other") || strings.Contains(row[6], "Konaev") || strings.Contains(row[6], "Next Month") {
				t.Errorf("row out of scope: %q", row)
			}
		}
		evil := rows[2] // by start: 1st 15:00, 3rd 11:00, 4th 15:00
		if evil[6] != "'=HYPERLINK(\"http://x\")" || evil[1] != "03.12.2026" || evil[2] != "11:00" || evil[7] != "evil" {
			t.Errorf("row = %q, want the formula defused", evil)
		}
		cancelled := rows[3]
		if cancelled[6] != "Айгүл" || cancelled[8] != "'+77017654321" || cancelled[5] != l.T(locales.StatusCancelled) || cancelled[10] != l.T(locales.StaffReasonClosed) {
			t.Errorf("row = %q", cancelled)
		}
	})
	t.Run("a period", func(t *testing.T) {
		h.srv.SendText(staff, "/export 01.01.2027 31.01.2027")
		doc := h.waitWith(staff.ID, func(m telegramtest.Message) bool { return m.Document != nil && strings.Contains(m.Text, "2027") })
		if rows := readCSV(t, doc.Document.Data); len(rows) != 2 || rows[1][6] != "Next Month" {
			t.Errorf("January export = %q", rows)
		}
	})
	t.Run("bad period", func(t *testing.T) {
		h.srv.SendText(staff, "/export 31.12.2026 01.12.2026")
		h.waitText(staff.ID, firstLine(l.T(locales.ExportUsage)))
	})
	t.Run("staff see only their center today", func(t *testing.T) {
		h.srv.SendText(staff, "/today")
		m := h.waitText(staff.ID, "Today Karasai")
		if strings.Contains(m.Text, "Today Konaev") {
			t.Errorf("/today shows another center's booking:\n%s", m.Text)
		}
	})
	t.Run("admins get all centers", func(t *testing.T) {
		admin := telegramtest.User{ID: testAdmin, FirstName: "Admin", LanguageCode: "kk"}
		h.srv.SendText(admin, "/export 01.12.2026 31.12.2026")
		rows := readCSV(t, h.waitDocument(admin.ID).Document.Data)
		if len(rows) != 6 || rows[0][3] != tl("kk").T(locales.CSVType) {
			t.Errorf("admin export has %d rows, header %q; want 5 bookings in Kazakh", len(rows)-1, rows[0])
		}
	})
	t.Run("others are refused", func(t *testing.T) {
		someone := telegramtest.User{ID: 7200, FirstName: "Someone", LanguageCode: "ru"}
		h.srv.SendText(someone, "/export")
		h.waitText(someone.ID, l.T(locales.NotAllowed))
		h.srv.SendText(someone, "/stats")
		h.waitText(someone.ID, l.T(locales.NotAllowed))
		h.srv.SendText(staff, "/stats")
		h.waitWith(staff.ID, func(m telegramtest.Message) bool { return m.Text == l.T(locales.NotAllowed) })
	})
}

func TestStats_FiguresAndChart(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t)
	made := time.Date(2026, 11, 1, 9, 0, 0, 0, almaty(t))
	day := func(d, hr int) time.Time { return time.Date(2026, 11, d, hr, 0, 0, 0, almaty(t)) }
	seed := []struct {
		typ, center string
		status      storage.BookingStatus
	}{
		{"career", "karasai", storage.BookingAttended},
		{"career", "karasai", storage.BookingAttended},
		{"career", "karasai", storage.BookingNoShow},
		{"career", "konaev", storage.BookingCancelled},
		{"legal", "karasai", storage.BookingBooked},
		{"psychology", "online", storage.BookingAttended},
	}
	var booked []storage.Booking
	for i, s := range seed {
		booked = append(booked, seedBooking(t, h, storage.Booking{ChatID: int64(20 + i), Name: "P", TypeID: s.typ, CenterID: s.center, Start: day(10+i, 11)}, made, s.status))
	}
	// Outside the period: not counted.
	late := seedBooking(t, h, storage.Booking{ChatID: 30, TypeID: "career", CenterID: "karasai", Start: day(30, 11).AddDate(0, 0, 1)}, made, storage.BookingBooked)

	// Ratings of the attended ones, given in the period, and one given
	// after it.
	ctx := context.Background()
	for _, f := range []struct {
		bk     storage.Booking
		rating int
		at     time.Time
	}{{booked[0], 5, day(10, 14)}, {booked[1], 4, day(11, 14)}, {booked[5], 3, day(15, 14)}, {late, 1, day(30, 11).AddDate(0, 0, 1)}} {
		if _, err := h.db.SaveRating(ctx, storage.Feedback{BookingID: f.bk.ID, ChatID: f.bk.ChatID, TypeID: f.bk.TypeID, CenterID: f.bk.CenterID, Rating: f.rating, At: f.at}); err != nil {
			t.Fatal(err)
		}
	}
	// Subscribers today: three active, one who unsubscribed.
	district := h.bot.cat().ListedDistricts()[0]
	for _, s := range []storage.Subscription{
		{ChatID: 40, Topics: []storage.Topic{storage.TopicEvents, storage.TopicNews}, DistrictID: district.ID, Active: true},
		{ChatID: 41, Topics: []storage.Topic{storage.TopicEvents}, Active: true},
		{ChatID: 42, Topics: []storage.Topic{storage.TopicJobs}, DistrictID: district.ID, Active: true},
		{ChatID: 43, Topics: []storage.Topic{storage.TopicJobs}, DistrictID: district.ID},
	} {
		if err := h.db.SaveSubscription(ctx, s); err != nil {
			t.Fatal(err)
		}
	}

	admin := telegramtest.User{ID: testAdmin, FirstName: "Admin", LanguageCode: "ru"}
	l := tl("ru")
	h.srv.SendText(admin, "/stats 01.11.2026 30.11.2026")
	m := h.waitText(admin.ID, plain(l.T(locales.StatsHeader, locales.Data{"From": "01.11.2026", "To": "30.11.2026"})))
	karasai, _ := h.bot.cat().Center("karasai")
	career, _ := h.bot.cat().Type("career")
	for _, want := range []string{
		l.N(locales.StatsTotal, 6),
		l.T(locales.StatsByStatus, locales.Data{"Booked": 1, "Attended": 3, "NoShow": 1, "Cancelled": 1}),
		plain(l.T(locales.StatsLine, locales.Data{"Name": career.Name.In("ru"), "ID": "career", "Count": 4})),
		plain(l.T(locales.StatsLine, locales.Data{"Name": karasai.Name.In("ru"), "ID": "karasai", "Count": 4})),
	} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("stats lack %q:\n%s", want, m.Text)
		}
	}
	psychology, _ := h.bot.cat().Type("psychology")
	online, _ := h.bot.cat().Center("online")
	sub := func(name string, n int) string {
		return l.N(locales.StatsSubscriberLine, n, locales.Data{"Name": name})
	}
	rating := func(name, id, avg string, n int) string {
		return plain(l.N(locales.StatsFeedbackLine, n, locales.Data{"Name": name, "ID": id, "Rating": avg}))
	}
	for _, want := range []string{
		l.N(locales.StatsSubscribers, 3),
		sub(ru(locales.TopicEvents), 2), sub(ru(locales.TopicJobs), 1), sub(ru(locales.TopicNews), 1),
		sub(district.Name.RU, 2), sub(ru(locales.AllDistricts), 1),
		l.N(locales.StatsFeedback, 3, locales.Data{"Rating": "4,0"}),
		rating(career.Name.RU, "career", "4,5", 2), rating(psychology.Name.RU, "psychology", "3,0", 1),
		rating(karasai.Name.RU, "karasai", "4,5", 2), rating(online.Name.RU, "online", "3,0", 1),
	} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("stats lack %q:\n%s", want, m.Text)
		}
	}
	if !strings.Contains(l.N(locales.StatsFeedbackLine, 2, locales.Data{}), "2 оценки") || !strings.Contains(l.N(locales.StatsSubscribers, 5), "подписчиков") {
		t.Errorf("plurals: %q, %q", l.N(locales.StatsFeedbackLine, 2), l.N(locales.StatsSubscribers, 5))
	}
	if !strings.Contains(l.N(locales.StatsTotal, 6), "записей") {
		t.Errorf("plural of 6 = %q", l.N(locales.StatsTotal, 6))
	}

	// The chart: each status color covers as many pixels as its bookings
	// take, in the type bars and again in the center bars.
	photo := h.waitPhoto(admin.ID)
	img, err := png.Decode(bytes.NewReader(photo.Photo.Data))
	if err != nil {
		t.Fatal(err)
	}
	counts := [4]int{3, 1, 1, 1} // attended, booked, no-show, cancelled
	maxRow := 4                  // career, and karasai
	for i, c := range chartColors {
		got := countColor(img, c.R, c.G, c.B)
		want := 2 * counts[i] * chartBarMaxW / maxRow * chartBarH
		if diff := got - want; diff < -4*chartBarH || diff > 4*chartBarH {
			t.Errorf("status %s: %d pixels, want about %d", statusOrder[i], got, want)
		}
	}

	// Empty period: a message, no chart.
	h.srv.SendText(admin, "/stats 01.01.2026")
	empty := h.waitText(admin.ID, l.T(locales.StatsNone))
	if !strings.Contains(empty.Text, l.T(locales.StatsFeedbackNone)) {
		t.Errorf("empty period lacks %q:\n%s", l.T(locales.StatsFeedbackNone), empty.Text)
	}
}

func countColor(img image.Image, r, g, b uint8) int {
	n := 0
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if uint8(cr>>8) == r && uint8(cg>>8) == g && uint8(cb>>8) == b {
				n++
			}
		}
	}
	return n
}
