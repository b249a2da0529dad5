package store

import (
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// CheckOptions configure Check. Zero values take Open's defaults.
type CheckOptions struct {
	Databases int    // the configured number of databases (default 16)
	FS        vfs.FS // default: the operating system's
}

// maxCheckProblems bounds the problems a CheckReport lists; ProblemCount
// counts them all.
const maxCheckProblems = 1000

// CheckReport is what Check found in a data directory.
type CheckReport struct {
	Strings, SortedSets int   // live keys by type (expired ones included: they are collected on open)
	Members             int   // sorted-set member records
	Tombstones          int   // deleted keys' version records (cluster mode)
	Hints, Ballots      int   // system records
	KeysPerDB           []int // live keys of each configured database
	Problems            []string
	ProblemCount        int
}

// OK reports whether Check found no problem.
func (r *CheckReport) OK() bool { return r.ProblemCount == 0 }

func (r *CheckReport) problem(format string, args ...any) {
	r.ProblemCount++
	if len(r.Problems) < maxCheckProblems {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
}

// Check verifies the data directory dir without modifying it (Pebble is
// opened read-only and creates no file): every record must decode, carry
// the slot of its key and a configured database, every sorted-set member
// must belong to a key whose metadata says sorted set, every sorted set
// must have members, scores must not be NaN and system records (ballots,
// hints) must be well formed; these are the conditions Open relies on to
// rebuild the index. An error means the directory could not be read at
// all; problems in it are in the report.
func Check(dir string, opts CheckOptions) (*CheckReport, error) {
	if opts.Databases <= 0 {
		opts.Databases = 16
	}
	if opts.FS == nil {
		opts.FS = vfs.Default
	}
	pdb, err := pebble.Open(filepath.Join(dir, "db"), &pebble.Options{
		ReadOnly: true,
		FS:       opts.FS,
		Logger:   quietLogger{},
	})
	if err != nil {
		return nil, fmt.Errorf("cannot open %s read-only: %w", dir, err)
	}
	defer pdb.Close()
	it, err := pdb.NewIter(nil)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	c := checker{
		r:     &CheckReport{KeysPerDB: make([]int, opts.Databases)},
		zsets: make(map[dbKey]*int),
		other: make(map[dbKey]Type),
	}
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, fmt.Errorf("reading %q: %w", it.Key(), err)
		}
		c.record(it.Key(), v)
	}
	if err := it.Error(); err != nil {
		return nil, err
	}
	for k, n := range c.zsets {
		if *n == 0 {
			c.r.problem("db %d: sorted set %q has no members", k.db, k.key)
		}
	}
	return c.r, nil
}

// dbKey names a user key in a database.
type dbKey struct {
	db  int
	key string
}

// checker is the state of one Check walk. Metadata sorts before members
// within a db and slot, so a member's key is known when its record comes.
type checker struct {
	r     *CheckReport
	zsets map[dbKey]*int // sorted sets seen: member records counted so far
	other map[dbKey]Type // strings and tombstones (TypeNone) seen
}

func (c *checker) record(k, v []byte) {
	if isSystemKey(k) {
		c.system(k, v)
		return
	}
	if len(k) < keyPrefixLen {
		c.r.problem("record %q is too short to be a key", k)
		return
	}
	db := int(k[0])
	if db >= len(c.r.KeysPerDB) {
		c.r.problem("record %q is in database %d, beyond the %d configured databases", k, db, len(c.r.KeysPerDB))
		return
	}
	slot := binary.BigEndian.Uint16(k[1:3])
	switch k[3] {
	case kindMeta:
		c.meta(db, slot, k[keyPrefixLen:], v)
	case kindMember:
		c.member(db, slot, k, v)
	default:
		c.r.problem("record %q has unknown kind %q", k, k[3])
	}
}

func (c *checker) meta(db int, slot uint16, key, v []byte) {
	if want := KeySlot(key); slot != want {
		c.r.problem("db %d: key %q is stored under slot %d, its slot is %d", db, key, slot, want)
	}
	var e Entry
	if err := decodeMetaValue(v, &e); err != nil {
		c.r.problem("db %d: key %q has undecodable metadata (%d bytes, type byte %d)", db, key, len(v), typeByte(v))
		return
	}
	k := dbKey{db, string(key)}
	switch e.Type {
	case TypeNone:
		c.r.Tombstones++
		c.other[k] = TypeNone
		return
	case TypeString:
		c.r.Strings++
		c.other[k] = TypeString
	case TypeZSet:
		c.r.SortedSets++
		c.zsets[k] = new(int)
	}
	c.r.KeysPerDB[db]++
}

func (c *checker) member(db int, slot uint16, k, v []byte) {
	_, key, member, ok := decodeMemberKey(k)
	if !ok {
		c.r.problem("db %d: malformed sorted-set member record %q", db, k)
		return
	}
	c.r.Members++
	if want := KeySlot(key); slot != want {
		c.r.problem("db %d: member %q of key %q is stored under slot %d, its slot is %d", db, member, key, slot, want)
	}
	if len(v) != memberValueLen {
		c.r.problem("db %d: member %q of key %q has a %d-byte score (want %d)", db, member, key, len(v), memberValueLen)
	} else if math.IsNaN(math.Float64frombits(binary.BigEndian.Uint64(v))) {
		c.r.problem("db %d: member %q of key %q has a NaN score", db, member, key)
	}
	dk := dbKey{db, string(key)}
	if n := c.zsets[dk]; n != nil {
		*n++
		return
	}
	switch t, ok := c.other[dk]; {
	case !ok:
		c.r.problem("db %d: member %q of key %q, which has no metadata", db, member, key)
	case t == TypeNone:
		c.r.problem("db %d: member %q of key %q, which is deleted (tombstone)", db, member, key)
	default:
		c.r.problem("db %d: member %q of key %q, which is a %s", db, member, key, t)
	}
}

func (c *checker) system(k, v []byte) {
	switch k[2] {
	case sysBallot:
		if len(k) != 5 || len(v) < 8 {
			c.r.problem("malformed ballot record %q (value %d bytes)", k, len(v))
			return
		}
		if slot := binary.BigEndian.Uint16(k[3:]); slot >= SlotCount {
			c.r.problem("ballot record %q names slot %d, beyond %d", k, slot, SlotCount-1)
			return
		}
		c.r.Ballots++
	case sysHint:
		node, db, key, ok := decodeHintKey(k)
		switch {
		case !ok || node == "":
			c.r.problem("malformed hint record %q", k)
		case db >= len(c.r.KeysPerDB):
			c.r.problem("hint record %q names database %d, beyond the %d configured databases", k, db, len(c.r.KeysPerDB))
		case len(v) != 0:
			c.r.problem("hint record %q for key %q has a %d-byte value (want none)", k, key, len(v))
		default:
			c.r.Hints++
		}
	default:
		c.r.problem("system record %q has unknown kind %q", k, k[2])
	}
}

func typeByte(v []byte) int {
	if len(v) == 0 {
		return -1
	}
	return int(v[0])
}

// quietLogger drops Pebble's log during Check, whose findings are in the
// report; a fatal Pebble error (corruption it cannot read past) panics.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}
