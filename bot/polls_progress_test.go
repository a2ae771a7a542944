package bot

import (
	"strings"
	"testing"

	"jastar/locales"
	"jastar/storage"
)

// TestPoll_ProgressAndReportNameAPoll: the admin's progress message of a
// poll's delivery, edited in place, and the report at its end name a poll
// by its number, in the admin's language, not an announcement; /broadcasts
// labels the job as the poll.
func TestPoll_ProgressAndReportNameAPoll(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAdmin(0))
	h.subscriber(511, storage.Kazakh, "", storage.TopicEvents)
	h.subscriber(512, storage.Russian, "", storage.TopicJobs)

	confirm := h.composePoll()
	h.press(admin, confirm, ru(locales.BroadcastSendButton))
	p := lastPoll(t, h)
	head := firstLine(plain(ru(locales.PollProgress, locales.Data{"Poll": p.ID, "Status": ru(locales.BroadcastStatusDone)})))
	if !strings.Contains(head, "опроса") {
		t.Fatalf("the poll's progress head %q does not name a poll", head)
	}
	// The report comes as a new message once every recipient is done.
	report := h.waitText(adminID, head, "/polls")
	if strings.Contains(report.Text, "Объявление") {
		t.Errorf("the poll's report calls it an announcement: %q", report.Text)
	}
	// The progress message, edited in place, ends the same way.
	eventually(t, func() bool {
		for _, m := range h.srv.Transcript(adminID) {
			if strings.HasPrefix(m.Text, head) && strings.Contains(m.Text, "⏳") && !strings.Contains(m.Text, "/polls") {
				return true
			}
		}
		return false
	})
	for _, m := range h.srv.Transcript(adminID) {
		if strings.HasPrefix(m.Text, "📣") {
			t.Errorf("a message of the poll's delivery is an announcement's: %q", m.Text)
		}
	}

	list := h.ask(admin, "/broadcasts", ru(locales.PollBroadcastLabel, locales.Data{"ID": p.ID}))
	if strings.Count(list.Text, "№") < 2 {
		t.Errorf("/broadcasts = %q, want the job and its poll", list.Text)
	}
}
