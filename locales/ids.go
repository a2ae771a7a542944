package locales

// Message IDs of the foundation: greetings, language, menu, help, the answers
// to everything the bot does not understand, errors and formats. Each feature
// keeps its IDs in its own ids_<feature>.go and its texts in
// kk/<feature>.toml and ru/<feature>.toml.
const (
	Welcome             = "Welcome"
	ChooseLanguage      = "ChooseLanguage"
	LanguageChanged     = "LanguageChanged"
	SwitchLanguage      = "SwitchLanguage" // the button that switches to the other language, written in it
	LanguageNameKK      = "LanguageNameKK"
	LanguageNameRU      = "LanguageNameRU"
	MenuPrompt          = "MenuPrompt"
	Help                = "Help"
	UnknownCommand      = "UnknownCommand"
	NotText             = "NotText"
	EmptyText           = "EmptyText"
	NotUnderstood       = "NotUnderstood"
	GroupOnlyPrivate    = "GroupOnlyPrivate"
	SomethingWentWrong  = "SomethingWentWrong"
	OutdatedButton      = "OutdatedButton"
	NotAllowed          = "NotAllowed"
	ButtonNotYours      = "ButtonNotYours" // a button pressed on a message in another person's chat
	Cancelled           = "Cancelled"
	NothingToCancel     = "NothingToCancel"
	DialogExpired       = "DialogExpired"
	ButtonBack          = "ButtonBack"
	ButtonCancel        = "ButtonCancel"
	MenuLanguage        = "MenuLanguage"
	MenuHelp            = "MenuHelp"
	CommandStart        = "CommandStart"
	CommandHelp         = "CommandHelp"
	CommandLanguage     = "CommandLanguage"
	CommandCancel       = "CommandCancel"
	Kilometres          = "Kilometres"
	DateFormat          = "DateFormat"
	ShortDateFormat     = "ShortDateFormat"
	DateYearFormat      = "DateYearFormat"
	DateTimeFormat      = "DateTimeFormat"
	AskTheCenter        = "AskTheCenter"
	CenterPhoneNotGiven = "CenterPhoneNotGiven" // a center's phone the catalog does not give: asking the center for its own number makes no sense
)

// OtherLanguage reports the messages written, on purpose, in the other
// language of their file or in both: the language choice, the switch to the
// other language, the languages' self-names and the staff's examples of a
// title and description in each language. Language checks skip them.
func OtherLanguage(id string) bool {
	switch id {
	case ChooseLanguage, SwitchLanguage, LanguageNameKK, LanguageNameRU,
		ExampleTitleKK, ExampleTitleRU, ExampleDescriptionKK, ExampleDescriptionRU:
		return true
	}
	return false
}
