package telegramtest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// utf16Len counts UTF-16 code units, the unit of every Bot API length and
// entity offset: https://core.telegram.org/bots/api#messageentity
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// formatText applies parse_mode or explicit entities to text and checks its
// length: 1-4096 characters for messages, 0-1024 for captions
// (https://core.telegram.org/bots/api#sendmessage,
// https://core.telegram.org/bots/api#sendphoto).
func formatText(text, parseMode, entitiesJSON string, caption bool) (string, []tgbotapi.MessageEntity, reply, bool) {
	if !utf8.ValidString(text) {
		return "", nil, badRequest("text must be encoded in UTF-8"), false
	}
	var entities []tgbotapi.MessageEntity
	switch strings.ToLower(parseMode) {
	case "":
		if entitiesJSON != "" {
			if err := json.Unmarshal([]byte(entitiesJSON), &entities); err != nil {
				return "", nil, badRequest("can't parse entities JSON object"), false
			}
		}
	case "html":
		var err error
		text, entities, err = parseHTML(text)
		if err != nil {
			return "", nil, badRequest("can't parse entities: %v", err), false
		}
	case "markdown", "markdownv2":
		// Markdown is accepted but not parsed: the text is stored as sent.
	default:
		return "", nil, badRequest("unsupported parse_mode"), false
	}
	n := utf16Len(text)
	switch {
	case caption && n > 1024:
		return "", nil, badRequest("message caption is too long"), false
	case !caption && strings.TrimSpace(text) == "":
		return "", nil, badRequest("message text is empty"), false
	case !caption && n > 4096:
		return "", nil, badRequest("message is too long"), false
	}
	return text, entities, reply{}, true
}

// parseHTML implements Telegram's HTML parse mode: the supported tags, the
// four named entities and numeric entities; anything else is an error.
// https://core.telegram.org/bots/api#html-style
func parseHTML(src string) (string, []tgbotapi.MessageEntity, error) {
	if !utf8.ValidString(src) {
		// Removing tags could otherwise join stray bytes into new runes.
		return "", nil, fmt.Errorf("text must be encoded in UTF-8")
	}
	type open struct {
		tag string
		ent tgbotapi.MessageEntity
		pos int
	}
	var (
		b     strings.Builder
		u16   int
		stack []open
		out   []tgbotapi.MessageEntity
	)
	b.Grow(len(src))
	for i := 0; i < len(src); {
		switch c := src[i]; c {
		case '<':
			end := strings.IndexByte(src[i:], '>')
			if end < 0 {
				return "", nil, fmt.Errorf("unclosed start tag at byte offset %d", i)
			}
			inner := src[i+1 : i+end]
			if name, closing := strings.CutPrefix(inner, "/"); closing {
				name = strings.ToLower(strings.TrimSpace(name))
				if len(stack) == 0 {
					return "", nil, fmt.Errorf("unexpected end tag at byte offset %d", i)
				}
				top := stack[len(stack)-1]
				if name != top.tag {
					return "", nil, fmt.Errorf("unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", i, top.tag, name)
				}
				stack = stack[:len(stack)-1]
				ent := top.ent
				ent.Length = u16 - ent.Offset
				switch {
				case ent.Length == 0 || ent.Type == "":
				case ent.Type == "code" && len(stack) > 0 && stack[len(stack)-1].ent.Type == "pre":
					// <pre><code class="language-x"> is one pre entity with a language.
					stack[len(stack)-1].ent.Language = ent.Language
				default:
					if ent.Type != "code" {
						ent.Language = ""
					}
					out = append(out, ent)
				}
			} else {
				tag, attrs, err := parseTag(inner)
				if err != nil {
					return "", nil, fmt.Errorf("%v at byte offset %d", err, i)
				}
				ent, err := tagEntity(tag, attrs)
				if err != nil {
					return "", nil, fmt.Errorf("%v at byte offset %d", err, i)
				}
				ent.Offset = u16
				stack = append(stack, open{tag: tag, ent: ent, pos: i})
			}
			i += end + 1
		case '&':
			r, n := htmlEntity(src[i:])
			b.WriteRune(r)
			u16 += utf16.RuneLen(r)
			i += n
		default:
			r, n := utf8.DecodeRuneInString(src[i:])
			b.WriteString(src[i : i+n])
			u16 += utf16.RuneLen(r)
			i += n
		}
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		return "", nil, fmt.Errorf("can't find end tag corresponding to start tag \"%s\"", top.tag)
	}
	// Telegram lists entities by offset, outer before inner.
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Offset != out[j].Offset {
			return out[i].Offset < out[j].Offset
		}
		return out[i].Length > out[j].Length
	})
	return b.String(), out, nil
}

