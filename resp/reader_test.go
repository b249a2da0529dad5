package resp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// rdIncomplete as rdCase.err: the input ends inside a command. The reader
// returns io.ErrUnexpectedEOF; Redis sends nothing and waits for more.
const rdIncomplete = "(incomplete)"

// rdCase is one input and what reading it yields: the commands, then the
// end: io.EOF (err ""), io.ErrUnexpectedEOF (rdIncomplete) or a
// ProtocolError with Msg err. reader_redis_test.go replays every case against
// a real redis-server.
type rdCase struct {
	name string
	in   string
	want [][]string
	err  string
}

func rdRepeat(s string, n int) string { return strings.Repeat(s, n) }

// Valid requests: they end cleanly with io.EOF.
var rdValidCases = []rdCase{
	// Multibulk.
	{name: "multibulk ping", in: "*1\r\n$4\r\nPING\r\n", want: [][]string{{"PING"}}},
	{name: "multibulk echo", in: "*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n", want: [][]string{{"ECHO", "hello"}}},
	{name: "lower case name", in: "*2\r\n$4\r\necho\r\n$1\r\nx\r\n", want: [][]string{{"echo", "x"}}},
	{name: "set three args", in: "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", want: [][]string{{"SET", "k", "v"}}},
	{name: "empty bulk", in: "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", want: [][]string{{"ECHO", ""}}},
	{name: "binary bulk", in: "*2\r\n$4\r\nECHO\r\n$8\r\na\r\n\x00\xff\"b*\r\n", want: [][]string{{"ECHO", "a\r\n\x00\xff\"b*"}}},
	{name: "pipeline", in: "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$1\r\na\r\n*2\r\n$4\r\nECHO\r\n$2\r\nbb\r\n",
		want: [][]string{{"PING"}, {"ECHO", "a"}, {"ECHO", "bb"}}},
	{name: "count 0 is skipped", in: "*0\r\n*1\r\n$4\r\nPING\r\n", want: [][]string{{"PING"}}},
	{name: "count -1 is skipped", in: "*-1\r\nPING\r\n", want: [][]string{{"PING"}}},
	{name: "count -5 is skipped", in: "*-5\r\n*1\r\n$4\r\nPING\r\n", want: [][]string{{"PING"}}},
	{name: "count int64 min is skipped", in: "*-9223372036854775808\r\nPING\r\n", want: [][]string{{"PING"}}},
	{name: "bytes after a bulk are skipped unchecked", in: "*2\r\n$4\r\nECHO\r\n$1\r\naXY*1\r\n$4\r\nPINGZZ",
		want: [][]string{{"ECHO", "a"}, {"PING"}}},
	{name: "byte after header CR is skipped unchecked", in: "*2\rX$4\rYECHO\r\n$1\r\n1\r\n", want: [][]string{{"ECHO", "1"}}},
	{name: "multibulk then inline", in: "*1\r\n$4\r\nPING\r\nECHO x\r\n", want: [][]string{{"PING"}, {"ECHO", "x"}}},
	{name: "big bulk", in: "*2\r\n$4\r\nECHO\r\n$100000\r\n" + rdRepeat("v", 100000) + "\r\n",
		want: [][]string{{"ECHO", rdRepeat("v", 100000)}}},

	// Inline.
	{name: "inline ping", in: "PING\r\n", want: [][]string{{"PING"}}},
	{name: "inline LF only", in: "PING\nECHO a\n", want: [][]string{{"PING"}, {"ECHO", "a"}}},
	{name: "inline surrounding blanks", in: "  ECHO \t  x  \r\n", want: [][]string{{"ECHO", "x"}}},
	{name: "blank lines are skipped", in: "\r\n\n   \r\n\t\n\v\f\r\nPING\r\n", want: [][]string{{"PING"}}},
	{name: "inline CR CR LF", in: "ECHO x\r\r\n", want: [][]string{{"ECHO", "x"}}},
	{name: "inline three tokens", in: "PING a b\r\n", want: [][]string{{"PING", "a", "b"}}},
	{name: "double quotes keep spaces", in: "ECHO \"a b\"\r\n", want: [][]string{{"ECHO", "a b"}}},
	{name: "double quote escapes", in: `ECHO "\n\r\t\b\a\\\"\q"` + "\r\n", want: [][]string{{"ECHO", "\n\r\t\b\a\\\"q"}}},
	{name: "hex escapes", in: `ECHO "\x41\x4a\x4A\xff\x00z"` + "\r\n", want: [][]string{{"ECHO", "AJJ\xff\x00z"}}},
	{name: "hex escape needs two digits", in: `ECHO "\x4"` + "\r\n", want: [][]string{{"ECHO", "x4"}}},
	{name: "hex escape needs hex digits", in: `ECHO "\xZZ"` + "\r\n", want: [][]string{{"ECHO", "xZZ"}}},
	{name: "single quotes", in: `ECHO 'a\'b"c\n'` + "\r\n", want: [][]string{{"ECHO", `a'b"c\n`}}},
	{name: "quote opens mid token", in: "ECHO a\"b c\"\r\n", want: [][]string{{"ECHO", "ab c"}}},
	{name: "empty double quotes", in: "ECHO \"\"\r\n", want: [][]string{{"ECHO", ""}}},
	{name: "empty single quotes", in: "ECHO ''\r\n", want: [][]string{{"ECHO", ""}}},
	{name: "vertical tab stays in a token", in: "ECHO a\vb\r\n", want: [][]string{{"ECHO", "a\vb"}}},
	{name: "leading vtab and formfeed skipped", in: "\v\fECHO x\r\n", want: [][]string{{"ECHO", "x"}}},
	{name: "closing quote then vtab", in: "ECHO \"x\"\v\r\n", want: [][]string{{"ECHO", "x"}}},
	{name: "tab separates", in: "ECHO\tx\r\n", want: [][]string{{"ECHO", "x"}}},
	{name: "high bytes", in: "ECHO \xff\x80\r\n", want: [][]string{{"ECHO", "\xff\x80"}}},
	{name: "inline dollar line", in: "$3\r\n", want: [][]string{{"$3"}}},
	{name: "long inline line", in: "ECHO " + rdRepeat("A", 60000) + "\r\n",
		want: [][]string{{"ECHO", rdRepeat("A", 60000)}}},
}

