// Package telegramtest is a fake Telegram Bot API served over HTTP on the
// loopback interface. It owns the Telegram side of our tests, of the load
// tool and of the local sandbox chat: it speaks the real wire format
// (form-encoded, multipart and JSON requests; {"ok":...} answers with the
// real status codes), validates parameters against the documented Bot API
// limits, numbers messages per chat, serves updates through long polling and
// records what the bot did so tests can read it back.
//
// It is a leaf package: it imports nothing of ours, only the standard
// library and the tgbotapi JSON types, so the JSON it writes is exactly what
// the library decodes.
//
// Reference: https://core.telegram.org/bots/api
package telegramtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// Defaults used when Options leaves a field empty.
const (
	DefaultToken       = "123456:TEST-TOKEN"
	DefaultBotUsername = "jastar_test_bot"
	DefaultGlobalRate  = 30
	// DefaultMaxCallbacks bounds how many callback queries the server
	// remembers; older ones answer like expired queries do on Telegram.
	DefaultMaxCallbacks = 100_000
)

// Upload limits for bots: https://core.telegram.org/bots/api#sending-files
const (
	maxPhotoBytes    = 10 << 20
	maxDocumentBytes = 50 << 20
	maxBodyBytes     = maxDocumentBytes + 1<<20
	maxMemoryForm    = 32 << 20
)

// Options configures a Server. The zero value is a usable configuration.
type Options struct {
	// Token is the only token accepted; any other gets 401 Unauthorized,
	// getMe included. Default DefaultToken. It must look like a real token
	// ("<bot id>:<secret>") because the bot id is taken from it.
	Token string
	// BotUsername is the bot's username in getMe and in sent messages.
	// Default DefaultBotUsername.
	BotUsername string
	// Latency is added to every answer (getUpdates too, but not to its long
	// poll wait). It can be changed later with SetLatency.
	Latency time.Duration
	// RateLimit enforces Telegram's flood limits on sending methods:
	// about 30 messages per second overall, 1 per second per private chat
	// (with a burst of 3) and 20 per minute per group. Exceeding them
	// answers 429 with parameters.retry_after, like Telegram.
	// https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
	RateLimit bool
	// GlobalRate is the overall messages per second under RateLimit.
	// Default DefaultGlobalRate.
	GlobalRate int
	// Addr is the listen address for standalone use (default 127.0.0.1:0).
	// Only loopback addresses are allowed: the fake must never be reachable
	// from the network.
	Addr string
	// MaxTranscript keeps only the last N messages per chat (0 = all), so a
	// long load run does not grow without bound.
	MaxTranscript int
	// MaxCalls keeps only the last N recorded calls (0 = all, negative =
	// record nothing), for the same reason.
	MaxCalls int
	// MaxCallbacks is how many issued callback queries are remembered for
	// answerCallbackQuery and AnsweredCallback. Default DefaultMaxCallbacks.
	MaxCallbacks int
	// Now stamps message dates. Default time.Now. Flood limits and latency
	// always use the real clock because they shape real waiting.
	Now func() time.Time
	// AfterCall, when set, is called with each Bot API call once it has
	// taken effect and been recorded, just before its answer is written.
	// It may block to play a slow Telegram (ctx ends when the client gives
	// up). Returning true drops the connection instead of answering: the
	// answer is lost on its way back, as after a network failure, though
	// the call took effect. It can be changed later with SetAfterCall.
	AfterCall AfterCallFunc
	// Observe, when set, is called synchronously with every change, before
	// subscribers hear of it. It never drops an event, so a load tool can
	// time every answer; it must return quickly.
	Observe func(Event)
}

// AfterCallFunc is the type of Options.AfterCall.
type AfterCallFunc func(ctx context.Context, c Call) (drop bool)

// Server is a fake Bot API. All methods are safe for concurrent use.
type Server struct {
	opts    Options
	token   string
	botUser tgbotapi.User
	now     func() time.Time
	srv     *httptest.Server
	t       TB

	done      chan struct{}
	closeOnce sync.Once

	latency   atomic.Int64
	rateLimit atomic.Bool
	afterCall atomic.Pointer[AfterCallFunc]

	chatsMu sync.RWMutex
	chats   map[int64]*chat

	q updateQueue

	callsMu   sync.Mutex
	calls     []Call
	callsHead int

	failMu   sync.Mutex
	failures map[string]*failure

	cbMu      sync.Mutex
	callbacks map[string]*callbackState
	cbOrder   []string
	cbHead    int
	cbSeq     uint64

	cmdMu    sync.Mutex
	commands map[commandKey][]tgbotapi.BotCommand

	filesMu sync.Mutex
	files   map[string]storedFile
	fileSeq atomic.Uint64

	globalMu sync.Mutex
	global   bucket

	subMu sync.Mutex
	subs  map[*subscriber]struct{}
	nsubs atomic.Int32
}

