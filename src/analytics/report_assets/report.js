// The omnijourney report's renderer: reads the JSON in #report-data (src/analytics/report.cc) and
// draws every section with Apache ECharts (embedded in the same file). No network is used.
// window.omnijourneyReport exposes the data, the charts by name and the drill-down, for tests.
(function () {
  'use strict';
  const D = JSON.parse(document.getElementById('report-data').textContent);
  const root = document.getElementById('report');
  const charts = {};
  const tables = {};
  window.omnijourneyReport = { data: D, charts: charts, tables: tables, drill: openDrill };

  const PALETTE = ['#2f6fb0', '#e07b39', '#3a9d5d', '#c9404b', '#7d5ba6', '#8c6d46', '#d35fb7', '#6b7b8c',
                   '#b5a31c', '#1fa2b8', '#455a8f', '#9a4f2e', '#5f8f3a', '#aa3a6a', '#4d4d4d', '#999999'];

  // ---- helpers ------------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return e;
  }
  function share(part, whole) { return whole > 0 ? part / whole : null; }
  function pct(x) { return x === null || x === undefined || isNaN(x) ? '-' : (100 * x).toFixed(1) + '%'; }
  function fixed(x, d) { return x === null || x === undefined || isNaN(x) ? '-' : x.toFixed(d); }
  function count(n) { return n === null || n === undefined ? '-' : Math.round(n).toLocaleString('en-US'); }
  function dur(seconds) {
    if (seconds === null || seconds === undefined || isNaN(seconds)) return '-';
    if (seconds < 120) return Math.round(seconds) + ' s';
    if (seconds < 7200) return (seconds / 60).toFixed(1) + ' min';
    if (seconds < 172800) return (seconds / 3600).toFixed(1) + ' h';
    return (seconds / 86400).toFixed(1) + ' d';
  }
  function section(title, intro) {
    const s = el('section', {}, el('h2', { text: title }));
    if (intro) s.appendChild(el('p', { class: 'intro', text: intro }));
    root.appendChild(s);
    return s;
  }
  function chart(parent, name, option, tall) {
    const div = el('div', { class: tall === 'xtall' ? 'chart xtall' : tall ? 'chart tall' : 'chart', 'data-chart': name });
    parent.appendChild(div);
    const c = echarts.init(div, null, { renderer: 'canvas' });
    c.setOption(option);
    charts[name] = c;
    return c;
  }
  function csvCell(v) {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function download(name, text) {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
    const a = el('a', { href: url, download: name });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
  // A table with a CSV button. columns: {label, def, text(row), csv(row)}; onRow(row): drill-down.
  function table(parent, name, columns, rows, onRow) {
    const head = el('tr', {}, ...columns.map(c => el('th', { title: c.def || '', text: c.label })));
    const body = rows.map(r => {
      const tr = el('tr', onRow ? { class: 'drill', onclick: () => onRow(r) } : {},
                    ...columns.map(c => el('td', { text: c.text(r) })));
      return tr;
    });
    const csv = () => [columns.map(c => csvCell(c.label)).join(',')]
      .concat(rows.map(r => columns.map(c => csvCell((c.csv || c.text)(r))).join(','))).join('\n') + '\n';
    tables[name] = { columns: columns.map(c => c.label), rows: rows.length, csv: csv };
    parent.appendChild(el('div', { class: 'toolbar' },
      el('button', { 'data-csv': name, onclick: () => download(name + '.csv', csv()), text: 'CSV' }),
      el('span', { class: 'legend', text: rows.length + ' rows' + (onRow ? ' - click a row for example profiles' : '') })));
    parent.appendChild(el('div', { class: 'tablewrap' }, el('table', { 'data-table': name }, el('thead', {}, head), el('tbody', {}, ...body))));
  }

  // ---- KPIs ---------------------------------------------------------------------------------
  const defs = D.definitions;
  const fb = (r, s) => (r.feedback && r.feedback[s]) || { responses: 0, good: 0, bad: 0, mean: 0 };
  const KPI = {
    contacts: { label: 'Contacts', v: r => r.contacts, t: count },
    history_observed: { label: 'Context at contact', v: r => r.observed >= 0 ? share(r.observed_with_history, r.observed) : null, t: pct },
    history_in_profile: { label: 'History in profile', v: r => share(r.history_in_profile, r.contacts), t: pct },
    repeat_24h: { label: 'Repeat within 24 h', v: r => share(r.repeat_24h, r.contacts), t: pct },
    repeat_7d: { label: 'Repeat within 7 d', v: r => share(r.repeat_7d, r.contacts), t: pct },
    fcr: { label: 'First-contact resolution', v: r => share(r.resolved_first, r.first_contacts), t: pct, n: r => r.first_contacts },
    complaints: { label: 'Complaints', v: r => r.complaints, t: count },
    service_level: { label: 'Service level', v: r => share(r.within_sla, r.queued - r.abandoned), t: pct, n: r => r.queued - r.abandoned },
    abandonment: { label: 'Abandonment', v: r => share(r.abandoned, r.queued), t: pct, n: r => r.queued },
    wait: { label: 'Median wait', v: r => r.wait.count ? r.wait.p50 : null, t: dur, n: r => r.wait.count },
    handle: { label: 'Median handle time', v: r => r.handle.count ? r.handle.p50 : null, t: dur, n: r => r.handle.count },
    csat: { label: 'CSAT', v: r => share(fb(r, 'csat').good, fb(r, 'csat').responses), t: pct, n: r => fb(r, 'csat').responses },
    nps: { label: 'NPS', v: r => fb(r, 'nps').responses ? 100 * (fb(r, 'nps').good - fb(r, 'nps').bad) / fb(r, 'nps').responses : null, t: x => fixed(x, 0), n: r => fb(r, 'nps').responses },
    ces: { label: 'CES', v: r => fb(r, 'ces').responses ? fb(r, 'ces').mean : null, t: x => fixed(x, 2), n: r => fb(r, 'ces').responses },
    conversion: { label: 'Conversion', v: r => share(r.converted, r.entered), t: pct, n: r => r.entered },
    time_to_goal: { label: 'Median time to goal', v: r => r.time_to_goal.count ? r.time_to_goal.p50 : null, t: dur, n: r => r.time_to_goal.count },
  };
  function kpiText(key, r) {
    const k = KPI[key];
    const text = k.t(k.v(r));
    return k.n ? text + ' (n=' + count(k.n(r)) + ')' : text;
  }
  function kpiColumn(key) {
    const k = KPI[key];
    return { label: k.label, def: defs[key], text: r => kpiText(key, r), csv: r => { const v = k.v(r); return v === null ? '' : v; } };
  }
  const rows = D.rows;
  const row = (period, dimension, value) => rows.find(r => r.period === period && r.dimension === dimension && r.value === (value || ''));
  const total = row('total', 'all') || { contacts: 0, feedback: {}, wait: {}, handle: {}, time_to_goal: {} };

  // ---- header -------------------------------------------------------------------------------
  const period = D.from || D.to ? (D.from || 'the start') + ' to ' + (D.to || 'the end') : 'all retained history';
  const header = el('header', { class: 'top' }, el('h1', { text: D.title }),
    el('div', { class: 'meta' },
      el('span', {}, 'Data: ', el('b', { text: (D.first_event || '-') + ' to ' + (D.last_event || '-') }), ' (' + D.time_zone + ')'),
      el('span', {}, 'Period: ', el('b', { text: period })),
      el('span', {}, 'Scope: ', el('b', { text: D.scope || 'all tenants' })),
      el('span', {}, 'As of: ', el('b', { text: D.as_of })),
      el('span', {}, 'Generated: ', el('b', { text: D.generated })),
      el('span', {}, el('b', { text: count(D.profiles) }), ' profiles, ', el('b', { text: count(D.entries) }), ' timeline entries')));
  document.body.insertBefore(header, root);
  for (const n of D.notes) root.appendChild(el('p', { class: 'note', text: n }));

  // ---- KPI cards ----------------------------------------------------------------------------
  {
    const s = section('Omnichannel KPIs', 'The whole period, every channel. Hover a table heading for its definition; docs/analytics.md defines each measure and the event fields it reads.');
    const cards = el('div', { class: 'cards' });
    for (const key of ['contacts', 'history_observed', 'history_in_profile', 'repeat_24h', 'repeat_7d', 'fcr', 'complaints',
                       'service_level', 'abandonment', 'wait', 'handle', 'csat', 'nps', 'ces']) {
      const k = KPI[key];
      const v = k.v(total);
      cards.appendChild(el('div', { class: 'card', 'data-kpi': key }, el('div', { class: 'label', text: k.label }),
        el('div', { class: 'value' }, k.t(v), k.n ? el('small', { text: ' n=' + count(k.n(total)) }) : null),
        el('div', { class: 'def', text: defs[key] })));
    }
    s.appendChild(cards);
    if (D.kpi_columns.length) {
      s.appendChild(el('h3', { text: 'Side by side' }));
      const cols = [{ label: 'measure', text: r => r.label }].concat(D.kpi_columns.map((c, i) => ({ label: c.heading, text: r => r.cells[i] })));
      const kc = D.kpi_columns;
      const line = (label, f) => ({ label: label, cells: kc.map(f) });
      table(s, 'kpi_comparison', cols, [
        line('profiles', c => count(c.profiles)),
        line('contacts', c => count(c.contacts)),
        line('context at contact', c => c.observed >= 0 ? pct(share(c.observed_with_history, c.observed)) : '-'),
        line('repeat within 24 h', c => pct(share(c.repeat_24h, c.contacts))),
        line('repeat within 7 d', c => pct(share(c.repeat_7d, c.contacts))),
        line('first-contact resolution', c => pct(share(c.resolved_first, c.first_contacts)) + ' of ' + count(c.first_contacts)),
      ]);
    }
    const dl = el('dl', { class: 'defs' });
    for (const [k, text] of Object.entries(defs)) dl.append(el('dt', { text: KPI[k] ? KPI[k].label : k }), el('dd', { text: text }));
    s.appendChild(el('h3', { text: 'Definitions' }));
    s.appendChild(dl);
  }

  // ---- time series --------------------------------------------------------------------------
  {
    const s = section('Over time', 'Contacts count in the period they started; feedback in the period it was given; journeys in the period they started.');
    const bar = el('div', { class: 'toolbar' });
    s.appendChild(bar);
    const holder = el('div');
    s.appendChild(holder);
    const channels = [...new Set(rows.filter(r => r.dimension === 'channel').map(r => r.value))];
    const journeys = D.funnels.map(f => f.journey);
    function draw(p) {
      for (const b of bar.querySelectorAll('button')) b.classList.toggle('active', b.dataset.period === p);
      for (const name of ['ts_contacts', 'ts_experience', 'ts_service', 'ts_channels', 'ts_journeys']) {
        if (charts[name]) { charts[name].dispose(); delete charts[name]; }
      }
      holder.textContent = '';
      const all = rows.filter(r => r.period === p && r.dimension === 'all').sort((a, b) => a.start < b.start ? -1 : 1);
      const x = all.map(r => r.start);
      const series = (key, r) => { const v = KPI[key].v(r); return v === null ? null : (KPI[key].t === pct ? +(100 * v).toFixed(2) : +v.toFixed(2)); };
      const axisPct = { type: 'value', name: '%', min: 0, max: 100, axisLabel: { formatter: '{value}%' } };
      const base = (title) => ({ title: { text: title, textStyle: { fontSize: 13 } }, tooltip: { trigger: 'axis' },
        legend: { top: 0, right: 0 }, grid: { left: 60, right: 60, top: 50, bottom: 40 }, xAxis: { type: 'category', data: x } });
      holder.appendChild(el('h3', { text: 'Contacts, repeats and first-contact resolution' }));
      chart(holder, 'ts_contacts', Object.assign(base('per ' + p), {
        yAxis: [{ type: 'value', name: 'contacts' }, axisPct],
        series: [{ name: 'contacts', type: 'bar', data: all.map(r => r.contacts), itemStyle: { color: '#9fb3c8' } },
                 { name: 'repeat within 7 d', type: 'line', yAxisIndex: 1, data: all.map(r => series('repeat_7d', r)) },
                 { name: 'first-contact resolution', type: 'line', yAxisIndex: 1, data: all.map(r => series('fcr', r)) },
                 { name: 'context at contact', type: 'line', yAxisIndex: 1, data: all.map(r => series('history_observed', r)) }] }));
      holder.appendChild(el('h3', { text: 'Customer experience: CSAT, CES and NPS' }));
      chart(holder, 'ts_experience', Object.assign(base('per ' + p), {
        yAxis: [axisPct, { type: 'value', name: 'NPS', min: -100, max: 100 }],
        series: [{ name: 'CSAT (% satisfied)', type: 'line', data: all.map(r => series('csat', r)) },
                 { name: 'CES (% easy: 5-7)', type: 'line', data: all.map(r => { const c = fb(r, 'ces'); return c.responses ? +(100 * c.good / c.responses).toFixed(2) : null; }) },
                 { name: 'NPS', type: 'line', yAxisIndex: 1, data: all.map(r => series('nps', r)) }] }));
      holder.appendChild(el('h3', { text: 'Contact centre: service level, abandonment, waits' }));
      chart(holder, 'ts_service', Object.assign(base('per ' + p), {
        yAxis: [axisPct, { type: 'value', name: 'seconds' }],
        series: [{ name: 'service level', type: 'line', data: all.map(r => series('service_level', r)) },
                 { name: 'abandonment', type: 'line', data: all.map(r => series('abandonment', r)) },
                 { name: 'median wait (s)', type: 'bar', yAxisIndex: 1, data: all.map(r => series('wait', r)), itemStyle: { color: '#c5d3e2' } }] }));
      holder.appendChild(el('h3', { text: 'Contacts by channel' }));
      chart(holder, 'ts_channels', Object.assign(base('per ' + p), {
        yAxis: { type: 'value', name: 'contacts' },
        series: channels.map((c, i) => ({ name: c, type: 'bar', stack: 'c', color: PALETTE[i % PALETTE.length],
          data: x.map(d => { const r = rows.find(q => q.period === p && q.dimension === 'channel' && q.value === c && q.start === d); return r ? r.contacts : 0; }) })) }));
      if (journeys.length) {
        holder.appendChild(el('h3', { text: 'Journey conversion (instances started in the period)' }));
        chart(holder, 'ts_journeys', Object.assign(base('per ' + p), {
          yAxis: axisPct,
          series: journeys.map(j => ({ name: j, type: 'line', connectNulls: true,
            data: x.map(d => { const r = rows.find(q => q.period === p && q.dimension === 'journey' && q.value === j && q.start === d); return r && r.entered ? +(100 * r.converted / r.entered).toFixed(2) : null; }) })) }));
      }
    }
    for (const p of ['day', 'week', 'month']) bar.appendChild(el('button', { 'data-period': p, onclick: () => draw(p), text: 'per ' + p }));
    draw('day');
  }

  // ---- tables by dimension ------------------------------------------------------------------
  {
    const s = section('By channel, team, agent and journey', 'The whole period. A contact counts for the channel it came in on, the agent and team who handled its conversation, and every journey running when it came in. Feedback counts under the contact it follows.');
    const contactCols = ['contacts', 'history_observed', 'history_in_profile', 'repeat_24h', 'repeat_7d', 'fcr', 'complaints',
                         'service_level', 'abandonment', 'wait', 'handle', 'csat', 'nps', 'ces'];
    for (const [dim, title] of [['channel', 'Channels'], ['team', 'Teams'], ['agent', 'Agents'], ['journey', 'Journeys']]) {
      const list = rows.filter(r => r.period === 'total' && r.dimension === dim).sort((a, b) => b.contacts - a.contacts || (a.value < b.value ? -1 : 1));
      if (!list.length) continue;
      s.appendChild(el('h3', { text: title }));
      const keys = dim === 'journey' ? ['conversion', 'time_to_goal'].concat(contactCols) : contactCols;
      table(s, 'by_' + dim, [{ label: dim, text: r => r.value }].concat(keys.map(kpiColumn)), list);
    }
  }

  // ---- journeys -----------------------------------------------------------------------------
  for (const f of D.funnels) {
    const s = section('Journey ' + f.journey,
      count(f.entered) + ' instances: ' + count(f.converted) + ' reached a goal (' + pct(share(f.converted, f.entered)) + '), ' +
      count(f.exited) + ' exited, ' + count(f.dropped) + ' dropped (no step for 30 days), ' + count(f.active) + ' active. Median time to goal ' +
      dur(f.time_to_goal.count ? f.time_to_goal.p50 : null) + '.');
    const color = k => k === 'goal' ? '#3a9d5d' : k === 'exit' ? '#9aa5b1' : '#2f6fb0';
    s.appendChild(el('h3', { text: 'States reached' }));
    s.appendChild(el('p', { class: 'note' }, 'Instances that entered each state at least once, as a share of all instances. States are not a sequence: an instance may skip a state, so a later state can be reached more often than an earlier one. Colours:',
      el('span', { class: 'swatch', style: 'background:#2f6fb0' }), 'step', el('span', { class: 'swatch', style: 'background:#3a9d5d' }), 'goal',
      el('span', { class: 'swatch', style: 'background:#9aa5b1' }), 'exit', '. Click a bar for example profiles.'));
    const states = f.states;
    const c = chart(s, 'states_' + f.journey, {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      grid: { left: 140, right: 120, top: 10, bottom: 30 },
      xAxis: { type: 'value', max: Math.max(1, f.entered), name: 'instances' },
      yAxis: { type: 'category', inverse: true, data: states.map(x => x.state) },
      series: [{ type: 'bar', data: states.map(x => ({ value: x.reached, itemStyle: { color: color(x.kind) } })),
                 label: { show: true, position: 'right', formatter: p => count(p.value) + ' (' + pct(share(p.value, f.entered)) + ')' } }] });
    c.on('click', p => openDrill('Journey ' + f.journey + ': reached ' + states[p.dataIndex].state, states[p.dataIndex].examples));
    table(s, 'states_' + f.journey, [
      { label: 'state', text: r => r.state }, { label: 'kind', text: r => r.kind },
      { label: 'reached', text: r => count(r.reached) }, { label: 'share', text: r => pct(share(r.reached, f.entered)) },
      { label: 'in it now', def: 'Running instances in the state now.', text: r => count(r.current) },
      { label: 'ended here', def: 'Instances that exited or dropped in this state without a goal.', text: r => count(r.ended_here) },
      { label: 'median time in state', text: r => dur(r.time_in_state.count ? r.time_in_state.p50 : null) },
      { label: 'p90 time in state', text: r => dur(r.time_in_state.count ? r.time_in_state.p90 : null) }],
      states, r => openDrill('Journey ' + f.journey + ': reached ' + r.state, r.examples));

    // The journey map: states by depth from the entry, transitions with counts and median times.
    s.appendChild(el('h3', { text: 'Journey map' }));
    s.appendChild(el('p', { class: 'note', text: 'Each arrow is a transition taken, labelled with how many times and the median time from entering its source state. Node size follows the instances that reached the state; "ended" counts instances that exited or dropped there without a goal.' }));
    const depth = { '': 0 };
    const queue = [''];
    while (queue.length) {
      const at = queue.shift();
      for (const t of f.transitions) {
        if (t.from === at && t.to && !(t.to in depth)) { depth[t.to] = depth[at] + 1; queue.push(t.to); }
      }
    }
    // Goal and exit states in the last column, after every step state.
    let maxDepth = Math.max(1, ...states.filter(x => x.kind === 'normal' && x.state in depth).map(x => depth[x.state]));
    for (const st of states) if (st.kind === 'normal' && !(st.state in depth)) depth[st.state] = ++maxDepth;
    for (const st of states) if (st.kind !== 'normal') depth[st.state] = maxDepth + 1;
    const perDepth = {};
    // The entry node's name cannot be a state's ([a-z0-9_.-]).
    const ENTRY = '(entry)';
    const nodes = [{ name: ENTRY, x: 0, y: 0, symbolSize: 28, itemStyle: { color: '#627d98' },
                     label: { show: true, position: 'left', lineHeight: 15, formatter: 'start\n' + count(f.entered) } }];
    for (const st of states) {
      const d = depth[st.state];
      const i = (perDepth[d] = (perDepth[d] || 0) + 1) - 1;
      nodes.push({ name: st.state, x: d * 220, y: i * 120, symbolSize: 24 + 40 * Math.sqrt(share(st.reached, f.entered) || 0),
        itemStyle: { color: color(st.kind) },
        label: { show: true, position: 'bottom', lineHeight: 15, formatter: st.state + '\n' + count(st.reached) + ' reached' + (st.ended_here ? ', ' + count(st.ended_here) + ' ended' : '') + (st.current ? '\n' + count(st.current) + ' in it now' : '') } });
    }
    for (const n of nodes) { const d = n.name === ENTRY ? 0 : depth[n.name]; n.y -= ((perDepth[d] || 1) - 1) * 60; }
    const maxCount = Math.max(1, ...f.transitions.map(t => t.count));
    const links = f.transitions.filter(t => t.to && states.some(x => x.state === t.to)).map(t => ({
      source: t.from === '' ? ENTRY : t.from, target: t.to, value: t.count,
      // Arrows that skip a column bend around the nodes between: up to goals, down to exits.
      lineStyle: { width: 1 + 7 * t.count / maxCount, opacity: 0.7,
                   curveness: t.from === t.to ? 0.6 : depth[t.to] - depth[t.from] > 1 ? (states.find(x => x.state === t.to).kind === 'exit' ? -0.3 : 0.3) : 0.15 },
      label: { show: true, fontSize: 11, formatter: count(t.count) + (t.time.count ? ' · ' + dur(t.time.p50) : '') } }));
    const m = chart(s, 'map_' + f.journey, {
      tooltip: { formatter: p => p.dataType === 'edge' ? p.data.source + ' → ' + p.data.target + ': ' + count(p.data.value) : p.name },
      series: [{ type: 'graph', layout: 'none', roam: true, edgeSymbol: ['none', 'arrow'], edgeSymbolSize: 9,
                 data: nodes, links: links, label: { fontSize: 12 }, edgeLabel: { show: true } }] }, true);
    m.on('click', p => { if (p.dataType === 'node') { const st = states.find(x => x.state === p.name); if (st) openDrill('Journey ' + f.journey + ': reached ' + st.state, st.examples); } });
    table(s, 'transitions_' + f.journey, [
      { label: 'from', text: r => r.from || '(entry)' }, { label: 'to', text: r => r.to || '(restart)' },
      { label: 'transition', text: r => r.transition }, { label: 'count', text: r => count(r.count) },
      { label: 'median time', text: r => dur(r.time.count ? r.time.p50 : null) },
      { label: 'p90 time', text: r => dur(r.time.count ? r.time.p90 : null) }], f.transitions);
  }

  // ---- channel paths ------------------------------------------------------------------------
  {
    const P = D.paths;
    const s = section('Channel paths', count(P.profiles) + ' profiles with a touch (an inbound or unprompted interaction on a customer-facing channel); ' +
      pct(share(P.multichannel, P.profiles)) + ' used two or more channels; ' + count(P.distinct) + ' distinct paths (consecutive touches on one channel collapsed).');
    const steps = Math.max(0, ...P.flows.map(x => x.step)) + 1;
    const TOP = 5;
    // The TOP channels at each step by profiles; the rest are "other".
    const atStep = {};
    for (const x of P.flows) { (atStep[x.step] = atStep[x.step] || {})[x.from] = (atStep[x.step][x.from] || 0) + x.profiles; }
    const keep = {};
    for (const [k, m] of Object.entries(atStep)) keep[k] = new Set(Object.entries(m).sort((a, b) => b[1] - a[1]).slice(0, TOP).map(e => e[0]));
    const name = (step, ch) => (step + 1) + '. ' + (keep[step] && keep[step].has(ch) ? ch : 'other');
    const linkMap = {};
    for (const x of P.flows) {
      const src = name(x.step, x.from);
      const dst = x.to ? name(x.step + 1, x.to) : (x.step + 2) + '. (end)';
      linkMap[src + '\u0000' + dst] = (linkMap[src + '\u0000' + dst] || 0) + x.profiles;
    }
    const links = Object.entries(linkMap).map(([k, v]) => ({ source: k.split('\u0000')[0], target: k.split('\u0000')[1], value: v }));
    const nodeNames = [...new Set(links.flatMap(l => [l.source, l.target]))];
    const chColor = {};
    let ci = 0;
    const colorOf = n => { const ch = n.replace(/^\d+\. /, ''); if (ch === '(end)') return '#d9e2ec'; if (ch === 'other') return '#9aa5b1'; return chColor[ch] || (chColor[ch] = PALETTE[ci++ % PALETTE.length]); };
    s.appendChild(el('h3', { text: 'Paths step by step' }));
    s.appendChild(el('p', { class: 'note', text: 'Column k is the k-th channel of the path. At each step the ' + TOP + ' most used channels are shown, the rest as "other"; "k. (end)" in column k holds the paths that stopped after k-1 channels (drop-off). Paths longer than ' + (steps) + ' channels are cut there.' }));
    const left = 20, right = 110;
    const sankey = chart(s, 'paths_sankey', {
      tooltip: { trigger: 'item' },
      graphic: [],
      series: [{ type: 'sankey', left: left, right: right, top: 40, bottom: 10, nodeWidth: 14, nodeGap: 8, layoutIterations: 32,
                 nodeAlign: 'left',
                 data: nodeNames.map(n => ({ name: n, itemStyle: { color: colorOf(n) } })), links: links,
                 label: { fontSize: 11 }, lineStyle: { color: 'gradient', opacity: 0.35 }, emphasis: { focus: 'adjacency' } }] }, 'xtall');
    function headings() {
      const w = sankey.getWidth();
      const cols = steps + 1;  // The last column holds only the paths that ended after the last step.
      const span = (w - left - right - 14) / Math.max(1, cols - 1);
      sankey.setOption({ graphic: Array.from({ length: cols }, (_, i) => ({ type: 'text', left: left + i * span, top: 8,
        style: { text: i < steps ? 'step ' + (i + 1) : 'after', fontSize: 12, fontWeight: 'bold', fill: '#334e68' } })) });
    }
    headings();
    sankey.on('finished', () => {});
    window.addEventListener('resize', headings);
    s.appendChild(el('h3', { text: 'Most common paths' }));
    table(s, 'top_paths', [{ label: 'path', text: r => r.path }, { label: 'profiles', text: r => count(r.profiles) },
      { label: 'share', text: r => pct(r.share) }], P.top, r => openDrill('Path ' + r.path, r.examples));

    // Switches: the cross-channel ones apart from staying on a channel.
    const sw = P.switches;
    const chans = [...new Set(sw.flatMap(x => [x.from, x.to]))];
    const cross = sw.filter(x => x.from !== x.to);
    const stays = sw.filter(x => x.from === x.to).sort((a, b) => b.count - a.count);
    s.appendChild(el('h3', { text: 'Channel switches' }));
    s.appendChild(el('p', { class: 'note', text: count(P.channel_switches) + ' of ' + count(P.transitions) + ' consecutive touches (' + pct(share(P.channel_switches, P.transitions)) +
      ') moved to another channel. The matrix shows only those switches (from a row to a column); staying on a channel is counted apart, in the bars below it.' }));
    chart(s, 'switch_matrix', {
      tooltip: { formatter: p => chans[p.data[1]] + ' → ' + chans[p.data[0]] + ': ' + count(p.data[2]) },
      grid: { left: 90, right: 30, top: 20, bottom: 70 },
      xAxis: { type: 'category', data: chans, name: 'to', axisLabel: { rotate: 40 } },
      yAxis: { type: 'category', data: chans, name: 'from', inverse: true },
      visualMap: { min: 0, max: Math.max(1, ...cross.map(x => x.count)), orient: 'horizontal', left: 'center', bottom: 0, calculable: true, inRange: { color: ['#f0f4f8', '#2f6fb0'] } },
      series: [{ type: 'heatmap', data: cross.map(x => [chans.indexOf(x.to), chans.indexOf(x.from), x.count]), label: { show: true, fontSize: 10 } }] }, true);
    chart(s, 'switch_stays', {
      tooltip: { trigger: 'axis' }, grid: { left: 90, right: 60, top: 10, bottom: 30 },
      xAxis: { type: 'value', name: 'touches' }, yAxis: { type: 'category', inverse: true, data: stays.map(x => x.from) },
      series: [{ name: 'stayed on the channel', type: 'bar', data: stays.map(x => x.count), itemStyle: { color: '#9fb3c8' }, label: { show: true, position: 'right' } }] });
    table(s, 'switches', [{ label: 'from', text: r => r.from }, { label: 'to', text: r => r.to }, { label: 'touches', text: r => count(r.count) },
      { label: 'kind', text: r => r.from === r.to ? 'stayed' : 'switched' }], sw.slice().sort((a, b) => b.count - a.count));
  }

  // ---- attribution --------------------------------------------------------------------------
  {
    const attributed = D.attributions.map(a => a.journey);
    const others = D.funnels.map(f => f.journey).filter(j => !attributed.includes(j));
    const s = section('Attribution', 'Goal conversions of the journeys marked as marketing conversions (reporting.attribution) credited to the channels of the touches before them (30-day lookback). ' +
      (others.length ? 'Not attributed: ' + others.join(', ') + ' (their goals are not marketing conversions).' : ''));
    const MODELS = ['first_touch', 'last_touch', 'linear', 'time_decay', 'position_based', 'markov'];
    for (const a of D.attributions) {
      s.appendChild(el('h3', { text: 'Journey ' + a.journey + ': ' + count(a.conversions) + ' conversions, ' + count(a.converting_paths) + ' with a touch' }));
      const ch = a.channels;
      chart(s, 'attr_' + a.journey, {
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } }, legend: { top: 0 },
        grid: { left: 90, right: 70, top: 40, bottom: 30 },
        xAxis: { type: 'value', name: 'conversions credited' }, yAxis: { type: 'category', inverse: true, data: ch },
        series: MODELS.map((mname, i) => ({ name: mname.replace('_', ' '), type: 'bar', color: PALETTE[i],
          data: ch.map(c => +((a.credit[mname] || {})[c] || 0).toFixed(1)),
          label: { show: true, position: 'right', fontSize: 9, formatter: p => p.value >= 0.05 ? p.value.toFixed(1) : '' } })) }, true);
      table(s, 'attribution_' + a.journey, [{ label: 'channel', text: r => r }].concat(MODELS.map(mname => ({ label: mname, text: r => fixed((a.credit[mname] || {})[r] || 0, 1) })))
        .concat([{ label: 'removal effect', def: 'Markov: 1 - conversion probability without the channel / with it.', text: r => pct(a.removal_effect[r]) }]), ch);
    }
    if (!D.attributions.length) s.appendChild(el('p', { class: 'note', text: 'No journey is marked as a marketing conversion.' }));
  }

  // ---- feedback and root causes -------------------------------------------------------------
  {
    const s = section('Feedback and root causes', 'CSAT, NPS and CES answers, attributed to the contact they follow (same conversation, else the latest contact within 7 days). Root causes: for each feature, how often the outcome follows it against the base rate (lift), with the counts.' +
      (D.feedback_without_score || D.feedback_out_of_scale ? ' Not counted: ' + count(D.feedback_without_score) + ' answers without a score, ' + count(D.feedback_out_of_scale) + ' outside their scale.' : ''));
    const byChannel = rows.filter(r => r.period === 'total' && r.dimension === 'channel' && fb(r, 'csat').responses > 0);
    if (byChannel.length) {
      chart(s, 'fb_channel', {
        tooltip: { trigger: 'axis' }, grid: { left: 90, right: 80, top: 10, bottom: 30 },
        xAxis: { type: 'value', name: 'CSAT %', max: 100 }, yAxis: { type: 'category', inverse: true, data: byChannel.map(r => r.value) },
        series: [{ name: 'CSAT', type: 'bar', data: byChannel.map(r => +(100 * KPI.csat.v(r)).toFixed(1)),
                   label: { show: true, position: 'right', formatter: p => p.value + '% (n=' + fb(byChannel[p.dataIndex], 'csat').responses + ')' } }] });
    }
    const outcomes = [...new Set(D.root_causes.map(c => c.outcome))];
    for (const o of outcomes) {
      const list = D.root_causes.filter(c => c.outcome === o);
      const base = list[0];
      s.appendChild(el('h3', { text: 'What precedes "' + o + '": base rate ' + pct(base.base_rate) + ' (' + count(base.base_outcomes) + ' of ' + count(base.base_cases) + ')' }));
      const top = list.slice(0, 12);
      const key = o.replace(/[^a-z0-9]+/gi, '_');
      const c = chart(s, 'rc_' + key, {
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } }, grid: { left: 300, right: 140, top: 10, bottom: 30 },
        xAxis: { type: 'value', name: 'lift' }, yAxis: { type: 'category', inverse: true, data: top.map(x => x.feature) },
        series: [{ type: 'bar', data: top.map(x => ({ value: +x.lift.toFixed(2), itemStyle: { color: x.lift >= 1 ? '#c9404b' : '#3a9d5d' } })),
                   markLine: { symbol: 'none', data: [{ xAxis: 1 }], lineStyle: { color: '#52606d', type: 'dashed' }, label: { formatter: 'base' } },
                   label: { show: true, position: 'right', formatter: p => p.value + '× (' + top[p.dataIndex].outcomes + '/' + top[p.dataIndex].cases + ')' } }] });
      c.on('click', p => openDrill(o + ' after ' + top[p.dataIndex].feature, top[p.dataIndex].examples));
      table(s, 'root_causes_' + key, [{ label: 'feature', text: r => r.feature }, { label: 'cases', text: r => count(r.cases) },
        { label: 'with ' + o, text: r => count(r.outcomes) }, { label: 'rate', text: r => pct(r.rate) }, { label: 'base rate', text: r => pct(r.base_rate) },
        { label: 'lift', def: 'rate / base rate', text: r => fixed(r.lift, 2), csv: r => r.lift }], list,
        r => openDrill(o + ' after ' + r.feature, r.examples));
    }
    if (!outcomes.length) s.appendChild(el('p', { class: 'note', text: 'No feedback or complaints with enough cases.' }));
  }

  // ---- drill-down ---------------------------------------------------------------------------
  const drill = el('div', { id: 'drill' });
  document.body.appendChild(drill);
  function openDrill(title, refs) {
    drill.textContent = '';
    drill.appendChild(el('button', { class: 'close', onclick: () => drill.classList.remove('open'), text: 'close' }));
    drill.appendChild(el('h2', { text: title }));
    if (!refs || !refs.length) drill.appendChild(el('p', { text: 'No example profiles.' }));
    for (const id of refs || []) {
      const x = D.examples[id];
      drill.appendChild(el('div', { class: 'profile' }, el('b', { text: id }),
        x ? ' - ' + count(x.entries) + ' timeline entries' + (x.entries > x.lines.length ? ', the last ' + x.lines.length + ':' : ':') : '',
        x ? el('pre', { text: x.lines.join('\n') }) : null));
    }
    drill.classList.add('open');
  }
  document.addEventListener('keydown', e => { if (e.key === 'Escape') drill.classList.remove('open'); });

  root.appendChild(el('footer', { text: 'Generated by omnijourney ' + D.version + '. Charts: Apache ECharts ' + echarts.version + ' (embedded).' }));
  window.addEventListener('resize', () => Object.values(charts).forEach(c => c.resize()));
  window.omnijourneyReport.ready = true;
})();
