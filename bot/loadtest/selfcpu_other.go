//go:build !unix

package loadtest

import "time"

// selfCPU is unknown here: the report leaves the tool's CPU out.
func selfCPU() time.Duration { return 0 }
