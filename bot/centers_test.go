package bot

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"jastar/bot/telegramtest"
	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/catalog"
)

// december1 is the tests' "now": 1 December 2026, 10:00 in Almaty.
func december1(t testing.TB) *fakeClock {
	return &fakeClock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, almaty(t))}
}

// buttonData lists the callback data of a message's inline buttons in order.
func buttonData(m telegramtest.Message) []string {
	var out []string
	for _, row := range m.InlineKeyboard {
		for _, b := range row {
			out = append(out, b.CallbackData)
		}
	}
	return out
}

// waitMatch waits for a bot message in chat that satisfies pred.
func (h *harness) waitMatch(chatID int64, what string, pred func(telegramtest.Message) bool) telegramtest.Message {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := h.srv.WaitFor(ctx, chatID, pred)
	if err != nil {
		h.t.Fatalf("chat %d: no %s; transcript:\n%s", chatID, what, h.transcript(chatID))
	}
	return m
}

// pressData presses a button with arbitrary (possibly forged) data on m.
func (h *harness) pressData(from telegramtest.User, m telegramtest.Message, data string) string {
	id, _ := h.srv.PressButton(from, m.ChatID, m.ID, data)
	return id
}

// expectedNearest ranks the catalog's centers from lat, lon independently of
// the bot: open centers by distance (the first n), then centers opening soon
// within catalog.SoonWithinKm.
func expectedNearest(cat *catalog.Catalog, lat, lon float64, n int) []catalog.Nearby {
	var open, soon []catalog.Nearby
	for _, c := range cat.Centers {
		if c.Online {
			continue
		}
		nb := catalog.Nearby{Center: c, Km: catalog.Distance(lat, lon, c.Lat, c.Lon)}
		if c.IsOpen() {
			open = append(open, nb)
		} else if nb.Km <= catalog.SoonWithinKm {
			soon = append(soon, nb)
		}
	}
	by := func(a, b catalog.Nearby) int { return cmp.Compare(a.Km, b.Km) }
	slices.SortFunc(open, by)
	slices.SortFunc(soon, by)
	return append(open[:n], soon[:min(len(soon), catalog.SoonMax)]...)
}

func TestCenters_NearestFromLocation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cat := catalog.Default(almaty(t))
	tests := []struct {
		name      string
		user      telegramtest.User
		lat, lon  float64
		wantFirst string
	}{
		{"Kaskelen ranks Karasai first", telegramtest.User{ID: 1101, FirstName: "Әсел", LanguageCode: "kk"}, 43.199, 76.621, "karasai"},
		{"Bakanas ranks Balkhash first", telegramtest.User{ID: 1102, FirstName: "Олжас", LanguageCode: "ru"}, 44.808, 76.274, "balkhash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := testLocales.For(tt.user.LanguageCode)
			h.srv.SendLocation(tt.user, tt.lat, tt.lon)
			m := h.waitText(tt.user.ID, plain(l.T(locales.CentersNearest)))

			want := expectedNearest(cat, tt.lat, tt.lon, nearestOpen)
			if want[0].Center.ID != tt.wantFirst {
				t.Fatalf("test data: independently ranked first is %s, want %s", want[0].Center.ID, tt.wantFirst)
			}
			var wantData []string
			for _, nb := range want {
				wantData = append(wantData, "ctr:"+nb.Center.ID)
			}
			wantData = append(wantData, "dis:c")
			if got := buttonData(m); !slices.Equal(got, wantData) {
				t.Errorf("buttons = %v, want %v (nearest first)", got, wantData)
			}
			// Distances, localized ("0,0 км"), in the list, in order.
			pos := -1
			for _, nb := range want {
				fragment := nb.Center.Name.In(l.Lang()) + " — " + l.T(locales.CenterAway, locales.Data{"Km": l.Km(nb.Km)})
				i := strings.Index(m.Text, fragment)
				if i < 0 {
					t.Errorf("list lacks %q:\n%s", fragment, m.Text)
				} else if i < pos {
					t.Errorf("%q is out of order", fragment)
				}
				pos = max(pos, i)
			}
			if want[0].Km > 1 {
				t.Errorf("first center is %.1f km away, want about 0", want[0].Km)
			}
			// Centers opening soon are marked, and the unknown hours say so.
			for _, nb := range want {
				if !nb.Center.IsOpen() && !strings.Contains(m.Text, l.T(locales.CenterStatusSoonWhen, locales.Data{"Note": nb.Center.OpensNote.In(l.Lang())})) {
					t.Errorf("%s opening soon is not marked:\n%s", nb.Center.ID, m.Text)
				}
			}
			if !strings.Contains(m.Text, plain(l.T(locales.CenterHours, locales.Data{"Hours": l.T(locales.AskTheCenter)}))) {
				t.Errorf("unknown hours are not shown as ask-the-center:\n%s", m.Text)
			}
			u, err := h.db.User(context.Background(), tt.user.ID)
			if err != nil || !u.HasLocation || u.Lat != tt.lat || u.Lon != tt.lon {
				t.Errorf("stored user = %+v, %v; want the location remembered", u, err)
			}
		})
	}
}

