package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"jastar/bot/config"
	"jastar/bot/rehearsal"
	"jastar/bot/sandbox"
	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/boltdb"
	"jastar/storage/catalog"
)

// TestSandbox_Browser drives the sandbox chat page in headless Chromium, as
// a newcomer would: pick a Kazakh-speaking young person, press START, read
// the Kazakh greeting, share a location near Kaskelen and see the Karasai
// center, book a consultation to the end while the staff group shows the
// notification, switch to Russian, then look at the page on a phone-sized
// screen. With $JASTAR_SCREENSHOTS set, every step writes a screenshot
// there; README's bot/sandbox/testdata/sandbox.png is the one of step
// "booked" (10-booked.png), which is taken on every run (see newPage).
func TestSandbox_Browser(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("drives a browser; skipped with -short")
	}
	chrome := findChromium(t)
	url := startSandbox(t)
	p := newPage(t, chrome, url, "booked")

	p.step("persona-picker", p.waitVisible("#picker"), p.waitSelectorText("#picker h1", "Who are you?"))
	p.step("pick-aliya", p.pickPersona(5000001), p.openStaffGroup())
	p.step("start", p.pressStart(), p.waitText("private", "Сәлем, Әлия!"),
		p.waitSelectorText("#messages-private b", "тегін кеңеске"),
		p.waitSelectorText("#keyboard-private button", "Анықтама"))
	p.step("share-location-kaskelen", p.shareSettlement("karasai"),
		p.waitSelectorText("#messages-private .msg.own .place", "43.19900, 76.62100"),
		p.waitText("private", "Қарасай ауданының жастар ресурстық орталығы"))
	p.step("book-type", p.pressKey("private", "Кеңеске жазылу"), p.waitText("private", "Қандай кеңес керек?"),
		p.pressInline("private", "Мансап"), p.waitText("private", "Қай жерде ыңғайлы?"))
	p.step("book-center", p.pressInline("private", "Қарасай ауданының жастар ресурстық орталығы · 0,0 км"),
		p.waitText("private", "Күнді таңдаңыз"))
	p.step("book-day", p.pressFirstInline("private"), p.waitText("private", "Уақытты таңдаңыз"))
	p.step("book-time", p.pressFirstInline("private"), p.waitSelectorText("#keyboard-private button", "Өткізіп жіберу"))
	p.step("book-summary", p.pressKey("private", "Өткізіп жіберу"), p.waitSelectorText("#messages-private .inline button", "Растау"))
	p.step("booked", p.pressInline("private", "Растау"), p.waitText("private", "Сіз жазылдыңыз!"),
		p.waitText("staff", "Новая запись"))
	p.step("switch-to-russian", p.send("private", "/start"), p.pressInline("private", "Переключить на русский"),
		p.waitText("private", "Язык изменён: русский"), p.waitSelectorText("#toast", "Язык изменён"),
		p.waitSelectorText("#keyboard-private button", "Помощь"))
	p.step("page-in-russian", p.pageLanguage("ru"), p.waitSelectorText("#staff-toggle", "Группа сотрудников"),
		p.waitText("private", "Язык изменён: русский"), p.openStaffGroup())
	p.step("phone-staff-tab", p.phone(), p.pressTab("staff"), p.waitVisible("#messages-staff"))
	p.step("phone-chat-tab", p.pressTab("private"), p.waitVisible("#messages-private"))
}

