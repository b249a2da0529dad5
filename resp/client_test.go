package resp

import (
	"bytes"
	"errors"
	"io"
	"math"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

func vSimple(s string) Value { return Value{Kind: '+', Str: []byte(s)} }
func vErr(s string) Value    { return Value{Kind: '-', Str: []byte(s)} }
func vInt(n int64) Value     { return Value{Kind: ':', Int: n} }
func vBulk(s string) Value   { return Value{Kind: '$', Str: []byte(s)} }
func vAgg(kind byte, elems ...Value) Value {
	return Value{Kind: kind, Array: append([]Value{}, elems...)}
}

// rrEncode is the canonical encoding of v, so that ParseReply(rrEncode(v))
// gives v back.
func rrEncode(dst []byte, v Value) []byte {
	switch v.Kind {
	case '+', '-', ',', '(':
		dst = append(dst, v.Kind)
		dst = append(dst, v.Str...)
		return append(dst, "\r\n"...)
	case ':':
		return append(strconv.AppendInt(append(dst, ':'), v.Int, 10), "\r\n"...)
	case '#':
		if v.Int == 1 {
			return append(dst, "#t\r\n"...)
		}
		return append(dst, "#f\r\n"...)
	case '_':
		return append(dst, "_\r\n"...)
	case '$', '!', '=':
		if v.Null {
			return append(dst, "$-1\r\n"...)
		}
		dst = appendHeader(dst, v.Kind, len(v.Str))
		dst = append(dst, v.Str...)
		return append(dst, "\r\n"...)
	case '*', '~', '>', '%':
		if v.Null {
			return append(dst, "*-1\r\n"...)
		}
		n := len(v.Array)
		if v.Kind == '%' {
			n /= 2
		}
		dst = appendHeader(dst, v.Kind, n)
		for _, e := range v.Array {
			dst = rrEncode(dst, e)
		}
		return dst
	}
	panic("rrEncode: unknown kind " + string(v.Kind))
}

// rrReadAll decodes in, which must hold exactly one reply, with ParseReply
// and with ReplyReaders fed whole and one byte at a time; every way must
// agree on the value, and ReadRaw must give back in.
func rrReadAll(t *testing.T, in []byte) Value {
	t.Helper()
	v, n, err := ParseReply(in)
	if err != nil {
		t.Fatalf("ParseReply(%q): %v", in, err)
	}
	if n != len(in) {
		t.Fatalf("ParseReply(%q) consumed %d bytes, want %d", in, n, len(in))
	}
	for name, rd := range map[string]func() io.Reader{
		"whole":    func() io.Reader { return bytes.NewReader(in) },
		"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(in)) },
	} {
		r := NewReplyReader(rd(), 0)
		got, err := r.Read()
		if err != nil || !reflect.DeepEqual(got, v) {
			t.Fatalf("%s: Read gave %+v, %v; ParseReply gave %+v", name, got, err, v)
		}
		if _, err := r.Read(); err != io.EOF {
			t.Fatalf("%s: Read after the reply: %v, want io.EOF", name, err)
		}
		raw, err := NewReplyReader(rd(), 0).ReadRaw([]byte("prefix"))
		if err != nil || string(raw) != "prefix"+string(in) {
			t.Fatalf("%s: ReadRaw gave %q, %v", name, raw, err)
		}
	}
	return v
}

func TestReplyReader_WriterRoundTrip(t *testing.T) {
	cases := []struct {
		name         string
		write        func(w *Writer)
		resp2, resp3 Value
	}{
		{"ok", func(w *Writer) { w.OK() }, vSimple("OK"), vSimple("OK")},
		{"simple", func(w *Writer) { w.Simple("PONG") }, vSimple("PONG"), vSimple("PONG")},
		{"error", func(w *Writer) { w.Error("ERR bad") }, vErr("ERR bad"), vErr("ERR bad")},
		{"int", func(w *Writer) { w.Int(math.MinInt64) }, vInt(math.MinInt64), vInt(math.MinInt64)},
		{"bulk", func(w *Writer) { w.Bulk([]byte("a\r\nb")) }, vBulk("a\r\nb"), vBulk("a\r\nb")},
		{"empty bulk", func(w *Writer) { w.Bulk(nil) }, vBulk(""), vBulk("")},
		{"bulk string", func(w *Writer) { w.BulkString("hello") }, vBulk("hello"), vBulk("hello")},
		{"bulk int", func(w *Writer) { w.BulkInt(-7) }, vBulk("-7"), vBulk("-7")},
		{"null", func(w *Writer) { w.Null() }, Value{Kind: '$', Null: true}, Value{Kind: '_', Null: true}},
		{"null array", func(w *Writer) { w.NullArray() }, Value{Kind: '*', Null: true}, Value{Kind: '_', Null: true}},
		{"true", func(w *Writer) { w.Bool(true) }, vInt(1), Value{Kind: '#', Int: 1}},
		{"false", func(w *Writer) { w.Bool(false) }, vInt(0), Value{Kind: '#'}},
		{"double", func(w *Writer) { w.Double(0.1) },
			vBulk("0.10000000000000001"), Value{Kind: ',', Str: []byte("0.10000000000000001")}},
		{"double -inf", func(w *Writer) { w.Double(math.Inf(-1)) }, vBulk("-inf"), Value{Kind: ',', Str: []byte("-inf")}},
		{"verbatim", func(w *Writer) { w.Verbatim("txt", "hi\r\nthere") },
			vBulk("hi\r\nthere"), Value{Kind: '=', Str: []byte("txt:hi\r\nthere")}},
		{"raw", func(w *Writer) { w.Raw([]byte(":12\r\n")) }, vInt(12), vInt(12)},
		{"empty array", func(w *Writer) { w.Array(0) }, vAgg('*'), vAgg('*')},
		{"array", func(w *Writer) { w.Array(3); w.Int(1); w.Null(); w.BulkString("x") },
			vAgg('*', vInt(1), Value{Kind: '$', Null: true}, vBulk("x")),
			vAgg('*', vInt(1), Value{Kind: '_', Null: true}, vBulk("x"))},
		{"map", func(w *Writer) { w.Map(2); w.BulkString("a"); w.Int(1); w.BulkString("b"); w.Double(2.5) },
			vAgg('*', vBulk("a"), vInt(1), vBulk("b"), vBulk("2.5")),
			vAgg('%', vBulk("a"), vInt(1), vBulk("b"), Value{Kind: ',', Str: []byte("2.5")})},
		{"set", func(w *Writer) { w.Set(2); w.BulkString("a"); w.BulkString("b") },
			vAgg('*', vBulk("a"), vBulk("b")), vAgg('~', vBulk("a"), vBulk("b"))},
		{"push", func(w *Writer) { w.Push(2); w.BulkString("message"); w.Bool(true) },
			vAgg('*', vBulk("message"), vInt(1)), vAgg('>', vBulk("message"), Value{Kind: '#', Int: 1})},
		{"nested", func(w *Writer) {
			w.Array(2)
			w.Map(1)
			w.Simple("k")
			w.Array(1)
			w.NullArray()
			w.Set(0)
		},
			vAgg('*', vAgg('*', vSimple("k"), vAgg('*', Value{Kind: '*', Null: true})), vAgg('*')),
			vAgg('*', vAgg('%', vSimple("k"), vAgg('*', Value{Kind: '_', Null: true})), vAgg('~'))},
		{"big bulk", func(w *Writer) { w.BulkString(strings.Repeat("x", 100<<10)) },
			vBulk(strings.Repeat("x", 100<<10)), vBulk(strings.Repeat("x", 100<<10))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, proto := range []int{2, 3} {
				want := tc.resp2
				if proto == 3 {
					want = tc.resp3
				}
				w := NewWriter()
				w.SetProto(proto)
				tc.write(w)
				in := w.Buffered()
				got := rrReadAll(t, in)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("RESP%d %q: got %+v, want %+v", proto, in, got, want)
				}
				if enc := rrEncode(nil, got); !bytes.Equal(enc, in) {
					t.Fatalf("RESP%d: re-encoded %q, want %q", proto, enc, in)
				}
			}
		})
	}
}

