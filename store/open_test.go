package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Open refuses a directory another store has open, and says so.
func TestOpen_Locked(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir, 16)
	defer s.Close()
	_, err := Open(Options{Dir: dir})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: err = %v, want ErrLocked", err)
	}
}

// Open reports a corrupt data directory instead of starting empty.
func TestOpen_Corrupt(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir, 16)
	update(t, s, 0, func(tx *Tx) { tx.SetString([]byte("k"), []byte("v"), 0) })
	must(t, s.Close())
	manifests, _ := filepath.Glob(filepath.Join(dir, "db", "MANIFEST-*"))
	if len(manifests) == 0 {
		t.Fatal("no MANIFEST to corrupt")
	}
	for _, m := range manifests {
		must(t, os.WriteFile(m, []byte("this is not a manifest"), 0o644))
	}
	_, err := Open(Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("Open of a corrupt dir: err = %v, want a corrupt-data error", err)
	}
}

// Open reports a record that names a database beyond the configured count.
func TestOpen_TooFewDatabases(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir, 16)
	update(t, s, 9, func(tx *Tx) { tx.SetString([]byte("k"), []byte("v"), 0) })
	must(t, s.Close())
	_, err := Open(Options{Dir: dir, Databases: 4})
	if err == nil || !strings.Contains(err.Error(), "databases") {
		t.Fatalf("err = %v, want one about databases", err)
	}
}
