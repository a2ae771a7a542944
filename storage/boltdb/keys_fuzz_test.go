package boltdb

import (
	"bytes"
	"testing"
	"time"
)

// FuzzKeyDecoders feeds arbitrary bytes to every key and value decoder:
// none may panic, and what decodes from a well-formed key encodes back to it.
func FuzzKeyDecoders(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1}, int64(-1001234567890), "karasai")
	f.Add([]byte{}, int64(0), "")
	f.Add([]byte{0xff}, int64(1<<62), "a_very_long_catalog_id_that_does_not_fit")
	f.Fuzz(func(t *testing.T, raw []byte, chat int64, id string) {
		_ = decodeUint(raw)
		_ = decodeTime(raw)
		_ = decodeChatID(raw)
		_, _ = decodeDelivery(raw)
		if got := decodeChatID(encodeChatID(chat)); got != chat {
			t.Fatalf("chat id %d round-trips to %d", chat, got)
		}
		if len(raw) == 8 && !bytes.Equal(encodeChatID(decodeChatID(raw)), raw) {
			t.Fatalf("key %x does not round-trip", raw)
		}
		if k, ok := checkedCatalogID(id); ok {
			if len(k) != idWidth || !bytes.HasPrefix(k, []byte(id)) {
				t.Fatalf("catalog id %q encoded as %x", id, k)
			}
		} else if id != "" && len(id) <= idWidth {
			t.Fatalf("catalog id %q of %d bytes refused", id, len(id))
		}
		at := time.Unix(int64(decodeUint(raw)&(1<<40-1)), 0).UTC()
		if got := decodeTime(encodeTime(at)); !got.Equal(at) {
			t.Fatalf("time %v round-trips to %v", at, got)
		}
	})
}
