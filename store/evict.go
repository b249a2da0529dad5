package store

import (
	"errors"
	"math/rand/v2"
)

// Eviction, after Redis's evict.c. When used memory (memory.go) is over
// maxmemory, Evict deletes keys chosen by the policy until it is not:
//
//   - LRU and LFU policies sample maxmemory-samples keys of every database
//     per round into a pool of the 16 best candidates seen so far (Redis's
//     eviction pool, kept across evictions) and evict the best of the pool
//     that still exists. The idle score is milliseconds since the last
//     access (LRU) or 255 minus the decayed LFU counter (LFU).
//   - volatile-ttl evicts the key with the nearest expiry, exactly (the
//     expiry btree is ordered by time), where Redis samples.
//   - random policies take a random key of the next database in turn.
//
// Keys with a TTL are sampled from the expiry btree: from a uniformly
// random time between the nearest and the furthest expiry (ties broken at a
// random key), the keys expiring from there on. Keys in sparse stretches of time are picked more often, as
// keys in sparse hash buckets are by Redis's dictGetSomeKeys.

// ErrOOM means used memory is over maxmemory and no key can be evicted.
var ErrOOM = errors.New("store: used memory over maxmemory and no key can be evicted")

const evictionPoolSize = 16

// evictionPool holds candidates ascending by idle score: the best is last.
// Guarded by Store.mu.
type evictionPool struct {
	n int
	e [evictionPoolSize]candidate
}

type candidate struct {
	idle uint64
	db   int
	key  string
}

// insert adds c unless the pool is full of better candidates.
func (p *evictionPool) insert(c candidate) {
	for i := 0; i < p.n; i++ { // a key sampled again moves to its new rank
		if p.e[i].db == c.db && p.e[i].key == c.key {
			p.remove(i)
			break
		}
	}
	i := 0
	for i < p.n && p.e[i].idle <= c.idle {
		i++
	}
	if p.n == evictionPoolSize {
		if i == 0 {
			return // worse than every candidate held
		}
		copy(p.e[:i-1], p.e[1:i]) // drop the worst
		p.e[i-1] = c
		return
	}
	copy(p.e[i+1:p.n+1], p.e[i:p.n])
	p.e[i] = c
	p.n++
}

func (p *evictionPool) remove(i int) {
	copy(p.e[i:p.n-1], p.e[i+1:p.n])
	p.n--
	p.e[p.n] = candidate{}
}

// Evict runs Redis's performEvictions: while used memory is over
// maxmemory it deletes the policy's next victim through a Tx (so Pebble,
// the indexes and watchers stay in step) and counts it in EvictedKeys. It
// returns ErrOOM when memory is over the limit and nothing can be evicted
// (noeviction, or no eligible key). now is the caller's clock (unix ms).
func (s *Store) Evict(now int64) error {
	if !s.overLimit() {
		return nil
	}
	oom := false
	_, err := s.update(0, now, 0, func(tx *Tx) {
		for s.used.Load() > s.mu.mem.MaxMemory {
			db, e := s.victimLocked(now, nil)
			if e == nil {
				oom = s.mu.mem.MaxMemory > 0
				return
			}
			tx.In(db).remove(e, Version{})
			s.evicted.Add(1)
			s.removed(db, e.key, Evicted)
		}
	}, nil)
	if err != nil {
		return err
	}
	if oom {
		return ErrOOM
	}
	return nil
}

// EvictWith is Evict for a cluster node: victims are only keys eligible
// reports true for (those of slots this node is primary for), and each is
// deleted by del outside the store's lock (a replicated delete). del
// reports whether it deleted the key; a victim del could not delete ends
// the round with ErrOOM.
func (s *Store) EvictWith(now int64, eligible func(key string) bool, del func(db int, key []byte) bool) error {
	for s.overLimit() {
		s.mu.Lock()
		db, e := s.victimLocked(now, eligible)
		var key string
		if e != nil {
			key = e.key
		}
		s.mu.Unlock()
		if e == nil || !del(db, []byte(key)) {
			return ErrOOM
		}
		s.evicted.Add(1)
		s.removed(db, key, Evicted)
	}
	return nil
}

