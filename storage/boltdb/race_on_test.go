//go:build race

package boltdb

// raceEnabled is true under -race, where every memory access is checked and
// runs about ten times slower: load tests shrink to what still finds a
// race.
const raceEnabled = true
