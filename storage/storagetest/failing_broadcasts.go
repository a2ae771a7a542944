package storagetest

import (
	"context"
	"sync"
	"time"

	"jastar/storage"
)

// FailingBroadcasts wraps a broadcast store and makes chosen calls fail or
// panic, so tests can see how a broadcast runner behaves when its database
// does. Calls not chosen go to the wrapped store. It is safe for
// concurrent use.
type FailingBroadcasts struct {
	store storage.BroadcastStore

	mu    sync.Mutex
	rules map[string]*failRule
	calls map[string]int // calls of each method, failed or not
	fails map[string]int // calls of each method that failed or panicked
}

// failRule makes calls from, from+1, ... of a method fail, count of them
// (count < 0: until Heal).
type failRule struct {
	from, count int
	err         error
	panic       bool
}

// FailBroadcasts wraps store.
func FailBroadcasts(store storage.BroadcastStore) *FailingBroadcasts {
	return &FailingBroadcasts{store: store, rules: map[string]*failRule{}, calls: map[string]int{}, fails: map[string]int{}}
}

// Fail makes calls of method (its name, as "ClaimDelivery") fail with err
// (ErrInjected when nil): count calls from the nth call on, counted from 1
// since the wrapper was made; count < 0 fails every call from the nth until
// Heal.
func (f *FailingBroadcasts) Fail(method string, nth, count int, err error) {
	if err == nil {
		err = ErrInjected
	}
	f.mu.Lock()
	f.rules[method] = &failRule{from: nth, count: count, err: err}
	f.mu.Unlock()
}

// Panic is Fail with a panic instead of an error.
func (f *FailingBroadcasts) Panic(method string, nth, count int) {
	f.mu.Lock()
	f.rules[method] = &failRule{from: nth, count: count, panic: true}
	f.mu.Unlock()
}

// Heal makes method work again.
func (f *FailingBroadcasts) Heal(method string) {
	f.mu.Lock()
	delete(f.rules, method)
	f.mu.Unlock()
}

// Calls is how many times method was called, and how many of those failed
// or panicked.
func (f *FailingBroadcasts) Calls(method string) (calls, failed int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method], f.fails[method]
}

// check counts a call of method and returns the injected error, or panics,
// when a rule says so.
func (f *FailingBroadcasts) check(method string) error {
	f.mu.Lock()
	f.calls[method]++
	n := f.calls[method]
	r := f.rules[method]
	if r == nil || n < r.from || (r.count >= 0 && n >= r.from+r.count) {
		f.mu.Unlock()
		return nil
	}
	f.fails[method]++
	f.mu.Unlock()
	if r.panic {
		panic("storagetest: injected panic in " + method)
	}
	return r.err
}

// CreateBroadcast implements storage.BroadcastStore.
func (f *FailingBroadcasts) CreateBroadcast(ctx context.Context, b storage.Broadcast) (storage.Broadcast, error) {
	if err := f.check("CreateBroadcast"); err != nil {
		return storage.Broadcast{}, err
	}
	return f.store.CreateBroadcast(ctx, b)
}

// AddRecipients implements storage.BroadcastStore.
func (f *FailingBroadcasts) AddRecipients(ctx context.Context, id uint64, max int) (int, bool, error) {
	if err := f.check("AddRecipients"); err != nil {
		return 0, false, err
	}
	return f.store.AddRecipients(ctx, id, max)
}

// Broadcast implements storage.BroadcastStore.
func (f *FailingBroadcasts) Broadcast(ctx context.Context, id uint64) (storage.Broadcast, error) {
	if err := f.check("Broadcast"); err != nil {
		return storage.Broadcast{}, err
	}
	return f.store.Broadcast(ctx, id)
}

// RecentBroadcasts implements storage.BroadcastStore.
func (f *FailingBroadcasts) RecentBroadcasts(ctx context.Context, n int) ([]storage.Broadcast, error) {
	if err := f.check("RecentBroadcasts"); err != nil {
		return nil, err
	}
	return f.store.RecentBroadcasts(ctx, n)
}

// UnfinishedBroadcasts implements storage.BroadcastStore.
func (f *FailingBroadcasts) UnfinishedBroadcasts(ctx context.Context) ([]storage.Broadcast, error) {
	if err := f.check("UnfinishedBroadcasts"); err != nil {
		return nil, err
	}
	return f.store.UnfinishedBroadcasts(ctx)
}

// SetBroadcastStatus implements storage.BroadcastStore.
func (f *FailingBroadcasts) SetBroadcastStatus(ctx context.Context, id uint64, next storage.BroadcastStatus, now time.Time) (storage.Broadcast, error) {
	if err := f.check("SetBroadcastStatus"); err != nil {
		return storage.Broadcast{}, err
	}
	return f.store.SetBroadcastStatus(ctx, id, next, now)
}

// SetProgressMessage implements storage.BroadcastStore.
func (f *FailingBroadcasts) SetProgressMessage(ctx context.Context, id uint64, messageID int) error {
	if err := f.check("SetProgressMessage"); err != nil {
		return err
	}
	return f.store.SetProgressMessage(ctx, id, messageID)
}

// PendingRecipients implements storage.BroadcastStore.
func (f *FailingBroadcasts) PendingRecipients(ctx context.Context, id uint64, after int64, hasAfter bool, limit int) ([]storage.Recipient, error) {
	if err := f.check("PendingRecipients"); err != nil {
		return nil, err
	}
	return f.store.PendingRecipients(ctx, id, after, hasAfter, limit)
}

// ClaimDelivery implements storage.BroadcastStore.
func (f *FailingBroadcasts) ClaimDelivery(ctx context.Context, id uint64, chatID int64) (bool, error) {
	if err := f.check("ClaimDelivery"); err != nil {
		return false, err
	}
	return f.store.ClaimDelivery(ctx, id, chatID)
}

// SettleDelivery implements storage.BroadcastStore.
func (f *FailingBroadcasts) SettleDelivery(ctx context.Context, id uint64, chatID int64, state storage.DeliveryState) error {
	if err := f.check("SettleDelivery"); err != nil {
		return err
	}
	return f.store.SettleDelivery(ctx, id, chatID, state)
}

// AdvanceCursor implements storage.BroadcastStore.
func (f *FailingBroadcasts) AdvanceCursor(ctx context.Context, id uint64, chatID int64) error {
	if err := f.check("AdvanceCursor"); err != nil {
		return err
	}
	return f.store.AdvanceCursor(ctx, id, chatID)
}

// SettleStaleClaims implements storage.BroadcastStore.
func (f *FailingBroadcasts) SettleStaleClaims(ctx context.Context, id uint64) (int, error) {
	if err := f.check("SettleStaleClaims"); err != nil {
		return 0, err
	}
	return f.store.SettleStaleClaims(ctx, id)
}

var _ storage.BroadcastStore = (*FailingBroadcasts)(nil)
