package commands

import "slices"

// Scripts in cluster mode. Every node has its own script cache, while
// EVAL and EVALSHA run on the node serving their keys' slot, usually
// another one. So that EVALSHA works through any node after SCRIPT LOAD
// or EVAL through any node:
//
//   - SCRIPT LOAD and SCRIPT FLUSH, once done here, also run on every
//     other live member (CAIRN.SCRIPT), before the reply. A member that
//     is down or does not answer in time misses them.
//   - A node forwarding EVALSHA (EVALSHA_RO) whose cache has the script
//     forwards EVAL (EVAL_RO) with its body instead: the reply is the same,
//     and the executing node caches the script as EVAL does.
//   - A node forwarding EVAL (EVAL_RO) caches the script itself too, as it
//     would if it ran it.
//
// EVALSHA therefore gets NOSCRIPT only when neither the node it reaches
// nor the one serving the slot has the script (both restarted since it was
// loaded, say); clients then fall back to EVAL as with Redis.

// clusterScripts wraps the handler of SCRIPT LOAD or SCRIPT FLUSH: in
// cluster mode, once it succeeded here, the same subcommand runs on every
// other live member.
func clusterScripts(h func(*Ctx)) func(*Ctx) {
	return func(c *Ctx) {
		mark := c.W.Len()
		h(c)
		if s := c.Srv; s.cluster != nil && c.W.Len() > mark && c.W.Buffered()[mark] != '-' {
			s.onPeers(append([][]byte{[]byte("CAIRN.SCRIPT")}, c.Args[1:]...)...)
		}
	}
}

// cmdPeerScript is CAIRN.SCRIPT LOAD body and CAIRN.SCRIPT FLUSH [mode]: a
// peer's SCRIPT LOAD or FLUSH, applied to this node's cache only.
func cmdPeerScript(c *Ctx) {
	sc := c.Srv.scripts
	switch {
	case eqFold(c.Args[1], "load") && len(c.Args) == 3:
		sc.cmdLoad(c)
	case eqFold(c.Args[1], "flush"):
		sc.cmdFlush(c)
	default:
		c.W.Error("ERR malformed CAIRN.SCRIPT")
	}
}

// forwardArgs returns the arguments of a command (spec, args) to forward
// to the node serving its slot: EVALSHA and EVALSHA_RO of a script this
// node has become EVAL and EVAL_RO with its body, and a forwarded EVAL or
// EVAL_RO caches its script here. Other commands go as they are.
func (s *Server) forwardArgs(spec *Spec, args [][]byte) [][]byte {
	switch spec.fullName {
	case "eval", "eval_ro":
		s.scripts.load(args[1]) // a compile error is the executing node's to report
	case "evalsha", "evalsha_ro":
		if cs := s.scripts.get(args[1]); cs != nil {
			args = slices.Clone(args)
			args[0] = []byte("EVAL")
			if spec.fullName == "evalsha_ro" {
				args[0] = []byte("EVAL_RO")
			}
			args[1] = []byte(cs.body)
		}
	}
	return args
}
