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
	former          string // message ID of a former label, which keyboards already in chats still send
	handler         Handler
	requestLocation bool
}

type routeTable struct {
	commands      map[string]Handler     // private-chat commands, without "/"
	groupCommands map[string]Handler     // commands that work in staff group chats
	callbacks     map[string]Handler     // callback data prefix → handler
	groupButtons  map[string]Handler     // the callbacks that work in staff group chats: staff buttons only
	flows         map[string]StepHandler // conversation flow → its step handler
	menu          [][]menuItem           // rows of the main keyboard
	menuByText    map[string]Handler     // a menu button's text, in either language
	startPayloads map[string]Handler     // deep-link prefix (before "_") → handler
	onLocation    Handler
	onContact     Handler
	// signalsCrisis and onCrisis are the safety net (safety.go): a
	// free-text message that signalsCrisis reports goes to onCrisis before
	// any other answer, unless a dialogue step waits for typed text.
	signalsCrisis func(text string) bool
	onCrisis      Handler
	menuCommands  []commandInfo
}

// Callback prefixes. Each is 1–4 lower-case letters; a prefix never changes
// meaning: a new meaning gets a new prefix, because old keyboards stay in
// chats after a deploy.
const (
	cbLanguage = "lang" // lang:<kk|ru>[:<deep-link payload>] — choose the language, then open the link

	// Booking a consultation (bot/booking.go). <tok> names the dialogue the
	// keyboard belongs to, so a button of a finished one is refused.
	cbBookType    = "bt"  // bt:<tok>:<type id>
	cbBookCenter  = "bc"  // bc:<tok>:<center id>
	cbBookDay     = "bd"  // bd:<tok>:<yyyymmdd>
	cbBookSlot    = "bs"  // bs:<tok>:<slot start, Unix seconds base 36>
	cbBookConfirm = "bok" // bok:<tok>
	cbBookBack    = "bb"  // bb:<tok>:<step>
	cbBookQuit    = "bq"  // bq:<tok>
	// bkc:<center id> — start booking from a center's card, place chosen
	cbBookAtCenter = "bkc"
	// My bookings (bot/mybookings.go); the booking must be the presser's.
	cbMyCancel    = "mc"  // mc:<booking id base 36> — ask to confirm
	cbMyCancelYes = "mcy" // mcy:<booking id>
	cbMyKeep      = "mck" // mck:<booking id>
	cbMyMove      = "mm"  // mm:<booking id> — reschedule
	// Staff buttons on booking notifications (bot/staff.go); staff of the
	// booking's center and admins only, by the presser's user id. The only
	// buttons that work in staff groups (groupButtons).
	cbStaffMark   = "sm" // sm:<booking id>:<a|n> — attended, no-show
	cbStaffCancel = "sc" // sc:<booking id> — show the reasons
	cbStaffReason = "sr" // sr:<booking id>:<reason code>
	cbStaffBack   = "sb" // sb:<booking id> — back to the marks

	// Centers near me (centers.go).
	cbCenter    = "ctr"  // ctr:<centerID> — send the center's card
	cbCenterMap = "cmap" // cmap:<centerID> — send the center's map pin (sendVenue)
	cbDistricts = "dis"  // dis:<c|e> — district list, for centers or events
	cbDistrict  = "dist" // dist:<districtID>:<c|e>[:<page base36>] — a district's centers or events

	// Events (events.go); <list> is <a|c|d|m>:<centerID|districtID|->:<page>.
	cbEventsMenu = "evm" // evm — which events to show
	cbEventList  = "evl" // evl:<list> — a page of events, edited in place
	cbEvent      = "ev"  // ev:<eventID>:<list> — the event card
	cbRegister   = "evr" // evr:<eventID>:<list> — register or join the waitlist
	cbUnregister = "evu" // evu:<eventID>:<list> — give up the presser's own place

	// Staff event management (eventstaff.go).
	cbEventCenter    = "evnc" // evnc:<centerID> — dialogue: the event's center
	cbEventSave      = "evns" // evns:<y|n> — dialogue: save or drop
	cbEditEvent      = "eved" // eved:<eventID> — start the edit dialogue
	cbCancelEvent    = "evx"  // evx:<eventID> — ask to cancel the event
	cbCancelEventYes = "evxy" // evxy:<eventID> — cancel it and tell everyone registered

	// Privacy (bot/privacy.go): /forget's confirmation. <asked> is when the
	// question was asked (Unix seconds base 36), so an old button is refused.
	cbForgetYes = "fgy" // fgy:<asked>
	cbForgetNo  = "fgn" // fgn
	// Feedback after an attended consultation (bot/feedback.go); the
	// booking must be the presser's and attended.
	cbFeedbackRate = "fb"  // fb:<booking id>:<1..5>
	cbFeedbackSkip = "fbs" // fbs:<booking id> — no comment

	// The safety net (bot/safety.go, bot/booking_safety.go).
	cbHelpLines  = "sos" // sos — send the help lines (the 🆘 button)
	cbCrisisBook = "crb" // crb — start booking the soonest free psychologist's time
	// ban:<tok>:<s|h> — the booking dialogue's answer whether the center
	// may see the name: show it, or hide it and book anonymously
	cbBookAnon = "ban"
)

