package resp

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
)

// Value is one decoded reply, RESP2 or RESP3. Kind is the reply's type byte.
//
//   - '+' simple string, '-' error, ',' double, '(' big number: Str holds the
//     line's text. Doubles and big numbers are checked, not converted.
//   - '$' bulk string, '!' blob error: Str holds the bytes; a null bulk
//     ("$-1") has Null set and Str nil.
//   - '=' verbatim string: Str holds the whole payload, format included
//     ("txt:hello").
//   - ':' integer: Int. '#' boolean: Int is 1 for true, 0 for false.
//   - '*' array, '~' set, '>' push: Array holds the elements; a null array
//     ("*-1") has Null set. '%' map: Array holds key, value, key, value ...
//   - '_' RESP3 null: Null set.
//
// Attributes ('|') are read and dropped: the reply they annotate is
// returned. Streamed strings and aggregates ("$?", "*?"), which Redis never
// sends, are rejected as malformed.
type Value struct {
	Kind  byte
	Str   []byte
	Int   int64
	Array []Value
	Null  bool
}

// ReplyError is an error reply ('-' or '!'). Text is the whole text after
// the type byte, starting with its code ("ERR syntax error").
type ReplyError struct{ Text string }

// Error returns Text.
func (e *ReplyError) Error() string { return e.Text }

// Err returns a *ReplyError for an error reply ('-' or '!') and nil for any
// other kind.
func (v Value) Err() error {
	if v.Kind == '-' || v.Kind == '!' {
		return &ReplyError{Text: string(v.Str)}
	}
	return nil
}

// ErrMalformedReply is wrapped by every error that reports bytes that are
// not a valid reply or exceed the reader's limits.
var ErrMalformedReply = errors.New("resp: malformed reply")

// AppendCommand appends args as a RESP multibulk request to dst.
func AppendCommand(dst []byte, args ...[]byte) []byte {
	dst = appendHeader(dst, '*', len(args))
	for _, a := range args {
		dst = appendHeader(dst, '$', len(a))
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

const (
	// DefaultMaxReplyBulk is the bulk limit NewReplyReader uses for a
	// maxBulk <= 0, and the one ParseReply uses: Redis's proto-max-bulk-len.
	DefaultMaxReplyBulk = 512 << 20

	// rrMaxLine bounds a line (a simple string, an error, a number or a
	// header), so the buffer never grows past it plus one read chunk.
	rrMaxLine = 1 << 20
	// rrMaxDepth is how many aggregates may enclose one another.
	rrMaxDepth = 32
	// rrMaxCount bounds an aggregate's declared element count, as Redis
	// bounds a request's multibulk count.
	rrMaxCount = math.MaxInt32
	// rrPrealloc and rrPreallocElems cap the bytes and elements reserved
	// from a declared length or count before they arrive; beyond them memory
	// grows with the data.
	rrPrealloc      = 64 << 10
	rrPreallocElems = 1 << 10
	// rrChunk is the initial buffer size and rrMinRead the least free space
	// a Read is given.
	rrChunk   = 16 << 10
	rrMinRead = 4 << 10
	// rrMaxEmptyReads consecutive (0, nil) reads give io.ErrNoProgress.
	rrMaxEmptyReads = 100
)

// ReplyReader decodes replies from a stream. It reads ahead into one
// buffer; bulk payloads bigger than the buffer are read straight into their
// destination. Memory is bounded: a bulk payload by maxBulk, a line by
// 1 MiB, nesting by 32 aggregates, and what a declared length or count
// reserves before its data arrives by a fixed cap.
//
// After an error (malformed bytes or a read error) the stream position is
// lost: every later call returns the same error. A ReplyReader is not safe
// for concurrent use.
type ReplyReader struct {
	rd      io.Reader // nil when decoding a fixed slice (ParseReply)
	maxBulk int64

	buf  []byte // buf[r:w] are read and not yet consumed
	r, w int

	capture bool   // ReadRaw in progress: consumed bytes are appended to raw
	raw     []byte // ReadRaw's destination

	err        error // sticky
	rerr       error // read error to report once the buffered bytes are used
	emptyReads int
}

// NewReplyReader reads replies from rd, rejecting bulk payloads longer than
// maxBulk bytes (DefaultMaxReplyBulk if maxBulk <= 0).
func NewReplyReader(rd io.Reader, maxBulk int64) *ReplyReader {
	if maxBulk <= 0 {
		maxBulk = DefaultMaxReplyBulk
	}
	return &ReplyReader{rd: rd, maxBulk: min(maxBulk, 1<<62)}
}

// Read decodes the next reply. The Value owns its memory. It returns io.EOF
// if the stream ends between replies and io.ErrUnexpectedEOF if it ends
// inside one; malformed bytes give an error wrapping ErrMalformedReply.
func (r *ReplyReader) Read() (Value, error) {
	if err := r.begin(); err != nil {
		return Value{}, err
	}
	v, err := r.value(0)
	return v, r.end(err)
}

// ReadRaw appends the exact bytes of the next reply (any attributes before
// it included) to dst and returns the extended slice, after checking them as
// Read does. On error it returns dst unchanged.
func (r *ReplyReader) ReadRaw(dst []byte) ([]byte, error) {
	if err := r.begin(); err != nil {
		return dst, err
	}
	r.capture, r.raw = true, dst
	_, err := r.value(0)
	out := r.raw
	r.capture, r.raw = false, nil
	if err = r.end(err); err != nil {
		return dst, err
	}
	return out, nil
}

// ParseReply decodes the reply at the start of b and reports how many bytes
// it took. The Value does not alias b. An empty or incomplete b gives
// io.ErrUnexpectedEOF; malformed bytes an error wrapping ErrMalformedReply.
// The limits are those of a ReplyReader with DefaultMaxReplyBulk.
func ParseReply(b []byte) (v Value, n int, err error) {
	r := ReplyReader{maxBulk: DefaultMaxReplyBulk, buf: b, w: len(b)}
	v, err = r.value(0)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Value{}, 0, err
	}
	return v, r.r, nil
}

// begin returns the sticky error, or io.EOF if the stream ends cleanly
// before the next reply.
func (r *ReplyReader) begin() error {
	if r.err != nil {
		return r.err
	}
	if r.r == r.w {
		if err := r.fill(); err != nil {
			r.err = err
			return err
		}
	}
	return nil
}

// end makes err sticky; io.EOF inside a reply becomes io.ErrUnexpectedEOF.
func (r *ReplyReader) end(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		r.err = err
	}
	return err
}

