// Demo data on the machine's PostgreSQL, in a throwaway database: the data contract, determinism,
// idempotent and serialized seeding, and the tenant-specific knowledge-base facts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { tenantSchemaSql } from '../../activities/tenant/analytics-schema.ts';
import { ensureTenantData, seedTenantData, seedTenantDocuments } from '../../activities/tenant/templates.ts';
import { generateTenantData } from '../../infra/demo/generator.ts';
import { kbDocumentsFor } from '../../infra/demo/kb-documents.ts';
import { demoTemplates } from '../../infra/demo/templates.ts';
import { CATEGORIES, CHANNELS, COUNTRIES_BY_REGION, ORDER_STATUSES, REGIONS, SEGMENTS } from '../../workflows/shared/shop-vocabulary.ts';
import { MACHINE_PG } from '../helpers/stack.ts';

const DB = `turnflow_seed_test_${process.pid}`;
const anchorDate = new Date('2026-06-30T00:00:00Z');
const TENANTS = ['acme', 'globex'] as const;
const digest = (x: unknown) => createHash('sha256').update(JSON.stringify(x)).digest('hex');

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: `${MACHINE_PG}/postgres` });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe('demo tenant data', () => {
  let pool: pg.Pool;
  const one = async (sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows[0];
  const values = async (sql: string) => (await pool.query(sql)).rows.map((r) => r.v as string);

  before(async () => {
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${DB}`).then(() => c.query(`CREATE DATABASE ${DB}`)));
    pool = new pg.Pool({ connectionString: `${MACHINE_PG}/${DB}`, max: 4 });
  });
  after(async () => {
    await pool?.end();
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`));
  });

  it('seeds each tenant with at least 20,000 orders, different between tenants', async (t) => {
    const orders: number[] = [];
    for (const tenant of TENANTS) {
      const s = await seedTenantData(pool, tenant, demoTemplates, tenant, { anchorDate });
      t.diagnostic(`${tenant}: ${s.orders} orders, ${s.orderItems} items, ${s.customers} customers, ${s.products} products, ${s.reviews} reviews in ${s.ms} ms`);
      assert.ok(s.orders >= 20_000, `${tenant} has ${s.orders} orders`);
      assert.equal((await one(`SELECT count(*)::int AS n FROM ${tenant}.orders`)).n, s.orders);
      orders.push(s.orders);
    }
    assert.notEqual(orders[0], orders[1]);
  });

  for (const tenant of TENANTS) {
    it(`${tenant}: follows the data contract`, async () => {
      assert.deepEqual(
        (await pool.query(`SELECT name FROM ${tenant}.categories ORDER BY id`)).rows.map((r) => r.name),
        [...CATEGORIES],
      );
      assert.equal(CATEGORIES.length, 8);

      const outside = await one(
        `SELECT count(*)::int AS n FROM ${tenant}.orders
         WHERE ordered_at < $1::timestamptz - interval '24 months' OR ordered_at > $1::timestamptz`,
        [anchorDate.toISOString()],
      );
      assert.equal(outside.n, 0, 'orders outside the 24-month window');

      const badTotals = await one(`SELECT count(*)::int AS n FROM ${tenant}.orders o
        WHERE total_cents IS DISTINCT FROM (SELECT sum(quantity * unit_price_cents) FROM ${tenant}.order_items i WHERE i.order_id = o.id)`);
      assert.equal(badTotals.n, 0, 'orders whose total is not the sum of their items');
      const lines = await one(`SELECT min(n)::int AS lo, max(n)::int AS hi FROM (SELECT count(*) AS n FROM ${tenant}.order_items GROUP BY order_id) x`);
      assert.ok(lines.lo >= 1 && lines.hi <= 4, `items per order ${lines.lo}..${lines.hi}`);

      const subset = (actual: string[], allowed: readonly string[], what: string) =>
        assert.deepEqual(actual.filter((v) => !allowed.includes(v)), [], `unexpected ${what}`);
      subset(await values(`SELECT DISTINCT region AS v FROM ${tenant}.customers`), REGIONS, 'regions');
      subset(await values(`SELECT DISTINCT segment AS v FROM ${tenant}.customers`), SEGMENTS, 'segments');
      subset(await values(`SELECT DISTINCT status AS v FROM ${tenant}.orders`), ORDER_STATUSES, 'statuses');
      subset(await values(`SELECT DISTINCT channel AS v FROM ${tenant}.orders`), CHANNELS, 'channels');
      for (const { region, country } of (await pool.query(`SELECT DISTINCT region, country FROM ${tenant}.customers`)).rows) {
        assert.ok(COUNTRIES_BY_REGION[region as (typeof REGIONS)[number]].includes(country), `${country} is not in ${region}`);
      }
      const mix = await one(`SELECT avg((status = 'cancelled')::int)::float AS cancelled, avg((status = 'returned')::int)::float AS returned FROM ${tenant}.orders`);
      assert.ok(mix.cancelled > 0.03 && mix.cancelled < 0.07 && mix.returned > 0.02 && mix.returned < 0.06, JSON.stringify(mix));

      const badEmails = await one(`SELECT count(*)::int AS n FROM ${tenant}.customers WHERE email !~ '^[a-z0-9._]+@example\\.(com|net|org)$'`);
      assert.equal(badEmails.n, 0);
      const lateSignups = await one(`SELECT count(*)::int AS n FROM ${tenant}.customers c
        WHERE signup_at > (SELECT min(ordered_at) FROM ${tenant}.orders o WHERE o.customer_id = c.id)`);
      assert.equal(lateSignups.n, 0, 'customers who ordered before signing up');
      const lateProducts = await one(`SELECT count(*)::int AS n FROM ${tenant}.products p
        WHERE created_at > (SELECT min(o.ordered_at) FROM ${tenant}.order_items i JOIN ${tenant}.orders o ON o.id = i.order_id WHERE i.product_id = p.id)`);
      assert.equal(lateProducts.n, 0, 'products sold before they were created');
      const reviews = await one(`SELECT count(*)::int AS n, min(rating) AS lo, max(rating) AS hi FROM ${tenant}.reviews`);
      assert.ok(reviews.n >= 1000 && reviews.lo >= 1 && reviews.hi <= 5, JSON.stringify(reviews));
    });
  }

  it('computes revenue (items of orders neither cancelled nor returned) per tenant', async (t) => {
    const revenue: number[] = [];
    for (const tenant of TENANTS) {
      const r = await one(`SELECT sum(i.quantity * i.unit_price_cents) / 100.0 AS usd
        FROM ${tenant}.orders o JOIN ${tenant}.order_items i ON i.order_id = o.id
        WHERE o.status NOT IN ('cancelled', 'returned')`);
      t.diagnostic(`${tenant} revenue: $${Number(r.usd).toFixed(2)}`);
      assert.ok(Number(r.usd) > 0);
      revenue.push(Number(r.usd));
    }
    assert.notEqual(revenue[0], revenue[1]);
  });

  it('generates identical data for a tenant, seed and anchor day; different data otherwise', () => {
    const a = digest(generateTenantData('acme', { anchorDate }));
    assert.equal(digest(generateTenantData('acme', { anchorDate: new Date('2026-06-30T17:45:00Z') })), a, 'the anchor is truncated to the day');
    assert.notEqual(digest(generateTenantData('acme', { anchorDate, baseSeed: 7 })), a);
    assert.notEqual(digest(generateTenantData('globex', { anchorDate })), a);
  });

  it('does not seed tenants that already have data', async () => {
    assert.deepEqual(await ensureTenantData(pool, TENANTS, demoTemplates, { anchorDate }), []);
  });

  it('seeds a missing tenant exactly once when two starters race', async () => {
    const runs = await Promise.all([ensureTenantData(pool, ['initech'], demoTemplates, { anchorDate }), ensureTenantData(pool, ['initech'], demoTemplates, { anchorDate })]);
    assert.equal(runs.flat().length, 1);
    assert.equal((await one('SELECT count(*)::int AS n FROM initech.orders')).n, runs.flat()[0]!.orders);
  });

  it('rejects tenant ids that are not safe schema names', () => {
    assert.throws(() => tenantSchemaSql('acme"; DROP SCHEMA acme CASCADE; --'), /invalid tenant id/);
    assert.throws(() => generateTenantData('Acme', { anchorDate }), /invalid tenant id/);
  });

  it('writes each tenant’s own return window and free-shipping threshold', () => {
    const doc = (tenant: string, slug: string) => kbDocumentsFor(tenant).find((d) => d.slug === slug)!.body;
    for (const tenant of TENANTS) {
      assert.deepEqual(kbDocumentsFor(tenant).map((d) => d.slug), ['shipping', 'returns', 'warranty', 'payments', 'loyalty', 'privacy']);
      for (const d of kbDocumentsFor(tenant)) {
        const words = d.body.split(/\s+/).length;
        assert.ok(words >= 200 && words <= 500, `${tenant}/${d.slug} has ${words} words`);
      }
    }
    assert.match(doc('acme', 'returns'), /within 30 days of delivery/);
    assert.match(doc('acme', 'shipping'), /Orders over \$50 ship free/);
    assert.match(doc('globex', 'returns'), /within 60 days of delivery/);
    assert.match(doc('globex', 'shipping'), /Orders over \$75 ship free/);
    for (const slug of ['returns', 'shipping']) {
      assert.doesNotMatch(doc('acme', slug), /60 days|\$75\b/);
      assert.doesNotMatch(doc('globex', slug), /30 days|\$50\b/);
    }
    assert.deepEqual(kbDocumentsFor('nobody'), []);
  });

  it('upserts the knowledge base idempotently', async () => {
    // The app store's migration owns these tables; a minimal copy stands in for it here.
    await pool.query(`CREATE TABLE tenants (id text PRIMARY KEY);
      CREATE TABLE kb_documents (tenant_id text NOT NULL REFERENCES tenants(id), slug text NOT NULL, title text NOT NULL,
        body text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (tenant_id, slug));
      INSERT INTO tenants VALUES ('acme'), ('globex');`);
    for (const tenant of TENANTS) {
      assert.equal(await seedTenantDocuments(pool, tenant, demoTemplates, tenant), 6);
      assert.equal(await seedTenantDocuments(pool, tenant, demoTemplates, tenant), 6);
    }
    assert.equal((await one('SELECT count(*)::int AS n FROM kb_documents')).n, 12);
    assert.match((await one(`SELECT body FROM kb_documents WHERE tenant_id = 'globex' AND slug = 'returns'`)).body, /60 days/);
  });
});
