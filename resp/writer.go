package resp

import (
	"math"
	"strconv"

	"github.com/tidwall/redcon"
)

// Writer encodes replies for one connection. Handlers call semantic methods
// (Null, Double, Map, Set, Bool ...) and the Writer picks the RESP2 or RESP3
// encoding from the connection's protocol. Replies accumulate in an internal
// buffer that the connection flushes once per pipeline.
//
// A Writer is owned by its connection's goroutine; it is not safe for
// concurrent use.
type Writer struct {
	buf   []byte
	proto int // 2 or 3
}

// NewWriter returns a Writer speaking RESP2.
func NewWriter() *Writer { return &Writer{proto: 2} }

// Proto is the protocol version replies are encoded in: 2 or 3.
func (w *Writer) Proto() int { return w.proto }

// SetProto switches the encoding of later replies (HELLO).
func (w *Writer) SetProto(p int) { w.proto = p }

// Buffered returns the encoded bytes not yet flushed. The slice is valid
// until the next write to w.
func (w *Writer) Buffered() []byte { return w.buf }

// Len is the number of buffered bytes.
func (w *Writer) Len() int { return len(w.buf) }

// Reset drops the buffered bytes, keeping the capacity.
func (w *Writer) Reset() { w.buf = w.buf[:0] }

// Truncate drops the bytes buffered after offset n (from an earlier Len).
func (w *Writer) Truncate(n int) { w.buf = w.buf[:n] }

// Raw appends already encoded bytes.
func (w *Writer) Raw(b []byte) { w.buf = append(w.buf, b...) }

// OK writes +OK.
func (w *Writer) OK() { w.buf = redcon.AppendOK(w.buf) }

// Simple writes a simple string (+s). s must not contain CR or LF.
func (w *Writer) Simple(s string) { w.buf = redcon.AppendString(w.buf, s) }

// Error writes an error reply. msg is the whole text after '-', starting with
// its code, e.g. "ERR syntax error" or "WRONGTYPE Operation ...".
func (w *Writer) Error(msg string) { w.buf = redcon.AppendError(w.buf, msg) }

// Int writes an integer reply.
func (w *Writer) Int(n int64) { w.buf = redcon.AppendInt(w.buf, n) }

// Bulk writes a bulk string.
func (w *Writer) Bulk(b []byte) { w.buf = redcon.AppendBulk(w.buf, b) }

// BulkString writes a bulk string.
func (w *Writer) BulkString(s string) { w.buf = redcon.AppendBulkString(w.buf, s) }

// BulkInt writes n as a bulk string of its decimal form.
func (w *Writer) BulkInt(n int64) {
	var tmp [24]byte
	w.buf = redcon.AppendBulk(w.buf, strconv.AppendInt(tmp[:0], n, 10))
}

// Null writes the null bulk string (RESP2 $-1) or the RESP3 null.
func (w *Writer) Null() {
	if w.proto == 3 {
		w.buf = append(w.buf, "_\r\n"...)
		return
	}
	w.buf = append(w.buf, "$-1\r\n"...)
}

// NullArray writes the null array (RESP2 *-1) or the RESP3 null.
func (w *Writer) NullArray() {
	if w.proto == 3 {
		w.buf = append(w.buf, "_\r\n"...)
		return
	}
	w.buf = append(w.buf, "*-1\r\n"...)
}

// Array starts an array of n elements; the caller writes them next.
func (w *Writer) Array(n int) { w.buf = redcon.AppendArray(w.buf, n) }

// Map starts a map of n key/value pairs: RESP3 %n, RESP2 a flat array of 2n.
func (w *Writer) Map(n int) {
	if w.proto == 3 {
		w.buf = appendHeader(w.buf, '%', n)
		return
	}
	w.buf = redcon.AppendArray(w.buf, 2*n)
}

// Set starts a set of n elements: RESP3 ~n, RESP2 an array.
func (w *Writer) Set(n int) {
	if w.proto == 3 {
		w.buf = appendHeader(w.buf, '~', n)
		return
	}
	w.buf = redcon.AppendArray(w.buf, n)
}

// Push starts an out-of-band push of n elements: RESP3 >n, RESP2 an array.
func (w *Writer) Push(n int) {
	if w.proto == 3 {
		w.buf = appendHeader(w.buf, '>', n)
		return
	}
	w.buf = redcon.AppendArray(w.buf, n)
}

// Bool writes a boolean: RESP3 #t/#f, RESP2 :1/:0.
func (w *Writer) Bool(b bool) {
	switch {
	case w.proto == 3 && b:
		w.buf = append(w.buf, "#t\r\n"...)
	case w.proto == 3:
		w.buf = append(w.buf, "#f\r\n"...)
	case b:
		w.buf = append(w.buf, ":1\r\n"...)
	default:
		w.buf = append(w.buf, ":0\r\n"...)
	}
}

// Double writes a floating point reply as Redis 7.0's addReplyDouble: RESP3
// ",<%.17g>", RESP2 a bulk string of the same text; infinities are "inf" and
// "-inf".
func (w *Writer) Double(f float64) {
	var tmp [32]byte
	text := AppendDouble(tmp[:0], f)
	if w.proto == 3 {
		w.buf = append(w.buf, ',')
		w.buf = append(w.buf, text...)
		w.buf = append(w.buf, '\r', '\n')
		return
	}
	w.buf = redcon.AppendBulk(w.buf, text)
}

// Verbatim writes a verbatim string (RESP3 "=len\r\ntxt:..."), or a bulk
// string in RESP2. format is the 3-letter type, e.g. "txt".
func (w *Writer) Verbatim(format, s string) {
	if w.proto != 3 {
		w.buf = redcon.AppendBulkString(w.buf, s)
		return
	}
	w.buf = appendHeader(w.buf, '=', len(s)+4)
	w.buf = append(w.buf, format...)
	w.buf = append(w.buf, ':')
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '\r', '\n')
}

// AppendDouble appends f as C's printf("%.17g") prints it, which is how
// Redis 7.0 formats double replies, with "inf" and "-inf" for infinities.
func AppendDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	}
	// %g with precision 17: exponent form when exp < -4 or exp >= 17;
	// trailing zeros removed. Go's 'g' with precision 17 matches except that
	// Go writes at least two exponent digits ("1e+20"), like C.
	return strconv.AppendFloat(dst, f, 'g', 17, 64)
}

func appendHeader(b []byte, c byte, n int) []byte {
	b = append(b, c)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}
