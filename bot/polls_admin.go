package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/bot/report"
	"jastar/bot/tg"
	"jastar/locales"
	"jastar/storage"
)

// The admin side of polls: composing (/poll), the results (/polls), and
// closing with its summaries.

// flowPoll is the composing dialogue. Steps: "qkk", "okk", "qru", "oru"
// take the question and its options (one a line) per language; "m", "o",
// "t", "d", "l", "c", "n" are buttons (several answers, "other", the
// audience, the closing days, the respondents' summary); "confirm" holds
// the draft ("draft": its id) until send or cancel.
const flowPoll = "poll"

// pollDays are the closing times offered, in days; the default is 7.
var pollDays = []int{1, 3, 7, 14}

// recentPollsShown is how many polls /polls lists.
const recentPollsShown = 10

func (f *polls) admin(r *tg.Request) bool { return r.From != nil && f.isAdmin(r.From.ID) }

func (f *polls) notAllowed(ctx context.Context, r *tg.Request) error {
	if r.Query != nil {
		f.tx.Alert(ctx, r, r.L.T(locales.NotAllowed))
		return nil
	}
	_, err := f.tx.Reply(ctx, r, r.L.T(locales.NotAllowed), f.mainMenu(r.L))
	return err
}

// pollState is what the composing dialogue has collected.
type pollState struct {
	Question  storage.PollText `json:"question"`
	OptionsKK []string         `json:"options_kk,omitempty"`
	OptionsRU []string         `json:"options_ru,omitempty"`
	Multiple  bool             `json:"multiple,omitempty"`
	Other     bool             `json:"other,omitempty"`
	Audience  storage.Audience `json:"audience"`
	Days      int              `json:"days,omitempty"` // open for; 0 until chosen
	Notify    bool             `json:"notify,omitempty"`
	// DraftID is the draft stored for the preview, 0 before it.
	DraftID uint64 `json:"draft,omitempty"`
}

type pollDialogue = dialogue[pollState]

// handlePoll starts composing a poll (admins only).
func (f *polls) handlePoll(ctx context.Context, r *tg.Request) error {
	if !f.admin(r) || !r.Private {
		return f.notAllowed(ctx, r)
	}
	if err := saveDialogue(ctx, f.store, newDialogue[pollState](r.ChatID, flowPoll, "qkk", f.now()), f.now()); err != nil {
		return err
	}
	return f.askQuestion(ctx, r, storage.Kazakh)
}

func (f *polls) askQuestion(ctx context.Context, r *tg.Request, lang storage.Lang) error {
	id := locales.PollAskQuestionKK
	if lang == storage.Russian {
		id = locales.PollAskQuestionRU
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(button(r.L.T(locales.BroadcastSkipButton), cbPollCompose, "skip")))
	_, err := f.tx.Reply(ctx, r, r.L.T(id), kb)
	return err
}

// handleComposeStep takes the question and options texts.
func (f *polls) handleComposeStep(ctx context.Context, r *tg.Request, conv storage.Conversation) error {
	if !f.admin(r) {
		if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
			return err
		}
		return f.notAllowed(ctx, r)
	}
	dlg, err := dialogueOf[pollState](conv)
	if err != nil || len(conv.State) == 0 {
		// Written by a version whose state differed (or by the untyped
		// one): start over rather than send half of it.
		if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
			return err
		}
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.DialogExpired), f.mainMenu(r.L))
		return err
	}
	text := ""
	if r.Message != nil {
		text = strings.TrimSpace(r.Message.Text)
	}
	st := &dlg.State
	switch dlg.Step {
	case "qkk", "qru":
		if text == "" || utf16Len(text) > storage.MaxPollQuestionLen {
			_, err := f.tx.Reply(ctx, r, r.L.T(locales.PollQuestionBad, locales.Data{"Max": storage.MaxPollQuestionLen}), nil)
			return err
		}
		if dlg.Step == "qkk" {
			st.Question.KK = text
		} else {
			st.Question.RU = text
		}
		dlg.Step = "o" + dlg.Step[1:]
		if err := saveDialogue(ctx, f.store, dlg, f.now()); err != nil {
			return err
		}
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.PollAskOptions, locales.Data{"Max": storage.MaxPollOptionLen}), nil)
		return err
	case "okk", "oru":
		opts, ok := splitOptions(text)
		// Both languages list the same options, in the same order.
		if ok && dlg.Step == "oru" && len(st.OptionsKK) > 0 && len(st.OptionsKK) != len(opts) {
			ok = false
		}
		if !ok {
			_, err := f.tx.Reply(ctx, r, r.L.T(locales.PollOptionsBad, locales.Data{"Max": storage.MaxPollOptionLen}), nil)
			return err
		}
		if dlg.Step == "okk" {
			st.OptionsKK = opts
			dlg.Step = "qru"
			if err := saveDialogue(ctx, f.store, dlg, f.now()); err != nil {
				return err
			}
			return f.askQuestion(ctx, r, storage.Russian)
		}
		st.OptionsRU = opts
		return f.askYesNo(ctx, r, dlg, "m", locales.PollAskMultiple, false)
	}
	_, err = f.tx.Reply(ctx, r, r.L.T(locales.BroadcastUseButtons), nil)
	return err
}

