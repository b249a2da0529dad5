// Package zset is the in-memory index behind a Redis sorted set: members
// ordered by (score, member) with rank queries in O(log n).
//
// It is a pure data structure: no I/O, no locks, no goroutines. A Set is not
// safe for concurrent use; callers own synchronization (one writer, or any
// number of readers with no writer).
//
// # Representation
//
// A Set is a map from member to score plus an order-statistic B+tree of
// (score, member) pairs. Leaves hold the pairs; every inner node holds, for
// each child, the number of pairs in that child's subtree and a separator key,
// so rank, select-by-rank and counting a score range all cost O(log n), and
// iterating k consecutive ranks costs O(log n + k). The map and the tree share
// each member string: it is stored once.
//
// # Order and scores
//
// Pairs are ordered by score, then by member bytes (bytewise, shorter prefix
// first), exactly as Redis orders a sorted set. Scores are never NaN: Add
// panics on NaN, as that is a caller bug (ZADD and ZINCRBY reject NaN before
// it gets here). -0 is stored as +0: Redis 7.0 compares -0 and +0 as equal,
// and a small sorted set (listpack encoding, the default up to 128 members)
// stores -0 as the integer 0, so ZADD z -0 m; ZSCORE z m replies "0". (A
// large, skiplist-encoded Redis set keeps the sign and replies "-0"; we
// always reply "0".)
//
// # Invariants
//
// After every exported method returns:
//   - the map and the tree hold the same (member, score) pairs, each member
//     once, and the tree's member string is the map's key string;
//   - pairs are strictly increasing in (score, member) order, no score is NaN
//     or -0;
//   - every leaf is at the same depth; every inner node's per-child counts
//     equal the sizes of its children's subtrees;
//   - separator i of an inner node is <= every pair in child i and > every
//     pair in child i-1;
//   - the root inner node has at least 2 children, every other inner node at
//     least innerMin; every leaf but the root, the first and the last holds at
//     least leafMin pairs and no leaf but the root is empty.
//
// Building with -tags invariants (or -race) checks all of these after every
// mutation.
package zset

import "math"

// Node capacities, chosen by benchmark (BenchmarkSet, TestMemoryPerMember).
// A leaf is 8+24*leafCap bytes and an inner node 8+48*innerCap, so the
// candidates were sized to fill Go's size classes: leaves of 17, 31, 63 and
// 127 pairs, inner nodes of 15, 31 and 63 children. With 1M members and
// random scores a set costs 121, 119, 116 and 115.5 bytes per member for the
// four leaf sizes (inner size changes it by < 0.5); times were within noise
// of each other at 1M members, and 127-pair leaves were slower at 10K
// (linear leaf scans). 63/31 is the balance.
const (
	leafCap  = 63
	leafMin  = leafCap / 2
	innerCap = 31
	innerMin = innerCap / 2
)

// leaf holds up to leafCap pairs in ascending order; slots past n are zero.
type leaf struct {
	n       int
	scores  [leafCap]float64
	members [leafCap]string
}

// inner is an inner node with n children. counts[i] is the number of pairs in
// child i's subtree. For i >= 1, (scores[i], members[i]) is the separator of
// child i: <= every pair under child i, > every pair under child i-1. It may
// be a pair that has since been removed. Slot 0's key and all slots past n
// are zero. Children are leaves when the node is at height 1, else inners.
type inner struct {
	n       int
	counts  [innerCap]int
	scores  [innerCap]float64
	members [innerCap]string
	leaves  [innerCap]*leaf
	inners  [innerCap]*inner
}

// Set is a sorted set: a member -> score map plus an order-statistic B+tree.
// The zero value is an empty set ready to use.
type Set struct {
	dict   map[string]float64
	height int    // 0: the root is rootL; otherwise rootI, whose children are at height-1
	rootL  *leaf  // root when height == 0 (nil only in the zero Set)
	rootI  *inner // root when height > 0
}

// New returns an empty Set.
func New() *Set {
	return &Set{dict: make(map[string]float64), rootL: new(leaf)}
}

// Len returns the number of members.
func (s *Set) Len() int { return len(s.dict) }

// Score returns the score of member and whether it is present.
func (s *Set) Score(member string) (float64, bool) {
	f, ok := s.dict[member]
	return f, ok
}

