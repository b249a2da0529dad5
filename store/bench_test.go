package store

import (
	"fmt"
	"testing"
)

func benchStore(b *testing.B, fsync Fsync) *Store {
	b.Helper()
	s, err := Open(Options{Dir: b.TempDir(), Fsync: fsync})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkSet is one SET of a 100-byte value per Update (everysec),
// acknowledged every `pipeline` writes as a connection does per pipeline.
func BenchmarkSet(b *testing.B) {
	for _, pipeline := range []int{1, 16} {
		b.Run(fmt.Sprintf("P%d", pipeline), func(b *testing.B) {
			s := benchStore(b, FsyncEverySec)
			val := make([]byte, 100)
			keys := make([][]byte, 1<<16)
			for i := range keys {
				keys[i] = []byte(fmt.Sprintf("key:%012d", i))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := keys[i&(len(keys)-1)]
				t, _ := s.Update(0, func(tx *Tx) { tx.SetString(k, val, 0) })
				if i%pipeline == pipeline-1 {
					if err := s.Acknowledge(t); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkGet is one lookup per Update in a store of 64K keys.
func BenchmarkGet(b *testing.B) {
	s := benchStore(b, FsyncEverySec)
	keys := make([][]byte, 1<<16)
	s.Update(0, func(tx *Tx) {
		for i := range keys {
			keys[i] = []byte(fmt.Sprintf("key:%012d", i))
			tx.SetString(keys[i], make([]byte, 100), 0)
		}
	})
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		k := keys[i&(len(keys)-1)]
		s.Update(0, func(tx *Tx) {
			if tx.Get(k) != nil {
				n++
			}
		})
	}
	if n != b.N {
		b.Fatalf("found %d of %d", n, b.N)
	}
}
