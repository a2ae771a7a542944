package config

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"jastar/storage/catalog"
)

// RunCatalog is "jastar catalog check FILE" and "jastar catalog default".
func RunCatalog(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	args, help, err := parseNoFlags("catalog", catalogUsage, args, stderr)
	if help || err != nil {
		return err
	}
	if len(args) > 0 && args[0] == "default" {
		rest, help, err := parseNoFlags("catalog default", "Usage: jastar catalog default\n\nPrints the embedded catalog, a starting point for your own JASTAR_CATALOG.", args[1:], stderr)
		if help || err != nil {
			return err
		}
		if len(rest) > 0 {
			return fmt.Errorf("catalog default takes no arguments: %w", ErrUsage)
		}
		_, err = stdout.Write(catalog.DefaultTOML())
		return err
	}
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, catalogUsage)
		return fmt.Errorf("catalog: want \"catalog check FILE\", \"catalog default\" or \"catalog reload\": %w", ErrUsage)
	}
	args, help, err = parseNoFlags("catalog check", "Usage: jastar catalog check FILE\n\nValidates a catalog file for JASTAR_CATALOG, in JASTAR_TIMEZONE, and lists every problem.", args[1:], stderr)
	if help || err != nil {
		return err
	}
	if len(args) != 1 {
		return fmt.Errorf("catalog check: want exactly one FILE: %w", ErrUsage)
	}
	tz := getenv("JASTAR_TIMEZONE")
	if tz == "" {
		tz = DefaultTimeZone
	}
	loc, err := LoadTimeZone(tz, time.Now())
	if err != nil {
		return err
	}
	cat, err := catalog.Load(args[0], loc)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok: %d districts, %d centers, %d consultation types, %d events\n",
		args[0], len(cat.Districts), len(cat.Centers), len(cat.Types), len(cat.Events))
	for _, year := range cat.YearsWithoutDatedHolidays(time.Now()) {
		fmt.Fprintf(stdout, "warning: no moving holidays or transfers of days off for %d: add Kurban ait and the government decree's transfers to holidays (the yearly ones hold without listing)\n", year)
	}
	return nil
}

const catalogUsage = `Usage: jastar catalog check FILE
       jastar catalog default
       jastar catalog reload

check validates a catalog file for JASTAR_CATALOG and lists every problem;
default prints the embedded catalog, a starting point for your own;
reload asks the running bot to read JASTAR_CATALOG again (as SIGHUP does).`

// parseNoFlags parses the arguments of a command that has no flags, so -h
// prints its usage and succeeds like every other command's. It returns the
// arguments left, and help when -h was given.
func parseNoFlags(name, usage string, args []string, stderr io.Writer) (rest []string, help bool, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, usage) }
	if help, err := ParseFlags(fs, args); help || err != nil {
		return nil, help, err
	}
	return fs.Args(), false, nil
}
