package loadtest

import (
	"strings"

	"jastar/bot/telegramtest"
	"jastar/locales"
)

// Realistic returns the scenario a young person plays: greeting, help, the
// language switch, centers near a shared location, events paged to the
// second page and one event's card, then a whole consultation booking (type, place,
// day, time, no phone, confirm), My bookings, and cancelling it again, so
// the person can play it once more without reaching the booking limit.
func Realistic(texts *locales.Bundle) Scenario {
	first := func(id string) func(lang string) string {
		return func(lang string) string {
			s := texts.For(lang).T(id)
			s, _, _ = strings.Cut(s, "\n")
			s, _, _ = strings.Cut(s, "{{")
			return stripTags(s)
		}
	}
	has := func(e telegramtest.Event, ids ...string) bool {
		if e.Kind != "message" && e.Kind != "edit" {
			return false
		}
		for _, id := range ids {
			for _, lang := range locales.Languages {
				// An empty head (a text starting with a placeholder) would
				// match anything.
				if head := first(id)(lang); head != "" && strings.Contains(e.Message.Text, head) {
					return true
				}
			}
		}
		return false
	}
	isTaken := func(e telegramtest.Event) bool {
		return has(e, locales.BookSlotTaken, locales.BookSlotTakenNone, locales.BookSlotClosed)
	}
	return Scenario{
		Text("start", "/start", WithMenu),
		Text("help", "/help", WithKeyboard), // the 🆘 button of the help lines
		Text("language", "/language", WithKeyboard),
		Press("choose language", "lang:", WithMenu),
		Text("unknown text", "сәлем", WithMenu),
		// The centers answer itself, not any message (such as the generic
		// "something went wrong").
		Location("centers near me", 43.199, 76.621, func(e telegramtest.Event) bool {
			return e.Kind == "message" && has(e, locales.CentersNearest, locales.CentersFarAway, locales.CentersChooseDistrict)
		}),
		Text("events", "/events", WithKeyboard),
		Press("all events", "evl:a", WithKeyboard),
		Press("next page", "evl:a:-:1", WithKeyboard),
		Press("event card", "ev:", WithKeyboard),
		Text("book", "/book", WithKeyboard),
		Press("choose type", "bt:", WithKeyboard),
		Press("choose place", "bc:", WithKeyboard),
		// The last free time of the day may go to someone else between
		// the list of days and the press: the day then shows no times,
		// only the way back, which is the slot taken meanwhile, not a
		// failure of the bot.
		taking(Press("choose day", "bd:", WithKeyboard), func(e telegramtest.Event) bool { return !hasButton(e, "bs:") }),
		// The time is answered by the phone question, or, for a type
		// people may book anonymously, by the question whether the
		// center may see the name.
		taking(Press("choose time", "bs:", func(e telegramtest.Event) bool {
			return e.Kind == "message" && len(e.Message.ReplyKeyboard) > 0 || asksName(e) || isTaken(e)
		}), isTaken),
		{Name: "skip phone", Kind: KindText, Expect: WithKeyboard, Do: func(srv *telegramtest.Server, p *Person) error {
			// Asked for the name instead, the person books anonymously,
			// which goes straight to the summary.
			for _, row := range p.last.InlineKeyboard {
				for _, b := range row {
					if strings.HasPrefix(b.CallbackData, "ban:") && strings.HasSuffix(b.CallbackData, ":h") {
						id, _ := srv.PressButton(p.User, p.last.ChatID, p.last.ID, b.CallbackData)
						p.pressed(id)
						return nil
					}
				}
			}
			srv.SendText(p.User, texts.For(p.lang()).T(locales.BookSkipPhone))
			return nil
		}},
		booking(taking(Press("confirm", "bok:", func(e telegramtest.Event) bool { return has(e, locales.BookConfirmed) || isTaken(e) }), isTaken),
			func(e telegramtest.Event) bool { return has(e, locales.BookConfirmed) }),
		Text("my bookings", "/mybookings", WithKeyboard),
		Press("cancel booking", "mc:", WithKeyboard),
		Press("confirm cancel", "mcy:", func(e telegramtest.Event) bool { return has(e, locales.MyBookingCancelled) }),
	}
}

// StaffNotice tells a staff chat's "new booking" notice, in either
// language, from the bot's other staff messages.
func StaffNotice(texts *locales.Bundle) func(telegramtest.Event) bool {
	return botMessageOpening(texts, locales.StaffNewBooking)
}

// botMessageOpening tells a bot's message that opens with the first line
// of the text id, in either language.
func botMessageOpening(texts *locales.Bundle, id string) func(telegramtest.Event) bool {
	var heads []string
	for _, lang := range locales.Languages {
		s, _, _ := strings.Cut(texts.For(lang).T(id), "\n")
		heads = append(heads, stripTags(s))
	}
	return func(e telegramtest.Event) bool {
		if e.Kind != "message" || !e.Message.FromBot {
			return false
		}
		for _, h := range heads {
			if h != "" && strings.HasPrefix(e.Message.Text, h) {
				return true
			}
		}
		return false
	}
}

// asksName tells the booking dialogue's question whether the center may
// see the name (its buttons are ban:<tok>:<s|h>).
func asksName(e telegramtest.Event) bool {
	if e.Kind != "message" && e.Kind != "edit" {
		return false
	}
	for _, row := range e.Message.InlineKeyboard {
		for _, b := range row {
			if strings.HasPrefix(b.CallbackData, "ban:") {
				return true
			}
		}
	}
	return false
}

// hasButton is whether the message of e has a button whose data starts
// with prefix.
func hasButton(e telegramtest.Event, prefix string) bool {
	for _, row := range e.Message.InlineKeyboard {
		for _, b := range row {
			if strings.HasPrefix(b.CallbackData, prefix) {
				return true
			}
		}
	}
	return false
}

func taking(st Step, taken func(telegramtest.Event) bool) Step {
	st.Taken = taken
	return st
}

func booking(st Step, booked func(telegramtest.Event) bool) Step {
	st.Booked = booked
	return st
}

func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}
