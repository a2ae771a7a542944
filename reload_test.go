package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jastar/storage/catalog"
)

type recordingSetter struct{ got []*catalog.Catalog }

func (s *recordingSetter) SetCatalog(_ context.Context, c *catalog.Catalog) (int, error) {
	s.got = append(s.got, c)
	return 0, nil
}

// TestReloadCatalog: a broken file is refused with every problem logged
// and nothing put in force; a good one is put in force.
func TestReloadCatalog(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "catalog.toml")
	good := catalog.DefaultTOML()
	broken := bytes.Replace(good, []byte(`capacity = 1`), []byte(`capacity = -1`), 3) // the first is in a comment
	if err := os.WriteFile(path, broken, 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	cfg := Config{CatalogPath: path, Location: time.UTC}
	set := &recordingSetter{}
	if err := reloadCatalog(context.Background(), cfg, set, log); err == nil || len(set.got) != 0 {
		t.Fatalf("a broken catalog: err %v, %d put in force", err, len(set.got))
	}
	if n := strings.Count(logs.String(), "catalog reload refused"); n < 2 {
		t.Errorf("%d problems logged, want both:\n%s", n, logs.String())
	}
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := reloadCatalog(context.Background(), cfg, set, log); err != nil || len(set.got) != 1 {
		t.Fatalf("a good catalog: err %v, %d put in force", err, len(set.got))
	}
}
