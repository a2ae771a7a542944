package locales

// Message IDs of "Centers near me": the location and district paths, the
// center card and its map pin.
const (
	MenuCenters           = "MenuCenters" // reply button that asks for the location
	MenuDistricts         = "MenuDistricts"
	CentersNearest        = "CentersNearest"
	CentersFarAway        = "CentersFarAway"
	CentersChooseDistrict = "CentersChooseDistrict"
	CentersInDistrict     = "CentersInDistrict"
	CentersNoneInDistrict = "CentersNoneInDistrict"
	CentersTapForCard     = "CentersTapForCard"
	CenterStatusOpen      = "CenterStatusOpen"
	CenterStatusSoon      = "CenterStatusSoon"
	CenterStatusSoonWhen  = "CenterStatusSoonWhen"
	CenterAway            = "CenterAway"
	CenterAddress         = "CenterAddress"
	CenterHours           = "CenterHours"
	CenterPhone           = "CenterPhone"
	CenterServices        = "CenterServices"
	CenterMoreServices    = "CenterMoreServices"
	ButtonShowOnMap       = "ButtonShowOnMap"
	ButtonCenterEvents    = "ButtonCenterEvents"
	ButtonChooseDistrict  = "ButtonChooseDistrict"
	CenterButtonOpen      = "CenterButtonOpen" // a center in the full list
	CenterButtonSoon      = "CenterButtonSoon" // a center opening soon in the full list
)
