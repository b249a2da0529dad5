package store

import (
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	"cairn/zset"
)

// Memory accounting and access bookkeeping for maxmemory (evict.go).
//
// used_memory is an estimate of the bytes the dataset holds in RAM,
// maintained incrementally under Store.mu as keys enter and leave the
// index and sorted-set members are added and removed:
//
//	key:        entryOverhead + len(key) + len(Str)   (+ expiryOverhead with a TTL)
//	sorted set: + zsetOverhead + Σ (memberOverhead + len(member))
//
// entryOverhead is the Entry struct (80 bytes), its slot in the entries map
// and in the ordered key btree, and allocation rounding; expiryOverhead is
// an item of the expiry btree; zsetOverhead is the Set with its dict and
// first leaf; memberOverhead is the member's string, its dict slot and its
// B+tree slot (leaves filled in score order are half full). The constants
// were calibrated against the Go heap (TestUsedMemory_TracksHeap: 200K
// keys of each kind, within 30%).
// Tombstones (cluster mode), Pebble's memtables and block cache and the
// connections' buffers are not counted: eviction cannot free them.
const (
	entryOverhead  = 170
	expiryOverhead = 60
	zsetOverhead   = 1700
	memberOverhead = 176
)

// Policy is maxmemory-policy.
type Policy uint8

// Policies, as Redis's maxmemory-policy values.
const (
	NoEviction Policy = iota
	AllKeysLRU
	AllKeysLFU
	AllKeysRandom
	VolatileLRU
	VolatileLFU
	VolatileRandom
	VolatileTTL
)

var policyNames = [...]string{"noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
	"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"}

func (p Policy) String() string { return policyNames[p] }

// ParsePolicy parses a maxmemory-policy name (case-insensitive).
func ParsePolicy(s string) (Policy, error) {
	for i, n := range policyNames {
		if strings.EqualFold(s, n) {
			return Policy(i), nil
		}
	}
	return 0, errors.New("invalid maxmemory-policy " + s)
}

// LFU reports whether the policy ranks keys by access frequency.
func (p Policy) LFU() bool { return p == AllKeysLFU || p == VolatileLFU }

// volatile reports whether only keys with a TTL may be evicted.
func (p Policy) volatile() bool { return p >= VolatileLRU }

// Memory configures the memory limit and eviction (Redis's maxmemory,
// maxmemory-policy, maxmemory-samples, lfu-log-factor, lfu-decay-time).
type Memory struct {
	MaxMemory    int64 // bytes of used memory; 0 means no limit
	Policy       Policy
	Samples      int // keys sampled per database per eviction round (default 5)
	LFULogFactor int // default 10
	LFUDecayTime int // minutes per counter decrement; 0 never decays (default 1)
}

