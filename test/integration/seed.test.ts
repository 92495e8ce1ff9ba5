// Demo data: contract shape, determinism and the tenant-specific KB facts, on the machine's PostgreSQL.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ensureTenantData, generateTenantData, seedTenant } from '../../infra/seed/demo-data.ts';
import { kbDocumentsFor } from '../../infra/seed/kb-documents.ts';
import { MACHINE_PG } from '../helpers/stack.ts';

const DB = `turnflow_seed_test_${process.pid}`;
const anchorDate = new Date('2026-06-30T00:00:00Z');
const digest = (x: unknown) => createHash('sha256').update(JSON.stringify(x)).digest('hex');

describe('demo data', () => {
  let pool: pg.Pool;
  const summaries: Record<string, { orders: number; ms: number }> = {};

  before(async () => {
    const admin = new pg.Client(`${MACHINE_PG}/postgres`);
    await admin.connect();
    await admin.query(`CREATE DATABASE ${DB}`);
    await admin.end();
    pool = new pg.Pool({ connectionString: `${MACHINE_PG}/${DB}` });
  });
  after(async () => {
    await pool.end();
    const admin = new pg.Client(`${MACHINE_PG}/postgres`);
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
    await admin.end();
  });

  it('seeds each tenant with at least 20,000 orders, different per tenant', async (t) => {
    for (const tenant of ['acme', 'globex']) {
      const s = await seedTenant(pool, tenant, { anchorDate });
      summaries[tenant] = s;
      t.diagnostic(`${tenant}: ${s.orders} orders, ${s.orderItems} items, ${s.customers} customers in ${s.ms} ms`);
      assert.ok(s.orders >= 20_000);
    }
    assert.notEqual(summaries.acme!.orders, summaries.globex!.orders);
  });

  it('follows the contract: categories, windows, totals, allowed values', async () => {
    const one = async (sql: string) => (await pool.query(sql)).rows[0];
    assert.deepEqual(
      (await pool.query('SELECT name FROM acme.categories ORDER BY name')).rows.map((r) => r.name),
      ['Apparel', 'Beauty', 'Books', 'Electronics', 'Grocery', 'Home & Kitchen', 'Sports & Outdoors', 'Toys'],
    );
    const w = await one(`SELECT min(ordered_at) AS lo, max(ordered_at) AS hi FROM acme.orders`);
    assert.ok(w.lo >= new Date('2024-06-30T00:00:00Z') && w.hi <= anchorDate);
    assert.equal((await one(`SELECT count(*)::int AS n FROM acme.orders o
      WHERE total_cents <> (SELECT sum(quantity * unit_price_cents) FROM acme.order_items i WHERE i.order_id = o.id)`)).n, 0);
    assert.equal((await one(`SELECT count(*)::int AS n FROM acme.customers
      WHERE region NOT IN ('North America','Europe','Asia Pacific','Latin America') OR segment NOT IN ('consumer','business')`)).n, 0);
    assert.equal((await one(`SELECT count(*)::int AS n FROM acme.customers c
      WHERE signup_at > (SELECT min(ordered_at) FROM acme.orders o WHERE o.customer_id = c.id)`)).n, 0);
    const revenue = await one(`SELECT sum(i.quantity * i.unit_price_cents) / 100.0 AS usd
      FROM acme.orders o JOIN acme.order_items i ON i.order_id = o.id WHERE o.status NOT IN ('cancelled', 'returned')`);
    assert.ok(Number(revenue.usd) > 0);
  });

  it('is deterministic for a seed and anchor, and differs with the seed', () => {
    const a = digest(generateTenantData('acme', { anchorDate }));
    assert.equal(digest(generateTenantData('acme', { anchorDate })), a);
    assert.notEqual(digest(generateTenantData('acme', { anchorDate, baseSeed: 7 })), a);
  });

  it('does not seed a tenant twice', async () => {
    assert.deepEqual(await ensureTenantData(pool, ['acme', 'globex'], { anchorDate }), []);
  });

  it('writes each tenant’s own return window and free-shipping threshold', () => {
    const text = (tenant: string, slug: string) => kbDocumentsFor(tenant).find((d) => d.slug === slug)!.body;
    assert.match(text('acme', 'returns'), /30 days/);
    assert.match(text('acme', 'shipping'), /over \$50/);
    assert.match(text('globex', 'returns'), /60 days/);
    assert.match(text('globex', 'shipping'), /over \$75/);
    assert.doesNotMatch(text('acme', 'returns'), /60 days/);
    assert.doesNotMatch(text('globex', 'shipping'), /\$50\b/);
    assert.deepEqual(kbDocumentsFor('acme').map((d) => d.slug), ['shipping', 'returns', 'warranty', 'payments', 'loyalty', 'privacy']);
  });
});