func (s *Store) overLimit() bool {
	max := s.maxMemory.Load()
	return max > 0 && s.used.Load() > max
}

// victimLocked picks the next key to evict, or returns a nil entry.
// REQUIRES: s.mu.
func (s *Store) victimLocked(now int64, eligible func(string) bool) (int, *Entry) {
	ok := func(e *Entry) bool { return eligible == nil || eligible(e.key) }
	switch p := s.mu.mem.Policy; p {
	case NoEviction:
		return 0, nil
	case AllKeysRandom, VolatileRandom:
		for range len(s.mu.dbs) {
			db := s.mu.nextDB
			s.mu.nextDB = (db + 1) % len(s.mu.dbs)
			var found *Entry
			s.sample(&s.mu.dbs[db], p.volatile(), s.mu.mem.Samples, func(e *Entry) bool {
				if ok(e) {
					found = e
				}
				return found == nil
			})
			if found != nil {
				return db, found
			}
		}
		return 0, nil
	case VolatileTTL:
		bestDB, best := 0, (*Entry)(nil)
		for db := range s.mu.dbs {
			ks := &s.mu.dbs[db]
			n := 0
			ks.expires.Ascend(func(x expiry) bool {
				n++
				if e := ks.entries[x.key]; ok(e) {
					if best == nil || e.ExpireAt < best.ExpireAt {
						bestDB, best = db, e
					}
					return false
				}
				return n < 64*s.mu.mem.Samples
			})
		}
		return bestDB, best
	}
	return s.poolVictimLocked(now, ok)
}

// poolVictimLocked is the LRU/LFU choice through the eviction pool.
func (s *Store) poolVictimLocked(now int64, ok func(*Entry) bool) (int, *Entry) {
	m := &s.mu.mem
	pool := &s.mu.pool
	for range 16 {
		for db := range s.mu.dbs {
			s.sample(&s.mu.dbs[db], m.Policy.volatile(), m.Samples, func(e *Entry) bool {
				if ok(e) {
					pool.insert(candidate{idle: s.idle(e, now), db: db, key: e.key})
				}
				return true
			})
		}
		for pool.n > 0 {
			c := pool.e[pool.n-1]
			pool.remove(pool.n - 1)
			if e := s.mu.dbs[c.db].entries[c.key]; e != nil && ok(e) {
				return c.db, e
			}
		}
	}
	return 0, nil
}

// idle is e's eviction score: higher goes first.
func (s *Store) idle(e *Entry, now int64) uint64 {
	if s.mu.mem.Policy.LFU() {
		return 255 - uint64(lfuDecr(e.access, now, s.mu.mem.LFUDecayTime))
	}
	return uint64(max(0, now-int64(e.access)*1000))
}

// sample calls fn with up to n keys of ks (only keys with a TTL when
// volatile) until fn returns false.
func (s *Store) sample(ks *keyspace, volatile bool, n int, fn func(e *Entry) bool) {
	if !volatile {
		if len(ks.entries) == 0 {
			return
		}
		i := 0
		for _, e := range ks.entries { // Go starts map iteration at a random position
			if !fn(e) {
				return
			}
			if i++; i == n {
				return
			}
		}
		return
	}
	lo, ok := ks.expires.Min()
	if !ok {
		return
	}
	hi, _ := ks.expires.Max()
	from := expiry{at: lo.at + rand.Int64N(hi.at-lo.at+1)}
	for k := range ks.entries { // a random key breaks ties between keys expiring together
		from.key = k
		break
	}
	i, stopped := 0, false
	visit := func(x expiry) bool {
		if !fn(ks.entries[x.key]) {
			stopped = true
			return false
		}
		i++
		return i < n
	}
	ks.expires.AscendGreaterOrEqual(from, visit)
	if !stopped && i < n {
		ks.expires.AscendLessThan(from, visit)
	}
}
