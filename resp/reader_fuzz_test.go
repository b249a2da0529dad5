package resp

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// FuzzReader feeds arbitrary bytes to the reader, whole, one byte per Read
// and in input-derived random chunks. With the default limits the result
// must equal rdModel's (a literal port of Redis's parser run over the whole
// input); with small limits the reader must stay within them and return a
// prefix of the model's commands.
func FuzzReader(f *testing.F) {
	for _, c := range rdAllCases(f) {
		if len(c.in) <= 4096 {
			f.Add([]byte(c.in))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h := fnv.New64a()
		h.Write(data)
		seed := h.Sum64()

		// Past 64 KiB, when a line is declared too long depends on how the
		// bytes were split into reads, in Redis too.
		if len(data) <= rdInlineMax {
			want, wantErr := rdModel(data, rdDefaultMaxBulkLen)
			for _, m := range rdFuzzModes(data, seed) {
				r := NewReader(m.rd, Limits{}, nil)
				got, err := rdFuzzRead(t, r, data, 0)
				if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) || !rdSameErr(err, wantErr) {
					t.Fatalf("%s: reader gave %q, %v\nmodel gave %q, %v", m.name, got, err, want, wantErr)
				}
			}
		}

		const maxBulk, maxQuery = 16, 256
		want, wantErr := rdModel(data, maxBulk)
		for _, m := range rdFuzzModes(data, seed) {
			r := NewReader(m.rd, Limits{MaxBulkLen: maxBulk, MaxQueryBuffer: maxQuery}, nil)
			got, err := rdFuzzRead(t, r, data, maxQuery)
			if len(got) > len(want) || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want[:len(got)]) {
				t.Fatalf("%s: reader gave %q\nmodel gave %q", m.name, got, want)
			}
			if err != ErrQueryBufferLimit && (len(got) != len(want) || !rdSameErr(err, wantErr)) {
				t.Fatalf("%s: reader gave %q, %v\nmodel gave %q, %v", m.name, got, err, want, wantErr)
			}
		}
	})
}

type rdFuzzMode struct {
	name string
	rd   io.Reader
}

func rdFuzzModes(data []byte, seed uint64) []rdFuzzMode {
	rng := rand.New(rand.NewPCG(seed, 7))
	sizes := make([]int, 1+rng.IntN(8))
	for i := range sizes {
		sizes[i] = 1 + rng.IntN(40)
	}
	return []rdFuzzMode{
		{"whole", &rdChunkReader{data: data, sizes: []int{math.MaxInt}}},
		{"one byte", &rdChunkReader{data: data, sizes: []int{1}}},
		{fmt.Sprintf("chunks %v", sizes), &rdChunkReader{data: data, sizes: sizes}},
	}
}

// rdFuzzRead reads to the first error, checking after every call that each
// command has arguments, that calls make progress and, when maxQuery > 0,
// that memory stays within it.
func rdFuzzRead(t *testing.T, r *Reader, data []byte, maxQuery int) ([][]string, error) {
	var cmds [][]string
	for calls := 0; ; calls++ {
		if calls > len(data)/2+2 {
			t.Fatalf("%d commands from %d bytes", calls, len(data))
		}
		args, err := r.ReadCommand()
		if maxQuery > 0 {
			if cap(r.buf) > maxQuery+rdChunk {
				t.Fatalf("buffer of %d bytes with a %d-byte limit", cap(r.buf), maxQuery)
			}
			if cap(r.args) > maxQuery {
				t.Fatalf("args slice of %d with a %d-byte limit", cap(r.args), maxQuery)
			}
		}
		if err != nil {
			var pe *ProtocolError
			if err != io.EOF && err != io.ErrUnexpectedEOF && err != ErrQueryBufferLimit && !errors.As(err, &pe) {
				t.Fatalf("unexpected error %v", err)
			}
			if _, again := r.ReadCommand(); again != err {
				t.Fatalf("error %v is not sticky: %v", err, again)
			}
			return cmds, err
		}
		if len(args) == 0 {
			t.Fatal("command without arguments")
		}
		cmd := make([]string, len(args))
		for i, a := range args {
			cmd[i] = string(a)
		}
		cmds = append(cmds, cmd)
	}
}

func rdSameErr(a, b error) bool {
	var pa, pb *ProtocolError
	if errors.As(a, &pa) && errors.As(b, &pb) {
		return pa.Msg == pb.Msg
	}
	return a == b
}

