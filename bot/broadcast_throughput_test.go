package bot

import (
	"context"
	"flag"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"jastar/bot/telegramtest"
	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/storagetest"
)

// The throughput test is opt-in: at Telegram's pace 10,000 messages take
// about seven minutes.
//
//	go test -run TestBroadcastThroughput -v -timeout 20m ./bot -args -throughput
//	go test -run TestBroadcastThroughput -v ./bot -args -throughput -throughput-rate 1000 -throughput-n 50000
var (
	throughput     = flag.Bool("throughput", false, "run TestBroadcastThroughput against the fake Bot API")
	throughputRate = flag.Float64("throughput-rate", DefaultBroadcastRate, "broadcast rate in messages a second; above 28 the fake's and the sender's global limits are raised to match")
	throughputN    = flag.Int("throughput-n", 10_000, "number of subscribers")
)

// TestBroadcastThroughput delivers one broadcast to throughputN subscribers
// against the fake Bot API with Telegram's flood limits on, and reports the
// achieved rate, the 429s and the heap. At the default rate it requires 95%
// of the configured rate and no 429 at all.
func TestBroadcastThroughput(t *testing.T) {
	t.Parallel()
	if !*throughput {
		t.Skip("opt-in: go test -run TestBroadcastThroughput -v -timeout 20m ./bot -args -throughput")
	}
	rate, n := *throughputRate, *throughputN
	quick := rate > 28
	limits := tg.DefaultLimits()
	fakeRate := telegramtest.DefaultGlobalRate
	if quick {
		limits.PerSecond = rate * 1.5
		fakeRate = int(rate * 2)
	}
	// The fake keeps no call log and a short transcript, so its own memory
	// does not grow with the audience and hide ours.
	srv := telegramtest.NewServer(t, telegramtest.Options{RateLimit: true, GlobalRate: fakeRate, MaxCalls: -1, MaxTranscript: 8})
	h := &harness{t: t, srv: srv, logs: &syncBuffer{}}
	h.db = storagetest.Open(t)
	h.dbPath = h.db.Path()
	h.cfg = Config{
		Token: srv.Token(), APIEndpoint: srv.Endpoint(), Location: almaty(t), Limits: limits,
		PollTimeout: time.Second, Workers: 8, AdminIDs: []int64{adminID}, BroadcastRate: rate,
	}
	h.start()

	const first = int64(10_000_000)
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				id := first + i
				srv.AddPrivateChat(telegramtest.User{ID: id, FirstName: "S"})
				s := storage.Subscription{ChatID: id, Topics: []storage.Topic{storage.TopicNews}, Lang: storage.Russian, Active: true}
				if err := h.db.SaveSubscription(ctx, s); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()

	confirm := h.compose(version{skip: true}, version{text: "Нагрузочный тест <b> * _"}, ru(locales.TopicNews), ru(locales.AllDistricts), ru(locales.BroadcastBothLanguages))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.HeapInuse
	var peak atomic.Uint64
	var peakG atomic.Int64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	start := time.Now()
	lastLog, lastSent := start, 0
	sampler.Go(func() {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if time.Since(lastLog) >= 30*time.Second {
				if bc, err := h.db.Broadcast(ctx, 1); err == nil {
					t.Logf("%4.0fs: %d sent, %.1f msg/s over the last interval", time.Since(start).Seconds(), bc.Counts.Sent,
						float64(bc.Counts.Sent-lastSent)/time.Since(lastLog).Seconds())
					lastSent, lastLog = bc.Counts.Sent, time.Now()
				}
			}
			if g := int64(runtime.NumGoroutine()); g > peakG.Load() {
				peakG.Store(g)
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
		}
	})
	sentBefore, _, _ := h.bot.send.Stats()
	h.press(admin, confirm, ru(locales.BroadcastSendButton))
	// The quick runs are bound by bbolt commits, not by the rate: allow 100/s.
	report := h.waitReport(0, time.Duration(float64(n)/min(rate, 100)*1.3*float64(time.Second))+time.Minute)
	elapsed := time.Since(start)
	close(stop)
	sampler.Wait()
	runtime.GC()
	runtime.ReadMemStats(&ms)

	bc := lastBroadcast(t, h)
	sent, throttled, _ := h.bot.send.Stats()
	achieved := float64(bc.Counts.Sent) / elapsed.Seconds()
	t.Logf("%d recipients at %.0f/s configured (fake enforces %d/s overall, 1/s per chat): sent %d in %v = %.2f msg/s (%.1f%%), 429 answers %d, messages through the sender %d",
		n, rate, fakeRate, bc.Counts.Sent, elapsed.Round(time.Millisecond), achieved, 100*achieved/rate, throttled, sent-sentBefore)
	t.Logf("heap in use: before %.1f MiB, peak %.1f MiB (+%.1f MiB), after %.1f MiB; goroutines at most %d (fake Bot API included)",
		mib(before), mib(peak.Load()), mib(peak.Load())-mib(before), mib(ms.HeapInuse), peakG.Load())
	if bc.Counts.Sent != n || !strings.Contains(report.Text, "Отправлено") {
		t.Errorf("sent %d of %d: %+v", bc.Counts.Sent, n, bc.Counts)
	}
	if throttled != 0 {
		t.Errorf("%d answers were 429; the bot must stay under the limit", throttled)
	}
	if !quick && achieved < 0.95*rate {
		t.Errorf("achieved %.2f msg/s, want at least 95%% of %.0f", achieved, rate)
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