func rrMalformed(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformedReply}, a...)...)
}

// value decodes one reply; depth is the number of aggregates around it.
// While capturing it builds no Value.
func (r *ReplyReader) value(depth int) (Value, error) {
	line, err := r.line()
	if err != nil {
		return Value{}, err
	}
	// line stays valid until the next fill, which only bulk and aggregate
	// can cause, after their last use of text.
	r.consume(len(line) + 2)
	kind, text := line[0], line[1:]
	v := Value{Kind: kind}
	switch kind {
	case '+', '-':
		if !r.capture {
			v.Str = slices.Clone(text)
		}
	case ':':
		n, ok := rdParseInt(text)
		if !ok {
			return Value{}, rrMalformed("invalid integer %q", text)
		}
		v.Int = n
	case ',':
		if _, err := strconv.ParseFloat(string(text), 64); err != nil && !errors.Is(err, strconv.ErrRange) {
			return Value{}, rrMalformed("invalid double %q", text)
		}
		if !r.capture {
			v.Str = slices.Clone(text)
		}
	case '(':
		if !rrIsBigNumber(text) {
			return Value{}, rrMalformed("invalid big number %q", text)
		}
		if !r.capture {
			v.Str = slices.Clone(text)
		}
	case '#':
		switch string(text) {
		case "t":
			v.Int = 1
		case "f":
		default:
			return Value{}, rrMalformed("invalid boolean %q", text)
		}
	case '_':
		if len(text) != 0 {
			return Value{}, rrMalformed("invalid null %q", text)
		}
		v.Null = true
	case '$', '!', '=':
		return r.bulk(v, text)
	case '*', '~', '>', '%', '|':
		return r.aggregate(v, text, depth)
	default:
		return Value{}, rrMalformed("unknown reply type %q", kind)
	}
	return v, nil
}

// bulk decodes a bulk-like reply whose header line text follows the type
// byte.
func (r *ReplyReader) bulk(v Value, text []byte) (Value, error) {
	n, ok := rdParseInt(text)
	if ok && n == -1 && v.Kind == '$' {
		v.Null = true
		return v, nil
	}
	if !ok || n < 0 {
		return Value{}, rrMalformed("invalid bulk length %q", text)
	}
	if n > r.maxBulk {
		return Value{}, rrMalformed("bulk length %d above the limit %d", n, r.maxBulk)
	}
	if v.Kind == '=' && n < 4 {
		return Value{}, rrMalformed("verbatim string of %d bytes", n)
	}
	start := len(r.raw)
	var err error
	if v.Str, err = r.payload(n); err != nil {
		return Value{}, err
	}
	if v.Kind == '=' {
		p := v.Str
		if r.capture {
			p = r.raw[start:]
		}
		if p[3] != ':' {
			return Value{}, rrMalformed("verbatim string without a format")
		}
	}
	return v, nil
}

// aggregate decodes an aggregate whose header line text follows the type
// byte. An attribute is decoded and dropped, and the reply after it is
// returned in its place.
func (r *ReplyReader) aggregate(v Value, text []byte, depth int) (Value, error) {
	n, ok := rdParseInt(text)
	if ok && n == -1 && v.Kind == '*' {
		v.Null = true
		return v, nil
	}
	if !ok || n < 0 || n > rrMaxCount {
		return Value{}, rrMalformed("invalid aggregate length %q", text)
	}
	if depth >= rrMaxDepth {
		return Value{}, rrMalformed("replies nested deeper than %d", rrMaxDepth)
	}
	if v.Kind == '%' || v.Kind == '|' {
		n *= 2
	}
	if !r.capture {
		v.Array = make([]Value, 0, min(n, rrPreallocElems))
	}
	for range n {
		e, err := r.value(depth + 1)
		if err != nil {
			return Value{}, err
		}
		if !r.capture {
			v.Array = append(v.Array, e)
		}
	}
	if v.Kind == '|' {
		return r.value(depth + 1) // counted as a level, so attributes cannot chain unboundedly
	}
	return v, nil
}