// TestSandbox_StaffClosesTime drives the staff side of issue 16 in
// headless Chromium on a fixed Tuesday, so tomorrow is a working day: Әлия
// books a psychologist at Karasai tomorrow afternoon; Гүлнар, the staff
// persona, sets her center's phone with /mycenter and closes tomorrow
// afternoon for psychology with /close; Әлия is told, with three rebooking
// buttons, and the first one books her. With $JASTAR_SCREENSHOTS set, every
// step writes a screenshot there; README's bot/sandbox/testdata/staff.png is
// the one of step "aliya-cancelled" (16-aliya-cancelled.png, on a
// phone-sized screen), which is taken on every run (see newPage).
func TestSandbox_StaffClosesTime(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("drives a browser; skipped with -short")
	}
	chrome := findChromium(t)
	url, _ := startSandboxWith(t, nil, "-fast", "-now", "2027-06-15 10:00")
	p := newPage(t, chrome, url, "aliya-cancelled")
	const karasai = "Қарасай ауданының жастар ресурстық орталығы"

	p.step("aliya", p.waitVisible("#picker"), p.pickPersona(5000001), p.pressStart(), p.waitText("private", "Сәлем, Әлия!"))
	p.step("aliya-book-type", p.pressKey("private", "Кеңеске жазылу"), p.waitText("private", "Қандай кеңес керек?"),
		p.pressInline("private", "Психолог"), p.waitText("private", "Қай жерде ыңғайлы?"))
	p.step("aliya-book-center", p.pressInline("private", karasai), p.waitText("private", "Күнді таңдаңыз"))
	p.step("aliya-book-tomorrow", p.pressInline("private", "16 маусым"), p.waitText("private", "Уақытты таңдаңыз"))
	p.step("aliya-book-afternoon", p.pressInline("private", "14:00"), p.waitText("private", "атыңызды көрсетуге бола ма?"))
	p.step("aliya-book-named", p.pressInline("private", "Иә, болады"), p.waitSelectorText("#keyboard-private button", "Өткізіп жіберу"))
	p.step("aliya-booked", p.pressKey("private", "Өткізіп жіберу"), p.pressInline("private", "Растау"),
		p.waitText("private", "Сіз жазылдыңыз!"))

	p.step("gulnar", p.switchPersona(sandbox.StaffID), p.send("private", "/mycenter"), p.waitText("private", "Қай орталықтың карточкасы?"))
	p.step("gulnar-card", p.pressInline("private", karasai), p.waitText("private", "Не өзгертеміз?"))
	p.step("gulnar-phone", p.pressInline("private", "📞 Телефон"), p.waitText("private", "Орталықтың телефон нөмірін жазыңыз"),
		p.send("private", "+7 701 234 56 78"), p.waitLastText("private", "Телефон: +7 701 234 56 78"))
	p.step("gulnar-close-type", p.send("private", "/close"), p.waitText("private", "Қай орталық?"),
		p.pressInline("private", karasai), p.waitText("private", "Қай кеңесті жабасыз?"))
	p.step("gulnar-close-day", p.pressInline("private", "Психолог"), p.waitText("private", "Қай күні?"),
		p.pressInline("private", "Ертең"), p.waitText("private", "Күні бойы ма"))
	p.step("gulnar-close-reason", p.pressInline("private", "Түстен кейін"), p.waitText("private", "Себебі қандай?"))
	p.step("gulnar-preview", p.pressInline("private", "Маман оқуда"), p.waitLastText("private", "Тексеріңіз"), p.waitLastText("private", "Әлия"),
		p.waitSelectorText("#messages-private .inline button", "🔒 Жабу"))
	p.step("gulnar-closed", p.pressInline("private", "🔒 Жабу"), p.waitLastText("private", "Уақыт жабылды"))

	p.step("aliya-cancelled", p.phone(), p.switchPersona(5000001), p.waitLastText("private", "Кеңесіңіз өтпейді"),
		p.waitLastText("private", "маман оқуда"), p.waitLastText("private", "бір басумен жазыласыз"), p.rebookButtons(3))
	p.step("aliya-rebooked", p.pressFirstInline("private"), p.waitLastText("private", "Сіз жазылдыңыз!"))
}

// findChromium returns a Chromium or Chrome binary, or skips the test: CI
// installs Debian's chromium (see .ci/run), a laptop may have neither.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("JASTAR_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium binary found (install Debian's chromium package, or set JASTAR_CHROMIUM); the browser test of the sandbox is skipped")
	return ""
}

// signalWriter collects output and wakes a waiter on every write.
type signalWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return n, err
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

var sandboxURL = regexp.MustCompile(`http://127\.0\.0\.1:\d+/`)

// startSandbox runs "jastar sandbox -fast" on a free loopback port, as a
// newcomer would run it but without Telegram's pace, and returns the URL
// it prints. The tests that use it play long dialogues and are about what
// the bot says, not when; the sandbox's pace itself is
// TestSandbox_KeepsTelegramsPace's, and the shorter sandbox tests run at it.
func startSandbox(t *testing.T) string {
	t.Helper()
	u, _ := startSandboxWith(t, nil, "-fast")
	return u
}