// Add sets member's score, inserting member if absent, and reports whether it
// was inserted. Updating to the score it already has is a no-op. The Set keeps
// a reference to member, so it must not be a view of a buffer that is later
// modified. A -0 score is stored as +0. Add panics if score is NaN.
func (s *Set) Add(member string, score float64) (added bool) {
	if score != score {
		panic("zset: NaN score")
	}
	if score == 0 {
		score = 0 // -0 -> +0
	}
	if s.dict == nil {
		s.dict = make(map[string]float64)
		s.rootL = new(leaf)
	}
	old, ok := s.dict[member]
	if ok {
		if old == score {
			return false
		}
		s.delete(old, member)
	}
	// The map key and the tree both reference member's bytes. (Assigning to
	// an existing string key also replaces the stored key, so they stay
	// shared on update.)
	s.dict[member] = score
	s.insert(score, member)
	if invariantsEnabled {
		s.checkInvariants()
	}
	return !ok
}

// Remove deletes member and reports whether it was present.
func (s *Set) Remove(member string) bool {
	score, ok := s.dict[member]
	if !ok {
		return false
	}
	delete(s.dict, member)
	s.delete(score, member)
	if invariantsEnabled {
		s.checkInvariants()
	}
	return true
}

// PopMin removes and returns the member with the lowest (score, member).
// ok is false if the set is empty.
func (s *Set) PopMin() (member string, score float64, ok bool) {
	if s.Len() == 0 {
		return "", 0, false
	}
	member, score = s.ByRank(0)
	s.Remove(member)
	return member, score, true
}

// PopMax removes and returns the member with the highest (score, member).
// ok is false if the set is empty.
func (s *Set) PopMax() (member string, score float64, ok bool) {
	if s.Len() == 0 {
		return "", 0, false
	}
	member, score = s.ByRank(s.Len() - 1)
	s.Remove(member)
	return member, score, true
}

// Rank returns member's 0-based rank in ascending (score, member) order and
// whether it is present. The rank in descending order is Len()-1-rank.
func (s *Set) Rank(member string) (rank int, ok bool) {
	score, ok := s.dict[member]
	if !ok {
		return 0, false
	}
	l := s.rootL
	in := s.rootI
	for h := s.height; h > 0; h-- {
		i := in.find(score, member)
		for _, c := range in.counts[:i] {
			rank += c
		}
		if h == 1 {
			l = in.leaves[i]
		} else {
			in = in.inners[i]
		}
	}
	pos, found := l.search(score, member)
	if !found {
		panic("zset: corrupt index: member in map but not in tree")
	}
	return rank + pos, true
}

// ByRank returns the member and score at 0-based ascending rank. It panics
// unless 0 <= rank < Len().
func (s *Set) ByRank(rank int) (member string, score float64) {
	if rank < 0 || rank >= s.Len() {
		panic("zset: rank out of range")
	}
	l := s.rootL
	in := s.rootI
	for h := s.height; h > 0; h-- {
		i := 0
		for rank >= in.counts[i] {
			rank -= in.counts[i]
			i++
		}
		if h == 1 {
			l = in.leaves[i]
		} else {
			in = in.inners[i]
		}
	}
	return l.members[rank], l.scores[rank]
}

// Range calls fn for each member with ascending rank in [start, stop] until fn
// returns false. Ranks are 0-based ascending ranks whatever the direction;
// with reverse, the walk goes from stop down to start (so ZREVRANGE a b is
// Range(Len()-1-b, Len()-1-a, true, fn)). Callers clamp the bounds; out of
// range parts are ignored and start > stop visits nothing. It costs
// O(log n + k) for k members visited. fn must not modify the Set.
func (s *Set) Range(start, stop int, reverse bool, fn func(member string, score float64) bool) {
	start = max(start, 0)
	stop = min(stop, s.Len()-1)
	if start > stop {
		return
	}
	left := stop - start + 1
	switch {
	case s.height == 0 && !reverse:
		ascendLeaf(s.rootL, start, &left, fn)
	case s.height == 0:
		descendLeaf(s.rootL, stop, &left, fn)
	case !reverse:
		ascendInner(s.rootI, s.height, start, &left, fn)
	default:
		descendInner(s.rootI, s.height, stop, &left, fn)
	}
}