// Callback prefixes of subscriptions and broadcasts.
const (
	cbSubscription = "sub" // sub:t:<topic>, sub:d, sub:dd:<district|_>, sub:back, sub:off, sub:open, sub:no — subscription.go
	cbBroadcast    = "brc" // brc:skip:<lang>, brc:t:<topic|_>, brc:d:<district|_>, brc:l:<lang|_>, brc:ok, brc:no — composing (admins)
	cbBroadcastJob = "bcj" // bcj:<p|r|c>:<broadcast id> — pause, resume, cancel a broadcast (admins)
)

// Callback prefixes of a center run by its staff (issue 16). Every handler
// checks that the presser runs the center concerned (its staff or an
// admin); the closing dialogue keeps its choices in the conversation.
const (
	cbClose  = "cls" // cls:<tok>:<op>[:<arg>] — closing dialogue: c:<center>, t:<type|_>, d:<yyyymmdd>, p:<w|m|a|h|r>, e:<yyyymmdd>, y:<reason>, ok, q
	cbCloseB = "clb" // clb:<center> — start closing time from the card editor
	cbCloseL = "cll" // cll:<center> — the center's closures not yet ended
	cbReopen = "clr" // clr:<closure id base 36> — reopen it
	cbRebook = "rbk" // rbk:<cancelled booking id>:<center>:<slot start, Unix base 36> — one tap to rebook; the booking must be the presser's, cancelled by the center

	// The card editor (mycenter.go); cbCenterPhoto is the people's side (cards.go).
	cbMyCenter      = "cdo" // cdo:<center> — the editor of a center
	cbCardEdit      = "cde" // cde:<center>:<card field code> — ask for a field's value
	cbCardDay       = "cdh" // cdh:<center>:<weekday 0-6>[:x] — ask a weekday's hours; x closes the day
	cbCardQuit      = "cdq" // cdq — end the card dialogue
	cbCardResetMenu = "cdz" // cdz:<center> — the fields staff set (admins)
	cbCardReset     = "cdr" // cdr:<center>:<card field code> — back to the catalog's value (admins)
	cbCenterPhoto   = "cph" // cph:<center> — send the entrance photo staff set
	// Extra sessions (sessions.go).
	cbSessions         = "xs"  // xs:<center> — the center's extra sessions to come, and "add"
	cbSessionAdd       = "xsa" // xsa:<center> — start adding one
	cbSessionStep      = "xsd" // xsd:<tok>:<op>[:<arg>] — adding dialogue: t:<type>, d:<yyyymmdd>, l:<minutes>, p:<places>, q
	cbSessionRemove    = "xsr" // xsr:<session id base 36> — remove it if nobody is booked, else ask
	cbSessionRemoveYes = "xsy" // xsy:<session id> — remove it, cancelling its bookings with offers
	// The change log (changes.go), admins only.
	cbChanges = "chg" // chg:<change id base 36> — the page of changes older than it
)