// startSandboxWith runs "jastar sandbox" with the shell environment shell
// and the extra arguments, and returns the URL it prints and a stop
// function (also called at cleanup).
func startSandboxWith(t *testing.T, shell map[string]string, args ...string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &signalWriter{wrote: make(chan struct{}, 1)}
	done := make(chan error, 1)
	args = append([]string{"sandbox", "-addr", "127.0.0.1:0"}, args...)
	go func() { done <- run(ctx, args, env(shell), out, out) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("sandbox stopped with %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Error("sandbox did not stop")
			}
		})
	}
	t.Cleanup(stop)
	deadline := time.After(15 * time.Second)
	for {
		if u := sandboxURL.FindString(out.String()); u != "" {
			return u, stop
		}
		select {
		case <-out.wrote:
		case err := <-done:
			t.Fatalf("sandbox stopped before serving: %v\n%s", err, out.String())
		case <-deadline:
			t.Fatalf("sandbox printed no URL:\n%s", out.String())
		}
	}
}

// page is the browser tab; each step runs actions and then may write a
// screenshot named after it.
type page struct {
	t      *testing.T
	ctx    context.Context
	dir    string
	all    bool   // every step writes its screenshot
	readme string // the step whose screenshot a README picture is
	n      int
}

// The browser tests share one headless Chromium: starting one costs about
// a second of CPU and several seconds of wall time on a busy machine,
// more than most of a test's steps. Each test gets its own tab in its own
// browser context (cookies and storage apart, as in two browsers), and
// TestMain closes the browser once every test is done, failed or not; if
// the test process dies first, the kernel kills Chromium with it (chromedp
// starts it with Pdeathsig).
var shared struct {
	once   sync.Once
	ctx    context.Context // the browser's first tab, kept open for its lifetime
	err    error
	closed chan struct{} // closed when the browser has stopped
	close  func()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.close != nil {
		shared.close()
	}
	os.Exit(code)
}

// sharedBrowser starts the shared Chromium on first use and returns its
// context, from which a test opens its tab.
func sharedBrowser(t *testing.T, chrome string) context.Context {
	t.Helper()
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "jastar-chromium-")
		if err != nil {
			shared.err = err
			return
		}
		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(chrome),
			chromedp.Headless,
			chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox cannot start
			chromedp.DisableGPU,
			chromedp.NoFirstRun,
			chromedp.NoDefaultBrowserCheck,
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("hide-scrollbars", true),
			chromedp.Flag("accept-lang", "en-US,en"), // the page's own texts follow the browser's language
			// Two tests' tabs are open at once and only one can be in
			// front: the other must not have its timers, animation
			// frames (which the waits poll on) or renderer slowed down.
			chromedp.Flag("disable-background-timer-throttling", true),
			chromedp.Flag("disable-backgrounding-occluded-windows", true),
			chromedp.Flag("disable-renderer-backgrounding", true),
			chromedp.UserDataDir(dir),
			chromedp.WindowSize(1280, 800),
		}
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelBrowser := chromedp.NewContext(actx)
		shared.close = func() {
			// Closes Chromium gracefully, then kills what is left and
			// waits for it; only then is its folder free to remove.
			cancelBrowser()
			cancelAlloc()
			os.RemoveAll(dir)
		}
		// The first run starts the browser for the lifetime of its
		// context, so it gets no timeout.
		if err := chromedp.Do(ctx); err != nil {
			shared.err = fmt.Errorf("start Chromium: %w", err)
			return
		}
		shared.ctx = ctx
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.ctx
}

// newPage opens url in a new tab of the shared Chromium. Its steps write
// screenshots to $JASTAR_SCREENSHOTS when that is set, every one of them,
// as README's commands to redraw a picture expect. Otherwise only the step
// named readme is taken, into a temporary folder: a capture costs Chromium
// about 0.2 s of rendering and encoding, more than most steps, so taking
// them all would double the test's time for pictures nobody looks at;
// the one README shows still proves on every run that it can be taken.
func newPage(t *testing.T, chrome, url, readme string) *page {
	t.Helper()
	dir := os.Getenv("JASTAR_SCREENSHOTS")
	all := dir != ""
	if !all {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancelTab := chromedp.NewContext(sharedBrowser(t, chrome), chromedp.WithNewBrowserContext())
	t.Cleanup(cancelTab) // closes the tab and its browser context
	// The first run opens the tab and listens to it for the lifetime of
	// the context it is given, so it gets no timeout (a tab opened under
	// a shorter context would stop answering once that one ends); later
	// steps do.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab in Chromium: %v", err)
	}
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(startCtx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s in Chromium: %v", url, err)
	}
	return &page{t: t, ctx: ctx, dir: dir, all: all, readme: readme}
}

