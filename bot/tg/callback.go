package tg

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Callback data has the form prefix:arg:arg. The prefix names the handler
// (1–4 lower-case letters, registered in routes.go); arguments are base-36
// numbers or short codes from [a-z0-9_-], never user text. Telegram allows
// 1–64 bytes: https://core.telegram.org/bots/api#inlinekeyboardbutton
const maxCallbackBytes = 64

// Callback is decoded callback data.
type Callback struct {
	Prefix string
	Args   []string
}

var (
	errCallbackTooLong   = errors.New("callback data longer than 64 bytes")
	errCallbackMalformed = errors.New("malformed callback data")
)

// EncodeCallback builds callback data, refusing anything the decoder would
// not accept or Telegram would reject.
func EncodeCallback(prefix string, args ...string) (string, error) {
	if !validPrefix(prefix) {
		return "", fmt.Errorf("callback prefix %q: %w", prefix, errCallbackMalformed)
	}
	for _, a := range args {
		if !ValidArg(a) {
			return "", fmt.Errorf("callback argument %q: %w", a, errCallbackMalformed)
		}
	}
	s := prefix
	if len(args) > 0 {
		s += ":" + strings.Join(args, ":")
	}
	if len(s) > maxCallbackBytes {
		return "", fmt.Errorf("callback %q: %w", s, errCallbackTooLong)
	}
	return s, nil
}

// DecodeCallback parses callback data. It never panics; anything not made by
// EncodeCallback is an error.
func DecodeCallback(data string) (Callback, error) {
	if data == "" || len(data) > maxCallbackBytes {
		return Callback{}, errCallbackMalformed
	}
	parts := strings.Split(data, ":")
	if !validPrefix(parts[0]) {
		return Callback{}, errCallbackMalformed
	}
	for _, a := range parts[1:] {
		if !ValidArg(a) {
			return Callback{}, errCallbackMalformed
		}
	}
	return Callback{Prefix: parts[0], Args: parts[1:]}, nil
}

// Arg returns argument i, "" when absent.
func (c Callback) Arg(i int) string {
	if i < 0 || i >= len(c.Args) {
		return ""
	}
	return c.Args[i]
}

// ID returns argument i as a base-36 unsigned id.
func (c Callback) ID(i int) (uint64, error) {
	return strconv.ParseUint(c.Arg(i), 36, 64)
}

// Int returns argument i as a base-36 signed number (chat ids, unix times).
func (c Callback) Int(i int) (int64, error) {
	return strconv.ParseInt(c.Arg(i), 36, 64)
}

// B36 encodes an unsigned id for a callback argument.
func B36(v uint64) string { return strconv.FormatUint(v, 36) }

// I36 encodes a signed number for a callback argument.
func I36(v int64) string { return strconv.FormatInt(v, 36) }

func validPrefix(p string) bool {
	if len(p) < 1 || len(p) > 4 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 'a' || p[i] > 'z' {
			return false
		}
	}
	return true
}

func ValidArg(a string) bool {
	if a == "" || len(a) > maxCallbackBytes {
		return false
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
