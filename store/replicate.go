package store

import (
	"encoding/binary"
	"errors"
	"math"

	"cairn/zset"
)

// Replication of writes between the replicas of a slot. The slot primary
// runs commands; replicas never re-run them but install the resulting
// states: a Change per key written, which is either the key's whole state
// or, for a sorted set that kept its identity, the members that changed
// (a delta that applies only on top of the version it was made from).

// State is the whole replicated state of one key at one version: a value
// or a tombstone (Deleted). A zero Version means the key was never written
// (or its tombstone was collected).
type State struct {
	Version  Version
	Deleted  bool
	Type     Type
	ExpireAt int64
	Str      []byte
	Members  []Member // a sorted set's members (for a delta: the changed ones)
}

// Member is one sorted-set member and its score.
type Member struct {
	Name  []byte
	Score float64
}

// Change is the effect of one Update on one key.
type Change struct {
	DB  int
	Key []byte
	State
	// Delta means State.Members holds only the members added or re-scored
	// and Removed the members removed since version Prev; otherwise State
	// is complete and Prev is unused.
	Delta   bool
	Prev    Version
	Removed [][]byte
}

// capture collects the keys an Update writes, for Replicate. It lives on
// the root Tx.
type capture struct {
	keys  []*captured
	byKey map[hintKey]*captured
}

type captured struct {
	db      int
	key     string
	prev    Version
	full    bool                // the key was created, deleted or replaced: send its whole state
	members map[string]struct{} // members changed, for a delta
}

// capture notes that key, currently old (nil: absent), is about to be
// written; full says the write replaces the whole value.
func (tx *Tx) capture(key []byte, old *Entry, full bool) {
	c := tx.rootTx().cap
	if c == nil {
		return
	}
	k := hintKey{tx.db, unsafeString(key)}
	cc := c.byKey[k]
	if cc == nil {
		k.key = string(key)
		cc = &captured{db: tx.db, key: k.key}
		if old != nil {
			cc.prev = old.Version
		} else if t, ok := tx.ks().tombs[k.key]; ok {
			cc.prev = t.version
		}
		if c.byKey == nil {
			c.byKey = make(map[hintKey]*captured)
		}
		c.byKey[k] = cc
		c.keys = append(c.keys, cc)
	}
	cc.full = cc.full || full
}

// captureMember notes that member of the sorted set e is about to change.
func (tx *Tx) captureMember(e *Entry, member []byte) {
	c := tx.rootTx().cap
	if c == nil {
		return
	}
	tx.capture(unsafeBytes(e.key), e, false)
	cc := c.byKey[hintKey{tx.db, e.key}]
	if cc.full {
		return
	}
	if cc.members == nil {
		cc.members = make(map[string]struct{})
	}
	cc.members[string(member)] = struct{}{}
}

// changes builds the Changes of the captured keys from their state now.
func (c *capture) changes(tx *Tx) []Change {
	out := make([]Change, 0, len(c.keys))
	for _, cc := range c.keys {
		t := tx.In(cc.db)
		ch := Change{DB: cc.db, Key: []byte(cc.key)}
		e := t.lookup(unsafeBytes(cc.key))
		if cc.full || e == nil {
			ch.State = t.state(unsafeBytes(cc.key))
		} else {
			ch.Delta, ch.Prev = true, cc.prev
			ch.State = State{Version: e.Version, Type: e.Type, ExpireAt: e.ExpireAt}
			for m := range cc.members {
				if score, ok := e.Z.Score(m); ok {
					ch.Members = append(ch.Members, Member{[]byte(m), score})
				} else {
					ch.Removed = append(ch.Removed, []byte(m))
				}
			}
		}
		out = append(out, ch)
	}
	return out
}