// Inputs that end inside a command: Redis waits for more, sending nothing
// after the replies to the complete commands.
var rdIncompleteCases = []rdCase{
	{name: "partial multibulk", in: "*2\r\n$4\r\nECHO\r\n$3\r\nab", err: rdIncomplete},
	{name: "complete then partial", in: "PING\r\n*1\r\n$4\r\nPI", want: [][]string{{"PING"}}, err: rdIncomplete},
	{name: "count INT_MAX accepted", in: "*2147483647\r\n", err: rdIncomplete},
	{name: "bulk at proto-max-bulk-len accepted", in: "*1\r\n$536870912\r\n0123456789", err: rdIncomplete},
	{name: "header CR is the last byte", in: "*1\r", err: rdIncomplete},
	{name: "bulk header CR is the last byte", in: "*1\r\n$4\r", err: rdIncomplete},
	{name: "bulk without its CRLF", in: "*1\r\n$4\r\nPING", err: rdIncomplete},
	{name: "NUL in an inline line hides its newline", in: "PING\x00\r\nPING\r\n", err: rdIncomplete},
	{name: "NUL in the count line", in: "*1\x00\r\n$4\r\nPING\r\n", err: rdIncomplete},
	{name: "NUL where a bulk header starts", in: "*1\r\n\x00\r\n", err: rdIncomplete},
	{name: "NUL as first byte", in: "\x00PING\r\n", err: rdIncomplete},
	{name: "inline without newline", in: "ECHO x", err: rdIncomplete},
	{name: "unbalanced quote without newline", in: "ECHO \"a\\", err: rdIncomplete},
	{name: "inline 64KiB without newline", in: rdRepeat("A", 65536), err: rdIncomplete},
	{name: "count line 64KiB", in: "*" + rdRepeat("1", 65535), err: rdIncomplete},
	{name: "bulk header 64KiB", in: "*1\r\n$" + rdRepeat("1", 65535), err: rdIncomplete},
	{name: "NUL line exactly 64KiB", in: "PING\x00" + rdRepeat("A", 65536-5), err: rdIncomplete},
}

