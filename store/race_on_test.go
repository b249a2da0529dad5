//go:build race

package store

// raceDetector is true when the tests run under -race, which changes the
// heap layout TestUsedMemory_TracksHeap measures.
const raceDetector = true