// step runs one user-visible step and screenshots the result when asked
// to (see newPage). Steps are numbered whether taken or not, so a file's
// name is the same in every run.
func (p *page) step(name string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	p.n++
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, actions...)
	take := p.all || name == p.readme
	var shot []byte
	if err == nil && take {
		shot, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
	}
	if err != nil {
		// The page's text explains most failures; reading it gets a bound
		// of its own, since a page that broke the step may not answer.
		tctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
		text, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.body.innerText`))
		cancel()
		p.t.Fatalf("step %q: %v\npage text:\n%s", name, err, text)
	}
	if !take {
		return
	}
	file := filepath.Join(p.dir, fmt.Sprintf("%02d-%s.png", p.n, name))
	if err := os.WriteFile(file, shot, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("step %q: screenshot %s", name, file)
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// until waits for a JavaScript condition to become true.
func until(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(15*time.Second))
}

func (p *page) waitVisible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

// waitText waits until a message of the pane shows text.
func (p *page) waitText(pane, text string) chromedp.Action[chromedp.Void] {
	return until(fmt.Sprintf(`[...document.querySelectorAll('#messages-%s .bubble')].some(b => b.innerText.includes(%s))`, pane, js(text)))
}

// waitLastText waits until the bot's newest message in the pane shows
// text: unlike waitText, an older message with the same words (an earlier
// booking's confirmation) does not count.
func (p *page) waitLastText(pane, text string) chromedp.Action[chromedp.Void] {
	return until(fmt.Sprintf(`(() => { const b = [...document.querySelectorAll('#messages-%s .msg:not(.own) .bubble')].pop(); return !!b && b.innerText.includes(%s); })()`, pane, js(text)))
}

// waitSelectorText waits until an element matching sel shows text.
func (p *page) waitSelectorText(sel, text string) chromedp.Action[chromedp.Void] {
	return until(fmt.Sprintf(`[...document.querySelectorAll(%s)].some(e => !e.closest('[hidden]') && e.textContent.includes(%s))`, js(sel), js(text)))
}

// click clicks the first element matching sel whose text contains text,
// waiting for it to appear.
func click(sel, text string) chromedp.Action[chromedp.Void] {
	find := fmt.Sprintf(`[...document.querySelectorAll(%s)].reverse().find(e => e.textContent.includes(%s))`, js(sel), js(text))
	return chromedp.Steps(until(find+` !== undefined`), chromedp.Evaluate[chromedp.Void](find+`.click()`))
}

func (p *page) pickPersona(id int64) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#picker button[data-persona="%d"]`, id))),
		chromedp.WaitNotVisible(chromedp.CSS("#picker")),
	)
}

// pageLanguage picks the page's language with the switch in its header;
// the page reloads in it.
func (p *page) pageLanguage(lang string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		// Changed after the evaluation returns: the navigation it starts
		// would otherwise cut the evaluation off.
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`setTimeout(() => { const s = document.getElementById('page-lang'); s.value = %s; s.dispatchEvent(new Event('change')); }, 50)`, js(lang))),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`html[lang=%s] #staff-toggle`, js(lang)))),
	)
}

// switchPersona picks another persona with the switch in the page's
// header, as someone rehearsing both sides would.
func (p *page) switchPersona(id int64) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.getElementById('persona'); s.value = %s; s.dispatchEvent(new Event('change')); })()`, js(strconv.FormatInt(id, 10))))
}

// rebookButtons waits until the newest inline keyboard of the private pane
// has n buttons.
func (p *page) rebookButtons(n int) chromedp.Action[chromedp.Void] {
	return until(fmt.Sprintf(`(() => { const k = [...document.querySelectorAll('#messages-private .inline')].pop(); return !!k && k.querySelectorAll('button').length === %d; })()`, n))
}

func (p *page) openStaffGroup() chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Click(chromedp.CSS("#staff-toggle")),
		chromedp.WaitVisible(chromedp.CSS("#pane-staff")),
	)
}

func (p *page) pressStart() chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS("#start"))
}

// pressInline presses the newest inline button of the pane with text.
func (p *page) pressInline(pane, text string) chromedp.Action[chromedp.Void] {
	return click("#messages-"+pane+" .inline button", text)
}

// pressFirstInline presses the first button of the newest inline keyboard
// in the pane: the soonest day or time the bot offers.
func (p *page) pressFirstInline(pane string) chromedp.Action[chromedp.Void] {
	find := fmt.Sprintf(`(() => { const k = [...document.querySelectorAll(%s)].pop(); return k && k.querySelector('button'); })()`, js("#messages-"+pane+" .inline"))
	return chromedp.Steps(until(find+` != null`), chromedp.Evaluate[chromedp.Void](find+`.click()`))
}

// pressKey presses a button of the pane's reply keyboard.
func (p *page) pressKey(pane, text string) chromedp.Action[chromedp.Void] {
	return click("#keyboard-"+pane+" button", text)
}

// send types text into the message box and sends it.
func (p *page) send(pane, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.SetValue(chromedp.CSS("#composer-"+pane+" input[name=text]"), text),
		chromedp.Click(chromedp.CSS("#composer-"+pane+" button.send")),
	)
}

// shareSettlement shares a location by picking a center's settlement in
// the location dialog.
func (p *page) shareSettlement(centerID string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Click(chromedp.CSS("#attach")),
		chromedp.WaitVisible(chromedp.CSS("#location-dialog")),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.getElementById('settlement'); s.value = %s; s.dispatchEvent(new Event('change')); })()`, js(centerID))),
		chromedp.Click(chromedp.CSS("#location-send")),
		chromedp.WaitNotVisible(chromedp.CSS("#location-dialog")),
	)
}

