package admin

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"jastar/bot"
	"jastar/bot/config"
	"jastar/bot/report"
	"jastar/locales"
	"jastar/storage"
	"jastar/storage/catalog"
)

// exportQuery is what an export covers: days from and to, both included,
// of one center or (center "") of all.
type exportQuery struct {
	from, to time.Time // midnight of the first day, midnight after the last
	center   string
	lang     string
}

// exportCSV writes the bookings of q as the same CSV /export sends.
func exportCSV(ctx context.Context, db Store, cat *catalog.Catalog, texts *locales.Bundle, loc *time.Location, q exportQuery) ([]byte, int, error) {
	var list []storage.Booking
	var err error
	if q.center == "" {
		list, err = db.AllBookingsOn(ctx, q.from, q.to)
	} else {
		list, err = db.BookingsOn(ctx, []string{q.center}, q.from, q.to)
	}
	if err != nil {
		return nil, 0, err
	}
	var buf bytes.Buffer
	if err := report.WriteBookingsCSV(&buf, list, bot.BookingsCSVLabels(cat, texts.For(q.lang)), loc); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), len(list), nil
}

// parseExportQuery reads DD.MM.YYYY days (default: this month), a center
// id and a language, as given on the command line or to /export. The
// center is checked against cat unless cat is nil: the command leaves that
// to whoever reads the database, the running bot by the catalog in force.
func parseExportQuery(from, to, center, lang string, cat *catalog.Catalog, loc *time.Location, now time.Time) (exportQuery, error) {
	n := now.In(loc)
	first := time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, loc)
	q := exportQuery{from: first, to: first.AddDate(0, 1, 0), center: center, lang: lang}
	var err error
	if from != "" {
		if q.from, err = time.ParseInLocation("02.01.2006", from, loc); err != nil {
			return q, fmt.Errorf("-from %q is not a day like 01.12.2026", from)
		}
		if to == "" {
			q.to = q.from.AddDate(0, 0, 1)
		}
	}
	if to != "" {
		last, err := time.ParseInLocation("02.01.2006", to, loc)
		if err != nil {
			return q, fmt.Errorf("-to %q is not a day like 31.12.2026", to)
		}
		q.to = last.AddDate(0, 0, 1)
	}
	if !q.to.After(q.from) {
		return q, errors.New("-to is before -from")
	}
	if center != "" && cat != nil {
		if _, ok := cat.Center(center); !ok {
			return q, fmt.Errorf("-center %q is not a center of the catalog", center)
		}
	}
	if lang != "kk" && lang != "ru" {
		return q, fmt.Errorf("-lang %q is not kk or ru", lang)
	}
	return q, nil
}

// Export is "jastar export [-from D] [-to D] [-center ID] [-lang L] FILE".
type Export struct{ Files Files }

// Run writes the bookings of a period as CSV. With the bot stopped it
// reads the database file directly; while the bot runs (bbolt locks the
// file) it asks the bot over its admin socket, which only the database's
// owner can use.
func (c Export) Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defLang := getenv("JASTAR_STAFF_LANG")
	if defLang == "" {
		defLang = "ru"
	}
	from := fs.String("from", "", "first day, DD.MM.YYYY (default: the 1st of this month)")
	to := fs.String("to", "", "last day, DD.MM.YYYY, included (default: the end of this month, or -from alone)")
	center := fs.String("center", "", "only this center `id` (default: every center)")
	lang := fs.String("lang", defLang, "language of the header, names and statuses: kk or ru")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: jastar export [-from DD.MM.YYYY] [-to DD.MM.YYYY] [-center ID] [-lang kk|ru] FILE\n\n"+
			"Writes the bookings of a period as CSV for Excel (UTF-8 with BOM, ';' between columns) to FILE.\n"+
			"While the bot runs, the export is asked of it through its socket JASTAR_DB.sock.\n\nFlags:")
		fs.PrintDefaults()
	}
	dst, ok, err := parseFileArg(fs, args)
	if !ok {
		return err
	}
	tz := getenv("JASTAR_TIMEZONE")
	if tz == "" {
		tz = config.DefaultTimeZone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return &config.Error{Name: "JASTAR_TIMEZONE", Msg: fmt.Sprintf("%q is not a known time zone", tz)}
	}
	q, err := parseExportQuery(*from, *to, *center, *lang, nil, loc, time.Now())
	if err != nil {
		return fmt.Errorf("export: %s: %w", err, config.ErrUsage)
	}
	dbPath := dbPathFrom(getenv)
	// The file is read here only with the bot stopped: a running bot
	// exports by the catalog in force, which a reload may have changed and
	// an edit since may have broken.
	data, n, err := c.exportDirect(ctx, dbPath, getenv("JASTAR_CATALOG"), loc, q)
	if c.Files.locked(err) {
		data, n, err = exportFromBot(ctx, dbPath, *from, *to, q)
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	// The file holds names and phones: only its owner may read it.
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".jastar-export-*")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	fmt.Fprintf(stdout, "export: %d bookings from %s to %s written to %s\n", n,
		q.from.Format("02.01.2006"), q.to.AddDate(0, 0, -1).Format("02.01.2006"), dst)
	return nil
}

func (c Export) exportDirect(ctx context.Context, dbPath, catalogPath string, loc *time.Location, q exportQuery) ([]byte, int, error) {
	db, err := c.Files.openDirect(dbPath)
	if err != nil {
		return nil, 0, err
	}
	defer db.Close()
	cat, err := config.LoadCatalog(catalogPath, loc)
	if err != nil {
		return nil, 0, err
	}
	if _, ok := cat.Center(q.center); q.center != "" && !ok {
		return nil, 0, fmt.Errorf("-center %q is not a center of the catalog: %w", q.center, config.ErrUsage)
	}
	texts, err := locales.Load()
	if err != nil {
		return nil, 0, err
	}
	return exportCSV(ctx, db, cat, texts, loc, q)
}

func exportFromBot(ctx context.Context, dbPath, from, to string, q exportQuery) ([]byte, int, error) {
	v := url.Values{"from": {from}, "to": {to}, "center": {q.center}, "lang": {q.lang}}
	resp, err := askBot(ctx, dbPath, "/export?"+v.Encode(), 5*time.Minute)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, 0, err
	}
	var n int
	fmt.Sscan(resp.Header.Get("X-Jastar-Bookings"), &n)
	return body, n, nil
}

// exportHandler serves GET /export?from=&to=&center=&lang= on the admin
// socket: the CSV holds names and phones. Centers and types are named by
// the catalog in force, a reloaded one included.
func exportHandler(db Store, catalogInForce func() *catalog.Catalog, texts *locales.Bundle, loc *time.Location, log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// Once per request: a reload between two reads would mix catalogs.
		cat := catalogInForce()
		p := r.URL.Query()
		lang := p.Get("lang")
		if lang == "" {
			lang = "ru"
		}
		q, err := parseExportQuery(p.Get("from"), p.Get("to"), p.Get("center"), lang, cat, loc, time.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		data, n, err := exportCSV(r.Context(), db, cat, texts, loc, q)
		if err != nil {
			log.Error("serve export", "err", err)
			http.Error(w, "export failed; see the bot's log", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("X-Jastar-Bookings", fmt.Sprint(n))
		_, _ = w.Write(data)
	}
}