func TestReplyReader_OtherTypes(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want Value
	}{
		{"big number", "(-3492890328409238509324850943850943825024385\r\n",
			Value{Kind: '(', Str: []byte("-3492890328409238509324850943850943825024385")}},
		{"blob error", "!22\r\nSYNTAX invalid\r\nsyntax\r\n", Value{Kind: '!', Str: []byte("SYNTAX invalid\r\nsyntax")}},
		{"double nan", ",nan\r\n", Value{Kind: ',', Str: []byte("nan")}},
		{"double exponent", ",1.5e+300\r\n", Value{Kind: ',', Str: []byte("1.5e+300")}},
		{"double out of range", ",1e400\r\n", Value{Kind: ',', Str: []byte("1e400")}},
		{"attribute dropped", "|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n:7\r\n", vInt(7)},
		{"attribute inside array", "*2\r\n|1\r\n+ttl\r\n:3\r\n$1\r\nx\r\n:2\r\n", vAgg('*', vBulk("x"), vInt(2))},
		{"simple with CR", "+a\rb\r\n", vSimple("a\rb")},
		{"32 levels", strings.Repeat("*1\r\n", 32) + ":1\r\n", rrNest(32, vInt(1))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := rrReadAll(t, []byte(tc.in)); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func rrNest(levels int, v Value) Value {
	for range levels {
		v = vAgg('*', v)
	}
	return v
}

func TestReplyReader_Malformed(t *testing.T) {
	cases := []struct {
		name      string
		in        string
		truncated bool // io.ErrUnexpectedEOF rather than ErrMalformedReply
	}{
		{"unknown type", "?x\r\n", false},
		{"streamed string", "$?\r\n;4\r\nHell\r\n;0\r\n", false},
		{"streamed array", "*?\r\n:1\r\n.\r\n", false},
		{"empty line", "\r\n", false},
		{"bare LF", "+OK\n", false},
		{"LF first", "\n", false},
		{"int letters", ":12a\r\n", false},
		{"int plus", ":+1\r\n", false},
		{"int leading zero", ":01\r\n", false},
		{"int overflow", ":9223372036854775808\r\n", false},
		{"int empty", ":\r\n", false},
		{"bulk negative", "$-2\r\n", false},
		{"bulk letters", "$x\r\n", false},
		{"bulk too short", "$3\r\nab\r\n\r\n", false},
		{"bulk no CRLF", "$2\r\nabXY", false},
		{"blob error null", "!-1\r\n", false},
		{"verbatim short", "=3\r\ntxt\r\n", false},
		{"verbatim no colon", "=5\r\ntxtab\r\n", false},
		{"array negative", "*-2\r\n", false},
		{"set null", "~-1\r\n", false},
		{"map null", "%-1\r\n", false},
		{"array too long", "*2147483648\r\n", false},
		{"bool", "#x\r\n", false},
		{"bool empty", "#\r\n", false},
		{"null with text", "_x\r\n", false},
		{"double", ",1.2.3\r\n", false},
		{"double empty", ",\r\n", false},
		{"big number", "(12a\r\n", false},
		{"big number sign only", "(-\r\n", false},
		{"33 levels", strings.Repeat("*1\r\n", 33) + ":1\r\n", false},
		{"33 attributes", strings.Repeat("|0\r\n", 33) + ":1\r\n", false},
		{"bad element", "*2\r\n:1\r\n?\r\n", false},
		{"empty", "", true},
		{"no CRLF", "+OK", true},
		{"CR only", "+OK\r", true},
		{"bulk cut", "$5\r\nhel", true},
		{"bulk without CRLF", "$5\r\nhello", true},
		{"array cut", "*3\r\n:1\r\n:2\r\n", true},
		{"map cut", "%1\r\n+k\r\n", true},
		{"attribute alone", "|1\r\n+k\r\n+v\r\n", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			check := func(how string, err error) {
				t.Helper()
				if tc.truncated {
					if err != io.ErrUnexpectedEOF && !(err == io.EOF && tc.in == "" && how != "ParseReply") {
						t.Fatalf("%s: %v, want io.ErrUnexpectedEOF", how, err)
					}
				} else if !errors.Is(err, ErrMalformedReply) {
					t.Fatalf("%s: %v, want ErrMalformedReply", how, err)
				}
			}
			if _, n, err := ParseReply([]byte(tc.in)); n != 0 || err == nil {
				t.Fatalf("ParseReply: n=%d err=%v, want an error", n, err)
			} else {
				check("ParseReply", err)
			}
			r := NewReplyReader(iotest.OneByteReader(strings.NewReader(tc.in)), 0)
			_, err := r.Read()
			check("Read", err)
			if _, again := r.Read(); again != err {
				t.Fatalf("second Read gave %v, want the sticky %v", again, err)
			}
			dst, err := NewReplyReader(strings.NewReader(tc.in), 0).ReadRaw([]byte("pre"))
			check("ReadRaw", err)
			if string(dst) != "pre" {
				t.Fatalf("ReadRaw returned %q on error, want dst unchanged", dst)
			}
		})
	}
}

func TestReplyReader_Limits(t *testing.T) {
	t.Run("max bulk", func(t *testing.T) {
		for _, kind := range []string{"$", "!", "="} {
			r := NewReplyReader(strings.NewReader(kind+"5\r\ntxt:a\r\n"+kind+"6\r\ntxt:ab\r\n"), 5)
			if _, err := r.Read(); err != nil {
				t.Fatalf("%s at the limit: %v", kind, err)
			}
			if _, err := r.Read(); !errors.Is(err, ErrMalformedReply) {
				t.Fatalf("%s above the limit: %v, want ErrMalformedReply", kind, err)
			}
		}
	})
	t.Run("line", func(t *testing.T) {
		long := "+" + strings.Repeat("a", rrMaxLine)
		if _, err := NewReplyReader(strings.NewReader(long+"\r\n"), 0).Read(); err != nil {
			t.Fatalf("line at the limit: %v", err)
		}
		for name, in := range map[string]string{
			"unterminated": long + "aaa",
			"terminated":   long + "a\r\n",
		} {
			if _, err := NewReplyReader(strings.NewReader(in), 0).Read(); !errors.Is(err, ErrMalformedReply) {
				t.Fatalf("%s line above the limit: %v, want ErrMalformedReply", name, err)
			}
			if _, _, err := ParseReply([]byte(in)); name == "terminated" && !errors.Is(err, ErrMalformedReply) {
				t.Fatalf("ParseReply of a %s line above the limit: %v", name, err)
			}
		}
	})
	t.Run("declared sizes reserve little", func(t *testing.T) {
		in := strings.Repeat("*2147483647\r\n", 32) + "$536870912\r\nabc"
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := NewReplyReader(strings.NewReader(in), 0).Read()
		runtime.ReadMemStats(&after)
		if err != io.ErrUnexpectedEOF {
			t.Fatalf("got %v, want io.ErrUnexpectedEOF", err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
			t.Fatalf("allocated %d bytes for %d bytes of input", grew, len(in))
		}
	})
}

func TestReplyReader_Stream(t *testing.T) {
	var w Writer
	w.SetProto(3)
	w.OK()
	w.BulkString(strings.Repeat("y", 40<<10))
	w.Array(2)
	w.Int(1)
	w.Map(0)
	w.Raw([]byte("|1\r\n+a\r\n+b\r\n#t\r\n"))
	in := w.Buffered()
	var want []Value
	for b := in; len(b) > 0; {
		v, n, err := ParseReply(b)
		if err != nil {
			t.Fatal(err)
		}
		want, b = append(want, v), b[n:]
	}
	if len(want) != 4 {
		t.Fatalf("parsed %d replies, want 4", len(want))
	}
	for name, rd := range map[string]func() io.Reader{
		"whole":    func() io.Reader { return bytes.NewReader(in) },
		"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(in)) },
		"half":     func() io.Reader { return iotest.HalfReader(bytes.NewReader(in)) },
		"data+EOF": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(in)) },
	} {
		r := NewReplyReader(rd(), 0)
		for i, wv := range want {
			v, err := r.Read()
			if err != nil || !reflect.DeepEqual(v, wv) {
				t.Fatalf("%s: reply %d: %+v, %v", name, i, v, err)
			}
		}
		if _, err := r.Read(); err != io.EOF {
			t.Fatalf("%s: after the last reply: %v, want io.EOF", name, err)
		}
		r = NewReplyReader(rd(), 0)
		var raw []byte
		for range want {
			var err error
			if raw, err = r.ReadRaw(raw); err != nil {
				t.Fatalf("%s: ReadRaw: %v", name, err)
			}
		}
		if !bytes.Equal(raw, in) {
			t.Fatalf("%s: ReadRaw gave %d bytes, want the %d written", name, len(raw), len(in))
		}
	}
}

