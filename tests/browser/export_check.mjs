// Loads the CSV tables of `omnijourney export` into DuckDB (npm @duckdb/node-api), as a BI tool
// would, checks their shape, and recomputes two KPIs in SQL from the raw columns: repeat contacts
// within 7 days (from the contacts' times, with a window function) and CSAT (from the answers'
// scores). Both must equal what the engine's analysis printed ("kpis: ..." in OUTPUT).
//
//   node export_check.mjs DIRECTORY OUTPUT
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

const [, , dir, output] = process.argv;
if (!dir || !output) {
  console.error('usage: node export_check.mjs DIRECTORY OUTPUT');
  process.exit(2);
}
const expected = {};
const line = fs.readFileSync(output, 'utf8').split('\n').find(l => l.startsWith('kpis: '));
if (!line) {
  console.error('no "kpis:" line in ' + output);
  process.exit(2);
}
for (const part of line.slice(6).split(' ')) {
  const [k, v] = part.split('=');
  expected[k] = Number(v);
}

const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };
const instance = await DuckDBInstance.create(':memory:');
const db = await instance.connect();
const csv = name => "read_csv('" + path.join(dir, name).replace(/'/g, "''") + "', header = true, auto_detect = true)";
const one = async sql => (await (await db.runAndReadAll(sql)).getRowObjectsJS())[0];

// Every table loads with its columns typed.
for (const [name, columns] of [['events.csv', ['tenant', 'profile', 'time', 'kind', 'channel', 'properties']],
                               ['journey_steps.csv', ['journey', 'version', 'instance', 'step', 'time', 'to_state', 'goal']],
                               ['contacts.csv', ['time', 'channel', 'agent_id', 'team', 'wait_seconds', 'repeat_7d']],
                               ['feedback.csv', ['survey', 'score', 'contact_channel', 'team']]]) {
  const described = await (await db.runAndReadAll('DESCRIBE SELECT * FROM ' + csv(name))).getRowObjectsJS();
  const types = Object.fromEntries(described.map(r => [r.column_name, r.column_type]));
  for (const c of columns) check(c in types, name + ' lacks column ' + c);
  check(/TIMESTAMP/.test(types.time || ''), name + ': time is ' + types.time + ', not a timestamp');
  const n = await one('SELECT count(*) AS n FROM ' + csv(name));
  check(Number(n.n) > 0, name + ' is empty');
}
const goal = await one('SELECT count(*) AS n FROM ' + csv('journey_steps.csv') + ' WHERE goal');
check(Number(goal.n) > 0, 'no goal step');
const wait = await one('SELECT typeof(wait_seconds) AS t FROM ' + csv('contacts.csv') + ' WHERE wait_seconds IS NOT NULL LIMIT 1');
check(wait && /DOUBLE|BIGINT|INTEGER/.test(wait.t), 'wait_seconds is not a number: ' + (wait && wait.t));

// KPI 1: repeat contacts within 7 days, from the times alone.
const repeat = await one(`
  SELECT count(*) AS contacts,
         count(*) FILTER (WHERE previous IS NOT NULL AND time - previous <= INTERVAL 7 DAY) AS repeat_7d
  FROM (SELECT time, lag(time) OVER (PARTITION BY tenant, profile ORDER BY time) AS previous
        FROM ${csv('contacts.csv')})`);
check(Number(repeat.contacts) === expected.contacts, 'contacts: DuckDB ' + repeat.contacts + ', engine ' + expected.contacts);
check(Number(repeat.repeat_7d) === expected.repeat_7d, 'repeat within 7 d: DuckDB ' + repeat.repeat_7d + ', engine ' + expected.repeat_7d);
// KPI 2: CSAT, the share of answers 4-5 on the 1-5 scale.
const csat = await one(`SELECT count(*) AS answers, count(*) FILTER (WHERE score >= 4) AS good
                        FROM ${csv('feedback.csv')} WHERE survey = 'csat'`);
check(Number(csat.answers) === expected.csat_answers, 'CSAT answers: DuckDB ' + csat.answers + ', engine ' + expected.csat_answers);
check(Number(csat.good) === expected.csat_good, 'CSAT satisfied: DuckDB ' + csat.good + ', engine ' + expected.csat_good);
check(expected.contacts > 0 && expected.csat_answers > 0, 'nothing to compare');

console.log(JSON.stringify({ contacts: Number(repeat.contacts), repeat_7d: Number(repeat.repeat_7d),
                             csat_answers: Number(csat.answers), csat_good: Number(csat.good) }));
if (failures.length) {
  for (const f of failures) console.error('FAIL: ' + f);
  process.exit(1);
}
console.log('exports ok');
