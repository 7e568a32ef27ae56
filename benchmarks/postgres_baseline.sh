#!/usr/bin/env bash
# Peer baseline: warehouse-style identity stitching, as RudderStack Profiles does it: iterative
# connected components (label propagation) in SQL, here on a local PostgreSQL started for the run
# and stopped afterwards.
#
#   benchmarks/postgres_baseline.sh NODES_FILE EVENTS
#
# NODES_FILE: "event number<TAB>type:value" lines (macro_benchmark --nodes-file). Each event links
# its identifiers (a star from its smallest one); every identifier starts with its own label, and
# each round gives every identifier the smallest label among itself and its neighbours until
# nothing changes. Prints the load and stitching times, rounds and profiles (components).
set -euo pipefail
nodes=$(readlink -f "$1")
events=$2
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bindir/initdb" ] || { echo "postgres_baseline: PostgreSQL is not installed" >&2; exit 1; }
work=$(mktemp -d /tmp/omnijourney_pg.XXXXXX)
chmod 755 "$work"
chmod 644 "$nodes"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$work"
  as_pg=(runuser -u postgres --)
fi
port=54329
stop() { "${as_pg[@]}" "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap stop EXIT
"${as_pg[@]}" "$bindir/initdb" -D "$work/data" -A trust -U bench >/dev/null
"${as_pg[@]}" "$bindir/pg_ctl" -D "$work/data" -l "$work/log" -w \
  -o "-k $work -p $port -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c shared_buffers=512MB -c work_mem=256MB -c max_wal_size=4GB" start >/dev/null
psql() { "${as_pg[@]}" /usr/bin/psql -X -q -v ON_ERROR_STOP=1 -h "$work" -p "$port" -U bench -d postgres "$@"; }

start=$(date +%s.%N)
psql <<SQL
CREATE UNLOGGED TABLE event_ids (event bigint, node text);
\copy event_ids FROM '$nodes'
SQL
loaded=$(date +%s.%N)
out=$(psql -t -A <<'SQL'
SET client_min_messages = warning;
CREATE UNLOGGED TABLE ids AS SELECT node, row_number() OVER (ORDER BY node) AS id FROM (SELECT DISTINCT node FROM event_ids) n;
CREATE UNIQUE INDEX ON ids (node);
CREATE UNLOGGED TABLE hub AS SELECT e.event, min(i.id) AS id FROM event_ids e JOIN ids i USING (node) GROUP BY e.event;
CREATE UNLOGGED TABLE edges AS
  SELECT h.id AS a, i.id AS b FROM event_ids e JOIN ids i USING (node) JOIN hub h USING (event) WHERE i.id <> h.id;
INSERT INTO edges SELECT b, a FROM edges;
CREATE INDEX ON edges (a);
CREATE UNLOGGED TABLE labels AS SELECT id, id AS label FROM ids;
CREATE UNIQUE INDEX ON labels (id);
ANALYZE;
DO $$
DECLARE changed bigint; rounds int := 0;
BEGIN
  LOOP
    rounds := rounds + 1;
    CREATE TEMP TABLE nl AS
      SELECT e.a AS id, min(l.label) AS label FROM edges e JOIN labels l ON l.id = e.b GROUP BY e.a;
    UPDATE labels l SET label = nl.label FROM nl WHERE nl.id = l.id AND nl.label < l.label;
    GET DIAGNOSTICS changed = ROW_COUNT;
    DROP TABLE nl;
    EXIT WHEN changed = 0;
  END LOOP;
  CREATE TEMP TABLE result AS SELECT rounds AS rounds;
END $$;
SELECT (SELECT rounds FROM result) || ' rounds, ' || count(DISTINCT label) || ' profiles' FROM labels;
SQL
)
done=$(date +%s.%N)
awk -v s="$start" -v l="$loaded" -v d="$done" -v n="$events" -v out="$out" 'BEGIN {
  printf "postgres connected components: load %.2f s, stitch %.2f s, %.0f events/s end to end (%s)\n", l - s, d - l, n / (d - s), out }'
