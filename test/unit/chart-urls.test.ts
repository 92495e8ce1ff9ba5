// Signed chart URLs: what a browser's <img> may load without an API key. Sign and verify (expiry, tenant
// binding, tampering), signing on the way out (events and results keep the unsigned path), the routes'
// answers on a fake store, and the signing key's source. A real turn's chart URL: test/e2e/http-sse.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { createChartUrlSigner, signEvent, signingEvents, signResult } from '../../api/chart-urls.ts';
import { chartRoutes, signedChartRoutes } from '../../api/charts.ts';
import { errorHandler } from '../../api/errors.ts';
import { listen } from '../../api/server.ts';
import { createMemoryTurnEventBus } from '../../activities/turn-events/bus.ts';
import { chartUrlSecret, CHART_URL_SECRET_FILE } from '../../infra/chart-url-secret.ts';
import { ConfigError } from '../../infra/config.ts';
import type { Queryable } from '../../infra/db.ts';
import { createLogger } from '../../infra/logger.ts';

const SECRET = 'unit-test-chart-url-secret-0123456789';
const ID = 'a'.repeat(32);
const OTHER_ID = 'b'.repeat(32);
const T0 = Date.UTC(2026, 11, 5, 12, 0, 0);

function query(url: string): { exp: string; sig: string } {
  const q = new URL(url, 'http://x').searchParams;
  return { exp: q.get('exp')!, sig: q.get('sig')! };
}

describe('chart URL signatures', () => {
  let now = T0;
  const signer = createChartUrlSigner({ secret: SECRET, ttlSeconds: 3600, now: () => now });

  it('signs both formats with one expiry, and a signed URL verifies for its tenant and chart', () => {
    now = T0;
    const links = signer.links('acme', ID);
    assert.match(links.svgUrl, new RegExp(`^/v1/charts/${ID}\\.svg\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}$`));
    assert.match(links.pngUrl, new RegExp(`^/v1/charts/${ID}\\.png\\?`));
    const { exp, sig } = query(links.svgUrl);
    assert.equal(Number(exp), T0 / 1000 + 3600);
    assert.deepEqual(query(links.pngUrl), { exp, sig });
    assert.equal(signer.verify('acme', ID, exp, sig), 'ok');
  });

  it('expires after the TTL', () => {
    now = T0;
    const { exp, sig } = query(signer.links('acme', ID).svgUrl);
    now = T0 + 3599_000;
    assert.equal(signer.verify('acme', ID, exp, sig), 'ok');
    assert.equal(signer.secondsLeft(exp), 1);
    now = T0 + 3600_000;
    assert.equal(signer.verify('acme', ID, exp, sig), 'expired');
    assert.equal(signer.secondsLeft(exp), 0);
    now = T0;
  });

  it('is bound to the tenant, the chart and the expiry: nothing else verifies', () => {
    const { exp, sig } = query(signer.links('acme', ID).svgUrl);
    assert.equal(signer.verify('globex', ID, exp, sig), 'invalid', 'another tenant');
    assert.equal(signer.verify('acme', OTHER_ID, exp, sig), 'invalid', 'another chart');
    assert.equal(signer.verify('acme', ID, String(Number(exp) + 86_400), sig), 'invalid', 'a later expiry');
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    assert.equal(signer.verify('acme', ID, exp, flipped), 'invalid', 'a changed signature');
    assert.equal(signer.verify('acme', ID, exp, sig.slice(0, 42)), 'invalid', 'a truncated signature');
    assert.equal(signer.verify('acme', ID, exp, undefined), 'invalid');
    assert.equal(signer.verify('acme', ID, [exp, exp], sig), 'invalid', 'a repeated parameter');
    assert.equal(signer.verify('acme', ID, undefined, undefined), 'missing');
    const otherKey = createChartUrlSigner({ secret: `${SECRET}-rotated`, ttlSeconds: 3600, now: () => now });
    assert.equal(otherKey.verify('acme', ID, exp, sig), 'invalid', 'another key');
  });

  it('signs chart and done events and results on the way out, leaving everything else and the stored event alone', async () => {
    const chart = { id: ID, svgUrl: `/v1/charts/${ID}.svg`, pngUrl: `/v1/charts/${ID}.png` };
    const chartEvent = { type: 'chart' as const, id: '1-0', data: { ...chart, spec: { mark: 'bar' } } };
    const out = signEvent(signer, 'acme', chartEvent);
    assert.equal(out.id, '1-0');
    assert.equal(out.data.id, ID);
    assert.deepEqual(out.data.spec, { mark: 'bar' });
    assert.equal(signer.verify('acme', ID, ...(Object.values(query(out.data.svgUrl)) as [string, string])), 'ok');
    assert.equal(chartEvent.data.svgUrl, `/v1/charts/${ID}.svg`, 'the stored event keeps the unsigned path');
    const result = { answer: 'x', chart };
    const signed = signResult(signer, 'acme', result);
    assert.match(signed.chart!.pngUrl, /\?exp=\d+&sig=/);
    assert.equal(result.chart.pngUrl, `/v1/charts/${ID}.png`);
    const plain: { answer: string; chart?: typeof chart } = { answer: 'no chart' };
    assert.equal(signResult(signer, 'acme', plain), plain);
    const token = { type: 'token' as const, data: { text: `/v1/charts/${ID}.svg` } };
    assert.equal(signEvent(signer, 'acme', token), token);

    const bus = createMemoryTurnEventBus(60);
    await bus.publish('s', { type: 'chart', data: { ...chart, spec: {} } });
    await bus.publishTerminal('s', { type: 'done', data: { chart } as never });
    const ac = new AbortController();
    const seen = [];
    for await (const item of signingEvents(bus, signer, 'acme').subscribe('s', '0', { signal: ac.signal })) {
      seen.push(item);
      if (item.type === 'done') break;
    }
    ac.abort();
    assert.match((seen[0] as { data: { svgUrl: string } }).data.svgUrl, /\?exp=/);
    assert.match((seen[1] as { data: { chart: { svgUrl: string } } }).data.chart.svgUrl, /\?exp=/);
    const stored = [];
    const ac2 = new AbortController();
    for await (const item of bus.subscribe('s', '0', { signal: ac2.signal })) {
      stored.push(item);
      if (item.type === 'done') break;
    }
    ac2.abort();
    assert.equal((stored[0] as { data: { svgUrl: string } }).data.svgUrl, `/v1/charts/${ID}.svg`, 'the bus keeps the unsigned path');
  });
});

