package bot

import (
	"context"
	"fmt"
	"html"
	"math"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/catalog"
)

// Centers near me: a shared location lists the nearest centers; without one
// the person picks a district, then a center. Every center has a card with
// its map pin and its events; a deep link /start center_<id> opens the card.

const (
	// nearestOpen is how many open centers a location answer lists; the
	// catalog appends up to catalog.SoonMax nearby centers opening soon.
	nearestOpen = 3
	// servicesInList is how many services a list entry names; the card
	// names them all.
	servicesInList = 3
	// Scopes of the district list (dis:<scope>, dist:<id>:<scope>).
	scopeCenters = "c"
	scopeEvents  = "e"
)

// centerStore is what centers near me read and write.
type centerStore interface {
	// UpdateUser remembers a shared location.
	UpdateUser(ctx context.Context, chatID int64, change func(*storage.User) error) (storage.User, error)
	cardReader
}

// chattableSender sends a message that is no text (a venue, a photo)
// through the rate-limited sender; *tg.Sender is one.
type chattableSender interface {
	Send(ctx context.Context, chatID int64, c tgbotapi.Chattable) (int, error)
}

// centerTyper says which consultations a center gives (booking.go).
type centerTyper interface {
	centerTypes(centerID string) []catalog.ConsultationType
}

// eventLister shows a page of events (events.go): a district's events.
type eventLister interface {
	showEventList(ctx context.Context, r *tg.Request, list eventList) error
}

// greeter is the greeting a deep link to a center ends with (start.go).
type greeter interface {
	greet(ctx context.Context, r *tg.Request) error
	welcome(ctx context.Context, r *tg.Request) error
	offerAndMenu(ctx context.Context, r *tg.Request) error
}

// centerGuide is the feature: centers near me, districts, a center's
// card and map pin, and the deep link to a center.
type centerGuide struct {
	kit
	store  centerStore
	cards  *cardCache // the staff's card values, shared with the booking texts
	send   chattableSender
	types  centerTyper
	events eventLister
	intro  greeter
}

// handleCentersMenu answers the menu button when it arrives as text (a
// client that cannot send a location): the stored location if there is one,
// otherwise the district list.
func (f *centerGuide) handleCentersMenu(ctx context.Context, r *tg.Request) error {
	if r.User.HasLocation {
		return f.showNearest(ctx, r, r.User.Lat, r.User.Lon)
	}
	return f.showDistricts(ctx, r, scopeCenters)
}

// handleDistrictsMenu is the menu button for people who do not share a
// location.
func (f *centerGuide) handleDistrictsMenu(ctx context.Context, r *tg.Request) error {
	return f.showDistricts(ctx, r, scopeCenters)
}

// handleLocation remembers the shared location (for "nearest first" in
// later lists) and answers with the nearest centers.
func (f *centerGuide) handleLocation(ctx context.Context, r *tg.Request) error {
	loc := r.Message.Location
	if loc == nil {
		return nil
	}
	lat, lon := loc.Latitude, loc.Longitude
	user, err := f.store.UpdateUser(ctx, r.ChatID, func(u *storage.User) error {
		u.HasLocation, u.Lat, u.Lon = true, lat, lon
		u.UpdatedAt = f.now()
		return nil
	})
	if err != nil {
		return fmt.Errorf("save location of %d: %w", r.ChatID, err)
	}
	r.User = user
	return f.showNearest(ctx, r, lat, lon)
}

func (f *centerGuide) showNearest(ctx context.Context, r *tg.Request, lat, lon float64) error {
	list, far := f.catalog().Nearest(lat, lon, nearestOpen)
	if far {
		text := r.L.T(locales.CentersChooseDistrict)
		if len(list) > 0 && !math.IsNaN(list[0].Km) {
			text = r.L.T(locales.CentersFarAway, locales.Data{
				"Name": esc(list[0].Center.Name.In(r.L.Lang())), "Km": r.L.Km(list[0].Km),
			})
		}
		kb := f.districtKeyboard(r.L, scopeCenters)
		kb.InlineKeyboard = append(f.allCentersRows(r.L), kb.InlineKeyboard...)
		_, err := f.tx.Reply(ctx, r, text, kb)
		return err
	}
	parts := []string{r.L.T(locales.CentersNearest)}
	var rows [][]tgbotapi.InlineKeyboardButton
	for i, nb := range list {
		km := nb.Km
		parts = append(parts, f.centerSummary(r.L, i+1, nb.Center, &km))
		label := fmt.Sprintf("%d. %s — %s", i+1, nb.Center.Settlement.In(r.L.Lang()), r.L.Km(nb.Km))
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(label, cbCenter, nb.Center.ID)))
	}
	parts = append(parts, r.L.T(locales.CentersTapForCard))
	rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(r.L.T(locales.ButtonChooseDistrict), cbDistricts, scopeCenters)))
	_, err := f.tx.Reply(ctx, r, strings.Join(parts, "\n\n"), tgbotapi.NewInlineKeyboardMarkup(rows...))
	return err
}

