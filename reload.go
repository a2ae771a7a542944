package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"jastar/bot/ops"
	"jastar/storage/catalog"
)

// catalogSetter puts a reloaded catalog in force; the bot is one.
type catalogSetter interface {
	SetCatalog(ctx context.Context, c *catalog.Catalog) (int, error)
}

// reloadOnHangup reloads the catalog file on each SIGHUP until ctx ends,
// so an operator's edit takes effect without a restart.
func reloadOnHangup(ctx context.Context, cfg Config, to catalogSetter, log *slog.Logger, metrics *ops.Metrics) {
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
					defer ops.Recovered(log, metrics, "catalog_reload", &panicked)
					_ = reloadCatalog(ctx, cfg, to, log) // logged there
				}()
			}
		}
	}()
}

// reloadCatalog reads the catalog file again and puts it in force. A
// broken file is refused with every problem logged, and the running
// catalog stays.
func reloadCatalog(ctx context.Context, cfg Config, to catalogSetter, log *slog.Logger) error {
	if cfg.CatalogPath == "" {
		log.Warn("catalog reload asked, but JASTAR_CATALOG is not set: the embedded catalog stays")
		return nil
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
		return fmt.Errorf("reload catalog %s: %w", cfg.CatalogPath, err)
	}
	orphans, err := to.SetCatalog(ctx, cat)
	if err != nil {
		log.Error("catalog reloaded, but its bookings could not be checked", "err", err)
		return err
	}
	log.Info("catalog reloaded", "path", cfg.CatalogPath, "bookings_without_center_or_type", orphans)
	return nil
}
