package locales

// Message IDs of subscriptions: the settings with topic toggles and a
// district, the one-time offer, and unsubscribing.
const (
	MenuSubscriptions          = "MenuSubscriptions"
	CommandSubscribe           = "CommandSubscribe"
	CommandUnsubscribe         = "CommandUnsubscribe"
	SubscriptionSettings       = "SubscriptionSettings"
	SubscriptionStatusOn       = "SubscriptionStatusOn"
	SubscriptionStatusOff      = "SubscriptionStatusOff"
	TopicEvents                = "TopicEvents"
	TopicJobs                  = "TopicJobs"
	TopicNews                  = "TopicNews"
	SubscriptionDistrictButton = "SubscriptionDistrictButton"
	AllDistricts               = "AllDistricts"
	SubscriptionChooseDistrict = "SubscriptionChooseDistrict"
	SubscriptionOffButton      = "SubscriptionOffButton"
	SubscriptionSaved          = "SubscriptionSaved"
	Unsubscribed               = "Unsubscribed"
	NotSubscribed              = "NotSubscribed"
	SubscriptionOffer          = "SubscriptionOffer"
	SubscriptionOfferYes       = "SubscriptionOfferYes"
	SubscriptionOfferNo        = "SubscriptionOfferNo"
	SubscriptionOfferDeclined  = "SubscriptionOfferDeclined"
)
