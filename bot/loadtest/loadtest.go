// Package loadtest drives simulated young people through the real bot over
// the fake Bot API and measures it: updates handled a second, end-to-end
// latency, memory and database size, against a bare echo loop on the same
// fake API as the ceiling this machine allows.
//
// Command is `jastar load`: it starts the bot it measures as `jastar run`
// in a child process (so its memory is its own) and reaches the bot's
// database through Command.Open, which main fills: this package never
// imports storage/boltdb. Run drives whatever bot Options.StartBot starts,
// which is how tests run the bot in their own process.
package loadtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"jastar/bot/ops"
	"jastar/bot/telegramtest"
)

// Bot is a running bot under test.
type Bot interface {
	// Stop ends the bot and waits for it.
	Stop() error
	// PeakRSS is the bot's peak resident memory in bytes (0 if unknown).
	PeakRSS() int64
	// DBSize is the size of its database file in bytes.
	DBSize() int64
	// CPU is the CPU time (user and system) the bot has used so far, 0
	// if unknown (a bot in the load tool's own process).
	CPU() time.Duration
	// Errors is how many updates the bot failed to handle plus how many
	// calls to Telegram it gave up on, as its own metrics count them.
	Errors() (int64, error)
}

// StartFunc starts a bot against the Bot API at apiURL with token and
// returns once it is ready to poll.
type StartFunc func(ctx context.Context, apiURL, token string) (Bot, error)

// Options shape a run.
type Options struct {
	Users       int           // simulated people
	Concurrency int           // people acting at the same time
	Duration    time.Duration // how long to drive traffic
	Iterations  int           // scenarios per person; 0 = until Duration
	Latency     time.Duration // the fake API's added latency per call
	Timeout     time.Duration // an answer later than this counts as missing
	StartBot    StartFunc
	Scenario    Scenario
	// StaffChats are group chats registered with the fake Bot API before
	// the bot starts, for its staff notifications; StaffNotice tells a
	// "new booking" notice among what the bot sends there.
	StaffChats  []int64
	StaffNotice func(telegramtest.Event) bool
	Out         io.Writer // progress lines; nil = none
	// Mix is the bot's calls per step, from a bot run's Report, for the
	// call-matched echo (mode "matched").
	Mix CallMix
	// Closure, when set, is closed by the Closer (an admin of the bot)
	// through /close halfway through a bot run, while people book;
	// ClosureNotice tells the cancellation a person then gets.
	Closure       *Closure
	ClosureNotice func(telegramtest.Event) bool
}

// Report is what a run measured.
type Report struct {
	Mode      string
	Updates   int64 // updates answered
	Missing   int64 // updates never answered within Timeout
	Elapsed   time.Duration
	P50       time.Duration
	P95       time.Duration
	P99       time.Duration
	Scenarios int64
	// Returning counts the scenarios played to their end by a person who
	// had already played one to its end: the pass of someone who comes
	// back, with their language, their cancelled booking and their
	// conversation already in the database.
	Returning int64
	Bookings  int64
	SlotTaken int64 // confirmations answered "taken meanwhile"
	PeakRSS   int64
	DBSize    int64
	// CPU is the bot's CPU time while traffic ran (0 if unknown): per
	// update, it is a measure of the bot's own cost that other work on the
	// same cores does not move, as it moves rates and latencies.
	CPU time.Duration
	// ToolCPU is the load tool's own CPU time while traffic ran (0 if
	// unknown): the fake Bot API and the simulated people, and in the echo
	// runs the echo too. Per update, it shows what the fake costs in each
	// run, so the bot's share can be read as CPU: the fake costs about as
	// much in the bot's run as in the echo's.
	ToolCPU    time.Duration
	StartUp    time.Duration // from start to the first getUpdates
	Errors     int64         // the bot's handler errors and send failures (Bot.Errors)
	Unanswered int64         // button presses whose callback query was never answered
	Notices    int64         // "new booking" notices the staff chats received
	FailedStep map[string]int64
	// SlowSteps are the steps with the highest p99, slowest first: where
	// the tail of the latency comes from.
	SlowSteps []StepLatency
	Mix       CallMix // a bot run's Bot API calls per step, for the call-matched echo
	// Calls counts the calls made in answer to updates, by method (not
	// getUpdates and the like).
	Calls map[string]int64
	// Closed is whether the closer's dialogue ran to its end (only when
	// Options.Closure is set); Told counts the cancellations by a closure
	// each chat received.
	Closing bool
	Closed  bool
	Told    map[int64]int
}

