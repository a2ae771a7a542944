package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"
)

type subscriberList []struct {
	chat     int64
	lang     string
	district string
}

func (s subscriberList) EventSubscribers(ctx context.Context, fn func(int64, string, string) error) error {
	for _, sub := range s {
		if err := fn(sub.chat, sub.lang, sub.district); err != nil {
			return err
		}
	}
	return nil
}

type digestRecorder struct {
	got      []string
	fail     map[int64]error
	nothing  bool
	from, to time.Time
}

func (d *digestRecorder) EventDigest(_ context.Context, chat int64, lang, district string, from, to time.Time) (bool, error) {
	if d.nothing {
		return false, nil
	}
	d.from, d.to = from, to
	if err := d.fail[chat]; err != nil {
		return false, err
	}
	d.got = append(d.got, fmt.Sprintf("%d:%s:%s", chat, lang, district))
	return true, nil
}

func TestWeeklyDigest(t *testing.T) {
	ctx := context.Background()
	subs := subscriberList{{1, "kk", "karasai"}, {2, "ru", ""}, {3, "kk", ""}}
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, almaty(t))
	log := slog.New(slog.DiscardHandler)

	t.Run("every subscriber in their language and district, the coming week", func(t *testing.T) {
		d := &digestRecorder{}
		if err := WeeklyDigest(subs, d, log)(ctx, now); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(d.got) != "[1:kk:karasai 2:ru: 3:kk:]" || !d.from.Equal(now) || !d.to.Equal(now.AddDate(0, 0, 7)) {
			t.Errorf("sent %v for [%v, %v)", d.got, d.from, d.to)
		}
	})
	t.Run("one failed chat does not stop the rest", func(t *testing.T) {
		d := &digestRecorder{fail: map[int64]error{2: errors.New("forbidden")}}
		if err := WeeklyDigest(subs, d, log)(ctx, now); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(d.got) != "[1:kk:karasai 3:kk:]" {
			t.Errorf("sent %v", d.got)
		}
	})
	t.Run("no events this week: nothing sent, no error", func(t *testing.T) {
		d := &digestRecorder{nothing: true}
		if err := WeeklyDigest(subs, d, log)(ctx, now); err != nil || len(d.got) != 0 {
			t.Errorf("got %v, %v", d.got, err)
		}
	})
	t.Run("no subscribers", func(t *testing.T) {
		d := &digestRecorder{}
		if err := WeeklyDigest(subscriberList{}, d, log)(ctx, now); err != nil || len(d.got) != 0 {
			t.Errorf("got %v, %v", d.got, err)
		}
	})
}
