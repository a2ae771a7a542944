package storagetest

import (
	"context"
	"time"

	"jastar/storage"
)

// The wrappers of the stores of a center's staff (storage/center.go): its
// card, closures, extra sessions and change log.

// AddClosure is (*boltdb.DB).AddClosure, or the injected failure.
func (f *Failing) AddClosure(ctx context.Context, c storage.Closure, now time.Time) (storage.Closure, []storage.Booking, error) {
	if err := f.before(ctx, "AddClosure"); err != nil {
		var r0 storage.Closure
		var r1 []storage.Booking
		return r0, r1, err
	}
	return f.DB.AddClosure(ctx, c, now)
}

// AddExtraSession is (*boltdb.DB).AddExtraSession, or the injected failure.
func (f *Failing) AddExtraSession(ctx context.Context, s storage.ExtraSession, now time.Time) (storage.ExtraSession, error) {
	if err := f.before(ctx, "AddExtraSession"); err != nil {
		var r0 storage.ExtraSession
		return r0, err
	}
	return f.DB.AddExtraSession(ctx, s, now)
}

// Card is (*boltdb.DB).Card, or the injected failure.
func (f *Failing) Card(ctx context.Context, centerID string) (storage.CardOverrides, error) {
	if err := f.before(ctx, "Card"); err != nil {
		var r0 storage.CardOverrides
		return r0, err
	}
	return f.DB.Card(ctx, centerID)
}

// Cards is (*boltdb.DB).Cards, or the injected failure.
func (f *Failing) Cards(ctx context.Context) (map[string]storage.CardOverrides, error) {
	if err := f.before(ctx, "Cards"); err != nil {
		var r0 map[string]storage.CardOverrides
		return r0, err
	}
	return f.DB.Cards(ctx)
}

// Changes is (*boltdb.DB).Changes, or the injected failure.
func (f *Failing) Changes(ctx context.Context, before uint64, limit int) ([]storage.Change, error) {
	if err := f.before(ctx, "Changes"); err != nil {
		var r0 []storage.Change
		return r0, err
	}
	return f.DB.Changes(ctx, before, limit)
}

// Closure is (*boltdb.DB).Closure, or the injected failure.
func (f *Failing) Closure(ctx context.Context, id uint64) (storage.Closure, error) {
	if err := f.before(ctx, "Closure"); err != nil {
		var r0 storage.Closure
		return r0, err
	}
	return f.DB.Closure(ctx, id)
}

// Closures is (*boltdb.DB).Closures, or the injected failure.
func (f *Failing) Closures(ctx context.Context, centerIDs []string, from time.Time, to time.Time) ([]storage.Closure, error) {
	if err := f.before(ctx, "Closures"); err != nil {
		var r0 []storage.Closure
		return r0, err
	}
	return f.DB.Closures(ctx, centerIDs, from, to)
}

// ExtraSession is (*boltdb.DB).ExtraSession, or the injected failure.
func (f *Failing) ExtraSession(ctx context.Context, id uint64) (storage.ExtraSession, error) {
	if err := f.before(ctx, "ExtraSession"); err != nil {
		var r0 storage.ExtraSession
		return r0, err
	}
	return f.DB.ExtraSession(ctx, id)
}

// ExtraSessionBookings is (*boltdb.DB).ExtraSessionBookings, or the injected failure.
func (f *Failing) ExtraSessionBookings(ctx context.Context, id uint64, now time.Time) ([]storage.Booking, error) {
	if err := f.before(ctx, "ExtraSessionBookings"); err != nil {
		var r0 []storage.Booking
		return r0, err
	}
	return f.DB.ExtraSessionBookings(ctx, id, now)
}

// ExtraSessions is (*boltdb.DB).ExtraSessions, or the injected failure.
func (f *Failing) ExtraSessions(ctx context.Context, centerIDs []string, from time.Time, to time.Time) ([]storage.ExtraSession, error) {
	if err := f.before(ctx, "ExtraSessions"); err != nil {
		var r0 []storage.ExtraSession
		return r0, err
	}
	return f.DB.ExtraSessions(ctx, centerIDs, from, to)
}

// PreviewClosure is (*boltdb.DB).PreviewClosure, or the injected failure.
func (f *Failing) PreviewClosure(ctx context.Context, c storage.Closure, now time.Time) ([]storage.Booking, error) {
	if err := f.before(ctx, "PreviewClosure"); err != nil {
		var r0 []storage.Booking
		return r0, err
	}
	return f.DB.PreviewClosure(ctx, c, now)
}

// RemoveExtraSession is (*boltdb.DB).RemoveExtraSession, or the injected failure.
func (f *Failing) RemoveExtraSession(ctx context.Context, id uint64, by int64, now time.Time, cancelWith storage.ClosureReason) (storage.ExtraSession, []storage.Booking, error) {
	if err := f.before(ctx, "RemoveExtraSession"); err != nil {
		var r0 storage.ExtraSession
		var r1 []storage.Booking
		return r0, r1, err
	}
	return f.DB.RemoveExtraSession(ctx, id, by, now, cancelWith)
}

// Reopen is (*boltdb.DB).Reopen, or the injected failure.
func (f *Failing) Reopen(ctx context.Context, id uint64, by int64, now time.Time) (storage.Closure, error) {
	if err := f.before(ctx, "Reopen"); err != nil {
		var r0 storage.Closure
		return r0, err
	}
	return f.DB.Reopen(ctx, id, by, now)
}

// ResetCard is (*boltdb.DB).ResetCard, or the injected failure.
func (f *Failing) ResetCard(ctx context.Context, centerID string, field storage.CardField, by int64, now time.Time) (storage.CardOverride, error) {
	if err := f.before(ctx, "ResetCard"); err != nil {
		var r0 storage.CardOverride
		return r0, err
	}
	return f.DB.ResetCard(ctx, centerID, field, by, now)
}

// SetCard is (*boltdb.DB).SetCard, or the injected failure.
func (f *Failing) SetCard(ctx context.Context, o storage.CardOverride) (storage.CardOverride, bool, error) {
	if err := f.before(ctx, "SetCard"); err != nil {
		var r0 storage.CardOverride
		var r1 bool
		return r0, r1, err
	}
	return f.DB.SetCard(ctx, o)
}