// Members calls fn for every member in ascending order until fn returns
// false. fn must not modify the Set.
func (s *Set) Members(fn func(member string, score float64) bool) {
	s.Range(0, s.Len()-1, false, fn)
}

// ScoreRangeRanks returns the ascending ranks of the first and last members
// whose scores lie in r. The range is empty when first > last (then first is
// the rank at which such a member would be inserted). r must not hold NaN.
func (s *Set) ScoreRangeRanks(r ScoreRange) (first, last int) {
	first = s.countBefore(func(score float64, _ string) bool {
		if r.MinEx {
			return score > r.Min
		}
		return score >= r.Min
	})
	last = s.countBefore(func(score float64, _ string) bool {
		if r.MaxEx {
			return score >= r.Max
		}
		return score > r.Max
	}) - 1
	return first, last
}

// CountInScoreRange returns the number of members whose scores lie in r
// (ZCOUNT), in O(log n).
func (s *Set) CountInScoreRange(r ScoreRange) int {
	first, last := s.ScoreRangeRanks(r)
	return max(last-first+1, 0)
}

// LexRangeRanks returns the ascending ranks of the first and last members in
// the lexicographic range r; empty when first > last. Like Redis's
// ZRANGEBYLEX and ZLEXCOUNT, it compares members only and is meaningful only
// when every member has the same score; otherwise the result is unspecified
// (but in range).
func (s *Set) LexRangeRanks(r LexRange) (first, last int) {
	first = s.countBefore(func(_ float64, m string) bool { return r.Min.admitsFrom(m) })
	last = s.countBefore(func(_ float64, m string) bool { return r.Max.exceededBy(m) }) - 1
	return first, last
}

// less reports whether (s1, m1) sorts before (s2, m2).
func less(s1 float64, m1 string, s2 float64, m2 string) bool {
	return s1 < s2 || (s1 == s2 && m1 < m2)
}

// search returns the position of the first pair >= (score, member) and
// whether that pair is (score, member). Leaves are scanned linearly: at this
// size a sequential scan, which the prefetcher streams, beats a binary
// search's chain of dependent cache misses (see the benchmarks).
func (l *leaf) search(score float64, member string) (int, bool) {
	lo := 0
	for lo < l.n && l.scores[lo] < score {
		lo++
	}
	for lo < l.n && l.scores[lo] == score && l.members[lo] < member {
		lo++
	}
	return lo, lo < l.n && l.scores[lo] == score && l.members[lo] == member
}

// find returns the index of the child whose key range holds (score, member):
// the last child whose separator is <= it.
func (in *inner) find(score float64, member string) int {
	lo, hi := 1, in.n
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if !less(score, member, in.scores[h], in.members[h]) {
			lo = h + 1
		} else {
			hi = h
		}
	}
	return lo - 1
}

// countBefore returns the number of pairs for which pred is false. pred must
// be monotone over (score, member) order: false, ..., false, true, ..., true.
func (s *Set) countBefore(pred func(score float64, member string) bool) int {
	if s.Len() == 0 {
		return 0
	}
	n := 0
	l := s.rootL
	in := s.rootI
	for h := s.height; h > 0; h-- {
		// The last child whose separator fails pred holds the boundary.
		lo, hi := 1, in.n
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if !pred(in.scores[m], in.members[m]) {
				lo = m + 1
			} else {
				hi = m
			}
		}
		i := lo - 1
		for _, c := range in.counts[:i] {
			n += c
		}
		if h == 1 {
			l = in.leaves[i]
		} else {
			in = in.inners[i]
		}
	}
	lo := 0
	for lo < l.n && !pred(l.scores[lo], l.members[lo]) {
		lo++
	}
	return n + lo
}

// Iteration. left counts the pairs still to visit; the functions return
// false once fn has asked to stop.

func ascendLeaf(l *leaf, from int, left *int, fn func(string, float64) bool) bool {
	for i := from; i < l.n && *left > 0; i++ {
		*left--
		if !fn(l.members[i], l.scores[i]) {
			return false
		}
	}
	return true
}

func descendLeaf(l *leaf, from int, left *int, fn func(string, float64) bool) bool {
	for i := from; i >= 0 && *left > 0; i-- {
		*left--
		if !fn(l.members[i], l.scores[i]) {
			return false
		}
	}
	return true
}

