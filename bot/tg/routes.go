package tg

import (
	"strings"

	"jastar/locales"
)

// Routes is the table of the bot's entry points. The bot fills it before
// Run (bot/routes.go lists every entry); a later registration of the same
// name replaces the earlier one.
type Routes struct {
	loc           *locales.Bundle
	commands      map[string]Handler     // private-chat commands, without "/"
	groupCommands map[string]Handler     // commands that work in staff group chats
	callbacks     map[string]Handler     // callback data prefix → handler
	groupButtons  map[string]Handler     // the callbacks that work in staff group chats: staff buttons only
	flows         map[string]StepHandler // conversation flow → its step handler
	menu          [][]MenuItem           // rows of the main keyboard
	menuByText    map[string]Handler     // a menu button's text, in either language
	startPayloads map[string]Handler     // deep-link prefix (before "_") → handler
	onLocation    Handler
	onContact     Handler
	// signalsCrisis and onCrisis are the safety net: a free-text message
	// that signalsCrisis reports goes to onCrisis before any other answer,
	// unless a dialogue step waits for typed text (Hooks.StepTakesText).
	signalsCrisis func(text string) bool
	onCrisis      Handler
	menuCommands  []MenuCommand
}

// MenuItem is a button of the main reply keyboard.
type MenuItem struct {
	Label   string // message ID
	Former  string // message ID of a former label, which keyboards already in chats still send
	Handler Handler
	// RequestLocation makes the button share the person's location.
	RequestLocation bool
}

// MenuCommand is a command shown in Telegram's menu (setMyCommands).
type MenuCommand struct {
	Name        string
	Description string // message ID
}

func newRoutes(loc *locales.Bundle) Routes {
	return Routes{
		loc:           loc,
		commands:      map[string]Handler{},
		groupCommands: map[string]Handler{},
		callbacks:     map[string]Handler{},
		groupButtons:  map[string]Handler{},
		flows:         map[string]StepHandler{},
		menuByText:    map[string]Handler{},
		startPayloads: map[string]Handler{},
	}
}

// Command routes "/name" in a private chat to h.
func (t *Routes) Command(name string, h Handler) { t.commands[name] = h }

// GroupCommand routes "/name" in a staff group to h; in other groups a
// command gets "private chats only".
func (t *Routes) GroupCommand(name string, h Handler) { t.groupCommands[name] = h }

// Callback routes a button press whose data has prefix to h, in private
// chats.
func (t *Routes) Callback(prefix string, h Handler) { t.callbacks[prefix] = h }

// GroupButton lets a press of prefix's buttons work in staff groups too: a
// group belongs to no one person, so only buttons whose handlers check the
// presser's own rights belong here. Register the prefix with Callback too.
func (t *Routes) GroupButton(prefix string, h Handler) { t.groupButtons[prefix] = h }

// Flow routes a message to the step handler of the chat's open dialogue of
// flow.
func (t *Routes) Flow(name string, step StepHandler) { t.flows[name] = step }

// MenuRow adds a row of buttons to the main keyboard; a button's text, in
// either language, routes to its handler.
func (t *Routes) MenuRow(items ...MenuItem) {
	t.menu = append(t.menu, items)
	if t.loc == nil {
		return
	}
	for _, it := range items {
		for _, lang := range locales.Languages {
			t.menuByText[strings.TrimSpace(t.loc.For(lang).T(it.Label))] = it.Handler
			if it.Former != "" {
				t.menuByText[strings.TrimSpace(t.loc.For(lang).T(it.Former))] = it.Handler
			}
		}
	}
}

// Menu is the main keyboard's rows, as registered.
func (t *Routes) Menu() [][]MenuItem { return t.menu }

// StartPayload routes a deep link "/start <prefix>_..." to h; the /start
// handler looks it up with Payload.
func (t *Routes) StartPayload(prefix string, h Handler) { t.startPayloads[prefix] = h }

// Payload is the handler of a deep-link prefix.
func (t *Routes) Payload(prefix string) (Handler, bool) {
	h, ok := t.startPayloads[prefix]
	return h, ok
}

// OnLocation routes a shared location, outside a dialogue's text, to h.
func (t *Routes) OnLocation(h Handler) { t.onLocation = h }

// WrapLocation puts wrap around the location handler registered so far,
// for a part that takes some locations first and passes the others on
// (wrap may be given nil).
func (t *Routes) WrapLocation(wrap func(next Handler) Handler) { t.onLocation = wrap(t.onLocation) }

// OnContact routes a shared contact that no dialogue step took to h.
func (t *Routes) OnContact(h Handler) { t.onContact = h }

// Crisis routes a free-text message that signals reports to h, before any
// other answer, unless a dialogue step waits for typed text.
func (t *Routes) Crisis(signals func(text string) bool, h Handler) {
	t.signalsCrisis, t.onCrisis = signals, h
}

// MenuCommand adds name to the command menu Telegram shows.
func (t *Routes) MenuCommand(name, description string) {
	t.menuCommands = append(t.menuCommands, MenuCommand{Name: name, Description: description})
}

// MenuCommands is the command menu, in registration order.
func (t *Routes) MenuCommands() []MenuCommand { return t.menuCommands }
