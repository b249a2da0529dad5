package commands

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"cairn/store"
	"cairn/zset"
)

// Sorted-set pops and set algebra, as Redis 7.0's t_zset.c: ZPOPMIN,
// ZPOPMAX, ZMPOP, the blocking BZPOPMIN, BZPOPMAX and BZMPOP (the wait
// itself is in blocking.go), and ZUNION, ZINTER, ZDIFF, their STORE forms
// and ZINTERCARD.
//
// Pops write only through Tx.ZRem, which deletes the key with its last
// member. The set operations read the live indexes of their sources and
// build the result apart, so a destination that is also a source is read
// before it is replaced; an empty result deletes the destination, as Redis.
//
// Inputs: Redis also accepts plain sets (every member scoring 1); Cairn has
// no set type yet, so a source is a sorted set or a missing key, and any
// other type is WRONGTYPE.
//
// -0: a weighted score can be -0 (WEIGHTS -1 on a score of 0). ZUNION and
// ZINTER reply it as "-0", as Redis; a stored result holds +0 (package
// zset), as Redis's small (listpack) sets do, where a large Redis result
// (over 128 members) keeps -0 and ZSCORE replies "-0".

// cmdZPopMin is ZPOPMIN key [count].
func cmdZPopMin(c *Ctx) { zpopMinMax(c, false) }

// cmdZPopMax is ZPOPMAX key [count].
func cmdZPopMax(c *Ctx) { zpopMinMax(c, true) }

// zpopMinMax is zpopMinMaxCommand: extra arguments are a syntax error, the
// count must be an integer >= 0 (anything else, even "x", is "value is out
// of range, must be positive"), then the key's type is checked. Without a
// count the reply is one flat [member, score] pair in both protocols; with
// one, RESP3 nests each pair in its own array.
func zpopMinMax(c *Ctx, max bool) {
	if len(c.Args) > 3 {
		c.W.Error(errSyntax)
		return
	}
	count := int64(-1)
	if len(c.Args) == 3 {
		n, ok := parseInt(c.Args[2])
		if !ok || n < 0 {
			c.W.Error(errNotPositive)
			return
		}
		count = n
	}
	key := c.Args[1]
	e := c.Tx.Get(key)
	if e == nil {
		c.W.Array(0)
		return
	}
	if e.Type != store.TypeZSet {
		c.W.Error(errWrongType)
		return
	}
	zpop(c, key, e, max, count, false, c.W.Proto() > 2 && count != -1)
}

// zpop is genericZpopCommand on an existing sorted set e stored at key: it
// pops count members (-1: one) from the low end, or the high end with max,
// and replies them. emitKey puts the key first; nested makes each member a
// [member, score] array (and, with emitKey, all pairs one array after the
// key: ZMPOP's [key, [[m, s] ...]]).
func zpop(c *Ctx, key []byte, e *store.Entry, max bool, count int64, emitKey, nested bool) {
	if count == 0 {
		c.W.Array(0)
		return
	}
	if count == -1 {
		count = 1
	}
	n := int(min(count, int64(e.Z.Len())))
	switch {
	case !nested && !emitKey:
		c.W.Array(2 * n)
	case nested && !emitKey:
		c.W.Array(n)
	case !nested && emitKey:
		c.W.Array(2*n + 1)
		c.W.Bulk(key)
	default:
		c.W.Array(2)
		c.W.Bulk(key)
		c.W.Array(n)
	}
	for range n {
		rank := 0
		if max {
			rank = e.Z.Len() - 1
		}
		m, score := e.Z.ByRank(rank)
		if nested {
			c.W.Array(2)
		}
		c.W.BulkString(m)
		c.W.Double(score)
		c.Tx.ZRem(key, stringBytes(m)) // deletes key with its last member
	}
	if n > 0 {
		event := "zpopmin"
		if max {
			event = "zpopmax"
		}
		c.notifyZsetRemoved(event, key)
	}
}

// cmdZMPop is ZMPOP numkeys key [key ...] MIN|MAX [COUNT count].
func cmdZMPop(c *Ctx) { zmpopGeneric(c, 1, false) }

// cmdBZMPop is BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count].
func cmdBZMPop(c *Ctx) { zmpopGeneric(c, 2, true) }

