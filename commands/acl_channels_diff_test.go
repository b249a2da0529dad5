package commands

import (
	"strings"
	"testing"
	"time"
)

// ACL channel permissions compared with redis-server 7.0 byte for byte:
// NOPERM texts, ACL LIST/GETUSER/DRYRUN/LOG, acl-pubsub-default, and the
// subscribers closed when their user loses channels.

// channelDiffers returns a function that opens one more connection to
// each of a fresh redis-server and a fresh Cairn node.
func channelDiffers(t *testing.T) func() *differ {
	r := startRedis(t)
	n := testNode(t)
	return func() *differ {
		return &differ{t: t, redis: dialRaw(t, r.addr), cairn: dialRaw(t, n.Addr())}
	}
}

func TestACLChannelsDiff(t *testing.T) {
	conn := channelDiffers(t)
	admin := conn()
	admin.do("CONFIG", "GET", "acl-pubsub-default")
	admin.do("ACL", "SETUSER", "u1", "on", "nopass", "+@all", "~*") // 7.0: new users get resetchannels
	admin.do("ACL", "SETUSER", "u2", "on", "nopass", "+@all", "~*", "&foo", "&ba*")
	admin.do("ACL", "LIST")
	for _, u := range []string{"u1", "u2", "default"} {
		admin.do("ACL", "GETUSER", u)
	}

	u := conn()
	u.do("AUTH", "u2", "x")
	u.do("PUBLISH", "foo", "x")
	u.do("PUBLISH", "bar", "x") // a glob match
	u.do("PUBLISH", "zap", "x")
	u.do("SPUBLISH", "zap", "x")
	u.do("SPUBLISH", "baz", "x")
	u.do("SUBSCRIBE", "foo", "zap") // one refused channel refuses the command
	u.do("SSUBSCRIBE", "zap")
	u.do("PSUBSCRIBE", "b*") // a pattern must be allowed literally
	u.do("MULTI")
	u.do("PUBLISH", "zap", "x")
	u.do("PUBLISH", "foo", "x")
	u.do("EXEC")
	u.do("PUBSUB", "NUMSUB", "zap") // not a channel permission
	u.do("UNSUBSCRIBE", "zap")      // unsubscribing is always allowed
	u.do("SUNSUBSCRIBE", "zap")
	u.do("PSUBSCRIBE", "ba*")
	u.do("PUNSUBSCRIBE")
	u1 := conn()
	u1.do("AUTH", "u1", "x")
	u1.do("PUBLISH", "foo", "x")
	u1.do("SUBSCRIBE", "foo")

	for _, args := range [][]string{
		{"PUBLISH", "zap", "x"},
		{"PSUBSCRIBE", "b*"},
		{"PSUBSCRIBE", "ba*"},
		{"SUBSCRIBE", "foo", "zap"},
		{"SSUBSCRIBE", "foo", "zap"},
		{"SPUBLISH", "zap", "x"},
		{"UNSUBSCRIBE", "zap"},
		{"PUBSUB", "NUMSUB", "zap"},
		{"PUBLISH", "foo", "x"},
		{"PUBLISH", "zap"},
	} {
		admin.do(append([]string{"ACL", "DRYRUN", "u2"}, args...)...)
	}
	want, got := aclLogFields(admin.redis.do("ACL", "LOG")), aclLogFields(admin.cairn.do("ACL", "LOG"))
	if got != want {
		t.Errorf("ACL LOG:\n redis: %s\n cairn: %s", want, got)
	}

	// acl-pubsub-default and the channel rules.
	admin.do("ACL", "SETUSER", "u3", "reset")
	admin.do("CONFIG", "SET", "acl-pubsub-default", "allchannels")
	admin.do("CONFIG", "GET", "acl-pubsub-default")
	admin.do("ACL", "SETUSER", "u4")
	admin.do("ACL", "SETUSER", "u3", "reset")
	admin.do("ACL", "SETUSER", "u5", "&foo") // after the default's allchannels
	admin.do("ACL", "SETUSER", "u6", "&*")
	admin.do("ACL", "GETUSER", "u4")
	admin.do("CONFIG", "SET", "acl-pubsub-default", "foo")
	admin.do("CONFIG", "SET", "acl-pubsub-default", "resetchannels")
	admin.do("ACL", "SETUSER", "x1", "&*", "&*")
	admin.do("ACL", "SETUSER", "x2", "&foo", "&*")
	admin.do("ACL", "SETUSER", "x3", "allchannels", "&foo")
	admin.do("ACL", "SETUSER", "x4", "&foo", "allchannels", "resetchannels", "&bar", "&bar")
	admin.do("ACL", "GETUSER", "x4")
	admin.do("ACL", "LIST")
}

