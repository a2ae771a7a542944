package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"jastar/bot/loadtest"
	"jastar/bot/rehearsal"
	"jastar/locales"
	"jastar/storage/catalog"
)

// testTexts are the bot's texts, parsed once for the tests that read them
// (parsing both languages' files costs tens of milliseconds of race-built
// CPU each time; the bots the tests run still load their own, as main.go
// does).
var testTexts = sync.OnceValues(locales.Load)

// inProcessBot runs the real program in this process, for a quick load
// smoke test (the load command runs it as a child process instead).
type inProcessBot struct {
	addr   string
	cancel context.CancelFunc
	done   chan error
}

func (b *inProcessBot) Stop() error            { b.cancel(); return <-b.done }
func (b *inProcessBot) PeakRSS() int64         { return 0 }
func (b *inProcessBot) CPU() time.Duration     { return 0 }
func (b *inProcessBot) DBSize() int64          { return 0 }
func (b *inProcessBot) Errors() (int64, error) { return loadtest.MetricErrors(b.addr) }

// rehearsedDates are the moments the whole-path tests also run at, besides
// today: the suite must pass on any date, so each of these stands for a
// kind of day that once broke, or could break, a test leaning on dated
// content. See also bot.TestFlows_OnAnyDate.
var rehearsedDates = []struct{ name, at string }{
	{"in 2026", "2026-12-10 10:00"},
	{"after every example event", "2027-06-15"},
	{"leap day", "2028-02-29 09:30"},
	{"on Nauryz", "2027-03-22 12:00"},
	{"New Year's Eve late", "2029-12-31 23:10"},
}

func TestLoad_SmokeEveryAnswerArrives(t *testing.T) {
	t.Parallel()
	// Each date has its own bot, database and fake Bot API, so they run
	// side by side.
	// Today, every person plays the scenario twice: the second pass is
	// that of someone who comes back (language chosen, a cancelled booking
	// and a finished conversation in the database), which loadSmoke checks
	// was played to its end by each of them. Ten people at once keep the
	// bot's chats, workers and group commits busy side by side; a bigger
	// crowd would cost the suite seconds of CPU and check nothing more.
	t.Run("today", func(t *testing.T) { t.Parallel(); loadSmoke(t, "", 10, 2) })
	// At the other dates a smaller crowd: what could break there is the
	// date, not the load.
	for _, d := range rehearsedDates {
		t.Run(d.name, func(t *testing.T) { t.Parallel(); loadSmoke(t, d.at, 10, 1) })
	}
}

