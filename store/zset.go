package store

import (
	"cmp"
	"encoding/binary"
	"math"
	"slices"
	"strings"

	"cairn/zset"
)

// Sorted sets. The in-memory zset.Set of an entry is the index every read
// uses; Pebble holds one member record per member (score and version),
// written in the same shared batch as the change, so a restart rebuilds the
// index from the records. Deleting a whole set is one range deletion.

// ZAdd sets member's score in key's sorted set, creating the key when it
// does not exist, and reports whether the member is new. The caller has
// checked that an existing key is a sorted set and that score is not NaN.
func (tx *Tx) ZAdd(key, member []byte, score float64) (added bool) {
	e := tx.Get(key)
	if e == nil {
		e = &Entry{Type: TypeZSet, Z: zset.New()}
		tx.Put(key, e)
	}
	added = e.Z.Add(string(member), score)
	tx.s.mu.version++
	tx.persistMember(e, member, score, tx.s.mu.version)
	tx.touch(e.key)
	return added
}

// ZRem removes member from key's sorted set and reports whether it was
// there. A set left empty is deleted, as Redis does.
func (tx *Tx) ZRem(key, member []byte) bool {
	e := tx.Get(key)
	if e == nil || e.Z == nil || !e.Z.Remove(unsafeString(member)) {
		return false
	}
	if e.Z.Len() == 0 {
		tx.remove(e)
		return true
	}
	k := appendMemberPrefix(tx.kbuf[:0], tx.db, unsafeBytes(e.key))
	k = append(k, member...)
	tx.wb().Delete(k, nil)
	tx.kbuf = k
	tx.s.changes.Add(1)
	tx.touch(e.key)
	return true
}

// persistMember writes one member record into the batch.
func (tx *Tx) persistMember(e *Entry, member []byte, score float64, version uint64) {
	k := appendMemberPrefix(tx.kbuf[:0], tx.db, unsafeBytes(e.key))
	k = append(k, member...)
	var v [memberValueLen]byte
	binary.BigEndian.PutUint64(v[:8], math.Float64bits(score))
	binary.BigEndian.PutUint64(v[8:], version)
	tx.wb().Set(k, v[:], nil)
	tx.kbuf = k
	tx.s.changes.Add(1)
}

// persistAllMembers writes every member of e (a set put whole).
func (tx *Tx) persistAllMembers(e *Entry) {
	e.Z.Members(func(m string, score float64) bool {
		tx.persistMember(e, unsafeBytes(m), score, e.Version)
		return true
	})
}

// deleteMembers range-deletes every member record of key.
func (tx *Tx) deleteMembers(key string) {
	start := appendMemberPrefix(nil, tx.db, unsafeBytes(key))
	tx.wb().DeleteRange(start, prefixEnd(start), nil)
}

// zloader collects the member records of sorted sets during Open and
// builds each set in (score, member) order: appending at the right edge of
// the tree keeps the insert path in cache, several times faster than
// inserting in the member order the records are stored in.
type zloader struct {
	pending map[*Entry][]loadedMember
}

type loadedMember struct {
	member string
	score  float64
}

// add records one member record of key in ks.
func (l *zloader) add(ks *keyspace, key, member, value []byte) (version uint64, err error) {
	e := ks.entries[unsafeString(key)]
	if e == nil || e.Type != TypeZSet || len(value) != memberValueLen {
		return 0, errBadRecord
	}
	score := math.Float64frombits(binary.BigEndian.Uint64(value[:8]))
	if score != score {
		return 0, errBadRecord
	}
	if l.pending == nil {
		l.pending = make(map[*Entry][]loadedMember)
	}
	l.pending[e] = append(l.pending[e], loadedMember{string(member), score})
	return binary.BigEndian.Uint64(value[8:]), nil
}

// build fills every collected set.
func (l *zloader) build() {
	for e, ms := range l.pending {
		slices.SortFunc(ms, func(a, b loadedMember) int {
			if c := cmp.Compare(a.score, b.score); c != 0 {
				return c
			}
			return strings.Compare(a.member, b.member)
		})
		for _, m := range ms {
			e.Z.Add(m.member, m.score)
		}
		delete(l.pending, e)
	}
}