// splitOptions reads options one a line: 2 to 8, each short and different.
func splitOptions(text string) ([]string, bool) {
	var out []string
	seen := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if utf16Len(line) > storage.MaxPollOptionLen || seen[strings.ToLower(line)] {
			return nil, false
		}
		seen[strings.ToLower(line)] = true
		out = append(out, line)
	}
	return out, len(out) >= storage.MinPollOptions && len(out) <= storage.MaxPollOptions
}

// askYesNo moves to a yes/no step; edit says whether to edit the pressed
// message rather than send a new one.
func (f *polls) askYesNo(ctx context.Context, r *tg.Request, dlg pollDialogue, step, prompt string, edit bool) error {
	dlg.Step = step
	if err := saveDialogue(ctx, f.store, dlg, f.now()); err != nil {
		return err
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		button(r.L.T(locales.PollYesButton), cbPollCompose, step, "y"),
		button(r.L.T(locales.PollNoButton), cbPollCompose, step, "n"),
	))
	if edit {
		return f.tx.Edit(ctx, r, r.L.T(prompt), &kb)
	}
	_, err := f.tx.Reply(ctx, r, r.L.T(prompt), kb)
	return err
}

// handleCompose handles the composing buttons; a button acts only in the
// step that showed it, so an old keyboard changes nothing.
func (f *polls) handleCompose(ctx context.Context, r *tg.Request) error {
	if !f.admin(r) || !r.Private {
		return f.notAllowed(ctx, r)
	}
	conv, err := f.store.Conversation(ctx, r.ChatID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && (conv.Flow != flowPoll || len(conv.State) == 0)) {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	if err != nil {
		return err
	}
	dlg, err := dialogueOf[pollState](conv)
	if err != nil {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	action, arg := r.Data.Arg(0), r.Data.Arg(1)
	step := map[string]string{"skip": dlg.Step, "no": dlg.Step, "ok": "confirm"}[action]
	if step == "" {
		step = action
	}
	if step != dlg.Step || (action == "skip" && dlg.Step != "qkk" && dlg.Step != "qru") {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	st := &dlg.State
	yes := arg == "y"
	switch action {
	case "skip":
		if dlg.Step == "qru" && st.Question.KK == "" {
			f.tx.Alert(ctx, r, r.L.T(locales.BroadcastNeedOneVersion))
			return nil
		}
		f.tx.Answer(ctx, r, "")
		_ = f.tx.Edit(ctx, r, r.L.T(map[string]string{"qkk": locales.PollAskQuestionKK, "qru": locales.PollAskQuestionRU}[dlg.Step]), nil)
		if dlg.Step == "qkk" {
			dlg.Step = "qru"
			if err := saveDialogue(ctx, f.store, dlg, f.now()); err != nil {
				return err
			}
			return f.askQuestion(ctx, r, storage.Russian)
		}
		return f.askYesNo(ctx, r, dlg, "m", locales.PollAskMultiple, false)
	case "m":
		st.Multiple = yes
		return f.askYesNo(ctx, r, dlg, "o", locales.PollAskOtherOption, true)
	case "o":
		st.Other = yes
		return f.askAudience(ctx, r, dlg, "t", locales.BroadcastAskTopic)
	case "t":
		if t := storage.Topic(arg); arg != anyArg && !t.Valid() {
			f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
			return nil
		}
		st.Audience.Topic = storage.Topic(clearAny(arg))
		return f.askAudience(ctx, r, dlg, "d", locales.BroadcastAskDistrict)
	case "d":
		if _, ok := f.catalog().District(arg); arg != anyArg && !ok {
			f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
			return nil
		}
		st.Audience.DistrictID = clearAny(arg)
		return f.askAudience(ctx, r, dlg, "l", locales.BroadcastAskLang)
	case "l":
		if l := storage.Lang(arg); arg != anyArg && !l.Valid() {
			f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
			return nil
		}
		st.Audience.Lang = storage.Lang(clearAny(arg))
		dlg.Step = "c"
		if err := saveDialogue(ctx, f.store, dlg, f.now()); err != nil {
			return err
		}
		var row []tgbotapi.InlineKeyboardButton
		for _, d := range pollDays {
			row = append(row, button(r.L.N(locales.PollDaysButton, d), cbPollCompose, "c", strconv.Itoa(d)))
		}
		kb := tgbotapi.NewInlineKeyboardMarkup(row)
		return f.tx.Edit(ctx, r, r.L.T(locales.PollAskClose), &kb)
	case "c":
		d, err := strconv.Atoi(arg)
		if err != nil || d < 1 || d > 14 {
			f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
			return nil
		}
		st.Days = d
		return f.askYesNo(ctx, r, dlg, "n", locales.PollAskNotify, true)
	case "n":
		st.Notify = yes
		return f.preview(ctx, r, dlg)
	case "ok":
		return f.confirm(ctx, r, dlg)
	default: // "no"
		if id := st.DraftID; id != 0 {
			if err := f.store.DeleteDraft(ctx, id); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
		}
		if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
			return err
		}
		if err := f.tx.Edit(ctx, r, r.L.T(locales.PollCancelledDialog), nil); err != nil {
			return err
		}
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.MenuPrompt), f.mainMenu(r.L))
		return err
	}
}

