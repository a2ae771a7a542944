package bot

import (
	"jastar/bot/tg"
	"jastar/locales"
)

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
func (f *polls) routes(t *tg.Routes) {
	t.Command("poll", f.handlePoll)
	t.Command("polls", f.handlePolls)
	t.Callback(cbPollAnswer, f.handleAnswer)
	t.Callback(cbPollChange, f.handleChange)
	t.Callback(cbPollCompose, f.handleCompose)
	t.Callback(cbPollPage, f.handlePage)
	t.Flow(flowPollOther, f.handleOtherStep)
	t.Flow(flowPoll, f.handleComposeStep)
}

// buildRoutes is the one place that lists every entry point of the bot:
// the main menu and the command menu here, which name several features,
// then each feature's routes method below.
func (b *Bot) buildRoutes(t *tg.Routes) {
	t.MenuRow(tg.MenuItem{Label: locales.MenuCenters, Handler: b.guide.handleCentersMenu, RequestLocation: true}, tg.MenuItem{Label: locales.MenuDistricts, Handler: b.guide.handleDistrictsMenu})
	t.MenuRow(tg.MenuItem{Label: locales.MenuEvents, Handler: b.board.handleEventsMenu})
	t.MenuRow(tg.MenuItem{Label: locales.MenuBook, Former: locales.MenuBookFormer, Handler: b.booking.handleBook}, tg.MenuItem{Label: locales.MenuMyBookings, Handler: b.myBookings.handleMyBookings})
	t.MenuRow(tg.MenuItem{Label: locales.MenuLanguage, Handler: b.intro.handleLanguage}, tg.MenuItem{Label: locales.MenuHelp, Handler: b.intro.handleHelp})
	t.MenuRow(tg.MenuItem{Label: locales.MenuSubscriptions, Handler: b.subs.handleSubscribe})

	t.MenuCommand("start", locales.CommandStart)
	t.MenuCommand("language", locales.CommandLanguage)
	t.MenuCommand("cancel", locales.CommandCancel)
	t.MenuCommand("events", locales.CommandEvents)
	t.MenuCommand("help", locales.CommandHelp)
	t.MenuCommand("book", locales.CommandBook)
	t.MenuCommand("mybookings", locales.CommandMyBookings)
	t.MenuCommand("mydata", locales.CommandMyData)
	t.MenuCommand("forget", locales.CommandForget)
	t.MenuCommand("subscribe", locales.CommandSubscribe)
	t.MenuCommand("unsubscribe", locales.CommandUnsubscribe)

	for _, f := range b.features {
		f.routes(t)
	}
}

// routes of the staff side of bookings (staff.go): the day lists work in
// private and in staff groups. Personal buttons work only in the
// presser's own private chat (the router checks); a group belongs to no
// one person, so only the staff buttons, whose handlers check the
// presser's rights, work there.
func (f *staff) routes(t *tg.Routes) {
	t.Command("today", f.handleStaffToday)
	t.Command("tomorrow", f.handleStaffTomorrow)
	t.Command("bookings", f.handleStaffBookings)
	t.GroupCommand("today", f.handleStaffToday)
	t.GroupCommand("tomorrow", f.handleStaffTomorrow)
	t.GroupCommand("bookings", f.handleStaffBookings)
	t.Callback(cbStaffMark, f.handleStaffMark)
	t.Callback(cbStaffCancel, f.handleStaffCancel)
	t.Callback(cbStaffReason, f.handleStaffReason)
	t.Callback(cbStaffBack, f.handleStaffBack)
	t.GroupButton(cbStaffMark, f.handleStaffMark)
	t.GroupButton(cbStaffCancel, f.handleStaffCancel)
	t.GroupButton(cbStaffReason, f.handleStaffReason)
	t.GroupButton(cbStaffBack, f.handleStaffBack)
}