// PerSecond is the rate of answered updates.
func (r Report) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Updates) / r.Elapsed.Seconds()
}

func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d updates in %s = %.0f updates/s; latency p50 %s p95 %s p99 %s; missing %d",
		r.Mode, r.Updates, r.Elapsed.Round(time.Millisecond), r.PerSecond(),
		r.P50.Round(10*time.Microsecond), r.P95.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Missing)
	fmt.Fprintf(&b, "; presses unanswered %d", r.Unanswered)
	if r.Mode != "echo" {
		fmt.Fprintf(&b, "; scenarios %d (%d of people coming back); bookings made %d (slot taken meanwhile %d); staff notices %d; errors %d; peak RSS %.1f MB; database %.1f MB; start-up %s",
			r.Scenarios, r.Returning, r.Bookings, r.SlotTaken, r.Notices, r.Errors, float64(r.PeakRSS)/(1<<20), float64(r.DBSize)/(1<<20), r.StartUp.Round(time.Millisecond))
		if r.CPU > 0 && r.Updates > 0 {
			fmt.Fprintf(&b, "; bot CPU %.0f µs/update", float64(r.CPU.Microseconds())/float64(r.Updates))
		}
	}
	if r.ToolCPU > 0 && r.Updates > 0 {
		fmt.Fprintf(&b, "; tool CPU %.0f µs/update", float64(r.ToolCPU.Microseconds())/float64(r.Updates))
	}
	if len(r.SlowSteps) > 0 {
		b.WriteString("; slowest steps by p99:")
		for i, st := range r.SlowSteps {
			sep := ","
			if i == 0 {
				sep = ""
			}
			fmt.Fprintf(&b, "%s %s %s", sep, st.Step, st.P99.Round(100*time.Microsecond))
		}
	}
	if r.Closing {
		told := 0
		for _, n := range r.Told {
			told += n
		}
		fmt.Fprintf(&b, "; closure under load made %v, cancellations told %d", r.Closed, told)
	}
	for step, n := range r.FailedStep {
		fmt.Fprintf(&b, "\n  failed step %q: %d", step, n)
	}
	return b.String()
}

