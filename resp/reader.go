package resp

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strconv"
)

// Limits bound what one client may send. Zero values mean the Redis defaults;
// negative values are treated as zero.
//
// MaxQueryBuffer is compared, after every read as Redis does, with the bytes
// buffered from the first byte of the pending command on (its headers and the
// arguments collected so far, which stay in the buffer, plus any pipelined
// bytes read after it) and 24 bytes per collected argument (its slice
// header), so that a command of millions of tiny arguments is bounded too.
// Redis 7.0 counts only its query buffer, which no longer holds the collected
// arguments, so for multi-argument commands this limit is slightly stricter.
// MaxBulkLen values above 1<<62 are treated as 1<<62.
type Limits struct {
	MaxBulkLen     int64 // proto-max-bulk-len, default 512 MiB
	MaxQueryBuffer int64 // client-query-buffer-limit, default 1 GiB: bytes of one pending command (buffered + collected args)
}

// ProtocolError is a malformed request. Msg is Redis's text without the "-ERR " prefix,
// e.g. "Protocol error: invalid multibulk length". After a ProtocolError the server replies
// "-ERR <Msg>\r\n" and closes the connection, as Redis does.
type ProtocolError struct{ Msg string }

// Error returns Msg.
func (e *ProtocolError) Error() string { return e.Msg }

// ErrQueryBufferLimit: the pending command exceeded MaxQueryBuffer; the server closes the
// connection without a reply (Redis logs "closing client that reached max query buffer length").
var ErrQueryBufferLimit = errors.New("closing client that reached max query buffer length")

const (
	rdDefaultMaxBulkLen     = 512 << 20 // proto-max-bulk-len
	rdDefaultMaxQueryBuffer = 1 << 30   // client-query-buffer-limit

	// rdChunk is PROTO_IOBUF_LEN: the initial buffer size and the usual size
	// of one Read.
	rdChunk = 16 << 10
	// rdInlineMax is PROTO_INLINE_MAX_SIZE: an inline line, a "*<count>"
	// line or a "$<len>" line with no terminator among this many buffered
	// bytes is a protocol error.
	rdInlineMax = 64 << 10
	// rdMinRead is the least free space a Read is given; below it the buffer
	// is compacted or grown first.
	rdMinRead = 4 << 10
	// rdShrinkAbove: a buffer larger than this is reallocated smaller once
	// the bytes pending in it drop below a quarter of it.
	rdShrinkAbove = 1 << 20
	// rdMaxKeptArgs: an args slice with more capacity is dropped when the
	// next command starts instead of being kept for reuse.
	rdMaxKeptArgs = 1 << 16
	// rdArgCost is what one collected argument costs besides its bytes (its
	// slice header); it counts against MaxQueryBuffer.
	rdArgCost = 3 * strconv.IntSize / 8
	// rdMaxEmptyReads consecutive (0, nil) reads give io.ErrNoProgress.
	rdMaxEmptyReads = 100
)

// Protocol error texts of Redis 7.0 (networking.c), without "-ERR ".
const (
	rdErrTooBigMbulk    = "Protocol error: too big mbulk count string"
	rdErrMbulkLen       = "Protocol error: invalid multibulk length"
	rdErrTooBigBulk     = "Protocol error: too big bulk count string"
	rdErrBulkLen        = "Protocol error: invalid bulk length"
	rdErrTooBigInline   = "Protocol error: too big inline request"
	rdErrUnbalanced     = "Protocol error: unbalanced quotes in request"
	rdErrExpectedDollar = "Protocol error: expected '$', got '"
	rdErrUnauthMbulk    = "Protocol error: unauthenticated multibulk length"
	rdErrUnauthBulk     = "Protocol error: unauthenticated bulk length"
)

// Limits for clients that have not authenticated while the server requires
// it (Redis processMultibulkBuffer): larger requests are protocol errors, so
// nothing bigger is ever buffered for such a client.
const (
	rdUnauthMaxArgs = 10
	rdUnauthMaxBulk = 16384
)

var rdErrBadReadCount = errors.New("resp: reader returned an invalid byte count")

