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
// The key gets a new version.
func (tx *Tx) ZAdd(key, member []byte, score float64) (added bool) {
	e := tx.Get(key)
	if e == nil {
		e = &Entry{Type: TypeZSet, Z: zset.New()}
		tx.Put(key, e)
	} else {
		tx.captureMember(e, member)
		tx.bump(e)
	}
	added = e.Z.Add(string(member), score)
	if added {
		tx.zchanged(e, len(member), 1)
	}
	tx.persistMember(e, member, score)
	tx.touch(e.key)
	return added
}

// ZRem removes member from key's sorted set and reports whether it was
// there. A set left empty is deleted, as Redis does; otherwise the key gets
// a new version.
func (tx *Tx) ZRem(key, member []byte) bool {
	e := tx.Get(key)
	if e == nil || e.Z == nil || !e.Z.Remove(unsafeString(member)) {
		return false
	}
	tx.zchanged(e, len(member), -1)
	if e.Z.Len() == 0 {
		tx.remove(e, Version{})
		return true
	}
	tx.captureMember(e, member)
	tx.bump(e)
	tx.deleteMember(e, member)
	tx.touch(e.key)
	return true
}

// bump gives an existing entry a new version and rewrites its metadata record.
func (tx *Tx) bump(e *Entry) {
	tx.s.unindexSlot(tx.db, e)
	e.Version = tx.nextVersion()
	tx.s.indexSlot(tx.db, e)
	tx.persist(e)
}

// persistMember writes one member record into the batch.
func (tx *Tx) persistMember(e *Entry, member []byte, score float64) {
	k := appendMemberPrefix(tx.kbuf[:0], tx.db, unsafeBytes(e.key))
	k = append(k, member...)
	var v [memberValueLen]byte
	binary.BigEndian.PutUint64(v[:], math.Float64bits(score))
	tx.wb().Set(k, v[:], nil)
	tx.kbuf = k
	tx.s.changes.Add(1)
}

// deleteMember deletes one member record.
func (tx *Tx) deleteMember(e *Entry, member []byte) {
	k := appendMemberPrefix(tx.kbuf[:0], tx.db, unsafeBytes(e.key))
	k = append(k, member...)
	tx.wb().Delete(k, nil)
	tx.kbuf = k
	tx.s.changes.Add(1)
}

// persistAllMembers writes every member of e (a set put whole).
func (tx *Tx) persistAllMembers(e *Entry) {
	e.Z.Members(func(m string, score float64) bool {
		tx.persistMember(e, unsafeBytes(m), score)
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
func (l *zloader) add(ks *keyspace, key, member, value []byte) error {
	e := ks.entries[unsafeString(key)]
	if e == nil || e.Type != TypeZSet || len(value) != memberValueLen {
		return errBadRecord
	}
	score := math.Float64frombits(binary.BigEndian.Uint64(value))
	if score != score {
		return errBadRecord
	}
	if l.pending == nil {
		l.pending = make(map[*Entry][]loadedMember)
	}
	l.pending[e] = append(l.pending[e], loadedMember{string(member), score})
	return nil
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
