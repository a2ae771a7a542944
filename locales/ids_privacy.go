package locales

// Message IDs of /mydata and /forget (kk/privacy.toml, ru/privacy.toml) and
// of the staff and admin tools /export and /stats (kk/ops.toml, ru/ops.toml).
const (
	CommandMyData             = "CommandMyData"
	CommandForget             = "CommandForget"
	StatusBooked              = "StatusBooked"
	StatusAttended            = "StatusAttended"
	StatusNoShow              = "StatusNoShow"
	StatusCancelled           = "StatusCancelled"
	MyDataHeader              = "MyDataHeader"
	MyDataProfile             = "MyDataProfile"
	MyDataNoUsername          = "MyDataNoUsername"
	MyDataPhone               = "MyDataPhone"
	MyDataNoPhone             = "MyDataNoPhone"
	MyDataLocation            = "MyDataLocation"
	MyDataNoLocation          = "MyDataNoLocation"
	MyDataOfferShown          = "MyDataOfferShown"
	MyDataBlocked             = "MyDataBlocked"
	MyDataBookingLine         = "MyDataBookingLine"
	MyDataNoBookings          = "MyDataNoBookings"
	MyDataDialogue            = "MyDataDialogue"
	MyDataFooter              = "MyDataFooter"
	ForgetAsk                 = "ForgetAsk"
	ForgetYes                 = "ForgetYes"
	ForgetNo                  = "ForgetNo"
	ForgetKept                = "ForgetKept"
	ForgetDone                = "ForgetDone"
	ForgetStale               = "ForgetStale"
	ExportUsage               = "ExportUsage"
	ExportEmpty               = "ExportEmpty"
	CSVID                     = "CSVID"
	CSVDate                   = "CSVDate"
	CSVTime                   = "CSVTime"
	CSVType                   = "CSVType"
	CSVCenter                 = "CSVCenter"
	CSVStatus                 = "CSVStatus"
	CSVName                   = "CSVName"
	CSVUsername               = "CSVUsername"
	CSVPhone                  = "CSVPhone"
	CSVCreated                = "CSVCreated"
	CSVCancelReason           = "CSVCancelReason"
	CSVReasonByPerson         = "CSVReasonByPerson"
	CSVReasonForgotten        = "CSVReasonForgotten"
	StatsUsage                = "StatsUsage"
	StatsHeader               = "StatsHeader"
	StatsByStatus             = "StatsByStatus"
	StatsByType               = "StatsByType"
	StatsByCenter             = "StatsByCenter"
	StatsLine                 = "StatsLine"
	StatsNone                 = "StatsNone"
	StatsChartCaption         = "StatsChartCaption"
	MyDataBookingsHeader      = "MyDataBookingsHeader"      // plural
	ForgetCancelledBookings   = "ForgetCancelledBookings"   // plural
	ForgetAnonymisedBookings  = "ForgetAnonymisedBookings"  // plural
	ForgetUpcoming            = "ForgetUpcoming"            // plural
	ExportCaption             = "ExportCaption"             // plural
	StatsTotal                = "StatsTotal"                // plural
	StatsEvents               = "StatsEvents"               // plural
	MyDataRegistrationsHeader = "MyDataRegistrationsHeader" // plural
	MyDataRegistrationLine    = "MyDataRegistrationLine"
	StatusRegistered          = "StatusRegistered"
	StatusWaitlisted          = "StatusWaitlisted"
)
