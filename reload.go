package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"jastar/bot/admin"
	"jastar/bot/ops"
	"jastar/storage/catalog"
)

// catalogSetter puts a reloaded catalog in force; the bot is one.
type catalogSetter interface {
	SetCatalog(ctx context.Context, c *catalog.Catalog) (int, error)
}

// reloader is the one way the catalog is reloaded, whether SIGHUP or
// `jastar catalog reload` (through the admin socket) asks.
type reloader struct {
	cfg Config
	to  catalogSetter
	log *slog.Logger
	// mu keeps a signal and a socket request from reloading at once, so
	// the log's orphan list and the reply belong to the catalog put in
	// force last.
	mu sync.Mutex
}

// reloadOnHangup reloads the catalog file on each SIGHUP until ctx ends,
// so an operator's edit takes effect without a restart.
func reloadOnHangup(ctx context.Context, r *reloader, metrics *ops.Metrics) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				func() {
					// A panic loses this reload, not the next ones.
					var panicked bool
					defer ops.Recovered(r.log, metrics, "catalog_reload", &panicked)
					_, _ = r.reload(ctx) // logged there
				}()
			}
		}
	}()
}

// reload reads the catalog file again and puts it in force. A broken file
// is refused with every problem logged and returned (a
// *catalog.ValidationError), and the running catalog stays.
func (r *reloader) reload(ctx context.Context) (admin.Reloaded, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg, log := r.cfg, r.log
	if cfg.CatalogPath == "" {
		log.Warn("catalog reload asked, but JASTAR_CATALOG is not set: the embedded catalog stays")
		return admin.Reloaded{}, admin.ErrNoCatalogFile
	}
	cat, err := catalog.Load(cfg.CatalogPath, cfg.Location)
	if err != nil {
		var verr *catalog.ValidationError
		if errors.As(err, &verr) {
			for _, p := range verr.Problems {
				log.Error("catalog reload refused: the running catalog stays", "problem", p.Error())
			}
		} else {
			log.Error("catalog reload refused: the running catalog stays", "err", err)
		}
		return admin.Reloaded{}, fmt.Errorf("reload catalog %s: %w", cfg.CatalogPath, err)
	}
	done := admin.Reloaded{Path: cfg.CatalogPath, Centers: len(cat.Centers), Types: len(cat.Types)}
	done.Orphans, err = r.to.SetCatalog(ctx, cat)
	if err != nil {
		log.Error("catalog reloaded, but its bookings could not be checked", "err", err)
		return done, err
	}
	log.Info("catalog reloaded", "path", cfg.CatalogPath, "bookings_without_center_or_type", done.Orphans)
	return done, nil
}