func TestReplyReader_ReadError(t *testing.T) {
	boom := errors.New("boom")
	r := NewReplyReader(io.MultiReader(strings.NewReader(":1\r\n:2"), iotest.ErrReader(boom)), 0)
	if v, err := r.Read(); err != nil || v.Int != 1 {
		t.Fatalf("first reply: %+v, %v", v, err)
	}
	for range 2 {
		if _, err := r.Read(); err != boom {
			t.Fatalf("got %v, want the read error", err)
		}
	}
	r = NewReplyReader(iotest.ErrReader(nil), 0) // (0, nil) forever
	if _, err := r.Read(); err != io.ErrNoProgress {
		t.Fatalf("got %v, want io.ErrNoProgress", err)
	}
}

func TestValue_Err(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want string // "" for no error
	}{
		{"simple error", "-ERR bad thing\r\n", "ERR bad thing"},
		{"blob error", "!8\r\nERR a\r\nb\r\n", "ERR a\r\nb"},
		{"simple string", "+ERR\r\n", ""},
		{"bulk", "$3\r\nERR\r\n", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, _, err := ParseReply([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			err = v.Err()
			var re *ReplyError
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Err() = %v, want nil", err)
			case tc.want != "" && (!errors.As(err, &re) || re.Text != tc.want || err.Error() != tc.want):
				t.Fatalf("Err() = %#v, want a *ReplyError %q", err, tc.want)
			}
		})
	}
}

