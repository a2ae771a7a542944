package locales

// Message IDs of the foundation: greetings, language, menu, help, the answers
// to everything the bot does not understand, errors and formats. Each feature
// keeps its IDs in its own ids_<feature>.go and its texts in
// kk/<feature>.toml and ru/<feature>.toml.
const (
	Welcome             = "Welcome"
	WelcomeBack         = "WelcomeBack"
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
	Cancelled           = "Cancelled"
	NothingToCancel     = "NothingToCancel"
	DialogExpired       = "DialogExpired"
	TryAgainLater       = "TryAgainLater"
	ButtonBack          = "ButtonBack"
	ButtonCancel        = "ButtonCancel"
	ButtonMenu          = "ButtonMenu"
	MenuLanguage        = "MenuLanguage"
	MenuHelp            = "MenuHelp"
	CommandStart        = "CommandStart"
	CommandHelp         = "CommandHelp"
	CommandLanguage     = "CommandLanguage"
	CommandCancel       = "CommandCancel"
	Kilometres          = "Kilometres"
	DateFormat          = "DateFormat"
	ShortDateFormat     = "ShortDateFormat"
	DateTimeFormat      = "DateTimeFormat"
	AskTheCenter        = "AskTheCenter"
	PhoneNotGiven       = "PhoneNotGiven" // a center's phone the catalog does not give: asking the center for its own number makes no sense
	PluralExamplePeople = "PluralExamplePeople"
)
