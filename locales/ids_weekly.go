package locales

// Message IDs of the weekly events digest for a subscriber who chose a
// district.
const (
	WeeklyEventsDistrictHeader = "WeeklyEventsDistrictHeader"
)