// TB is the part of testing.TB the fake uses; *testing.T and *testing.B
// satisfy it. Naming it here instead of importing package testing keeps
// testing (and its flags) out of the production binary, which links the
// fake for the sandbox and the load tool.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// New starts a standalone server (load tool, sandbox). The caller must Close it.
func New(opts Options) (*Server, error) {
	return start(nil, opts)
}

// NewServer starts a server for a test and closes it in t.Cleanup. Protocol
// violations (unknown methods, unparseable requests, paths that are not Bot
// API calls) fail the test with t.Errorf; ordinary API errors such as a too
// long text do not, because tests provoke them on purpose.
func NewServer(t TB, opts ...Options) *Server {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	s, err := start(t, o)
	if err != nil {
		t.Fatalf("telegramtest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func start(t TB, opts Options) (*Server, error) {
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.BotUsername == "" {
		opts.BotUsername = DefaultBotUsername
	}
	if opts.GlobalRate <= 0 {
		opts.GlobalRate = DefaultGlobalRate
	}
	if opts.MaxCallbacks <= 0 {
		opts.MaxCallbacks = DefaultMaxCallbacks
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	idPart, _, found := strings.Cut(opts.Token, ":")
	botID, err := strconv.ParseInt(idPart, 10, 64)
	if !found || err != nil || botID <= 0 {
		return nil, fmt.Errorf("token %q is not of the form <bot id>:<secret>", opts.Token)
	}
	if err := checkLoopback(opts.Addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", opts.Addr, err)
	}

	s := &Server{
		opts:  opts,
		token: opts.Token,
		botUser: tgbotapi.User{
			ID:            botID,
			IsBot:         true,
			FirstName:     "Jastar Test Bot",
			UserName:      opts.BotUsername,
			CanJoinGroups: true,
		},
		now:       opts.Now,
		t:         t,
		done:      make(chan struct{}),
		chats:     make(map[int64]*chat),
		failures:  make(map[string]*failure),
		callbacks: make(map[string]*callbackState),
		commands:  make(map[commandKey][]tgbotapi.BotCommand),
		files:     make(map[string]storedFile),
		subs:      make(map[*subscriber]struct{}),
		// Callback query ids on Telegram are large decimal strings.
		cbSeq: uint64(botID)<<20 | 1,
	}
	s.q.init()
	s.latency.Store(int64(opts.Latency))
	s.rateLimit.Store(opts.RateLimit)
	s.SetAfterCall(opts.AfterCall)

	s.srv = httptest.NewUnstartedServer(s)
	s.srv.Listener.Close()
	s.srv.Listener = ln
	s.srv.Start()
	return s, nil
}

// checkLoopback refuses any listen address that is not a loopback one: an
// empty host would listen on every interface.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("listen address %q is not a loopback address", addr)
	}
	return nil
}

// URL is the server's base URL, http://127.0.0.1:port.
func (s *Server) URL() string { return s.srv.URL }

// Endpoint is the API endpoint format for tgbotapi.NewBotAPIWithAPIEndpoint
// and SetAPIEndpoint: URL()+"/bot%s/%s".
func (s *Server) Endpoint() string { return s.srv.URL + "/bot%s/%s" }

// Token is the token the server accepts.
func (s *Server) Token() string { return s.token }

// Bot is the bot's own user, as getMe returns it.
func (s *Server) Bot() tgbotapi.User { return s.botUser }

// Close wakes every long poll, ends subscriptions and shuts the server down.
// It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		// Pending long polls must answer now, or httptest.Server.Close would
		// wait for their full timeout.
		close(s.done)
		s.srv.Close()
		s.subMu.Lock()
		for sub := range s.subs {
			delete(s.subs, sub)
			sub.close()
		}
		s.nsubs.Store(0)
		s.subMu.Unlock()
	})
}

// SetLatency changes the delay added to every answer.
func (s *Server) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