func (f *polls) askAudience(ctx context.Context, r *tg.Request, dlg pollDialogue, step, prompt string) error {
	dlg.Step = step
	if err := saveDialogue(ctx, f.store, dlg, f.now()); err != nil {
		return err
	}
	text, kb := f.audienceQuestion(r.L, cbPollCompose, step, prompt)
	return f.tx.Edit(ctx, r, text, &kb)
}

// composedPoll is the poll the dialogue collected.
func (f *polls) composedPoll(r *tg.Request, st pollState) storage.Poll {
	now := f.now()
	days := st.Days
	if days <= 0 {
		days = 7
	}
	p := storage.Poll{
		Question: st.Question, Multiple: st.Multiple, Other: st.Other,
		Audience: st.Audience, NotifyRespondents: st.Notify,
		Status: storage.PollDraft, CreatedBy: r.From.ID, CreatedAt: now, ClosesAt: now.AddDate(0, 0, days),
	}
	var kk, ru []string
	if p.Question.KK != "" {
		kk = st.OptionsKK
	}
	if p.Question.RU != "" {
		ru = st.OptionsRU
	}
	for i := 0; i < max(len(kk), len(ru)); i++ {
		var o storage.PollText
		if i < len(kk) {
			o.KK = kk[i]
		}
		if i < len(ru) {
			o.RU = ru[i]
		}
		p.Options = append(p.Options, o)
	}
	return p
}