// Callback prefixes of polls (bot/polls.go); ids are base 36.
const (
	// pa:<poll id>:<mask> — answer; bit i of the mask is option i, bit 8
	// "other"; the mask is the whole new choice, so a redelivered tap
	// records the same answer again
	cbPollAnswer = "pa"
	cbPollChange = "pac" // pac:<poll id> — bring the option buttons back
	// pc:skip, pc:m:<y|n>, pc:o:<y|n>, pc:t|d|l:<value|_>, pc:c:<days>,
	// pc:n:<y|n>, pc:ok, pc:no — composing (admins); a button acts only in
	// the step that showed it
	cbPollCompose = "pc"
	cbPollPage    = "pp" // pp:<v|g|f|x>:<poll id> — a poll's results, chart, CSV, close now (admins)
)

// routes adds the polls' entry points.
func (f *polls) routes(t *routeTable) {
	t.commands["poll"] = f.handlePoll
	t.commands["polls"] = f.handlePolls
	t.callbacks[cbPollAnswer] = f.handleAnswer
	t.callbacks[cbPollChange] = f.handleChange
	t.callbacks[cbPollCompose] = f.handleCompose
	t.callbacks[cbPollPage] = f.handlePage
	t.flows[flowPollOther] = f.handleOtherStep
	t.flows[flowPoll] = f.handleComposeStep
}

