package store

import (
	"bytes"
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
// slot of database db, in key order, until fn returns false. See Records.
func (s *Store) SlotRecords(db int, slot uint16, fn func(Record) bool) error {
	return s.Records(db, []uint16{slot}, func(_ uint16, r Record) bool { return fn(r) })
}

// Records calls fn for every record (live keys and tombstones) of each of
// slots of database db, slot by slot and in key order within a slot,
// until fn returns false. It reads one Pebble snapshot taken after
// applying every write made so far, without holding the store's lock, so
// it may miss writes made while it runs.
func (s *Store) Records(db int, slots []uint16, fn func(slot uint16, r Record) bool) error {
	s.mu.Lock()
	if err := s.applyLocked(); err != nil {
		s.mu.Unlock()
		return err
	}
	snap := s.pdb.NewSnapshot()
	s.mu.Unlock()
	defer snap.Close()
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: []byte{byte(db)}, UpperBound: []byte{byte(db) + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	for _, slot := range slots {
		lo := []byte{byte(db), byte(slot >> 8), byte(slot), kindMeta}
		for it.SeekGE(lo); it.Valid() && bytes.HasPrefix(it.Key(), lo); it.Next() {
			v, err := it.ValueAndErr()
			if err != nil {
				return err
			}
			var e Entry
			if err := decodeMetaValue(v, &e); err != nil {
				return err
			}
			r := Record{Key: it.Key()[keyPrefixLen:], Version: e.Version, Deleted: e.Type == TypeNone, Type: e.Type, ExpireAt: e.ExpireAt}
			if !fn(slot, r) {
				return nil
			}
		}
		if err := it.Error(); err != nil {
			return err
		}
	}
	return nil
}

// DropSlot deletes every record of a slot of database 0, live keys and
// tombstones alike, without tombstones or watchers' notice: the cluster
// calls it for slots this node no longer replicates, whose data lives on
// elsewhere. It holds the store's lock throughout (a slot is small), so
// no write can slip between listing the slot and deleting it. It returns
// the number of keys dropped.
func (s *Store) DropSlot(slot uint16) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.applyLocked(); err != nil {
		return 0, err
	}
	lo := []byte{0, byte(slot >> 8), byte(slot)}
	it, err := s.pdb.NewIter(&pebble.IterOptions{LowerBound: append(lo, kindMeta), UpperBound: prefixEnd(append(lo, kindMeta))})
	if err != nil {
		return 0, err
	}
	ks := &s.mu.dbs[0]
	n := 0
	for it.First(); it.Valid(); it.Next() {
		k := string(it.Key()[keyPrefixLen:])
		delete(ks.tombs, k)
		e := ks.entries[k]
		if e == nil {
			continue
		}
		delete(ks.entries, k)
		ks.keys.Delete(k)
		if e.ExpireAt != 0 {
			ks.expires.Delete(expiry{e.ExpireAt, k})
		}
		s.unindexSlot(0, e)
		s.changed(0, k, false)
		n++
	}
	if err := it.Close(); err != nil {
		return 0, err
	}
	tx := &Tx{s: s}
	tx.wb().DeleteRange(lo, prefixEnd(lo), nil)
	return n, s.applyLocked()
}
