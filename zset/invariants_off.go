//go:build !(invariants || race)

package zset

// invariantsEnabled makes every mutation check the Set's invariants; build
// with -tags invariants (or -race) to turn it on.
const invariantsEnabled = false

func (s *Set) checkInvariants() {}

// setInvariantsStride is a no-op without the invariants build.
func setInvariantsStride(uint64) (restore func()) { return func() {} }

// verify reports nil; the checks exist only with -tags invariants or -race.
func (s *Set) verify() error { return nil }
