package store

// Version orders the writes of one key, across replicas as well as on one
// node: first the ballot of the slot primary that made the write (zero on a
// single node), then a hybrid logical clock stamp. A key's version changes
// on every write to it, including writes of single sorted-set members, so
// replicas that hold the same version of a key hold the same value.
type Version struct {
	Ballot uint64
	Stamp  uint64
}

// Less reports whether v is older than o.
func (v Version) Less(o Version) bool {
	if v.Ballot != o.Ballot {
		return v.Ballot < o.Ballot
	}
	return v.Stamp < o.Stamp
}

// IsZero reports whether v is the version of a key never written.
func (v Version) IsZero() bool { return v == Version{} }

// Millis is the wall-clock time (unix ms) of the stamp.
func (v Version) Millis() int64 { return int64(v.Stamp >> logicalBits) }

// logicalBits is the width of the hybrid logical clock's counter: a stamp is
// unix milliseconds << logicalBits | counter. More than 65,536 writes in one
// millisecond borrow from the next millisecond, keeping stamps unique and
// increasing.
const logicalBits = 16

// hlc is a hybrid logical clock. REQUIRES: Store.mu held for every call.
type hlc struct{ last uint64 }

// next returns a stamp greater than every stamp handed out or observed,
// and at least the wall clock now (unix ms).
func (c *hlc) next(now int64) uint64 {
	s := uint64(now) << logicalBits
	if s <= c.last {
		s = c.last + 1
	}
	c.last = s
	return s
}

// observe moves the clock past a stamp seen from another node or on disk.
func (c *hlc) observe(stamp uint64) { c.last = max(c.last, stamp) }