// zmpopGeneric is zmpopGenericCommand with numkeys at c.Args[numIdx]:
// numkeys (1..LONG_MAX, "numkeys should be greater than 0" for anything
// else), MIN or MAX right after the keys, then COUNT at most once (1..,
// "count should be greater than 0"); the blocking form checks its timeout
// only after all of these. The first existing key in argument order is
// popped; a non-sorted-set key met before it is WRONGTYPE; no key at all
// is a null array.
func zmpopGeneric(c *Ctx, numIdx int, blocking bool) {
	args := c.Args
	numkeys, ok := parseInt(args[numIdx])
	if !ok || numkeys < 1 {
		c.W.Error(errNumKeysPositive)
		return
	}
	if numkeys > int64(len(args)-numIdx-2) { // MIN|MAX must follow the keys
		c.W.Error(errSyntax)
		return
	}
	whereIdx := numIdx + int(numkeys) + 1
	var max bool
	switch {
	case eqFold(args[whereIdx], "min"):
	case eqFold(args[whereIdx], "max"):
		max = true
	default:
		c.W.Error(errSyntax)
		return
	}
	count := int64(-1)
	for j := whereIdx + 1; j < len(args); j++ {
		if count == -1 && eqFold(args[j], "count") && j+1 < len(args) {
			j++
			n, ok := parseInt(args[j])
			if !ok || n < 1 {
				c.W.Error(errCountPositive)
				return
			}
			count = n
			continue
		}
		c.W.Error(errSyntax)
		return
	}
	if count == -1 {
		count = 1
	}
	keys := args[numIdx+1 : whereIdx]
	if blocking {
		blockingZPop(c, keys, max, args[1], count, true)
		return
	}
	for _, key := range keys {
		e := c.Tx.Get(key)
		if e == nil {
			continue
		}
		if e.Type != store.TypeZSet {
			c.W.Error(errWrongType)
			return
		}
		zpop(c, key, e, max, count, true, true)
		return
	}
	c.W.NullArray()
}

// cmdBZPopMin is BZPOPMIN key [key ...] timeout.
func cmdBZPopMin(c *Ctx) {
	blockingZPop(c, c.Args[1:len(c.Args)-1], false, c.Args[len(c.Args)-1], -1, false)
}

// cmdBZPopMax is BZPOPMAX key [key ...] timeout.
func cmdBZPopMax(c *Ctx) {
	blockingZPop(c, c.Args[1:len(c.Args)-1], true, c.Args[len(c.Args)-1], -1, false)
}

// blockingZPop is blockingGenericZpopCommand: the timeout is checked first,
// then the keys in argument order; the first non-empty sorted set is popped
// (BZPOPMIN replies [key, member, score], BZMPOP [key, [[m, s] ...]]). With
// every key empty it blocks (blocking.go), or, inside MULTI/EXEC, replies a
// null array. On a retry after a wake-up a key of another type is skipped,
// as Redis 7.0 only serves blocked clients from sorted sets.
func blockingZPop(c *Ctx, keys [][]byte, max bool, timeoutArg []byte, count int64, nested bool) {
	timeout, ok := parseBlockTimeout(c, timeoutArg)
	if !ok {
		return
	}
	retry := c.retrying()
	for _, key := range keys {
		e := c.Tx.Get(key)
		if e == nil {
			continue
		}
		if e.Type != store.TypeZSet {
			if retry {
				continue
			}
			c.W.Error(errWrongType)
			return
		}
		zpop(c, key, e, max, count, true, nested)
		return
	}
	if !c.block(keys, timeout) {
		c.W.NullArray()
	}
}

// setOp is the operation of zunionInterDiffGenericCommand.
type setOp uint8

const (
	opUnion setOp = iota
	opInter
	opDiff
)

// aggregate is ZUNION/ZINTER's AGGREGATE.
type aggregate uint8

const (
	aggSum aggregate = iota
	aggMin
	aggMax
)

// opSource is one input of a set operation.
type opSource struct {
	z      *zset.Set // nil: the key does not exist
	weight float64
}

func (s opSource) len() int {
	if s.z == nil {
		return 0
	}
	return s.z.Len()
}

// scored is one member of a computed result.
type scored struct {
	member string
	score  float64
}