// Reader parses client requests (RESP multibulk and inline commands) the way
// Redis 7.0's processMultibulkBuffer and processInlineBuffer do, with their
// exact limits and error texts.
//
// Buffering invariants:
//   - buf is the only data buffer and len(buf) == cap(buf). buf[start:w] are
//     the bytes read but not yet returned: the pending command, whose first
//     pos-start bytes are parsed already, and whatever follows it.
//   - Memory grows only with bytes that arrived: a declared bulk or element
//     count reserves nothing. The buffer at most doubles at a time and never
//     exceeds MaxQueryBuffer plus one 16 KiB read chunk.
//   - While a multibulk command is incomplete its collected args are slices
//     of buf; they are rebased whenever buf is compacted or reallocated.
//   - Commands are returned with args that alias buf (capacity clipped to
//     their length) and stay valid until the next ReadCommand call.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	rd          io.Reader
	beforeBlock func() error
	// unauthenticated, if set, reports whether the unauthenticated limits
	// apply; it is consulted only for counts above those limits.
	unauthenticated func() bool
	maxBulk         int64
	maxQuery        int64
	maxCap          int // largest buffer: MaxQueryBuffer plus one read chunk

	buf   []byte
	start int // first byte of the pending command
	pos   int // parse position, start <= pos <= w
	w     int // end of the buffered bytes

	mbulk int   // arguments the multibulk command in progress still expects; 0 = none in progress
	bulk  int64 // length of the bulk argument being read; -1 = its "$" line comes next
	args  [][]byte

	// Terminator scan of the line starting at scanAt (-1 = none), so that a
	// line arriving in many small reads is scanned once: bytes scanAt..scanned
	// hold no terminator, and scanNul records a NUL before any terminator
	// (Redis's strchr stops there, so the line never ends).
	scanAt  int
	scanned int
	scanNul bool

	err        error // sticky: a protocol, limit or read error already returned
	rerr       error // read error to return once the buffered bytes are used up
	emptyReads int
}

// NewReader reads requests from rd. beforeBlock (may be nil) is called every time the reader is
// about to block in rd.Read because the buffered bytes hold no complete command; the server
// passes its flush function so that all replies of one pipeline go out in one write. If
// beforeBlock returns an error, ReadCommand returns it.
func NewReader(rd io.Reader, lim Limits, beforeBlock func() error) *Reader {
	r := &Reader{rd: rd, beforeBlock: beforeBlock, bulk: -1, scanAt: -1}
	r.maxBulk = lim.MaxBulkLen
	if r.maxBulk <= 0 {
		r.maxBulk = rdDefaultMaxBulkLen
	}
	r.maxBulk = min(r.maxBulk, 1<<62) // keeps bulk+2 and offset sums from overflowing
	r.maxQuery = lim.MaxQueryBuffer
	if r.maxQuery <= 0 {
		r.maxQuery = rdDefaultMaxQueryBuffer
	}
	if r.maxQuery > math.MaxInt-rdChunk {
		r.maxQuery = math.MaxInt - rdChunk
	}
	r.maxCap = int(r.maxQuery) + rdChunk
	return r
}

// ReadCommand returns the next command's arguments (multibulk or inline). An empty inline line is
// skipped (Redis ignores it). The returned slices alias the reader's buffer and are valid only
// until the next call to ReadCommand; callers copy what they keep.
//
// A command always has at least one argument. Errors: a *ProtocolError (reply
// "-ERR "+Msg, then close), ErrQueryBufferLimit (close without a reply), the
// error of beforeBlock (not sticky: a later call retries), or the error of
// the underlying reader once the commands read before it are returned; io.EOF
// becomes io.ErrUnexpectedEOF when part of a command is buffered. Every error
// but beforeBlock's is returned again by all later calls.
//
// beforeBlock is called right before each Read, never while a complete
// command is buffered, and not when a read error is pending.
func (r *Reader) ReadCommand() ([][]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.mbulk == 0 {
		// The last command's args are dead now; do not count or keep them.
		if cap(r.args) > rdMaxKeptArgs {
			r.args = nil
		}
		r.args = r.args[:0]
	}
	for {
		done, err := r.parse()
		if err != nil {
			r.err = err
			return nil, err
		}
		if done {
			return r.args, nil
		}
		if r.rerr != nil {
			err := r.rerr
			if err == io.EOF && r.w > r.start {
				err = io.ErrUnexpectedEOF
			}
			r.err = err
			return nil, err
		}
		if r.beforeBlock != nil {
			if err := r.beforeBlock(); err != nil {
				return nil, err
			}
		}
		if err := r.fill(); err != nil {
			r.err = err
			return nil, err
		}
	}
}