// Malformed requests: Redis replies "-ERR <err>" and closes.
var rdProtocolErrorCases = []rdCase{
	{name: "count not a number", in: "*x\r\n", err: "Protocol error: invalid multibulk length"},
	{name: "count empty", in: "*\r\n", err: "Protocol error: invalid multibulk length"},
	{name: "count above INT_MAX", in: "*2147483648\r\n", err: "Protocol error: invalid multibulk length"},
	{name: "count minus zero", in: "*-0\r\n", err: "Protocol error: invalid multibulk length"},
	{name: "count leading zero", in: "*01\r\n", err: "Protocol error: invalid multibulk length"},
	{name: "count plus sign", in: "*+1\r\n", err: "Protocol error: invalid multibulk length"},
	{name: "count trailing space", in: "*1 \r\n", err: "Protocol error: invalid multibulk length"},
	{name: "count below int64 min", in: "*-9223372036854775809\r\n", err: "Protocol error: invalid multibulk length"},
	{name: "count 21 digits", in: "*100000000000000000000\r\n", err: "Protocol error: invalid multibulk length"},
	{name: "expected dollar got X", in: "*1\r\nX\r\n", err: "Protocol error: expected '$', got 'X'"},
	{name: "expected dollar got CR", in: "*1\r\n\r\n", err: "Protocol error: expected '$', got ' '"},
	{name: "expected dollar got LF", in: "*1\r\n\n\r\n", err: "Protocol error: expected '$', got ' '"},
	{name: "expected dollar got 0xff", in: "*1\r\n\xff\r\n", err: "Protocol error: expected '$', got '\xff'"},
	{name: "expected dollar got star", in: "*2\r\n$4\r\nECHO\r\n*1\r\n", err: "Protocol error: expected '$', got '*'"},
	{name: "bulk length negative", in: "*1\r\n$-1\r\n", err: "Protocol error: invalid bulk length"},
	{name: "bulk length empty", in: "*1\r\n$\r\n", err: "Protocol error: invalid bulk length"},
	{name: "bulk length not a number", in: "*1\r\n$abc\r\n", err: "Protocol error: invalid bulk length"},
	{name: "bulk length leading zero", in: "*1\r\n$01\r\n", err: "Protocol error: invalid bulk length"},
	{name: "bulk length above proto-max-bulk-len", in: "*1\r\n$536870913\r\n", err: "Protocol error: invalid bulk length"},
	{name: "bulk length above int64", in: "*1\r\n$9223372036854775808\r\n", err: "Protocol error: invalid bulk length"},
	{name: "too big mbulk count string", in: "*" + rdRepeat("1", 65536), err: "Protocol error: too big mbulk count string"},
	{name: "too big bulk count string", in: "*1\r\n$" + rdRepeat("1", 65536), err: "Protocol error: too big bulk count string"},
	{name: "too big inline request", in: rdRepeat("A", 65537), err: "Protocol error: too big inline request"},
	{name: "NUL in inline line then 64KiB", in: "PING\x00" + rdRepeat("A", 65532) + "\r\n", err: "Protocol error: too big inline request"},
	{name: "NUL in count line then 64KiB", in: "*1\x00" + rdRepeat("\r\n", 32767), err: "Protocol error: too big mbulk count string"},
	{name: "NUL at bulk header then 64KiB", in: "*1\r\n\x00" + rdRepeat("\r\n", 32768), err: "Protocol error: too big bulk count string"},
	{name: "unbalanced double quote", in: "ECHO \"a\r\n", err: "Protocol error: unbalanced quotes in request"},
	{name: "unbalanced single quote", in: "ECHO 'a\r\n", err: "Protocol error: unbalanced quotes in request"},
	{name: "char after closing double quote", in: "ECHO \"a\"b\r\n", err: "Protocol error: unbalanced quotes in request"},
	{name: "char after closing single quote", in: "ECHO 'a'b\r\n", err: "Protocol error: unbalanced quotes in request"},
	{name: "backslash before end in quotes", in: "ECHO \"a\\\r\n", err: "Protocol error: unbalanced quotes in request"},
	{name: "error after a command", in: "PING\r\n*1\r\n$-1\r\n", want: [][]string{{"PING"}}, err: "Protocol error: invalid bulk length"},
}

// rdAllCases is every table; the counts guard against a table going missing.
func rdAllCases(t testing.TB) []rdCase {
	if len(rdValidCases) < 35 || len(rdIncompleteCases) < 15 || len(rdProtocolErrorCases) < 30 {
		t.Fatalf("case tables shrank: %d valid, %d incomplete, %d errors",
			len(rdValidCases), len(rdIncompleteCases), len(rdProtocolErrorCases))
	}
	all := append(append(append([]rdCase(nil), rdValidCases...), rdIncompleteCases...), rdProtocolErrorCases...)
	seen := map[string]bool{}
	for _, c := range all {
		if seen[c.name] {
			t.Fatalf("duplicate case name %q", c.name)
		}
		seen[c.name] = true
	}
	return all
}

// rdReadAll reads commands until an error, copying each.
func rdReadAll(r *Reader) (cmds [][]string, err error) {
	for {
		args, err := r.ReadCommand()
		if err != nil {
			return cmds, err
		}
		cmd := make([]string, len(args))
		for i, a := range args {
			cmd[i] = string(a)
		}
		cmds = append(cmds, cmd)
	}
}

// rdCheck compares what a reader produced with the case.
func rdCheck(t *testing.T, c rdCase, r *Reader, got [][]string, err error) {
	t.Helper()
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", c.want) {
		t.Errorf("commands:\n got %q\nwant %q", got, c.want)
	}
	switch c.err {
	case "":
		if err != io.EOF {
			t.Errorf("end: got %v, want io.EOF", err)
		}
	case rdIncomplete:
		if err != io.ErrUnexpectedEOF {
			t.Errorf("end: got %v, want io.ErrUnexpectedEOF", err)
		}
	default:
		var pe *ProtocolError
		if !errors.As(err, &pe) {
			t.Fatalf("end: got %v (%T), want ProtocolError %q", err, err, c.err)
		}
		if pe.Msg != c.err || pe.Error() != c.err {
			t.Errorf("ProtocolError: got %q, want %q", pe.Msg, c.err)
		}
		if _, again := r.ReadCommand(); again != err {
			t.Errorf("error is not sticky: second call got %v", again)
		}
	}
}