// routes of privacy (privacy.go), private chats only: they carry
// personal data.
func (f *privacy) routes(t *tg.Routes) {
	t.Command("mydata", f.handleMyData)
	t.Command("forget", f.handleForget)
	t.Callback(cbForgetYes, f.handleForgetYes)
	t.Callback(cbForgetNo, f.handleForgetNo)
}

// routes of the staff's export (export.go), private chats only: the file
// carries personal data.
func (f *export) routes(t *tg.Routes) {
	t.Command("export", f.handleExport)
}

// routes of the admins' statistics (stats.go), private chats only.
func (f *stats) routes(t *tg.Routes) {
	t.Command("stats", f.handleStats)
}

// routes of closing time (closures.go).
func (f *closures) routes(t *tg.Routes) {
	t.Command("close", f.handleClose)
	t.Callback(cbClose, f.handleStep)
	t.Callback(cbCloseB, f.handleBegin)
	t.Callback(cbCloseL, f.handleList)
	t.Callback(cbReopen, f.handleReopen)
	t.Callback(cbRebook, f.handleRebook)
	t.Flow(flowClose, f.handleHoursStep)
}

// routes of the card editor (mycenter.go). A location goes to the pin
// step when it is open, else to the centers near the person.
func (f *mycenter) routes(t *tg.Routes) {
	t.Command("mycenter", f.handleMyCenter)
	t.Callback(cbMyCenter, f.handleOpen)
	t.Callback(cbCardEdit, f.handleEdit)
	t.Callback(cbCardDay, f.handleDay)
	t.Callback(cbCardQuit, f.handleQuit)
	t.Callback(cbCardResetMenu, f.handleResetMenu)
	t.Callback(cbCardReset, f.handleReset)
	t.Flow(flowCard, f.handleStep)
	t.WrapLocation(f.onLocation)
}

// routes of extra sessions (sessions.go).
func (f *sessions) routes(t *tg.Routes) {
	t.Callback(cbSessions, f.handleList)
	t.Callback(cbSessionAdd, f.handleAdd)
	t.Callback(cbSessionStep, f.handleStep)
	t.Callback(cbSessionRemove, f.handleRemove)
	t.Callback(cbSessionRemoveYes, f.handleRemove)
	t.Flow(flowSession, f.handleHoursStep)
}

// routes of the change log (changes.go).
func (f *changes) routes(t *tg.Routes) {
	t.Command("changes", f.handleChanges)
	t.Callback(cbChanges, f.handlePage)
}

// routes of the safety net: the 🆘 button, the crisis answer's offer, and
// the hearing of free text for crisis.
func (s *safety) routes(t *tg.Routes) {
	t.Callback(cbHelpLines, s.handleHelpLines)
	t.Callback(cbCrisisBook, s.handleCrisisBook)
	t.Crisis(s.signals, s.handleCrisis)
}

// routes of the booking dialogue (booking.go, booking_safety.go): /book,
// the menu button (in buildRoutes' menu), a center card's button, the
// dialogue's buttons and its phone step, and a contact shared outside it.
func (f *booking) routes(t *tg.Routes) {
	t.Command("book", f.handleBook)
	t.Callback(cbBookType, f.handleBookType)
	t.Callback(cbBookCenter, f.handleBookCenter)
	t.Callback(cbBookDay, f.handleBookDay)
	t.Callback(cbBookSlot, f.handleBookSlot)
	t.Callback(cbBookConfirm, f.handleBookConfirm)
	t.Callback(cbBookAtCenter, f.handleBookAtCenter)
	t.Callback(cbBookBack, f.handleBookBack)
	t.Callback(cbBookQuit, f.handleBookQuit)
	t.Callback(cbBookAnon, f.handleBookAnon)
	t.Flow(flowBook, f.handleBookStep)
	t.OnContact(f.handleContact)
}

