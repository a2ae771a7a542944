package storagetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"jastar/storage"
	"jastar/storage/boltdb"
)

// ErrInjected is the error a Failing store returns where a test asked for
// a failure and gave no error of its own: a disk that is full, a file that
// went read-only.
var ErrInjected = errors.New("injected database failure")

// Failing is a real store (a bbolt file in the test's directory) whose
// methods fail, stall or panic where a test says: the Nth call of a chosen
// method returns an error, every call from the Nth on does, or a call
// blocks until released. It is how tests see what the bot does when the
// database fails: a clear answer to the person, nothing half-written, no
// spin. Methods not told to fail are the real store's.
//
// Each method that takes a context and returns an error is wrapped below
// (TestFailing_WrapsEveryMethod keeps the list whole); the broadcast
// runner's methods are in failing_broadcasts.go, those of a center's staff
// in failing_centers.go, the poll store's in failing_polls.go.
type Failing struct {
	*boltdb.DB
	t testing.TB

	mu    sync.Mutex
	calls map[string]int
	rules map[string][]*rule
}

// rule is one injected behaviour of a method.
type rule struct {
	from, to int   // the calls (1-based, counted from the store's opening) it applies to; to 0 = no end
	err      error // returned instead of calling the store
	panicMsg any   // panicked with instead, when not nil
	block    chan struct{}
	entered  chan struct{} // closed at the first call that blocks
	once     sync.Once
}

// NewFailing wraps a fresh database (Open) in a Failing store.
func NewFailing(t testing.TB) *Failing {
	t.Helper()
	return Wrap(t, Open(t))
}

// Wrap wraps db, which the test opened, in a Failing store.
func Wrap(t testing.TB, db *boltdb.DB) *Failing {
	return &Failing{DB: db, t: t, calls: map[string]int{}, rules: map[string][]*rule{}}
}

// FailOn makes the nth call of method (counting every call since the store
// was wrapped, 1-based) return err (ErrInjected when nil), without touching
// the database.
func (f *Failing) FailOn(method string, n int, err error) {
	f.add(method, &rule{from: n, to: n, err: orInjected(err)})
}

// FailFrom makes every call of method from the nth on fail with err
// (ErrInjected when nil): a disk that stays full.
func (f *Failing) FailFrom(method string, n int, err error) {
	f.add(method, &rule{from: n, err: orInjected(err)})
}

// PanicOn makes the nth call of method panic with msg: a bug in a caller's
// data that surfaces in the store, for tests of panic recovery.
func (f *Failing) PanicOn(method string, n int, msg any) {
	f.add(method, &rule{from: n, to: n, panicMsg: msg})
}

// Stall makes the nth call of method wait before it runs until release is
// called or its context ends (then it returns the context's error): a
// slow disk. entered is closed when the call starts waiting.
func (f *Failing) Stall(method string, n int) (entered <-chan struct{}, release func()) {
	r := &rule{from: n, to: n, block: make(chan struct{}), entered: make(chan struct{})}
	f.add(method, r)
	var once sync.Once
	return r.entered, func() { once.Do(func() { close(r.block) }) }
}

// Calls reports how many times method was called, failed calls included.
func (f *Failing) Calls(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// Heal removes every injected behaviour; the store works again.
func (f *Failing) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.rules)
}

