//go:build !race

package policy

// raceEnabled is set under -race, which adds allocations of its own.
const raceEnabled = false
