// Segment's own Node SDK (@segment/analytics-node) pointed at `omnijourney serve`, unchanged but for
// its host: identify, track, page and screen calls arrive as one customer, a wrong write key is
// refused, and the other tenant sees nothing.
//
//   node segment_sdk_check.mjs OMNIJOURNEY_BINARY WORK_DIR
import { Analytics } from '@segment/analytics-node';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [binary, work] = process.argv.slice(2);
if (!binary || !work) {
  console.error('usage: node segment_sdk_check.mjs OMNIJOURNEY_BINARY WORK_DIR');
  process.exit(2);
}
const fail = (message) => {
  console.error(`FAIL: ${message}`);
  process.exitCode = 1;
};
const sha = (key) => 'sha256:' + createHash('sha256').update(key).digest('hex');

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const keys = { acmeWrite: 'wk_sdk_acme', acmeRead: 'rk_sdk_acme', globexRead: 'rk_sdk_globex' };
const config = path.join(work, 'serve.textproto');
writeFileSync(config, `port: 0
keys { tenant: "acme" name: "web shop" hash: "${sha(keys.acmeWrite)}" scopes: SCOPE_WRITE }
keys { tenant: "acme" name: "agent desk" hash: "${sha(keys.acmeRead)}" scopes: SCOPE_READ }
keys { tenant: "globex" hash: "${sha(keys.globexRead)}" scopes: SCOPE_READ }
`);

const server = spawn(binary, ['serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
let stderr = '';
server.stderr.on('data', (d) => { stderr += d; });
const port = await new Promise((resolve, reject) => {
  let out = '';
  const timer = setTimeout(() => reject(new Error(`the server did not start: ${out} ${stderr}`)), 20000);
  server.stdout.on('data', (d) => {
    out += d;
    const m = out.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
    if (m) {
      clearTimeout(timer);
      resolve(Number(m[1]));
    }
  });
  server.on('exit', (code) => reject(new Error(`the server exited (${code}): ${stderr}`)));
});
const base = `http://127.0.0.1:${port}`;

try {
  const errors = [];
  const analytics = new Analytics({ writeKey: keys.acmeWrite, host: base, flushAt: 3, flushInterval: 200, maxRetries: 1 });
  analytics.on('error', (e) => errors.push(e));
  analytics.identify({ userId: 'sdk-user-1', traits: { name: 'Dana Novak', email: 'dana@example.com' } });
  analytics.track({ userId: 'sdk-user-1', event: 'Product Viewed', properties: { sku: 'SOFA-GREEN' } });
  analytics.page({ userId: 'sdk-user-1', name: 'Checkout', properties: { url: 'https://shop.example/checkout' } });
  analytics.screen({ anonymousId: 'sdk-device-9', name: 'Basket' });
  analytics.alias({ userId: 'sdk-user-1', previousId: 'sdk-device-9' });
  analytics.track({ userId: 'sdk-user-1', event: 'Order Completed', properties: { order_id: 'o-77', total: 129.5, currency: 'EUR' } });
  await analytics.closeAndFlush({ timeout: 10000 });
  if (errors.length) fail(`the SDK reported errors: ${errors.map((e) => e.reason ?? e.code ?? e).join('; ')}`);

  const get = async (url, key) => {
    const res = await fetch(base + url, { headers: { Authorization: `Bearer ${key}` } });
    return { status: res.status, body: await res.text() };
  };
  const ctx = await get('/v1/profiles/user_id:sdk-user-1/context', keys.acmeRead);
  if (ctx.status !== 200) fail(`context: ${ctx.status} ${ctx.body}`);
  const context = JSON.parse(ctx.body);
  const text = JSON.stringify(context);
  for (const want of ['Dana Novak', 'dana@example.com', 'Product Viewed', 'Checkout', 'o-77', 'sdk-device-9']) {
    if (!text.includes(want)) fail(`context lacks ${want}: ${text.slice(0, 400)}`);
  }
  if (context.tenant !== 'acme') fail(`context tenant ${context.tenant}`);
  // The anonymous device's screen call joined the customer through the alias.
  const byDevice = await get('/v1/profiles/anonymous_id:sdk-device-9/context', keys.acmeRead);
  if (byDevice.status !== 200 || JSON.parse(byDevice.body).profile !== context.profile) {
    fail(`the device is not the same profile: ${byDevice.status} ${byDevice.body.slice(0, 200)}`);
  }
  const other = await get('/v1/profiles/user_id:sdk-user-1/context', keys.globexRead);
  if (other.status !== 404) fail(`another tenant's key read the customer: ${other.status}`);

  // A wrong write key: the SDK gets 401 and reports the batch as failed.
  const wrongErrors = [];
  const wrong = new Analytics({ writeKey: 'wk_wrong', host: base, flushAt: 1, maxRetries: 0 });
  wrong.on('error', (e) => wrongErrors.push(e));
  wrong.track({ userId: 'sdk-user-2', event: 'Should Not Arrive' });
  await wrong.closeAndFlush({ timeout: 5000 });
  if (wrongErrors.length === 0) fail('a wrong write key was not refused');
  const absent = await get('/v1/profiles/user_id:sdk-user-2/context', keys.acmeRead);
  if (absent.status !== 404) fail(`an event with a wrong write key was ingested: ${absent.status}`);

  if (!process.exitCode) {
    console.log(`segment sdk: 6 calls delivered through @segment/analytics-node to ${base}; profile ${context.profile} ` +
                `in tenant acme; wrong write key refused; other tenant: 404`);
  }
} catch (e) {
  fail(e.stack ?? String(e));
} finally {
  server.kill('SIGTERM');
  await new Promise((resolve) => server.on('exit', resolve));
}