// Run drives the scenario through a bot started with StartBot, or through
// the echo loop when mode is "echo" (one call per update), or through the
// call-matched echo when mode is "matched" (the calls of opts.Mix).
func Run(ctx context.Context, mode string, opts Options) (Report, error) {
	if opts.Users < 1 || opts.Concurrency < 1 {
		return Report{}, errors.New("users and concurrency must be at least 1")
	}
	if opts.Duration <= 0 && opts.Iterations <= 0 {
		return Report{}, errors.New("give a duration or a number of iterations")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if mode == "matched" && len(opts.Mix) == 0 {
		return Report{}, errors.New("the call-matched echo needs the call mix of a bot run")
	}
	d := newDriver(opts.StaffChats, opts.StaffNotice)
	d.closureNotice = opts.ClosureNotice
	for _, st := range opts.Scenario {
		if st.Booked != nil {
			d.bookingStep[st.Name] = true
		}
	}
	if mode != "echo" && mode != "matched" {
		d.rec = newMixRecorder()
	}
	afterCall := func(_ context.Context, c telegramtest.Call) bool {
		d.countCall(c.Method)
		if d.rec != nil {
			d.rec.call(d, c)
		}
		return false
	}
	srv, err := telegramtest.New(telegramtest.Options{
		Latency: opts.Latency, MaxTranscript: 8, MaxCalls: 64, MaxCallbacks: 20000,
		Observe: d.observe, AfterCall: afterCall,
	})
	if err != nil {
		return Report{}, err
	}
	defer srv.Close()
	d.srv = srv
	for _, id := range opts.StaffChats {
		srv.AddGroup(id, "Staff")
	}
	closing := opts.Closure != nil && mode != "echo" && mode != "matched"
	if closing {
		for _, id := range opts.Closure.Victims {
			srv.AddPrivateChat(telegramtest.User{ID: id, FirstName: "Closed", LanguageCode: "kk"})
		}
	}

	started := time.Now()
	var bot Bot
	var stopOnce sync.Once
	var stopErr error
	stopBot := func() {
		stopOnce.Do(func() {
			if bot != nil {
				stopErr = bot.Stop()
			}
		})
	}
	switch mode {
	case "echo":
		stop := startEcho(ctx, srv, opts.Concurrency)
		defer stop()
	case "matched":
		var staff int64
		if len(opts.StaffChats) > 0 {
			staff = opts.StaffChats[0]
		}
		stop := startMatchedEcho(ctx, srv, opts.Concurrency, d, opts.Mix, staff)
		defer stop()
	default:
		bot, err = opts.StartBot(ctx, srv.URL(), srv.Token())
		if err != nil {
			return Report{}, fmt.Errorf("start the bot: %w", err)
		}
		defer stopBot()
	}
	rep := Report{Mode: mode, FailedStep: map[string]int64{}}
	// StartBot returns once the bot is ready to poll: that is start-up.
	rep.StartUp = time.Since(started)

	scenario := opts.Scenario
	switch mode {
	case "echo":
		scenario = EchoScenario(opts.Scenario)
	case "matched":
		scenario = MatchedScenario(opts.Scenario, opts.Mix)
	}
	runCtx := ctx
	if opts.Duration > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, opts.Duration)
		defer cancel()
	}
	begin := time.Now()
	var cpuBefore time.Duration
	selfBefore := selfCPU()
	if bot != nil {
		cpuBefore = bot.CPU()
	}
	var wg sync.WaitGroup
	var next atomic.Int64
	total := int64(opts.Users) * int64(opts.Iterations)
	rep.Closing = closing
	var closed chan bool
	if closing {
		closed = make(chan bool, 1)
		go func() {
			var panicked bool
			defer func() {
				if panicked {
					d.fail("panic")
					closed <- false
				}
			}()
			defer ops.Recovered(slog.New(slog.NewTextHandler(os.Stderr, nil)), nil, "loadtest_closer", &panicked)
			closed <- d.close(runCtx, *opts.Closure, total, opts.Duration, begin, opts.Timeout)
		}()
	}
	for range opts.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer ops.Recovered(slog.New(slog.NewTextHandler(os.Stderr, nil)), nil, "loadtest", nil)
			for runCtx.Err() == nil {
				i := next.Add(1) - 1
				if opts.Iterations > 0 && i >= total {
					return
				}
				p := d.person(int(i % int64(opts.Users)))
				d.playSafely(runCtx, p, scenario, opts.Timeout, &rep)
			}
		}()
	}
	wg.Wait()
	if closed != nil {
		rep.Closed = <-closed
	}
	rep.Elapsed = time.Since(begin)
	rep.ToolCPU = selfCPU() - selfBefore
	d.settle(opts.Timeout, mode != "echo") // the matched echo sends staff notices too
	d.mu.Lock()
	lat := slices.Clone(d.latencies)
	for k, v := range d.failed {
		rep.FailedStep[k] = v
	}
	rep.SlowSteps = slowestSteps(d.byStep, 3)
	d.mu.Unlock()
	slices.Sort(lat)
	rep.Updates = int64(len(lat))
	rep.Missing = d.missing.Load()
	rep.Scenarios = d.scenarios.Load()
	rep.Returning = d.returning.Load()
	rep.Bookings = d.bookings.Load()
	rep.SlotTaken = d.taken.Load()
	rep.P50, rep.P95, rep.P99 = pct(lat, 50), pct(lat, 95), pct(lat, 99)
	if bot != nil {
		rep.PeakRSS = bot.PeakRSS()
		if cpu := bot.CPU(); cpu > 0 {
			rep.CPU = cpu - cpuBefore
		}
		rep.DBSize = bot.DBSize()
		// The metrics live as long as the bot: read them before stopping it.
		if rep.Errors, err = bot.Errors(); err != nil {
			return rep, fmt.Errorf("read the bot's errors: %w", err)
		}
		stopBot()
		if stopErr != nil {
			return rep, fmt.Errorf("stop the bot: %w", stopErr)
		}
	}
	// Counted once the bot has stopped: it sends its last background notices
	// before it exits.
	rep.Unanswered = d.unanswered()
	rep.Notices = d.notices.Load()
	if d.rec != nil {
		rep.Mix = d.rec.mix(rep.Bookings)
	}
	d.mu.Lock()
	rep.Calls = maps.Clone(d.calls)
	rep.Told = maps.Clone(d.told)
	d.mu.Unlock()
	return rep, nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