// state returns key's whole state, copied: its entry (even if expired and
// not yet removed), its tombstone, or the zero State.
func (tx *Tx) state(key []byte) State {
	e := tx.lookup(key)
	if e == nil {
		if t, ok := tx.ks().tombs[unsafeString(key)]; ok {
			return State{Version: t.version, Deleted: true}
		}
		return State{}
	}
	st := State{Version: e.Version, Type: e.Type, ExpireAt: e.ExpireAt, Str: append([]byte(nil), e.Str...)}
	if e.Z != nil {
		st.Members = make([]Member, 0, e.Z.Len())
		e.Z.Members(func(m string, score float64) bool {
			st.Members = append(st.Members, Member{[]byte(m), score})
			return true
		})
	}
	return st
}

// KeyState returns key's whole state in database db (see Tx.state).
func (s *Store) KeyState(db int, key []byte) State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return (&Tx{s: s, db: db}).state(key)
}

// KeyVersion returns the version of key in the Tx's database: its entry's,
// its tombstone's, or zero.
func (tx *Tx) KeyVersion(key []byte) Version {
	if e := tx.lookup(key); e != nil {
		return e.Version
	}
	return tx.ks().tombs[unsafeString(key)].version
}

// Applied is the outcome of installing one Change.
type Applied uint8

const (
	// Installed: the change is now the key's state.
	Installed Applied = iota
	// Stale: the key already holds this version or a newer one.
	Stale
	// Gap: a delta whose base version this replica does not hold; the
	// sender must send the whole state instead.
	Gap
	// Fenced: the change's ballot is older than this replica's promise for
	// the slot; the sender is no longer the slot primary.
	Fenced
)

// Install installs changes, each only if it is newer than the key's
// version here. With fence set, the sender is a slot primary holding ballot
// from: a change to a slot whose promise is newer than from is refused
// (Fenced), and a newer from becomes the slot's promise, recorded in the
// same batch. Repairs of old states (hint replay) go unfenced: versions
// alone decide. The Ticket acknowledges the writes as Update's does.
func (s *Store) Install(changes []Change, from Ballot, fence bool, now int64) ([]Applied, Ticket, error) {
	out := make([]Applied, len(changes))
	t, err := s.update(0, now, 0, func(tx *Tx) {
		for i := range changes {
			out[i] = tx.In(changes[i].DB).install1(&changes[i], from, fence)
		}
	}, nil)
	return out, t, err
}

func (tx *Tx) install1(c *Change, from Ballot, fence bool) Applied {
	if c.DB < 0 || c.DB >= len(tx.s.mu.dbs) {
		return Stale
	}
	if fence && !tx.promise(KeySlot(c.Key), from) {
		return Fenced
	}
	tx.s.mu.clock.observe(c.Version.Stamp)
	cur := tx.KeyVersion(c.Key)
	e := tx.lookup(c.Key)
	switch {
	case !cur.Less(c.Version) && !(cur == c.Version && e != nil && c.Deleted):
		return Stale // equal versions: a tombstone (an expiry) wins over the live key
	case c.Delta && (cur != c.Prev || e == nil || e.Z == nil):
		return Gap
	}
	if c.Deleted {
		if e != nil {
			tx.remove(e, c.Version)
		} else if tx.ks().tombs != nil {
			tx.putTombstone(string(c.Key), c.Version)
		}
		tx.touch(string(c.Key))
		return Installed
	}
	if c.Delta {
		for _, m := range c.Removed {
			if e.Z.Remove(unsafeString(m)) {
				tx.zchanged(e, len(m), -1)
				tx.deleteMember(e, m)
			}
		}
		for _, m := range c.Members {
			if e.Z.Add(string(m.Name), m.Score) {
				tx.zchanged(e, len(m.Name), 1)
			}
			tx.persistMember(e, m.Name, m.Score)
		}
		if e.Z.Len() == 0 { // no primary sends this, but a set never lives empty
			tx.remove(e, c.Version)
			return Installed
		}
		ne := *e
		ne.ExpireAt = c.ExpireAt
		tx.install(c.Key, &ne, c.Version)
		return Installed
	}
	ne := &Entry{Type: c.Type, ExpireAt: c.ExpireAt, Str: append([]byte(nil), c.Str...)}
	if c.Type == TypeZSet {
		ne.Z = zset.New()
		for _, m := range c.Members {
			ne.Z.Add(string(m.Name), m.Score)
		}
	}
	tx.install(c.Key, ne, c.Version)
	return Installed
}