// The "Centers near me" button stays on the keyboard during a dialogue; the
// location it sends must list the centers, not feed the dialogue's step.
func TestCenters_LocationDuringDialogue(t *testing.T) {
	t.Parallel()
	h, clock := bookingHarness(t)
	ctx := context.Background()
	t.Run("booking", func(t *testing.T) {
		u := telegramtest.User{ID: 1151, FirstName: "Әсел", LanguageCode: "ru"}
		h.srv.SendText(u, "/book")
		q := h.waitText(u.ID, plain(firstLine(ru(locales.BookChooseType))))
		h.srv.SendLocation(u, 43.199, 76.621)
		m := h.waitText(u.ID, plain(ru(locales.CentersNearest)))
		if d := buttonData(m); len(d) == 0 || d[0] != "ctr:karasai" {
			t.Errorf("buttons = %v, want Karasai nearest first", d)
		}
		for _, bm := range h.botMessages(u.ID) {
			if bm.Text == ru(locales.BookUseButtons) {
				t.Errorf("the booking dialogue took the location: %q", bm.Text)
			}
		}
		// The dialogue goes on where it was, now nearest first.
		h.press(u, q, "Карьера")
		where := h.waitMessage(u.ID, q.ID, "Где вам удобно", plain(ru(locales.BookNearestNote)))
		if d := buttonData(where); len(d) == 0 || !strings.HasSuffix(d[0], ":karasai") {
			t.Errorf("center buttons = %v, want Karasai first", d)
		}
	})
	t.Run("feedback comment", func(t *testing.T) {
		u := h.person(1152, storage.Kazakh)
		d := newDialogue[feedbackState](u.ID, flowFeedback, stepComment, clock.Now())
		d.State.BookingID = 1
		conv, err := d.stored(clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := h.db.SaveConversation(ctx, conv); err != nil {
			t.Fatal(err)
		}
		h.srv.SendLocation(u, 44.808, 76.274)
		h.waitText(u.ID, plain(kk(locales.CentersNearest)))
		for _, bm := range h.botMessages(u.ID) {
			if bm.Text == plain(kk(locales.FeedbackCommentText)) {
				t.Errorf("the feedback dialogue took the location: %q", bm.Text)
			}
		}
		if _, err := h.db.Conversation(ctx, u.ID); err != nil {
			t.Errorf("feedback dialogue after the location: %v, want it still open", err)
		}
	})
}

func TestCenters_FarAwayGetsEveryCenterAndDistricts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := telegramtest.User{ID: 1201, FirstName: "Ann", LanguageCode: "ru"}
	h.srv.SendLocation(u, 0, 0)
	before, _, _ := strings.Cut(ru(locales.CentersFarAway), ":")
	m := h.waitText(u.ID, before)
	// Every center but the online desk, open ones before those opening
	// soon, then every district.
	cat := catalog.Default(almaty(t))
	var open, soon, want []string
	labels := map[string]string{}
	for _, c := range cat.Centers {
		switch {
		case c.Online:
		case c.IsOpen():
			open = append(open, "ctr:"+c.ID)
			labels["ctr:"+c.ID] = "📍 " + c.Settlement.RU
		default:
			soon = append(soon, "ctr:"+c.ID)
			labels["ctr:"+c.ID] = "🕓 " + c.Settlement.RU + " (скоро)"
		}
	}
	if len(soon) == 0 || len(open) == 0 {
		t.Fatalf("test data: want open centers and centers opening soon, have %d and %d", len(open), len(soon))
	}
	want = append(append(want, open...), soon...)
	for _, d := range cat.ListedDistricts() {
		want = append(want, "dist:"+d.ID+":c")
	}
	if got := buttonData(m); !slices.Equal(got, want) {
		t.Errorf("buttons = %v\nwant %v", got, want)
	}
	for _, row := range m.InlineKeyboard {
		for _, b := range row {
			if l, ok := labels[b.CallbackData]; ok && b.Text != l {
				t.Errorf("button %s reads %q, want %q", b.CallbackData, b.Text, l)
			}
		}
	}
	// A button of the list opens the card.
	h.press(u, m, "📍 Каскелен")
	h.waitText(u.ID, "Молодёжный ресурсный центр Карасайского района", ru(locales.CenterStatusOpen))
}

