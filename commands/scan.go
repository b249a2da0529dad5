package commands

import (
	"math"
	"strconv"
	"strings"
	"unsafe"

	"cairn/store"
)

// KEYS and SCAN. Cairn's keyspace is an ordered btree, so both seek to the
// literal prefix of a MATCH pattern (globPrefix) and stop after it, instead
// of walking every key.
//
// SCAN differs from Redis by design (the README lists this):
//   - A cursor is a position: the cursor table (cursors.go) maps it to "resume
//     strictly after this key". Keys come back in key order, each at most once
//     per iteration, and every key present for the whole iteration is returned.
//     Cursor values are opaque random numbers, not Redis's reverse-binary
//     bucket indexes.
//   - COUNT bounds the work of one call: it returns at most COUNT keys that
//     match MATCH and TYPE, and examines at most scanWorkFactor*COUNT keys of
//     the prefix range, so a rare pattern cannot make one call walk the whole
//     keyspace (a call may then return fewer keys, even none, with a non-zero
//     cursor, as Redis may).
//   - The cursor is 0 as soon as the walk reaches the end of the range, so the
//     last page is not followed by an empty one.
//   - A well-formed cursor that this server did not issue for this database
//     (or that was evicted from the table) is "ERR invalid cursor"; Redis
//     would resume from the bucket that number names.

// scanWorkFactor bounds how many keys one SCAN call examines, as a multiple
// of COUNT (Redis's dictScan examines at most 10*COUNT buckets).
const scanWorkFactor = 10

// scanDefaultCount is Redis's default COUNT.
const scanDefaultCount = 10

// scanQuery is one walk of the ordered keyspace (a SCAN call, or KEYS).
type scanQuery struct {
	pat        []byte // MATCH pattern; used when usePattern
	usePattern bool
	typ        []byte // TYPE name, compared case-insensitively; used when useType
	useType    bool
	count      int64  // return at most count keys
	budget     int64  // examine at most budget keys
	after      string // resume strictly after this key, when resume
	resume     bool
}

// scanResult is what a walk found.
type scanResult struct {
	keys    []string
	last    string // the last key examined: the next walk resumes after it
	walked  int64  // keys examined
	stopped bool   // the walk stopped at count or budget with keys left in range
}

// scanWalk examines live keys in order, from the MATCH pattern's literal
// prefix (or after q.after, whichever is later) to the end of that prefix's
// range (just the one key when the pattern has no wildcard), collecting
// those that match, until count keys matched or budget keys were examined.
// Expired keys are skipped without being counted.
func scanWalk(tx *store.Tx, q scanQuery) scanResult {
	var prefix string
	literal := false // the pattern matches only the key equal to prefix
	if q.usePattern {
		prefix = string(globPrefix(q.pat))
		literal = globLiteral(q.pat)
	}
	from := prefix
	if q.resume && q.after > prefix {
		from = q.after
	}
	var r scanResult
	tx.Ascend([]byte(from), func(e *store.Entry) bool {
		k := e.Key()
		if q.resume && k == q.after {
			return true
		}
		if !strings.HasPrefix(k, prefix) || (literal && k != prefix) {
			return false
		}
		if int64(len(r.keys)) >= q.count || r.walked >= q.budget {
			r.stopped = true
			return false
		}
		r.walked++
		r.last = k
		if q.usePattern && !globMatch(q.pat, stringBytes(k), false) {
			return true
		}
		if q.useType && !eqFold(q.typ, e.Type.String()) {
			return true
		}
		r.keys = append(r.keys, k)
		return true
	})
	return r
}

// globLiteral reports whether pattern has no wildcard, so that it matches
// exactly its globPrefix. A trailing lone backslash counts as a wildcard
// (globPrefix drops it).
func globLiteral(pattern []byte) bool {
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '*', '?', '[':
			return false
		case '\\':
			if i+1 == len(pattern) {
				return false
			}
			i++
		}
	}
	return true
}