// parse advances through the buffered bytes. It reports true when r.args
// holds a complete command, false when more bytes are needed.
func (r *Reader) parse() (bool, error) {
	for {
		if r.mbulk > 0 {
			return r.parseBulks()
		}
		if r.pos == r.w {
			return false, nil
		}
		// A new command: Redis picks the request type from its first byte.
		if r.buf[r.pos] != '*' {
			ok, err := r.parseInline()
			if !ok || err != nil {
				return false, err
			}
			if len(r.args) == 0 {
				continue // empty or blank line: skipped
			}
			return true, nil
		}
		nl, n := r.fastHeader('*')
		if nl < 0 {
			nl = r.findTerm('\r')
			if nl < 0 {
				if r.w-r.pos > rdInlineMax {
					return false, &ProtocolError{rdErrTooBigMbulk}
				}
				return false, nil
			}
			if nl > r.w-2 { // the byte after '\r' has not arrived
				return false, nil
			}
			var ok bool
			if n, ok = rdParseInt(r.buf[r.pos+1 : nl]); !ok {
				return false, &ProtocolError{rdErrMbulkLen}
			}
		} else if nl > r.w-2 {
			return false, nil
		}
		if n > math.MaxInt32 {
			return false, &ProtocolError{rdErrMbulkLen}
		}
		if n > rdUnauthMaxArgs && r.unauthenticated != nil && r.unauthenticated() {
			return false, &ProtocolError{rdErrUnauthMbulk}
		}
		r.pos = nl + 2 // Redis skips the byte after '\r' whatever it is
		if n <= 0 {
			r.start = r.pos // "*0", "*-1": no command
			continue
		}
		r.mbulk = int(n)
		r.bulk = -1
		r.args = r.args[:0]
	}
}

// parseBulks reads the arguments of the multibulk command in progress.
func (r *Reader) parseBulks() (bool, error) {
	buf, w := r.buf, r.w
	for r.mbulk > 0 {
		if r.bulk < 0 {
			nl, n := r.fastHeader('$')
			if nl < 0 {
				nl = r.findTerm('\r')
				if nl < 0 {
					if w-r.pos > rdInlineMax {
						return false, &ProtocolError{rdErrTooBigBulk}
					}
					return false, nil
				}
				if nl > w-2 {
					return false, nil
				}
				if c := buf[r.pos]; c != '$' {
					// addReplyErrorFormat("...got '%c'") maps '\r' and '\n' to ' '.
					if c == '\r' || c == '\n' {
						c = ' '
					}
					return false, &ProtocolError{rdErrExpectedDollar + string([]byte{c}) + "'"} // the raw byte, not UTF-8
				}
				var ok bool
				if n, ok = rdParseInt(buf[r.pos+1 : nl]); !ok || n < 0 {
					return false, &ProtocolError{rdErrBulkLen}
				}
			} else if nl > w-2 {
				return false, nil
			}
			if n > r.maxBulk {
				return false, &ProtocolError{rdErrBulkLen}
			}
			if n > rdUnauthMaxBulk && r.unauthenticated != nil && r.unauthenticated() {
				return false, &ProtocolError{rdErrUnauthBulk}
			}
			r.pos = nl + 2
			r.bulk = n
		}
		pos := r.pos
		if int64(w-pos) < r.bulk+2 {
			return false, nil
		}
		end := pos + int(r.bulk)
		r.args = append(r.args, buf[pos:end])
		r.pos = end + 2 // Redis does not check that these two bytes are "\r\n"
		r.bulk = -1
		r.mbulk--
	}
	r.start = r.pos
	for i, a := range r.args {
		r.args[i] = a[:len(a):len(a)] // an append by the caller must not clobber buf
	}
	return true, nil
}

// fastHeader parses the common header line at r.pos: the byte c, then a
// number string2ll accepts and that has no more than 18 digits ("0", or a
// digit 1-9 and digits), then '\r'. It returns the index of the '\r' and
// the number, or -1 when the general path must decide.
func (r *Reader) fastHeader(c byte) (int, int64) {
	pos := r.pos
	if r.w-pos < 3 || r.buf[pos] != c {
		return -1, 0
	}
	b := r.buf[pos+1 : r.w]
	d := b[0]
	if d == '0' {
		if b[1] == '\r' {
			return pos + 2, 0
		}
		return -1, 0
	}
	if d < '1' || d > '9' {
		return -1, 0
	}
	v := int64(d - '0')
	for i := 1; i < len(b) && i <= 18; i++ {
		d = b[i]
		if d == '\r' {
			return pos + 1 + i, v
		}
		if d < '0' || d > '9' {
			break
		}
		v = v*10 + int64(d-'0')
	}
	return -1, 0
}

