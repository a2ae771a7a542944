package locales

// Message IDs of a center run by its staff (issue 16): the card editor
// (/mycenter), closing time (/close) and what the people it touches read,
// extra sessions and the change log (/changes).
const (
	BookClosedByCenter = "BookClosedByCenter"
)
