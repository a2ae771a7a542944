package tg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// PolledUpdate is one update of a poll's answer: its JSON as Telegram sent
// it (what the inbox stores) and the library's Update decoded from it, or
// Err when it does not decode into one.
type PolledUpdate struct {
	JSON   json.RawMessage
	Update *tgbotapi.Update
	Err    error
}

// GetUpdates asks the Bot API at endpoint (the library's "…/bot%s/%s"
// form) for updates with cfg, through client, and returns each update's
// JSON as Telegram sent it with its decoding. It is the library's
// getUpdates request (the same form fields, the same *tgbotapi.Error for an
// answer that is not ok, so Classify reads it as before), but the answer is
// read in one pass: each update is decoded straight from the answer and
// its bytes sliced out around it. The library scans the whole answer into
// its APIResponse and then the result again; splitting the result and
// decoding each update after it cost four scans of every byte, 8% of the
// bot's CPU under load.
func GetUpdates(client tgbotapi.HTTPClient, endpoint, token string, cfg tgbotapi.UpdateConfig) ([]PolledUpdate, error) {
	form := url.Values{}
	if cfg.Offset != 0 {
		form.Set("offset", strconv.Itoa(cfg.Offset))
	}
	if cfg.Limit != 0 {
		form.Set("limit", strconv.Itoa(cfg.Limit))
	}
	if cfg.Timeout != 0 {
		form.Set("timeout", strconv.Itoa(cfg.Timeout))
	}
	if cfg.AllowedUpdates != nil {
		allowed, err := json.Marshal(cfg.AllowedUpdates)
		if err != nil {
			return nil, err
		}
		form.Set("allowed_updates", string(allowed))
	}
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf(endpoint, token, "getUpdates"), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	buf, release, err := readAnswer(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read getUpdates answer: %w", err)
	}
	// Every update's JSON is copied out, so the buffer goes back at once.
	defer release()
	updates, err := decodeUpdatesAnswer(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("decode getUpdates answer: %w", err)
	}
	return updates, nil
}

// decodeUpdatesAnswer reads a getUpdates answer: its updates when it is
// ok, the *tgbotapi.Error it carries otherwise. An update that is valid
// JSON but does not fit the library's Update comes back with its Err; an
// answer that is not valid JSON is an error as a whole.
func decodeUpdatesAnswer(body []byte) ([]PolledUpdate, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var (
		ok          bool
		errorCode   int
		description string
		parameters  *tgbotapi.ResponseParameters
		updates     []PolledUpdate
	)
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		switch tok {
		case "ok":
			err = dec.Decode(&ok)
		case "error_code":
			err = dec.Decode(&errorCode)
		case "description":
			err = dec.Decode(&description)
		case "parameters":
			err = dec.Decode(&parameters)
		case "result":
			updates, err = decodeResult(dec, body)
		default:
			var skipped json.RawMessage
			err = dec.Decode(&skipped)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, err
	}
	if !ok {
		e := &tgbotapi.Error{Code: errorCode, Message: description}
		if parameters != nil {
			e.ResponseParameters = *parameters
		}
		return nil, e
	}
	return updates, nil
}

// decodeResult decodes the result array dec is at, slicing each update's
// bytes out of body by the decoder's offsets (before an update's value it
// stands after the previous one, so the comma and blanks are trimmed).
func decodeResult(dec *json.Decoder, body []byte) ([]PolledUpdate, error) {
	tok, err := dec.Token()
	if err != nil || tok == nil { // a null result holds no updates
		return nil, err
	}
	if tok != json.Delim('[') {
		return nil, fmt.Errorf("result is %v, not an array", tok)
	}
	var updates []PolledUpdate
	for dec.More() {
		start := dec.InputOffset()
		u := new(tgbotapi.Update)
		err := dec.Decode(u)
		var syntaxErr *json.SyntaxError
		if errors.As(err, &syntaxErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, err
		}
		// Any other error is this update's: the decoder read the whole
		// value before it decoded it, and goes on after it.
		raw := bytes.TrimLeft(body[start:dec.InputOffset()], " \t\r\n,")
		p := PolledUpdate{JSON: bytes.Clone(raw), Update: u, Err: err}
		if err != nil {
			p.Update = nil
		}
		updates = append(updates, p)
	}
	return updates, expectDelim(dec, ']')
}

// expectDelim reads the next token of dec, which must be want.
func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != want {
		return fmt.Errorf("got %v, want %v", tok, want)
	}
	return nil
}