// rdChunkReader returns its data in chunks of the given sizes (cycled).
type rdChunkReader struct {
	data  []byte
	sizes []int
	i     int
}

func (cr *rdChunkReader) Read(p []byte) (int, error) {
	if len(cr.data) == 0 {
		return 0, io.EOF
	}
	n := min(cr.sizes[cr.i%len(cr.sizes)], len(p), len(cr.data))
	cr.i++
	copy(p, cr.data[:n])
	cr.data = cr.data[n:]
	return n, nil
}

func rdSeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("RESP_READER_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("random chunk seed %d (set RESP_READER_SEED to replay)", seed)
	return seed
}

// TestReaderCases runs every case with the input delivered whole, one byte per
// Read, in random chunks, with io.EOF on the last data Read, and (for inputs
// up to 2 KiB) split in two at every byte boundary.
func TestReaderCases(t *testing.T) {
	cases := rdAllCases(t)
	rng := rand.New(rand.NewPCG(rdSeed(t), 1))
	ran, splits := 0, 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ran++
			modes := []struct {
				name string
				rd   io.Reader
			}{
				{"whole", strings.NewReader(c.in)},
				{"one byte", iotest.OneByteReader(strings.NewReader(c.in))},
				{"data with EOF", iotest.DataErrReader(strings.NewReader(c.in))},
			}
			for i := 0; i < 3; i++ {
				sizes := make([]int, 16)
				for j := range sizes {
					sizes[j] = 1 + rng.IntN(1+rng.IntN(64))
				}
				modes = append(modes, struct {
					name string
					rd   io.Reader
				}{fmt.Sprintf("chunks %v", sizes), &rdChunkReader{data: []byte(c.in), sizes: sizes}})
			}
			for _, m := range modes {
				t.Run(m.name, func(t *testing.T) {
					r := NewReader(m.rd, Limits{}, nil)
					got, err := rdReadAll(r)
					rdCheck(t, c, r, got, err)
				})
			}
			if len(c.in) > 2048 {
				return
			}
			for k := 0; k <= len(c.in); k++ {
				splits++
				cr := &rdChunkReader{data: []byte(c.in), sizes: []int{k, len(c.in)}}
				if k == 0 {
					cr.sizes = []int{len(c.in)}
				}
				r := NewReader(cr, Limits{}, nil)
				got, err := rdReadAll(r)
				if rdCheck(t, c, r, got, err); t.Failed() {
					t.Fatalf("failed when split at byte %d", k)
				}
			}
		})
	}
	if ran != len(cases) || splits < 1000 {
		t.Fatalf("ran %d of %d cases, %d split points", ran, len(cases), splits)
	}
}

// TestReaderPipelineEveryBoundary feeds a mixed pipeline one byte at a time
// and split at every boundary, checking every command.
func TestReaderPipelineEveryBoundary(t *testing.T) {
	var in strings.Builder
	var want [][]string
	for _, c := range rdValidCases {
		if len(c.in) > 1024 || !strings.HasSuffix(c.in, "\n") {
			continue
		}
		in.WriteString(c.in)
		want = append(want, c.want...)
	}
	if len(want) < 30 {
		t.Fatalf("pipeline has only %d commands", len(want))
	}
	c := rdCase{name: "pipeline", in: in.String(), want: want}
	r := NewReader(iotest.OneByteReader(strings.NewReader(c.in)), Limits{}, nil)
	got, err := rdReadAll(r)
	rdCheck(t, c, r, got, err)
	for k := 1; k < len(c.in); k++ {
		r := NewReader(&rdChunkReader{data: []byte(c.in), sizes: []int{k, len(c.in)}}, Limits{}, nil)
		got, err := rdReadAll(r)
		if rdCheck(t, c, r, got, err); t.Failed() {
			t.Fatalf("failed when split at byte %d", k)
		}
	}
}

// rdTrackReader delivers data in fixed chunks and records the largest reader
// buffer seen at each Read relative to the bytes delivered before it.
type rdTrackReader struct {
	data      []byte
	chunk     int
	r         *Reader
	delivered int
	maxBuf    int
	check     func(bufCap, delivered int)
}

func (tr *rdTrackReader) Read(p []byte) (int, error) {
	if c := cap(tr.r.buf); c > tr.maxBuf {
		tr.maxBuf = c
	}
	if tr.check != nil {
		tr.check(cap(tr.r.buf), tr.delivered)
	}
	if len(tr.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), tr.chunk)], tr.data)
	tr.data = tr.data[n:]
	tr.delivered += n
	return n, nil
}