// ascendInner visits pairs from rank from (within in's subtree) upward.
func ascendInner(in *inner, h, from int, left *int, fn func(string, float64) bool) bool {
	i := 0
	for from >= in.counts[i] {
		from -= in.counts[i]
		i++
	}
	for ; i < in.n && *left > 0; i++ {
		var ok bool
		if h == 1 {
			ok = ascendLeaf(in.leaves[i], from, left, fn)
		} else {
			ok = ascendInner(in.inners[i], h-1, from, left, fn)
		}
		if !ok {
			return false
		}
		from = 0
	}
	return true
}

// descendInner visits pairs from rank from (within in's subtree) downward.
func descendInner(in *inner, h, from int, left *int, fn func(string, float64) bool) bool {
	i := 0
	for from >= in.counts[i] {
		from -= in.counts[i]
		i++
	}
	for ; i >= 0 && *left > 0; i-- {
		var ok bool
		if h == 1 {
			ok = descendLeaf(in.leaves[i], from, left, fn)
		} else {
			ok = descendInner(in.inners[i], h-1, from, left, fn)
		}
		if !ok {
			return false
		}
		if i > 0 {
			from = in.counts[i-1] - 1
		}
	}
	return true
}

// Insertion.

func (l *leaf) insertAt(pos int, score float64, member string) {
	copy(l.scores[pos+1:l.n+1], l.scores[pos:l.n])
	copy(l.members[pos+1:l.n+1], l.members[pos:l.n])
	l.scores[pos] = score
	l.members[pos] = member
	l.n++
}

func (l *leaf) removeAt(pos int) {
	copy(l.scores[pos:], l.scores[pos+1:l.n])
	copy(l.members[pos:], l.members[pos+1:l.n])
	l.n--
	l.scores[l.n] = 0
	l.members[l.n] = ""
}

// split splits the full leaf l while inserting (score, member) at pos and
// returns the new right sibling. Appending past the end of the last leaf of
// the tree leaves l full and starts a new leaf (and symmetrically for the
// first leaf), so ascending or descending insertion builds full leaves.
func (l *leaf) split(pos int, score float64, member string, first, last bool) *leaf {
	r := new(leaf)
	switch {
	case last && pos == l.n:
		r.insertAt(0, score, member)
	case first && pos == 0:
		*r = *l
		*l = leaf{}
		l.insertAt(0, score, member)
	default:
		k := (l.n + 1) / 2
		copy(r.scores[:], l.scores[k:l.n])
		copy(r.members[:], l.members[k:l.n])
		r.n = l.n - k
		clear(l.scores[k:l.n])
		clear(l.members[k:l.n])
		l.n = k
		if pos <= k {
			l.insertAt(pos, score, member)
		} else {
			r.insertAt(pos-k, score, member)
		}
	}
	return r
}

func (in *inner) total() int {
	t := 0
	for _, c := range in.counts[:in.n] {
		t += c
	}
	return t
}

// insertSlot inserts a child at position i (i >= 1) with the given separator
// and count; in must not be full.
func (in *inner) insertSlot(i int, score float64, member string, count int, l *leaf, c *inner) {
	n := in.n
	copy(in.counts[i+1:n+1], in.counts[i:n])
	copy(in.scores[i+1:n+1], in.scores[i:n])
	copy(in.members[i+1:n+1], in.members[i:n])
	copy(in.leaves[i+1:n+1], in.leaves[i:n])
	copy(in.inners[i+1:n+1], in.inners[i:n])
	in.counts[i], in.scores[i], in.members[i], in.leaves[i], in.inners[i] = count, score, member, l, c
	in.n++
}

// removeSlot removes child i (i >= 1), which must already be empty or merged
// away.
func (in *inner) removeSlot(i int) {
	n := in.n
	copy(in.counts[i:], in.counts[i+1:n])
	copy(in.scores[i:], in.scores[i+1:n])
	copy(in.members[i:], in.members[i+1:n])
	copy(in.leaves[i:], in.leaves[i+1:n])
	copy(in.inners[i:], in.inners[i+1:n])
	in.n--
	n--
	in.counts[n], in.scores[n], in.members[n], in.leaves[n], in.inners[n] = 0, 0, "", nil, nil
}