// routes of "My bookings" (mybookings.go): /mybookings, the menu button
// (in buildRoutes' menu) and each booking's buttons.
func (f *myBookings) routes(t *tg.Routes) {
	t.Command("mybookings", f.handleMyBookings)
	t.Callback(cbMyCancel, f.handleMyCancel)
	t.Callback(cbMyCancelYes, f.handleMyCancelYes)
	t.Callback(cbMyKeep, f.handleMyKeep)
	t.Callback(cbMyMove, f.handleMyMove)
}

// routes of feedback (feedback.go): the rating buttons under the question
// and the comment step.
func (f *feedback) routes(t *tg.Routes) {
	t.Callback(cbFeedbackRate, f.handleFeedbackRate)
	t.Callback(cbFeedbackSkip, f.handleFeedbackSkip)
	t.Flow(flowFeedback, f.handleFeedbackStep)
}

// routes of subscriptions (subscription.go).
func (f *subscriptions) routes(t *tg.Routes) {
	t.Command("subscribe", f.handleSubscribe)
	t.Command("unsubscribe", f.handleUnsubscribe)
	t.Callback(cbSubscription, f.handleSubscriptionCallback)
}

// routes of the greeting, the language and the general commands (start.go).
func (f *intro) routes(t *tg.Routes) {
	t.Command("start", f.handleStart)
	t.Command("help", f.handleHelp)
	t.Command("language", f.handleLanguage)
	t.Command("cancel", f.handleCancel)
	t.Command("menu", f.handleMenu)
	t.Callback(cbLanguage, f.handleLanguageCallback)
}

// routes of centers near me (centers.go, cards.go). A location goes to the
// nearest centers; mycenter's routes, added after these, send it to the
// card editor's pin step when that is open.
func (f *centerGuide) routes(t *tg.Routes) {
	t.Command("centers", f.handleCentersMenu)
	t.Callback(cbCenter, f.handleCenterCallback)
	t.Callback(cbCenterMap, f.handleCenterMapCallback)
	t.Callback(cbCenterPhoto, f.handleCenterPhoto)
	t.Callback(cbDistricts, f.handleDistrictsCallback)
	t.Callback(cbDistrict, f.handleDistrictCallback)
	t.StartPayload("center", f.handleStartCenter)
	t.OnLocation(f.handleLocation)
}

// routes of the events (events.go).
func (f *eventBoard) routes(t *tg.Routes) {
	t.Command("events", f.handleEventsMenu)
	t.Callback(cbEventsMenu, f.handleEventsMenu)
	t.Callback(cbEventList, f.handleEventListCallback)
	t.Callback(cbEvent, f.handleEventCallback)
	t.Callback(cbRegister, f.handleRegisterCallback)
	t.Callback(cbUnregister, f.handleUnregisterCallback)
}

// routes of staff event management (eventstaff.go).
func (f *eventDesk) routes(t *tg.Routes) {
	t.Command("newevent", f.handleNewEvent)
	t.Command("editevent", f.handleStaffEvents)
	t.Command("cancelevent", f.handleStaffEvents)
	t.Callback(cbEventCenter, f.handleEventCenterCallback)
	t.Callback(cbEventSave, f.handleEventSaveCallback)
	t.Callback(cbEditEvent, f.handleEditEventCallback)
	t.Callback(cbCancelEvent, f.handleCancelEventCallback)
	t.Callback(cbCancelEventYes, f.handleCancelEventYesCallback)
	t.Flow(flowEvent, f.handleEventStep)
}

// routes of the broadcast composer and the list of jobs (broadcast.go);
// every handler checks that the sender is an admin.
func (f *broadcasts) routes(t *tg.Routes) {
	t.Command("broadcast", f.handleBroadcast)
	t.Command("broadcasts", f.handleBroadcasts)
	t.Callback(cbBroadcast, f.handleBroadcastCallback)
	t.Callback(cbBroadcastJob, f.handleBroadcastJobCallback)
	t.Flow(flowBroadcast, f.handleBroadcastStep)
}
