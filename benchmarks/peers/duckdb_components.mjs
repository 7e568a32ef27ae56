// Peer baseline: warehouse-style identity stitching in DuckDB (@duckdb/node-api, in memory): the
// same iterative connected components (label propagation) as benchmarks/postgres_baseline.sh, the
// approach of RudderStack Profiles.
//
//   node benchmarks/peers/duckdb_components.mjs NODES_FILE EVENTS THREADS
//
// NODES_FILE: "event number<TAB>type:value" lines (macro_benchmark --nodes-file). Each event links
// its identifiers (a star from its smallest one); every identifier starts with its own label, and
// each round gives every identifier the smallest label among itself and its neighbours until
// nothing changes. Timed: the load of the file and the stitching; prints both, events/s end to end,
// the rounds and the profiles (components).
import { DuckDBInstance } from '@duckdb/node-api';

const [file, eventsArg, threadsArg] = process.argv.slice(2);
if (!file || !eventsArg || !threadsArg) {
  console.error('usage: duckdb_components.mjs NODES_FILE EVENTS THREADS');
  process.exit(2);
}
const events = Number(eventsArg);
const threads = Number(threadsArg);
const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const c = await db.connect();
const quoted = file.replaceAll("'", "''");
const now = () => Number(process.hrtime.bigint()) / 1e9;

const start = now();
await c.run(`CREATE TABLE event_ids AS SELECT * FROM read_csv('${quoted}', delim='\t', header=false, quote='',
  escape='', columns={'event': 'BIGINT', 'node': 'VARCHAR'})`);
const loaded = now();
await c.run(`CREATE TABLE ids AS SELECT node, row_number() OVER (ORDER BY node) AS id FROM (SELECT DISTINCT node FROM event_ids)`);
await c.run(`CREATE TABLE hub AS SELECT e.event, min(i.id) AS id FROM event_ids e JOIN ids i USING (node) GROUP BY e.event`);
await c.run(`CREATE TABLE edges AS SELECT h.id AS a, i.id AS b FROM event_ids e JOIN ids i USING (node) JOIN hub h USING (event)
  WHERE i.id <> h.id`);
await c.run(`INSERT INTO edges SELECT b, a FROM edges`);
await c.run(`CREATE TABLE labels AS SELECT id, id AS label FROM ids`);
let rounds = 0;
for (;;) {
  ++rounds;
  await c.run(`CREATE OR REPLACE TABLE nl AS
    SELECT l.id, least(l.label, coalesce(m.label, l.label)) AS label
    FROM labels l LEFT JOIN (SELECT e.a AS id, min(l2.label) AS label FROM edges e JOIN labels l2 ON l2.id = e.b GROUP BY e.a) m
      USING (id)`);
  const changed = await c.runAndReadAll(`SELECT count(*) FROM nl JOIN labels l USING (id) WHERE nl.label < l.label`);
  await c.run(`CREATE OR REPLACE TABLE labels AS SELECT * FROM nl`);
  if (Number(changed.getRows()[0][0]) === 0) break;
}
const done = now();
const profiles = (await c.runAndReadAll(`SELECT count(DISTINCT label) FROM labels`)).getRows()[0][0];
console.log(`duckdb connected components, ${threads} thread${threads === 1 ? '' : 's'}: load ${(loaded - start).toFixed(2)} s, ` +
  `stitch ${(done - loaded).toFixed(2)} s, ${(events / (done - start)).toFixed(0)} events/s end to end ` +
  `(${rounds} rounds, ${profiles} profiles)`);