// moveSlots moves k slots starting at src[from] to dst, inserting them at
// dst[at] (shifting dst's later slots). Separator keys move with their slots;
// the caller fixes up slot-0 keys.
func moveSlots(dst *inner, at int, src *inner, from, k int) {
	dn, sn := dst.n, src.n
	copy(dst.counts[at+k:dn+k], dst.counts[at:dn])
	copy(dst.scores[at+k:dn+k], dst.scores[at:dn])
	copy(dst.members[at+k:dn+k], dst.members[at:dn])
	copy(dst.leaves[at+k:dn+k], dst.leaves[at:dn])
	copy(dst.inners[at+k:dn+k], dst.inners[at:dn])
	copy(dst.counts[at:at+k], src.counts[from:from+k])
	copy(dst.scores[at:at+k], src.scores[from:from+k])
	copy(dst.members[at:at+k], src.members[from:from+k])
	copy(dst.leaves[at:at+k], src.leaves[from:from+k])
	copy(dst.inners[at:at+k], src.inners[from:from+k])
	dst.n += k
	copy(src.counts[from:], src.counts[from+k:sn])
	copy(src.scores[from:], src.scores[from+k:sn])
	copy(src.members[from:], src.members[from+k:sn])
	copy(src.leaves[from:], src.leaves[from+k:sn])
	copy(src.inners[from:], src.inners[from+k:sn])
	src.n -= k
	clear(src.counts[src.n:sn])
	clear(src.scores[src.n:sn])
	clear(src.members[src.n:sn])
	clear(src.leaves[src.n:sn])
	clear(src.inners[src.n:sn])
}

// addChild inserts a new child at position i (i >= 1), splitting in first if
// it is full. It returns the new right sibling of in and its separator, or
// nil.
func (in *inner) addChild(i int, score float64, member string, count int, l *leaf, c *inner) (*inner, float64, string) {
	if in.n < innerCap {
		in.insertSlot(i, score, member, count, l, c)
		return nil, 0, ""
	}
	k := (in.n + 1) / 2
	r := new(inner)
	moveSlots(r, 0, in, k, in.n-k)
	sepS, sepM := r.scores[0], r.members[0]
	r.scores[0], r.members[0] = 0, ""
	if i <= k {
		in.insertSlot(i, score, member, count, l, c)
	} else {
		r.insertSlot(i-k, score, member, count, l, c)
	}
	return r, sepS, sepM
}

// insert adds (score, member) to the tree; it must not be there already.
func (s *Set) insert(score float64, member string) {
	if s.height == 0 {
		l := s.rootL
		pos, _ := l.search(score, member)
		if l.n < leafCap {
			l.insertAt(pos, score, member)
			return
		}
		r := l.split(pos, score, member, true, true)
		root := &inner{n: 2}
		root.leaves[0], root.leaves[1] = l, r
		root.counts[0], root.counts[1] = l.n, r.n
		root.scores[1], root.members[1] = r.scores[0], r.members[0]
		s.rootL, s.rootI, s.height = nil, root, 1
		return
	}
	r, sepS, sepM := insertInner(s.rootI, s.height, score, member, true, true)
	if r != nil {
		root := &inner{n: 2}
		root.inners[0], root.inners[1] = s.rootI, r
		root.counts[0], root.counts[1] = s.rootI.total(), r.total()
		root.scores[1], root.members[1] = sepS, sepM
		s.rootI = root
		s.height++
	}
}

// insertInner inserts into the subtree in at height h; first and last tell
// whether in is on the tree's left or right edge. It returns in's new right
// sibling and its separator if in split.
func insertInner(in *inner, h int, score float64, member string, first, last bool) (*inner, float64, string) {
	i := in.find(score, member)
	first = first && i == 0
	last = last && i == in.n-1
	if h == 1 {
		l := in.leaves[i]
		pos, _ := l.search(score, member)
		if l.n < leafCap {
			l.insertAt(pos, score, member)
			in.counts[i]++
			return nil, 0, ""
		}
		r := l.split(pos, score, member, first, last)
		in.counts[i] = l.n
		return in.addChild(i+1, r.scores[0], r.members[0], r.n, r, nil)
	}
	c := in.inners[i]
	r, sepS, sepM := insertInner(c, h-1, score, member, first, last)
	if r == nil {
		in.counts[i]++
		return nil, 0, ""
	}
	in.counts[i] = c.total()
	return in.addChild(i+1, sepS, sepM, r.total(), nil, r)
}

