package store

import "cairn/zset"

// Type is the Redis type of a key's value.
type Type uint8

// Value types. The numbers are part of the on-disk format.
const (
	TypeNone   Type = 0
	TypeString Type = 1
	TypeZSet   Type = 2
)

// String is the name TYPE replies with.
func (t Type) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeZSet:
		return "zset"
	}
	return "none"
}

// Entry is the in-memory index item of one user key: its metadata and its
// value (a string's bytes, a sorted set's index). Entries handed out by a Tx
// are read-only for the caller; every change goes through the Tx so that
// Pebble, the index and the expiry index stay in step. A sorted set's Z is
// mutated in place, but only by the Tx's Z* methods.
type Entry struct {
	key      string
	Type     Type
	access   uint32    // LRU clock or LFU counter (memory.go); fits in Type's padding
	Version  Version   // of the key's last write
	ExpireAt int64     // absolute expiry in unix milliseconds; 0 means none
	Str      []byte    // the value of a string; owned by the entry, never modified in place
	Z        *zset.Set // the members of a sorted set
}

// Key is the user key.
func (e *Entry) Key() string { return e.key }

// expired reports whether e is logically gone at now (unix ms).
func (e *Entry) expired(now int64) bool { return e.ExpireAt != 0 && e.ExpireAt <= now }

// expiry is an item of the expiry index, ordered by time then key.
type expiry struct {
	at  int64
	key string
}

func expiryLess(a, b expiry) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.key < b.key
}

// insert adds a loaded entry to the indexes.
func (ks *keyspace) insert(e *Entry) {
	ks.entries[e.key] = e
	ks.keys.ReplaceOrInsert(e.key)
	if e.ExpireAt != 0 {
		ks.expires.ReplaceOrInsert(expiry{e.ExpireAt, e.key})
	}
}