// allCentersRows is the full list for someone far from every center: a
// button per center, two to a row, open ones first and those opening soon
// marked. Labels are settlements, short enough for half a row; a settlement
// with two centers names them instead. Telegram documents no limit on
// buttons but refuses keyboards of more than 100 in practice; past
// maxListedCenters the district buttons below still reach every center.
func (f *centerGuide) allCentersRows(l *locales.Localizer) [][]tgbotapi.InlineKeyboardButton {
	const maxListedCenters = 60
	lang := l.Lang()
	centers := f.catalog().ListedCenters()
	centers = centers[:min(len(centers), maxListedCenters)]
	seen := make(map[string]int)
	for _, c := range centers {
		seen[c.Settlement.In(lang)]++
	}
	var rows [][]tgbotapi.InlineKeyboardButton
	for i := 0; i < len(centers); i += 2 {
		var row []tgbotapi.InlineKeyboardButton
		for _, c := range centers[i:min(i+2, len(centers))] {
			name := c.Settlement.In(lang)
			if seen[name] > 1 {
				name = c.Name.In(lang)
			}
			id := locales.CenterButtonOpen
			if !c.IsOpen() {
				id = locales.CenterButtonSoon
			}
			row = append(row, button(l.T(id, locales.Data{"Settlement": name}), cbCenter, c.ID))
		}
		rows = append(rows, row)
	}
	return rows
}

// centerSummary is a center's entry in a list: name, distance when known,
// status, address, hours and the first services.
func (f *centerGuide) centerSummary(l *locales.Localizer, n int, c catalog.Center, km *float64) string {
	lang := l.Lang()
	card := f.shownCenter(c)
	c = card.Center
	head := fmt.Sprintf("<b>%d. %s</b>", n, esc(c.Name.In(lang)))
	if km != nil {
		head += " — " + l.T(locales.CenterAway, locales.Data{"Km": l.Km(*km)})
	}
	lines := []string{head, centerStatus(l, c), centerAddress(l, c)}
	if c.IsOpen() {
		lines = append(lines, l.T(locales.CenterHours, locales.Data{"Hours": hoursText(l, card)}))
	}
	if len(c.Services) > 0 {
		var names []string
		for i, s := range c.Services {
			if i == servicesInList {
				names = append(names, l.N(locales.CenterMoreServices, len(c.Services)-servicesInList))
				break
			}
			names = append(names, esc(s.In(lang)))
		}
		lines = append(lines, l.T(locales.CenterServices, locales.Data{"Services": strings.Join(names, ", ")}))
	}
	return strings.Join(lines, "\n")
}

// centerCard is everything the catalog knows about a center; what it does
// not know is "ask the center", never a guess.
func (f *centerGuide) centerCard(l *locales.Localizer, c catalog.Center) (string, tgbotapi.InlineKeyboardMarkup) {
	lang := l.Lang()
	card := f.shownCenter(c)
	c = card.Center
	lines := []string{"<b>" + esc(c.Name.In(lang)) + "</b>", centerStatus(l, c)}
	if d := c.Description.In(lang); d != "" {
		lines = append(lines, "", esc(d))
	}
	lines = append(lines, "")
	if !c.Online {
		lines = append(lines, centerAddress(l, c))
	}
	lines = append(lines,
		l.T(locales.CenterHours, locales.Data{"Hours": hoursText(l, card)}),
		l.T(locales.CenterPhone, locales.Data{"Phone": phoneOf(l, c.Phone)}),
	)
	if card.Note != "" {
		lines = append(lines, l.T(locales.CardNoteLine, locales.Data{"Note": esc(card.Note)}))
	}
	if len(c.Services) > 0 {
		var names []string
		for _, s := range c.Services {
			names = append(names, "\n• "+esc(s.In(lang)))
		}
		lines = append(lines, l.T(locales.CenterServices, locales.Data{"Services": strings.Join(names, "")}))
	}
	var rows [][]tgbotapi.InlineKeyboardButton
	if !c.Online {
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonShowOnMap), cbCenterMap, c.ID)))
	}
	if card.Photo != "" {
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonEntrancePhoto), cbCenterPhoto, c.ID)))
	}
	if c.IsOpen() && len(f.types.centerTypes(c.ID)) > 0 {
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonBookHere), cbBookAtCenter, c.ID)))
	}
	rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonCenterEvents), cbEventList, listCenter, c.ID, "0")))
	return strings.Join(lines, "\n"), tgbotapi.NewInlineKeyboardMarkup(rows...)
}