func cmdZUnion(c *Ctx)      { zsetOp(c, nil, 1, opUnion, false) }
func cmdZInter(c *Ctx)      { zsetOp(c, nil, 1, opInter, false) }
func cmdZDiff(c *Ctx)       { zsetOp(c, nil, 1, opDiff, false) }
func cmdZInterCard(c *Ctx)  { zsetOp(c, nil, 1, opInter, true) }
func cmdZUnionStore(c *Ctx) { zsetOp(c, c.Args[1], 2, opUnion, false) }
func cmdZInterStore(c *Ctx) { zsetOp(c, c.Args[1], 2, opInter, false) }
func cmdZDiffStore(c *Ctx)  { zsetOp(c, c.Args[1], 2, opDiff, false) }

// zsetOp is zunionInterDiffGenericCommand with numkeys at c.Args[numIdx]
// and a destination dst for the STORE forms (nil otherwise); cardOnly is
// ZINTERCARD. Checks, in Redis's order: numkeys an integer, >= 1 ("at least
// 1 input key is needed"), not more than the arguments left (syntax); every
// source's type, before any option; then the options: WEIGHTS (one valid
// float per key) and AGGREGATE SUM|MIN|MAX except for ZDIFF and
// ZINTERCARD, WITHSCORES except for the STORE forms, LIMIT (>= 0) for
// ZINTERCARD only; each may repeat, the last one wins.
//
// Scores follow Redis exactly: a weighted score that is NaN (inf*0) is 0;
// a SUM that is NaN (inf + -inf) is 0; MIN/MAX ignore a NaN operand (ZINTER
// does not clear a weighted NaN of a non-first source). Sources are
// combined in increasing size order (a stable sort, as glibc's qsort is for
// these sizes), which fixes the order of floating-point additions.
func zsetOp(c *Ctx, dst []byte, numIdx int, op setOp, cardOnly bool) {
	args := c.Args
	setnum, ok := parseInt(args[numIdx])
	if !ok {
		c.W.Error(errNotInt)
		return
	}
	if setnum < 1 {
		c.W.Error(errNoInputKey(c.Spec.fullName))
		return
	}
	if setnum > int64(len(args)-numIdx-1) {
		c.W.Error(errSyntax)
		return
	}
	n := int(setnum)
	srcs := make([]opSource, n)
	for i := range srcs {
		srcs[i].weight = 1
		e := c.zsetSource(args[numIdx+1+i])
		if e == nil {
			continue
		}
		if e.Type != store.TypeZSet {
			c.W.Error(errWrongType)
			return
		}
		srcs[i].z = e.Z
	}
	agg, withScores, limit := aggSum, false, int64(0)
	for j := numIdx + 1 + n; j < len(args); {
		left := len(args) - j
		switch {
		case op != opDiff && !cardOnly && left >= n+1 && eqFold(args[j], "weights"):
			j++
			for i := range srcs {
				w, err := zset.ParseScore(args[j])
				if err != nil {
					c.W.Error(errWeightNotFloat)
					return
				}
				srcs[i].weight = w
				j++
			}
		case op != opDiff && !cardOnly && left >= 2 && eqFold(args[j], "aggregate"):
			switch a := args[j+1]; {
			case eqFold(a, "sum"):
				agg = aggSum
			case eqFold(a, "min"):
				agg = aggMin
			case eqFold(a, "max"):
				agg = aggMax
			default:
				c.W.Error(errSyntax)
				return
			}
			j += 2
		case dst == nil && !cardOnly && eqFold(args[j], "withscores"):
			withScores = true
			j++
		case cardOnly && left >= 2 && eqFold(args[j], "limit"):
			l, ok := parseInt(args[j+1])
			if !ok || l < 0 {
				c.W.Error(errLimitNegative)
				return
			}
			limit = l
			j += 2
		default:
			c.W.Error(errSyntax)
			return
		}
	}

	var res []scored
	card := int64(0)
	switch op {
	case opUnion:
		slices.SortStableFunc(srcs, func(a, b opSource) int { return cmp.Compare(a.len(), b.len()) })
		res = zunion(srcs, agg)
	case opInter:
		slices.SortStableFunc(srcs, func(a, b opSource) int { return cmp.Compare(a.len(), b.len()) })
		res, card = zinter(srcs, agg, cardOnly, limit)
	case opDiff:
		res = zdiff(srcs)
	}

	switch {
	case dst != nil:
		if len(res) == 0 {
			c.zsetStore(dst, nil)
			c.W.Int(0)
			return
		}
		z := zset.New()
		for _, r := range res {
			z.Add(r.member, r.score)
		}
		c.zsetStore(dst, z)
		c.W.Int(int64(z.Len()))
	case cardOnly:
		c.W.Int(card)
	default:
		writeScored(c, res, withScores)
	}
}