func TestCenters_DistrictPathCardAndMap(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := telegramtest.User{ID: 1301, FirstName: "Дана", LanguageCode: "ru"}
	h.srv.SendText(u, ru(locales.MenuDistricts))
	list := h.waitText(u.ID, ru(locales.CentersChooseDistrict))

	h.press(u, list, "Карасайский район")
	centers := h.waitText(u.ID, "Карасайский район — центры")
	if centers.ID != list.ID {
		t.Errorf("district centers came as message %d, want the list %d edited in place", centers.ID, list.ID)
	}
	h.press(u, centers, "1. Каскелен")
	// The articles give no phone: the card says to ask, never invents one.
	card := h.waitText(u.ID, "Молодёжный ресурсный центр Карасайского района", plain(ru(locales.CenterPhone, locales.Data{"Phone": ru(locales.CenterPhoneNotGiven)})))
	if !strings.Contains(card.Text, "Центр карьеры") {
		t.Errorf("card lacks the services:\n%s", card.Text)
	}

	h.press(u, card, ru(locales.ButtonShowOnMap))
	venue := h.waitMatch(u.ID, "venue", func(m telegramtest.Message) bool { return m.Venue != nil })
	karasai, _ := catalog.Default(almaty(t)).Center("karasai")
	if venue.Venue.Latitude != karasai.Lat || venue.Venue.Longitude != karasai.Lon {
		t.Errorf("venue at %v,%v; want the center's %v,%v", venue.Venue.Latitude, venue.Venue.Longitude, karasai.Lat, karasai.Lon)
	}
	if !strings.Contains(venue.Venue.Title, "Карасайского") || !strings.Contains(venue.Venue.Address, "Каскелен") {
		t.Errorf("venue = %+v", venue.Venue)
	}
	if calls := h.srv.Calls("sendVenue"); len(calls) != 1 {
		t.Errorf("%d sendVenue calls, want 1", len(calls))
	}
}

func TestCenters_DeepLink(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	t.Run("known center", func(t *testing.T) {
		u := telegramtest.User{ID: 1401, FirstName: "Нұрлан", LanguageCode: "kk"}
		h.srv.SendText(u, "/start center_balkhash")
		card := h.waitText(u.ID, "Балқаш ауданының жастар ресурстық орталығы", kk(locales.CenterStatusOpen))
		if d := buttonData(card); len(d) == 0 || d[0] != "cmap:balkhash" {
			t.Errorf("card buttons = %v, want the map first", d)
		}
		menu := h.waitText(u.ID, kk(locales.MenuPrompt))
		if len(menu.ReplyKeyboard) == 0 || !menu.ReplyKeyboard[0][0].RequestLocation {
			t.Errorf("menu after the card = %+v, want the location button first", menu.ReplyKeyboard)
		}
	})
	for i, payload := range []string{"center_atlantis", "center_", "center_KARASAI", "nonsense"} {
		t.Run(payload, func(t *testing.T) {
			u := telegramtest.User{ID: int64(1410 + i), FirstName: "Guest", LanguageCode: "ru"}
			h.srv.SendText(u, "/start "+payload)
			h.waitText(u.ID, firstLine(plain(ru(locales.Welcome, locales.Data{"Name": "Guest"}))))
			for _, m := range h.botMessages(u.ID) {
				if strings.Contains(m.Text, ru(locales.CenterStatusOpen)) {
					t.Errorf("payload %q opened a card: %q", payload, m.Text)
				}
			}
		})
	}
}

func TestMainMenu_HasCentersAndEvents(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := telegramtest.User{ID: 1501, FirstName: "Ерлан", LanguageCode: "kk"}
	h.srv.SendText(u, "/menu")
	m := h.waitText(u.ID, kk(locales.MenuPrompt))
	var labels []string
	for _, row := range m.ReplyKeyboard {
		for _, b := range row {
			labels = append(labels, b.Text)
			if b.Text == kk(locales.MenuCenters) && !b.RequestLocation {
				t.Errorf("%q does not request the location", b.Text)
			}
		}
	}
	for _, want := range []string{kk(locales.MenuCenters), kk(locales.MenuDistricts), kk(locales.MenuEvents)} {
		if !slices.Contains(labels, want) {
			t.Errorf("menu %v lacks %q", labels, want)
		}
	}
}

// fill is a text of exactly n UTF-16 code units that HTML escaping and
// emoji make as long as it gets.
func fill(n int) string {
	const unit = "ә<&🎉" // 5 code units, two of them escaped in HTML
	return strings.Repeat(unit, n/5) + strings.Repeat("ж", n%5)
}

