package store

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
	"github.com/cockroachdb/pebble/v2"
)

// slotIndex keeps, for database 0 (the only one a cluster serves), the
// number of live keys and a digest of the keys and versions in each hash
// slot. The digest is the XOR of a hash of (key, version) over the slot's
// entries, so two replicas holding the same versions of the same keys have
// the same digest, and it is updated in O(1) per write. Guarded by Store.mu.
type slotIndex struct {
	count  [SlotCount]int32
	digest [SlotCount]uint64
}

func entryHash(key string, v Version) uint64 {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], v.Ballot)
	binary.BigEndian.PutUint64(b[8:], v.Stamp)
	h := xxhash.New()
	h.WriteString(key)
	h.Write(b[:])
	return h.Sum64()
}

// indexSlot adds e (just inserted or re-versioned) to its slot's count and digest.
// REQUIRES: s.mu held.
func (s *Store) indexSlot(db int, e *Entry) {
	if db != 0 {
		return
	}
	slot := KeySlot(unsafeBytes(e.key))
	s.mu.slots.count[slot]++
	s.mu.slots.digest[slot] ^= entryHash(e.key, e.Version)
}

// unindexSlot removes e (about to be deleted or re-versioned) from its slot.
// REQUIRES: s.mu held.
func (s *Store) unindexSlot(db int, e *Entry) {
	if db != 0 {
		return
	}
	slot := KeySlot(unsafeBytes(e.key))
	s.mu.slots.count[slot]--
	s.mu.slots.digest[slot] ^= entryHash(e.key, e.Version)
}

// SlotDigests returns the digest of each slot of database 0, in order.
// Expired keys not yet removed still count.
func (s *Store) SlotDigests(slots []uint16) []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]uint64, len(slots))
	for i, slot := range slots {
		out[i] = s.mu.slots.digest[slot&(SlotCount-1)]
	}
	return out
}

// SlotCount is the number of keys in a slot of database 0 (CLUSTER
// COUNTKEYSINSLOT), including keys expired but not yet removed.
func (s *Store) SlotCount(slot uint16) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(s.mu.slots.count[slot&(SlotCount-1)])
}

// SlotCount is Store.SlotCount for use inside Update.
func (tx *Tx) SlotCount(slot uint16) int { return int(tx.s.mu.slots.count[slot&(SlotCount-1)]) }

// Record is one key's metadata as stored: a live key or a tombstone.
type Record struct {
	Key      []byte // valid only during the callback
	Version  Version
	Deleted  bool // a tombstone
	Type     Type
	ExpireAt int64
}

// SlotRecords calls fn for every record (live keys and tombstones) of a
// slot of database db, in key order, until fn returns false. It reads a
// Pebble snapshot taken after applying every write made so far, without
// holding the store's lock, so it may miss writes made while it runs.
func (s *Store) SlotRecords(db int, slot uint16, fn func(Record) bool) error {
	s.mu.Lock()
	if err := s.applyLocked(); err != nil {
		s.mu.Unlock()
		return err
	}
	snap := s.pdb.NewSnapshot()
	s.mu.Unlock()
	defer snap.Close()
	lo := []byte{byte(db), byte(slot >> 8), byte(slot), kindMeta}
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		var e Entry
		if err := decodeMetaValue(v, &e); err != nil {
			return err
		}
		r := Record{Key: it.Key()[keyPrefixLen:], Version: e.Version, Deleted: e.Type == TypeNone, Type: e.Type, ExpireAt: e.ExpireAt}
		if !fn(r) {
			break
		}
	}
	return it.Error()
}