func TestReaderNoPreallocation(t *testing.T) {
	t.Run("huge bulk header", func(t *testing.T) {
		in := "*1\r\n$536870912\r\n0123456789"
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r := NewReader(strings.NewReader(in), Limits{}, nil)
		_, err := r.ReadCommand()
		runtime.ReadMemStats(&after)
		if err != io.ErrUnexpectedEOF {
			t.Fatalf("got %v, want io.ErrUnexpectedEOF", err)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 64<<10 {
			t.Errorf("allocated %d bytes for a 10-byte bulk", d)
		}
		if cap(r.buf) != rdChunk {
			t.Errorf("buffer is %d bytes, want %d", cap(r.buf), rdChunk)
		}
		allocs := testing.AllocsPerRun(20, func() {
			r := NewReader(strings.NewReader(in), Limits{}, nil)
			r.ReadCommand()
		})
		if allocs > 4 { // the Reader, its buffer, the strings.Reader
			t.Errorf("%v allocations per huge header", allocs)
		}
	})
	t.Run("huge element count", func(t *testing.T) {
		r := NewReader(strings.NewReader("*1000000\r\n"+rdRepeat("$1\r\na\r\n", 3)), Limits{}, nil)
		if _, err := r.ReadCommand(); err != io.ErrUnexpectedEOF {
			t.Fatalf("got %v, want io.ErrUnexpectedEOF", err)
		}
		if len(r.args) != 3 || cap(r.args) > 8 {
			t.Errorf("args len %d cap %d after 3 of 1000000 elements", len(r.args), cap(r.args))
		}
	})
	t.Run("buffer grows with the data", func(t *testing.T) {
		const n = 8 << 20
		in := "*2\r\n$4\r\nECHO\r\n$" + strconv.Itoa(n) + "\r\n" + rdRepeat("x", n) + "\r\n"
		tr := &rdTrackReader{data: []byte(in), chunk: 3000}
		tr.check = func(bufCap, delivered int) {
			if bufCap > 2*delivered+2*rdChunk {
				t.Fatalf("buffer %d bytes after only %d bytes arrived", bufCap, delivered)
			}
		}
		tr.r = NewReader(tr, Limits{}, nil)
		args, err := tr.r.ReadCommand()
		if err != nil || len(args) != 2 || len(args[1]) != n {
			t.Fatalf("got %d args, err %v", len(args), err)
		}
		// The last doubling stops at what the declared bulk needs.
		if tr.maxBuf > len(in)+rdMinRead {
			t.Errorf("buffer grew to %d for a %d-byte command", tr.maxBuf, len(in))
		}
	})
}

func TestReaderQueryBufferLimit(t *testing.T) {
	// One argument of n bytes: the command is 4+len("$n\r\n")+n+2 bytes.
	cmdOf := func(n int) string {
		return "*1\r\n$" + strconv.Itoa(n) + "\r\n" + rdRepeat("v", n) + "\r\n"
	}
	if len(cmdOf(1011)) != 1024 {
		t.Fatalf("test setup: %d", len(cmdOf(1011)))
	}
	lim := Limits{MaxQueryBuffer: 1024}
	for _, tc := range []struct {
		name string
		in   string
		err  error // after the first command
	}{
		{name: "exactly at the limit", in: cmdOf(1011), err: io.EOF},
		{name: "one byte over", in: cmdOf(1012), err: ErrQueryBufferLimit},
	} {
		for _, mode := range []string{"whole", "one byte"} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				var rd io.Reader = strings.NewReader(tc.in)
				if mode == "one byte" {
					rd = iotest.OneByteReader(rd)
				}
				r := NewReader(rd, lim, nil)
				got, err := rdReadAll(r)
				if err != tc.err {
					t.Fatalf("got %v, want %v", err, tc.err)
				}
				if tc.err == io.EOF && len(got) != 1 {
					t.Fatalf("got %d commands", len(got))
				}
				if _, again := r.ReadCommand(); again != err {
					t.Errorf("not sticky: %v", again)
				}
			})
		}
	}
	t.Run("memory stays bounded while streaming", func(t *testing.T) {
		const limit = 64 << 10
		tr := &rdTrackReader{data: []byte(cmdOf(1 << 20)), chunk: 1000}
		tr.r = NewReader(tr, Limits{MaxQueryBuffer: limit}, nil)
		if _, err := tr.r.ReadCommand(); err != ErrQueryBufferLimit {
			t.Fatalf("got %v, want ErrQueryBufferLimit", err)
		}
		if tr.maxBuf > limit+rdChunk || cap(tr.r.buf) > limit+rdChunk {
			t.Errorf("buffer reached %d bytes with a %d limit", max(tr.maxBuf, cap(tr.r.buf)), limit)
		}
		if tr.delivered > limit+rdChunk {
			t.Errorf("read %d bytes past a %d limit", tr.delivered, limit)
		}
	})
	t.Run("collected arguments count", func(t *testing.T) {
		const limit = 64 << 10
		in := "*1000000\r\n" + rdRepeat("$0\r\n\r\n", 1000000)
		tr := &rdTrackReader{data: []byte(in), chunk: 1000}
		tr.r = NewReader(tr, Limits{MaxQueryBuffer: limit}, nil)
		if _, err := tr.r.ReadCommand(); err != ErrQueryBufferLimit {
			t.Fatalf("got %v, want ErrQueryBufferLimit", err)
		}
		if tr.delivered > limit/4 { // 6 bytes + rdArgCost per argument
			t.Errorf("read %d bytes of 6-byte arguments before stopping", tr.delivered)
		}
		if mem := cap(tr.r.args)*rdArgCost + cap(tr.r.buf); mem > 2*(limit+rdChunk) {
			t.Errorf("holding %d bytes with a %d limit", mem, limit)
		}
	})
	t.Run("checked after each read like Redis", func(t *testing.T) {
		// Redis compares the whole query buffer with the limit right after a
		// read, before running the complete commands in it.
		r := NewReader(strings.NewReader(rdRepeat("PING\r\n", 200)), lim, nil)
		if _, err := r.ReadCommand(); err != ErrQueryBufferLimit {
			t.Fatalf("got %v, want ErrQueryBufferLimit", err)
		}
		r = NewReader(&rdChunkReader{data: []byte(rdRepeat("PING\r\n", 200)), sizes: []int{600}}, lim, nil)
		if got, err := rdReadAll(r); err != io.EOF || len(got) != 200 {
			t.Fatalf("got %d commands, %v", len(got), err)
		}
	})
}

