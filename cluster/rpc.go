package cluster

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"cairn/resp"
	"cairn/store"
)

// Peer RPC: internal commands sent over RESP to a peer's client port. The
// command layer declares them (hidden from COMMAND) and hands them to
// ServePeer; only connections that opened with a valid CAIRN.PEER may send
// them. Binary payloads are bulk strings in the encodings below.
const (
	cmdPeer     = "CAIRN.PEER"     // node-id token -> +OK (first command of every peer connection)
	cmdRepl     = "CAIRN.REPL"     // sender ballotN fence changes -> array of store.Applied codes
	cmdPrepare  = "CAIRN.PREPARE"  // sender (slot(2) N(8))* -> (N(8) len(1) node digest(8))*
	cmdVersions = "CAIRN.VERSIONS" // slot key... -> promisedN(8) (ballot(8) stamp(8))*
	cmdStates   = "CAIRN.STATES"   // key... -> changes holding whole states (database 0)
	cmdRecords  = "CAIRN.RECORDS"  // slot -> (len key ballot(8) stamp(8) deleted(1))*
	cmdDigests  = "CAIRN.DIGESTS"  // (slot(2))* -> (digest(8))*
)

// PeerCommands are the internal command names ServePeer answers, with their arities.
var PeerCommands = map[string]int{
	cmdRepl: 5, cmdPrepare: 3, cmdVersions: -2, cmdStates: -1, cmdRecords: 2, cmdDigests: 2,
}

type respValue = resp.Value

