package bot

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"jastar/bot/telegramtest"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/catalog"
)

// renamedKarasai is the default catalog with Karasai's center renamed to
// "kaskelen": for the bot, the center "karasai" disappeared.
func renamedKarasai(t *testing.T) *catalog.Catalog {
	t.Helper()
	data := bytes.Replace(catalog.DefaultTOML(), []byte("id = \"karasai\"\ndistrict = \"karasai\""), []byte("id = \"kaskelen\"\ndistrict = \"karasai\""), 1)
	data = bytes.ReplaceAll(data, []byte(`center = "karasai"`), []byte(`center = "kaskelen"`))
	c, err := catalog.Parse("catalog.toml", data, almaty(t))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSetCatalog_KeepsAndListsOrphanedBookings: a reload that drops a
// center keeps its bookings and logs each, and the bot answers from the
// new catalog at once; swaps while people use the bot are race-free.
func TestSetCatalog_KeepsAndListsOrphanedBookings(t *testing.T) {
	t.Parallel()
	h, _ := bookingHarness(t)
	ctx := context.Background()
	bk := h.book(3500, storage.Russian, "karasai", "career", at(t, 2, 11))
	old, renamed := h.bot.cat(), renamedKarasai(t)

	u := telegramtest.User{ID: 3501, FirstName: "Дана", LanguageCode: "ru"}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 20 {
			if _, err := h.bot.SetCatalog(ctx, []*catalog.Catalog{renamed, old}[i%2]); err != nil {
				t.Error(err)
			}
		}
	}()
	for range 3 {
		h.ask(u, "/book", "Какая нужна?")
	}
	wg.Wait()

	n, err := h.bot.SetCatalog(ctx, renamed)
	if err != nil || n != 1 {
		t.Fatalf("orphans = %d, %v; want 1", n, err)
	}
	if got, _ := h.db.Booking(ctx, bk.ID); !got.Active() {
		t.Error("the booking of a center that disappeared was dropped")
	}
	if !strings.Contains(h.logs.String(), `"booking_id":`+itoa(bk.ID)) {
		t.Error("the kept booking is not listed in the log")
	}
	m := h.ask(u, "/start", "")
	id, _ := h.srv.PressButton(u, u.ID, m.ID, "ctr:karasai")
	if ans := h.waitAnswered(id); ans != ru(locales.OutdatedButton) {
		t.Errorf("the dropped center answered %q", ans)
	}
	h.srv.PressButton(u, u.ID, m.ID, "ctr:kaskelen")
	h.waitText(u.ID, "Карасайского района", "📞")
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