// rdLogReader logs its Reads.
type rdLogReader struct {
	chunks []string
	log    *[]string
}

func (lr *rdLogReader) Read(p []byte) (int, error) {
	if len(lr.chunks) == 0 {
		*lr.log = append(*lr.log, "read EOF")
		return 0, io.EOF
	}
	n := copy(p, lr.chunks[0])
	*lr.log = append(*lr.log, fmt.Sprintf("read %q", lr.chunks[0][:n]))
	lr.chunks[0] = lr.chunks[0][n:]
	if lr.chunks[0] == "" {
		lr.chunks = lr.chunks[1:]
	}
	return n, nil
}

func TestReaderBeforeBlock(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chunks []string
		want   []string
	}{
		{
			name:   "two pipelined then one",
			chunks: []string{"*1\r\n$4\r\nPING\r\nECHO a\r\n", "*1\r\n$4\r\nPING\r\n"},
			want: []string{
				"block", `read "*1\r\n$4\r\nPING\r\nECHO a\r\n"`, "cmd PING", "cmd ECHO a",
				"block", `read "*1\r\n$4\r\nPING\r\n"`, "cmd PING",
				"block", "read EOF", "err EOF",
			},
		},
		{
			name:   "command split over reads",
			chunks: []string{"PING\r\n*1\r\n$4", "\r\nPI", "NG\r\n"},
			want: []string{
				"block", `read "PING\r\n*1\r\n$4"`, "cmd PING",
				"block", `read "\r\nPI"`, "block", `read "NG\r\n"`, "cmd PING",
				"block", "read EOF", "err EOF",
			},
		},
		{
			name:   "skipped empty commands do not count",
			chunks: []string{"\r\n*0\r\n", "PING\r\n"},
			want: []string{
				"block", `read "\r\n*0\r\n"`, "block", `read "PING\r\n"`, "cmd PING",
				"block", "read EOF", "err EOF",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log []string
			r := NewReader(&rdLogReader{chunks: tc.chunks, log: &log}, Limits{}, func() error {
				log = append(log, "block")
				return nil
			})
			for {
				args, err := r.ReadCommand()
				if err != nil {
					log = append(log, "err "+err.Error())
					break
				}
				log = append(log, fmt.Sprintf("cmd %s", bytes.Join(args, []byte(" "))))
			}
			if strings.Join(log, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("events:\n got %q\nwant %q", log, tc.want)
			}
		})
	}
	t.Run("error is returned and not sticky", func(t *testing.T) {
		boom := errors.New("flush failed")
		fail := true
		var log []string
		r := NewReader(&rdLogReader{chunks: []string{"PING\r\n"}, log: &log}, Limits{}, func() error {
			if fail {
				return boom
			}
			return nil
		})
		if _, err := r.ReadCommand(); err != boom {
			t.Fatalf("got %v, want %v", err, boom)
		}
		if len(log) != 0 {
			t.Fatalf("read after a failed beforeBlock: %q", log)
		}
		fail = false
		if args, err := r.ReadCommand(); err != nil || string(args[0]) != "PING" {
			t.Fatalf("retry: %q %v", args, err)
		}
	})
}