// SetMemory installs a memory configuration. Switching between an LRU and
// an LFU policy re-initialises every key's access field (one pass over the
// keys), where Redis keeps and misreads the old data for a while.
func (s *Store) SetMemory(m Memory) {
	if m.Samples <= 0 {
		m.Samples = 5
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	wasLFU := s.mu.mem.Policy.LFU()
	s.mu.mem = m
	s.maxMemory.Store(m.MaxMemory)
	if wasLFU != m.Policy.LFU() {
		a := s.initAccessLocked(nowMillis())
		for db := range s.mu.dbs {
			for _, e := range s.mu.dbs[db].entries {
				e.access = a
			}
		}
		s.mu.pool = evictionPool{}
	}
}

// UsedMemory is the dataset's estimated size in bytes (INFO used_memory).
func (s *Store) UsedMemory() int64 { return s.used.Load() }

// MaxMemory is the configured limit (0: none).
func (s *Store) MaxMemory() int64 { return s.maxMemory.Load() }

// EvictedKeys is the number of keys evicted since start (INFO evicted_keys).
func (s *Store) EvictedKeys() int64 { return s.evicted.Load() }

// entryBytes is e's accounted size with the member bytes ks holds for its set.
func (ks *keyspace) entryBytes(e *Entry) int64 {
	n := int64(entryOverhead + len(e.key) + len(e.Str))
	if e.ExpireAt != 0 {
		n += expiryOverhead
	}
	if e.Z != nil {
		n += zsetOverhead + ks.zbytes[e.Z]
	}
	return n
}

func memberBytes(m int) int64 { return int64(memberOverhead + m) }

// account records that old left the index and e entered it under the same
// key (either may be nil; old and e may share a sorted set). REQUIRES: s.mu.
func (tx *Tx) account(old, e *Entry) {
	ks := tx.ks()
	var d int64
	if old != nil {
		d -= ks.entryBytes(old)
		if old.Z != nil && (e == nil || e.Z != old.Z) {
			delete(ks.zbytes, old.Z)
		}
	}
	if e != nil {
		if e.Z != nil {
			if _, ok := ks.zbytes[e.Z]; !ok {
				ks.zbytes[e.Z] = setBytes(e.Z)
			}
		}
		d += ks.entryBytes(e)
	}
	ks.used += d
	tx.s.used.Add(d)
}

// zchanged records a member of e's set added (n > 0) or removed (n < 0) in
// place; m is the member's length.
func (tx *Tx) zchanged(e *Entry, m int, n int64) {
	d := n * memberBytes(m)
	ks := tx.ks()
	ks.zbytes[e.Z] += d
	ks.used += d
	tx.s.used.Add(d)
}

func setBytes(z *zset.Set) int64 {
	var n int64
	z.Members(func(m string, _ float64) bool { n += memberBytes(len(m)); return true })
	return n
}

// recountLocked recomputes used memory from scratch (after load).
// REQUIRES: s.mu.
func (s *Store) recountLocked() {
	var total int64
	for db := range s.mu.dbs {
		ks := &s.mu.dbs[db]
		ks.used = 0
		clear(ks.zbytes)
		for _, e := range ks.entries {
			if e.Z != nil {
				ks.zbytes[e.Z] = setBytes(e.Z)
			}
			ks.used += ks.entryBytes(e)
		}
		total += ks.used
	}
	s.used.Store(total)
}

// Access bookkeeping, as Redis's 24-bit lru field of an object. Under an
// LRU policy (or none) Entry.access is the unix time in seconds of the last
// access; under an LFU policy its low 8 bits are a logarithmic access
// counter and the next 16 bits the time in minutes (mod 65536) of its last
// decrement. It lives in Entry's padding: no per-key memory.
const lfuInitVal = 5

func nowMillis() int64 { return time.Now().UnixMilli() }

// initAccessLocked is the access field of a key created at now (ms).
func (s *Store) initAccessLocked(now int64) uint32 {
	if s.mu.mem.Policy.LFU() {
		return lfuMinutes(now)<<8 | lfuInitVal
	}
	return uint32(now / 1000)
}

func lfuMinutes(now int64) uint32 { return uint32(now/60000) & 0xffff }

// accessed records a read or write of e at the Tx's time.
func (tx *Tx) accessed(e *Entry) {
	m := &tx.s.mu.mem
	if !m.Policy.LFU() {
		e.access = uint32(tx.now / 1000)
		return
	}
	c := lfuLogIncr(lfuDecr(e.access, tx.now, m.LFUDecayTime), m.LFULogFactor)
	e.access = lfuMinutes(tx.now)<<8 | uint32(c)
}

// lfuDecr is Redis's LFUDecrAndReturn: the counter less one per decay
// period elapsed since its last decrement.
func lfuDecr(access uint32, now int64, decay int) uint8 {
	ldt, c := access>>8, uint8(access)
	if decay <= 0 {
		return c
	}
	cur := lfuMinutes(now)
	elapsed := cur - ldt
	if cur < ldt {
		elapsed = 65535 - ldt + cur
	}
	if p := elapsed / uint32(decay); p > 0 {
		if p >= uint32(c) {
			return 0
		}
		return c - uint8(p)
	}
	return c
}

// lfuLogIncr is Redis's LFULogIncr: increment with probability
// 1/((counter-lfuInitVal)*factor+1).
func lfuLogIncr(c uint8, factor int) uint8 {
	if c == 255 {
		return 255
	}
	base := float64(c) - lfuInitVal
	if base < 0 {
		base = 0
	}
	if rand.Float64() < 1/(base*float64(factor)+1) {
		c++
	}
	return c
}

// Peek returns key's entry without expiring it or recording an access
// (OBJECT), or nil.
func (tx *Tx) Peek(key []byte) *Entry {
	e := tx.lookup(key)
	if e == nil || e.expired(tx.now) {
		return nil
	}
	return e
}

// IdleMillis is the time since e's last access, for OBJECT IDLETIME; only
// meaningful when the policy is not LFU.
func (tx *Tx) IdleMillis(e *Entry) int64 {
	return max(0, tx.now-int64(e.access)*1000)
}

// Freq is e's LFU counter after decay, for OBJECT FREQ; only meaningful
// under an LFU policy.
func (tx *Tx) Freq(e *Entry) int {
	return int(lfuDecr(e.access, tx.now, tx.s.mu.mem.LFUDecayTime))
}

// Memory is the memory configuration in force.
func (tx *Tx) Memory() Memory { return tx.s.mu.mem }