// phone makes the window as small as a 390-pixel-wide phone.
func (p *page) phone() chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(1))
}

func (p *page) pressTab(tab string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(fmt.Sprintf(`#tabs button[data-tab=%q]`, tab)))
}

// botAnswersStart sends /start as the persona through the page's API and
// returns the text of the bot's first answer in their chat, read from the
// page's event stream.
func botAnswersStart(t *testing.T, pageURL string, persona int64) string {
	t.Helper()
	c := newPageChat(t, pageURL, persona)
	c.post("api/send", map[string]any{"chat": persona, "text": "/start"})
	return c.nextWhere(func(pageMessage) bool { return true }).Text
}

// TestSandbox_IgnoresShellSettings runs the sandbox from a shell set up for
// production: an ops listener on every interface and a real Bot API. The
// sandbox must still listen on loopback only and talk to its own fake.
func TestSandbox_IgnoresShellSettings(t *testing.T) {
	t.Parallel()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opsPort := strconv.Itoa(free.Addr().(*net.TCPAddr).Port)
	free.Close()
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the sandbox called the Bot API of the shell: %s", r.URL.Path)
		http.Error(w, "not here", http.StatusUnauthorized)
	}))
	t.Cleanup(elsewhere.Close)

	pageURL, _ := startSandboxWith(t, map[string]string{
		"JASTAR_HTTP_ADDR":   "0.0.0.0:" + opsPort,
		"TELEGRAM_API_URL":   elsewhere.URL,
		"TELEGRAM_BOT_TOKEN": "999:PRODUCTION-TOKEN",
		"JASTAR_DB":          filepath.Join(t.TempDir(), "sandbox.db"),
	})
	if got := botAnswersStart(t, pageURL, 5000001); !strings.Contains(got, "Әлия") {
		t.Errorf("answer to /start = %q, want the greeting of Әлия", got)
	}
	// The bot answered, so runBot is past the point where it would have
	// opened the ops listener.
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+opsPort, time.Second); err == nil {
		c.Close()
		t.Errorf("something listens on JASTAR_HTTP_ADDR's port %s: the sandbox honoured the shell's JASTAR_HTTP_ADDR", opsPort)
	}
}

