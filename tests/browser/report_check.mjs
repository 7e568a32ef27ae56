// Opens an omnijourney HTML report in headless Chromium (Debian's chromium, driven by puppeteer-core)
// as a CX manager would and checks it: no console errors, no request leaves the file, every chart
// has drawn its data, the period switch redraws the time series, a click on a funnel bar and on a
// path opens the drill-down with example profiles and their timelines, every table has a CSV
// export whose rows match the table.
//
//   node report_check.mjs REPORT.html [SCREENSHOT_DIR]
//
// With SCREENSHOT_DIR, saves screenshots of the main sections there (docs/analytics.md shows them).
import path from 'node:path';
import fs from 'node:fs';
import puppeteer from 'puppeteer-core';

const [, , file, shots] = process.argv;
if (!file) {
  console.error('usage: node report_check.mjs REPORT.html [SCREENSHOT_DIR]');
  process.exit(2);
}
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const errors = [];
  const external = [];
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', e => errors.push(String(e)));
  page.on('request', r => { if (!/^(file|data|blob):/.test(r.url())) external.push(r.url()); });
  await page.goto('file://' + path.resolve(file), { waitUntil: 'load', timeout: 60000 });
  await page.waitForFunction(() => window.omnijourneyReport && window.omnijourneyReport.ready, { timeout: 60000 });
  await new Promise(r => setTimeout(r, 500));  // Animations off or done: ECharts draws on the next frames.

  // Every chart has data points, and drew them.
  const charts = await page.evaluate(() => Object.entries(window.omnijourneyReport.charts).map(([name, c]) => {
    const o = c.getOption();
    let points = 0;
    for (const s of o.series) {
      for (const v of s.data || []) {
        const x = v && typeof v === 'object' && !Array.isArray(v) ? v.value : v;
        if (x !== null && x !== undefined && x !== 0 && !(Array.isArray(x) && !x.length)) ++points;
      }
      points += (s.links || []).length;
    }
    return { name, points, drawn: c.getZr().storage.getDisplayList(true).length };
  }));
  const names = charts.map(c => c.name);
  for (const want of ['ts_contacts', 'ts_experience', 'ts_service', 'ts_channels', 'ts_journeys', 'states_purchase',
                      'map_purchase', 'states_support', 'map_support', 'paths_sankey', 'switch_matrix', 'switch_stays',
                      'attr_purchase', 'fb_channel']) {
    check(names.includes(want), 'chart ' + want + ' is missing');
  }
  check(names.some(n => n.startsWith('rc_')), 'no root-cause chart');
  check(!names.includes('attr_support'), 'support is attributed, but its goal is not a marketing conversion');
  for (const c of charts) {
    check(c.points > 0, 'chart ' + c.name + ' has no data');
    check(c.drawn > 5, 'chart ' + c.name + ' drew ' + c.drawn + ' elements');
  }

  // The period switch redraws the time series: fewer points per week than per day.
  const days = await page.evaluate(() => window.omnijourneyReport.charts.ts_contacts.getOption().xAxis[0].data.length);
  await page.click('button[data-period="week"]');
  const weeks = await page.evaluate(() => window.omnijourneyReport.charts.ts_contacts.getOption().xAxis[0].data.length);
  check(weeks > 0 && weeks < days, 'per week: ' + weeks + ' periods, per day: ' + days);
  await page.click('button[data-period="day"]');

  // Drill-down from a funnel bar (a click on the chart) and from a path (a click on the table row).
  const drilled = async () => page.evaluate(() => {
    const d = document.getElementById('drill');
    return { open: d.classList.contains('open'), title: d.querySelector('h2') ? d.querySelector('h2').textContent : '',
             profiles: d.querySelectorAll('.profile').length, lines: [...d.querySelectorAll('pre')].map(p => p.textContent).join('\n') };
  });
  const bar = await page.evaluate(() => {
    const c = window.omnijourneyReport.charts.states_purchase;
    const reached = c.getOption().series[0].data[0].value;
    const [x, y] = c.convertToPixel({ seriesIndex: 0 }, [reached / 2, 0]);
    const box = c.getDom().getBoundingClientRect();
    window.scrollTo(0, window.scrollY + box.top - 100);
    const after = c.getDom().getBoundingClientRect();
    return { x: after.left + x, y: after.top + y };
  });
  await page.mouse.click(bar.x, bar.y);
  let d = await drilled();
  check(d.open && d.title.includes('purchase') && d.profiles > 0 && /\d{4}-\d\d-\d\d \d\d:\d\d /.test(d.lines),
        'a click on the first purchase state bar did not open example profiles: ' + JSON.stringify(d).slice(0, 200));
  if (shots) {
    fs.mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: path.join(shots, 'report-drilldown.png') });
  }
  await page.keyboard.press('Escape');
  await page.click('table[data-table="top_paths"] tbody tr');
  d = await drilled();
  check(d.open && d.title.startsWith('Path ') && d.profiles > 0, 'a click on the top path did not open example profiles');
  await page.keyboard.press('Escape');

  // Every table has a CSV export with a header and one line per row.
  const tables = await page.evaluate(() => {
    const out = [];
    for (const t of document.querySelectorAll('table[data-table]')) {
      const name = t.dataset.table;
      const x = window.omnijourneyReport.tables[name];
      const csv = x ? x.csv() : '';
      out.push({ name, rows: t.querySelectorAll('tbody tr').length, lines: csv.split('\n').filter(l => l).length,
                 button: !!document.querySelector('button[data-csv="' + name + '"]') });
    }
    return out;
  });
  check(tables.length >= 10, 'only ' + tables.length + ' tables');
  for (const t of tables) {
    check(t.button, 'table ' + t.name + ' has no CSV button');
    check(t.lines === t.rows + 1, 'table ' + t.name + ': CSV has ' + t.lines + ' lines for ' + t.rows + ' rows');
  }
  // The header says what the data covers.
  const header = await page.evaluate(() => document.querySelector('header.top').textContent);
  for (const word of ['Data:', 'Period:', 'Scope:', 'Generated:']) check(header.includes(word), 'header lacks ' + word);

  if (shots) {
    const clip = async (selector, index, name) => {
      const handles = await page.$$(selector);
      if (handles[index]) await handles[index].screenshot({ path: path.join(shots, name) });
    };
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(shots, 'report-top.png') });
    const sections = await page.evaluate(() => [...document.querySelectorAll('section h2')].map(h => h.textContent));
    const at = title => sections.findIndex(s => s.startsWith(title));
    await clip('section', at('Over time'), 'report-time-series.png');
    await clip('section', at('Journey support'), 'report-journey-map.png');
    await clip('section', at('Channel paths'), 'report-paths.png');
    await clip('section', at('Attribution'), 'report-attribution.png');
    await clip('section', at('Feedback'), 'report-root-causes.png');
  }
  check(errors.length === 0, 'console errors: ' + errors.join(' | '));
  check(external.length === 0, 'requests that leave the file: ' + external.join(' '));
  console.log(JSON.stringify({ charts: charts.length, tables: tables.length, days, weeks }));
} finally {
  await browser.close();
}
if (failures.length) {
  for (const f of failures) console.error('FAIL: ' + f);
  process.exit(1);
}
console.log('report ok');
