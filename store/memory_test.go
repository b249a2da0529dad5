package store

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// recounted is used memory computed from scratch, to check the
// incremental accounting against.
func recounted(s *Store) (incremental, full int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	incremental = s.used.Load()
	perDB := make([]int64, len(s.mu.dbs))
	for db := range s.mu.dbs {
		perDB[db] = s.mu.dbs[db].used
	}
	s.recountLocked()
	full = s.used.Load()
	for db := range s.mu.dbs {
		if perDB[db] != s.mu.dbs[db].used {
			return incremental, -1 // a database's own total drifted
		}
	}
	return incremental, full
}

// TestUsedMemory_IncrementalMatchesRecount runs random writes of every kind
// and checks after each batch that the incrementally kept total equals a
// recount, and that a restart computes the same figure.
func TestUsedMemory_IncrementalMatchesRecount(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir, 4)
	closeOnCleanup(t, &s)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	key := func() []byte { return fmt.Appendf(nil, "k%d", r.IntN(60)) }
	now := time.Now().UnixMilli()
	for round := range 200 {
		db := r.IntN(4)
		if _, err := s.UpdateAt(db, now+int64(round), func(tx *Tx) {
			for range 20 {
				k := key()
				e := tx.Get(k)
				isZ := e != nil && e.Type == TypeZSet
				switch op := r.IntN(10); {
				case op < 3 && !isZ:
					tx.SetString(k, make([]byte, r.IntN(300)), 0)
				case op == 3:
					tx.SetExpire(k, now+int64(1+r.IntN(3))*hourMs)
				case op == 4:
					tx.Delete(k)
				case op < 7 && (e == nil || isZ):
					tx.ZAdd(k, fmt.Appendf(nil, "m%d", r.IntN(30)), float64(r.IntN(9)))
				case op == 7 && isZ:
					tx.ZRem(k, fmt.Appendf(nil, "m%d", r.IntN(30)))
				case op == 8:
					tx.Rename(k, key())
				case op == 9:
					tx.Copy(k, tx.In((db+1)%4), key())
				}
			}
			if round%50 == 49 {
				tx.Flush()
			}
		}); err != nil {
			t.Fatal(err)
		}
		if inc, full := recounted(s); inc != full {
			t.Fatalf("round %d: incremental %d, recount %d (-1: a database total drifted)", round, inc, full)
		}
	}
	before := s.UsedMemory()
	if before == 0 {
		t.Fatal("nothing accounted")
	}
	s.Close()
	s = openTestStore(t, dir, 4)
	if got := s.UsedMemory(); got != before {
		t.Fatalf("after restart used memory %d, before %d", got, before)
	}
	update(t, s, 0, func(tx *Tx) { tx.FlushAll() })
	if got := s.UsedMemory(); got != 0 {
		t.Fatalf("after FLUSHALL used memory %d", got)
	}
}

// TestUsedMemory_TracksHeap checks the overhead constants: the estimate of
// 200K keys (strings, keys with TTLs, sorted-set members) stays within 30%
// of the Go heap they occupy.
func TestUsedMemory_TracksHeap(t *testing.T) {
	if raceDetector {
		t.Skip("the race detector changes allocation sizes; this calibration runs without -race")
	}
	for _, tc := range []struct {
		name string
		fill func(tx *Tx, i int)
	}{
		{"strings", func(tx *Tx, i int) { tx.SetString(fmt.Appendf(nil, "key:%08d", i), []byte("value-0123456789"), 0) }},
		{"ttl", func(tx *Tx, i int) {
			tx.SetString(fmt.Appendf(nil, "key:%08d", i), []byte("v"), tx.Now()+hourMs+int64(i))
		}},
		{"members", func(tx *Tx, i int) {
			tx.ZAdd(fmt.Appendf(nil, "z%d", i%2000), fmt.Appendf(nil, "member:%08d", i), float64(i))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTxTestStore(t)
			heap := func() uint64 {
				s.flush()
				runtime.GC()
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				return m.HeapAlloc
			}
			base := heap()
			for b := range 20 {
				update(t, s, 0, func(tx *Tx) {
					for i := b * 10000; i < (b+1)*10000; i++ {
						tc.fill(tx, i)
					}
				})
			}
			grown := float64(heap()) - float64(base)
			ratio := float64(s.UsedMemory()) / grown
			t.Logf("used_memory %d, heap growth %.0f, ratio %.2f", s.UsedMemory(), grown, ratio)
			if ratio < 0.7 || ratio > 1.3 {
				t.Fatalf("used_memory/heap = %.2f, want within 0.7..1.3", ratio)
			}
		})
	}
}

// TestAccess_LFUCounter checks Redis's logarithmic counter: a new key
// starts at 5, many hits raise it slowly, and each decay period takes one off.
func TestAccess_LFUCounter(t *testing.T) {
	s := newTxTestStore(t)
	s.SetMemory(Memory{Policy: AllKeysLFU, LFULogFactor: 10, LFUDecayTime: 1})
	now := time.Now().UnixMilli()
	var freq int
	s.UpdateAt(0, now, func(tx *Tx) {
		tx.SetString([]byte("k"), []byte("v"), 0)
		freq = tx.Freq(tx.Peek([]byte("k")))
	})
	if freq != lfuInitVal {
		t.Fatalf("new key freq %d, want %d", freq, lfuInitVal)
	}
	s.UpdateAt(0, now, func(tx *Tx) {
		for range 1000 {
			tx.Get([]byte("k"))
		}
		freq = tx.Freq(tx.Peek([]byte("k")))
	})
	if freq < 10 || freq > 40 {
		t.Fatalf("freq after 1000 hits = %d, want logarithmic growth (10..40)", freq)
	}
	var later int
	s.UpdateAt(0, now+3*60000, func(tx *Tx) { later = tx.Freq(tx.Peek([]byte("k"))) })
	if later != freq-3 {
		t.Fatalf("freq 3 minutes later = %d, want %d", later, freq-3)
	}
}