// driver routes the fake API's events to the simulated person waiting for
// them and records latencies.
type driver struct {
	srv       *telegramtest.Server
	waiting   sync.Map // chat id -> chan telegramtest.Event
	polled    chan struct{}
	pollOnce  sync.Once
	mu        sync.Mutex
	latencies []time.Duration
	byStep    map[string][]time.Duration // the same latencies, by step
	failed    map[string]int64
	missing   atomic.Int64
	scenarios atomic.Int64
	returning atomic.Int64 // see Report.Returning
	bookings  atomic.Int64
	taken     atomic.Int64
	people    sync.Map // index -> *Person

	// presses holds +1 per press and -1 per answer of a callback query id,
	// and drops ids that reach 0: what is left at the end went unanswered.
	// (An answer can be seen before Press has recorded its id.)
	pressMu sync.Mutex
	presses map[string]int

	staff       map[int64]bool
	staffNotice func(telegramtest.Event) bool
	notices     atomic.Int64

	// For the call mix: the step each person's chat is playing, the steps
	// that book, and, in a bot run, the recorder of the bot's calls.
	steps       sync.Map // chat id -> stepAt
	bookingStep map[string]bool
	rec         *mixRecorder
	calls       map[string]int64 // guarded by mu

	closureNotice func(telegramtest.Event) bool
	told          map[int64]int // closure cancellations per chat, guarded by mu
}

// stepAt is the step a chat plays and since when, and the one before: a
// call that reached the fake before the person moved on belongs to that.
type stepAt struct {
	prev, cur string
	since     time.Time
}

// playing records that chat starts step now.
func (d *driver) playing(chat int64, step string) {
	prev := ""
	if v, ok := d.steps.Load(chat); ok {
		prev = v.(stepAt).cur
	}
	d.steps.Store(chat, stepAt{prev: prev, cur: step, since: time.Now()})
}

// stepOf is the step chat was playing at t ("" if none).
func (d *driver) stepOf(chat int64, t time.Time) string {
	v, ok := d.steps.Load(chat)
	if !ok {
		return ""
	}
	s := v.(stepAt)
	if t.Before(s.since) {
		return s.prev
	}
	return s.cur
}

// countCall counts a call made in answer to an update.
func (d *driver) countCall(method string) {
	if !perUpdate(method) {
		return
	}
	d.mu.Lock()
	d.calls[method]++
	d.mu.Unlock()
}

func newDriver(staffChats []int64, staffNotice func(telegramtest.Event) bool) *driver {
	d := &driver{polled: make(chan struct{}), failed: map[string]int64{}, presses: map[string]int{}, byStep: map[string][]time.Duration{},
		staff: map[int64]bool{}, staffNotice: staffNotice, bookingStep: map[string]bool{}, calls: map[string]int64{}, told: map[int64]int{}}
	for _, id := range staffChats {
		d.staff[id] = true
	}
	return d
}

