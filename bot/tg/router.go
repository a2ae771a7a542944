package tg

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"jastar/locales"
	"jastar/storage"
)

// Handler handles one update. It loads its state, decides, persists, and
// then sends; it returns an error instead of telling the person itself.
type Handler func(ctx context.Context, r *Request) error

// StepHandler handles a message that continues the chat's active dialogue.
type StepHandler func(ctx context.Context, r *Request, conv storage.Conversation) error

// Request is what a handler gets: the update, the chat, the stored user and
// their localizer.
type Request struct {
	Update  tgbotapi.Update
	Message *tgbotapi.Message       // the message, or the one a pressed button belongs to
	Query   *tgbotapi.CallbackQuery // set for button presses
	Data    Callback                // decoded callback data
	// ChatID is the chat the update came from. In a private chat it is the
	// sender's own: route refuses an update sent by anyone but the chat's
	// person, so handlers take ChatID as the person whose data they touch.
	ChatID int64
	// From is who sent the update or pressed the button: the only source
	// of authority, personal (their own chat) or staff (their user id).
	From    *tgbotapi.User
	Private bool
	// StaffChat is true in a group that receives staff notifications
	// (Hooks.IsStaffChat).
	StaffChat bool
	User      storage.User
	L         *locales.Localizer
	Command   string // without "/" and "@bot"
	Args      string // text after the command
	// NewPerson is true when the person has not been greeted yet: this
	// update created their record, or it is their first language choice.
	NewPerson bool
	answered  bool
}

// handle routes one update. It recovers a handler's panic, logs it with the
// update id and stack, and tells the person something went wrong.
func (t *Transport) handle(ctx context.Context, u tgbotapi.Update) {
	r := t.newRequest(ctx, u)
	if r == nil {
		return
	}
	kind := updateKind(r)
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			t.metrics.HandlerErrors.WithLabelValues(kind).Inc()
			t.log.Error("handler panicked", "update_id", u.UpdateID, "chat_id", r.ChatID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			t.fail(ctx, r)
		}
		// Latency first: a scrape that sees the update counted also sees
		// its latency.
		t.metrics.HandlerLatency.WithLabelValues(kind).Observe(time.Since(start).Seconds())
		t.metrics.Updates.WithLabelValues(kind).Inc()
	}()
	err := t.route(ctx, r)
	if r.Query != nil && !r.answered {
		t.Answer(ctx, r, "")
	}
	if err != nil {
		t.metrics.HandlerErrors.WithLabelValues(kind).Inc()
		t.log.Error("handle update", "update_id", u.UpdateID, "chat_id", r.ChatID, "err", err)
		t.fail(ctx, r)
	}
}

// fromID is who sent the update or pressed the button, 0 if unknown.
func (r *Request) fromID() int64 {
	if r.From == nil {
		return 0
	}
	return r.From.ID
}

// updateKind labels an update for metrics: a small fixed set of values.
func updateKind(r *Request) string {
	switch {
	case r.Query != nil:
		return "callback"
	case r.Message == nil:
		return "other"
	case len(r.Message.Entities) > 0 && r.Message.Entities[0].Type == "bot_command" && r.Message.Entities[0].Offset == 0:
		return "command"
	case r.Message.Location != nil:
		return "location"
	case r.Message.Contact != nil:
		return "contact"
	case r.Message.Text != "":
		return "text"
	}
	return "other"
}

// fail tells the person, in their language, that the bot could not help.
func (t *Transport) fail(ctx context.Context, r *Request) {
	if r.Query != nil && !r.answered {
		t.Answer(ctx, r, r.L.T(locales.SomethingWentWrong))
		return
	}
	if r.Private {
		_, _ = t.Reply(ctx, r, r.L.T(locales.SomethingWentWrong), nil)
	}
}

func (t *Transport) newRequest(ctx context.Context, u tgbotapi.Update) *Request {
	r := &Request{Update: u, L: t.loc.For(string(storage.Kazakh))}
	switch {
	case u.CallbackQuery != nil:
		r.Query = u.CallbackQuery
		r.From = u.CallbackQuery.From
		r.Message = u.CallbackQuery.Message
		r.ChatID = chatKey(u)
	case u.Message != nil:
		r.Message = u.Message
		r.From = u.Message.From
		r.ChatID = u.Message.Chat.ID
	case u.MyChatMember != nil:
		t.log.Info("bot membership changed", "chat_id", u.MyChatMember.Chat.ID, "status", u.MyChatMember.NewChatMember.Status)
		return nil
	default:
		return nil
	}
	r.Private = r.Message == nil || r.Message.Chat.IsPrivate()
	r.StaffChat = !r.Private && t.hooks.IsStaffChat != nil && t.hooks.IsStaffChat(r.ChatID)
	if r.From == nil || t.hooks.Person == nil {
		return r
	}
	user, created, err := t.hooks.Person(ctx, r.From, r.Private)
	if err != nil {
		t.log.Error("load user", "chat_id", r.ChatID, "err", err)
	}
	r.User, r.NewPerson = user, created
	if r.User.Lang.Valid() {
		r.L = t.loc.For(string(r.User.Lang))
	}
	return r
}