// PeerToken is the proof a peer sends with CAIRN.PEER: an HMAC of its ID
// under the cluster key, or "-" without a key.
func PeerToken(key []byte, id string) string {
	if len(key) == 0 {
		return "-"
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("cairn-peer " + id))
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyPeer checks a CAIRN.PEER token.
func (c *Cluster) VerifyPeer(id, token string) bool {
	return hmac.Equal([]byte(PeerToken(c.opts.Key, id)), []byte(token))
}

var errBadPayload = errors.New("ERR malformed cluster message")

// ServePeer answers one internal command (args[0] is its name, upper or
// lower case) into w. A returned Ticket must be acknowledged before the
// reply is sent, as for a client write.
func (c *Cluster) ServePeer(args [][]byte, w *resp.Writer) store.Ticket {
	var t store.Ticket
	var err error
	switch string(upper(args[0])) {
	case cmdRepl:
		t, err = c.serveRepl(args[1:], w)
	case cmdPrepare:
		err = c.servePrepare(args[1:], w)
	case cmdVersions:
		err = c.serveVersions(args[1:], w)
	case cmdStates:
		c.serveStates(args[1:], w)
	case cmdRecords:
		err = c.serveRecords(args[1:], w)
	case cmdDigests:
		err = c.serveDigests(args[1:], w)
	default:
		err = errBadPayload
	}
	if err != nil {
		w.Error(err.Error())
	}
	return t
}

func upper(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

func (c *Cluster) serveRepl(args [][]byte, w *resp.Writer) (store.Ticket, error) {
	n, err := strconv.ParseUint(string(args[1]), 10, 64)
	if err != nil {
		return 0, errBadPayload
	}
	changes, err := decodeChanges(args[3])
	if err != nil {
		return 0, err
	}
	fence := string(args[2]) == "1" && !c.opts.Unfenced
	codes, t, err := c.st.Install(changes, store.Ballot{N: n, Node: string(args[0])}, fence, time.Now().UnixMilli())
	if err != nil {
		return t, errors.New("ERR " + err.Error())
	}
	w.Array(len(codes))
	for _, code := range codes {
		w.Int(int64(code))
	}
	return t, nil
}

func decodeChanges(b []byte) ([]store.Change, error) {
	var out []store.Change
	for len(b) > 0 {
		ch, rest, err := store.DecodeChange(b)
		if err != nil {
			return nil, errBadPayload
		}
		out = append(out, ch)
		b = rest
	}
	return out, nil
}

func parseApplied(v respValue, n int) ([]store.Applied, error) {
	if v.Kind != '*' || len(v.Array) != n {
		return nil, errBadPayload
	}
	out := make([]store.Applied, n)
	for i, x := range v.Array {
		if x.Kind != ':' {
			return nil, errBadPayload
		}
		out[i] = store.Applied(x.Int)
	}
	return out, nil
}

func (c *Cluster) servePrepare(args [][]byte, w *resp.Writer) error {
	b := args[1]
	if len(b)%10 != 0 {
		return errBadPayload
	}
	sender := string(args[0])
	v := c.View()
	bs := make([]store.SlotBallot, 0, len(b)/10)
	slots := make([]uint16, 0, len(b)/10)
	for ; len(b) > 0; b = b[10:] {
		slot := binary.BigEndian.Uint16(b) & (store.SlotCount - 1)
		n := binary.BigEndian.Uint64(b[2:])
		if p, ok := v.Primary(slot); (!ok || p != sender) && !c.opts.Unfenced {
			// Promise only to the node this replica sees as the slot's
			// primary: a node that others consider dead (or a node with a
			// stale view) cannot take the slot over from the live primary.
			n = 0
		}
		bs = append(bs, store.SlotBallot{Slot: slot, Ballot: store.Ballot{N: n, Node: sender}})
		slots = append(slots, slot)
	}
	promised, err := c.st.Promise(bs)
	if err != nil {
		return errors.New("ERR " + err.Error())
	}
	for i, p := range promised {
		if p.Node != c.self { // another node is taking the slot over
			if held := c.held[slots[i]].Load(); held != 0 && held < p.N {
				c.stepDown(slots[i], held, "promised a newer ballot to "+p.Node)
			}
		}
	}
	digests := c.st.SlotDigests(slots)
	var out []byte
	for i, p := range promised {
		out = binary.BigEndian.AppendUint64(out, p.N)
		out = append(out, byte(len(p.Node)))
		out = append(out, p.Node...)
		out = binary.BigEndian.AppendUint64(out, digests[i])
	}
	w.Bulk(out)
	return nil
}

// promise is one slot's answer to PREPARE.
type promise struct {
	ballot store.Ballot
	digest uint64
}

func parsePromises(v respValue, n int) ([]promise, error) {
	if v.Kind != '$' {
		return nil, errBadPayload
	}
	b := v.Str
	out := make([]promise, 0, n)
	for len(b) > 0 {
		if len(b) < 9 || len(b) < 9+int(b[8])+8 {
			return nil, errBadPayload
		}
		l := int(b[8])
		out = append(out, promise{store.Ballot{N: binary.BigEndian.Uint64(b), Node: string(b[9 : 9+l])}, binary.BigEndian.Uint64(b[9+l:])})
		b = b[9+l+8:]
	}
	if len(out) != n {
		return nil, errBadPayload
	}
	return out, nil
}

func (c *Cluster) serveVersions(args [][]byte, w *resp.Writer) error {
	slot, err := strconv.ParseUint(string(args[0]), 10, 16)
	if err != nil || slot >= store.SlotCount {
		return errBadPayload
	}
	out := binary.BigEndian.AppendUint64(nil, c.st.Promised(uint16(slot)).N)
	c.st.Update(0, func(tx *store.Tx) {
		for _, k := range args[1:] {
			v := tx.KeyVersion(k)
			out = binary.BigEndian.AppendUint64(out, v.Ballot)
			out = binary.BigEndian.AppendUint64(out, v.Stamp)
		}
	})
	w.Bulk(out)
	return nil
}

func parseVersions(v respValue, n int) (promised uint64, vs []store.Version, err error) {
	if v.Kind != '$' || len(v.Str) != 8+16*n {
		return 0, nil, errBadPayload
	}
	b := v.Str
	promised = binary.BigEndian.Uint64(b)
	for b = b[8:]; len(b) > 0; b = b[16:] {
		vs = append(vs, store.Version{Ballot: binary.BigEndian.Uint64(b), Stamp: binary.BigEndian.Uint64(b[8:])})
	}
	return promised, vs, nil
}

func (c *Cluster) serveStates(keys [][]byte, w *resp.Writer) {
	var out []byte
	for _, k := range keys {
		ch := c.stateChange(0, k)
		out = store.AppendChange(out, &ch)
	}
	w.Bulk(out)
}

// stateChange is key's whole state here as a Change. A key this node never
// saw (or whose tombstone was collected) goes as a tombstone of version
// zero, which changes nothing where it is installed.
func (c *Cluster) stateChange(db int, key []byte) store.Change {
	ch := store.Change{DB: db, Key: key, State: c.st.KeyState(db, key)}
	if ch.Version.IsZero() {
		ch.Deleted = true
	}
	return ch
}

func (c *Cluster) serveRecords(args [][]byte, w *resp.Writer) error {
	slot, err := strconv.ParseUint(string(args[0]), 10, 16)
	if err != nil || slot >= store.SlotCount {
		return errBadPayload
	}
	var out []byte
	err = c.st.SlotRecords(0, uint16(slot), func(r store.Record) bool {
		out = binary.AppendUvarint(out, uint64(len(r.Key)))
		out = append(out, r.Key...)
		out = binary.BigEndian.AppendUint64(out, r.Version.Ballot)
		out = binary.BigEndian.AppendUint64(out, r.Version.Stamp)
		if r.Deleted {
			out = append(out, 1)
		} else {
			out = append(out, 0)
		}
		return true
	})
	if err != nil {
		return errors.New("ERR " + err.Error())
	}
	w.Bulk(out)
	return nil
}

// record is one key's version in a slot listing.
type record struct {
	version store.Version
	deleted bool
}

func parseRecords(v respValue) (map[string]record, error) {
	if v.Kind != '$' {
		return nil, errBadPayload
	}
	b := v.Str
	out := make(map[string]record)
	for len(b) > 0 {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l+17 {
			return nil, errBadPayload
		}
		b = b[n:]
		key := string(b[:l])
		b = b[l:]
		out[key] = record{store.Version{Ballot: binary.BigEndian.Uint64(b), Stamp: binary.BigEndian.Uint64(b[8:])}, b[16] == 1}
		b = b[17:]
	}
	return out, nil
}

func (c *Cluster) serveDigests(args [][]byte, w *resp.Writer) error {
	b := args[0]
	if len(b)%2 != 0 {
		return errBadPayload
	}
	slots := make([]uint16, 0, len(b)/2)
	for ; len(b) > 0; b = b[2:] {
		slots = append(slots, binary.BigEndian.Uint16(b))
	}
	var out []byte
	for _, d := range c.st.SlotDigests(slots) {
		out = binary.BigEndian.AppendUint64(out, d)
	}
	w.Bulk(out)
	return nil
}

func appendSlots(dst []byte, slots []uint16) []byte {
	for _, s := range slots {
		dst = binary.BigEndian.AppendUint16(dst, s)
	}
	return dst
}

func parseDigests(v respValue, n int) ([]uint64, error) {
	if v.Kind != '$' || len(v.Str) != 8*n {
		return nil, errBadPayload
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = binary.BigEndian.Uint64(v.Str[8*i:])
	}
	return out, nil
}

// pullStates fetches keys' states (database 0) from a peer and installs
// the newer ones here.
func (c *Cluster) pullStates(ctx context.Context, peer string, keys [][]byte) error {
	for len(keys) > 0 {
		batch := keys[:min(len(keys), 256)]
		keys = keys[len(batch):]
		r, err := c.call(ctx, peer, append([][]byte{[]byte(cmdStates)}, batch...)...)
		if err != nil {
			return err
		}
		if r.Kind != '$' {
			return errBadPayload
		}
		changes, err := decodeChanges(r.Str)
		if err != nil {
			return err
		}
		t, err := c.installLocal(changes)
		if err != nil {
			return err
		}
		if err := c.st.Acknowledge(t); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) installLocal(changes []store.Change) (store.Ticket, error) {
	_, t, err := c.st.Install(changes, store.Ballot{}, false, time.Now().UnixMilli())
	return t, err
}

// pushKeys sends this node's states of keys (database 0) to a peer. With
// ballot != 0 the peer fences them with it (a primary's repair).
func (c *Cluster) pushKeys(ctx context.Context, peer string, slot uint16, ballot uint64, keys [][]byte) error {
	for len(keys) > 0 {
		batch := keys[:min(len(keys), 256)]
		keys = keys[len(batch):]
		cs := make([]store.Change, len(batch))
		for i, k := range batch {
			cs[i] = store.Change{Key: k}
		}
		if err := c.pushStates(ctx, peer, slot, ballot, cs); err != nil {
			return err
		}
	}
	return nil
}

// pushStates sends whole states to a peer, re-reading each key's current
// state here (a delta cannot be resent on its own), and fails unless the
// peer holds them all afterwards.
func (c *Cluster) pushStates(ctx context.Context, peer string, slot uint16, ballot uint64, cs []store.Change) error {
	var msg []byte
	for i := range cs {
		full := c.stateChange(cs[i].DB, cs[i].Key)
		msg = store.AppendChange(msg, &full)
	}
	fence := "0"
	if ballot != 0 {
		fence = "1"
	}
	r, err := c.call(ctx, peer, []byte(cmdRepl), []byte(c.self), []byte(strconv.FormatUint(ballot, 10)), []byte(fence), msg)
	if err != nil {
		return err
	}
	codes, err := parseApplied(r, len(cs))
	if err != nil {
		return err
	}
	for _, code := range codes {
		switch code {
		case store.Fenced:
			c.stepDown(slot, ballot, "a repair was fenced")
			return ErrTryAgain
		case store.Gap:
			return errBadPayload
		}
	}
	return nil
}
