package locales

// Message IDs of a center run by its staff (issue 16): the card editor
// (/mycenter), closing time (/close) and what the people it touches read,
// extra sessions and the change log (/changes).
const (
	BookClosedByCenter = "BookClosedByCenter"
	StaffStepStale     = "StaffStepStale"
	StaffUseButtons    = "StaffUseButtons"
	StaffBadHours      = "StaffBadHours"

	// Closing time (staff).
	CloseChooseCenter     = "CloseChooseCenter"
	CloseChooseType       = "CloseChooseType"
	CloseAllTypes         = "CloseAllTypes"
	CloseChooseDay        = "CloseChooseDay"
	CloseToday            = "CloseToday"
	CloseTomorrow         = "CloseTomorrow"
	CloseChoosePart       = "CloseChoosePart"
	ClosePartDay          = "ClosePartDay"
	ClosePartMorning      = "ClosePartMorning"
	ClosePartAfternoon    = "ClosePartAfternoon"
	ClosePartHours        = "ClosePartHours"
	ClosePartRange        = "ClosePartRange"
	CloseAskHours         = "CloseAskHours"
	CloseChooseEnd        = "CloseChooseEnd"
	CloseChooseReason     = "CloseChooseReason"
	ClosureReasonIllness  = "ClosureReasonIllness"
	ClosureReasonTraining = "ClosureReasonTraining"
	ClosureReasonEvent    = "ClosureReasonEvent"
	ClosureReasonOther    = "ClosureReasonOther"
	ClosePreview          = "ClosePreview"
	CloseTouchesNone      = "CloseTouchesNone"
	CloseTouches          = "CloseTouches"     // plural: bookings cancelled
	CloseTouchesMore      = "CloseTouchesMore" // plural: bookings not listed
	CloseConfirm          = "CloseConfirm"
	CloseInPast           = "CloseInPast"
	CloseClosed           = "CloseClosed"
	CloseDone             = "CloseDone" // plural: people told
	CloseListTitle        = "CloseListTitle"
	CloseListEmpty        = "CloseListEmpty"
	ButtonReopen          = "ButtonReopen"
	ReopenDone            = "ReopenDone"
	ReopenTooLate         = "ReopenTooLate"

	// What a person whose booking the center cancelled reads.
	ClosureCancelled        = "ClosureCancelled"
	ClosureWhyIllness       = "ClosureWhyIllness"
	ClosureWhyTraining      = "ClosureWhyTraining"
	ClosureWhyEvent         = "ClosureWhyEvent"
	ClosureWhyOther         = "ClosureWhyOther"
	ClosureRebookPrompt     = "ClosureRebookPrompt"
	ClosureRebookNone       = "ClosureRebookNone"
	ClosureRebookTaken      = "ClosureRebookTaken"
	ClosureRebookTakenShort = "ClosureRebookTakenShort"
	ClosureRebookButton     = "ClosureRebookButton"
	ClosureRebookedAlready  = "ClosureRebookedAlready"
)