// route dispatches in the order STYLE.md §5 fixes: button press, command,
// then a main-menu button or a shared location, then the dialogue step,
// then the fallbacks. A menu button comes before the step so that a
// person can always leave a dialogue by its menu.
func (t *Transport) route(ctx context.Context, r *Request) error {
	if r.Private && (r.From == nil || r.From.ID != r.ChatID) {
		return t.refuseForeign(ctx, r)
	}
	if r.Query != nil {
		return t.routeCallback(ctx, r)
	}
	m := r.Message
	if cmd, args, addressed, ok := parseCommand(m, t.selfName()); ok {
		if !addressed {
			return nil // meant for another bot in a group
		}
		r.Command, r.Args = cmd, args
		if !r.Private {
			if h, ok := t.routes.groupCommands[cmd]; ok && r.StaffChat {
				return h(ctx, r)
			}
			_, err := t.Reply(ctx, r, r.L.T(locales.GroupOnlyPrivate), nil)
			return err
		}
		if h, ok := t.routes.commands[cmd]; ok {
			return h(ctx, r)
		}
		_, err := t.Reply(ctx, r, r.L.T(locales.UnknownCommand), t.mainMenu(r.L))
		return err
	}
	if !r.Private {
		return nil // groups: only commands and buttons concern us
	}
	if h, ok := t.routes.menuByText[strings.TrimSpace(m.Text)]; ok && m.Text != "" {
		return h(ctx, r)
	}
	// A location comes from the "Centers near me" button, which stays on the
	// keyboard during every dialogue, and no dialogue asks for one: it goes
	// to the centers before the dialogue step, which would only say "use
	// the buttons". The dialogue stays open for the person to go on.
	if m.Location != nil && t.routes.onLocation != nil {
		return t.routes.onLocation(ctx, r)
	}
	// A message that signals crisis is answered first, with the help lines
	// (safety.go), unless a dialogue step waits for typed text: then it is
	// that step's answer. The classifier runs on every text; the dialogue
	// is read only for a message it hears.
	if t.routes.onCrisis != nil && m.Text != "" && t.routes.signalsCrisis(m.Text) && !t.stepTakesText(ctx, r.ChatID) {
		return t.routes.onCrisis(ctx, r)
	}
	if handled, err := t.routeStep(ctx, r); handled || err != nil {
		return err
	}
	switch {
	case m.Contact != nil && t.routes.onContact != nil:
		return t.routes.onContact(ctx, r)
	case m.Text == "" && (m.Sticker != nil || m.Photo != nil || m.Voice != nil || m.Video != nil || m.Document != nil ||
		m.Audio != nil || m.VideoNote != nil || m.Animation != nil || m.Location != nil || m.Contact != nil):
		_, err := t.Reply(ctx, r, r.L.T(locales.NotText), t.mainMenu(r.L))
		return err
	case strings.TrimSpace(m.Text) == "":
		_, err := t.Reply(ctx, r, r.L.T(locales.EmptyText), t.mainMenu(r.L))
		return err
	}
	_, err := t.Reply(ctx, r, r.L.T(locales.NotUnderstood), t.mainMenu(r.L))
	return err
}

// refuseForeign answers an update in a private chat whose sender is not
// the chat's person: a button press on a message of someone else's chat
// (Telegram does not deliver one today, but the payload is untrusted). It
// acts for nobody, and nothing goes to the chat: the presser alone is told,
// in their language, through the answer to their press.
func (t *Transport) refuseForeign(ctx context.Context, r *Request) error {
	t.log.Warn("refused an update whose sender is not the private chat's person", "chat_id", r.ChatID, "user_id", r.fromID(), "kind", updateKind(r))
	t.Answer(ctx, r, r.L.T(locales.ButtonNotYours))
	return nil
}

// routeCallback sends a button press to its handler. In a private chat the
// press is its person's own (route checked); a group belongs to no single
// person, so only staff buttons, which check the presser's own rights, work
// there, and only in a staff group.
func (t *Transport) routeCallback(ctx context.Context, r *Request) error {
	data, err := DecodeCallback(r.Query.Data)
	h, ok := t.routes.callbacks[data.Prefix]
	if err != nil || !ok {
		t.Answer(ctx, r, r.L.T(locales.OutdatedButton))
		return nil
	}
	if !r.Private {
		h, ok = t.routes.groupButtons[data.Prefix]
		if !ok || !r.StaffChat {
			t.Answer(ctx, r, r.L.T(locales.GroupOnlyPrivate))
			return nil
		}
	}
	r.Data = data
	return h(ctx, r)
}

