package main

import (
	"flag"
	"fmt"
	"io"

	"cairn/store"
)

// runCheck is `cairn check [--databases N] [--dir] <dir>`: it verifies a
// data directory offline, read-only (store.Check), prints the problems and
// a summary, and returns the exit status: 0 when clean, 1 when problems
// were found, 2 when the directory could not be checked at all.
func runCheck(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("cairn check", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: cairn check [--databases N] <dir>   (or --dir <dir>)")
		fl.PrintDefaults()
	}
	dir := fl.String("dir", "", "data directory to check (or give it as the argument)")
	dbs := fl.Int("databases", 16, "number of databases the server is configured with")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	switch {
	case *dir == "" && fl.NArg() == 1:
		*dir = fl.Arg(0)
	case *dir == "" || fl.NArg() != 0:
		fl.Usage()
		return 2
	}
	if *dbs < 1 || *dbs > 256 {
		fmt.Fprintln(stderr, "cairn check: --databases must be between 1 and 256")
		return 2
	}
	r, err := store.Check(*dir, store.CheckOptions{Databases: *dbs})
	if err != nil {
		fmt.Fprintln(stderr, "cairn check:", err)
		return 2
	}
	for _, p := range r.Problems {
		fmt.Fprintln(stdout, "problem:", p)
	}
	if more := r.ProblemCount - len(r.Problems); more > 0 {
		fmt.Fprintf(stdout, "problem: ... and %d more\n", more)
	}
	fmt.Fprintf(stdout, "keys: %d strings, %d sorted sets (%d members); %d tombstones, %d hints, %d ballots\n",
		r.Strings, r.SortedSets, r.Members, r.Tombstones, r.Hints, r.Ballots)
	for db, n := range r.KeysPerDB {
		if n > 0 {
			fmt.Fprintf(stdout, "db%d: %d keys\n", db, n)
		}
	}
	if !r.OK() {
		fmt.Fprintf(stdout, "%d problem(s) found in %s\n", r.ProblemCount, *dir)
		return 1
	}
	fmt.Fprintln(stdout, "OK")
	return 0
}
