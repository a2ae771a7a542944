package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestSandbox_Browser drives the sandbox chat page in headless Chromium, as
// a newcomer would: pick a Kazakh-speaking young person, press START, read
// the Kazakh greeting, share a location near Kaskelen and see the Karasai
// center, book a consultation to the end while the staff group shows the
// notification, switch to Russian, then look at the page on a phone-sized
// screen. Every step writes a
// screenshot to $JASTAR_SCREENSHOTS (default: a temporary folder); README's
// docs/sandbox.png is one of them.
func TestSandbox_Browser(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser; skipped with -short")
	}
	chrome := findChromium(t)
	url := startSandbox(t)
	p := newPage(t, chrome, url)

	p.step("persona-picker", p.waitVisible("#picker"))
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
	p.step("phone-staff-tab", p.phone(), p.pressTab("staff"), p.waitVisible("#messages-staff"))
	p.step("phone-chat-tab", p.pressTab("private"), p.waitVisible("#messages-private"))
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

// startSandbox runs "jastar sandbox" on a free loopback port, as a newcomer
// would run it, and returns the URL it prints.
func startSandbox(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &signalWriter{wrote: make(chan struct{}, 1)}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"sandbox", "-addr", "127.0.0.1:0"}, env(nil), out, out) }()
	t.Cleanup(func() {
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
	deadline := time.After(15 * time.Second)
	for {
		if u := sandboxURL.FindString(out.String()); u != "" {
			return u
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

// page is the browser tab; each step runs actions and then writes a
// screenshot named after it.
type page struct {
	t   *testing.T
	ctx context.Context
	dir string
	n   int
}

func newPage(t *testing.T, chrome, url string) *page {
	t.Helper()
	dir := os.Getenv("JASTAR_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
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
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	// The first run starts the browser for the lifetime of its context, so
	// it gets no timeout; later steps do.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(startCtx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s in Chromium: %v", url, err)
	}
	return &page{t: t, ctx: ctx, dir: dir}
}

// step runs one user-visible step and screenshots the result.
func (p *page) step(name string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	p.n++
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, actions...)
	var shot []byte
	if err == nil {
		shot, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
	}
	if err != nil {
		text, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.body.innerText`))
		p.t.Fatalf("step %q: %v\npage text:\n%s", name, err, text)
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

func TestRun_SandboxFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"sandbox", "-addr", "0.0.0.0:8080"}, env(nil), &out, &errOut)
	var cerr *configError
	if !errors.As(err, &cerr) || !strings.Contains(err.Error(), "loopback only") {
		t.Errorf("public address: err = %v, want a configuration error about loopback", err)
	}
	if err := run(context.Background(), []string{"sandbox", "-h"}, env(nil), &out, &errOut); err != nil {
		t.Errorf("-h: %v", err)
	}
	if !strings.Contains(errOut.String(), "-addr") {
		t.Errorf("-h printed %q, want the -addr flag", errOut.String())
	}
	if err := run(context.Background(), []string{"sandbox", "extra"}, env(nil), &out, &errOut); !errors.Is(err, errUsage) {
		t.Errorf("extra argument: err = %v, want a usage error", err)
	}
}