// longCatalog has a district "big" of n centers, every text at the
// catalog's length limit in both languages, every other one opening soon.
func longCatalog(t *testing.T, n int) *catalog.Catalog {
	t.Helper()
	text := func(max int) string { return fmt.Sprintf("{ kk = %q, ru = %q }", fill(max), fill(max)) }
	var b strings.Builder
	b.WriteString("region = { kk = \"Облыс\", ru = \"Область\" }\ntime_zone = \"Asia/Almaty\"\n\n")
	b.WriteString("[[districts]]\nid = \"big\"\nkind = \"district\"\nname = " + text(catalog.MaxNameLen) + "\n\n")
	b.WriteString("[[types]]\nid = \"career\"\nname = { kk = \"Мансап\", ru = \"Карьера\" }\n\n")
	b.WriteString("[[help_lines]]\nnumber = \"111\"\nname = { kk = \"Байланыс орталығы\", ru = \"Контакт-центр\" }\n" +
		"description = { kk = \"Отбасы құқығы\", ru = \"Права семьи\" }\nhours = \"24/7\"\nfree = true\n\n")
	for i := range n {
		fmt.Fprintf(&b, "[[centers]]\nid = \"c%02d\"\ndistrict = \"big\"\nlat = 43.2\nlon = 76.6\n", i+1)
		if i%2 == 1 {
			b.WriteString("status = \"opening_soon\"\nopens_note = " + text(catalog.MaxNoteLen) + "\n")
		}
		for _, f := range []struct {
			key string
			max int
		}{{"name", catalog.MaxNameLen}, {"settlement", catalog.MaxSettlementLen}, {"description", catalog.MaxDescriptionLen},
			{"address", catalog.MaxAddressLen}, {"hours", catalog.MaxHoursLen}} {
			b.WriteString(f.key + " = " + text(f.max) + "\n")
		}
		b.WriteString("phone = \"" + strings.Repeat("7", catalog.MaxPhoneLen) + "\"\nservices = [\n")
		for range catalog.MaxServices {
			b.WriteString("  " + text(catalog.MaxServiceLen) + ",\n")
		}
		b.WriteString("]\n\n")
	}
	c, err := catalog.Parse("long.toml", []byte(b.String()), almaty(t))
	if err != nil {
		t.Fatalf("the longest valid catalog does not parse:\n%v", err)
	}
	return c
}

// Every text at its length limit still makes a card and district pages that
// Telegram accepts (the fake refuses more than 4096 characters, so a card
// too long would come back as "something went wrong").
func TestCenters_LongestCatalogFitsTelegram(t *testing.T) {
	t.Parallel()
	const n = 14
	cat := longCatalog(t, n)
	h := newHarness(t, withCatalog(cat))
	for i, lang := range []string{"kk", "ru"} {
		t.Run("card "+lang, func(t *testing.T) {
			u := h.person(int64(1601+i), storage.Lang(lang))
			for _, id := range []string{"c01", "c02"} {
				h.srv.SendText(u, "/start center_"+id)
				c, _ := cat.Center(id)
				h.waitText(u.ID, c.Description.In(lang), c.Services[catalog.MaxServices-1].In(lang))
			}
			for _, m := range h.botMessages(u.ID) {
				if m.Text == testLocales.For(lang).T(locales.SomethingWentWrong) {
					t.Errorf("a card failed:\n%s", h.transcript(u.ID))
				}
			}
		})
	}
	t.Run("district pages", func(t *testing.T) {
		u := h.person(1611, storage.Russian)
		h.srv.SendText(u, ru(locales.MenuDistricts))
		list := h.waitText(u.ID, ru(locales.CentersChooseDistrict))
		h.srv.PressButton(u, u.ID, list.ID, "dist:big:c")
		var got []string
		pages := 0
		for m := list; ; {
			pages++
			pageLine, _, _ := strings.Cut(ru(locales.EventsPage, locales.Data{"Page": pages, "Pages": "§"}), "§")
			m = h.waitMessage(u.ID, list.ID, pageLine)
			var next string
			for _, d := range buttonData(m) {
				switch {
				case strings.HasPrefix(d, "ctr:"):
					got = append(got, strings.TrimPrefix(d, "ctr:"))
				case strings.HasPrefix(d, "dist:big:c:"):
					if d == "dist:big:c:"+tg.B36(uint64(pages)) {
						next = d
					}
				}
			}
			if next == "" {
				break
			}
			if pages > n {
				t.Fatalf("more pages than centers")
			}
			h.srv.PressButton(u, u.ID, list.ID, next)
		}
		var want []string
		for _, c := range cat.CentersIn("big") {
			want = append(want, c.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("the pages list %v, want every center once in order %v", got, want)
		}
		if pages < 2 {
			t.Errorf("%d pages; %d centers at the length limits need more than one message", pages, n)
		}
	})
}
