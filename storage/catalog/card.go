package catalog

import (
	"fmt"

	"jastar/storage"
)

// Card is a center as people see it: the catalog's center with what its
// staff set (storage.CardOverrides) in place of the catalog's values.
// Every card, list and reminder shows a center through CardOf, so a
// change staff make shows everywhere at once.
type Card struct {
	// Center is the catalog's center with staff's address, phone (shown
	// as "+7 701 123 45 67") and map pin where they set them.
	Center
	// Week are the opening hours staff set per weekday; when HasWeek is
	// true, Center.Hours (the catalog's free text) is cleared, since it
	// may say what the week no longer is.
	Week    storage.WeekHours
	HasWeek bool
	// Photo is the Telegram file_id of the entrance photo; empty for none.
	Photo string
	// Note is staff's short note ("enter from the yard"); empty for none.
	Note string
	// Overrides are the fields staff set, for an editor that offers a
	// reset to the catalog's value only for them.
	Overrides storage.CardOverrides
}

// CardOf merges a catalog center with its staff's overrides. It is pure.
func CardOf(c Center, o storage.CardOverrides) Card {
	card := Card{Center: c, Overrides: o}
	kk, hasKK := o[storage.CardAddressKK]
	ru, hasRU := o[storage.CardAddressRU]
	if hasKK || hasRU {
		// The catalog's address may be the place the center left: with one
		// language set, the other falls back to it (Text.In), never to the
		// catalog's.
		card.Address = Text{KK: kk.Text, RU: ru.Text}
	}
	if p, ok := o[storage.CardPhone]; ok {
		card.Phone = storage.FormatPhone(p.Text)
	}
	if h, ok := o[storage.CardHours]; ok {
		card.Week, card.HasWeek, card.Hours = h.Hours, true, Text{}
	}
	if p, ok := o[storage.CardPin]; ok && !c.Online {
		card.Lat, card.Lon = p.Lat, p.Lon
	}
	card.Photo = o[storage.CardPhoto].Text
	card.Note = o[storage.CardNote].Text
	return card
}

// MaxPinMoveKm is how far staff may move a center's map pin from the
// catalog's: a correction within the settlement, not a tap on the wrong
// town, which would send people elsewhere.
const MaxPinMoveKm = 25.0

// CheckCard checks an override before it is stored: the rules of its
// field (CardOverride.Validate), a center of the catalog, a pin near the
// catalog's, and no place (address, pin, entrance) for the online desk.
// Every refusal wraps storage.ErrInvalid.
func (c *Catalog) CheckCard(o storage.CardOverride) error {
	center, ok := c.Center(o.CenterID)
	if !ok {
		return fmt.Errorf("center %q: %w", o.CenterID, storage.ErrInvalid)
	}
	if err := o.Validate(); err != nil {
		return err
	}
	switch o.Field {
	case storage.CardAddressKK, storage.CardAddressRU, storage.CardPin, storage.CardPhoto:
		if center.Online {
			return fmt.Errorf("the online desk has no %s: %w", o.Field, storage.ErrInvalid)
		}
	}
	if o.Field == storage.CardPin {
		if km := Distance(center.Lat, center.Lon, o.Lat, o.Lon); !(km <= MaxPinMoveKm) {
			return fmt.Errorf("pin %.1f km from the catalog's: %w", km, storage.ErrInvalid)
		}
	}
	return nil
}
