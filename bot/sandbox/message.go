package sandbox

import (
	"net/url"
	"strconv"

	"jastar/bot/telegramtest"
)

// message is a chat message as the page renders it. Text stays plain text
// with Telegram's entities (offsets in UTF-16 code units, which is what a
// JavaScript string indexes), so the page builds the formatting with DOM
// nodes and never parses markup.
type message struct {
	ID       int           `json:"id"`
	Chat     int64         `json:"chat"`
	FromBot  bool          `json:"from_bot"`
	FromID   int64         `json:"from_id"`
	FromName string        `json:"from_name"`
	Own      bool          `json:"own"` // sent by the persona looking at it
	Text     string        `json:"text,omitempty"`
	Entities []entity      `json:"entities,omitempty"`
	Inline   [][]inlineBtn `json:"inline,omitempty"`
	Keyboard [][]keyBtn    `json:"keyboard,omitempty"`
	// RemoveKeyboard hides the reply keyboard, as ReplyKeyboardRemove does.
	RemoveKeyboard bool      `json:"remove_keyboard,omitempty"`
	ReplyTo        int       `json:"reply_to,omitempty"`
	Venue          *place    `json:"venue,omitempty"`
	Location       *place    `json:"location,omitempty"`
	Contact        *contact  `json:"contact,omitempty"`
	Document       *fileJSON `json:"document,omitempty"`
	Photo          *fileJSON `json:"photo,omitempty"`
	Other          string    `json:"other,omitempty"` // "sticker", "voice"
	Edited         bool      `json:"edited,omitempty"`
	Date           int64     `json:"date"`
}

type entity struct {
	Type   string `json:"type"`
	Offset int    `json:"offset"`
	Length int    `json:"length"`
	URL    string `json:"url,omitempty"`
}

type inlineBtn struct {
	Text string `json:"text"`
	Data string `json:"data,omitempty"`
	URL  string `json:"url,omitempty"`
}

type keyBtn struct {
	Text     string `json:"text"`
	Location bool   `json:"location,omitempty"`
	Contact  bool   `json:"contact,omitempty"`
}

type place struct {
	Lat     float64 `json:"lat"`
	Lon     float64 `json:"lon"`
	Title   string  `json:"title,omitempty"`
	Address string  `json:"address,omitempty"`
	Map     string  `json:"map"`
}

type contact struct {
	Phone string `json:"phone"`
	Name  string `json:"name"`
}

type fileJSON struct {
	Name string `json:"name,omitempty"`
	Size int    `json:"size"`
	// URL is where the page gets the bytes: our /api/file for an upload, the
	// original address when the bot sent a file by URL, empty when the bot
	// reused a file_id whose bytes the fake never saw.
	URL string `json:"url,omitempty"`
}

// convert renders a stored message for persona p.
func (h *handler) convert(p Persona, m telegramtest.Message) message {
	out := message{
		ID: m.ID, Chat: m.ChatID, FromBot: m.FromBot, FromID: m.From.ID, FromName: m.From.FirstName,
		Own: !m.FromBot && m.From.ID == p.ID, Text: m.Text, RemoveKeyboard: m.RemoveKeyboard,
		ReplyTo: m.ReplyTo, Edited: m.Edited > 0, Date: m.Date.Unix(),
	}
	for _, e := range m.Entities {
		out.Entities = append(out.Entities, entity{Type: e.Type, Offset: e.Offset, Length: e.Length, URL: safeURL(e.URL)})
	}
	for _, row := range m.InlineKeyboard {
		var r []inlineBtn
		for _, b := range row {
			r = append(r, inlineBtn{Text: b.Text, Data: b.CallbackData, URL: safeURL(b.URL)})
		}
		out.Inline = append(out.Inline, r)
	}
	for _, row := range m.ReplyKeyboard {
		var r []keyBtn
		for _, b := range row {
			r = append(r, keyBtn{Text: b.Text, Location: b.RequestLocation, Contact: b.RequestContact})
		}
		out.Keyboard = append(out.Keyboard, r)
	}
	if v := m.Venue; v != nil {
		out.Venue = &place{Lat: v.Latitude, Lon: v.Longitude, Title: v.Title, Address: v.Address, Map: mapURL(v.Latitude, v.Longitude)}
	} else if l := m.Location; l != nil {
		out.Location = &place{Lat: l.Latitude, Lon: l.Longitude, Map: mapURL(l.Latitude, l.Longitude)}
	}
	if c := m.Contact; c != nil {
		out.Contact = &contact{Phone: c.PhoneNumber, Name: c.FirstName}
	}
	fileURL := "/api/file?" + url.Values{
		"as": {strconv.FormatInt(p.ID, 10)}, "chat": {strconv.FormatInt(m.ChatID, 10)}, "message": {strconv.Itoa(m.ID)},
	}.Encode()
	if d := m.Document; d != nil {
		out.Document = &fileJSON{Name: d.FileName, Size: len(d.Data), URL: safeURL(d.URL)}
		if len(d.Data) > 0 {
			out.Document.URL = fileURL
		}
	}
	if ph := m.Photo; ph != nil {
		out.Photo = &fileJSON{Name: ph.FileName, Size: len(ph.Data), URL: safeURL(ph.URL)}
		if len(ph.Data) > 0 {
			out.Photo.URL = fileURL
		}
	}
	switch {
	case m.Sticker != nil:
		out.Other = "sticker " + m.Sticker.Emoji
	case m.Voice != nil:
		out.Other = "voice"
	}
	return out
}

// mapURL links a point on OpenStreetMap, which needs no key or account.
func mapURL(lat, lon float64) string {
	la, lo := strconv.FormatFloat(lat, 'f', 5, 64), strconv.FormatFloat(lon, 'f', 5, 64)
	return "https://www.openstreetmap.org/?mlat=" + la + "&mlon=" + lo + "#map=15/" + la + "/" + lo
}

// safeURL keeps http(s) links and drops anything else (javascript: and the
// like), so a link the bot sent can never run script in the page.
func safeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "tg") {
		return ""
	}
	return u.String()
}
