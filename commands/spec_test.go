package commands

import (
	"strings"
	"testing"
)

// The real table builds: no duplicate, no missing handler, no bad key range.
func TestTable_Builds(t *testing.T) {
	tab := NewTable(allCommands())
	if len(tab.Commands()) == 0 {
		t.Fatal("empty command table")
	}
	for _, s := range tab.Commands() {
		if tab.Get(s.Name) != s {
			t.Errorf("Get(%q) does not find the command", s.Name)
		}
		for _, sub := range s.Sub {
			if tab.Get(sub.FullName()) != sub {
				t.Errorf("Get(%q) does not find the subcommand", sub.FullName())
			}
		}
	}
}

func TestTable_RejectsBadSpecs(t *testing.T) {
	h := func(*Ctx) {}
	cases := []struct {
		name  string
		specs []*Spec
		want  string
	}{
		{"duplicate", []*Spec{{Name: "a", Arity: 1, Handler: h}, {Name: "a", Arity: 1, Handler: h}}, "duplicate"},
		{"no handler", []*Spec{{Name: "a", Arity: 1}}, "no handler"},
		{"uppercase", []*Spec{{Name: "A", Arity: 1, Handler: h}}, "lowercase"},
		{"write and readonly", []*Spec{{Name: "a", Arity: 1, Flags: Write | ReadOnly, Handler: h}}, "both"},
		{"key outside arity", []*Spec{{Name: "a", Arity: 2, FirstKey: 2, LastKey: 2, Step: 1, Handler: h}}, "outside"},
		{"zero step", []*Spec{{Name: "a", Arity: -2, FirstKey: 1, LastKey: -1, Handler: h}}, "key range"},
		{"arity zero", []*Spec{{Name: "a", Handler: h}}, "arity"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(r.(string), tc.want) {
					t.Fatalf("panic = %v, want one mentioning %q", r, tc.want)
				}
			}()
			NewTable(tc.specs)
		})
	}
}

func TestTable_LookupIsCaseInsensitiveAndAllocationFree(t *testing.T) {
	tab := NewTable(allCommands())
	args := [][]byte{[]byte("CoNfIg"), []byte("GeT"), []byte("x")}
	if s := tab.Lookup(args); s == nil || s.FullName() != "config|get" {
		t.Fatalf("Lookup = %v", s)
	}
	allocs := testing.AllocsPerRun(100, func() { tab.Lookup(args) })
	if allocs != 0 {
		t.Fatalf("Lookup allocates %.1f times per call", allocs)
	}
}

func TestSpec_KeyPositions(t *testing.T) {
	args := func(s ...string) [][]byte {
		out := make([][]byte, len(s))
		for i, a := range s {
			out[i] = []byte(a)
		}
		return out
	}
	cases := []struct {
		name string
		spec *Spec
		args [][]byte
		want []int
	}{
		{"single", &Spec{FirstKey: 1, LastKey: 1, Step: 1}, args("get", "k"), []int{1}},
		{"all", &Spec{FirstKey: 1, LastKey: -1, Step: 1}, args("del", "a", "b", "c"), []int{1, 2, 3}},
		{"pairs", &Spec{FirstKey: 1, LastKey: -1, Step: 2}, args("mset", "a", "1", "b", "2"), []int{1, 3}},
		{"none", &Spec{}, args("ping"), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.spec.keyPositions(tc.args)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestSpec_ImplicitCategories(t *testing.T) {
	cases := []struct {
		name string
		spec *Spec
		want string
	}{
		{"write fast", &Spec{Flags: Write | Fast, ACL: CatString}, "@write @string @fast"},
		{"readonly slow", &Spec{Flags: ReadOnly, ACL: CatKeyspace}, "@keyspace @read @slow"},
		{"admin", &Spec{Flags: Admin}, "@admin @slow @dangerous"},
		{"blocking", &Spec{Flags: Write | Blocking, ACL: CatSortedSet}, "@write @sortedset @slow @blocking"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Join(tc.spec.categories().names(), " "); got != tc.want {
				t.Fatalf("categories = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		pattern, str string
		want         bool
	}{
		{"*", "", false /* Redis: callers special-case a lone "*" */}, {"*", "abc", true}, {"a*", "abc", true}, {"a*", "bac", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"[abc]x", "bx", true}, {"[^abc]x", "bx", false},
		{"[a-c]x", "cx", true}, {"[c-a]x", "bx", true}, {"a\\*", "a*", true}, {"a\\*", "ab", false},
		{"[abc", "a", true}, {"user:1*", "user:123", true}, {"user:1*", "user:2", false},
		{"*a*a*a*a*a*a*a*a*b", strings.Repeat("a", 60), false}, {"h[\\]]llo", "h]llo", true},
	}
	for _, tc := range cases {
		t.Run(tc.pattern+"~"+tc.str, func(t *testing.T) {
			if got := globMatch([]byte(tc.pattern), []byte(tc.str), false); got != tc.want {
				t.Fatalf("globMatch(%q, %q) = %v", tc.pattern, tc.str, got)
			}
		})
	}
	if !globMatch([]byte("HELLO*"), []byte("hello world"), true) {
		t.Fatal("nocase match failed")
	}
	if p := string(globPrefix([]byte(`user\:1*x`))); p != "user:1" {
		t.Fatalf("globPrefix = %q", p)
	}
}