// buildRoutes is the one place that lists every entry point of the bot.
func (b *Bot) buildRoutes() routeTable {
	t := routeTable{
		commands: map[string]Handler{
			// Booking (bot/booking.go, bot/mybookings.go) and its staff side.
			"book":       b.handleBook,
			"mybookings": b.handleMyBookings,
			"today":      b.handleStaffToday,
			"tomorrow":   b.handleStaffTomorrow,
			"bookings":   b.handleStaffBookings,

			// Privacy (bot/privacy.go), staff export and admin statistics
			// (bot/export.go, bot/stats.go). Private chats only: they carry
			// personal data.
			"mydata": b.handleMyData,
			"forget": b.handleForget,
			"export": b.handleExport,
			"stats":  b.handleStats,
		},
		groupCommands: map[string]Handler{
			"today":    b.handleStaffToday,
			"tomorrow": b.handleStaffTomorrow,
			"bookings": b.handleStaffBookings,
		},
		// Personal buttons work only in the presser's own private chat (the
		// router checks); a group belongs to no one person, so only staff
		// buttons, whose handlers check the presser's rights, work there.
		groupButtons: map[string]Handler{
			cbStaffMark:   b.handleStaffMark,
			cbStaffCancel: b.handleStaffCancel,
			cbStaffReason: b.handleStaffReason,
			cbStaffBack:   b.handleStaffBack,
		},
		callbacks: map[string]Handler{
			cbBookType:     b.handleBookType,
			cbBookCenter:   b.handleBookCenter,
			cbBookDay:      b.handleBookDay,
			cbBookSlot:     b.handleBookSlot,
			cbBookConfirm:  b.handleBookConfirm,
			cbBookAtCenter: b.handleBookAtCenter,
			cbBookBack:     b.handleBookBack,
			cbBookQuit:     b.handleBookQuit,
			cbBookAnon:     b.handleBookAnon,
			cbMyCancel:     b.handleMyCancel,
			cbMyCancelYes:  b.handleMyCancelYes,
			cbMyKeep:       b.handleMyKeep,
			cbMyMove:       b.handleMyMove,
			cbStaffMark:    b.handleStaffMark,
			cbStaffCancel:  b.handleStaffCancel,
			cbStaffReason:  b.handleStaffReason,
			cbStaffBack:    b.handleStaffBack,

			cbForgetYes: b.handleForgetYes,
			cbForgetNo:  b.handleForgetNo,

			cbFeedbackRate: b.handleFeedbackRate,
			cbFeedbackSkip: b.handleFeedbackSkip,
		},
		flows: map[string]StepHandler{
			flowBook:     b.handleBookStep,
			flowFeedback: b.handleFeedbackStep,
		},
		startPayloads: map[string]Handler{},
		menu: [][]menuItem{
			{{label: locales.MenuCenters, handler: b.guide.handleCentersMenu, requestLocation: true}, {label: locales.MenuDistricts, handler: b.guide.handleDistrictsMenu}},
			{{label: locales.MenuEvents, handler: b.board.handleEventsMenu}},
			{{label: locales.MenuBook, former: locales.MenuBookFormer, handler: b.handleBook}, {label: locales.MenuMyBookings, handler: b.handleMyBookings}},
			{{label: locales.MenuLanguage, handler: b.intro.handleLanguage}, {label: locales.MenuHelp, handler: b.intro.handleHelp}},
			{{label: locales.MenuSubscriptions, handler: b.subs.handleSubscribe}},
		},
		onContact: b.handleContact,
		menuCommands: []commandInfo{
			{"start", locales.CommandStart},
			{"language", locales.CommandLanguage},
			{"cancel", locales.CommandCancel},
			{"events", locales.CommandEvents},
			{"help", locales.CommandHelp},
			{"book", locales.CommandBook},
			{"mybookings", locales.CommandMyBookings},
			{"mydata", locales.CommandMyData},
			{"forget", locales.CommandForget},
			{"subscribe", locales.CommandSubscribe},
			{"unsubscribe", locales.CommandUnsubscribe},
		},
	}

	for _, f := range b.features {
		f.routes(&t)
	}

	t.menuByText = make(map[string]Handler)
	for _, row := range t.menu {
		for _, it := range row {
			for _, lang := range locales.Languages {
				t.menuByText[strings.TrimSpace(b.loc.For(lang).T(it.label))] = it.handler
				if it.former != "" {
					t.menuByText[strings.TrimSpace(b.loc.For(lang).T(it.former))] = it.handler
				}
			}
		}
	}
	return t
}

// routes of closing time (closures.go).
func (f *closures) routes(t *routeTable) {
	t.commands["close"] = f.handleClose
	t.callbacks[cbClose] = f.handleStep
	t.callbacks[cbCloseB] = f.handleBegin
	t.callbacks[cbCloseL] = f.handleList
	t.callbacks[cbReopen] = f.handleReopen
	t.callbacks[cbRebook] = f.handleRebook
	t.flows[flowClose] = f.handleHoursStep
}

// routes of the card editor (mycenter.go). A location goes to the pin
// step when it is open, else to the centers near the person.
func (f *mycenter) routes(t *routeTable) {
	t.commands["mycenter"] = f.handleMyCenter
	t.callbacks[cbMyCenter] = f.handleOpen
	t.callbacks[cbCardEdit] = f.handleEdit
	t.callbacks[cbCardDay] = f.handleDay
	t.callbacks[cbCardQuit] = f.handleQuit
	t.callbacks[cbCardResetMenu] = f.handleResetMenu
	t.callbacks[cbCardReset] = f.handleReset
	t.flows[flowCard] = f.handleStep
	t.onLocation = f.onLocation(t.onLocation)
}

// routes of extra sessions (sessions.go).
func (f *sessions) routes(t *routeTable) {
	t.callbacks[cbSessions] = f.handleList
	t.callbacks[cbSessionAdd] = f.handleAdd
	t.callbacks[cbSessionStep] = f.handleStep
	t.callbacks[cbSessionRemove] = f.handleRemove
	t.callbacks[cbSessionRemoveYes] = f.handleRemove
	t.flows[flowSession] = f.handleHoursStep
}