// Deletion.

// delete removes (score, member) from the tree; it must be there.
func (s *Set) delete(score float64, member string) {
	if s.height == 0 {
		pos, ok := s.rootL.search(score, member)
		if !ok {
			panic("zset: corrupt index: member in map but not in tree")
		}
		s.rootL.removeAt(pos)
		return
	}
	deleteInner(s.rootI, s.height, score, member)
	for s.height > 0 && s.rootI.n == 1 {
		if s.height == 1 {
			s.rootL, s.rootI = s.rootI.leaves[0], nil
		} else {
			s.rootI = s.rootI.inners[0]
		}
		s.height--
	}
}

func deleteInner(in *inner, h int, score float64, member string) {
	i := in.find(score, member)
	in.counts[i]--
	if h == 1 {
		l := in.leaves[i]
		pos, ok := l.search(score, member)
		if !ok {
			panic("zset: corrupt index: member in map but not in tree")
		}
		l.removeAt(pos)
		if l.n < leafMin {
			in.rebalanceLeaves(i)
		}
		return
	}
	c := in.inners[i]
	deleteInner(c, h-1, score, member)
	if c.n < innerMin {
		in.rebalanceInners(i)
	}
}

// rebalanceLeaves fixes the underfull leaf child i by merging it with a
// sibling, or, if both do not fit in one leaf, by sharing their pairs evenly.
func (in *inner) rebalanceLeaves(i int) {
	if i == in.n-1 {
		i-- // use the left sibling
	}
	a, b := in.leaves[i], in.leaves[i+1]
	total := a.n + b.n
	if total <= leafCap {
		copy(a.scores[a.n:], b.scores[:b.n])
		copy(a.members[a.n:], b.members[:b.n])
		a.n = total
		in.counts[i] = total
		in.removeSlot(i + 1)
		return
	}
	if k := total/2 - a.n; k > 0 { // b -> a
		copy(a.scores[a.n:], b.scores[:k])
		copy(a.members[a.n:], b.members[:k])
		a.n += k
		copy(b.scores[:], b.scores[k:b.n])
		copy(b.members[:], b.members[k:b.n])
		clear(b.scores[b.n-k : b.n])
		clear(b.members[b.n-k : b.n])
		b.n -= k
	} else if k < 0 { // a -> b
		k = -k
		copy(b.scores[k:], b.scores[:b.n])
		copy(b.members[k:], b.members[:b.n])
		copy(b.scores[:k], a.scores[a.n-k:a.n])
		copy(b.members[:k], a.members[a.n-k:a.n])
		b.n += k
		clear(a.scores[a.n-k : a.n])
		clear(a.members[a.n-k : a.n])
		a.n -= k
	}
	in.counts[i], in.counts[i+1] = a.n, b.n
	in.scores[i+1], in.members[i+1] = b.scores[0], b.members[0]
}

// rebalanceInners fixes the underfull inner child i like rebalanceLeaves.
// The parent's separator moves down into the right node's slot 0 while the
// two nodes are joined, and the new boundary's key moves up.
func (in *inner) rebalanceInners(i int) {
	if i == in.n-1 {
		i--
	}
	a, b := in.inners[i], in.inners[i+1]
	b.scores[0], b.members[0] = in.scores[i+1], in.members[i+1]
	total := a.n + b.n
	if total <= innerCap {
		moveSlots(a, a.n, b, 0, b.n)
		in.counts[i] += in.counts[i+1]
		in.removeSlot(i + 1)
		return
	}
	if k := total/2 - a.n; k > 0 {
		moveSlots(a, a.n, b, 0, k)
	} else if k < 0 {
		moveSlots(b, 0, a, a.n+k, -k)
	}
	in.scores[i+1], in.members[i+1] = b.scores[0], b.members[0]
	b.scores[0], b.members[0] = 0, ""
	in.counts[i], in.counts[i+1] = a.total(), b.total()
}

// isNegZero reports whether f is -0.
func isNegZero(f float64) bool { return f == 0 && math.Signbit(f) }