// TestSandbox_DatabaseWithPeople points JASTAR_DB at a stopped production
// database: the sandbox refuses it unless told that is meant.
func TestSandbox_DatabaseWithPeople(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "production.db")
	db, err := boltdb.Open(path, boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = db.SaveSubscription(context.Background(), storage.Subscription{
		ChatID: 123456789, Topics: []storage.Topic{storage.TopicNews}, Lang: "kk", Active: true, UpdatedAt: time.Now(),
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	shell := map[string]string{"JASTAR_DB": path}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	// A sandbox that took the file would serve until the deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var out bytes.Buffer
	err = run(ctx, []string{"sandbox", "-addr", "127.0.0.1:0"}, env(shell), &out, &out)
	var cerr *config.Error
	if !errors.As(err, &cerr) || !strings.Contains(err.Error(), "subscriptions of people who are not the sandbox's personas") ||
		!strings.Contains(err.Error(), "-db-with-people") {
		t.Fatalf("database with a subscriber: err = %v, want a configuration error naming the subscriptions and -db-with-people", err)
	}
	if strings.Contains(out.String(), "http://") {
		t.Errorf("the sandbox served a page on a refused database:\n%s", out.String())
	}
	// Refused means untouched: no migration or compaction a stopped
	// production bot would then trip over.
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(before, after) {
		t.Errorf("the refused database file changed (err %v)", err)
	}

	pageURL, _ := startSandboxWith(t, shell, "-db-with-people")
	if got := botAnswersStart(t, pageURL, 5000002); !strings.Contains(got, "Данияр") {
		t.Errorf("with -db-with-people: answer to /start = %q, want the greeting of Данияр", got)
	}
}

// TestSandbox_ReusesItsOwnDatabase runs the sandbox twice on one JASTAR_DB,
// as someone who keeps their rehearsal would: the second run needs no flag,
// and the bot answers although the new fake numbers its updates from 1 again.
func TestSandbox_ReusesItsOwnDatabase(t *testing.T) {
	t.Parallel()
	shell := map[string]string{"JASTAR_DB": filepath.Join(t.TempDir(), "rehearsal.db")}
	for run := 1; run <= 2; run++ {
		pageURL, stop := startSandboxWith(t, shell)
		for _, persona := range []int64{5000001, 5000003} {
			if got := botAnswersStart(t, pageURL, persona); got == "" {
				t.Fatalf("run %d: persona %d got an empty answer to /start", run, persona)
			}
		}
		stop()
	}
}

// TestSandbox_SvetlanaShowsTheSafetyNet: Светлана holds an anonymous
// booking of the psychologist, whose code she reads in "My bookings", and
// a message of someone in crisis gets the help lines first.
func TestSandbox_SvetlanaShowsTheSafetyNet(t *testing.T) {
	t.Parallel()
	texts, err := testTexts()
	if err != nil {
		t.Fatal(err)
	}
	ru := texts.For("ru")
	pageURL, _ := startSandboxWith(t, nil)
	chat := newPageChat(t, pageURL, 5000004)
	item := chat.send("/mybookings")
	if !strings.Contains(item.Text, "П-") || !strings.Contains(item.Text, "🔒") {
		t.Errorf("Светлана's booking = %q, want an anonymous one with its code", item.Text)
	}
	crisis, _, _ := strings.Cut(ru.T(locales.CrisisAnswer), "\n")
	if answer := chat.send("мне очень плохо, не хочу жить"); !strings.HasPrefix(answer.Text, crisis) || !strings.Contains(answer.Text, "111") {
		t.Errorf("the answer to a crisis message = %q, want the help lines first", answer.Text)
	}
}

// TestSandbox_ShowsUpcomingEventsOnAnyDate opens the sandbox today and at
// the rehearsed dates, as a newcomer would, and lists all events: the
// sandbox brings its own, so there are always two pages of them, one full
// and one with a waitlist, whatever the catalog's example events say.
func TestSandbox_ShowsUpcomingEventsOnAnyDate(t *testing.T) {
	t.Parallel()
	texts, err := testTexts()
	if err != nil {
		t.Fatal(err)
	}
	// Today, and a day after every example event of the catalog has passed
	// (the whole path runs at every rehearsed date in the load smoke test
	// and bot.TestFlows_OnAnyDate). -fast: the list and the cards are what
	// is tested here, not the pace.
	dates := []struct{ name, at string }{{"today", ""}, rehearsedDates[1]}
	for _, d := range dates {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"-fast"}
			if d.at != "" {
				args = append(args, "-now", d.at)
			}
			pageURL, _ := startSandboxWith(t, nil, args...)
			// Әлия: the other young personas fill the events.
			chat := newPageChat(t, pageURL, 5000001)
			list := chat.send("/events").pressWhere(func(data string) bool { return strings.HasPrefix(data, "evl:a") })
			events := list.buttonsWith("ev:")
			if len(events) < 5 || len(list.buttonsWith("evl:a:-:1")) == 0 {
				t.Fatalf("all events at %q: %d event buttons and no next page in %q", d.at, len(events), list.Text)
			}
			// The second event is full, the third has someone waiting:
			// both offer the waitlist, and the third says who waits. Their
			// buttons are found by title: today the catalog's example
			// events are in the list too.
			kk := texts.For("kk")
			ours := rehearsal.Events(time.Now(), catalog.Default(time.UTC))
			for _, c := range []struct {
				title, want string
			}{{ours[1].TitleKK, ""}, {ours[2].TitleKK, kk.N(locales.EventWaiting, 1)}} {
				card := list.pressWhere(func(data string) bool {
					return strings.HasPrefix(data, "ev:") && strings.Contains(list.labelOf(data), c.title)
				})
				if len(card.buttonsWithText(kk.T(locales.ButtonJoinWaitlist))) == 0 || !strings.Contains(card.Text, c.want) {
					t.Errorf("%q at %q: want a full event with the waitlist button and %q, got %q %v", c.title, d.at, c.want, card.Text, card.Inline)
				}
				list = card.pressWhere(func(data string) bool { return strings.HasPrefix(data, "evl:a") })
			}
			second := list.pressWhere(func(data string) bool { return data == "evl:a:-:1" })
			if len(second.buttonsWith("ev:")) == 0 {
				t.Errorf("second page at %q has no events: %q", d.at, second.Text)
			}
		})
	}
}