// loadSmoke runs the load scenario against the bot in this process, its
// clock at the -now value at ("" for the real clock), with the events the
// load tool brings: the load tool's parts, with the bot main wires.
func loadSmoke(t *testing.T, at string, users, iterations int) {
	addr := freeAddr(t)
	texts, err := testTexts()
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "load.db")
	loc, err := time.LoadLocation(loadtest.Zone)
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.Default(loc)
	began := time.Now()
	args := []string{"run"}
	if at != "" {
		if began, err = rehearsal.Parse(at, loc); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-now", at)
	}
	tool := loadtest.Command{Open: openLoadStore}
	if err := tool.PrepareDB(context.Background(), dbPath, began, cat); err != nil {
		t.Fatal(err)
	}
	closure, err := tool.PrepareClosure(context.Background(), dbPath, began, cat)
	if err != nil {
		t.Fatal(err)
	}
	opts := loadtest.Options{
		Users: users, Concurrency: users, Iterations: iterations, Timeout: 30 * time.Second, Scenario: loadtest.Realistic(texts),
		StaffChats: loadtest.StaffChats(cat), StaffNotice: loadtest.StaffNotice(texts),
		Closure: closure, ClosureNotice: loadtest.ClosureNotice(texts),
		StartBot: func(ctx context.Context, apiURL, token string) (loadtest.Bot, error) {
			ctx, cancel := context.WithCancel(ctx)
			b := &inProcessBot{addr: addr, cancel: cancel, done: make(chan error, 1)}
			environ := map[string]string{
				"TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_URL": apiURL, "JASTAR_HTTP_ADDR": addr,
				"JASTAR_DB": dbPath, "JASTAR_SEND_RATE": "0", "JASTAR_CHAT_RATE": "0", "JASTAR_GROUP_RATE": "0",
				"JASTAR_TIMEZONE": loadtest.Zone, "JASTAR_STAFF_CHAT_ID": strconv.FormatInt(loadtest.StaffChat, 10),
				"JASTAR_ADMIN_IDS": strconv.Itoa(loadtest.Closer),
			}
			go func() { b.done <- run(ctx, args, env(environ), io.Discard, io.Discard) }()
			// Ready, or stopped with its error. The bound is generous: on a
			// busy machine (the other dates run beside this one) the bot
			// may take seconds to start.
			ready, cancelReady := context.WithTimeout(ctx, time.Minute)
			defer cancelReady()
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
					resp.Body.Close()
					if resp.StatusCode == 200 {
						return b, nil
					}
				}
				select {
				case err := <-b.done:
					return nil, fmt.Errorf("the bot stopped before it was ready: %v", err)
				case <-ready.Done():
					b.Stop()
					return nil, fmt.Errorf("bot never ready: %w", ready.Err())
				case <-tick.C:
				}
			}
		},
	}
	rep, err := loadtest.Run(context.Background(), "bot", opts)
	if err != nil {
		t.Fatal(err)
	}
	scenarios := int64(users * iterations)
	want := scenarios * int64(len(loadtest.Realistic(texts)))
	if rep.Missing != 0 || len(rep.FailedStep) != 0 || rep.Scenarios != scenarios || rep.Bookings+rep.SlotTaken != scenarios ||
		(rep.SlotTaken == 0 && rep.Updates != want) {
		t.Errorf("report = %s; want %d updates answered in %d scenarios and nothing missing", rep, want, scenarios)
	}
	// Every person played to the end once more after their first
	// scenario: nobody's return was cut short by what their first pass
	// left behind (the booking limit, a stale conversation).
	if returning := int64(users * (iterations - 1)); rep.Returning != returning {
		t.Errorf("report = %s; want %d scenarios played to their end by people coming back", rep, returning)
	}
	if rep.Errors != 0 || rep.Unanswered != 0 {
		t.Errorf("report = %s; want no errors and every press answered", rep)
	}
	cc, err := tool.CheckCapacity(context.Background(), dbPath, cat, began)
	if err != nil {
		t.Fatal(err)
	}
	if len(cc.Over) != 0 || int64(cc.Made) != rep.Bookings || rep.Notices != rep.Bookings {
		t.Errorf("capacity check %+v, %d staff notices; want %d bookings made, each noticed, none over capacity", cc, rep.Notices, rep.Bookings)
	}
	// Halfway, a staff member closed an afternoon through /close: every
	// person booked in it was cancelled and told once, and nobody is
	// booked inside it.
	if !rep.Closed || cc.Closures != 1 || len(cc.InsideClosed) != 0 || len(cc.ClosedCancelled) != len(closure.Victims) {
		t.Errorf("closure under load: made %v, %d in force, inside %q, %d people cancelled; want 1 made, nobody inside, the %d booked in it cancelled",
			rep.Closed, cc.Closures, cc.InsideClosed, len(cc.ClosedCancelled), len(closure.Victims))
	}
	for _, chat := range closure.Victims {
		if rep.Told[chat] != 1 || cc.ClosedCancelled[chat] != 1 {
			t.Errorf("chat %d booked in the closed time: told %d times of %d cancellations, want once of one", chat, rep.Told[chat], cc.ClosedCancelled[chat])
		}
	}
	if err := loadtest.Verdict(rep, loadtest.Report{}, cc); err != nil {
		t.Errorf("verdict: %v", err)
	}
}
