package store

import (
	"cairn/zset"

	"github.com/cockroachdb/pebble/v2"
)

// Tx is the view of one database inside Update. It is valid only during
// the Update call that created it. Reads see the Tx's own writes. Keys
// passed in are copied; entries returned are read-only.
type Tx struct {
	s      *Store
	db     int
	now    int64    // unix ms, fixed for the whole Update as Redis fixes it per command
	ballot uint64   // the ballot of every version this Tx assigns (Replicate)
	root   *Tx      // the Tx that records whether a write happened; nil means this one
	wrote  bool     // on the root: a write went into the shared batch
	cap    *capture // on the root: the changes to hand to Replicate's sink; nil when not replicating
	kbuf   []byte
}

// DB is the database number this Tx reads and writes.
func (tx *Tx) DB() int { return tx.db }

// Now is the Update's clock in unix milliseconds.
func (tx *Tx) Now() int64 { return tx.now }

// In returns a Tx on database db belonging to the same Update.
func (tx *Tx) In(db int) *Tx {
	return &Tx{s: tx.s, db: db, now: tx.now, ballot: tx.ballot, root: tx.rootTx()}
}

func (tx *Tx) rootTx() *Tx {
	if tx.root != nil {
		return tx.root
	}
	return tx
}

// wb returns the shared batch to write into.
func (tx *Tx) wb() *pebble.Batch {
	tx.rootTx().wrote = true
	if tx.s.mu.batch == nil {
		tx.s.mu.batch = tx.s.pdb.NewBatch()
	}
	return tx.s.mu.batch
}

func (tx *Tx) ks() *keyspace { return &tx.s.mu.dbs[tx.db] }

// lookup finds key without expiring it.
func (tx *Tx) lookup(key []byte) *Entry {
	return tx.ks().entries[unsafeString(key)]
}

// Get returns key's entry, or nil if it does not exist. A key found expired
// is deleted (lazy expiry) and reported missing.
func (tx *Tx) Get(key []byte) *Entry {
	e := tx.lookup(key)
	if e == nil {
		return nil
	}
	if e.expired(tx.now) {
		tx.expire(e)
		return nil
	}
	tx.accessed(e)
	return e
}

// Exists reports whether key exists.
func (tx *Tx) Exists(key []byte) bool { return tx.Get(key) != nil }

// nextVersion is the version of a write made now by this Tx.
func (tx *Tx) nextVersion() Version {
	return Version{Ballot: tx.ballot, Stamp: tx.s.mu.clock.next(tx.now)}
}

// Put stores e under key, replacing any existing value, and gives it a new
// version. The Tx takes ownership of e; e.Str must not alias caller buffers.
// A sorted set's member records are rewritten only when e.Z is not the set
// already stored under key (a metadata change such as a new TTL keeps them).
func (tx *Tx) Put(key []byte, e *Entry) { tx.install(key, e, tx.nextVersion()) }

// install is Put with the version given: v for a local write, the
// primary's version for a replicated one.
func (tx *Tx) install(key []byte, e *Entry, v Version) {
	ks := tx.ks()
	old := tx.lookup(key)
	tx.capture(key, old, old == nil || e.Type != TypeZSet || old.Z != e.Z)
	if old != nil {
		e.key = old.key
		if old.ExpireAt != 0 {
			ks.expires.Delete(expiry{old.ExpireAt, old.key})
		}
		if old.Z != nil && old.Z != e.Z {
			tx.deleteMembers(old.key)
		}
		tx.s.unindexSlot(tx.db, old)
	} else {
		e.key = string(key)
		ks.keys.ReplaceOrInsert(e.key)
		delete(ks.tombs, e.key) // the metadata record below overwrites it on disk
	}
	e.Version = v
	if e.access == 0 { // a new value keeps the key's access data, as Redis's dbOverwrite
		if old != nil {
			e.access = old.access
		} else {
			e.access = tx.s.initAccessLocked(tx.now)
		}
	}
	tx.account(old, e)
	tx.s.indexSlot(tx.db, e)
	ks.entries[e.key] = e
	if e.ExpireAt != 0 {
		ks.expires.ReplaceOrInsert(expiry{e.ExpireAt, e.key})
	}
	tx.persist(e)
	if e.Z != nil && (old == nil || old.Z != e.Z) {
		tx.persistAllMembers(e)
	}
	tx.touch(e.key)
}

// SetString stores a copy of val as key's string value with the given
// absolute expiry (0 = none), replacing any existing value.
func (tx *Tx) SetString(key, val []byte, expireAt int64) *Entry {
	e := &Entry{Type: TypeString, ExpireAt: expireAt, Str: append(make([]byte, 0, len(val)), val...)}
	tx.Put(key, e)
	return e
}

// SetExpire changes an existing key's absolute expiry (0 removes it) and
// reports whether the key exists. An expiry at or before now deletes the key
// (Redis: EXPIRE with a past time is a DEL).
func (tx *Tx) SetExpire(key []byte, at int64) bool {
	e := tx.Get(key)
	if e == nil {
		return false
	}
	if at != 0 && at <= tx.now {
		tx.remove(e, Version{})
		return true
	}
	ne := *e
	ne.ExpireAt = at
	tx.Put(key, &ne)
	return true
}

// Delete removes key and reports whether it existed.
func (tx *Tx) Delete(key []byte) bool {
	e := tx.Get(key)
	if e == nil {
		return false
	}
	tx.remove(e, Version{})
	return true
}

// expire removes an entry found expired. Its tombstone keeps the entry's
// version: every replica expires the same version at the same time.
func (tx *Tx) expire(e *Entry) {
	tx.s.expired.Add(1)
	tx.remove(e, e.Version)
	tx.s.removed(tx.db, e.key, Expired)
}