// SetAfterCall replaces Options.AfterCall; nil removes it.
func (s *Server) SetAfterCall(f AfterCallFunc) {
	if f == nil {
		s.afterCall.Store(nil)
		return
	}
	s.afterCall.Store(&f)
}

// SetRateLimit switches Telegram's flood limits on or off.
func (s *Server) SetRateLimit(on bool) { s.rateLimit.Store(on) }

// violation reports a protocol error to the test, if there is one.
func (s *Server) violation(format string, args ...any) {
	if s.t == nil {
		return
	}
	select {
	case <-s.done:
		// The test may be over; reporting now would panic.
		return
	default:
	}
	s.t.Errorf("telegramtest: "+format, args...)
}

// MaxInWindow is the most of the times at (in order, as Calls gives their
// At) within any half-open window of length w: how a test checks that a
// rate holds in every second, not on average.
func MaxInWindow(at []time.Time, w time.Duration) int {
	best, j := 0, 0
	for i := range at {
		for at[i].Sub(at[j]) >= w {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// Call is one recorded request.
type Call struct {
	// Method is the canonical method name ("sendMessage"), whatever case the
	// client used.
	Method string
	// Params holds every parameter flattened to strings: JSON values such as
	// reply_markup keep their JSON text, uploaded files appear under their
	// field name with the file name as value.
	Params url.Values
	// At is when the request arrived.
	At time.Time
	// Status is the HTTP status the server answered.
	Status int
}

func (s *Server) record(method string, p *params, at time.Time, status int) {
	if s.opts.MaxCalls < 0 {
		return
	}
	var v url.Values
	if p != nil {
		v = p.v
		if len(p.files) > 0 {
			v = cloneValues(v)
			for name, f := range p.files {
				v.Set(name, f.name)
			}
		}
	}
	s.callsMu.Lock()
	defer s.callsMu.Unlock()
	s.calls = append(s.calls, Call{Method: method, Params: v, At: at, Status: status})
	if max := s.opts.MaxCalls; max > 0 && len(s.calls)-s.callsHead > max {
		s.calls[s.callsHead] = Call{}
		s.callsHead++
		s.calls, s.callsHead = compact(s.calls, s.callsHead)
	}
}

// Calls returns the recorded calls of method in arrival order of their
// answers; "" returns all of them. Method names compare case-insensitively.
func (s *Server) Calls(method string) []Call {
	s.callsMu.Lock()
	defer s.callsMu.Unlock()
	var out []Call
	for _, c := range s.calls[s.callsHead:] {
		if method == "" || strings.EqualFold(c.Method, method) {
			c.Params = cloneValues(c.Params)
			out = append(out, c)
		}
	}
	return out
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v)+1)
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// compact moves the live tail of a head-indexed queue to the front once the
// dead prefix dominates, so dropping from the front is amortised O(1) and
// the dropped elements become garbage.
func compact[T any](items []T, head int) ([]T, int) {
	if head < 1024 || head*2 < len(items) {
		return items, head
	}
	n := copy(items, items[head:])
	clear(items[n:])
	return items[:n], 0
}

type failure struct {
	n, code, retryAfter int
}

// FailNext makes the next n calls of method (case-insensitive) answer code
// instead of being handled: 429 carries parameters.retry_after (at least 1),
// 5xx answers "Internal Server Error" or "Bad Gateway", 403 a blocked user.
// n <= 0 cancels a scripted failure.
func (s *Server) FailNext(method string, n int, code int, retryAfter int) {
	key := strings.ToLower(method)
	s.failMu.Lock()
	defer s.failMu.Unlock()
	if n <= 0 {
		delete(s.failures, key)
		return
	}
	s.failures[key] = &failure{n: n, code: code, retryAfter: retryAfter}
}

func (s *Server) takeFailure(method string) (reply, bool) {
	key := strings.ToLower(method)
	s.failMu.Lock()
	defer s.failMu.Unlock()
	f := s.failures[key]
	if f == nil {
		return reply{}, false
	}
	f.n--
	if f.n <= 0 {
		delete(s.failures, key)
	}
	return failureReply(f.code, f.retryAfter), true
}

func failureReply(code, retryAfter int) reply {
	switch {
	case code == http.StatusTooManyRequests:
		return tooManyRequests(max(retryAfter, 1))
	case code == http.StatusForbidden:
		return fail(code, "Forbidden: bot was blocked by the user")
	case code == http.StatusBadRequest:
		return fail(code, "Bad Request: scripted failure")
	case code == http.StatusUnauthorized:
		return fail(code, "Unauthorized")
	case code == http.StatusConflict:
		return fail(code, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running")
	case code == http.StatusBadGateway:
		return fail(code, "Bad Gateway")
	case code >= 500:
		return fail(code, "Internal Server Error")
	default:
		return fail(code, http.StatusText(code))
	}
}

// reply is a handler's answer: a result for 200, or an error description.
type reply struct {
	status     int
	result     any
	desc       string
	retryAfter int
}

func ok(result any) reply { return reply{status: http.StatusOK, result: result} }

func fail(code int, desc string) reply { return reply{status: code, desc: desc} }

func badRequest(format string, args ...any) reply {
	return fail(http.StatusBadRequest, "Bad Request: "+fmt.Sprintf(format, args...))
}

func tooManyRequests(retryAfter int) reply {
	return reply{
		status:     http.StatusTooManyRequests,
		desc:       fmt.Sprintf("Too Many Requests: retry after %d", retryAfter),
		retryAfter: retryAfter,
	}
}

var errChatNotFound = badRequest("chat not found")

type errorBody struct {
	OK          bool                         `json:"ok"`
	ErrorCode   int                          `json:"error_code"`
	Description string                       `json:"description"`
	Parameters  *tgbotapi.ResponseParameters `json:"parameters,omitempty"`
}

func (s *Server) write(w http.ResponseWriter, r reply) {
	w.Header().Set("Content-Type", "application/json")
	if r.status == http.StatusOK {
		var body []byte
		switch v := r.result.(type) {
		case rawResult:
			body = append(append([]byte(`{"ok":true,"result":`), v...), '}')
		default:
			res, err := json.Marshal(v)
			if err != nil {
				r = fail(http.StatusInternalServerError, "Internal Server Error")
				break
			}
			body = append(append([]byte(`{"ok":true,"result":`), res...), '}')
		}
		if body != nil {
			w.WriteHeader(http.StatusOK)
			w.Write(body)
			return
		}
	}
	e := errorBody{ErrorCode: r.status, Description: r.desc}
	if r.retryAfter > 0 {
		e.Parameters = &tgbotapi.ResponseParameters{RetryAfter: r.retryAfter}
	}
	w.WriteHeader(r.status)
	json.NewEncoder(w).Encode(e)
}

// rawResult is a result that is already JSON.
type rawResult []byte

type handler func(s *Server, ctx context.Context, p *params) reply

// lookupMethod maps a method name to its handler. Telegram treats method
// names case-insensitively, so do we.
func lookupMethod(name string) (string, handler, bool) {
	switch strings.ToLower(name) {
	case "getme":
		return "getMe", (*Server).getMe, true
	case "getupdates":
		return "getUpdates", (*Server).getUpdates, true
	case "sendmessage":
		return "sendMessage", (*Server).sendMessage, true
	case "editmessagetext":
		return "editMessageText", (*Server).editMessageText, true
	case "editmessagereplymarkup":
		return "editMessageReplyMarkup", (*Server).editMessageReplyMarkup, true
	case "answercallbackquery":
		return "answerCallbackQuery", (*Server).answerCallbackQuery, true
	case "sendlocation":
		return "sendLocation", (*Server).sendLocation, true
	case "sendvenue":
		return "sendVenue", (*Server).sendVenue, true
	case "sendphoto":
		return "sendPhoto", (*Server).sendPhoto, true
	case "senddocument":
		return "sendDocument", (*Server).sendDocument, true
	case "sendchataction":
		return "sendChatAction", (*Server).sendChatAction, true
	case "deletemessage":
		return "deleteMessage", (*Server).deleteMessage, true
	case "setmycommands":
		return "setMyCommands", (*Server).setMyCommands, true
	case "getmycommands":
		return "getMyCommands", (*Server).getMyCommands, true
	case "deletemycommands":
		return "deleteMyCommands", (*Server).deleteMyCommands, true
	}
	return "", nil, false
}

// ServeHTTP answers POST (or GET) /bot<token>/<method>.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	rest, found := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, slash := strings.Cut(rest, "/")
	if !found || !slash || method == "" || strings.Contains(method, "/") {
		s.violation("%s %s is not a Bot API call", r.Method, r.URL.Path)
		s.write(w, fail(http.StatusNotFound, "Not Found"))
		return
	}
	if token != s.token {
		s.record(method, nil, at, http.StatusUnauthorized)
		s.write(w, fail(http.StatusUnauthorized, "Unauthorized"))
		return
	}
	name, h, known := lookupMethod(method)
	if !known {
		s.violation("unknown Bot API method %q", method)
		s.record(method, nil, at, http.StatusNotFound)
		s.write(w, fail(http.StatusNotFound, "Not Found: method not found"))
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		s.violation("%s: HTTP method %s, want POST", name, r.Method)
	}
	p, rep, parsed := parseParams(w, r)
	if !parsed {
		if rep.status != http.StatusRequestEntityTooLarge {
			s.violation("%s: %s", name, rep.desc)
		}
		s.record(name, nil, at, rep.status)
		s.write(w, rep)
		return
	}
	if !s.sleep(r.Context(), time.Duration(s.latency.Load())) {
		s.record(name, p, at, 499) // the client went away
		return
	}
	rep, failed := s.takeFailure(name)
	if !failed {
		rep = h(s, r.Context(), p)
	}
	// Record before answering, so a test that got the answer sees the call.
	s.record(name, p, at, rep.status)
	if f := s.afterCall.Load(); f != nil && (*f)(r.Context(), Call{Method: name, Params: cloneValues(p.v), At: at, Status: rep.status}) {
		dropConn(w)
		return
	}
	s.write(w, rep)
}

// dropConn closes the connection under w without writing an answer.
func dropConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // closes the connection all the same
	}
	conn.Close()
}