// zsetSource is a set operation's input key: from the store, or, for a
// cluster command whose keys span slots, as gathered from their nodes.
func (c *Ctx) zsetSource(key []byte) *store.Entry {
	if c.zsrc != nil {
		return c.zsrc[string(key)]
	}
	return c.Tx.Get(key)
}

// zsetStore stores a set operation's result (nil: delete dst), or hands
// it to the cluster command that gathered the inputs.
func (c *Ctx) zsetStore(dst []byte, z *zset.Set) {
	switch {
	case c.zdst != nil:
		*c.zdst = zstoreResult{set: z, done: true}
	case z == nil:
		if c.Tx.Delete(dst) {
			c.notify(notifyGeneric, "del", dst)
		}
	default:
		c.Tx.Put(dst, &store.Entry{Type: store.TypeZSet, Z: z})
		c.notify(notifyZset, c.Spec.FullName(), dst)
	}
}

// zunion sums (or takes the MIN/MAX of) each member's weighted scores over
// srcs, which are sorted by size. The result is in (score, member) order.
func zunion(srcs []opSource, agg aggregate) []scored {
	acc := make(map[string]float64, srcs[len(srcs)-1].len())
	for _, src := range srcs {
		if src.len() == 0 {
			continue
		}
		src.z.Members(func(m string, s float64) bool {
			score := src.weight * s
			if score != score {
				score = 0
			}
			if old, ok := acc[m]; ok {
				acc[m] = aggregateScore(old, score, agg)
			} else {
				acc[m] = score
			}
			return true
		})
	}
	res := make([]scored, 0, len(acc))
	for m, s := range acc {
		res = append(res, scored{m, s})
	}
	sortScored(res)
	return res
}

// zinter keeps the members of the smallest source found in every other
// one (srcs are sorted by size). With cardOnly it only counts them, up to
// limit (0: no limit). The result is in (score, member) order.
func zinter(srcs []opSource, agg aggregate, cardOnly bool, limit int64) (res []scored, card int64) {
	first := srcs[0]
	if first.len() == 0 {
		return nil, 0
	}
	first.z.Members(func(m string, s float64) bool {
		score := first.weight * s
		if score != score {
			score = 0
		}
		for _, src := range srcs[1:] {
			v, ok := s, src.z == first.z
			if !ok {
				if v, ok = src.z.Score(m); !ok {
					return true
				}
			}
			score = aggregateScore(score, v*src.weight, agg)
		}
		if cardOnly {
			card++
			return limit == 0 || card < limit
		}
		res = append(res, scored{m, score})
		return true
	})
	sortScored(res)
	return res, card
}

// zdiff keeps the members of the first source found in no other one, with
// their scores (no weights), already in (score, member) order.
func zdiff(srcs []opSource) []scored {
	first := srcs[0]
	if first.len() == 0 {
		return nil
	}
	for _, src := range srcs[1:] {
		if src.z == first.z { // the same key again removes everything
			return nil
		}
	}
	var res []scored
	first.z.Members(func(m string, s float64) bool {
		for _, src := range srcs[1:] {
			if src.z != nil {
				if _, ok := src.z.Score(m); ok {
					return true
				}
			}
		}
		res = append(res, scored{m, s})
		return true
	})
	return res
}

// aggregateScore is zunionInterAggregate.
func aggregateScore(target, val float64, agg aggregate) float64 {
	switch agg {
	case aggMin:
		if val < target {
			return val
		}
		return target
	case aggMax:
		if val > target {
			return val
		}
		return target
	}
	if sum := target + val; sum == sum {
		return sum
	}
	return 0 // inf + -inf
}

