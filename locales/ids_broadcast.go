package locales

// Message IDs of broadcasts: the admin's composing dialogue, the preview,
// progress and report, and the list of jobs.
const (
	BroadcastAskKK           = "BroadcastAskKK"
	BroadcastAskRU           = "BroadcastAskRU"
	BroadcastSkipButton      = "BroadcastSkipButton"
	BroadcastNeedOneVersion  = "BroadcastNeedOneVersion"
	BroadcastBadContent      = "BroadcastBadContent"
	BroadcastCaptionTooLong  = "BroadcastCaptionTooLong"
	BroadcastNoAlbum         = "BroadcastNoAlbum"
	BroadcastAskTopic        = "BroadcastAskTopic"
	BroadcastAllTopics       = "BroadcastAllTopics"
	BroadcastAskDistrict     = "BroadcastAskDistrict"
	BroadcastAskLang         = "BroadcastAskLang"
	BroadcastBothLanguages   = "BroadcastBothLanguages"
	BroadcastPreviewKK       = "BroadcastPreviewKK" // named per language: a language's self-name inside a sentence of the other reads wrong
	BroadcastPreviewRU       = "BroadcastPreviewRU"
	BroadcastAudience        = "BroadcastAudience"
	BroadcastNobody          = "BroadcastNobody"
	BroadcastSendButton      = "BroadcastSendButton"
	BroadcastStarted         = "BroadcastStarted"
	BroadcastProgress        = "BroadcastProgress"
	BroadcastReport          = "BroadcastReport"
	BroadcastStatusPreparing = "BroadcastStatusPreparing"
	BroadcastStatusRunning   = "BroadcastStatusRunning"
	BroadcastStatusPaused    = "BroadcastStatusPaused"
	BroadcastStatusCancelled = "BroadcastStatusCancelled"
	BroadcastStatusDone      = "BroadcastStatusDone"
	BroadcastListTitle       = "BroadcastListTitle"
	BroadcastListItem        = "BroadcastListItem"
	BroadcastListEmpty       = "BroadcastListEmpty"
	BroadcastPauseButton     = "BroadcastPauseButton"
	BroadcastResumeButton    = "BroadcastResumeButton"
	BroadcastCancelJobButton = "BroadcastCancelJobButton"
	BroadcastChanged         = "BroadcastChanged"
	BroadcastCannotChange    = "BroadcastCannotChange"
	BroadcastUseButtons      = "BroadcastUseButtons"
	BroadcastCancelledDialog = "BroadcastCancelledDialog"
	BroadcastRecipients      = "BroadcastRecipients" // plural
	// The state of a runner in trouble, in /broadcasts and the progress.
	BroadcastRetryingDB       = "BroadcastRetryingDB"
	BroadcastRetryingInternal = "BroadcastRetryingInternal"
	BroadcastHaltedNote       = "BroadcastHaltedNote"
	BroadcastHalted           = "BroadcastHalted"
)