describe('GET /v1/charts/:id without an API key', () => {
  // A fake store: acme owns ID; globex owns OTHER_ID.
  const charts = new Map([
    [ID, { tenant_id: 'acme', svg: '<svg>acme</svg>', png: Buffer.from('png-acme') }],
    [OTHER_ID, { tenant_id: 'globex', svg: '<svg>globex</svg>', png: Buffer.from('png-globex') }],
  ]);
  const db = {
    query: async <R,>(sql: string, params?: unknown[]) => {
      const byOwner = /WHERE id = \$1/.test(sql);
      const row = charts.get(String(byOwner ? params?.[0] : params?.[1]));
      const ok = row && (byOwner || row.tenant_id === params?.[0]);
      return { rows: (ok ? [row] : []) as R[], rowCount: ok ? 1 : 0 };
    },
  } satisfies Queryable;
  let now = Date.now();
  const signer = createChartUrlSigner({ secret: SECRET, ttlSeconds: 600, now: () => now });
  let api: Awaited<ReturnType<typeof listen>>;
  let base: string;
  before(async () => {
    const app = express();
    app.use(signedChartRoutes({ appDb: db, chartUrls: signer }));
    // Stands in for the API key check and the Bearer route behind it.
    app.use((req, _res, next) => ((req.tenantId = 'acme'), next()));
    app.use(chartRoutes({ appDb: db }));
    app.use(errorHandler(createLogger('silent')));
    api = await listen(app, 0, '127.0.0.1');
    base = `http://127.0.0.1:${api.port}`;
  });
  after(() => api.close());

  it('serves a signed URL with no header at all, cached privately until it expires', async () => {
    now = Date.now();
    const links = signer.links('acme', ID);
    const svg = await fetch(base + links.svgUrl);
    assert.equal(svg.status, 200);
    assert.equal(await svg.text(), '<svg>acme</svg>');
    assert.match(svg.headers.get('content-type')!, /^image\/svg\+xml/);
    const cc = svg.headers.get('cache-control')!;
    assert.match(cc, /^private, max-age=\d+, immutable$/, 'no shared cache may keep it');
    const maxAge = Number(/max-age=(\d+)/.exec(cc)![1]);
    assert.ok(maxAge > 0 && maxAge <= 600, `max-age ${maxAge} within the URL's life`);
    const png = await fetch(base + links.pngUrl);
    assert.equal(png.status, 200);
    assert.equal(png.headers.get('content-type'), 'image/png');
    assert.equal(Buffer.from(await png.arrayBuffer()).toString(), 'png-acme');
  });

  it('refuses unsigned, expired, tampered and other-tenant URLs with a 403 in the JSON error shape', async () => {
    now = Date.now();
    const links = signer.links('acme', ID);
    const { exp, sig } = query(links.svgUrl);
    const refusals: [string, string][] = [
      [`/v1/charts/${ID}.svg`, 'chart_url_unsigned'],
      [`/v1/charts/${ID}.svg?exp=${Number(exp) + 60}&sig=${sig}`, 'chart_url_invalid'],
      [`/v1/charts/${ID}.svg?exp=${exp}&sig=${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`, 'chart_url_invalid'],
      [`/v1/charts/${ID}.svg?exp=${exp}`, 'chart_url_invalid'],
      // acme's signature on globex's chart id, and globex's signature for acme's chart.
      [`/v1/charts/${OTHER_ID}.svg?exp=${exp}&sig=${sig}`, 'chart_url_invalid'],
      [signer.links('globex', ID).svgUrl, 'chart_url_invalid'],
      [`/v1/charts/${'c'.repeat(32)}.svg?exp=${exp}&sig=${sig}`, 'chart_url_invalid'],
    ];
    for (const [url, code] of refusals) {
      const res = await fetch(base + url);
      assert.equal(res.status, 403, url);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, code, url);
      assert.ok(body.error.message, url);
    }
    now = Date.now() + 601_000;
    const expired = await fetch(base + links.svgUrl);
    assert.equal(expired.status, 403);
    assert.equal(((await expired.json()) as { error: { code: string } }).error.code, 'chart_url_expired');
    now = Date.now();
  });

  it('leaves a request with an Authorization header to the Bearer route, cached by the client only', async () => {
    const res = await fetch(`${base}/v1/charts/${ID}.svg`, { headers: { authorization: 'Bearer anything' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'private, max-age=31536000, immutable');
    assert.equal((await fetch(`${base}/v1/charts/${OTHER_ID}.svg`, { headers: { authorization: 'Bearer x' } })).status, 404);
  });
});

describe('the chart URL key', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'turnflow-chart-key-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('comes from CHART_URL_SECRET when set', () => {
    assert.equal(chartUrlSecret({ CHART_URL_SECRET: 'x'.repeat(32), NODE_ENV: 'production', DATA_DIR: dir }), 'x'.repeat(32));
  });

  it('is refused in production when unset, naming the variable', () => {
    assert.throws(() => chartUrlSecret({ CHART_URL_SECRET: undefined, NODE_ENV: 'production', DATA_DIR: dir }), (err: Error) => err instanceof ConfigError && /CHART_URL_SECRET/.test(err.message));
  });

  it('is made once in development and kept in DATA_DIR, readable by its owner only', () => {
    const data = path.join(dir, 'data');
    const first = chartUrlSecret({ CHART_URL_SECRET: undefined, NODE_ENV: 'development', DATA_DIR: data });
    assert.ok(first.length >= 32);
    const file = path.join(data, CHART_URL_SECRET_FILE);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(readFileSync(file, 'utf8').trim(), first);
    assert.equal(chartUrlSecret({ CHART_URL_SECRET: undefined, NODE_ENV: 'development', DATA_DIR: data }), first, 'the same key after a restart');
  });
});