func centerStatus(l *locales.Localizer, c catalog.Center) string {
	switch {
	case c.IsOpen():
		return l.T(locales.CenterStatusOpen)
	case c.OpensNote.In(l.Lang()) != "":
		return l.T(locales.CenterStatusSoonWhen, locales.Data{"Note": esc(c.OpensNote.In(l.Lang()))})
	}
	return l.T(locales.CenterStatusSoon)
}

func centerAddress(l *locales.Localizer, c catalog.Center) string {
	return l.T(locales.CenterAddress, locales.Data{
		"Settlement": esc(c.Settlement.In(l.Lang())), "Address": orAsk(l, c.Address.In(l.Lang())),
	})
}

// orAsk escapes a catalog value, or says "ask the center" when it is unknown.
func orAsk(l *locales.Localizer, s string) string {
	if strings.TrimSpace(s) == "" {
		return l.T(locales.AskTheCenter)
	}
	return esc(s)
}

// phoneOf escapes a center's phone, or says it is not given yet: "ask the
// center" would send people to the center for the center's own number.
func phoneOf(l *locales.Localizer, phone string) string {
	if strings.TrimSpace(phone) == "" {
		return l.T(locales.CenterPhoneNotGiven)
	}
	return esc(phone)
}

// handleCenterCallback (ctr:<centerID>) sends the center's card.
func (f *centerGuide) handleCenterCallback(ctx context.Context, r *tg.Request) error {
	c, ok := f.catalog().Center(r.Data.Arg(0))
	if !ok {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	f.tx.Answer(ctx, r, "")
	text, kb := f.centerCard(r.L, c)
	_, err := f.tx.Reply(ctx, r, text, kb)
	return err
}

// handleCenterMapCallback (cmap:<centerID>) sends the center as a venue:
// Telegram shows it as a pin the person can open in their maps app.
func (f *centerGuide) handleCenterMapCallback(ctx context.Context, r *tg.Request) error {
	c, ok := f.catalog().Center(r.Data.Arg(0))
	if !ok || c.Online {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	c = f.shownCenter(c).Center
	f.tx.Answer(ctx, r, "")
	lang := r.L.Lang()
	// A venue needs an address; an unknown one says so rather than
	// pretending (https://core.telegram.org/bots/api#sendvenue).
	address := c.Settlement.In(lang)
	if a := c.Address.In(lang); a != "" {
		address += ", " + a
	} else {
		address += " (" + r.L.T(locales.AskTheCenter) + ")"
	}
	title := c.Name.In(lang)
	if !c.IsOpen() {
		title += " — " + r.L.T(locales.CenterStatusSoon)
	}
	_, err := f.send.Send(ctx, r.ChatID, tgbotapi.NewVenue(r.ChatID, title, address, c.Lat, c.Lon))
	return err
}

// districtKeyboard lists the districts that have centers; scope says what a
// district button opens: its centers or its events.
func (f *centerGuide) districtKeyboard(l *locales.Localizer, scope string) tgbotapi.InlineKeyboardMarkup {
	var rows [][]tgbotapi.InlineKeyboardButton
	var row []tgbotapi.InlineKeyboardButton
	for _, d := range f.catalog().ListedDistricts() {
		row = append(row, button(d.Name.In(l.Lang()), cbDistrict, d.ID, scope))
		if len(row) == 2 {
			rows = append(rows, row)
			row = nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	if scope == scopeEvents {
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.ButtonBack), cbEventsMenu)))
	}
	return tgbotapi.NewInlineKeyboardMarkup(rows...)
}

// showDistricts asks for a district: in place of the pressed message, or as
// a new message for a menu button.
func (f *centerGuide) showDistricts(ctx context.Context, r *tg.Request, scope string) error {
	kb := f.districtKeyboard(r.L, scope)
	if r.Query != nil {
		f.tx.Answer(ctx, r, "")
		return f.tx.Edit(ctx, r, r.L.T(locales.CentersChooseDistrict), &kb)
	}
	_, err := f.tx.Reply(ctx, r, r.L.T(locales.CentersChooseDistrict), kb)
	return err
}