// rdErrAfter returns its data, then err (with the last data when together).
type rdErrAfter struct {
	data     []string
	err      error
	together bool
}

func (e *rdErrAfter) Read(p []byte) (int, error) {
	if len(e.data) == 0 {
		return 0, e.err
	}
	n := copy(p, e.data[0])
	e.data = e.data[1:]
	if e.together && len(e.data) == 0 {
		return n, e.err
	}
	return n, nil
}

type rdZeroReader struct{ reads int }

func (z *rdZeroReader) Read([]byte) (int, error) { z.reads++; return 0, nil }

type rdBadReader struct{}

func (rdBadReader) Read(p []byte) (int, error) { return len(p) + 1, nil }

func TestReaderReadErrors(t *testing.T) {
	boom := errors.New("connection reset")
	for _, together := range []bool{false, true} {
		t.Run(fmt.Sprintf("commands before the error, together=%v", together), func(t *testing.T) {
			r := NewReader(&rdErrAfter{data: []string{"PING\r\nECHO a\r\nECHO"}, err: boom, together: together}, Limits{}, nil)
			got, err := rdReadAll(r)
			if err != boom || len(got) != 2 {
				t.Fatalf("got %q, %v", got, err)
			}
			if _, again := r.ReadCommand(); again != boom {
				t.Errorf("not sticky: %v", again)
			}
		})
	}
	t.Run("EOF inside a command", func(t *testing.T) {
		r := NewReader(&rdErrAfter{data: []string{"PING\r\n*1\r\n"}, err: io.EOF}, Limits{}, nil)
		if got, err := rdReadAll(r); err != io.ErrUnexpectedEOF || len(got) != 1 {
			t.Fatalf("got %q, %v", got, err)
		}
	})
	t.Run("EOF after skipped empty commands", func(t *testing.T) {
		r := NewReader(&rdErrAfter{data: []string{"*0\r\n\r\n"}, err: io.EOF}, Limits{}, nil)
		if got, err := rdReadAll(r); err != io.EOF || len(got) != 0 {
			t.Fatalf("got %q, %v", got, err)
		}
	})
	t.Run("no progress", func(t *testing.T) {
		z := &rdZeroReader{}
		if _, err := NewReader(z, Limits{}, nil).ReadCommand(); err != io.ErrNoProgress || z.reads != rdMaxEmptyReads {
			t.Fatalf("got %v after %d reads", err, z.reads)
		}
	})
	t.Run("invalid read count", func(t *testing.T) {
		if _, err := NewReader(rdBadReader{}, Limits{}, nil).ReadCommand(); err != rdErrBadReadCount {
			t.Fatalf("got %v", err)
		}
	})
}

func TestReaderArgsDoNotClobberBuffer(t *testing.T) {
	r := NewReader(strings.NewReader("*2\r\n$4\r\nECHO\r\n$1\r\na\r\n*1\r\n$4\r\nPING\r\nECHO \"b\" c\r\nPING\r\n"), Limits{}, nil)
	for _, want := range []string{"ECHO a", "PING", "ECHO b c", "PING"} {
		args, err := r.ReadCommand()
		if err != nil {
			t.Fatal(err)
		}
		if got := string(bytes.Join(args, []byte(" "))); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
		for i := range args {
			_ = append(args[i], "XXXXXXXXXXXXXXXX"...) // must reallocate, not write into the buffer
		}
	}
}

func TestReaderBufferShrinks(t *testing.T) {
	const n = 4 << 20
	in := "*2\r\n$4\r\nECHO\r\n$" + strconv.Itoa(n) + "\r\n" + rdRepeat("x", n) + "\r\n" + rdRepeat("PING\r\n", 10)
	r := NewReader(&rdChunkReader{data: []byte(in), sizes: []int{rdChunk}}, Limits{}, nil)
	if args, err := r.ReadCommand(); err != nil || len(args[1]) != n {
		t.Fatalf("big command: %v", err)
	}
	big := cap(r.buf)
	got, err := rdReadAll(r)
	if err != io.EOF || len(got) != 10 {
		t.Fatalf("got %d commands, %v", len(got), err)
	}
	if big < n || cap(r.buf) > rdChunk {
		t.Errorf("buffer %d during the big command, %d after", big, cap(r.buf))
	}
	for _, a := range r.args[:cap(r.args)] {
		if cap(a) > rdChunk {
			t.Errorf("args still pin a %d-byte buffer", cap(a))
		}
	}
}