func TestAppendCommand(t *testing.T) {
	got := AppendCommand([]byte("x"), []byte("SET"), []byte("k\r\n"), nil)
	want := "x*3\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n$0\r\n\r\n"
	if string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	r := NewReader(bytes.NewReader(got[1:]), Limits{}, nil)
	args, err := r.ReadCommand()
	if err != nil || len(args) != 3 || string(args[1]) != "k\r\n" || len(args[2]) != 0 {
		t.Fatalf("server reader gave %q, %v", args, err)
	}
	if n := testing.AllocsPerRun(100, func() { got = AppendCommand(got[:0], []byte("GET"), []byte("key")) }); n != 0 {
		t.Fatalf("AppendCommand into a big enough buffer allocated %v times", n)
	}
}

// FuzzReplyReader checks that any input gives a value or an error, never a
// panic, the same way from a slice and from a stream read one byte at a
// time, and that a decoded value re-encodes to bytes that decode to it.
func FuzzReplyReader(f *testing.F) {
	for _, s := range []string{
		"+OK\r\n", "-ERR x\r\n", ":-5\r\n", "$3\r\nabc\r\n", "$-1\r\n", "*-1\r\n", "_\r\n",
		"#t\r\n", ",1.5\r\n", "(123\r\n", "=6\r\ntxt:ab\r\n", "!3\r\nERR\r\n",
		"*2\r\n$1\r\na\r\n:1\r\n", "%1\r\n+k\r\n~1\r\n>0\r\n", "|1\r\n+a\r\n+b\r\n:1\r\n",
		"$2\r\nab", "*1\r\n", "$?\r\n", strings.Repeat("*1\r\n", 33) + "_\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, n, err := ParseReply(data)
		r := NewReplyReader(iotest.OneByteReader(bytes.NewReader(data)), 0)
		sv, serr := r.Read()
		if err != nil {
			if n != 0 {
				t.Fatalf("ParseReply consumed %d bytes with error %v", n, err)
			}
			same := errors.Is(err, ErrMalformedReply) == errors.Is(serr, ErrMalformedReply)
			if serr == nil || !same {
				t.Fatalf("ParseReply: %v; Read: %v", err, serr)
			}
			return
		}
		if n <= 0 || n > len(data) {
			t.Fatalf("ParseReply consumed %d of %d bytes", n, len(data))
		}
		if serr != nil || !reflect.DeepEqual(sv, v) {
			t.Fatalf("Read gave %+v, %v; ParseReply gave %+v", sv, serr, v)
		}
		raw, err := NewReplyReader(iotest.OneByteReader(bytes.NewReader(data)), 0).ReadRaw(nil)
		if err != nil || !bytes.Equal(raw, data[:n]) {
			t.Fatalf("ReadRaw gave %q, %v; want %q", raw, err, data[:n])
		}
		enc := rrEncode(nil, v)
		v2, n2, err := ParseReply(enc)
		if err != nil || n2 != len(enc) || !reflect.DeepEqual(v2, v) {
			t.Fatalf("re-encoded %q decodes to %+v, %v", enc, v2, err)
		}
	})
}
