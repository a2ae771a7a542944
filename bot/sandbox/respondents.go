package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"jastar/bot/ops"
	"jastar/bot/telegramtest"
	"jastar/storage"
	"jastar/storage/catalog"
)

// Respondents are simulated young people, not personas: subscribed like
// the personas, and answering every poll that reaches them at once. A
// poll's results show no district with fewer than 5 respondents, and hide
// one more when the hidden ones together are fewer than 5 (or else the
// total would give them away). With the three subscribed personas alone,
// each in another district, every district would read "fewer than 5".
// With these, six in Данияр's district and two in each of Ерасыл's and
// Светлана's, Данияр's shows real counts (7) and the other two "fewer
// than 5" (3 each, 6 together). They are no one to talk to, so the page
// does not offer them, and they take no part in anything but polls.
const (
	FirstRespondent int64 = 5100001
	Respondents           = 10
)

// respondentDistrict is the index, in the catalog's listed districts, of
// each respondent's district: subscribePersonas gives Данияр, Ерасыл and
// Светлана the districts 0, 1 and 2.
var respondentDistrict = [Respondents]int{0, 0, 0, 0, 0, 0, 1, 1, 2, 2}

// respondentIDs are the chat ids of the Respondents.
func respondentIDs() []int64 {
	ids := make([]int64, Respondents)
	for i := range ids {
		ids[i] = FirstRespondent + int64(i)
	}
	return ids
}

// subscribeRespondents stores the Respondents, half in each language,
// subscribed to events and news in their districts, dated now. One who has
// a subscription (an earlier run) keeps it.
func subscribeRespondents(ctx context.Context, db Store, cat *catalog.Catalog, now time.Time) error {
	districts := cat.ListedDistricts()
	for i, id := range respondentIDs() {
		if _, err := db.Subscription(ctx, id); err == nil {
			continue
		} else if !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("sandbox: subscription of %d: %w", id, err)
		}
		lang := storage.Kazakh
		if i%2 == 1 {
			lang = storage.Russian
		}
		u := storage.User{ChatID: id, Lang: lang, LangSet: true, FirstName: fmt.Sprintf("Respondent %d", i+1), Active: true,
			SubscriptionOffered: true, CreatedAt: now, UpdatedAt: now}
		if err := db.SaveUser(ctx, u); err != nil {
			return fmt.Errorf("sandbox: respondent %d: %w", id, err)
		}
		sub := storage.Subscription{ChatID: id, Topics: []storage.Topic{storage.TopicEvents, storage.TopicNews},
			Lang: lang, Active: true, UpdatedAt: now}
		if len(districts) > 0 {
			sub.DistrictID = districts[respondentDistrict[i]%len(districts)].ID
		}
		if err := db.SaveSubscription(ctx, sub); err != nil {
			return fmt.Errorf("sandbox: subscribe %d: %w", id, err)
		}
	}
	return nil
}

// answerPolls makes the Respondents answer each poll question the bot
// sends them, each its own option (the i-th respondent the option i modulo
// their number), until ctx ends or the fake closes. It answers from its
// own goroutine: the fake must not be called back from inside its event.
func answerPolls(ctx context.Context, fake *telegramtest.Server, log *slog.Logger) {
	index := map[int64]int{}
	for i, id := range respondentIDs() {
		index[id] = i
		fake.AddPrivateChat(telegramtest.User{ID: id, FirstName: fmt.Sprintf("Respondent %d", i+1)})
	}
	events, stop := fake.Subscribe()
	go func() {
		defer stop()
		defer ops.Recovered(log, nil, "sandbox_respondents", nil)
		answered := map[[2]int64]bool{} // chat, message
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-events:
				if !ok {
					return
				}
				i, mine := index[e.ChatID]
				if !mine || e.Kind != "message" || !e.Message.FromBot {
					continue
				}
				var options []string
				for _, row := range e.Message.InlineKeyboard {
					for _, b := range row {
						// pa:<poll>:<mask>: an answer button of a question;
						// not "other", which waits for a text.
						if isOption(b.CallbackData) {
							options = append(options, b.CallbackData)
						}
					}
				}
				key := [2]int64{e.ChatID, int64(e.Message.ID)}
				if len(options) == 0 || answered[key] {
					continue
				}
				answered[key] = true
				fake.PressButton(telegramtest.User{ID: e.ChatID, FirstName: "Respondent"}, e.ChatID, e.Message.ID, options[i%len(options)])
			}
		}
	}()
}

// otherBit is the bit of the "other" answer in an answer button's mask.
const otherBit = 1 << 8

// isOption tells an answer button of one of the poll's own options.
func isOption(data string) bool {
	parts := strings.Split(data, ":")
	if len(parts) != 3 || parts[0] != "pa" {
		return false
	}
	mask, err := strconv.ParseUint(parts[2], 36, 16)
	return err == nil && mask != 0 && mask&otherBit == 0
}