// line returns the next line, type byte first, without its CRLF. It is not
// consumed; the slice is valid until the next fill.
func (r *ReplyReader) line() ([]byte, error) {
	scanned := 0 // bytes after r.r known to hold no '\n'
	for {
		for i := r.r + scanned; i < r.w; i++ {
			if r.buf[i] != '\n' {
				continue
			}
			if i == r.r || r.buf[i-1] != '\r' {
				return nil, rrMalformed("line not ended by CRLF")
			}
			if i-1 == r.r {
				return nil, rrMalformed("empty line")
			}
			if i-r.r > rrMaxLine+2 {
				return nil, rrMalformed("line longer than %d bytes", rrMaxLine)
			}
			return r.buf[r.r : i-1], nil
		}
		scanned = r.w - r.r
		if scanned > rrMaxLine+2 {
			return nil, rrMalformed("line longer than %d bytes", rrMaxLine)
		}
		if err := r.fill(); err != nil {
			return nil, err
		}
	}
}

// consume drops k buffered bytes, capturing them if ReadRaw is running.
func (r *ReplyReader) consume(k int) {
	if r.capture {
		r.raw = append(r.raw, r.buf[r.r:r.r+k]...)
	}
	r.r += k
}

// payload reads n bytes and the CRLF after them. It returns them in a new
// slice, or appends them to raw and returns nil while capturing. Memory
// grows with the bytes that arrive, not with n.
func (r *ReplyReader) payload(n int64) ([]byte, error) {
	var out []byte
	dst := &out
	if r.capture {
		dst = &r.raw
	}
	if !r.capture {
		out = make([]byte, 0, min(n, rrPrealloc))
	}
	for n > 0 {
		if r.r == r.w && n >= int64(len(r.buf)) && r.rd != nil && r.rerr == nil {
			// Nothing buffered and more missing than the buffer holds:
			// read straight into the destination.
			d := *dst
			d = slices.Grow(d, int(min(n, int64(max(len(d), rrPrealloc)))))
			k, err := r.readInto(d[len(d):cap(d)][:min(int64(cap(d)-len(d)), n)])
			*dst = d[:len(d)+k]
			n -= int64(k)
			if err != nil {
				return nil, err
			}
			continue
		}
		if r.r == r.w {
			if err := r.fill(); err != nil {
				return nil, err
			}
		}
		k := int(min(n, int64(r.w-r.r)))
		*dst = append(*dst, r.buf[r.r:r.r+k]...)
		r.r += k
		n -= int64(k)
	}
	for r.w-r.r < 2 {
		if err := r.fill(); err != nil {
			return nil, err
		}
	}
	if r.buf[r.r] != '\r' || r.buf[r.r+1] != '\n' {
		return nil, rrMalformed("bulk payload not followed by CRLF")
	}
	r.consume(2)
	if r.capture {
		return nil, nil
	}
	return out, nil
}

// readInto reads into p once (p is not empty). It returns a read error, or
// io.ErrNoProgress after too many empty reads.
func (r *ReplyReader) readInto(p []byte) (int, error) {
	n, err := r.rd.Read(p)
	if n < 0 || n > len(p) {
		return 0, rdErrBadReadCount
	}
	if n > 0 {
		r.emptyReads = 0
		return n, nil
	}
	if err == nil {
		if r.emptyReads++; r.emptyReads >= rrMaxEmptyReads {
			err = io.ErrNoProgress
		}
	}
	return 0, err
}

// fill reads more bytes into the buffer, compacting or growing it first
// when less than rrMinRead is free. A read error is returned once the bytes
// read before it are buffered; io.EOF is returned as is.
func (r *ReplyReader) fill() error {
	if r.rd == nil {
		return io.EOF
	}
	if r.rerr != nil {
		return r.rerr
	}
	if r.r == r.w {
		r.r, r.w = 0, 0
	}
	if r.buf == nil {
		r.buf = make([]byte, rrChunk)
	}
	if len(r.buf)-r.w < rrMinRead {
		nb := r.buf
		if r.w-r.r > len(r.buf)-rrMinRead {
			nb = make([]byte, 2*len(r.buf))
		}
		r.w = copy(nb, r.buf[r.r:r.w])
		r.r = 0
		r.buf = nb
	}
	n, err := r.readInto(r.buf[r.w:])
	r.w += n
	if n > 0 {
		r.rerr = err
		return nil
	}
	if err != nil {
		r.rerr = err
	}
	return err
}

// rrIsBigNumber reports whether b is an optional '-' and one or more digits.
func rrIsBigNumber(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