// remove deletes e from the indexes and Pebble. With tombstones on, the
// metadata record becomes a tombstone of version at (zero: a new version).
func (tx *Tx) remove(e *Entry, at Version) {
	ks := tx.ks()
	tx.capture(unsafeBytes(e.key), e, true)
	tx.account(e, nil)
	delete(ks.entries, e.key)
	ks.keys.Delete(e.key)
	if e.ExpireAt != 0 {
		ks.expires.Delete(expiry{e.ExpireAt, e.key})
	}
	tx.s.unindexSlot(tx.db, e)
	tx.kbuf = appendMetaKey(tx.kbuf[:0], tx.db, unsafeBytes(e.key))
	if ks.tombs != nil {
		if at.IsZero() {
			at = tx.nextVersion()
		}
		tx.putTombstone(e.key, at)
	} else {
		tx.wb().Delete(tx.kbuf, nil)
	}
	if e.Z != nil {
		tx.deleteMembers(e.key)
	}
	tx.s.changes.Add(1)
	tx.touch(e.key)
}

// persist writes e's metadata record into the batch.
func (tx *Tx) persist(e *Entry) {
	b := tx.wb()
	k := appendMetaKey(tx.kbuf[:0], tx.db, unsafeBytes(e.key))
	op := b.SetDeferred(len(k), metaHeaderLen+len(e.Str))
	copy(op.Key, k)
	appendMetaValue(op.Value[:0], e)
	op.Finish()
	tx.kbuf = k
	tx.s.changes.Add(1)
}

// Len is the number of keys in the database, including keys expired but not
// yet removed (as Redis's DBSIZE).
func (tx *Tx) Len() int { return len(tx.ks().entries) }

// ExpiresLen is the number of keys with an expiry.
func (tx *Tx) ExpiresLen() int { return tx.ks().expires.Len() }

// Ascend calls fn for each live key >= from in key order until fn returns
// false. fn must not write through the Tx.
func (tx *Tx) Ascend(from []byte, fn func(e *Entry) bool) {
	ks := tx.ks()
	ks.keys.AscendGreaterOrEqual(unsafeString(from), func(k string) bool {
		e := ks.entries[k]
		if e.expired(tx.now) {
			return true
		}
		return fn(e)
	})
}

// Random returns a random live key's entry, or nil when the database is
// empty. It takes the first entry of a map iteration, which Go starts at a
// random position: every key can come out, not all with equal probability.
func (tx *Tx) Random() *Entry {
	ks := tx.ks()
	for range 100 {
		var e *Entry
		for _, x := range ks.entries {
			e = x
			break
		}
		if e == nil {
			return nil
		}
		if !e.expired(tx.now) {
			return e
		}
		tx.expire(e)
	}
	return nil
}

// Flush deletes every key of the database (FLUSHDB).
func (tx *Tx) Flush() {
	tx.s.changed(tx.db, "", true)
	ks := tx.ks()
	if len(ks.entries) == 0 {
		return
	}
	tx.touchAll()
	tx.s.used.Add(-ks.used)
	// Every key of db d lies in [d, d 0xff): the slot's high byte is < 0x40.
	tx.wb().DeleteRange([]byte{byte(tx.db)}, []byte{byte(tx.db), 0xff}, nil)
	tx.s.changes.Add(int64(len(ks.entries)))
	*ks = tx.s.newKeyspace()
	if tx.db == 0 {
		tx.s.mu.slots = slotIndex{}
	}
}

// FlushAll deletes every key of every database (FLUSHALL).
func (tx *Tx) FlushAll() {
	tx.s.changed(-1, "", true)
	for db := range tx.s.mu.dbs {
		tx.In(db).touchAll()
		tx.s.used.Add(-tx.s.mu.dbs[db].used)
		tx.s.changes.Add(int64(len(tx.s.mu.dbs[db].entries)))
		tx.s.mu.dbs[db] = tx.s.newKeyspace()
	}
	tx.s.mu.slots = slotIndex{}
	tx.wb().DeleteRange([]byte{0}, []byte{0xff, 0xff}, nil) // see Flush
}

// Rename moves src's value and expiry to dst in the same database,
// replacing dst, and reports whether src existed. dst gets a new version
// and the watchers of both keys are touched; renaming a key to itself
// changes nothing. A type whose data lives beyond the metadata record (a
// sorted set's members) must move that data here too.
func (tx *Tx) Rename(src, dst []byte) bool {
	e := tx.Get(src)
	if e == nil {
		return false
	}
	if string(src) == string(dst) {
		return true
	}
	// The value moves: e leaves the index, so the new entry may own e.Str
	// and e.Z (Put rewrites the members under the new key).
	ne := &Entry{Type: e.Type, ExpireAt: e.ExpireAt, Str: e.Str, Z: e.Z, access: e.access}
	tx.remove(e, Version{})
	tx.Put(dst, ne)
	return true
}

// Copy stores a deep copy of src's value and expiry under dst in to's
// database, replacing dst, and reports whether src existed. to is tx or a
// Tx from tx.In, so both writes share one batch. Copying a key onto itself
// only gives it a new version.
func (tx *Tx) Copy(src []byte, to *Tx, dst []byte) bool {
	e := tx.Get(src)
	if e == nil {
		return false
	}
	ne := &Entry{Type: e.Type, ExpireAt: e.ExpireAt, Str: append(make([]byte, 0, len(e.Str)), e.Str...)}
	if e.Z != nil {
		ne.Z = zset.New()
		e.Z.Members(func(m string, score float64) bool { ne.Z.Add(m, score); return true })
	}
	to.Put(dst, ne)
	return true
}