// sortScored orders res as a sorted set: by score (-0 equal to +0), then
// member bytes.
func sortScored(res []scored) {
	slices.SortFunc(res, func(a, b scored) int {
		if a.score != b.score {
			if a.score < b.score {
				return -1
			}
			return 1
		}
		return strings.Compare(a.member, b.member)
	})
}

// writeScored replies members, with their scores when withScores: a flat
// array in RESP2, an array of [member, score] pairs in RESP3.
func writeScored(c *Ctx, res []scored, withScores bool) {
	nested := withScores && c.W.Proto() > 2
	if withScores && !nested {
		c.W.Array(2 * len(res))
	} else {
		c.W.Array(len(res))
	}
	for _, r := range res {
		if nested {
			c.W.Array(2)
		}
		c.W.BulkString(r.member)
		if withScores {
			c.W.Double(r.score)
		}
	}
}

// numKeysPositions finds the keys of a command whose source keys follow a
// count at args[numIdx], after a destination key at args[1] when dst, as
// Redis 7.0's COMMAND GETKEYS does: from the key specs when the count is a
// strict integer from 1 to the number of arguments left (destination
// first), else from the command's getkeys procedure, which reads the count
// with C's atoi and puts the destination last ("ZUNIONSTORE d +2 a b" gives
// a, b, d); a count out of that range there too gives no keys.
func numKeysPositions(args [][]byte, numIdx int, dst bool) []int {
	if numIdx >= len(args) {
		return nil
	}
	first := numIdx + 1
	avail := int64(len(args) - first)
	if n, ok := parseInt(args[numIdx]); ok && n >= 1 && n <= avail {
		out := make([]int, 0, n+1)
		if dst {
			out = append(out, 1)
		}
		for i := range int(n) {
			out = append(out, first+i)
		}
		return out
	}
	n := int64(atoi(args[numIdx]))
	if n < 1 || n > avail {
		return nil
	}
	out := make([]int, 0, n+1)
	for i := range int(n) {
		out = append(out, first+i)
	}
	if dst {
		out = append(out, 1)
	}
	return out
}

// atoi is C's atoi as glibc implements it ((int)strtol(s, NULL, 10)):
// leading white space, an optional sign and the digits that follow; the
// rest is ignored, no digits is 0, and a value beyond a long saturates
// before being truncated to 32 bits.
func atoi(b []byte) int32 {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	var v uint64
	over := false
	for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
		d := uint64(b[i] - '0')
		if v > (math.MaxUint64-d)/10 {
			over = true
			continue
		}
		v = v*10 + d
	}
	var l int64
	switch {
	case !neg && (over || v > math.MaxInt64):
		l = math.MaxInt64
	case neg && (over || v > 1<<63):
		l = math.MinInt64
	case neg:
		l = -int64(v)
	default:
		l = int64(v)
	}
	return int32(l)
}

func zmpopKeys(args [][]byte) []int       { return numKeysPositions(args, 1, false) }
func bzmpopKeys(args [][]byte) []int      { return numKeysPositions(args, 2, false) }
func zsetOpKeys(args [][]byte) []int      { return numKeysPositions(args, 1, false) }
func zsetOpStoreKeys(args [][]byte) []int { return numKeysPositions(args, 2, true) }

