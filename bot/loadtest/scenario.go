package loadtest

import (
	"errors"
	"strings"

	"jastar/bot/telegramtest"
)

// Step is one thing a person does and the answer they wait for.
type Step struct {
	Name string
	// Kind is the kind of update Do sends (KindText, KindPress or
	// KindLocation), so the echo baseline can send the same mix.
	Kind string
	// Do sends the person's update.
	Do func(srv *telegramtest.Server, p *Person) error
	// Expect picks the event that answers the step; nil = any bot event.
	Expect func(e telegramtest.Event) bool
	// Booked tells whether the answer confirmed a booking.
	Booked func(e telegramtest.Event) bool
	// Taken tells whether the answer says another person took the seat
	// meanwhile: a real person would choose again, this one ends here.
	Taken func(e telegramtest.Event) bool
}

// Scenario is a sequence of steps played by one person.
type Scenario []Step

// The kinds of update a step sends.
const (
	KindText     = "text"
	KindPress    = "press"
	KindLocation = "location"
)

// Text sends a text message.
func Text(name, text string, expect func(telegramtest.Event) bool) Step {
	return Step{Name: name, Kind: KindText, Expect: expect, Do: func(srv *telegramtest.Server, p *Person) error {
		srv.SendText(p.User, text)
		return nil
	}}
}

// Location shares a location.
func Location(name string, lat, lon float64, expect func(telegramtest.Event) bool) Step {
	return Step{Name: name, Kind: KindLocation, Expect: expect, Do: func(srv *telegramtest.Server, p *Person) error {
		srv.SendLocation(p.User, lat, lon)
		return nil
	}}
}

// errNoButton means the bot's last keyboard lacks the button a step wants.
var errNoButton = errors.New("no such button")

// Press presses the first inline button on the bot's last keyboard whose
// callback data starts with prefix (pick chooses among several, nil = the
// first). The press's callback query must be answered by the end of the
// run, or it counts as unanswered.
func Press(name, prefix string, expect func(telegramtest.Event) bool) Step {
	return Step{Name: name, Kind: KindPress, Expect: expect, Do: func(srv *telegramtest.Server, p *Person) error {
		var found []telegramtest.Button
		for _, row := range p.last.InlineKeyboard {
			for _, b := range row {
				if strings.HasPrefix(b.CallbackData, prefix) {
					found = append(found, b)
				}
			}
		}
		if len(found) == 0 {
			return errNoButton
		}
		b := found[p.rng.IntN(len(found))]
		id, _ := srv.PressButton(p.User, p.last.ChatID, p.last.ID, b.CallbackData)
		p.pressed(id)
		return nil
	}}
}

// AnyMessage expects a new bot message.
func AnyMessage(e telegramtest.Event) bool { return e.Kind == "message" }

// WithKeyboard expects a new or edited bot message carrying an inline
// keyboard.
func WithKeyboard(e telegramtest.Event) bool {
	return (e.Kind == "message" || e.Kind == "edit") && len(e.Message.InlineKeyboard) > 0
}

// WithMenu expects a bot message that carries the main reply keyboard.
func WithMenu(e telegramtest.Event) bool {
	return e.Kind == "message" && len(e.Message.ReplyKeyboard) > 0
}

// Containing expects a bot message or edit containing s.
func Containing(s string) func(telegramtest.Event) bool {
	return func(e telegramtest.Event) bool {
		return (e.Kind == "message" || e.Kind == "edit") && strings.Contains(e.Message.Text, s)
	}
}

// AnsweredPress expects the answer to a callback query.
func AnsweredPress(e telegramtest.Event) bool { return e.Kind == "callback_answer" }

// EchoScenario is sc with every step replaced by one of the same kind that
// the echo baseline can serve: a text or location answered by a message
// (carrying one button, to be pressed later), a press answered by its
// callback answer. So the echo ratio compares the same traffic.
func EchoScenario(sc Scenario) Scenario {
	out := make(Scenario, 0, max(len(sc), 1))
	for _, st := range sc {
		switch st.Kind {
		case KindPress:
			out = append(out, Press("echo press", echoButton, AnsweredPress))
		case KindLocation:
			out = append(out, Location("echo location", 43.2, 76.9, AnyMessage))
		default:
			out = append(out, Text("echo text", "hello", AnyMessage))
		}
	}
	if len(out) == 0 {
		out = append(out, Text("echo text", "hello", AnyMessage))
	}
	return out
}