// parseInline parses one inline line if it is complete. On success r.args
// holds its arguments (possibly none).
func (r *Reader) parseInline() (bool, error) {
	nl := r.findTerm('\n')
	if nl < 0 {
		if r.w-r.pos > rdInlineMax {
			return false, &ProtocolError{rdErrTooBigInline}
		}
		return false, nil
	}
	end := nl
	if end > r.pos && r.buf[end-1] == '\r' {
		end--
	}
	r.args = r.args[:0]
	if !r.splitInline(r.buf[r.pos:end]) {
		return false, &ProtocolError{rdErrUnbalanced}
	}
	r.pos = nl + 1
	r.start = r.pos
	return true, nil
}

// splitInline splits line like sdssplitargs and appends the arguments to
// r.args. Quoted arguments are unescaped in place (the output never outruns
// the input), so every argument is a slice of line. line holds no NUL byte
// (findTerm does not end a line past one). It reports false on unbalanced
// quotes.
func (r *Reader) splitInline(line []byte) bool {
	n := len(line)
	i := 0
	for {
		for i < n && rdIsSpace(line[i]) {
			i++
		}
		if i == n {
			return true
		}
		tok, out := i, i
		inq, insq := false, false
	token:
		for {
			switch {
			case inq:
				if i == n {
					return false // unterminated quotes
				}
				c := line[i]
				switch {
				case c == '\\' && i+3 < n && line[i+1] == 'x' && rdIsHex(line[i+2]) && rdIsHex(line[i+3]):
					line[out] = rdHexVal(line[i+2])<<4 | rdHexVal(line[i+3])
					out++
					i += 4
				case c == '\\' && i+1 < n:
					i++
					switch c = line[i]; c {
					case 'n':
						c = '\n'
					case 'r':
						c = '\r'
					case 't':
						c = '\t'
					case 'b':
						c = '\b'
					case 'a':
						c = '\a'
					}
					line[out] = c
					out++
					i++
				case c == '"':
					// A closing quote must be followed by a space or nothing at all.
					if i+1 < n && !rdIsSpace(line[i+1]) {
						return false
					}
					i++
					break token
				default:
					line[out] = c
					out++
					i++
				}
			case insq:
				if i == n {
					return false
				}
				c := line[i]
				switch {
				case c == '\\' && i+1 < n && line[i+1] == '\'':
					line[out] = '\''
					out++
					i += 2
				case c == '\'':
					if i+1 < n && !rdIsSpace(line[i+1]) {
						return false
					}
					i++
					break token
				default:
					line[out] = c
					out++
					i++
				}
			default:
				if i == n {
					break token
				}
				switch c := line[i]; c {
				case ' ', '\n', '\r', '\t': // not '\v' or '\f': those stay in the token
					i++
					break token
				case '"':
					inq = true
					i++
				case '\'':
					insq = true
					i++
				default:
					line[out] = c
					out++
					i++
				}
			}
		}
		r.args = append(r.args, line[tok:out:out])
	}
}

// findTerm returns the index of the first term byte at or after r.pos, or -1
// if there is none yet. Like Redis's strchr on the NUL-terminated query
// buffer, it finds nothing if a NUL byte comes first.
func (r *Reader) findTerm(term byte) int {
	b := r.buf[r.pos:r.w]
	// Fast path: headers are a few bytes long.
	m := min(len(b), 32)
	for i := 0; i < m; i++ {
		switch b[i] {
		case term:
			return r.pos + i
		case 0:
			return -1
		}
	}
	if len(b) <= 32 {
		return -1
	}
	if r.scanAt != r.pos {
		r.scanAt, r.scanned, r.scanNul = r.pos, r.pos+32, false
	}
	if r.scanNul {
		return -1
	}
	rest := r.buf[r.scanned:r.w]
	i := bytes.IndexByte(rest, term)
	head := rest
	if i >= 0 {
		head = rest[:i]
	}
	if bytes.IndexByte(head, 0) >= 0 {
		r.scanNul = true
		return -1
	}
	if i < 0 {
		r.scanned = r.w
		return -1
	}
	return r.scanned + i
}

