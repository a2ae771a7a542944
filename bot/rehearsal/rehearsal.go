// Package rehearsal runs the bot, the sandbox or the load tool as if it
// were another moment: "-now 2027-06-15" tries a catalog, a holiday or a
// load at a date that has not come yet. The clock starts at that moment and
// runs forward at the real pace. A rehearsal is refused against anything
// but a Bot API on loopback, so a real Telegram never sees a bot that lives
// on another day. The package also holds the events the sandbox and the
// load tool bring, so there is always something to see whatever the date.
//
// It imports storage and the catalog only, so main, bot/sandbox and
// bot/loadtest all use it; it must never import storage/boltdb.
package rehearsal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"jastar/storage"
	"jastar/storage/catalog"
)

// layouts are what -now accepts, in the bot's time zone; a date
// alone means 10:00 that day, an hour when the centers work.
var layouts = []string{"2006-01-02 15:04", "2006-01-02T15:04", time.DateOnly}

// Parse reads a -now value in loc.
func Parse(value string, loc *time.Location) (time.Time, error) {
	for _, layout := range layouts {
		t, err := time.ParseInLocation(layout, strings.TrimSpace(value), loc)
		if err == nil {
			if layout == time.DateOnly {
				t = t.Add(10 * time.Hour)
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("-now %q: want a date like 2027-06-15 or a moment like \"2027-06-15 10:00\" (in the bot's time zone)", value)
}

// Clock is a clock that reads start now and runs forward from
// it; with start zero it is the real clock.
func Clock(start time.Time) func() time.Time {
	if start.IsZero() {
		return time.Now
	}
	began := time.Now()
	return func() time.Time { return start.Add(time.Since(began)) }
}

// CheckAPI refuses a rehearsal against a Bot API that is not on
// loopback: reminders, digests and broadcasts would go out to real people
// on the wrong day.
func CheckAPI(apiURL string) error {
	u, err := url.Parse(apiURL)
	if err != nil {
		return fmt.Errorf("-now needs a Bot API on loopback: TELEGRAM_API_URL %q is not a URL", apiURL)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
		return nil
	}
	return errors.New("-now rehearses a date against a fake or local Bot API only: set TELEGRAM_API_URL to one on loopback (127.0.0.1), never Telegram itself")
}

// seedID names the rehearsal events stored for the day now falls
// on, so a database reused on the same day gets them once.
func seedID(now time.Time, i int) string {
	return fmt.Sprintf("rehearsal_%s_%d", now.Format("20060102"), i)
}

// Events are the events the sandbox and the load tool bring with
// them, so a newcomer always sees a living bot and the load's paging step
// always has two pages, whatever the date: seven events over the coming
// working days (skipping weekends and the catalog's holidays), from the
// second working day on (no reminder comes due during a short run), at
// the catalog's open centers in turn. The catalog's own seed events are
// dated and pass; these never do.
func Events(now time.Time, cat *catalog.Catalog) []storage.Event {
	type text struct{ kk, ru, descKK, descRU string }
	texts := []text{
		{"Түйіндеме жазу шеберханасы", "Мастер-класс: как написать резюме",
			"Жұмыс берушіні қызықтыратын түйіндемені бірге жазамыз. Ноутбук міндетті емес.",
			"Вместе напишем резюме, которое заметит работодатель. Ноутбук не обязателен."},
		{"Стресті қалай жеңуге болады: психологпен кездесу", "Как справиться со стрессом: встреча с психологом",
			"Емтихан мен жұмыс іздеу кезіндегі қобалжу туралы ашық әңгіме.",
			"Открытый разговор о волнении перед экзаменами и поиском работы."},
		{"Бос жұмыс орындарының жәрмеңкесі", "Ярмарка вакансий",
			"Аудан кәсіпорындары жастарға жұмыс пен тағылымдама ұсынады.",
			"Предприятия района предлагают молодёжи работу и стажировки."},
		{"Құқықтық сауаттылық: еңбек шарты", "Правовая грамотность: трудовой договор",
			"Заңгер еңбек шартында нені тексеру керегін түсіндіреді.",
			"Юрист объяснит, что проверить в трудовом договоре."},
		{"Ауылда бизнес бастау: жастар форумы", "Бизнес на селе: молодёжный форум",
			"Жас кәсіпкерлер тәжірибесімен бөліседі, гранттар туралы ақпарат.",
			"Молодые предприниматели делятся опытом; информация о грантах."},
		{"Еріктілер кездесуі", "Встреча волонтёров",
			"Ауылдағы еріктілік жобаларына қалай қосылуға болады.",
			"Как присоединиться к волонтёрским проектам в своём селе."},
		{"IT мамандықтарына кіріспе", "Введение в IT-профессии",
			"Бағдарламашы, дизайнер, тестілеуші: қайдан бастау керек.",
			"Программист, дизайнер, тестировщик: с чего начать."},
	}
	var centers []string
	for _, c := range cat.Centers {
		if c.IsOpen() && !c.Online {
			centers = append(centers, c.ID)
		}
	}
	if len(centers) == 0 {
		return nil
	}
	loc := cat.Location()
	day := catalog.DateOf(now.In(loc))
	var events []storage.Event
	workdays := 0
	for len(events) < len(texts) {
		next := day.At(0, loc).AddDate(0, 0, 1)
		day = catalog.DateOf(next)
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday || cat.IsHoliday(day) {
			continue
		}
		if workdays++; workdays < 2 {
			continue
		}
		i := len(events)
		hour := catalog.Clock(15 * 60)
		if i%2 == 1 {
			hour = 11 * 60
		}
		t := texts[i]
		events = append(events, storage.Event{
			SeedID: seedID(now, i), CenterID: centers[i%len(centers)],
			TitleKK: t.kk, TitleRU: t.ru, DescriptionKK: t.descKK, DescriptionRU: t.descRU,
			Start: day.At(hour, loc), Minutes: 90, Capacity: 25 + 5*i, CreatedAt: now, UpdatedAt: now,
		})
	}
	// The second fills up and the third has a waitlist: see
	// StoreEvents.
	events[1].Capacity = 2
	events[2].Capacity = 1
	return events
}

// Store is what storing the rehearsal events takes.
type Store interface {
	SeedEvents(ctx context.Context, seeds []storage.Event) (int, error)
	UpcomingEvents(ctx context.Context, f storage.EventFilter, offset, limit int) ([]storage.Event, int, error)
	Register(ctx context.Context, eventID uint64, chatID int64, now time.Time, rem storage.ReminderPolicy) (storage.Registration, storage.Event, error)
}

// StoreEvents stores Events and fills them through
// Register, as people would: the second event full with people[0] and
// people[1], the third with people[2] registered and people[0] on its
// waitlist. people needs three chats; running it again the same day adds
// nothing.
func StoreEvents(ctx context.Context, db Store, now time.Time, cat *catalog.Catalog, people []int64, rem storage.ReminderPolicy) error {
	if len(people) < 3 {
		return fmt.Errorf("rehearsal events: want 3 people to fill them, have %d", len(people))
	}
	events := Events(now, cat)
	added, err := db.SeedEvents(ctx, events)
	if err != nil || added == 0 {
		return err
	}
	stored, _, err := db.UpcomingEvents(ctx, storage.EventFilter{After: now}, 0, 0)
	if err != nil {
		return err
	}
	fill := map[string][]int64{
		seedID(now, 1): {people[0], people[1]},
		seedID(now, 2): {people[2], people[0]},
	}
	for _, e := range stored {
		for _, chat := range fill[e.SeedID] {
			if _, _, err := db.Register(ctx, e.ID, chat, now, rem); err != nil && !errors.Is(err, storage.ErrConflict) {
				return fmt.Errorf("rehearsal events: register %d for %d: %w", chat, e.ID, err)
			}
		}
	}
	return nil
}

// rehearsalBookingStore is what storing the rehearsal booking takes.
// BookingStore is what StoreAnonymousBooking takes.
type BookingStore interface {
	BookingsOf(ctx context.Context, chatID int64, now time.Time) ([]storage.Booking, error)
	SlotCounts(ctx context.Context, centerID, typeID string, from, to time.Time) (map[int64]int, error)
	Book(ctx context.Context, b storage.Booking, rules storage.BookRules) (storage.Booking, error)
}

// anonymousType is the type of the rehearsal booking: the
// psychologist's, anonymous and discreet in the embedded catalog.
const anonymousType = "psychology"

// StoreAnonymousBooking gives chatID an anonymous booking of the
// psychologist at the soonest free time of the first open center that
// offers one (not the online desk, where nobody books anonymously), so the
// sandbox shows the safety net's booking from both sides: the person's
// code in "My bookings" with the 🆘 nearby, staff's code in /today or
// /tomorrow and the morning digest. A person who already holds an upcoming
// booking (a second run) gets none, and a catalog without the type none.
func StoreAnonymousBooking(ctx context.Context, db BookingStore, now time.Time, cat *catalog.Catalog, chatID int64, lang storage.Lang, rem storage.ReminderPolicy) error {
	if _, ok := cat.Type(anonymousType); !ok {
		return nil
	}
	if mine, err := db.BookingsOf(ctx, chatID, now); err != nil || len(mine) > 0 {
		return err
	}
	window := catalog.BookingWindow{Days: 14, Notice: time.Hour}
	from, to := window.Span(now, cat.Location())
	for _, c := range cat.CentersOffering(anonymousType) {
		if c.Online || !c.IsOpen() {
			continue
		}
		counts, err := db.SlotCounts(ctx, c.ID, anonymousType, from, to)
		if err != nil {
			return fmt.Errorf("rehearsal booking: %w", err)
		}
		a, ok := cat.Availability(c.ID, anonymousType, now, window, counts, catalog.Adjustments{})
		if !ok || len(a.Slots) == 0 {
			continue
		}
		s := a.Slots[0]
		_, err = db.Book(ctx, storage.Booking{ChatID: chatID, Anonymous: true, Lang: lang, TypeID: anonymousType,
			CenterID: c.ID, Start: s.Start, End: s.End},
			storage.BookRules{Capacity: cat.ScheduledCapacity(c.ID, anonymousType, s.Start), MaxActive: 3, Now: now,
				NotBefore: now.Add(window.Notice), Reminders: rem})
		if err != nil {
			return fmt.Errorf("rehearsal booking at %s: %w", c.ID, err)
		}
		return nil
	}
	return nil
}
