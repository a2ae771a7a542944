package storagetest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"jastar/storage"
	"jastar/storage/boltdb"
)

// broadcastRunnerMethods are wrapped in failing_broadcasts.go, not here.
var broadcastRunnerMethods = []string{
	"CreateBroadcast", "AddRecipients", "Broadcast", "RecentBroadcasts", "UnfinishedBroadcasts", "SetBroadcastStatus",
	"SetProgressMessage", "PendingRecipients", "ClaimDelivery", "SettleDelivery", "AdvanceCursor", "SettleStaleClaims",
}

// TestFailing_WrapsEveryMethod: a store method added to boltdb without a
// wrapper here would silently never fail in tests.
func TestFailing_WrapsEveryMethod(t *testing.T) {
	t.Parallel()
	ctxType := reflect.TypeFor[context.Context]()
	errType := reflect.TypeFor[error]()
	typ := reflect.TypeFor[*boltdb.DB]()
	for i := range typ.NumMethod() {
		m := typ.Method(i)
		ft := m.Type
		if ft.NumIn() < 2 || ft.In(1) != ctxType || ft.NumOut() == 0 || ft.Out(ft.NumOut()-1) != errType {
			continue
		}
		if !slices.Contains(failingMethods, m.Name) && !slices.Contains(broadcastRunnerMethods, m.Name) {
			t.Errorf("(*boltdb.DB).%s takes a context and returns an error but Failing does not wrap it", m.Name)
		}
	}
}

func TestFailing_InjectsWhereAsked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := NewFailing(t)
	u := storage.User{ChatID: 1, Lang: storage.Kazakh, Active: true}
	f.FailOn("SaveUser", 2, nil)
	if err := f.SaveUser(ctx, u); err != nil {
		t.Fatalf("first call = %v, want the real store", err)
	}
	if err := f.SaveUser(ctx, u); !errors.Is(err, ErrInjected) {
		t.Errorf("second call = %v, want ErrInjected", err)
	}
	if err := f.SaveUser(ctx, u); err != nil || f.Calls("SaveUser") != 3 {
		t.Errorf("third call = %v after %d calls, want the real store again", err, f.Calls("SaveUser"))
	}
	full := errors.New("no space left on device")
	f.FailFrom("User", 1, full)
	for range 3 {
		if _, err := f.User(ctx, 1); !errors.Is(err, full) {
			t.Errorf("User = %v, want the disk-full error every time", err)
		}
	}
	f.Heal()
	if got, err := f.User(ctx, 1); err != nil || got.ChatID != 1 {
		t.Errorf("after Heal User = %+v, %v", got, err)
	}

	entered, release := f.Stall("User", 5)
	done := make(chan error, 1)
	go func() { _, err := f.User(ctx, 1); done <- err }()
	<-entered
	select {
	case err := <-done:
		t.Fatalf("a stalled call returned %v before its release", err)
	default:
	}
	release()
	if err := <-done; err != nil {
		t.Errorf("released call = %v", err)
	}
	stopped, stop := context.WithCancel(ctx)
	entered, _ = f.Stall("User", 6)
	go func() { _, err := f.User(stopped, 1); done <- err }()
	<-entered
	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("a stalled call whose context ended = %v, want context.Canceled", err)
	}

	f.PanicOn("User", 7, "boom")
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want the injected panic", p)
			}
		}()
		_, _ = f.User(ctx, 1)
	}()
}
