// Package config holds what the bot and every subcommand share of the
// operator's configuration: the time zone, the catalog file, and the errors
// that mean the operator has to fix something before a restart can help
// (main exits with code 2 on them). It also owns `jastar catalog`, which
// checks a catalog file before JASTAR_CATALOG names it.
//
// main reads the rest of the environment into its own Config (STYLE.md §9).
// This package imports only the catalog, so each subcommand's package can
// use it; it must never import the bot or storage/boltdb.
package config

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"jastar/storage/catalog"
)

// DefaultTimeZone is JASTAR_TIMEZONE when it is unset.
const DefaultTimeZone = "Asia/Almaty"

// Error names the variable (or flag) that is wrong; main prints it as one
// line and exits with code 2.
type Error struct {
	Name string
	Msg  string
}

func (e *Error) Error() string { return e.Name + ": " + e.Msg }

// ErrUsage is wrapped by every error of a command used wrongly (an unknown
// command, a bad flag, a missing FILE); main exits with code 2 on it.
var ErrUsage = errors.New("usage")

// ParseFlags parses a subcommand's args into fs, which prints its own usage
// and errors. help is true when -h asked for the usage: the command then
// ends there, successfully. A bad flag is ErrUsage, named after fs.
func ParseFlags(fs *flag.FlagSet, args []string) (help bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return false, fmt.Errorf("%s: %w", fs.Name(), ErrUsage)
	}
	return false, nil
}

// LoadTimeZone loads the zone of JASTAR_TIMEZONE (or the default) and
// checks that its data is current; now is the moment checked.
func LoadTimeZone(name string, now time.Time) (*time.Location, error) {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, &Error{Name: "JASTAR_TIMEZONE", Msg: fmt.Sprintf("%q is not a known time zone (for example Asia/Almaty)", name)}
	}
	if err := checkZoneData(name, loc, now); err != nil {
		return nil, &Error{Name: "JASTAR_TIMEZONE", Msg: err.Error()}
	}
	return loc, nil
}

// checkZoneData refuses zone data older than Kazakhstan's move to UTC+5 on
// 1 March 2024 (tzdata 2024a). time.LoadLocation reads the system's
// zoneinfo before the copy embedded by time/tzdata, and with an old one
// every slot, reminder and digest would be an hour off.
func checkZoneData(name string, loc *time.Location, now time.Time) error {
	switch name {
	case "Asia/Almaty", "Asia/Qostanay":
	default:
		return nil
	}
	if _, offset := now.In(loc).Zone(); offset != 5*60*60 {
		return fmt.Errorf("%s is UTC%s in this system's time zone data, but Kazakhstan is UTC+05:00 since 1 March 2024: update tzdata (2024a or later), or set ZONEINFO to a current zoneinfo.zip", name, now.In(loc).Format("-07:00"))
	}
	return nil
}

// LoadCatalog reads the catalog file at path (JASTAR_CATALOG), or the
// embedded default when path is "". A broken catalog stops the bot before
// it starts, with every problem listed.
func LoadCatalog(path string, loc *time.Location) (*catalog.Catalog, error) {
	if path == "" {
		return catalog.Default(loc), nil
	}
	cat, err := catalog.Load(path, loc)
	if err != nil {
		// Unreadable or broken, the file is the operator's to fix: a
		// configuration error (exit 2), like any other bad variable.
		return nil, &Error{Name: "JASTAR_CATALOG", Msg: err.Error()}
	}
	return cat, nil
}