// handleDistrictsCallback (dis:<c|e>) shows the district list.
func (f *centerGuide) handleDistrictsCallback(ctx context.Context, r *tg.Request) error {
	scope := r.Data.Arg(0)
	if scope != scopeCenters && scope != scopeEvents {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	return f.showDistricts(ctx, r, scope)
}

// handleDistrictCallback (dist:<districtID>:<c|e>[:<page>]) opens a
// district's centers, a page at a time, or its events.
func (f *centerGuide) handleDistrictCallback(ctx context.Context, r *tg.Request) error {
	d, ok := f.catalog().District(r.Data.Arg(0))
	scope := r.Data.Arg(1)
	page, err := r.Data.ID(2)
	if r.Data.Arg(2) == "" {
		page, err = 0, nil // buttons sent before the list had pages
	}
	if !ok || (scope != scopeCenters && scope != scopeEvents) || err != nil {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	if scope == scopeEvents {
		return f.events.showEventList(ctx, r, eventList{kind: listDistrict, id: d.ID})
	}
	f.tx.Answer(ctx, r, "")
	centers := f.catalog().CentersIn(d.ID)
	pages := f.districtPages(r.L, centers)
	p := int(min(page, uint64(len(pages)-1))) // the catalog may have shrunk since
	head := r.L.T(locales.CentersInDistrict, locales.Data{"District": esc(d.Name.In(r.L.Lang()))})
	if len(pages) > 1 {
		head += "\n" + r.L.T(locales.EventsPage, locales.Data{"Page": p + 1, "Pages": len(pages)})
	}
	parts := []string{head}
	var rows [][]tgbotapi.InlineKeyboardButton
	for _, i := range pages[p] {
		c := centers[i]
		parts = append(parts, f.centerSummary(r.L, i+1, c, nil))
		label := fmt.Sprintf("%d. %s", i+1, c.Settlement.In(r.L.Lang()))
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(label, cbCenter, c.ID)))
	}
	if len(centers) == 0 {
		parts = append(parts, r.L.T(locales.CentersNoneInDistrict))
	} else {
		parts = append(parts, r.L.T(locales.CentersTapForCard))
	}
	var nav []tgbotapi.InlineKeyboardButton
	if p > 0 {
		nav = append(nav, button(r.L.T(locales.ButtonPrevPage), cbDistrict, d.ID, scopeCenters, tg.B36(uint64(p-1))))
	}
	if p < len(pages)-1 {
		nav = append(nav, button(r.L.T(locales.ButtonNextPage), cbDistrict, d.ID, scopeCenters, tg.B36(uint64(p+1))))
	}
	if len(nav) > 0 {
		rows = append(rows, nav)
	}
	rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(r.L.T(locales.ButtonBack), cbDistricts, scopeCenters)))
	kb := tgbotapi.NewInlineKeyboardMarkup(rows...)
	return f.tx.Edit(ctx, r, strings.Join(parts, "\n\n"), &kb)
}

// A page of a district's centers holds at most centersPerPage entries
// whose plain text, as Telegram counts it, is at most pageTextBudget: the
// header, the footer and the page line take the rest of the 4096
// (https://core.telegram.org/bots/api#sendmessage). With the catalog's
// length limits one entry is under 900, so every page holds at least one.
const (
	centersPerPage = 10
	pageTextBudget = 3500
)

// districtPages splits a district's centers into pages, as indexes into
// centers. The split depends only on the catalog and the language, so a
// page number in a button keeps its meaning. There is always one page, if
// empty.
func (f *centerGuide) districtPages(l *locales.Localizer, centers []catalog.Center) [][]int {
	pages := [][]int{nil}
	size := 0
	for i, c := range centers {
		n := utf16Len(plainText(f.centerSummary(l, i+1, c, nil))) + 2 // the blank line between entries
		last := len(pages) - 1
		if len(pages[last]) > 0 && (len(pages[last]) == centersPerPage || size+n > pageTextBudget) {
			pages = append(pages, nil)
			last, size = last+1, 0
		}
		pages[last] = append(pages[last], i)
		size += n
	}
	return pages
}

// handleStartCenter opens the card of /start center_<id>, then the
// subscription offer (once) and the menu; someone new is greeted first, with
// the language switch. An unknown or malformed id gets the ordinary
// greeting: a poster printed before a center was renamed must still lead
// somewhere. handleStart has settled the language before this runs.
func (f *centerGuide) handleStartCenter(ctx context.Context, r *tg.Request) error {
	id, ok := strings.CutPrefix(strings.TrimSpace(r.Args), "center_")
	c, found := f.catalog().Center(id)
	if !ok || !found {
		return f.intro.greet(ctx, r)
	}
	if r.NewPerson {
		if err := f.intro.welcome(ctx, r); err != nil {
			return err
		}
	}
	text, kb := f.centerCard(r.L, c)
	if _, err := f.tx.Reply(ctx, r, text, kb); err != nil {
		return err
	}
	return f.intro.offerAndMenu(ctx, r)
}

// plainText is what Telegram counts of a text in parse_mode HTML: the tags
// dropped and the entities decoded. Text from people and the catalog is
// escaped (esc), so every "<" starts a tag.
func plainText(s string) string {
	var out strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			out.WriteString(s)
			break
		}
		out.WriteString(s[:i])
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break
		}
		s = s[i+j+1:]
	}
	return html.UnescapeString(out.String())
}