func (d *driver) observe(e telegramtest.Event) {
	if e.Kind == "message" && !e.Message.FromBot {
		return
	}
	if e.Kind == "callback_answer" {
		d.press(e.CallbackID, -1)
	}
	if d.closureNotice != nil && d.closureNotice(e) {
		d.mu.Lock()
		d.told[e.ChatID]++
		d.mu.Unlock()
	}
	if d.staff[e.ChatID] {
		if d.staffNotice != nil && d.staffNotice(e) {
			d.notices.Add(1)
		}
		return
	}
	if ch, ok := d.waiting.Load(e.ChatID); ok {
		select {
		case ch.(chan telegramtest.Event) <- e:
		default: // the person stopped listening; nothing waits for this
		}
	}
}

func (d *driver) press(id string, delta int) {
	d.pressMu.Lock()
	defer d.pressMu.Unlock()
	if n := d.presses[id] + delta; n != 0 {
		d.presses[id] = n
	} else {
		delete(d.presses, id)
	}
}

// unanswered counts the presses still waiting for their callback answer.
func (d *driver) unanswered() int64 {
	d.pressMu.Lock()
	defer d.pressMu.Unlock()
	var n int64
	for _, v := range d.presses {
		if v > 0 {
			n++
		}
	}
	return n
}

// settle gives the bot up to timeout, once traffic has stopped, to answer
// the last presses and (with a bot) to send the staff notices it sends in
// the background, so the counts compare finished work.
func (d *driver) settle(timeout time.Duration, bot bool) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		noticesDue := bot && len(d.staff) > 0 && d.notices.Load() < d.bookings.Load()
		if d.unanswered() == 0 && !noticesDue {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Person is one simulated young person.
type Person struct {
	User   telegramtest.User
	events chan telegramtest.Event
	last   telegramtest.Message // the bot's last message with an inline keyboard
	rng    *rand.Rand
	busy   sync.Mutex
	played int // scenarios played to their end; guarded by busy
	d      *driver
}

// pressed records a press whose callback query must be answered.
func (p *Person) pressed(id string) { p.d.press(id, +1) }

func (p *Person) lang() string { return p.User.LanguageCode }

func (d *driver) person(i int) *Person {
	if p, ok := d.people.Load(i); ok {
		return p.(*Person)
	}
	lang := "kk"
	if i%2 == 1 {
		lang = "ru"
	}
	p := &Person{
		User:   telegramtest.User{ID: int64(1_000_000 + i), FirstName: fmt.Sprintf("Load%d", i), LanguageCode: lang},
		events: make(chan telegramtest.Event, 64),
		rng:    rand.New(rand.NewPCG(uint64(i), 7)),
		d:      d,
	}
	d.waiting.Store(p.User.ID, p.events)
	actual, _ := d.people.LoadOrStore(i, p)
	return actual.(*Person)
}

func (d *driver) play(ctx context.Context, p *Person, sc Scenario, timeout time.Duration, rep *Report) {
	for _, st := range sc {
		if ctx.Err() != nil {
			return
		}
		// Drop what is left of the previous step's answer.
		for len(p.events) > 0 {
			<-p.events
		}
		d.playing(p.User.ID, st.Name)
		sent := time.Now()
		if err := st.Do(d.srv, p); err != nil {
			d.fail(st.Name)
			return
		}
		got, e, ok := d.await(ctx, p, st, timeout)
		if !ok {
			if ctx.Err() == nil {
				d.missing.Add(1)
				d.fail(st.Name)
			}
			return
		}
		d.mu.Lock()
		d.latencies = append(d.latencies, got.Sub(sent))
		d.byStep[st.Name] = append(d.byStep[st.Name], got.Sub(sent))
		d.mu.Unlock()
		if d.rec != nil {
			d.rec.play(st.Name)
		}
		if st.Taken != nil && st.Taken(e) {
			d.taken.Add(1)
			d.finished(p)
			return
		}
		if st.Booked != nil && st.Booked(e) {
			d.bookings.Add(1)
		}
	}
	d.finished(p)
}

// finished counts a scenario p played to its end; the caller holds p.busy.
func (d *driver) finished(p *Person) {
	d.scenarios.Add(1)
	if p.played > 0 {
		d.returning.Add(1)
	}
	p.played++
}

func (d *driver) await(ctx context.Context, p *Person, st Step, timeout time.Duration) (time.Time, telegramtest.Event, bool) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case e := <-p.events:
			if e.Kind == "message" || e.Kind == "edit" {
				if len(e.Message.InlineKeyboard) > 0 {
					p.last = e.Message
				}
			}
			if st.Expect == nil || st.Expect(e) {
				return time.Now(), e, true
			}
		case <-t.C:
			return time.Time{}, telegramtest.Event{}, false
		case <-ctx.Done():
			return time.Time{}, telegramtest.Event{}, false
		}
	}
}

