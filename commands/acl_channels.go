package commands

// ACL channel permissions (Redis 7.0): a user's &<pattern> rules govern
// the channels PUBLISH, SPUBLISH, SUBSCRIBE and SSUBSCRIBE name (matched
// as glob patterns) and the patterns PSUBSCRIBE names (which must be in
// the list literally). acl-pubsub-default gives new users allchannels or
// resetchannels (the 7.0 default); the default user has allchannels. When
// ACL SETUSER takes channels away from a user, its connections subscribed
// to a channel or pattern no longer allowed are closed.

import (
	"cairn/resp"
)

// channelArg says which arguments of a command are channels: the first,
// or with all every argument from the first on; pattern marks them as
// patterns, matched literally.
type channelArg struct{ all, pattern bool }

// channelArgs are the commands whose channels ACL permissions check
// (Redis's channel flags publish and subscribe; unsubscribing is always
// allowed).
var channelArgs = map[string]channelArg{
	"publish":    {},
	"spublish":   {},
	"subscribe":  {all: true},
	"ssubscribe": {all: true},
	"psubscribe": {all: true, pattern: true},
}

// checkChannels reports whether u may use the channels in args
// (ACLSelectorCheckCmd's channel part): the first refused one is the
// denial's object.
func (u *aclUser) checkChannels(spec *Spec, args [][]byte) (aclDenial, bool) {
	if u.allChannels {
		return aclDenial{}, true
	}
	ca, ok := channelArgs[spec.fullName]
	if !ok {
		return aclDenial{}, true
	}
	last := 1
	if ca.all {
		last = len(args) - 1
	}
	for _, ch := range args[1 : last+1] {
		if !channelAllowed(u.channels, ch, ca.pattern) {
			return aclDenial{"channel", string(ch)}, false
		}
	}
	return aclDenial{}, true
}

// channelAllowed reports whether the channel patterns allow ch: a channel
// matches any of them as a glob pattern, a pattern (PSUBSCRIBE) must be
// one of them (ACLCheckChannelAgainstList).
func channelAllowed(allowed []string, ch []byte, pattern bool) bool {
	for _, p := range allowed {
		if pattern && p == string(ch) || !pattern && globMatch([]byte(p), ch, false) {
			return true
		}
	}
	return false
}

// killRevokedSubscribers closes the connections of user name that are
// subscribed to a channel, pattern or shard channel that u, the user's new
// rules, no longer allows (ACLKillPubsubClientsIfNeeded). Nothing is
// checked when u has allchannels or keeps every channel pattern old had.
// The connection running the command is closed after its reply.
func (s *Server) killRevokedSubscribers(self *resp.Conn, name string, old, u *aclUser) {
	if u.allChannels || s.wire == nil {
		return
	}
	kept := true
	for _, p := range old.channels {
		kept = kept && containsString(u.channels, p)
	}
	if kept {
		return
	}
	for _, conn := range s.wire.Clients() {
		if conn.User() != name || !s.pubsub.revoked(conn.ID(), u.channels) {
			continue
		}
		if conn == self {
			conn.CloseAfterReply()
		} else {
			conn.Close()
		}
	}
}

// revoked reports whether connection id is subscribed to something the
// channel patterns allowed do not allow.
func (ps *pubsubState) revoked(id uint64, allowed []string) bool {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	sub := ps.byConn[id]
	if sub == nil {
		return false
	}
	for k, own := range sub.names {
		for name := range own {
			if !channelAllowed(allowed, []byte(name), subKind(k) == kindPattern) {
				return true
			}
		}
	}
	return false
}

// newUserChannels gives a new user the channels of acl-pubsub-default.
func (a *aclState) newUserChannels(u *aclUser) {
	if a.allChannelsDefault.Load() {
		u.allChannels, u.channels = true, []string{"*"}
	}
}