// pageChat is one persona's private chat through the sandbox page's API,
// read from its event stream.
type pageChat struct {
	t       *testing.T
	url     string
	persona int64
	stream  *bufio.Scanner
}

// pageMessage is a bot message (or its edit) as the page shows it.
type pageMessage struct {
	chat   *pageChat
	ID     int
	Text   string
	Inline [][]struct {
		Text string `json:"text"`
		Data string `json:"data"`
	}
	Photo *struct{} `json:"photo"` // set when the message carries an image
}

func newPageChat(t *testing.T, pageURL string, persona int64) *pageChat {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, pageURL+"api/events?as="+strconv.FormatInt(persona, 10), nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("event stream: %v", err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return &pageChat{t: t, url: pageURL, persona: persona, stream: bufio.NewScanner(res.Body)}
}

func (c *pageChat) post(path string, body map[string]any) {
	c.t.Helper()
	body["as"] = c.persona
	raw, _ := json.Marshal(body)
	res, err := http.Post(c.url+path, "application/json", bytes.NewReader(raw))
	if err != nil {
		c.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		c.t.Fatalf("%s %s: %s", path, raw, res.Status)
	}
}

// next returns the bot's next message or edit in the persona's chat that
// has inline buttons.
func (c *pageChat) next() pageMessage {
	c.t.Helper()
	return c.nextWhere(func(m pageMessage) bool { return len(m.Inline) > 0 })
}

// nextWhere returns the bot's next message or edit in the persona's chat
// that satisfies want.
func (c *pageChat) nextWhere(want func(pageMessage) bool) pageMessage {
	c.t.Helper()
	for c.stream.Scan() {
		data, ok := strings.CutPrefix(c.stream.Text(), "data: ")
		if !ok {
			continue
		}
		var e struct {
			Chat    int64 `json:"chat"`
			Message *struct {
				FromBot bool `json:"from_bot"`
				pageMessage
			} `json:"message"`
		}
		if err := json.Unmarshal([]byte(data), &e); err != nil {
			c.t.Fatalf("event %s: %v", data, err)
		}
		if e.Chat == c.persona && e.Message != nil && e.Message.FromBot && want(e.Message.pageMessage) {
			m := e.Message.pageMessage
			m.chat = c
			return m
		}
	}
	c.t.Fatalf("the bot stopped answering: %v", c.stream.Err())
	return pageMessage{}
}

// send writes text as the persona and returns the bot's answer with
// buttons.
func (c *pageChat) send(text string) pageMessage {
	c.t.Helper()
	c.post("api/send", map[string]any{"chat": c.persona, "text": text})
	return c.next()
}

// pressWhere presses the first button whose data matches and returns the
// answer with buttons.
func (m pageMessage) pressWhere(match func(data string) bool) pageMessage {
	m.chat.t.Helper()
	for _, row := range m.Inline {
		for _, b := range row {
			if match(b.Data) {
				m.chat.post("api/press", map[string]any{"chat": m.chat.persona, "message_id": m.ID, "data": b.Data})
				return m.chat.next()
			}
		}
	}
	m.chat.t.Fatalf("no such button in %q: %v", m.Text, m.Inline)
	return pageMessage{}
}

// labelOf returns the label of the button with data.
func (m pageMessage) labelOf(data string) string {
	for _, row := range m.Inline {
		for _, b := range row {
			if b.Data == data {
				return b.Text
			}
		}
	}
	return ""
}

// buttonsWithText returns the data of the buttons labelled text.
func (m pageMessage) buttonsWithText(text string) []string {
	var out []string
	for _, row := range m.Inline {
		for _, b := range row {
			if b.Text == text {
				out = append(out, b.Data)
			}
		}
	}
	return out
}

// buttonsWith returns the data of the buttons whose data starts with
// prefix.
func (m pageMessage) buttonsWith(prefix string) []string {
	var out []string
	for _, row := range m.Inline {
		for _, b := range row {
			if strings.HasPrefix(b.Data, prefix) {
				out = append(out, b.Data)
			}
		}
	}
	return out
}

// TestSandbox_PersonasAreSubscribed: the young personas but the first hear
// events and news, each in another district, so an announcement or a poll
// Асқар sends in the sandbox reaches someone; a second run changes no one's
// subscription.
func TestSandbox_PersonasAreSubscribed(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rehearsal.db")
	shell := map[string]string{"JASTAR_DB": path}
	for run := 1; run <= 2; run++ {
		_, stop := startSandboxWith(t, shell)
		stop()
	}
	db, err := boltdb.Open(path, boltdb.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	districts := map[string]bool{}
	for _, id := range []int64{5000002, 5000003, 5000004} {
		s, err := db.Subscription(context.Background(), id)
		if err != nil || !s.Active || !s.Has(storage.TopicNews) || !s.Has(storage.TopicEvents) || s.DistrictID == "" {
			t.Errorf("persona %d: subscription %+v, %v; want events and news in a district", id, s, err)
		}
		districts[s.DistrictID] = true
	}
	if len(districts) < 2 {
		t.Errorf("the personas share one district: %v", districts)
	}
	if _, err := db.Subscription(context.Background(), 5000001); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Әлия, whom a newcomer meets first, is subscribed (%v): she must be offered it", err)
	}
}

// TestSandbox_KeepsTelegramsPace: the sandbox rehearses the pace the bot
// will have in Telegram. Its bot gets Telegram's sending limits, and its
// fake Bot API answers a burst of messages to one person with 429 Too Many
// Requests, as Telegram would. -fast, which the long sandbox tests use,
// lifts both.
func TestSandbox_KeepsTelegramsPace(t *testing.T) {
	t.Parallel()
	for _, fast := range []bool{false, true} {
		args := []string{"-addr", "127.0.0.1:0"}
		if fast {
			args = append(args, "-fast")
		}
		var limits tg.Limits
		var throttled bool
		c := sandbox.Command{Open: openSandboxStore, Config: sandboxConfig,
			// In place of the bot: what it would be configured with, and
			// how the fake answers a burst.
			RunBot: func(ctx context.Context, getenv func(string) string, _ io.Writer, _ string) error {
				cfg, err := loadConfig(getenv)
				if err != nil {
					return err
				}
				limits = cfg.Limits
				throttled, err = burstThrottled(ctx, getenv("TELEGRAM_API_URL"), getenv("TELEGRAM_BOT_TOKEN"), 5000001)
				return err
			}}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := c.Run(ctx, args, env(nil), io.Discard, io.Discard)
		cancel()
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		unlimited := tg.Limits{MaxRetry: tg.DefaultLimits().MaxRetry, ChatBurst: tg.DefaultLimits().ChatBurst}
		switch {
		case !fast && (limits != tg.DefaultLimits() || !throttled):
			t.Errorf("sandbox: the bot's limits %+v (want Telegram's %+v), a burst throttled: %v (want true)", limits, tg.DefaultLimits(), throttled)
		case fast && (limits != unlimited || throttled):
			t.Errorf("sandbox -fast: the bot's limits %+v (want none), a burst throttled: %v (want false)", limits, throttled)
		}
	}
}

// burstThrottled sends messages to chat back to back, more than Telegram
// lets through to one person at once, and reports whether the Bot API at
// apiURL answered one of them with 429.
func burstThrottled(ctx context.Context, apiURL, token string, chat int64) (bool, error) {
	for i := range 10 {
		body := strings.NewReader(fmt.Sprintf(`{"chat_id":%d,"text":"burst %d"}`, chat, i))
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, apiURL+"/bot"+token+"/sendMessage", body)
		if err != nil {
			return false, err
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err
		}
		res.Body.Close()
		switch res.StatusCode {
		case http.StatusTooManyRequests:
			return true, nil
		case http.StatusOK:
		default:
			return false, fmt.Errorf("sendMessage: %s", res.Status)
		}
	}
	return false, nil
}
