#!/usr/bin/env bash
# The identity-only peers on the same identifier pairs as the macro table, in the same run, and the
# engine's ratio to each.
#
#   benchmarks/peers.sh NODES_FILE EVENTS ENGINE_EVENTS_PER_SECOND
#
# NODES_FILE: macro_benchmark --nodes-file; ENGINE_EVENTS_PER_SECOND: its first row (the whole
# engine: validation, identity with rules, timelines, journeys). The peers only stitch identities:
#   - a streaming union-find in Node.js (benchmarks/peers/unionfind.mjs);
#   - DuckDB connected components, 1 and 2 threads (benchmarks/peers/duckdb_components.mjs, npm
#     @duckdb/node-api, installed into benchmarks/peers/node_modules on first use);
#   - PostgreSQL connected components (benchmarks/postgres_baseline.sh).
# A peer that cannot run prints why; the others still run.
set -uo pipefail
cd "$(dirname "$0")/.."
nodes=$1
events=$2
engine=$3
peers=benchmarks/peers
if [ ! -d "$peers/node_modules/@duckdb/node-api" ]; then
  (cd "$peers" && npm install --no-audit --no-fund --loglevel=error >/dev/null) || echo "peers: npm install failed: no DuckDB row" >&2
fi
results=()
run() {  # run LABEL COMMAND...: the command prints one line ending in "... N events/s ..."
  local label=$1
  shift
  local out
  if out=$("$@" 2>&1); then
    echo "$out"
    local rate
    rate=$(echo "$out" | tail -1 | grep -oE '[0-9]+ events/s' | head -1 | awk '{print $1}')
    [ -n "$rate" ] && results+=("$label|$rate")
  else
    echo "peers: $label failed: $(echo "$out" | tail -1)" >&2
  fi
}
run "node streaming union-find" node "$peers/unionfind.mjs" "$nodes" "$events"
run "duckdb connected components, 1 thread" node "$peers/duckdb_components.mjs" "$nodes" "$events" 1
run "duckdb connected components, 2 threads" node "$peers/duckdb_components.mjs" "$nodes" "$events" 2
run "postgres connected components" benchmarks/postgres_baseline.sh "$nodes" "$events"
echo
printf '%-42s %14s %s\n' "peer (identity only, same identifiers)" "events/s" "engine's ratio to it"
for r in "${results[@]}"; do
  label=${r%%|*}
  rate=${r##*|}
  printf '%-42s %14s x%.2f\n' "$label" "$rate" "$(awk -v e="$engine" -v p="$rate" 'BEGIN {print e / p}')"
done