// preview stores the poll as a draft and shows it to the admin as its
// readers will see it, with the number of recipients.
func (f *polls) preview(ctx context.Context, r *tg.Request, dlg pollDialogue) error {
	p := f.composedPoll(r, dlg.State)
	n, err := f.store.CountAudience(ctx, p.Audience)
	if err != nil {
		return err
	}
	if n == 0 {
		return f.askAudience(ctx, r, dlg, "t", locales.BroadcastNobody)
	}
	p, err = f.store.CreatePoll(ctx, p)
	if errors.Is(err, storage.ErrInvalid) {
		if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
			return err
		}
		return f.tx.Edit(ctx, r, r.L.T(locales.PollInvalid), nil)
	}
	if err != nil {
		return err
	}
	dlg.State.DraftID = p.ID
	dlg.Step = "confirm"
	if err := saveDialogue(ctx, f.store, dlg, f.now()); err != nil {
		return err
	}
	summary := f.pollSummary(r.L, p)
	if err := f.tx.Edit(ctx, r, summary, nil); err != nil {
		return err
	}
	versions := f.pollVersions(p)
	bc := storage.Broadcast{Versions: versions}
	readers := []storage.Lang{storage.Kazakh, storage.Russian}
	if p.Audience.Lang.Valid() {
		readers = []storage.Lang{p.Audience.Lang}
	}
	for _, lang := range readers {
		v, _, ok := bc.VersionFor(lang)
		if !ok {
			continue
		}
		id := locales.BroadcastPreviewKK
		if lang == storage.Russian {
			id = locales.BroadcastPreviewRU
		}
		if _, err := f.tx.Reply(ctx, r, r.L.T(id), nil); err != nil {
			return err
		}
		if _, err := f.send.Send(ctx, r.ChatID, versionMessage(r.ChatID, v)); err != nil {
			return err
		}
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		button(r.L.T(locales.BroadcastSendButton), cbPollCompose, "ok"),
		button(r.L.T(locales.ButtonCancel), cbPollCompose, "no"),
	))
	_, err = f.tx.Reply(ctx, r, summary+"\n"+r.L.N(locales.BroadcastRecipients, n), kb)
	return err
}

// pollSummary is the poll's settings in one block: audience, answers,
// closing, summary to respondents.
func (f *polls) pollSummary(l *locales.Localizer, p storage.Poll) string {
	yesNo := func(b bool) string {
		if b {
			return l.T(locales.PollYesButton)
		}
		return l.T(locales.PollNoButton)
	}
	closes := p.ClosesAt.In(f.cfg.Location)
	return l.T(locales.PollSettings, locales.Data{
		"Audience": f.audienceText(l, p.Audience), "Multiple": yesNo(p.Multiple), "Other": yesNo(p.Other),
		"When": l.DateTime(closes), "Notify": yesNo(p.NotifyRespondents),
	})
}

// confirm sends the draft: the recipients are fixed and the question
// goes out as a broadcast.
func (f *polls) confirm(ctx context.Context, r *tg.Request, dlg pollDialogue) error {
	id := dlg.State.DraftID
	if id == 0 {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return f.store.DeleteConversation(ctx, r.ChatID)
	}
	p, err := f.store.Poll(ctx, id)
	if err != nil {
		return err
	}
	p, bc, err := f.store.SendPoll(ctx, id, storage.Broadcast{AdminChatID: r.ChatID, Versions: f.pollVersions(p), CreatedAt: f.now()})
	if errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound) {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return f.store.DeleteConversation(ctx, r.ChatID)
	}
	if err != nil {
		return err
	}
	if err := f.store.DeleteConversation(ctx, r.ChatID); err != nil {
		return err
	}
	f.log.Info("poll sent", "poll_id", p.ID, "broadcast_id", bc.ID, "chat_id", r.ChatID)
	started := r.L.T(locales.PollStarted, locales.Data{"ID": p.ID})
	f.tx.Answer(ctx, r, started)
	if err := f.tx.Edit(ctx, r, f.pollSummary(r.L, p)+"\n"+started, nil); err != nil {
		f.log.Warn("edit poll confirmation", "poll_id", p.ID, "err", err)
	}
	if progressID, err := f.tx.Reply(ctx, r, f.reports.progressText(ctx, bc), nil); err == nil {
		if err := f.store.SetProgressMessage(ctx, bc.ID, progressID); err != nil {
			f.log.Error("store poll progress message", "broadcast_id", bc.ID, "err", err)
		}
	} else {
		f.log.Warn("send poll progress", "broadcast_id", bc.ID, "err", err)
	}
	f.runner.Run(bc.ID)
	return nil
}

// ---- results ----

func pollStatusLabel(s storage.PollStatus) string {
	switch s {
	case storage.PollDraft:
		return locales.PollStatusDraft
	case storage.PollSending:
		return locales.PollStatusSending
	case storage.PollOpen:
		return locales.PollStatusOpen
	}
	return locales.PollStatusClosed
}