var zsetOpsCommands = []*Spec{
	{Name: "zpopmin", KeySpecs: []KeySpec{ksRange("RW access delete", 1, 0, 1, 0)}, Arity: -2, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "5.0.0", Summary: "Remove and return members with the lowest scores in a sorted set",
		Complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.", Handler: cmdZPopMin},
	{Name: "zpopmax", KeySpecs: []KeySpec{ksRange("RW access delete", 1, 0, 1, 0)}, Arity: -2, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "5.0.0", Summary: "Remove and return members with the highest scores in a sorted set",
		Complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.", Handler: cmdZPopMax},
	{Name: "zmpop", KeySpecs: []KeySpec{ksKeyNum("RW access delete", 1, 0, 1, 1)}, Arity: -4, Flags: Write, KeysFunc: zmpopKeys, ACL: CatSortedSet,
		Group: "sorted-set", Since: "7.0.0", Summary: "Remove and return members with scores in a sorted set",
		Complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", Handler: cmdZMPop},
	{Name: "bzpopmin", KeySpecs: []KeySpec{ksRange("RW access delete", 1, -2, 1, 0)}, Arity: -3, Flags: Write | NoScript | Blocking | Fast, FirstKey: 1, LastKey: -2, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "5.0.0", Summary: "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available",
		Complexity: "O(log(N)) with N being the number of elements in the sorted set.", Handler: cmdBZPopMin},
	{Name: "bzpopmax", KeySpecs: []KeySpec{ksRange("RW access delete", 1, -2, 1, 0)}, Arity: -3, Flags: Write | NoScript | Blocking | Fast, FirstKey: 1, LastKey: -2, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "5.0.0", Summary: "Remove and return the member with the highest score from one or more sorted sets, or block until one is available",
		Complexity: "O(log(N)) with N being the number of elements in the sorted set.", Handler: cmdBZPopMax},
	{Name: "bzmpop", KeySpecs: []KeySpec{ksKeyNum("RW access delete", 2, 0, 1, 1)}, Arity: -5, Flags: Write | Blocking, KeysFunc: bzmpopKeys, ACL: CatSortedSet,
		Group: "sorted-set", Since: "7.0.0", Summary: "Remove and return members with scores in a sorted set or block until one is available",
		Complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", Handler: cmdBZMPop},
	{Name: "zunion", KeySpecs: []KeySpec{ksKeyNum("RO access", 1, 0, 1, 1)}, Arity: -3, Flags: ReadOnly, KeysFunc: zsetOpKeys, ACL: CatSortedSet,
		Group: "sorted-set", Since: "6.2.0", Summary: "Add multiple sorted sets",
		Complexity: "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.", Handler: cmdZUnion},
	{Name: "zinter", KeySpecs: []KeySpec{ksKeyNum("RO access", 1, 0, 1, 1)}, Arity: -3, Flags: ReadOnly, KeysFunc: zsetOpKeys, ACL: CatSortedSet,
		Group: "sorted-set", Since: "6.2.0", Summary: "Intersect multiple sorted sets",
		Complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.", Handler: cmdZInter},
	{Name: "zdiff", KeySpecs: []KeySpec{ksKeyNum("RO access", 1, 0, 1, 1)}, Arity: -3, Flags: ReadOnly, KeysFunc: zsetOpKeys, ACL: CatSortedSet,
		Group: "sorted-set", Since: "6.2.0", Summary: "Subtract multiple sorted sets",
		Complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.", Handler: cmdZDiff},
	{Name: "zintercard", KeySpecs: []KeySpec{ksKeyNum("RO access", 1, 0, 1, 1)}, Arity: -3, Flags: ReadOnly, KeysFunc: zsetOpKeys, ACL: CatSortedSet,
		Group: "sorted-set", Since: "7.0.0", Summary: "Intersect multiple sorted sets and return the cardinality of the result",
		Complexity: "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.", Handler: cmdZInterCard},
	{Name: "zunionstore", KeySpecs: []KeySpec{
		ksRange("OW update", 1, 0, 1, 0),
		ksKeyNum("RO access", 2, 0, 1, 1),
	}, Arity: -4, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, KeysFunc: zsetOpStoreKeys, ACL: CatSortedSet,
		Group: "sorted-set", Since: "2.0.0", Summary: "Add multiple sorted sets and store the resulting sorted set in a new key",
		Complexity: "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.", Handler: cmdZUnionStore},
	{Name: "zinterstore", KeySpecs: []KeySpec{
		ksRange("OW update", 1, 0, 1, 0),
		ksKeyNum("RO access", 2, 0, 1, 1),
	}, Arity: -4, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, KeysFunc: zsetOpStoreKeys, ACL: CatSortedSet,
		Group: "sorted-set", Since: "2.0.0", Summary: "Intersect multiple sorted sets and store the resulting sorted set in a new key",
		Complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.", Handler: cmdZInterStore},
	{Name: "zdiffstore", KeySpecs: []KeySpec{
		ksRange("OW update", 1, 0, 1, 0),
		ksKeyNum("RO access", 2, 0, 1, 1),
	}, Arity: -4, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, KeysFunc: zsetOpStoreKeys, ACL: CatSortedSet,
		Group: "sorted-set", Since: "6.2.0", Summary: "Subtract multiple sorted sets and store the resulting sorted set in a new key",
		Complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.", Handler: cmdZDiffStore},
}