// htmlEntity decodes the entity at the start of s; a '&' that starts no
// supported entity stands for itself, as in Telegram.
func htmlEntity(s string) (rune, int) {
	semi := strings.IndexByte(s, ';')
	if semi < 2 || semi > 10 {
		return '&', 1
	}
	name := s[1:semi]
	switch name {
	case "lt":
		return '<', semi + 1
	case "gt":
		return '>', semi + 1
	case "amp":
		return '&', semi + 1
	case "quot":
		return '"', semi + 1
	}
	if num, ok := strings.CutPrefix(name, "#"); ok {
		base := 10
		if hex, ok := strings.CutPrefix(strings.ToLower(num), "x"); ok {
			num, base = hex, 16
		}
		v, err := strconv.ParseUint(num, base, 32)
		if err == nil && utf8.ValidRune(rune(v)) && v != 0 {
			return rune(v), semi + 1
		}
	}
	return '&', 1
}

// parseTag splits `name attr="v" attr2='w' attr3=x flag` into the lowercase
// name and its attributes, decoding entities in values.
func parseTag(inner string) (string, map[string]string, error) {
	i := 0
	for i < len(inner) && (isTagByte(inner[i])) {
		i++
	}
	name := strings.ToLower(inner[:i])
	if name == "" {
		return "", nil, fmt.Errorf("unsupported start tag \"%s\"", inner)
	}
	attrs := map[string]string{}
	rest := inner[i:]
	for {
		rest = strings.TrimLeft(rest, " \t\r\n/")
		if rest == "" {
			return name, attrs, nil
		}
		j := 0
		for j < len(rest) && isTagByte(rest[j]) {
			j++
		}
		if j == 0 {
			return "", nil, fmt.Errorf("empty attribute name in tag \"%s\"", name)
		}
		key := strings.ToLower(rest[:j])
		rest = strings.TrimLeft(rest[j:], " \t\r\n")
		if !strings.HasPrefix(rest, "=") {
			attrs[key] = ""
			continue
		}
		rest = strings.TrimLeft(rest[1:], " \t\r\n")
		var val string
		if rest != "" && (rest[0] == '"' || rest[0] == '\'') {
			end := strings.IndexByte(rest[1:], rest[0])
			if end < 0 {
				return "", nil, fmt.Errorf("unclosed value of attribute \"%s\"", key)
			}
			val, rest = rest[1:1+end], rest[2+end:]
		} else {
			k := strings.IndexAny(rest, " \t\r\n")
			if k < 0 {
				k = len(rest)
			}
			val, rest = rest[:k], rest[k:]
		}
		attrs[key] = decodeEntities(val)
	}
}

