package store

import (
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// PebbleMetrics is Pebble's own metrics plus the events Pebble reports only
// through its event listener, counted since the store opened.
type PebbleMetrics struct {
	*pebble.Metrics
	WriteStalls    int64         // times Pebble stopped writes (memtables full or L0 too deep)
	WriteStallTime time.Duration // total time writes were stalled
	DiskSlowEvents int64         // disk operations Pebble reported as slow
}

// PebbleMetrics returns a snapshot of Pebble's health figures. It does not
// take the store's lock. REQUIRES: the store is open.
func (s *Store) PebbleMetrics() PebbleMetrics {
	return PebbleMetrics{
		Metrics:        s.pdb.Metrics(),
		WriteStalls:    s.events.stalls.Load(),
		WriteStallTime: time.Duration(s.events.stallNanos.Load()),
		DiskSlowEvents: s.events.diskSlow.Load(),
	}
}

// pebbleEvents counts the Pebble events PebbleMetrics reports. Pebble calls
// the listener from its own goroutines; every field is an atomic.
type pebbleEvents struct {
	stalls, stallNanos, diskSlow atomic.Int64
	stallBegan                   atomic.Int64 // unix ns of the open stall; 0 when none
}

// listener is the event listener Open installs on the Pebble database.
func (e *pebbleEvents) listener() *pebble.EventListener {
	return &pebble.EventListener{
		WriteStallBegin: func(pebble.WriteStallBeginInfo) {
			e.stalls.Add(1)
			e.stallBegan.Store(time.Now().UnixNano())
		},
		WriteStallEnd: func() {
			if began := e.stallBegan.Swap(0); began != 0 {
				e.stallNanos.Add(time.Now().UnixNano() - began)
			}
		},
		DiskSlow: func(pebble.DiskSlowInfo) { e.diskSlow.Add(1) },
	}
}