func TestReaderLimitsDefaults(t *testing.T) {
	for _, tc := range []struct {
		lim             Limits
		maxBulk, maxBuf int64
	}{
		{Limits{}, 512 << 20, 1 << 30},
		{Limits{MaxBulkLen: -1, MaxQueryBuffer: -1}, 512 << 20, 1 << 30},
		{Limits{MaxBulkLen: 10, MaxQueryBuffer: 100}, 10, 100},
	} {
		r := NewReader(nil, tc.lim, nil)
		if r.maxBulk != tc.maxBulk || r.maxQuery != tc.maxBuf || r.maxCap != int(tc.maxBuf)+rdChunk {
			t.Errorf("%+v: got %d %d %d", tc.lim, r.maxBulk, r.maxQuery, r.maxCap)
		}
	}
	r := NewReader(strings.NewReader("*1\r\n$11\r\n"), Limits{MaxBulkLen: 10}, nil)
	var pe *ProtocolError
	if _, err := r.ReadCommand(); !errors.As(err, &pe) || pe.Msg != "Protocol error: invalid bulk length" {
		t.Errorf("bulk over a configured MaxBulkLen: %v", err)
	}
}

func TestReaderParseInt(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1", 1, true}, {"-1", -1, true}, {"123", 123, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"-9223372036854775808", -9223372036854775808, true},
		{"9223372036854775808", 0, false}, {"-9223372036854775809", 0, false},
		{"18446744073709551615", 0, false}, {"18446744073709551616", 0, false},
		{"99999999999999999999", 0, false}, {"100000000000000000000", 0, false},
		{"", 0, false}, {"-", 0, false}, {"-0", 0, false}, {"00", 0, false}, {"01", 0, false},
		{"+1", 0, false}, {" 1", 0, false}, {"1 ", 0, false}, {"1a", 0, false}, {"0x1", 0, false},
	} {
		got, ok := rdParseInt([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("rdParseInt(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// rdLoopReader returns the same pipeline on every Read.
type rdLoopReader struct{ data []byte }

func (l *rdLoopReader) Read(p []byte) (int, error) { return copy(p, l.data), nil }

func rdSetPipeline() []byte {
	var b []byte
	value := rdRepeat("v", 100)
	for i := 0; i < 16; i++ {
		b = fmt.Appendf(b, "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$100\r\n%s\r\n", 1, value)
	}
	return b
}

func TestReaderZeroAllocs(t *testing.T) {
	for name, pipe := range map[string][]byte{
		"multibulk": rdSetPipeline(),
		"inline":    []byte(rdRepeat("SET \"key\\x41 1\" 'v\\'x'\r\n", 16)),
	} {
		t.Run(name, func(t *testing.T) {
			r := NewReader(&rdLoopReader{pipe}, Limits{}, nil)
			for i := 0; i < 64; i++ { // warm up: buffer and args slice
				r.ReadCommand()
			}
			allocs := testing.AllocsPerRun(100, func() {
				for i := 0; i < 16; i++ {
					if args, err := r.ReadCommand(); err != nil || len(args) != 3 {
						t.Fatalf("%q %v", args, err)
					}
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per 16 commands", allocs)
			}
		})
	}
}

// BenchmarkReader parses a pipeline of 16 "SET key:000000000001 <100 bytes>"
// commands per op (one Read each).
func BenchmarkReader(b *testing.B) {
	pipe := rdSetPipeline()
	r := NewReader(&rdLoopReader{pipe}, Limits{}, func() error { return nil })
	b.SetBytes(int64(len(pipe)))
	b.ReportAllocs()
	for b.Loop() {
		for i := 0; i < 16; i++ {
			args, err := r.ReadCommand()
			if err != nil || len(args) != 3 {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*16), "ns/cmd")
}

// BenchmarkReaderBigBulk reads one 1 MiB argument per op.
func BenchmarkReaderBigBulk(b *testing.B) {
	const n = 1 << 20
	cmd := []byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + strconv.Itoa(n) + "\r\n" + rdRepeat("v", n) + "\r\n")
	src := &rdChunkReader{sizes: []int{64 << 10}}
	r := NewReader(src, Limits{}, nil)
	b.SetBytes(int64(len(cmd)))
	b.ReportAllocs()
	for b.Loop() {
		src.data = cmd
		if args, err := r.ReadCommand(); err != nil || len(args[2]) != n {
			b.Fatal(err)
		}
	}
}

func TestReaderHugeMaxBulkLen(t *testing.T) {
	r := NewReader(strings.NewReader("*1\r\n$9223372036854775807\r\nabc"), Limits{MaxBulkLen: 1<<63 - 1}, nil)
	if _, err := r.ReadCommand(); err == nil || err == io.ErrUnexpectedEOF {
		t.Fatalf("got %v, want invalid bulk length", err)
	}
	r = NewReader(strings.NewReader("*1\r\n$4611686018427387904\r\nabc"), Limits{MaxBulkLen: 1<<63 - 1}, nil)
	if _, err := r.ReadCommand(); err != io.ErrUnexpectedEOF {
		t.Fatalf("got %v, want io.ErrUnexpectedEOF", err)
	}
}