func (f *Failing) add(method string, r *rule) {
	f.t.Helper()
	if !slices.Contains(failingMethods, method) {
		f.t.Fatalf("storagetest.Failing cannot inject into %s: not a wrapped method (see failing.go)", method)
	}
	if r.from < 1 {
		f.t.Fatalf("storagetest.Failing: call %d of %s: calls count from 1", r.from, method)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules[method] = append(f.rules[method], r)
}

func orInjected(err error) error {
	if err == nil {
		return ErrInjected
	}
	return err
}

// before counts a call of method and plays the rule that applies to it:
// an error to return, a panic, or a wait.
func (f *Failing) before(ctx context.Context, method string) error {
	f.mu.Lock()
	f.calls[method]++
	n := f.calls[method]
	var match *rule
	for _, r := range f.rules[method] {
		if n >= r.from && (r.to == 0 || n <= r.to) {
			match = r
		}
	}
	f.mu.Unlock()
	switch {
	case match == nil:
		return nil
	case match.panicMsg != nil:
		panic(match.panicMsg)
	case match.block != nil:
		match.once.Do(func() { close(match.entered) })
		select {
		case <-match.block:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return fmt.Errorf("%s (call %d): %w", method, n, match.err)
}

// failingMethods are the methods Failing wraps.
var failingMethods = []string{
	"Accept",
	"AddClosure",
	"AddExtraSession",
	"AddReminders",
	"AllBookingsOf",
	"AllBookingsOn",
	"AnswerPoll",
	"Book",
	"Booking",
	"BookingsOf",
	"BookingsOn",
	"Cancel",
	"CancelEvent",
	"Card",
	"Cards",
	"Changes",
	"ClaimNotices",
	"ClaimReminder",
	"ClosePoll",
	"Closure",
	"Closures",
	"Conversation",
	"CountAudience",
	"CountSubscribers",
	"CreateEvent",
	"CreatePoll",
	"DeleteConversation",
	"DeleteDraft",
	"DeliveriesOf",
	"Done",
	"DropExpiredConversations",
	"DropReminder",
	"DuePolls",
	"DueReminders",
	"Erase",
	"Event",
	"EventRegistrations",
	"EventSubscribers",
	"ExpireConversations",
	"ExtraSession",
	"ExtraSessionBookings",
	"ExtraSessions",
	"Feedback",
	"FeedbackSince",
	"Forget",
	"ForgetHandled",
	"ForgetUncertainReminders",
	"MarkStaffNotified",
	"Offset",
	"Pending",
	"PersonRegistrations",
	"Ping",
	"Poll",
	"PollAnswer",
	"PollAnswersOf",
	"PollTally",
	"PreviewClosure",
	"PutBackReminders",
	"RecentPolls",
	"Register",
	"Registration",
	"RemindersOf",
	"RemoveExtraSession",
	"Reopen",
	"Reschedule",
	"ResetCard",
	"SaveConversation",
	"SaveFeedbackComment",
	"SaveRating",
	"SaveSubscription",
	"SaveUser",
	"SeedEvents",
	"SendPoll",
	"SendPollSummary",
	"SetCard",
	"SetStatus",
	"SettleInFlightReminders",
	"SettleReminder",
	"SlotCounts",
	"Subscription",
	"UncertainReminders",
	"Unregister",
	"Unseen",
	"Unsubscribe",
	"UpcomingEvents",
	"UpdateEvent",
	"UpdateUser",
	"User",
	"WalkPollAnswers",
	"WriteBackup",
}

// Accept is (*boltdb.DB).Accept, or the injected failure.
func (f *Failing) Accept(ctx context.Context, updates []storage.RawUpdate, nextOffset int, now time.Time) ([]storage.RawUpdate, error) {
	if err := f.before(ctx, "Accept"); err != nil {
		var r0 []storage.RawUpdate
		return r0, err
	}
	return f.DB.Accept(ctx, updates, nextOffset, now)
}

// AddReminders is (*boltdb.DB).AddReminders, or the injected failure.
func (f *Failing) AddReminders(ctx context.Context, rs []storage.Reminder) error {
	if err := f.before(ctx, "AddReminders"); err != nil {
		return err
	}
	return f.DB.AddReminders(ctx, rs)
}

// AllBookingsOf is (*boltdb.DB).AllBookingsOf, or the injected failure.
func (f *Failing) AllBookingsOf(ctx context.Context, chatID int64) ([]storage.Booking, error) {
	if err := f.before(ctx, "AllBookingsOf"); err != nil {
		var r0 []storage.Booking
		return r0, err
	}
	return f.DB.AllBookingsOf(ctx, chatID)
}

// AllBookingsOn is (*boltdb.DB).AllBookingsOn, or the injected failure.
func (f *Failing) AllBookingsOn(ctx context.Context, from time.Time, to time.Time) ([]storage.Booking, error) {
	if err := f.before(ctx, "AllBookingsOn"); err != nil {
		var r0 []storage.Booking
		return r0, err
	}
	return f.DB.AllBookingsOn(ctx, from, to)
}

// Book is (*boltdb.DB).Book, or the injected failure.
func (f *Failing) Book(ctx context.Context, b storage.Booking, rules storage.BookRules) (storage.Booking, error) {
	if err := f.before(ctx, "Book"); err != nil {
		var r0 storage.Booking
		return r0, err
	}
	return f.DB.Book(ctx, b, rules)
}

// Booking is (*boltdb.DB).Booking, or the injected failure.
func (f *Failing) Booking(ctx context.Context, id uint64) (storage.Booking, error) {
	if err := f.before(ctx, "Booking"); err != nil {
		var r0 storage.Booking
		return r0, err
	}
	return f.DB.Booking(ctx, id)
}

// BookingsOf is (*boltdb.DB).BookingsOf, or the injected failure.
func (f *Failing) BookingsOf(ctx context.Context, chatID int64, from time.Time) ([]storage.Booking, error) {
	if err := f.before(ctx, "BookingsOf"); err != nil {
		var r0 []storage.Booking
		return r0, err
	}
	return f.DB.BookingsOf(ctx, chatID, from)
}

// BookingsOn is (*boltdb.DB).BookingsOn, or the injected failure.
func (f *Failing) BookingsOn(ctx context.Context, centerIDs []string, from time.Time, to time.Time) ([]storage.Booking, error) {
	if err := f.before(ctx, "BookingsOn"); err != nil {
		var r0 []storage.Booking
		return r0, err
	}
	return f.DB.BookingsOn(ctx, centerIDs, from, to)
}

// Cancel is (*boltdb.DB).Cancel, or the injected failure.
func (f *Failing) Cancel(ctx context.Context, id uint64, reason string, now time.Time) (storage.Booking, error) {
	if err := f.before(ctx, "Cancel"); err != nil {
		var r0 storage.Booking
		return r0, err
	}
	return f.DB.Cancel(ctx, id, reason, now)
}

// CancelEvent is (*boltdb.DB).CancelEvent, or the injected failure.
func (f *Failing) CancelEvent(ctx context.Context, id uint64, now time.Time) (storage.Event, []storage.Registration, error) {
	if err := f.before(ctx, "CancelEvent"); err != nil {
		var r0 storage.Event
		var r1 []storage.Registration
		return r0, r1, err
	}
	return f.DB.CancelEvent(ctx, id, now)
}

// ClaimNotices is (*boltdb.DB).ClaimNotices, or the injected failure.
func (f *Failing) ClaimNotices(ctx context.Context, eventID uint64, chatID int64) ([]storage.Reminder, error) {
	if err := f.before(ctx, "ClaimNotices"); err != nil {
		var r0 []storage.Reminder
		return r0, err
	}
	return f.DB.ClaimNotices(ctx, eventID, chatID)
}

// ClaimReminder is (*boltdb.DB).ClaimReminder, or the injected failure.
func (f *Failing) ClaimReminder(ctx context.Context, id uint64) (storage.Reminder, error) {
	if err := f.before(ctx, "ClaimReminder"); err != nil {
		var r0 storage.Reminder
		return r0, err
	}
	return f.DB.ClaimReminder(ctx, id)
}

// Conversation is (*boltdb.DB).Conversation, or the injected failure.
func (f *Failing) Conversation(ctx context.Context, chatID int64) (storage.Conversation, error) {
	if err := f.before(ctx, "Conversation"); err != nil {
		var r0 storage.Conversation
		return r0, err
	}
	return f.DB.Conversation(ctx, chatID)
}

// CountAudience is (*boltdb.DB).CountAudience, or the injected failure.
func (f *Failing) CountAudience(ctx context.Context, a storage.Audience) (int, error) {
	if err := f.before(ctx, "CountAudience"); err != nil {
		var r0 int
		return r0, err
	}
	return f.DB.CountAudience(ctx, a)
}

// CountSubscribers is (*boltdb.DB).CountSubscribers, or the injected failure.
func (f *Failing) CountSubscribers(ctx context.Context) (storage.SubscriberCounts, error) {
	if err := f.before(ctx, "CountSubscribers"); err != nil {
		var r0 storage.SubscriberCounts
		return r0, err
	}
	return f.DB.CountSubscribers(ctx)
}

// CreateEvent is (*boltdb.DB).CreateEvent, or the injected failure.
func (f *Failing) CreateEvent(ctx context.Context, e storage.Event) (storage.Event, error) {
	if err := f.before(ctx, "CreateEvent"); err != nil {
		var r0 storage.Event
		return r0, err
	}
	return f.DB.CreateEvent(ctx, e)
}

// DeleteConversation is (*boltdb.DB).DeleteConversation, or the injected failure.
func (f *Failing) DeleteConversation(ctx context.Context, chatID int64) error {
	if err := f.before(ctx, "DeleteConversation"); err != nil {
		return err
	}
	return f.DB.DeleteConversation(ctx, chatID)
}

// DeliveriesOf is (*boltdb.DB).DeliveriesOf, or the injected failure.
func (f *Failing) DeliveriesOf(ctx context.Context, chatID int64) ([]storage.Delivery, error) {
	if err := f.before(ctx, "DeliveriesOf"); err != nil {
		var r0 []storage.Delivery
		return r0, err
	}
	return f.DB.DeliveriesOf(ctx, chatID)
}

// Done is (*boltdb.DB).Done, or the injected failure.
func (f *Failing) Done(ctx context.Context, updateIDs []int, now time.Time) error {
	if err := f.before(ctx, "Done"); err != nil {
		return err
	}
	return f.DB.Done(ctx, updateIDs, now)
}

// DropExpiredConversations is (*boltdb.DB).DropExpiredConversations, or the injected failure.
func (f *Failing) DropExpiredConversations(ctx context.Context, cutoff time.Time) (int, error) {
	if err := f.before(ctx, "DropExpiredConversations"); err != nil {
		var r0 int
		return r0, err
	}
	return f.DB.DropExpiredConversations(ctx, cutoff)
}

// DropReminder is (*boltdb.DB).DropReminder, or the injected failure.
func (f *Failing) DropReminder(ctx context.Context, id uint64) error {
	if err := f.before(ctx, "DropReminder"); err != nil {
		return err
	}
	return f.DB.DropReminder(ctx, id)
}

// DueReminders is (*boltdb.DB).DueReminders, or the injected failure.
func (f *Failing) DueReminders(ctx context.Context, now time.Time, after storage.Reminder, limit int) ([]storage.Reminder, error) {
	if err := f.before(ctx, "DueReminders"); err != nil {
		var r0 []storage.Reminder
		return r0, err
	}
	return f.DB.DueReminders(ctx, now, after, limit)
}

// Erase is (*boltdb.DB).Erase, or the injected failure.
func (f *Failing) Erase(ctx context.Context, updateID int, now time.Time) error {
	if err := f.before(ctx, "Erase"); err != nil {
		return err
	}
	return f.DB.Erase(ctx, updateID, now)
}

// Event is (*boltdb.DB).Event, or the injected failure.
func (f *Failing) Event(ctx context.Context, id uint64) (storage.Event, error) {
	if err := f.before(ctx, "Event"); err != nil {
		var r0 storage.Event
		return r0, err
	}
	return f.DB.Event(ctx, id)
}

// EventRegistrations is (*boltdb.DB).EventRegistrations, or the injected failure.
func (f *Failing) EventRegistrations(ctx context.Context, eventID uint64) ([]storage.Registration, error) {
	if err := f.before(ctx, "EventRegistrations"); err != nil {
		var r0 []storage.Registration
		return r0, err
	}
	return f.DB.EventRegistrations(ctx, eventID)
}

// EventSubscribers is (*boltdb.DB).EventSubscribers, or the injected failure.
func (f *Failing) EventSubscribers(ctx context.Context, fn func(chatID int64, lang, districtID string) error) error {
	if err := f.before(ctx, "EventSubscribers"); err != nil {
		return err
	}
	return f.DB.EventSubscribers(ctx, fn)
}

// ExpireConversations is (*boltdb.DB).ExpireConversations, or the injected failure.
func (f *Failing) ExpireConversations(ctx context.Context, cutoff time.Time) (int, error) {
	if err := f.before(ctx, "ExpireConversations"); err != nil {
		var r0 int
		return r0, err
	}
	return f.DB.ExpireConversations(ctx, cutoff)
}

// Feedback is (*boltdb.DB).Feedback, or the injected failure.
func (f *Failing) Feedback(ctx context.Context, bookingID uint64) (storage.Feedback, error) {
	if err := f.before(ctx, "Feedback"); err != nil {
		var r0 storage.Feedback
		return r0, err
	}
	return f.DB.Feedback(ctx, bookingID)
}

// FeedbackSince is (*boltdb.DB).FeedbackSince, or the injected failure.
func (f *Failing) FeedbackSince(ctx context.Context, from time.Time, fn func(storage.Feedback) error) error {
	if err := f.before(ctx, "FeedbackSince"); err != nil {
		return err
	}
	return f.DB.FeedbackSince(ctx, from, fn)
}

// Forget is (*boltdb.DB).Forget, or the injected failure.
func (f *Failing) Forget(ctx context.Context, chatID int64) (storage.ForgetReport, error) {
	if err := f.before(ctx, "Forget"); err != nil {
		var r0 storage.ForgetReport
		return r0, err
	}
	return f.DB.Forget(ctx, chatID)
}

// ForgetHandled is (*boltdb.DB).ForgetHandled, or the injected failure.
func (f *Failing) ForgetHandled(ctx context.Context, cutoff time.Time) (int, error) {
	if err := f.before(ctx, "ForgetHandled"); err != nil {
		var r0 int
		return r0, err
	}
	return f.DB.ForgetHandled(ctx, cutoff)
}

// ForgetUncertainReminders is (*boltdb.DB).ForgetUncertainReminders, or the injected failure.
func (f *Failing) ForgetUncertainReminders(ctx context.Context, ids []uint64) error {
	if err := f.before(ctx, "ForgetUncertainReminders"); err != nil {
		return err
	}
	return f.DB.ForgetUncertainReminders(ctx, ids)
}

// MarkStaffNotified is (*boltdb.DB).MarkStaffNotified, or the injected failure.
func (f *Failing) MarkStaffNotified(ctx context.Context, seen storage.Booking) (bool, error) {
	if err := f.before(ctx, "MarkStaffNotified"); err != nil {
		var r0 bool
		return r0, err
	}
	return f.DB.MarkStaffNotified(ctx, seen)
}

// Offset is (*boltdb.DB).Offset, or the injected failure.
func (f *Failing) Offset(ctx context.Context) (int, time.Time, error) {
	if err := f.before(ctx, "Offset"); err != nil {
		var r0 int
		var r1 time.Time
		return r0, r1, err
	}
	return f.DB.Offset(ctx)
}

// Pending is (*boltdb.DB).Pending, or the injected failure.
func (f *Failing) Pending(ctx context.Context) ([]storage.RawUpdate, error) {
	if err := f.before(ctx, "Pending"); err != nil {
		var r0 []storage.RawUpdate
		return r0, err
	}
	return f.DB.Pending(ctx)
}

// PersonRegistrations is (*boltdb.DB).PersonRegistrations, or the injected failure.
func (f *Failing) PersonRegistrations(ctx context.Context, chatID int64) ([]storage.Registration, error) {
	if err := f.before(ctx, "PersonRegistrations"); err != nil {
		var r0 []storage.Registration
		return r0, err
	}
	return f.DB.PersonRegistrations(ctx, chatID)
}

// Ping is (*boltdb.DB).Ping, or the injected failure.
func (f *Failing) Ping(ctx context.Context) error {
	if err := f.before(ctx, "Ping"); err != nil {
		return err
	}
	return f.DB.Ping(ctx)
}

// PutBackReminders is (*boltdb.DB).PutBackReminders, or the injected failure.
func (f *Failing) PutBackReminders(ctx context.Context, rs []storage.Reminder) error {
	if err := f.before(ctx, "PutBackReminders"); err != nil {
		return err
	}
	return f.DB.PutBackReminders(ctx, rs)
}

// Register is (*boltdb.DB).Register, or the injected failure.
func (f *Failing) Register(ctx context.Context, eventID uint64, chatID int64, now time.Time, rem storage.ReminderPolicy) (storage.Registration, storage.Event, error) {
	if err := f.before(ctx, "Register"); err != nil {
		var r0 storage.Registration
		var r1 storage.Event
		return r0, r1, err
	}
	return f.DB.Register(ctx, eventID, chatID, now, rem)
}

// Registration is (*boltdb.DB).Registration, or the injected failure.
func (f *Failing) Registration(ctx context.Context, eventID uint64, chatID int64) (storage.Registration, error) {
	if err := f.before(ctx, "Registration"); err != nil {
		var r0 storage.Registration
		return r0, err
	}
	return f.DB.Registration(ctx, eventID, chatID)
}

// RemindersOf is (*boltdb.DB).RemindersOf, or the injected failure.
func (f *Failing) RemindersOf(ctx context.Context, bookingID uint64) ([]storage.Reminder, error) {
	if err := f.before(ctx, "RemindersOf"); err != nil {
		var r0 []storage.Reminder
		return r0, err
	}
	return f.DB.RemindersOf(ctx, bookingID)
}

// Reschedule is (*boltdb.DB).Reschedule, or the injected failure.
func (f *Failing) Reschedule(ctx context.Context, id uint64, start time.Time, end time.Time, rules storage.BookRules) (storage.Booking, storage.Booking, error) {
	if err := f.before(ctx, "Reschedule"); err != nil {
		var r0 storage.Booking
		var r1 storage.Booking
		return r0, r1, err
	}
	return f.DB.Reschedule(ctx, id, start, end, rules)
}

// SaveConversation is (*boltdb.DB).SaveConversation, or the injected failure.
func (f *Failing) SaveConversation(ctx context.Context, c storage.Conversation) error {
	if err := f.before(ctx, "SaveConversation"); err != nil {
		return err
	}
	return f.DB.SaveConversation(ctx, c)
}

// SaveFeedbackComment is (*boltdb.DB).SaveFeedbackComment, or the injected failure.
func (f *Failing) SaveFeedbackComment(ctx context.Context, bookingID uint64, comment string) error {
	if err := f.before(ctx, "SaveFeedbackComment"); err != nil {
		return err
	}
	return f.DB.SaveFeedbackComment(ctx, bookingID, comment)
}

// SaveRating is (*boltdb.DB).SaveRating, or the injected failure.
func (f *Failing) SaveRating(ctx context.Context, p1 storage.Feedback) (storage.Feedback, error) {
	if err := f.before(ctx, "SaveRating"); err != nil {
		var r0 storage.Feedback
		return r0, err
	}
	return f.DB.SaveRating(ctx, p1)
}

// SaveSubscription is (*boltdb.DB).SaveSubscription, or the injected failure.
func (f *Failing) SaveSubscription(ctx context.Context, s storage.Subscription) error {
	if err := f.before(ctx, "SaveSubscription"); err != nil {
		return err
	}
	return f.DB.SaveSubscription(ctx, s)
}

// SaveUser is (*boltdb.DB).SaveUser, or the injected failure.
func (f *Failing) SaveUser(ctx context.Context, u storage.User) error {
	if err := f.before(ctx, "SaveUser"); err != nil {
		return err
	}
	return f.DB.SaveUser(ctx, u)
}

// SeedEvents is (*boltdb.DB).SeedEvents, or the injected failure.
func (f *Failing) SeedEvents(ctx context.Context, seeds []storage.Event) (int, error) {
	if err := f.before(ctx, "SeedEvents"); err != nil {
		var r0 int
		return r0, err
	}
	return f.DB.SeedEvents(ctx, seeds)
}

// SetStatus is (*boltdb.DB).SetStatus, or the injected failure.
func (f *Failing) SetStatus(ctx context.Context, id uint64, status storage.BookingStatus, now time.Time) (storage.Booking, error) {
	if err := f.before(ctx, "SetStatus"); err != nil {
		var r0 storage.Booking
		return r0, err
	}
	return f.DB.SetStatus(ctx, id, status, now)
}

// SettleInFlightReminders is (*boltdb.DB).SettleInFlightReminders, or the injected failure.
func (f *Failing) SettleInFlightReminders(ctx context.Context) ([]storage.Reminder, error) {
	if err := f.before(ctx, "SettleInFlightReminders"); err != nil {
		var r0 []storage.Reminder
		return r0, err
	}
	return f.DB.SettleInFlightReminders(ctx)
}

// SettleReminder is (*boltdb.DB).SettleReminder, or the injected failure.
func (f *Failing) SettleReminder(ctx context.Context, id uint64, uncertain bool) error {
	if err := f.before(ctx, "SettleReminder"); err != nil {
		return err
	}
	return f.DB.SettleReminder(ctx, id, uncertain)
}

// SlotCounts is (*boltdb.DB).SlotCounts, or the injected failure.
func (f *Failing) SlotCounts(ctx context.Context, centerID string, typeID string, from time.Time, to time.Time) (map[int64]int, error) {
	if err := f.before(ctx, "SlotCounts"); err != nil {
		var r0 map[int64]int
		return r0, err
	}
	return f.DB.SlotCounts(ctx, centerID, typeID, from, to)
}

// Subscription is (*boltdb.DB).Subscription, or the injected failure.
func (f *Failing) Subscription(ctx context.Context, chatID int64) (storage.Subscription, error) {
	if err := f.before(ctx, "Subscription"); err != nil {
		var r0 storage.Subscription
		return r0, err
	}
	return f.DB.Subscription(ctx, chatID)
}

// UncertainReminders is (*boltdb.DB).UncertainReminders, or the injected failure.
func (f *Failing) UncertainReminders(ctx context.Context) ([]storage.Reminder, error) {
	if err := f.before(ctx, "UncertainReminders"); err != nil {
		var r0 []storage.Reminder
		return r0, err
	}
	return f.DB.UncertainReminders(ctx)
}

// Unregister is (*boltdb.DB).Unregister, or the injected failure.
func (f *Failing) Unregister(ctx context.Context, eventID uint64, chatID int64, now time.Time, rem storage.ReminderPolicy) (storage.Event, *storage.Registration, error) {
	if err := f.before(ctx, "Unregister"); err != nil {
		var r0 storage.Event
		var r1 *storage.Registration
		return r0, r1, err
	}
	return f.DB.Unregister(ctx, eventID, chatID, now, rem)
}

// Unseen is (*boltdb.DB).Unseen, or the injected failure.
func (f *Failing) Unseen(ctx context.Context, updates []storage.RawUpdate) ([]storage.RawUpdate, error) {
	if err := f.before(ctx, "Unseen"); err != nil {
		var r0 []storage.RawUpdate
		return r0, err
	}
	return f.DB.Unseen(ctx, updates)
}

// Unsubscribe is (*boltdb.DB).Unsubscribe, or the injected failure.
func (f *Failing) Unsubscribe(ctx context.Context, chatID int64, now time.Time) (bool, error) {
	if err := f.before(ctx, "Unsubscribe"); err != nil {
		var r0 bool
		return r0, err
	}
	return f.DB.Unsubscribe(ctx, chatID, now)
}

// UpcomingEvents is (*boltdb.DB).UpcomingEvents, or the injected failure.
func (f *Failing) UpcomingEvents(ctx context.Context, p1 storage.EventFilter, offset int, limit int) ([]storage.Event, int, error) {
	if err := f.before(ctx, "UpcomingEvents"); err != nil {
		var r0 []storage.Event
		var r1 int
		return r0, r1, err
	}
	return f.DB.UpcomingEvents(ctx, p1, offset, limit)
}

// UpdateEvent is (*boltdb.DB).UpdateEvent, or the injected failure.
func (f *Failing) UpdateEvent(ctx context.Context, id uint64, change func(*storage.Event) error, rem storage.ReminderPolicy, now time.Time) (storage.Event, []storage.Registration, error) {
	if err := f.before(ctx, "UpdateEvent"); err != nil {
		var r0 storage.Event
		var r1 []storage.Registration
		return r0, r1, err
	}
	return f.DB.UpdateEvent(ctx, id, change, rem, now)
}

// UpdateUser is (*boltdb.DB).UpdateUser, or the injected failure.
func (f *Failing) UpdateUser(ctx context.Context, chatID int64, change func(*storage.User) error) (storage.User, error) {
	if err := f.before(ctx, "UpdateUser"); err != nil {
		var r0 storage.User
		return r0, err
	}
	return f.DB.UpdateUser(ctx, chatID, change)
}

// User is (*boltdb.DB).User, or the injected failure.
func (f *Failing) User(ctx context.Context, chatID int64) (storage.User, error) {
	if err := f.before(ctx, "User"); err != nil {
		var r0 storage.User
		return r0, err
	}
	return f.DB.User(ctx, chatID)
}

// WriteBackup is (*boltdb.DB).WriteBackup, or the injected failure.
func (f *Failing) WriteBackup(ctx context.Context, w io.Writer) (int64, error) {
	if err := f.before(ctx, "WriteBackup"); err != nil {
		var r0 int64
		return r0, err
	}
	return f.DB.WriteBackup(ctx, w)
}