// routes of the change log (changes.go).
func (f *changes) routes(t *routeTable) {
	t.commands["changes"] = f.handleChanges
	t.callbacks[cbChanges] = f.handlePage
}

// routes of the safety net: the 🆘 button, the crisis answer's offer, and
// the hearing of free text for crisis.
func (s *safety) routes(t *routeTable) {
	t.callbacks[cbHelpLines] = s.handleHelpLines
	t.callbacks[cbCrisisBook] = s.handleCrisisBook
	t.signalsCrisis = s.signals
	t.onCrisis = s.handleCrisis
}

// routes of subscriptions (subscription.go).
func (f *subscriptions) routes(t *routeTable) {
	t.commands["subscribe"] = f.handleSubscribe
	t.commands["unsubscribe"] = f.handleUnsubscribe
	t.callbacks[cbSubscription] = f.handleSubscriptionCallback
}

// routes of the greeting, the language and the general commands (start.go).
func (f *intro) routes(t *routeTable) {
	t.commands["start"] = f.handleStart
	t.commands["help"] = f.handleHelp
	t.commands["language"] = f.handleLanguage
	t.commands["cancel"] = f.handleCancel
	t.commands["menu"] = f.handleMenu
	t.callbacks[cbLanguage] = f.handleLanguageCallback
}

// routes of centers near me (centers.go, cards.go). A location goes to the
// nearest centers; mycenter's routes, added after these, send it to the
// card editor's pin step when that is open.
func (f *centerGuide) routes(t *routeTable) {
	t.commands["centers"] = f.handleCentersMenu
	t.callbacks[cbCenter] = f.handleCenterCallback
	t.callbacks[cbCenterMap] = f.handleCenterMapCallback
	t.callbacks[cbCenterPhoto] = f.handleCenterPhoto
	t.callbacks[cbDistricts] = f.handleDistrictsCallback
	t.callbacks[cbDistrict] = f.handleDistrictCallback
	t.startPayloads["center"] = f.handleStartCenter
	t.onLocation = f.handleLocation
}

// routes of the events (events.go).
func (f *eventBoard) routes(t *routeTable) {
	t.commands["events"] = f.handleEventsMenu
	t.callbacks[cbEventsMenu] = f.handleEventsMenu
	t.callbacks[cbEventList] = f.handleEventListCallback
	t.callbacks[cbEvent] = f.handleEventCallback
	t.callbacks[cbRegister] = f.handleRegisterCallback
	t.callbacks[cbUnregister] = f.handleUnregisterCallback
}

// routes of staff event management (eventstaff.go).
func (f *eventDesk) routes(t *routeTable) {
	t.commands["newevent"] = f.handleNewEvent
	t.commands["editevent"] = f.handleStaffEvents
	t.commands["cancelevent"] = f.handleStaffEvents
	t.callbacks[cbEventCenter] = f.handleEventCenterCallback
	t.callbacks[cbEventSave] = f.handleEventSaveCallback
	t.callbacks[cbEditEvent] = f.handleEditEventCallback
	t.callbacks[cbCancelEvent] = f.handleCancelEventCallback
	t.callbacks[cbCancelEventYes] = f.handleCancelEventYesCallback
	t.flows[flowEvent] = f.handleEventStep
}

// routes of the broadcast composer and the list of jobs (broadcast.go);
// every handler checks that the sender is an admin.
func (f *broadcasts) routes(t *routeTable) {
	t.commands["broadcast"] = f.handleBroadcast
	t.commands["broadcasts"] = f.handleBroadcasts
	t.callbacks[cbBroadcast] = f.handleBroadcastCallback
	t.callbacks[cbBroadcastJob] = f.handleBroadcastJobCallback
	t.flows[flowBroadcast] = f.handleBroadcastStep
}