func cmdKeys(c *Ctx) {
	pat := c.Args[1]
	r := scanWalk(c.Tx, scanQuery{
		pat: pat, usePattern: !(len(pat) == 1 && pat[0] == '*'),
		count: math.MaxInt64, budget: math.MaxInt64,
	})
	c.W.Array(len(r.keys))
	for _, k := range r.keys {
		c.W.BulkString(k)
	}
}

// cmdScan is SCAN cursor [MATCH pattern] [COUNT count] [TYPE type], with
// Redis 7.0's checks in its order (db.c scanCommand, scanGenericCommand):
// the cursor, then the options left to right.
func cmdScan(c *Ctx) {
	cursor, ok := parseScanCursor(c.Args[1])
	if !ok {
		c.W.Error(errInvalidCursor)
		return
	}
	q, msg := parseScanOptions(c.Args[2:], true)
	if msg != "" {
		c.W.Error(msg)
		return
	}
	db := c.Tx.DB()
	if cursor != 0 {
		p, ok := c.Srv.cursors.lookup(cursor, db)
		if !ok {
			c.W.Error(errInvalidCursor)
			return
		}
		q.after, q.resume = p.after, true
	}
	q.budget = math.MaxInt64
	if q.count <= math.MaxInt64/scanWorkFactor {
		q.budget = q.count * scanWorkFactor
	}
	r := scanWalk(c.Tx, q)
	var next uint64
	if r.stopped {
		next = c.Srv.cursors.issue(cursorPos{db: db, after: r.last})
	}
	c.W.Array(2)
	c.W.BulkString(strconv.FormatUint(next, 10))
	c.W.Array(len(r.keys))
	for _, k := range r.keys {
		c.W.BulkString(k)
	}
}

// parseScanOptions parses [MATCH pattern] [COUNT count] [TYPE type] left
// to right as Redis's scanGenericCommand (TYPE only for SCAN), returning the
// error text of the first bad option.
func parseScanOptions(args [][]byte, allowType bool) (q scanQuery, msg string) {
	q.count = scanDefaultCount
	for i := 0; i < len(args); i += 2 {
		more := len(args) - i
		switch opt := args[i]; {
		case eqFold(opt, "count") && more >= 2:
			n, ok := parseInt(args[i+1])
			if !ok {
				return q, errNotInt
			}
			if n < 1 {
				return q, errSyntax
			}
			q.count = n
		case eqFold(opt, "match") && more >= 2:
			q.pat = args[i+1]
			q.usePattern = !(len(q.pat) == 1 && q.pat[0] == '*')
		case allowType && eqFold(opt, "type") && more >= 2:
			// Redis 7.0 accepts any name and compares it case-insensitively
			// with the key's type name: an unknown name matches nothing.
			q.typ = args[i+1]
			q.useType = true
		default:
			return q, errSyntax
		}
	}
	return q, ""
}

// parseScanCursor parses a cursor as Redis's parseScanCursorOrReply: C
// strtoul in base 10 on the argument read as a C string (up to a NUL
// byte), rejecting a leading space, trailing garbage and overflow. As
// strtoul, it accepts a sign ("-1" is 2^64-1) and an empty string (0).
func parseScanCursor(b []byte) (uint64, bool) {
	if len(b) > 0 && isSpace(b[0]) {
		return 0, false
	}
	for i, ch := range b {
		if ch == 0 {
			b = b[:i]
			break
		}
	}
	if len(b) == 0 {
		return 0, true
	}
	i, neg := 0, false
	if b[0] == '+' || b[0] == '-' {
		neg = b[0] == '-'
		i = 1
	}
	if i == len(b) { // no digits: strtoul consumes nothing
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		ch := b[i]
		if ch < '0' || ch > '9' {
			return 0, false
		}
		d := uint64(ch - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false // ERANGE
		}
		v = v*10 + d
	}
	if neg {
		v = -v
	}
	return v, true
}

// stringBytes views s as bytes without copying, for read-only matching.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
