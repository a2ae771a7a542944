package locales

// Message IDs of reminders, the staff morning digest, the weekly events
// digest and the feedback question after a consultation.
const (
	ReminderDayBefore      = "ReminderDayBefore"
	ReminderSoon           = "ReminderSoon"
	EventReminderDayBefore = "EventReminderDayBefore"
	EventReminderSoon      = "EventReminderSoon"
	FeedbackAsk            = "FeedbackAsk"
	FeedbackRated          = "FeedbackRated"
	FeedbackSkip           = "FeedbackSkip"
	FeedbackAlreadyRated   = "FeedbackAlreadyRated"
	FeedbackThanks         = "FeedbackThanks"
	FeedbackDone           = "FeedbackDone"
	FeedbackCommentText    = "FeedbackCommentText"
	StaffDigestHeader      = "StaffDigestHeader"
	StaffDigestCenter      = "StaffDigestCenter"
	StaffDigestEmpty       = "StaffDigestEmpty"
	StaffDigestUnnotified  = "StaffDigestUnnotified"
	StaffDigestUncertain   = "StaffDigestUncertain"
	WeeklyEventsHeader     = "WeeklyEventsHeader"
	WeeklyEventLine        = "WeeklyEventLine"
	WeeklyEventsMore       = "WeeklyEventsMore"
	WeeklyEventsButton     = "WeeklyEventsButton"
)
