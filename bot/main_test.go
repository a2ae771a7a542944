package bot

import (
	"flag"
	"os"
	"testing"
)

// TestMain runs this package's tests eight at a time unless -parallel is
// given. Most of them wait on real time (a retry_after, a stall, a
// broadcast's rate, the fake's answers) far more than they use the CPU, so
// Go's default of one test per core leaves the two cores of CI idle.
func TestMain(m *testing.M) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		if err := flag.Set("test.parallel", "8"); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
