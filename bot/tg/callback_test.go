package tg

import (
	"strings"
	"testing"
)

func TestDecodeCallback(t *testing.T) {
	tests := []struct {
		data    string
		wantErr bool
		prefix  string
		args    []string
	}{
		{"lang:kk", false, "lang", []string{"kk"}},
		{"bk:3f:-1a", false, "bk", []string{"3f", "-1a"}},
		{"menu", false, "menu", nil},
		{"", true, "", nil},
		{"LANG:kk", true, "", nil},
		{"toolong:x", true, "", nil},
		{"bk::1", true, "", nil},
		{"bk:Ab", true, "", nil},
		{"bk:<script>", true, "", nil},
		{"bk:" + strings.Repeat("a", 62), true, "", nil},
		{"bk:1:", true, "", nil},
	}
	for _, tt := range tests {
		got, err := DecodeCallback(tt.data)
		if (err != nil) != tt.wantErr {
			t.Errorf("DecodeCallback(%q) err = %v, wantErr %v", tt.data, err, tt.wantErr)
			continue
		}
		if err == nil && (got.Prefix != tt.prefix || strings.Join(got.Args, ",") != strings.Join(tt.args, ",")) {
			t.Errorf("DecodeCallback(%q) = %+v", tt.data, got)
		}
	}
}

func TestEncodeCallback_RefusesOver64Bytes(t *testing.T) {
	if _, err := EncodeCallback("ev", strings.Repeat("z", 62)); err == nil {
		t.Error("65-byte callback data encoded without error")
	}
	s, err := EncodeCallback("ev", strings.Repeat("z", 61))
	if err != nil || len(s) != 64 {
		t.Errorf("64-byte data: %q, %v", s, err)
	}
}

func TestCallback_Numbers(t *testing.T) {
	s, err := EncodeCallback("bk", B36(1<<40), I36(-1001234567890))
	if err != nil {
		t.Fatal(err)
	}
	c, err := DecodeCallback(s)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := c.ID(0); err != nil || id != 1<<40 {
		t.Errorf("ID(0) = %d, %v", id, err)
	}
	if chat, err := c.Int(1); err != nil || chat != -1001234567890 {
		t.Errorf("Int(1) = %d, %v", chat, err)
	}
	if _, err := c.ID(5); err == nil {
		t.Error("a missing argument parsed as an id")
	}
}

func FuzzDecodeCallback(f *testing.F) {
	for _, s := range []string{"lang:kk", "bk:3f:-1a", "", ":", "a:b:c:d:e", "é:x", strings.Repeat("a", 70)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		c, err := DecodeCallback(data)
		if err != nil {
			return
		}
		again, err := EncodeCallback(c.Prefix, c.Args...)
		if err != nil {
			t.Fatalf("decoded %q but cannot encode it back: %v", data, err)
		}
		if again != data {
			t.Fatalf("round trip %q -> %q", data, again)
		}
		if len(again) > 64 {
			t.Fatalf("encoded %d bytes", len(again))
		}
	})
}
