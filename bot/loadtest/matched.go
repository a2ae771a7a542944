package loadtest

import (
	"context"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/ops"
	"jastar/bot/telegramtest"
)

// CallMix is what the bot asked of the Bot API for each step of the
// scenario: the mean number of calls of each method per time the step was
// played. The calls the bot made to staff chats are under StaffStep, per
// booking made. It is measured in the bot's run and replayed by the
// call-matched echo, so that echo makes the same calls per update as the
// bot, with no logic and no database: the honest ceiling of this machine
// for the bot's work. A call the bot makes after a step's answer (a
// callback answered in the background, the calendar file after the
// confirmation) counts toward the step its person plays next: the steps'
// shares shift a little, the scenario's total does not.
type CallMix map[string]map[string]float64

// StaffStep is the CallMix key of the calls to staff chats.
const StaffStep = "(staff)"

// String lists the mix, a step a line, for the report.
func (m CallMix) String() string {
	var b strings.Builder
	for _, step := range slices.Sorted(maps.Keys(m)) {
		b.WriteString("  " + step + ":")
		for _, method := range slices.Sorted(maps.Keys(m[step])) {
			b.WriteString(" " + method + "×" + strconv.FormatFloat(m[step][method], 'f', 2, 64))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// mixRecorder counts the bot's calls by the step its person was playing.
type mixRecorder struct {
	mu     sync.Mutex
	calls  map[string]map[string]int64
	played map[string]int64
}

func newMixRecorder() *mixRecorder {
	return &mixRecorder{calls: map[string]map[string]int64{}, played: map[string]int64{}}
}

// perUpdate tells the calls the bot makes in answer to an update from the
// calls it makes on its own (polling, start-up).
func perUpdate(method string) bool {
	switch method {
	case "getUpdates", "getMe", "setMyCommands", "deleteWebhook", "getWebhookInfo":
		return false
	}
	return true
}

// call counts one of the bot's calls under the step of the chat it went to.
func (r *mixRecorder) call(d *driver, c telegramtest.Call) {
	if !perUpdate(c.Method) {
		return
	}
	var chat int64
	if id := c.Params.Get("chat_id"); id != "" {
		chat, _ = strconv.ParseInt(id, 10, 64)
	} else if q := c.Params.Get("callback_query_id"); q != "" {
		chat, _ = d.srv.CallbackChat(q)
	}
	step := StaffStep
	if !d.staff[chat] {
		// By when the call arrived, not when it is recorded: the fake
		// shows its answer first, and the person may have moved on.
		if step = d.stepOf(chat, c.At); step == "" {
			return
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls[step] == nil {
		r.calls[step] = map[string]int64{}
	}
	r.calls[step][c.Method]++
}

// played counts one play of step.
func (r *mixRecorder) play(step string) {
	r.mu.Lock()
	r.played[step]++
	r.mu.Unlock()
}

// mix is the mean calls per play; staff calls are per booking made.
func (r *mixRecorder) mix(bookings int64) CallMix {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := CallMix{}
	for step, calls := range r.calls {
		n := r.played[step]
		if step == StaffStep {
			n = bookings
		}
		if n == 0 {
			continue
		}
		out[step] = map[string]float64{}
		for method, c := range calls {
			out[step][method] = float64(c) / float64(n)
		}
	}
	return out
}

// MatchedScenario is sc with every step's update kept (a text stays a
// text, a press a press of the echo's button) under its own name, so the
// call-matched echo can look up what the bot did for it; a step waits for
// a message or an edit when the bot answered it with one, else for the
// press's answer.
func MatchedScenario(sc Scenario, mix CallMix) Scenario {
	out := make(Scenario, 0, len(sc))
	for _, st := range sc {
		// The echo makes a step's visible calls with its text or edit
		// (carrying the keyboard the next press needs) last.
		tag := stepTag(st.Name)
		expect := func(e telegramtest.Event) bool { return WithKeyboard(e) && strings.HasSuffix(e.Message.Text, tag) }
		switch calls := mix[st.Name]; {
		case visible(calls) == 0:
			expect = AnsweredPress
		case calls["sendMessage"]+calls["editMessageText"] == 0:
			expect = func(e telegramtest.Event) bool { return e.Kind == "message" || e.Kind == "edit" }
		}
		var m Step
		switch st.Kind {
		case KindPress:
			m = Press(st.Name, echoButton, expect)
		case KindLocation:
			m = Location(st.Name, 43.2, 76.9, expect)
		default:
			m = Text(st.Name, "hello", expect)
		}
		if st.Booked != nil {
			m.Booked = func(telegramtest.Event) bool { return true }
		}
		out = append(out, m)
	}
	return out
}

// inCallOrder lists the methods of a step's calls with texts and edits
// last, as the bot's answers end: a file or a venue first, then the message
// that carries the keyboard.
func inCallOrder(calls map[string]float64) []string {
	rank := func(method string) int {
		switch method {
		case "sendMessage":
			return 1
		case "editMessageText", "editMessageReplyMarkup":
			return 2
		}
		return 0
	}
	methods := slices.Sorted(maps.Keys(calls))
	slices.SortStableFunc(methods, func(a, b string) int { return rank(a) - rank(b) })
	return methods
}

// visible is how many calls of a step's mix a person sees as a message or
// an edit.
func visible(calls map[string]float64) float64 {
	var n float64
	for method, c := range calls {
		if method != "answerCallbackQuery" {
			n += c
		}
	}
	return n
}

// matchedText is as long as a typical answer of the bot (an event page, a
// booking summary), in Cyrillic like the bot's.
var matchedText = strings.Repeat("Жастар ресурстық орталығы · ", 12)

// stepTag ends every text the echo sends for a step, so a person waits
// for the answer of the step it plays, not for a late call of the one
// before.
func stepTag(step string) string { return " #" + step }

// matchedICS is as large as the calendar file the bot sends.
var matchedICS = []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + strings.Repeat("X-PAD:jastar load\r\n", 30) + "END:VCALENDAR\r\n")

// startMatchedEcho runs the call-matched echo: getUpdates, then for each
// update the calls the bot made for the step its person plays, from a pool
// of workers as wide as the bot's; a booking step also makes the staff
// chats' calls. No logic, no database.
func startMatchedEcho(ctx context.Context, srv *telegramtest.Server, workers int, d *driver, mix CallMix, staffChat int64) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = workers+16, workers+16
	api := &tgbotapi.BotAPI{Token: srv.Token(), Client: &http.Client{Timeout: 30 * time.Second, Transport: tr}}
	api.SetAPIEndpoint(srv.Endpoint())
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	keyboard := tgbotapi.NewInlineKeyboardMarkup(
		tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("1", echoButton), tgbotapi.NewInlineKeyboardButtonData("2", echoButton)),
		tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("3", echoButton), tgbotapi.NewInlineKeyboardButtonData("4", echoButton)),
	)
	c := &caller{api: api, kb: keyboard}
	times := func(mean float64, rng *rand.Rand) int {
		n := int(math.Floor(mean))
		if rng.Float64() < mean-math.Floor(mean) {
			n++
		}
		return n
	}
	answer := func(rng *rand.Rand, u tgbotapi.Update, step string, booked bool) {
		chat := u.FromChat().ID
		calls := mix[step]
		if u.CallbackQuery != nil {
			// Every press is answered, as the bot answers every one.
			_, _ = api.Request(tgbotapi.NewCallback(u.CallbackQuery.ID, ""))
		}
		// An edit edits the message pressed, as the bot's do; after a text,
		// the echo's last message there.
		pressed := 0
		if q := u.CallbackQuery; q != nil && q.Message != nil {
			pressed = q.Message.MessageID
		}
		shown := 0
		for _, method := range inCallOrder(calls) {
			for range times(calls[method], rng) {
				if c.do(method, chat, step, pressed) {
					shown++
				}
			}
		}
		if shown == 0 && visible(calls) > 0 {
			c.do("sendMessage", chat, step, 0)
		}
		if booked && staffChat != 0 {
			for method, mean := range mix[StaffStep] {
				for range times(mean, rng) {
					c.do(method, staffChat, step, 0)
				}
			}
		}
	}
	jobs := make(chan tgbotapi.Update, 1024)
	var wg sync.WaitGroup
	for w := range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer ops.Recovered(log, nil, "load_matched_echo", nil)
			rng := rand.New(rand.NewPCG(uint64(w), 11))
			for u := range jobs {
				name := d.stepOf(u.FromChat().ID, time.Now())
				answer(rng, u, name, d.bookingStep[name])
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		defer ops.Recovered(log, nil, "load_matched_echo", nil)
		offset := 0
		for ctx.Err() == nil {
			updates, err := api.GetUpdates(tgbotapi.UpdateConfig{Offset: offset, Timeout: 1, Limit: 100})
			if err != nil {
				continue
			}
			for _, u := range updates {
				offset = u.UpdateID + 1
				if u.FromChat() != nil {
					jobs <- u
				}
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// caller makes the call-matched echo's calls.
type caller struct {
	api *tgbotapi.BotAPI
	kb  tgbotapi.InlineKeyboardMarkup
	// last is the echo's last message in each chat, to edit; edits makes
	// each edit's text new (Telegram refuses an edit that changes nothing).
	last  sync.Map // chat id -> message id
	edits atomic.Uint64
}

// do makes one call of method to chat as the bot would make it, and reports
// whether it is one a person sees.
func (c *caller) do(method string, chat int64, step string, pressed int) bool {
	api, kb, last := c.api, c.kb, &c.last
	remember := func(m tgbotapi.Message, err error) {
		if err == nil {
			last.Store(chat, m.MessageID)
		}
	}
	switch method {
	case "answerCallbackQuery":
		return false // answered with the press itself
	case "editMessageText", "editMessageReplyMarkup":
		target := pressed
		if id, ok := last.Load(chat); ok && target == 0 {
			target = id.(int)
		}
		if target != 0 {
			text := matchedText + strconv.FormatUint(c.edits.Add(1), 10) + stepTag(step)
			if _, err := api.Request(tgbotapi.NewEditMessageTextAndMarkup(chat, target, text, kb)); err == nil {
				return true
			}
		}
		// Nothing of the echo's to edit yet (or it was deleted): send.
		m := tgbotapi.NewMessage(chat, matchedText+stepTag(step))
		m.ReplyMarkup = kb
		remember(api.Send(m))
	case "sendDocument":
		_, _ = api.Send(tgbotapi.NewDocument(chat, tgbotapi.FileBytes{Name: "jastar.ics", Bytes: matchedICS}))
	case "sendVenue":
		_, _ = api.Send(tgbotapi.NewVenue(chat, "Жастар ресурстық орталығы", "Қаскелең", 43.199, 76.621))
	case "deleteMessage":
		if id, ok := last.LoadAndDelete(chat); ok {
			_, _ = api.Request(tgbotapi.NewDeleteMessage(chat, id.(int)))
		}
		return false
	default: // sendMessage and anything else that sends text
		m := tgbotapi.NewMessage(chat, matchedText+stepTag(step))
		m.ReplyMarkup = kb
		remember(api.Send(m))
	}
	return true
}
