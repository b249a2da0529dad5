#!/usr/bin/env bash
# ioredis flows against CAIRN_ADDR=host:port (one server) or
# CAIRN_CLUSTER=host:port,host:port,... (a cluster). Exit 0 = pass.
set -euo pipefail
cd "$(dirname "$0")"
if [ -z "${CAIRN_ADDR:-}" ] && [ -z "${CAIRN_CLUSTER:-}" ]; then
	echo "compat/node: set CAIRN_ADDR or CAIRN_CLUSTER" >&2
	exit 2
fi
if [ ! -d node_modules/ioredis ]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
exec node --test --test-timeout=60000 compat.test.js