// Encoding of Changes for the wire: uvarint lengths and fixed-width numbers.
//
//	db | key | flags (1: deleted, 2: delta) | ballot | stamp | type | expireAt |
//	str | prev ballot | prev stamp | n members (name, score) | n removed (name)

// AppendChange appends c's encoding to dst.
func AppendChange(dst []byte, c *Change) []byte {
	dst = binary.AppendUvarint(dst, uint64(c.DB))
	dst = appendBytes(dst, c.Key)
	var flags byte
	if c.Deleted {
		flags |= 1
	}
	if c.Delta {
		flags |= 2
	}
	dst = append(dst, flags)
	dst = binary.BigEndian.AppendUint64(dst, c.Version.Ballot)
	dst = binary.BigEndian.AppendUint64(dst, c.Version.Stamp)
	dst = append(dst, byte(c.Type))
	dst = binary.BigEndian.AppendUint64(dst, uint64(c.ExpireAt))
	dst = appendBytes(dst, c.Str)
	dst = binary.BigEndian.AppendUint64(dst, c.Prev.Ballot)
	dst = binary.BigEndian.AppendUint64(dst, c.Prev.Stamp)
	dst = binary.AppendUvarint(dst, uint64(len(c.Members)))
	for _, m := range c.Members {
		dst = appendBytes(dst, m.Name)
		dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(m.Score))
	}
	dst = binary.AppendUvarint(dst, uint64(len(c.Removed)))
	for _, m := range c.Removed {
		dst = appendBytes(dst, m)
	}
	return dst
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

var errBadChange = errors.New("store: malformed change")

// DecodeChange decodes one Change from the front of b and returns the rest.
// The Change's byte slices alias b.
func DecodeChange(b []byte) (Change, []byte, error) {
	var c Change
	d := decoder{b: b}
	db := d.uvarint()
	c.Key = d.bytes()
	flags := d.fixed(1)
	c.Version.Ballot = d.u64()
	c.Version.Stamp = d.u64()
	typ := d.fixed(1)
	c.ExpireAt = int64(d.u64())
	c.Str = d.bytes()
	c.Prev.Ballot = d.u64()
	c.Prev.Stamp = d.u64()
	if n := d.count(); d.err == nil && n > 0 {
		c.Members = make([]Member, n)
		for i := range c.Members {
			c.Members[i].Name = d.bytes()
			c.Members[i].Score = math.Float64frombits(d.u64())
		}
	}
	if n := d.count(); d.err == nil && n > 0 {
		c.Removed = make([][]byte, n)
		for i := range c.Removed {
			c.Removed[i] = d.bytes()
		}
	}
	if d.err != nil || len(flags) != 1 || len(typ) != 1 || db > 255 {
		return Change{}, nil, errBadChange
	}
	c.DB = int(db)
	c.Deleted, c.Delta, c.Type = flags[0]&1 != 0, flags[0]&2 != 0, Type(typ[0])
	if !c.Deleted && c.Type != TypeString && c.Type != TypeZSet {
		return Change{}, nil, errBadChange
	}
	if !c.Deleted && !c.Delta && c.Type == TypeZSet && len(c.Members) == 0 {
		return Change{}, nil, errBadChange // a sorted set never lives empty
	}
	for _, m := range c.Members {
		if m.Score != m.Score {
			return Change{}, nil, errBadChange
		}
	}
	return c, d.b, nil
}

// decoder reads the encoding; the first error sticks and zero values follow.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errBadChange
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) fixed(n int) []byte {
	if d.err != nil || len(d.b) < n {
		d.err = errBadChange
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u64() uint64 {
	if v := d.fixed(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (d *decoder) bytes() []byte { return d.fixed(int(min(d.uvarint(), uint64(len(d.b)+1)))) }

// count reads a list length, bounded by the bytes left (every item takes at least one).
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err = errBadChange
		return 0
	}
	return int(n)
}
