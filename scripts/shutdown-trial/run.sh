#!/usr/bin/env bash
# Usage: scripts/shutdown-trial/run.sh BINARY [CLIENTS]   (default 32 clients, 8 s of load)
# Measures how `BINARY serve` for node 330000 shuts down on SIGTERM under search load
# (docs/operations.md, "Stopping"). Works in $TRIAL_DIR (default /tmp/tong-shutdown-trial):
# the 100,000-policy home is built once there and copied fresh for each run.
set -euo pipefail
BIN=$(readlink -f "${1:?usage: run.sh BINARY [CLIENTS]}"); CLIENTS=${2:-32}
S=$(cd "$(dirname "$0")" && pwd); D=${TRIAL_DIR:-/tmp/tong-shutdown-trial}; N_POLICIES=${N_POLICIES:-100000}; LOAD_S=${LOAD_S:-8}
mkdir -p "$D"; cd "$D"
# 1. Base federation with ~100k policies in 330000, built once and reused.
if [ ! -f "$D/base/.complete" ]; then
  rm -rf "$D/base.tmp"; mkdir -p "$D/base.tmp"
  [ -s "$D/policies.jsonl" ] || python3 "$S/gen.py" "$N_POLICIES" "$D/policies.jsonl"
  "$BIN" federation create --topology "$S/topo.toml" --out "$D/base.tmp/fed"
  "$BIN" policy import --home "$D/base.tmp/fed/330000" "$D/policies.jsonl" 2>&1 | tail -2
  touch "$D/base.tmp/.complete"; rm -rf "$D/base"; mv "$D/base.tmp" "$D/base"
fi
# 2. Fresh copy per run.
N=1; while [ -e "$D/run-$N" ]; do N=$((N+1)); done
R="$D/run-$N"; mkdir -p "$R"; cp -a "$D/base/fed" "$R/fed"
echo "run $N: $BIN clients=$CLIENTS" | tee "$R/cmd.txt"
# 3-5. Serve, load, SIGTERM, summary (driver.py does it all; server pid in $R/server.pid).
python3 "$S/driver.py" "$BIN" "$R/fed/330000" "$CLIENTS" "$R" "$LOAD_S"
echo "--- last server log lines:"; tail -n 4 "$R/server.log" | cut -c1-220