// handlePolls lists recent polls with their live counts (admins only).
func (f *polls) handlePolls(ctx context.Context, r *tg.Request) error {
	if !f.admin(r) || !r.Private {
		return f.notAllowed(ctx, r)
	}
	list, err := f.store.RecentPolls(ctx, 0, recentPollsShown)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		_, err := f.tx.Reply(ctx, r, r.L.T(locales.PollListEmpty), nil)
		return err
	}
	text := r.L.T(locales.PollListTitle)
	var rows [][]tgbotapi.InlineKeyboardButton
	for _, p := range list {
		text += "\n\n" + r.L.T(locales.PollListItem, locales.Data{
			"ID": p.ID, "Question": esc(p.Question.In(storage.Lang(r.L.Lang()))), "Status": r.L.T(pollStatusLabel(p.Status)),
			"Answered": r.L.N(locales.PollRespondents, p.Respondents),
		})
		if p.Status != storage.PollDraft {
			rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(r.L.T(locales.PollOpenButton, locales.Data{"ID": p.ID}), cbPollPage, "v", tg.B36(p.ID))))
		}
	}
	if len(rows) == 0 {
		_, err = f.tx.Reply(ctx, r, text, nil)
		return err
	}
	_, err = f.tx.Reply(ctx, r, text, tgbotapi.NewInlineKeyboardMarkup(rows...))
	return err
}

// labels are the report's words in l's language.
func (f *polls) labels(l *locales.Localizer, p storage.Poll) report.PollLabels {
	return report.PollLabels{
		Lang:     readerLang(l, p),
		District: func(id string) string { return f.districtName(l, id) },
		Language: func(lang storage.Lang) string {
			if lang == storage.Russian {
				return l.T(locales.LanguageNameRU)
			}
			return l.T(locales.LanguageNameKK)
		},
		Number: l.Int,
		Other:  l.T(locales.PollOtherOption), Hidden: l.T(locales.PollFewerThan5),
		HeaderDistrict: l.T(locales.PollCSVDistrict), HeaderLanguage: l.T(locales.PollCSVLanguage),
		HeaderAnswer: l.T(locales.PollCSVAnswer), HeaderOtherText: l.T(locales.PollCSVOtherText),
		Overall: l.T(locales.PollOverall), ByDistrict: l.T(locales.PollByDistrict), ByLanguage: l.T(locales.PollByLanguage),
		Respondents: func(n int) string { return l.N(locales.PollRespondents, n) },
	}
}

func percent(share float64) int { return int(math.Round(share * 100)) }

// resultsText is a poll's page: counts and shares overall, by district and
// by language.
func (f *polls) resultsText(l *locales.Localizer, p storage.Poll, res storage.PollResults) string {
	lang := readerLang(l, p)
	names := func(i int) string {
		if i == len(p.Options) {
			return l.T(locales.PollOtherOption)
		}
		return p.Options[i].In(lang)
	}
	shares := func(g storage.PollGroup) []storage.PollShare {
		out := g.Options
		if p.Other {
			out = append(append([]storage.PollShare{}, out...), g.Other)
		}
		return out
	}
	var b strings.Builder
	b.WriteString(l.T(locales.PollResultsHeader, locales.Data{
		"ID": p.ID, "Question": esc(p.Question.In(lang)), "Status": l.T(pollStatusLabel(p.Status)),
		"When": l.DateTime(p.ClosesAt.In(f.cfg.Location)), "Answered": l.N(locales.PollRespondents, res.All.Respondents),
	}))
	b.WriteString("\n\n<b>" + l.T(locales.PollOverall) + "</b>")
	for i, s := range shares(res.All) {
		b.WriteString("\n" + l.T(locales.PollResultLine, locales.Data{"Option": esc(names(i)), "Count": l.Int(s.Count), "Percent": percent(s.Share)}))
	}
	group := func(name string, g storage.PollGroup) {
		if g.Hidden {
			b.WriteString("\n" + l.T(locales.PollGroupHidden, locales.Data{"Group": esc(name)}))
			return
		}
		var parts []string
		for i, s := range shares(g) {
			parts = append(parts, fmt.Sprintf("%d. %d%%", i+1, percent(s.Share)))
		}
		b.WriteString("\n" + l.T(locales.PollGroupLine, locales.Data{"Group": esc(name), "Answered": l.N(locales.PollRespondents, g.Respondents), "Shares": strings.Join(parts, " · ")}))
	}
	if len(res.ByDistrict) > 0 {
		b.WriteString("\n\n<b>" + l.T(locales.PollByDistrict) + "</b>")
		for _, g := range res.ByDistrict {
			group(f.districtName(l, g.Key), g)
		}
	}
	if len(res.ByLang) > 0 {
		b.WriteString("\n\n<b>" + l.T(locales.PollByLanguage) + "</b>")
		lb := f.labels(l, p)
		for _, g := range res.ByLang {
			group(lb.Language(storage.Lang(g.Key)), g)
		}
	}
	return b.String()
}

