package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Member is one node's record in the ring membership.
//
// Records are only ever replaced by records that win Merge, so a record
// never moves backwards. A change written by a node (add, re-add, remove)
// carries Ver = Epoch+1 of the writer's ring state. A record a node adds
// only because memberlist reported an unknown node carries Ver 0: it fills
// the gap until the node's own record arrives and can never override a
// record anybody wrote, such as a tombstone this node has not seen yet.
type Member struct {
	ID      string `json:"id"`                // 40 lowercase hex chars, random, generated once per data directory
	Addr    string `json:"addr"`              // client (RESP) address host:port; peers also send RPC here
	Bus     string `json:"bus"`               // gossip address host:port
	Removed bool   `json:"removed,omitempty"` // forgotten; kept as a tombstone so merges converge
	Ver     uint64 `json:"ver"`               // ring epoch at which this record last changed
}

// wins reports whether record r replaces record cur of the same ID: the
// higher Ver wins; at equal Ver a tombstone wins, then the greater
// (Addr, Bus). The order is total over distinct records, which makes Merge
// commutative, associative and idempotent.
func (r Member) wins(cur Member) bool {
	if r.Ver != cur.Ver {
		return r.Ver > cur.Ver
	}
	if r.Removed != cur.Removed {
		return r.Removed
	}
	if r.Addr != cur.Addr {
		return r.Addr > cur.Addr
	}
	return r.Bus > cur.Bus
}

// RingState is the explicit ring membership: every node that joined, with
// tombstones for the forgotten ones. It is a state-based CRDT: nodes
// exchange whole states (or single records) and Merge them.
type RingState struct {
	Epoch   uint64            `json:"epoch"`   // max Ver over all records
	Members map[string]Member `json:"members"` // by ID, including removed ones
}

// Active returns the members that are not removed, sorted by ID.
func (s RingState) Active() []Member {
	out := make([]Member, 0, len(s.Members))
	for _, m := range s.Members {
		if !m.Removed {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Merge folds o into s record by record (see Member.wins) and reports
// whether s changed. Epoch stays the max Ver over all records.
func (s *RingState) Merge(o RingState) (changed bool) {
	for _, r := range o.Members {
		if s.mergeMember(r) {
			changed = true
		}
	}
	return changed
}

// mergeMember folds one record into s and reports whether it replaced the
// record s held (or was new).
func (s *RingState) mergeMember(r Member) bool {
	if cur, ok := s.Members[r.ID]; ok && !r.wins(cur) {
		return false
	}
	if s.Members == nil {
		s.Members = make(map[string]Member)
	}
	s.Members[r.ID] = r
	s.Epoch = max(s.Epoch, r.Ver)
	return true
}

// clone returns a deep copy of s.
func (s RingState) clone() RingState {
	c := RingState{Epoch: s.Epoch, Members: make(map[string]Member, len(s.Members))}
	for id, m := range s.Members {
		c.Members[id] = m
	}
	return c
}

// validate checks what a state read from disk or from the network must
// satisfy: every record is keyed by its valid ID and Epoch is the max Ver.
func (s RingState) validate() error {
	var epoch uint64
	for id, m := range s.Members {
		if id != m.ID || !validID(m.ID) {
			return fmt.Errorf("cluster: bad ring record %q for key %q", m.ID, id)
		}
		epoch = max(epoch, m.Ver)
	}
	if epoch != s.Epoch {
		return fmt.Errorf("cluster: ring epoch %d is not the max record version %d", s.Epoch, epoch)
	}
	return nil
}

// idLen is the length of a node ID: 20 random bytes in lowercase hex, as
// Redis Cluster node IDs.
const idLen = 40

// newNodeID returns a fresh random node ID.
func newNodeID() string {
	var b [idLen / 2]byte
	rand.Read(b[:]) // never fails (crypto/rand doc)
	return hex.EncodeToString(b[:])
}

// validID reports whether id is 40 lowercase hex characters.
func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// clusterFileName is the file in the data directory holding this node's ID
// and its last ring state.
const clusterFileName = "cluster.json"

// clusterFile is the content of cluster.json.
type clusterFile struct {
	ID   string    `json:"id"`
	Ring RingState `json:"ring"`
}

// loadClusterFile reads dir/cluster.json. A missing file is not an error:
// it returns found == false and a zero state, and the caller starts a new
// node.
func loadClusterFile(dir string) (f clusterFile, found bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, clusterFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return clusterFile{}, false, nil
	}
	if err != nil {
		return clusterFile{}, false, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return clusterFile{}, false, fmt.Errorf("cluster: %s: %w", clusterFileName, err)
	}
	if !validID(f.ID) {
		return clusterFile{}, false, fmt.Errorf("cluster: %s: bad node id %q", clusterFileName, f.ID)
	}
	if err := f.Ring.validate(); err != nil {
		return clusterFile{}, false, fmt.Errorf("cluster: %s: %w", clusterFileName, err)
	}
	if f.Ring.Members == nil {
		f.Ring.Members = make(map[string]Member)
	}
	return f, true, nil
}

// saveClusterFile replaces dir/cluster.json atomically: it writes a temp
// file, syncs it, renames it over the old file and syncs the directory, so
// a crash leaves either the old or the new content.
func saveClusterFile(dir string, f clusterFile) (err error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, clusterFileName+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(append(b, '\n')); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), filepath.Join(dir, clusterFileName)); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
