package tg

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// GetUpdates asks the Bot API at endpoint (the library's "…/bot%s/%s"
// form) for updates with cfg, through client, and returns each update's
// JSON as Telegram sent it. It is the library's getUpdates request
// (the same form fields, the same *tgbotapi.Error for an answer that is not
// ok, so Classify reads it as before), but the answer is decoded once: the
// library scans the whole answer into its APIResponse and the poller then
// scanned the result again to split it, which for a batch of a hundred
// updates was a few per cent of the bot's CPU under load.
func GetUpdates(client tgbotapi.HTTPClient, endpoint, token string, cfg tgbotapi.UpdateConfig) ([]json.RawMessage, error) {
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
	var answer struct {
		OK          bool                         `json:"ok"`
		Result      []json.RawMessage            `json:"result"`
		ErrorCode   int                          `json:"error_code"`
		Description string                       `json:"description"`
		Parameters  *tgbotapi.ResponseParameters `json:"parameters"`
	}
	buf, release, err := readAnswer(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read getUpdates answer: %w", err)
	}
	// Each json.RawMessage is a copy, so the buffer goes back at once.
	err = json.Unmarshal(buf.Bytes(), &answer)
	release()
	if err != nil {
		return nil, fmt.Errorf("decode getUpdates answer: %w", err)
	}
	if !answer.OK {
		e := &tgbotapi.Error{Code: answer.ErrorCode, Message: answer.Description}
		if answer.Parameters != nil {
			e.ResponseParameters = *answer.Parameters
		}
		return nil, e
	}
	return answer.Result, nil
}
