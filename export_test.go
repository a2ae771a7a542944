package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"jastar/storage"
	"jastar/storage/boltdb"
)

func readExport(t *testing.T, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rest, ok := bytes.CutPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	if !ok {
		t.Fatal("export lacks the UTF-8 BOM")
	}
	r := csv.NewReader(bytes.NewReader(rest))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("export file mode %v, want 0600", fi.Mode().Perm())
	}
	return rows
}

// TestRun_NewerSchemaRefused: a database written by a newer jastar is not
// touched, and the operator is told why.
func TestRun_NewerSchemaRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "jastar.db")
	db, err := boltdb.Open(path, boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error {
		v := make([]byte, 8)
		binary.BigEndian.PutUint64(v, 99)
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), v)
	})
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	err = run(context.Background(), nil, env(map[string]string{
		"TELEGRAM_BOT_TOKEN": "123:abcdefghijkl", "TELEGRAM_API_URL": "http://127.0.0.1:1", "JASTAR_DB": path,
	}), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !errors.Is(err, storage.ErrSchemaTooNew) || !strings.Contains(err.Error(), "newer jastar") {
		t.Fatalf("run = %v, want a refusal naming a newer jastar", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the newer database was modified")
	}
}
