package bot

import (
	"context"
	"strings"

	"jastar/locales"
	"jastar/storage"
)

// StepHandler handles a message that continues the chat's active dialogue.
type StepHandler func(ctx context.Context, r *Request, conv storage.Conversation) error

// commandInfo is a command shown in Telegram's menu (setMyCommands).
type commandInfo struct {
	name        string
	description string // message ID
}

// menuItem is a button of the main reply keyboard.
type menuItem struct {
	label           string // message ID
	handler         Handler
	requestLocation bool
}

type routeTable struct {
	commands      map[string]Handler     // private-chat commands, without "/"
	groupCommands map[string]Handler     // commands that work in staff group chats
	callbacks     map[string]Handler     // callback data prefix → handler
	flows         map[string]StepHandler // conversation flow → its step handler
	menu          [][]menuItem           // rows of the main keyboard
	menuByText    map[string]Handler     // a menu button's text, in either language
	startPayloads map[string]Handler     // deep-link prefix (before "_") → handler
	onLocation    Handler
	onContact     Handler
	menuCommands  []commandInfo
}

// Callback prefixes. Each is 1–4 lower-case letters; a prefix never changes
// meaning: a new meaning gets a new prefix, because old keyboards stay in
// chats after a deploy.
const (
	cbLanguage = "lang" // lang:<kk|ru> — choose the language
)

// Callback prefixes of subscriptions and broadcasts.
const (
	cbSubscription = "sub" // sub:t:<topic>, sub:d, sub:dd:<district|_>, sub:back, sub:off, sub:open, sub:no — subscription.go
	cbBroadcast    = "bc"  // bc:skip:<lang>, bc:t:<topic|_>, bc:d:<district|_>, bc:l:<lang|_>, bc:ok, bc:no — composing (admins)
	cbBroadcastJob = "bcj" // bcj:<p|r|c>:<broadcast id> — pause, resume, cancel a broadcast (admins)
)

// buildRoutes is the one place that lists every entry point of the bot.
func (b *Bot) buildRoutes() routeTable {
	t := routeTable{
		commands: map[string]Handler{
			"start":    b.handleStart,
			"help":     b.handleHelp,
			"language": b.handleLanguage,
			"cancel":   b.handleCancel,
			"menu":     b.handleMenu,
		},
		groupCommands: map[string]Handler{},
		callbacks: map[string]Handler{
			cbLanguage: b.handleLanguageCallback,
		},
		flows:         map[string]StepHandler{},
		startPayloads: map[string]Handler{},
		menu: [][]menuItem{
			{{label: locales.MenuLanguage, handler: b.handleLanguage}, {label: locales.MenuHelp, handler: b.handleHelp}},
			{{label: locales.MenuSubscriptions, handler: b.handleSubscribe}},
		},
		menuCommands: []commandInfo{
			{"start", locales.CommandStart},
			{"language", locales.CommandLanguage},
			{"cancel", locales.CommandCancel},
			{"help", locales.CommandHelp},
			{"subscribe", locales.CommandSubscribe},
			{"unsubscribe", locales.CommandUnsubscribe},
		},
	}
	// Subscriptions (subscription.go) and broadcasts (broadcast.go; the
	// broadcast commands and buttons check that the sender is an admin).
	t.commands["subscribe"] = b.handleSubscribe
	t.commands["unsubscribe"] = b.handleUnsubscribe
	t.commands["broadcast"] = b.handleBroadcast
	t.commands["broadcasts"] = b.handleBroadcasts
	t.callbacks[cbSubscription] = b.handleSubscriptionCallback
	t.callbacks[cbBroadcast] = b.handleBroadcastCallback
	t.callbacks[cbBroadcastJob] = b.handleBroadcastJobCallback
	t.flows[flowBroadcast] = b.handleBroadcastStep

	t.menuByText = make(map[string]Handler)
	for _, row := range t.menu {
		for _, it := range row {
			for _, lang := range locales.Languages {
				t.menuByText[strings.TrimSpace(b.loc.For(lang).T(it.label))] = it.handler
			}
		}
	}
	return t
}
