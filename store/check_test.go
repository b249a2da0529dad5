package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// checkFixture writes a store with strings, sorted sets in two databases,
// a hint and a ballot, closes it and returns its directory.
func checkFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	s := openTestStore(t, dir, 16)
	update(t, s, 0, func(tx *Tx) {
		tx.SetString([]byte("a"), []byte("1"), 0)
		tx.SetString([]byte("{user}b"), []byte("2"), 0)
		tx.ZAdd([]byte("board"), []byte("p1"), 1)
		tx.ZAdd([]byte("board"), []byte("p2"), 2)
		tx.Hint("node-b", []byte("a"))
	})
	update(t, s, 3, func(tx *Tx) { tx.ZAdd([]byte("z3"), []byte("m"), -1.5) })
	if _, err := s.Promise([]SlotBallot{{Slot: 7, Ballot: Ballot{N: 2, Node: "node-a"}}}); err != nil {
		t.Fatal(err)
	}
	must(t, s.Close())
	return dir
}

// snapshotDir returns every file under dir with its contents.
func snapshotDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	must(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		files[p] = b
		return err
	}))
	return files
}

// A clean store checks OK, with the right counts, and Check changes no
// byte of the directory and creates no file.
func TestCheck_CleanAndReadOnly(t *testing.T) {
	dir := checkFixture(t)
	before := snapshotDir(t, dir)
	r, err := Check(dir, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Fatalf("problems in a clean store: %q", r.Problems)
	}
	if r.Strings != 2 || r.SortedSets != 2 || r.Members != 3 || r.Hints != 1 || r.Ballots != 1 || r.Tombstones != 0 {
		t.Errorf("counts = %+v", r)
	}
	if r.KeysPerDB[0] != 3 || r.KeysPerDB[3] != 1 {
		t.Errorf("keys per db = %v, want 3 in db0 and 1 in db3", r.KeysPerDB)
	}
	after := snapshotDir(t, dir)
	if len(after) != len(before) {
		t.Errorf("Check changed the file set: %d files before, %d after", len(before), len(after))
	}
	for p, b := range before {
		if !bytes.Equal(after[p], b) {
			t.Errorf("Check modified %s", p)
		}
	}
	// The directory still opens, with the same data.
	s := openTestStore(t, dir, 16)
	defer s.Close()
	if n := s.Stats().Keys[0]; n != 3 {
		t.Errorf("after Check: db0 has %d keys, want 3", n)
	}
}

// A directory with no data is an error, not a clean report.
func TestCheck_Missing(t *testing.T) {
	dir := t.TempDir()
	if _, err := Check(dir, CheckOptions{}); err == nil {
		t.Fatal("Check of an empty directory succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Check created %d entries in an empty directory", len(entries))
	}
}

// Each kind of corruption, written straight into Pebble on a copy of a
// clean store, is reported with a message that names it.
func TestCheck_Corruptions(t *testing.T) {
	clean := checkFixture(t)
	meta := func(db int, key string, e Entry) (k, v []byte) {
		return appendMetaKey(nil, db, []byte(key)), appendMetaValue(nil, &e)
	}
	member := func(db int, key, m string, score float64) (k, v []byte) {
		k = append(appendMemberPrefix(nil, db, []byte(key)), m...)
		return k, binary.BigEndian.AppendUint64(nil, math.Float64bits(score))
	}
	str := Entry{Type: TypeString, Version: Version{0, 1}, Str: []byte("x")}
	zs := Entry{Type: TypeZSet, Version: Version{0, 1}}
	cases := []struct {
		name string
		dbs  int
		bad  func() (k, v []byte)
		want string
	}{
		{"undecodable metadata", 16, func() ([]byte, []byte) {
			return appendMetaKey(nil, 0, []byte("a")), []byte{1, 2, 3}
		}, `key "a" has undecodable metadata`},
		{"unknown type", 16, func() ([]byte, []byte) {
			k, v := meta(0, "a", str)
			v[0] = 9
			return k, v
		}, `key "a" has undecodable metadata`},
		{"unknown record kind", 16, func() ([]byte, []byte) {
			k, v := meta(0, "a", str)
			k[3] = 'q'
			return k, v
		}, "unknown kind 'q'"},
		{"wrong slot", 16, func() ([]byte, []byte) {
			k, v := meta(0, "a", str)
			binary.BigEndian.PutUint16(k[1:3], KeySlot([]byte("a"))+1)
			return k, v
		}, fmt.Sprintf("its slot is %d", KeySlot([]byte("a")))},
		{"database beyond the configured count", 4, func() ([]byte, []byte) {
			return meta(9, "a", str)
		}, "database 9, beyond the 4 configured databases"},
		{"member without metadata", 16, func() ([]byte, []byte) {
			return member(0, "ghost", "m", 1)
		}, `member "m" of key "ghost", which has no metadata`},
		{"member of a string", 16, func() ([]byte, []byte) {
			return member(0, "a", "m", 1)
		}, `member "m" of key "a", which is a string`},
		{"member of a tombstone", 16, func() ([]byte, []byte) {
			// Replace a sorted set's metadata with a tombstone: its members remain.
			return meta(3, "z3", Entry{Type: TypeNone, Version: Version{0, 9}})
		}, `member "m" of key "z3", which is deleted (tombstone)`},
		{"sorted set with no members", 16, func() ([]byte, []byte) {
			return meta(0, "empty", zs)
		}, `sorted set "empty" has no members`},
		{"NaN score", 16, func() ([]byte, []byte) {
			return member(0, "board", "p1", math.NaN())
		}, `member "p1" of key "board" has a NaN score`},
		{"short score", 16, func() ([]byte, []byte) {
			k, _ := member(0, "board", "p1", 1)
			return k, []byte{1}
		}, "1-byte score"},
		{"malformed ballot", 16, func() ([]byte, []byte) {
			return ballotKey(7), []byte{1, 2}
		}, "malformed ballot record"},
		{"malformed hint", 16, func() ([]byte, []byte) {
			return []byte{0xff, 0xff, sysHint, 40, 'n'}, nil
		}, "malformed hint record"},
		{"unknown system record", 16, func() ([]byte, []byte) {
			return []byte{0xff, 0xff, 'x'}, nil
		}, "system record"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			must(t, os.CopyFS(dir, os.DirFS(clean)))
			pdb, err := pebble.Open(filepath.Join(dir, "db"), &pebble.Options{})
			must(t, err)
			k, v := tc.bad()
			must(t, pdb.Set(k, v, pebble.Sync))
			must(t, pdb.Close())
			r, err := Check(dir, CheckOptions{Databases: tc.dbs})
			if err != nil {
				t.Fatal(err)
			}
			if r.OK() {
				t.Fatalf("no problem reported; want one containing %q", tc.want)
			}
			found := false
			for _, p := range r.Problems {
				found = found || strings.Contains(p, tc.want)
			}
			if !found {
				t.Fatalf("problems = %q, want one containing %q", r.Problems, tc.want)
			}
		})
	}
}
