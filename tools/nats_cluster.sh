#!/usr/bin/env bash
# A NATS JetStream cluster on 127.0.0.1 for the demo, tests and benchmarks: every port (client,
# route, monitoring) on loopback, each server stopped by its pid.
#
#   tools/nats_cluster.sh start DIR [BASE_PORT] [NODES]   writes DIR/nK.conf, starts the servers,
#                                                         waits until JetStream has a leader
#   tools/nats_cluster.sh stop DIR                        stops every server it started (by pid)
#   tools/nats_cluster.sh kill DIR K                      SIGKILL of server K (1-based)
#   tools/nats_cluster.sh restart DIR K                   starts server K again (same config)
#   tools/nats_cluster.sh servers DIR                     the client URLs, one per line
#
# Server K listens on BASE_PORT+K-1 (clients), BASE_PORT+100+K-1 (routes) and BASE_PORT+200+K-1
# (monitoring). BASE_PORT defaults to 14222, NODES to 3.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

server_pid() { [ -f "$dir/n$1.pid" ] && cat "$dir/n$1.pid"; }
alive() { local pid; pid=$(server_pid "$1" || true); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

start_node() {
  local k=$1
  alive "$k" && return 0
  nats-server -c "$dir/n$k.conf" >>"$dir/n$k.log" 2>&1 &
  echo $! >"$dir/n$k.pid"
}

# Waits until every running server answers /healthz (JetStream current) on its monitoring port.
wait_healthy() {
  local base nodes deadline k port
  base=$(cat "$dir/base_port") nodes=$(cat "$dir/nodes")
  deadline=$((SECONDS + 60))
  for k in $(seq 1 "$nodes"); do
    alive "$k" || continue
    port=$((base + 200 + k - 1))
    until curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
      if [ $SECONDS -ge $deadline ]; then
        echo "nats_cluster: server $k not healthy after 60 s (log: $dir/n$k.log)" >&2
        tail -5 "$dir/n$k.log" >&2 || true
        return 1
      fi
      sleep 0.2
    done
  done
}

case "$cmd" in
  start)
    base=${3:-14222}
    nodes=${4:-3}
    command -v nats-server >/dev/null || { echo "nats_cluster: nats-server is not installed" >&2; exit 1; }
    mkdir -p "$dir"
    echo "$base" >"$dir/base_port"
    echo "$nodes" >"$dir/nodes"
    for k in $(seq 1 "$nodes"); do
      routes=""
      for j in $(seq 1 "$nodes"); do
        [ "$j" -eq "$k" ] && continue
        routes="$routes nats-route://127.0.0.1:$((base + 100 + j - 1))"
      done
      mkdir -p "$dir/n$k"
      cat >"$dir/n$k.conf" <<EOF
server_name: n$k
listen: 127.0.0.1:$((base + k - 1))
http: 127.0.0.1:$((base + 200 + k - 1))
jetstream {
  store_dir: "$dir/n$k"
  max_memory_store: 256MB
  max_file_store: 8GB
}
cluster {
  name: omnijourney
  listen: 127.0.0.1:$((base + 100 + k - 1))
  routes: [$(echo "$routes" | sed 's/^ //; s/ /, /g')]
}
EOF
      start_node "$k"
    done
    wait_healthy
    ;;
  stop)
    for f in "$dir"/n*.pid; do
      [ -f "$f" ] || continue
      pid=$(cat "$f")
      kill -TERM "$pid" 2>/dev/null || true
    done
    for f in "$dir"/n*.pid; do
      [ -f "$f" ] || continue
      pid=$(cat "$f")
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      rm -f "$f"
    done
    ;;
  kill)
    pid=$(server_pid "$3")
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    ;;
  restart)
    start_node "$3"
    wait_healthy
    ;;
  servers)
    base=$(cat "$dir/base_port") nodes=$(cat "$dir/nodes")
    for k in $(seq 1 "$nodes"); do echo "nats://127.0.0.1:$((base + k - 1))"; done
    ;;
  *)
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