// sleep waits d unless the request ends first; it reports whether to go on.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.done:
		return true
	case <-ctx.Done():
		return false
	}
}

// params are a request's parameters flattened to strings, plus uploads.
type params struct {
	v     url.Values
	files map[string]upload
}

type upload struct {
	name  string
	ctype string
	data  []byte
}

func (p *params) str(key string) string { return p.v.Get(key) }

func (p *params) has(key string) bool { return p.v.Has(key) && p.v.Get(key) != "" }

func (p *params) boolean(key string) bool {
	b, _ := strconv.ParseBool(p.v.Get(key))
	return b
}

// parseParams reads form-encoded, multipart or JSON parameters. Telegram
// accepts all three (https://core.telegram.org/bots/api#making-requests);
// tgbotapi uses the first two.
func parseParams(w http.ResponseWriter, r *http.Request) (*params, reply, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil && r.Header.Get("Content-Type") != "" {
		return nil, badRequest("bad Content-Type: %v", err), false
	}
	p := &params{}
	switch ct {
	case "", "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, bodyError(err), false
		}
		p.v = r.Form
	case "multipart/form-data":
		if err := r.ParseMultipartForm(maxMemoryForm); err != nil {
			return nil, bodyError(err), false
		}
		defer r.MultipartForm.RemoveAll()
		p.v = r.Form
		for field, fhs := range r.MultipartForm.File {
			if len(fhs) == 0 {
				continue
			}
			fh := fhs[0]
			f, err := fh.Open()
			if err != nil {
				return nil, bodyError(err), false
			}
			data := make([]byte, fh.Size)
			_, err = io.ReadFull(f, data)
			f.Close()
			if err != nil {
				return nil, bodyError(err), false
			}
			if p.files == nil {
				p.files = make(map[string]upload)
			}
			p.files[field] = upload{name: fh.Filename, ctype: fh.Header.Get("Content-Type"), data: data}
		}
	case "application/json":
		p.v = r.URL.Query()
		var body map[string]json.RawMessage
		dec := json.NewDecoder(r.Body)
		if err := dec.Decode(&body); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, bodyError(err), false
		}
		for k, raw := range body {
			raw = json.RawMessage(strings.TrimSpace(string(raw)))
			switch {
			case string(raw) == "null":
			case len(raw) > 0 && raw[0] == '"':
				var str string
				if err := json.Unmarshal(raw, &str); err != nil {
					return nil, bodyError(err), false
				}
				p.v.Set(k, str)
			default:
				p.v.Set(k, string(raw))
			}
		}
	default:
		return nil, badRequest("unsupported Content-Type %q", ct), false
	}
	return p, reply{}, true
}

func bodyError(err error) reply {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return fail(http.StatusRequestEntityTooLarge, "Request Entity Too Large")
	}
	return badRequest("can't parse request body: %v", err)
}
