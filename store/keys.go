package store

import (
	"encoding/binary"
	"errors"

	"cairn/zset"
)

// SlotCount is the number of Redis Cluster hash slots.
const SlotCount = 16384

// KeySlot is the Redis Cluster hash slot of key: CRC16 (XMODEM) of the key,
// or of its {hashtag} when the key has a non-empty one, modulo 16384.
func KeySlot(key []byte) uint16 {
	for i, c := range key {
		if c != '{' {
			continue
		}
		for j := i + 1; j < len(key); j++ {
			if key[j] == '}' {
				if j > i+1 {
					key = key[i+1 : j]
				}
				return crc16(key) & (SlotCount - 1)
			}
		}
		break
	}
	return crc16(key) & (SlotCount - 1)
}

// Record kinds, the byte after the slot and db in every Pebble key.
const (
	kindMeta   byte = 'm' // one per user key: type, version, expiry and (strings) the value; or a tombstone
	kindMember byte = 'z' // one per sorted-set member: its score
)

// Pebble key layout: db (1 byte) | slot (2 bytes, big endian) | kind (1 byte) | user key.
// A database is one contiguous key range (FLUSHDB is one range deletion),
// and within it a slot is one contiguous range, so rebalancing and slot
// deletion work on ranges (a cluster serves database 0 only, as Redis
// Cluster does).
const keyPrefixLen = 4

// appendMetaKey appends the Pebble key of key's metadata record to dst.
func appendMetaKey(dst []byte, db int, key []byte) []byte {
	dst = append(dst, byte(db))
	dst = binary.BigEndian.AppendUint16(dst, KeySlot(key))
	dst = append(dst, kindMeta)
	return append(dst, key...)
}

// decodeMetaKey splits a Pebble key into db and user key; ok is false for
// keys of another kind.
func decodeMetaKey(k []byte) (db int, key []byte, ok bool) {
	if len(k) < keyPrefixLen || k[3] != kindMeta {
		return 0, nil, false
	}
	return int(k[0]), k[keyPrefixLen:], true
}

// Member record key: db | slot | 'z' | len(key) (4 bytes, big endian) | key | member.
// The length makes a key's members one contiguous range that no other key
// shares. Value: score (float64 bits, 8 bytes big endian).
const memberValueLen = 8

// appendMemberPrefix appends the common prefix of key's member records.
func appendMemberPrefix(dst []byte, db int, key []byte) []byte {
	dst = append(dst, byte(db))
	dst = binary.BigEndian.AppendUint16(dst, KeySlot(key))
	dst = append(dst, kindMember)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(key)))
	return append(dst, key...)
}

// decodeMemberKey splits a member record key; ok is false for other kinds.
func decodeMemberKey(k []byte) (db int, key, member []byte, ok bool) {
	if len(k) < keyPrefixLen+4 || k[3] != kindMember {
		return 0, nil, nil, false
	}
	n := int(binary.BigEndian.Uint32(k[keyPrefixLen:]))
	rest := k[keyPrefixLen+4:]
	if n > len(rest) {
		return 0, nil, nil, false
	}
	return int(k[0]), rest[:n], rest[n:], true
}

// prefixEnd returns the smallest key greater than every key starting with p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil // p is all 0xff: no upper bound
}

// Metadata value layout: type (1) | version ballot (8) | version stamp (8) |
// expireAt ms (8, signed) | payload. Type TypeNone is a tombstone (cluster
// mode): the key was deleted at that version.
const metaHeaderLen = 25

func appendMetaValue(dst []byte, e *Entry) []byte {
	dst = append(dst, byte(e.Type))
	dst = binary.BigEndian.AppendUint64(dst, e.Version.Ballot)
	dst = binary.BigEndian.AppendUint64(dst, e.Version.Stamp)
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.ExpireAt))
	if e.Type == TypeString {
		dst = append(dst, e.Str...)
	}
	return dst
}

var errBadRecord = errors.New("store: malformed metadata record")

// decodeMetaValue parses a metadata record. The entry's Str is a copy. A
// tombstone decodes to Type TypeNone.
func decodeMetaValue(v []byte, e *Entry) error {
	if len(v) < metaHeaderLen {
		return errBadRecord
	}
	e.Type = Type(v[0])
	e.Version = Version{binary.BigEndian.Uint64(v[1:9]), binary.BigEndian.Uint64(v[9:17])}
	e.ExpireAt = int64(binary.BigEndian.Uint64(v[17:25]))
	switch e.Type {
	case TypeNone:
	case TypeString:
		e.Str = append([]byte(nil), v[metaHeaderLen:]...)
	case TypeZSet:
		e.Z = zset.New() // members follow in their own records
	default:
		return errBadRecord
	}
	return nil
}

// crc16 is CRC-16/XMODEM (poly 0x1021), as Redis Cluster uses.
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc = crc<<8 ^ crc16Table[byte(crc>>8)^c]
	}
	return crc
}

var crc16Table = func() (t [256]uint16) {
	for i := range t {
		crc := uint16(i) << 8
		for j := 0; j < 8; j++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[i] = crc
	}
	return t
}()