// rdModel runs Redis 7.0's processInputBuffer over the whole input at once.
// It is an independent, deliberately literal port of networking.c and
// sds.c: a NUL-terminated query buffer searched with strchr.
func rdModel(in []byte, maxBulk int64) ([][]string, error) {
	q := append(append([]byte(nil), in...), 0) // sds strings end in a NUL
	qlen := len(in)
	strchr := func(from int, c byte) int {
		for i := from; ; i++ {
			if q[i] == c {
				return i
			}
			if q[i] == 0 {
				return -1
			}
		}
	}
	// string2ll accepts exactly the canonical decimal form of an int64.
	string2ll := func(b []byte) (int64, bool) {
		v, err := strconv.ParseInt(string(b), 10, 64)
		return v, err == nil && strconv.FormatInt(v, 10) == string(b)
	}
	perr := func(msg string) error { return &ProtocolError{Msg: msg} }
	var cmds [][]string
	qb := 0
	for qb < qlen {
		if q[qb] != '*' { // processInlineBuffer
			newline := strchr(qb, '\n')
			if newline < 0 {
				if qlen-qb > 64*1024 {
					return cmds, perr("Protocol error: too big inline request")
				}
				return cmds, io.ErrUnexpectedEOF
			}
			linefeed := 1
			if newline != qb && q[newline-1] == '\r' {
				newline--
				linefeed++
			}
			argv, ok := rdModelSplitArgs(q[qb:newline])
			if !ok {
				return cmds, perr("Protocol error: unbalanced quotes in request")
			}
			qb = newline + linefeed
			if len(argv) > 0 {
				cmds = append(cmds, argv)
			}
			continue
		}
		// processMultibulkBuffer
		newline := strchr(qb, '\r')
		if newline < 0 {
			if qlen-qb > 64*1024 {
				return cmds, perr("Protocol error: too big mbulk count string")
			}
			return cmds, io.ErrUnexpectedEOF
		}
		if newline-qb > qlen-qb-2 {
			return cmds, io.ErrUnexpectedEOF
		}
		ll, ok := string2ll(q[qb+1 : newline])
		if !ok || ll > math.MaxInt32 {
			return cmds, perr("Protocol error: invalid multibulk length")
		}
		qb = newline + 2
		if ll <= 0 {
			continue
		}
		var argv []string
		for multibulklen := ll; multibulklen > 0; multibulklen-- {
			newline := strchr(qb, '\r')
			if newline < 0 {
				if qlen-qb > 64*1024 {
					return cmds, perr("Protocol error: too big bulk count string")
				}
				return cmds, io.ErrUnexpectedEOF
			}
			if newline-qb > qlen-qb-2 {
				return cmds, io.ErrUnexpectedEOF
			}
			if q[qb] != '$' {
				msg := []byte("Protocol error: expected '$', got '" + string(q[qb:qb+1]) + "'")
				for i, c := range msg { // sdsmapchars(s, "\r\n", "  ", 2)
					if c == '\r' || c == '\n' {
						msg[i] = ' '
					}
				}
				return cmds, perr(string(msg))
			}
			ll, ok := string2ll(q[qb+1 : newline])
			if !ok || ll < 0 || ll > maxBulk {
				return cmds, perr("Protocol error: invalid bulk length")
			}
			qb = newline + 2
			if int64(qlen-qb) < ll+2 {
				return cmds, io.ErrUnexpectedEOF
			}
			argv = append(argv, string(q[qb:qb+int(ll)]))
			qb += int(ll) + 2
		}
		cmds = append(cmds, argv)
	}
	return cmds, io.EOF
}

// rdModelSplitArgs is sdssplitargs, pointer for pointer.
func rdModelSplitArgs(line []byte) ([]string, bool) {
	p := append(append([]byte(nil), line...), 0)
	isspace := func(c byte) bool {
		return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
	}
	isHexDigit := func(c byte) bool {
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
	}
	vector := []string{}
	i := 0
	for {
		for p[i] != 0 && isspace(p[i]) {
			i++
		}
		if p[i] == 0 {
			return vector, true
		}
		inq, insq, done := false, false, false
		current := []byte{}
		for !done {
			switch {
			case inq:
				if p[i] == '\\' && p[i+1] == 'x' && isHexDigit(p[i+2]) && isHexDigit(p[i+3]) {
					b, _ := strconv.ParseUint(string(p[i+2:i+4]), 16, 8)
					current = append(current, byte(b))
					i += 3
				} else if p[i] == '\\' && p[i+1] != 0 {
					i++
					c := p[i]
					switch c {
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
					current = append(current, c)
				} else if p[i] == '"' {
					if p[i+1] != 0 && !isspace(p[i+1]) {
						return nil, false
					}
					done = true
				} else if p[i] == 0 {
					return nil, false
				} else {
					current = append(current, p[i])
				}
			case insq:
				if p[i] == '\\' && p[i+1] == '\'' {
					i++
					current = append(current, '\'')
				} else if p[i] == '\'' {
					if p[i+1] != 0 && !isspace(p[i+1]) {
						return nil, false
					}
					done = true
				} else if p[i] == 0 {
					return nil, false
				} else {
					current = append(current, p[i])
				}
			default:
				switch p[i] {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					current = append(current, p[i])
				}
			}
			if p[i] != 0 {
				i++
			}
		}
		vector = append(vector, string(current))
	}
}

// TestReaderModelAgreesWithTables keeps the fuzz oracle honest: it must give
// the tables' answers too (it is checked against the real server through
// them).
func TestReaderModelAgreesWithTables(t *testing.T) {
	n := 0
	for _, c := range rdAllCases(t) {
		t.Run(c.name, func(t *testing.T) {
			n++
			got, err := rdModel([]byte(c.in), rdDefaultMaxBulkLen)
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", c.want) {
				t.Errorf("model commands %q, want %q", got, c.want)
			}
			var want error = io.EOF
			switch c.err {
			case "":
			case rdIncomplete:
				want = io.ErrUnexpectedEOF
			default:
				want = &ProtocolError{c.err}
			}
			if !rdSameErr(err, want) {
				t.Errorf("model end %v, want %v", err, want)
			}
		})
	}
	if n < 80 {
		t.Fatalf("only %d cases", n)
	}
}