func (f *polls) pageKeyboard(l *locales.Localizer, p storage.Poll) tgbotapi.InlineKeyboardMarkup {
	id := tg.B36(p.ID)
	rows := [][]tgbotapi.InlineKeyboardButton{tgbotapi.NewInlineKeyboardRow(
		button(l.T(locales.PollChartButton), cbPollPage, "g", id),
		button(l.T(locales.PollCSVButton), cbPollPage, "f", id),
	)}
	if p.Status == storage.PollSending || p.Status == storage.PollOpen {
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(button(l.T(locales.PollCloseButton), cbPollPage, "x", id)))
	}
	return tgbotapi.NewInlineKeyboardMarkup(rows...)
}

// handlePage shows a poll's results, its chart or CSV, or closes it:
// pp:<v|g|f|x>:<poll id>.
func (f *polls) handlePage(ctx context.Context, r *tg.Request) error {
	if !f.admin(r) || !r.Private {
		return f.notAllowed(ctx, r)
	}
	id, err := r.Data.ID(1)
	if err != nil {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	if r.Data.Arg(0) == "x" {
		p, closed, err := f.store.ClosePoll(ctx, id, f.now())
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrConflict) {
			f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
			return nil
		}
		if err != nil {
			return err
		}
		if closed {
			f.log.Info("poll closed by an admin", "poll_id", id, "chat_id", r.ChatID)
			f.closed(ctx, p)
		}
	}
	p, tally, err := f.store.PollTally(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	if err != nil {
		return err
	}
	res := storage.ResultsOf(len(p.Options), tally)
	switch r.Data.Arg(0) {
	case "v", "x":
		f.tx.Answer(ctx, r, "")
		kb := f.pageKeyboard(r.L, p)
		if r.Data.Arg(0) == "v" {
			_, err := f.tx.Reply(ctx, r, f.resultsText(r.L, p, res), kb)
			return err
		}
		return f.tx.Edit(ctx, r, f.resultsText(r.L, p, res), &kb)
	case "g":
		f.tx.Answer(ctx, r, "")
		return f.sendChart(ctx, r.ChatID, r.L, p, res)
	case "f":
		f.tx.Answer(ctx, r, "")
		var buf bytes.Buffer
		walk := func(fn func(storage.PollAnswer) error) error { return f.store.WalkPollAnswers(ctx, id, fn) }
		if err := report.WritePollCSV(&buf, p, res, f.labels(r.L, p), walk); err != nil {
			return fmt.Errorf("poll %d CSV: %w", id, err)
		}
		doc := tgbotapi.NewDocument(r.ChatID, tgbotapi.FileBytes{Name: fmt.Sprintf("jastar-poll-%d.csv", id), Bytes: buf.Bytes()})
		_, err := f.send.Send(ctx, r.ChatID, doc)
		return err
	}
	f.tx.Answer(ctx, r, r.L.T(locales.OutdatedButton))
	return nil
}

func (f *polls) sendChart(ctx context.Context, chatID int64, l *locales.Localizer, p storage.Poll, res storage.PollResults) error {
	png, err := report.PollChart(p, res, f.labels(l, p))
	if err != nil {
		return fmt.Errorf("poll %d chart: %w", p.ID, err)
	}
	photo := tgbotapi.NewPhoto(chatID, tgbotapi.FileBytes{Name: fmt.Sprintf("jastar-poll-%d.png", p.ID), Bytes: png})
	_, err = f.send.Send(ctx, chatID, photo)
	return err
}

// ---- closing ----

// ClosePolls closes the polls whose time has come and sends the summaries
// owed (scheduler.PollCloser); the scheduler calls it every minute.
func (b *Bot) ClosePolls(ctx context.Context, now time.Time) error {
	return b.polls.closeDue(ctx, now)
}

func (f *polls) closeDue(ctx context.Context, now time.Time) error {
	due, err := f.store.DuePolls(ctx, now)
	if err != nil {
		return fmt.Errorf("due polls: %w", err)
	}
	for _, p := range due {
		if p.Status != storage.PollClosed {
			closedPoll, closed, err := f.store.ClosePoll(ctx, p.ID, now)
			if err != nil {
				return fmt.Errorf("close poll %d: %w", p.ID, err)
			}
			if closed {
				f.log.Info("poll closed", "poll_id", p.ID)
				f.closed(ctx, closedPoll)
				continue
			}
			p = closedPoll
		}
		if p.SummaryOwed {
			f.sendSummary(ctx, p)
		}
	}
	return nil
}

// closed gives the admin the results of a poll that just closed, and
// sends the respondents' summary it owes.
func (f *polls) closed(ctx context.Context, p storage.Poll) {
	p, tally, err := f.store.PollTally(ctx, p.ID)
	if err != nil {
		f.log.Error("read closed poll", "poll_id", p.ID, "err", err)
		return
	}
	res := storage.ResultsOf(len(p.Options), tally)
	l := f.reports.adminLocalizer(ctx, p.CreatedBy)
	if _, err := f.tx.SendText(ctx, p.CreatedBy, l.T(locales.PollClosedAdmin, locales.Data{"ID": p.ID})+"\n\n"+f.resultsText(l, p, res), nil); err != nil {
		f.log.Warn("send poll summary to its admin", "poll_id", p.ID, "err", err)
	} else if err := f.sendChart(ctx, p.CreatedBy, l, p, res); err != nil {
		f.log.Warn("send poll chart to its admin", "poll_id", p.ID, "err", err)
	}
	if p.SummaryOwed {
		f.sendSummary(ctx, p)
	}
}

// sendSummary sends the respondents a short summary in each language,
// as a broadcast.
func (f *polls) sendSummary(ctx context.Context, p storage.Poll) {
	p, tally, err := f.store.PollTally(ctx, p.ID)
	if err != nil {
		f.log.Error("read poll for its summary", "poll_id", p.ID, "err", err)
		return
	}
	res := storage.ResultsOf(len(p.Options), tally)
	versions := map[storage.Lang]storage.Version{}
	for _, lang := range []storage.Lang{storage.Kazakh, storage.Russian} {
		l := f.loc.For(string(lang))
		var lines []string
		for i, s := range res.All.Options {
			lines = append(lines, l.T(locales.PollResultLine, locales.Data{"Option": p.Options[i].In(lang), "Count": l.Int(s.Count), "Percent": percent(s.Share)}))
		}
		if p.Other {
			lines = append(lines, l.T(locales.PollResultLine, locales.Data{"Option": l.T(locales.PollOtherOption), "Count": l.Int(res.All.Other.Count), "Percent": percent(res.All.Other.Share)}))
		}
		text := l.N(locales.PollSummary, res.All.Respondents, locales.Data{"Question": p.Question.In(lang), "Lines": strings.Join(lines, "\n")})
		versions[lang] = storage.Version{Text: text}
	}
	_, bc, err := f.store.SendPollSummary(ctx, p.ID, storage.Broadcast{AdminChatID: p.CreatedBy, Versions: versions, CreatedAt: f.now()})
	if err != nil {
		f.log.Error("store poll summary", "poll_id", p.ID, "err", err)
		return
	}
	if bc.ID != 0 {
		f.log.Info("poll summary sent", "poll_id", p.ID, "broadcast_id", bc.ID)
		f.runner.Run(bc.ID)
	}
}

// myData lists the person's poll answers for /mydata; "" when none.
func (f *polls) myData(ctx context.Context, l *locales.Localizer, chatID int64) (string, error) {
	list, err := f.store.PollAnswersOf(ctx, chatID)
	if err != nil || len(list) == 0 {
		return "", err
	}
	lines := []string{l.T(locales.PollMyDataTitle)}
	for _, a := range list {
		lang := readerLang(l, a.Poll)
		lines = append(lines, l.T(locales.PollMyDataItem, locales.Data{
			"Question": esc(a.Poll.Question.In(lang)), "Answer": esc(answerText(l, a.Poll, lang, a.Answer.PollChoice)),
		}))
	}
	return strings.Join(lines, "\n"), nil
}