// routeStep gives a message to the chat's active dialogue, if any. A
// dialogue closed for inactivity, by housekeeping or found idle now, takes
// the message only to say so: whatever it was (a "Skip" from the phone
// keyboard, a shared contact) was meant for the dialogue, and the answer
// brings the main menu back.
func (t *Transport) routeStep(ctx context.Context, r *Request) (bool, error) {
	conv, err := t.OpenDialogue(ctx, r.ChatID)
	switch {
	case errors.Is(err, storage.ErrDialogExpired):
		return true, t.TellExpired(ctx, r, conv.Flow)
	case errors.Is(err, storage.ErrNotFound):
		return false, nil
	case err != nil:
		return true, err
	}
	h, ok := t.routes.flows[conv.Flow]
	if !ok {
		// A flow removed by a deploy: drop its state rather than trap the
		// person in it.
		return false, t.store.DeleteConversation(ctx, r.ChatID)
	}
	return true, h(ctx, r, conv)
}

// OpenDialogue is the chat's dialogue. One idle longer than the dialogue TTL
// but not yet closed by housekeeping comes back with storage.ErrDialogExpired
// too, as one housekeeping closed does, so callers tell both the same way.
func (t *Transport) OpenDialogue(ctx context.Context, chatID int64) (storage.Conversation, error) {
	conv, err := t.store.Conversation(ctx, chatID)
	if err == nil && t.now().Sub(conv.UpdatedAt) > t.opts.DialogTTL {
		return conv, fmt.Errorf("conversation %d idle since %s: %w", chatID, conv.UpdatedAt.Format(time.RFC3339), storage.ErrDialogExpired)
	}
	return conv, err
}

// TellExpired ends the chat's dialogue, open or expired, and says it closed
// for inactivity. The text goes in a new message with the main menu, which
// also replaces a phone keyboard the dialogue left on screen; a pressed
// message loses its buttons, so they are not pressed again. It is said
// once: the next answer finds no dialogue.
func (t *Transport) TellExpired(ctx context.Context, r *Request, flow string) error {
	if err := t.store.DeleteConversation(ctx, r.ChatID); err != nil {
		return err
	}
	if r.Query != nil {
		t.Answer(ctx, r, "")
		none := tgbotapi.InlineKeyboardMarkup{InlineKeyboard: [][]tgbotapi.InlineKeyboardButton{}}
		if err := t.EditKeyboard(ctx, r, none); err != nil {
			// The new message below says it all; old buttons left in
			// place only get the same answer again.
			t.log.Warn("remove buttons of an expired dialogue", "chat_id", r.ChatID, "err", err)
		}
	}
	_, err := t.Reply(ctx, r, t.expiredText(r.L, flow), t.mainMenu(r.L))
	return err
}

// parseCommand finds a bot command at the start of the message. addressed is
// false when it names another bot ("/start@other_bot").
func parseCommand(m *tgbotapi.Message, botName string) (cmd, args string, addressed, ok bool) {
	if m == nil || len(m.Entities) == 0 || m.Entities[0].Type != "bot_command" || m.Entities[0].Offset != 0 {
		return "", "", false, false
	}
	text := m.Text
	cut := utf16Prefix(text, m.Entities[0].Length)
	if !strings.HasPrefix(cut, "/") {
		return "", "", false, false
	}
	cmd = cut[1:]
	args = strings.TrimSpace(text[len(cut):])
	addressed = true
	if at := strings.IndexByte(cmd, '@'); at >= 0 {
		addressed = botName == "" || strings.EqualFold(cmd[at+1:], botName)
		cmd = cmd[:at]
	}
	cmd = strings.ToLower(cmd)
	// Telegram commands are 1–32 of a-z, 0-9 and _
	// (https://core.telegram.org/bots/api#botcommand); anything else is text.
	if cmd == "" || len(cmd) > 32 {
		return "", "", false, false
	}
	for _, r := range cmd {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return "", "", false, false
		}
	}
	return cmd, args, addressed, true
}

// utf16Prefix returns the prefix of s that is n UTF-16 code units long, as
// Telegram measures entity offsets and lengths.
func utf16Prefix(s string, n int) string {
	units := 0
	for i, r := range s {
		if units >= n {
			return s[:i]
		}
		if r >= 0x10000 {
			units += 2
		} else {
			units++
		}
	}
	return s
}

// stepTakesText asks the bot whether the chat's dialogue waits for typed
// text; without the hook, none does.
func (t *Transport) stepTakesText(ctx context.Context, chatID int64) bool {
	return t.hooks.StepTakesText != nil && t.hooks.StepTakesText(ctx, chatID)
}

// expiredText is the bot's word that a dialogue of flow closed.
func (t *Transport) expiredText(l *locales.Localizer, flow string) string {
	if t.hooks.ExpiredText == nil {
		return l.T(locales.SomethingWentWrong)
	}
	return t.hooks.ExpiredText(l, flow)
}

// mainMenu is the bot's main keyboard in l's language, or none.
func (t *Transport) mainMenu(l *locales.Localizer) any {
	if t.hooks.MainMenu == nil {
		return nil
	}
	return t.hooks.MainMenu(l)
}