// aclLogFields reduces an ACL LOG reply to the fields that do not depend
// on time or connection details: count, reason, context, object, username.
func aclLogFields(raw string) string {
	n, err := rtParseBytes([]byte(raw))
	if err != nil {
		return "unparsable: " + raw
	}
	var b strings.Builder
	for _, e := range n.elems {
		for i := 0; i+1 < len(e.elems); i += 2 {
			switch k := e.elems[i].str; k {
			case "age-seconds", "client-info":
			default:
				b.WriteString(k + "=" + e.elems[i+1].str + " ")
			}
		}
		b.WriteString("| ")
	}
	return b.String()
}

// A user's connections subscribed to a channel, pattern or shard channel
// its new rules no longer allow are closed; the others stay.
func TestACLChannelsDiff_KillRevoked(t *testing.T) {
	conn := channelDiffers(t)
	admin := conn()
	admin.do("ACL", "SETUSER", "k", "on", "nopass", "+@all", "~*", "&foo", "&bar")
	login := func() *differ {
		d := conn()
		d.do("AUTH", "k", "x")
		return d
	}
	channel := login()
	channel.do("SUBSCRIBE", "foo")
	pattern := login()
	pattern.do("PSUBSCRIBE", "bar")
	shard := login()
	shard.redis.do("HELLO", "3") // server details differ: not compared
	shard.cairn.do("HELLO", "3")
	shard.do("SSUBSCRIBE", "bar")
	left := login() // subscribed, then no more
	left.do("SUBSCRIBE", "foo")
	left.do("UNSUBSCRIBE", "foo")
	plain := login()

	alive := func(step string, d *differ, want bool) {
		t.Helper()
		r, c := isAlive(d.redis), isAlive(d.cairn)
		if r != want {
			t.Errorf("%s: redis connection alive=%v, expected %v (bad test)", step, r, want)
		}
		if c != want {
			t.Errorf("%s: cairn connection alive=%v, want %v", step, c, want)
		}
	}
	admin.do("ACL", "SETUSER", "k", "&baz") // more channels: nobody closed
	for _, d := range []*differ{channel, pattern, shard, left, plain} {
		alive("added &baz", d, true)
	}
	admin.do("ACL", "SETUSER", "k", "resetchannels", "&foo")
	alive("kept &foo", channel, true)
	alive("kept &foo", pattern, false)
	alive("kept &foo", shard, false)
	alive("kept &foo", left, true)
	alive("kept &foo", plain, true)
	admin.do("ACL", "SETUSER", "k", "resetchannels", "&fo*") // foo still matches
	alive("&fo*", channel, true)
	admin.do("ACL", "SETUSER", "k", "allchannels")
	admin.do("ACL", "SETUSER", "k", "resetchannels")
	alive("resetchannels", channel, false)
	alive("resetchannels", plain, true)
}

// isAlive sends PING and reports whether a reply came back.
func isAlive(r *rawConn) bool {
	r.nc.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if _, err := r.nc.Write([]byte(encodeCommand([]string{"PING"}))); err != nil {
		return false
	}
	r.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err := readReply(r.br)
	return err == nil
}