func isTagByte(b byte) bool {
	return b == '-' || b == '_' || '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}

func decodeEntities(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '&' {
			r, n := htmlEntity(s[i:])
			b.WriteRune(r)
			i += n
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// tagEntity maps a supported tag to its entity type.
func tagEntity(tag string, attrs map[string]string) (tgbotapi.MessageEntity, error) {
	var e tgbotapi.MessageEntity
	switch tag {
	case "b", "strong":
		e.Type = "bold"
	case "i", "em":
		e.Type = "italic"
	case "u", "ins":
		e.Type = "underline"
	case "s", "strike", "del":
		e.Type = "strikethrough"
	case "tg-spoiler":
		e.Type = "spoiler"
	case "span":
		if attrs["class"] != "tg-spoiler" {
			return e, fmt.Errorf("tag \"span\" must have class \"tg-spoiler\"")
		}
		e.Type = "spoiler"
	case "code":
		e.Type = "code"
		e.Language, _ = strings.CutPrefix(attrs["class"], "language-")
	case "pre":
		e.Type = "pre"
	case "blockquote":
		e.Type = "blockquote"
		if _, ok := attrs["expandable"]; ok {
			e.Type = "expandable_blockquote"
		}
	case "a":
		href := attrs["href"]
		if href == "" {
			// A link without href is kept as plain text.
			return e, nil
		}
		if _, err := url.Parse(href); err != nil {
			return e, fmt.Errorf("wrong HTTP URL %q", href)
		}
		e.Type = "text_link"
		e.URL = href
		if id, ok := strings.CutPrefix(href, "tg://user?id="); ok {
			if uid, err := strconv.ParseInt(id, 10, 64); err == nil {
				e.Type, e.URL, e.User = "text_mention", "", &tgbotapi.User{ID: uid}
			}
		}
	default:
		return e, fmt.Errorf("unsupported start tag \"%s\"", tag)
	}
	return e, nil
}

// markup is a parsed reply_markup.
type markup struct {
	inline       [][]Button
	reply        [][]KeyButton
	remove       bool
	forceReply   bool
	requestsUser string // non-empty if a button requests location or contact
}

// parseMarkup validates reply_markup
// (https://core.telegram.org/bots/api#inlinekeyboardmarkup,
// https://core.telegram.org/bots/api#replykeyboardmarkup). inlineOnly is
// for edits, which only take inline keyboards.
func parseMarkup(raw string, inlineOnly bool) (markup, reply, bool) {
	var m markup
	if strings.TrimSpace(raw) == "" {
		return m, reply{}, true
	}
	var v struct {
		InlineKeyboard *[][]struct {
			Text                         string          `json:"text"`
			URL                          *string         `json:"url"`
			CallbackData                 *string         `json:"callback_data"`
			SwitchInlineQuery            *string         `json:"switch_inline_query"`
			SwitchInlineQueryCurrentChat *string         `json:"switch_inline_query_current_chat"`
			LoginURL                     json.RawMessage `json:"login_url"`
			CallbackGame                 json.RawMessage `json:"callback_game"`
			WebApp                       json.RawMessage `json:"web_app"`
			Pay                          bool            `json:"pay"`
		} `json:"inline_keyboard"`
		Keyboard       *[][]json.RawMessage `json:"keyboard"`
		RemoveKeyboard bool                 `json:"remove_keyboard"`
		ForceReply     bool                 `json:"force_reply"`
	}
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return m, badRequest("can't parse reply keyboard markup JSON object"), false
	}
	switch {
	case v.InlineKeyboard != nil:
		for _, row := range *v.InlineKeyboard {
			out := make([]Button, 0, len(row))
			for _, b := range row {
				if b.Text == "" {
					return m, badRequest("text buttons are unallowed in the inline keyboard"), false
				}
				actions := 0
				for _, set := range []bool{b.URL != nil, b.CallbackData != nil, b.SwitchInlineQuery != nil,
					b.SwitchInlineQueryCurrentChat != nil, b.LoginURL != nil, b.CallbackGame != nil, b.WebApp != nil, b.Pay} {
					if set {
						actions++
					}
				}
				if actions != 1 {
					return m, badRequest("can't parse inline keyboard button: exactly one of the optional fields must be used"), false
				}
				btn := Button{Text: b.Text}
				if b.CallbackData != nil {
					// callback_data is 1-64 bytes.
					if n := len(*b.CallbackData); n < 1 || n > 64 {
						return m, badRequest("BUTTON_DATA_INVALID"), false
					}
					btn.CallbackData = *b.CallbackData
				}
				if b.URL != nil {
					u, err := url.Parse(*b.URL)
					if err != nil || u.Host == "" && u.Scheme != "tg" || u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "tg" {
						return m, badRequest("inline keyboard button URL '%s' is invalid: Wrong HTTP URL", *b.URL), false
					}
					btn.URL = *b.URL
				}
				out = append(out, btn)
			}
			m.inline = append(m.inline, out)
		}
	case inlineOnly:
		return m, badRequest("inline keyboard expected"), false
	case v.Keyboard != nil:
		for _, row := range *v.Keyboard {
			out := make([]KeyButton, 0, len(row))
			for _, raw := range row {
				var kb struct {
					Text            string `json:"text"`
					RequestContact  bool   `json:"request_contact"`
					RequestLocation bool   `json:"request_location"`
				}
				// A keyboard button may be a bare string.
				if err := json.Unmarshal(raw, &kb.Text); err != nil {
					if err := json.Unmarshal(raw, &kb); err != nil {
						return m, badRequest("can't parse keyboard button"), false
					}
				}
				if kb.Text == "" {
					return m, badRequest("keyboard button text must be non-empty"), false
				}
				switch {
				case kb.RequestContact:
					m.requestsUser = "phone number can be requested in private chats only"
				case kb.RequestLocation:
					m.requestsUser = "location can be requested in private chats only"
				}
				out = append(out, KeyButton{Text: kb.Text, RequestContact: kb.RequestContact, RequestLocation: kb.RequestLocation})
			}
			m.reply = append(m.reply, out)
		}
	case v.RemoveKeyboard:
		m.remove = true
	case v.ForceReply:
		m.forceReply = true
	default:
		return m, badRequest("can't parse reply keyboard markup JSON object"), false
	}
	return m, reply{}, true
}

func sameEntities(a, b []tgbotapi.MessageEntity) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Type != y.Type || x.Offset != y.Offset || x.Length != y.Length || x.URL != y.URL || x.Language != y.Language {
			return false
		}
	}
	return true
}

func sameInline(a, b [][]Button) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}