// playSafely is one person acting one scenario at a time, as a real one
// would. A panic in the scenario is recovered and counted as a failed step
// "panic", so the worker goes on and the report shows it.
func (d *driver) playSafely(ctx context.Context, p *Person, scenario Scenario, timeout time.Duration, rep *Report) {
	p.busy.Lock()
	defer p.busy.Unlock()
	var panicked bool
	defer func() {
		if panicked {
			d.fail("panic")
		}
	}()
	defer ops.Recovered(slog.New(slog.NewTextHandler(os.Stderr, nil)), nil, "loadtest", &panicked)
	d.play(ctx, p, scenario, timeout, rep)
}

func (d *driver) fail(step string) {
	d.mu.Lock()
	d.failed[step]++
	d.mu.Unlock()
}

// close plays the closer's dialogue once half the run is done, while the
// simulated people go on booking, and reports whether it ran to its end.
// A step that fails counts in FailedStep under its name.
func (d *driver) close(ctx context.Context, plan Closure, total int64, duration time.Duration, begin time.Time, timeout time.Duration) bool {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		half := (total > 0 && d.scenarios.Load() >= total/2) || (total <= 0 && time.Since(begin) >= duration/2)
		if half {
			break
		}
		select {
		case <-ctx.Done():
			d.fail("close: never began")
			return false
		case <-tick.C:
		}
	}
	p := &Person{
		User:   telegramtest.User{ID: Closer, FirstName: "Staff", LanguageCode: "ru"},
		events: make(chan telegramtest.Event, 64),
		d:      d,
	}
	d.waiting.Store(p.User.ID, p.events)
	// Its own context: a run of a fixed duration may end meanwhile, and
	// the closure must still finish for the checks to mean anything. Its
	// steps are not the people's: no latency or scenario is counted.
	ctx = context.WithoutCancel(ctx)
	for _, st := range CloseScenario(plan) {
		for len(p.events) > 0 {
			<-p.events
		}
		if err := st.Do(d.srv, p); err != nil {
			d.fail(st.Name)
			return false
		}
		if _, _, ok := d.await(ctx, p, st, timeout); !ok {
			d.missing.Add(1)
			d.fail(st.Name)
			return false
		}
	}
	return true
}

// StepLatency is the p99 of one step's answers.
type StepLatency struct {
	Step string
	P99  time.Duration
}

// slowestSteps are the n steps of byStep with the highest p99.
func slowestSteps(byStep map[string][]time.Duration, n int) []StepLatency {
	var out []StepLatency
	for step, lat := range byStep {
		lat = slices.Clone(lat)
		slices.Sort(lat)
		out = append(out, StepLatency{Step: step, P99: pct(lat, 99)})
	}
	slices.SortFunc(out, func(a, b StepLatency) int { return cmp.Or(cmp.Compare(b.P99, a.P99), strings.Compare(a.Step, b.Step)) })
	return out[:min(n, len(out))]
}
