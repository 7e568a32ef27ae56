// Peer baseline: a streaming union-find in Node.js, the least an identity-only stitcher does.
//
//   node benchmarks/peers/unionfind.mjs NODES_FILE EVENTS
//
// NODES_FILE: "event number<TAB>type:value" lines (macro_benchmark --nodes-file), an event's lines
// together. Each event's identifiers are joined (union by size, path halving) as the event arrives;
// a Map gives each distinct "type:value" its number. The file is read into memory first; only the
// pass over it (splitting lines, the Map, the unions) is timed, as the engine's row times only its
// calls. Prints events/s and the number of profiles (components).
import { readFileSync } from 'node:fs';

const [file, eventsArg] = process.argv.slice(2);
if (!file || !eventsArg) {
  console.error('usage: unionfind.mjs NODES_FILE EVENTS');
  process.exit(2);
}
const events = Number(eventsArg);
const text = readFileSync(file, 'utf8');

const start = process.hrtime.bigint();
const ids = new Map();
let parent = new Int32Array(1 << 16);
let size = new Int32Array(1 << 16);
let count = 0;
function node(key) {
  let id = ids.get(key);
  if (id === undefined) {
    id = count++;
    if (id === parent.length) {
      const p = new Int32Array(parent.length * 2);
      p.set(parent);
      parent = p;
      const s = new Int32Array(size.length * 2);
      s.set(size);
      size = s;
    }
    parent[id] = id;
    size[id] = 1;
    ids.set(key, id);
  }
  return id;
}
function find(x) {
  while (parent[x] !== x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}
function union(a, b) {
  a = find(a);
  b = find(b);
  if (a === b) return;
  if (size[a] < size[b]) [a, b] = [b, a];
  parent[b] = a;
  size[a] += size[b];
}
let lastEvent = '';
let first = -1;
for (let at = 0; at < text.length;) {
  let end = text.indexOf('\n', at);
  if (end < 0) end = text.length;
  const tab = text.indexOf('\t', at);
  const event = text.slice(at, tab);
  const id = node(text.slice(tab + 1, end));
  if (event === lastEvent) {
    union(first, id);
  } else {
    lastEvent = event;
    first = id;
  }
  at = end + 1;
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
let profiles = 0;
for (let i = 0; i < count; ++i) if (find(i) === i) ++profiles;
console.log(`node union-find: ${(events / seconds).toFixed(0)} events/s (${seconds.toFixed(2)} s, ${count} identifiers, ${profiles} profiles)`);
