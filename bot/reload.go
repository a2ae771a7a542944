package bot

import (
	"context"
	"fmt"
	"time"

	"jastar/storage/catalog"
)

// cat is the catalog in force. A reload (SetCatalog) swaps it atomically:
// a request that reads it twice may see two catalogs, each whole.
func (b *Bot) cat() *catalog.Catalog { return b.catRef.Load() }

// Catalog is the catalog in force, for what runs beside the bot (the
// admin socket's exports).
func (b *Bot) Catalog() *catalog.Catalog { return b.cat() }

// orphanHorizon is how far ahead SetCatalog looks for bookings of what
// the new catalog dropped: further than anyone can book.
const orphanHorizon = 400 * 24 * time.Hour

// SetCatalog puts c, already validated, in force without a restart. The
// bookings of a center or consultation type that c no longer has are
// kept, never dropped: each upcoming one is logged (its id, center and
// type) for the operator to settle with the person, and their number is
// returned.
func (b *Bot) SetCatalog(ctx context.Context, c *catalog.Catalog) (int, error) {
	old := b.catRef.Swap(c)
	b.log.Info("catalog reloaded", "centers", len(c.Centers), "types", len(c.Types))
	now := b.now()
	list, err := b.store.AllBookingsOn(ctx, now, now.Add(orphanHorizon))
	if err != nil {
		return 0, fmt.Errorf("read bookings to check the new catalog: %w", err)
	}
	orphans := 0
	for _, bk := range list {
		if !bk.Active() {
			continue
		}
		_, center := c.Center(bk.CenterID)
		_, typ := c.Type(bk.TypeID)
		if center && typ {
			continue
		}
		orphans++
		b.log.Warn("the reloaded catalog lacks the center or type of a booking; the booking is kept",
			"booking_id", bk.ID, "center_id", bk.CenterID, "type_id", bk.TypeID, "center_known", center, "type_known", typ)
	}
	if old != nil && orphans > 0 {
		b.log.Warn("bookings kept for a center or type the catalog no longer has", "count", orphans)
	}
	return orphans, nil
}
