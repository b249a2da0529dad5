#!/usr/bin/env bash
# The Go client flows (go-redis, rueidis, redsync, redislock, redis_rate)
# against CAIRN_ADDR or CAIRN_CLUSTER; see main_test.go. A module of its own,
# so the server's go.mod does not carry the client libraries.
set -euo pipefail
cd "$(dirname "$0")"
exec go test -count=1 -v -timeout "${COMPAT_GO_TIMEOUT:-4m}" ./...
