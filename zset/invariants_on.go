//go:build invariants || race

package zset

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// invariantsEnabled makes every mutation check the Set's invariants (see the
// package documentation). It is on with -tags invariants and under -race.
const invariantsEnabled = true

// invariantsStride, when above 1, makes checkInvariants walk the Set only on
// every stride-th call. Tests raise it while they grow sets too big to walk
// after every mutation, and verify at checkpoints instead.
var invariantsStride, invariantsCalls atomic.Uint64

// setInvariantsStride sets invariantsStride and returns a func restoring it.
func setInvariantsStride(n uint64) (restore func()) {
	old := invariantsStride.Swap(n)
	return func() { invariantsStride.Store(old) }
}

// checkInvariants panics if the Set breaks one of its invariants.
func (s *Set) checkInvariants() {
	if n := invariantsStride.Load(); n > 1 && invariantsCalls.Add(1)%n != 0 {
		return
	}
	if err := s.verify(); err != nil {
		panic("zset: invariant violated: " + err.Error())
	}
}

// verify walks the whole Set, in O(n), and reports the first broken
// invariant.
func (s *Set) verify() error {
	if s.dict == nil {
		if s.height != 0 || s.rootL != nil || s.rootI != nil {
			return fmt.Errorf("zero Set with a tree")
		}
		return nil
	}
	keys := make(map[string]*byte, len(s.dict))
	for k := range s.dict {
		keys[k] = unsafe.StringData(k)
	}
	w := walker{s: s, keys: keys}
	var total int
	var err error
	switch {
	case s.height < 0:
		return fmt.Errorf("height %d", s.height)
	case s.height == 0:
		if s.rootL == nil || s.rootI != nil {
			return fmt.Errorf("height 0 with rootL %p rootI %p", s.rootL, s.rootI)
		}
		total, err = w.leaf(s.rootL, true, false, 0, "", false, 0, "")
	default:
		if s.rootI == nil || s.rootL != nil {
			return fmt.Errorf("height %d with rootL %p rootI %p", s.height, s.rootL, s.rootI)
		}
		if s.rootI.n < 2 {
			return fmt.Errorf("root inner node has %d children", s.rootI.n)
		}
		total, err = w.inner(s.rootI, s.height, true, false, 0, "", false, 0, "")
	}
	if err != nil {
		return err
	}
	if total != len(s.dict) {
		return fmt.Errorf("tree holds %d pairs, map %d", total, len(s.dict))
	}
	if w.seen != total {
		return fmt.Errorf("walked %d pairs, counted %d", w.seen, total)
	}
	return nil
}

type walker struct {
	s      *Set
	keys   map[string]*byte
	seen   int // pairs visited so far, in order
	prevOK bool
	prevS  float64
	prevM  string
}

// leaf checks l, whose pairs must be >= (loS, loM) when hasLo and < (hiS, hiM)
// when hasHi, and returns its size.
func (w *walker) leaf(l *leaf, root, hasLo bool, loS float64, loM string, hasHi bool, hiS float64, hiM string) (int, error) {
	if l.n < 0 || l.n > leafCap {
		return 0, fmt.Errorf("leaf size %d", l.n)
	}
	if !root {
		if l.n == 0 {
			return 0, fmt.Errorf("empty non-root leaf")
		}
		edge := !hasLo || !hasHi // the first or the last leaf
		if l.n < leafMin && !edge {
			return 0, fmt.Errorf("inner leaf of %d pairs < %d", l.n, leafMin)
		}
	}
	for i := l.n; i < leafCap; i++ {
		if l.scores[i] != 0 || l.members[i] != "" {
			return 0, fmt.Errorf("leaf slot %d past n=%d not cleared", i, l.n)
		}
	}
	for i := 0; i < l.n; i++ {
		sc, m := l.scores[i], l.members[i]
		if sc != sc || isNegZero(sc) {
			return 0, fmt.Errorf("bad score %v for %q", sc, m)
		}
		if w.prevOK && !less(w.prevS, w.prevM, sc, m) {
			return 0, fmt.Errorf("order: (%v,%q) then (%v,%q)", w.prevS, w.prevM, sc, m)
		}
		if hasLo && less(sc, m, loS, loM) {
			return 0, fmt.Errorf("(%v,%q) below separator (%v,%q)", sc, m, loS, loM)
		}
		if hasHi && !less(sc, m, hiS, hiM) {
			return 0, fmt.Errorf("(%v,%q) not below separator (%v,%q)", sc, m, hiS, hiM)
		}
		ds, ok := w.s.dict[m]
		if !ok || ds != sc {
			return 0, fmt.Errorf("tree has (%v,%q), map has %v %v", sc, m, ds, ok)
		}
		if len(m) > 0 && unsafe.StringData(m) != w.keys[m] {
			return 0, fmt.Errorf("member %q stored twice (map and tree copies differ)", m)
		}
		w.prevOK, w.prevS, w.prevM = true, sc, m
		w.seen++
	}
	return l.n, nil
}

func (w *walker) inner(in *inner, h int, root, hasLo bool, loS float64, loM string, hasHi bool, hiS float64, hiM string) (int, error) {
	if in.n > innerCap || in.n < 1 || (!root && in.n < innerMin) {
		return 0, fmt.Errorf("inner node with %d children at height %d", in.n, h)
	}
	if in.scores[0] != 0 || in.members[0] != "" {
		return 0, fmt.Errorf("inner slot 0 key not cleared")
	}
	for i := in.n; i < innerCap; i++ {
		if in.counts[i] != 0 || in.scores[i] != 0 || in.members[i] != "" || in.leaves[i] != nil || in.inners[i] != nil {
			return 0, fmt.Errorf("inner slot %d past n=%d not cleared", i, in.n)
		}
	}
	for i := 2; i < in.n; i++ {
		if !less(in.scores[i-1], in.members[i-1], in.scores[i], in.members[i]) {
			return 0, fmt.Errorf("separators out of order at %d", i)
		}
	}
	total := 0
	for i := 0; i < in.n; i++ {
		cLo, cLoS, cLoM := hasLo, loS, loM
		if i > 0 {
			cLo, cLoS, cLoM = true, in.scores[i], in.members[i]
		}
		cHi, cHiS, cHiM := hasHi, hiS, hiM
		if i+1 < in.n {
			cHi, cHiS, cHiM = true, in.scores[i+1], in.members[i+1]
		}
		var got int
		var err error
		if h == 1 {
			if in.leaves[i] == nil || in.inners[i] != nil {
				return 0, fmt.Errorf("height 1 node with a non-leaf child %d", i)
			}
			got, err = w.leaf(in.leaves[i], false, cLo, cLoS, cLoM, cHi, cHiS, cHiM)
		} else {
			if in.inners[i] == nil || in.leaves[i] != nil {
				return 0, fmt.Errorf("height %d node with a non-inner child %d", h, i)
			}
			got, err = w.inner(in.inners[i], h-1, false, cLo, cLoS, cLoM, cHi, cHiS, cHiM)
		}
		if err != nil {
			return 0, err
		}
		if got != in.counts[i] {
			return 0, fmt.Errorf("height %d child %d: count %d, holds %d", h, i, in.counts[i], got)
		}
		total += got
	}
	return total, nil
}