// fill reads more bytes, first making room for them. It returns an error
// only for MaxQueryBuffer; read errors are kept in r.rerr.
func (r *Reader) fill() error {
	pending := r.w - r.start
	if pending == 0 {
		r.start, r.pos, r.w = 0, 0, 0
		r.scanAt = -1
	}
	if r.buf == nil {
		r.buf = make([]byte, rdChunk)
	}
	if len(r.buf) > rdShrinkAbove && pending <= len(r.buf)/4 {
		r.move(make([]byte, max(rdChunk, 2*pending)))
	}
	if len(r.buf)-r.w < rdMinRead {
		if r.start > 0 {
			r.move(r.buf)
		}
		if len(r.buf)-r.w < rdMinRead {
			r.grow()
		}
	}
	// Read one chunk, or what is missing of a bulk argument being read if
	// that is more (Redis reads big arguments the same way).
	want := int64(rdChunk)
	if r.mbulk > 0 && r.bulk >= 0 {
		want = max(want, int64(r.pos-r.w)+r.bulk+2)
	}
	end := len(r.buf)
	if want < int64(end-r.w) {
		end = r.w + int(want)
	}
	n, err := r.rd.Read(r.buf[r.w:end])
	if n < 0 || n > end-r.w {
		n, err = 0, rdErrBadReadCount
	}
	r.w += n
	if err != nil {
		r.rerr = err
	} else if n == 0 {
		if r.emptyReads++; r.emptyReads >= rdMaxEmptyReads {
			r.rerr = io.ErrNoProgress
		}
	} else {
		r.emptyReads = 0
	}
	if int64(r.w-r.start)+int64(len(r.args))*rdArgCost > r.maxQuery {
		return ErrQueryBufferLimit
	}
	return nil
}

// grow moves the pending bytes to a larger buffer: twice the current size,
// or less when the bulk being read needs less, but always enough for one more
// read, and never above maxCap.
func (r *Reader) grow() {
	pending := r.w - r.start
	size := 2 * len(r.buf)
	if r.mbulk > 0 && r.bulk >= 0 {
		if need := int64(r.pos-r.start) + r.bulk + 2; need < int64(size) {
			size = int(need)
		}
	}
	size = min(max(size, pending+rdMinRead), r.maxCap)
	r.move(make([]byte, size))
}

// move copies the pending bytes to the front of nb (which may be r.buf) and
// makes nb the buffer, rebasing every offset and collected argument.
func (r *Reader) move(nb []byte) {
	old := r.buf
	delta := r.start
	n := copy(nb, old[r.start:r.w])
	if r.mbulk == 0 {
		r.args = r.args[:0] // those of the last returned command: no longer valid
	}
	for i, a := range r.args {
		// a == old[off:off+len(a)] with its capacity reaching the end of old.
		off := len(old) - cap(a) - delta
		r.args[i] = nb[off : off+len(a)]
	}
	if len(nb) > 0 && len(old) > 0 && &nb[0] != &old[0] {
		clear(r.args[len(r.args):cap(r.args)]) // do not pin the old buffer
	}
	r.buf = nb
	r.start = 0
	r.pos -= delta
	r.w = n
	if r.scanAt >= 0 {
		r.scanAt -= delta
		r.scanned -= delta
	}
}

// rdParseInt is Redis's string2ll: optional '-', no leading zeros, no '+',
// no spaces, fewer than 21 bytes, within int64.
func rdParseInt(b []byte) (int64, bool) {
	n := len(b)
	if n == 0 || n >= 21 {
		return 0, false
	}
	if n == 1 && b[0] == '0' {
		return 0, true
	}
	i, neg := 0, false
	if b[0] == '-' {
		if n == 1 {
			return 0, false
		}
		neg, i = true, 1
	}
	if b[i] < '1' || b[i] > '9' {
		return 0, false
	}
	v := uint64(b[i] - '0')
	for i++; i < n; i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > math.MaxUint64/10 {
			return 0, false
		}
		v *= 10
		d := uint64(c - '0')
		if v > math.MaxUint64-d {
			return 0, false
		}
		v += d
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true // v == 1<<63 wraps to math.MinInt64, as intended
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// rdIsSpace is C isspace in the C locale.
func rdIsSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

func rdIsHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func rdHexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
