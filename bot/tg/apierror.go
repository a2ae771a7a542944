package tg

import (
	"errors"
	"fmt"
	"net"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// APIError is an answer of the Bot API that was not ok, classified for the
// decisions callers make: retry, mark the person blocked, or log our bug.
type APIError struct {
	Method      string
	Code        int
	Description string
	RetryAfter  int // seconds, from parameters.retry_after of a 429
}

func (e *APIError) Error() string {
	return fmt.Sprintf("telegram %s: %d %s", e.Method, e.Code, e.Description)
}

// Sentinel classes of Bot API failures, matched with errors.Is.
var (
	// ErrBlocked: the person blocked the bot or deleted their account (403).
	ErrBlocked = errors.New("blocked by the user")
	// ErrChatNotFound: the chat does not exist or the bot is not in it (400).
	ErrChatNotFound = errors.New("chat not found")
	// ErrUnauthorized: Telegram rejected the token (401).
	ErrUnauthorized = errors.New("telegram rejected the bot token")
	// ErrNotModified: an edit that would not change the message; harmless.
	ErrNotModified = errors.New("message is not modified")
	// ErrMaybeSent: a call that creates a message failed in a way that does
	// not tell whether Telegram took it (a timeout or a dropped connection
	// after the request went out, or a stop while it was in flight). The
	// sender does not retry such a call, because the person could get the
	// message twice; the caller must treat it as possibly delivered.
	ErrMaybeSent = errors.New("message may have been sent")
)

// Is lets errors.Is match an APIError against the sentinel classes.
func (e *APIError) Is(target error) bool {
	desc := strings.ToLower(e.Description)
	switch target {
	case ErrBlocked:
		return e.Code == 403
	case ErrChatNotFound:
		return e.Code == 400 && (strings.Contains(desc, "chat not found") || strings.Contains(desc, "user not found"))
	case ErrUnauthorized:
		return e.Code == 401
	case ErrNotModified:
		return e.Code == 400 && strings.Contains(desc, "message is not modified")
	}
	return false
}

func (e *APIError) retryable() bool { return e.Code == 429 || e.Code >= 500 }

// redactedError carries the text of a transport error with the bot token cut
// out: net/http puts the full request URL, token included, into its errors.
type redactedError struct {
	msg     string
	timeout bool
	// unsent: the connection was never made (refused, unreachable, no such
	// host), so the request cannot have reached Telegram.
	unsent bool
}

func (e *redactedError) Error() string { return e.msg }

// Timeout reports whether the original error was a timeout.
func (e *redactedError) Timeout() bool { return e.timeout }

// classify turns what the library returned into an *APIError or a redacted
// transport error. The token never survives into the returned error.
func Classify(method, token string, err error) error {
	if err == nil {
		return nil
	}
	var tgErr *tgbotapi.Error
	if errors.As(err, &tgErr) {
		return &APIError{Method: method, Code: tgErr.Code, Description: redact(tgErr.Message, token), RetryAfter: tgErr.RetryAfter}
	}
	var nerr net.Error
	timeout := errors.As(err, &nerr) && nerr.Timeout()
	var opErr *net.OpError
	unsent := errors.As(err, &opErr) && opErr.Op == "dial"
	return &redactedError{msg: fmt.Sprintf("telegram %s: %s", method, redact(err.Error(), token)), timeout: timeout, unsent: unsent}
}

// redact removes the token from s.
func redact(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "<token>")
}
