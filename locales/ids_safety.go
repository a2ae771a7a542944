package locales

// Message IDs of the safety net (issue 17): the answer to a message that
// signals crisis, the 🆘 card of help lines, anonymous booking and the
// discreet reminders of sensitive consultation types (kk/safety.toml,
// ru/safety.toml). bot/safety.go and bot/booking_safety.go show them.
const (
	// CrisisAnswer comes first, before any other reply to a message that
	// signals crisis; the help-lines card and CrisisBookOffer follow it.
	CrisisAnswer      = "CrisisAnswer"
	CrisisBookOffer   = "CrisisBookOffer"
	CrisisBookButton  = "CrisisBookButton" // books the soonest free psychology slot, any center or online
	CrisisBookNoSlots = "CrisisBookNoSlots"

	// HelpButton opens the card from /help, the psychology type's card and
	// the confirmation of a psychology booking.
	HelpButton             = "HelpButton"
	HelpLinesHeader        = "HelpLinesHeader"
	HelpLine               = "HelpLine"       // one line of the catalog: Number, Name, Description, Hours, Free
	HelpLineAlways         = "HelpLineAlways" // Hours of a 24/7 line
	HelpLineHours          = "HelpLineHours"  // Hours: Days ("Пн–Пт"), From, To
	HelpLineFree           = "HelpLineFree"
	HelpLinePaid           = "HelpLinePaid"
	HelpLinesNearestCenter = "HelpLinesNearestCenter" // only when the nearest center is open now and has a phone
	HelpLinesNotAService   = "HelpLinesNotAService"

	// Anonymous booking, for types with anonymous = true in the catalog.
	AnonymousAsk       = "AnonymousAsk"
	AnonymousShowName  = "AnonymousShowName"
	AnonymousHideName  = "AnonymousHideName"
	AnonymousConfirmed = "AnonymousConfirmed" // Code, from storage.AnonymousCode
	StaffAnonymous     = "StaffAnonymous"     // in place of name, username and phone for staff: Code

	// Reminders of types with discreet = true: the phone's notification
	// preview shows "consultation" and the center, never the type.
	ReminderDayBeforeDiscreet = "ReminderDayBeforeDiscreet"
	ReminderSoonDiscreet      = "ReminderSoonDiscreet"
)
