// guardSql's accepted queries run on the seeded demo tenant (the machine's PostgreSQL): what the guard lets
// through, and its LIMIT wrapper, is SQL Postgres runs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { guardSql } from '../../activities/sql/sql-guard.ts';
import { ANALYTICS, OPTS } from '../helpers/sql-guard-cases.ts';
import { seededTenantDatabase } from '../helpers/stack.ts';

async function accepted(sql: string): Promise<{ sql: string; tables: string[] }> {
  const r = await guardSql(sql, OPTS);
  assert.ok(r.ok, `expected acceptance of ${JSON.stringify(sql)}, got: ${r.ok ? '' : r.reason}`);
  return r;
}

describe('guardSql: accepted queries run on the real Postgres', () => {
  let client: pg.Client;
  before(async () => {
    client = new pg.Client({ connectionString: await seededTenantDatabase() });
    await client.connect();
  });
  after(async () => {
    await client?.end();
  });

  async function runReadOnly(sql: string): Promise<pg.QueryResult> {
    await client.query('BEGIN READ ONLY');
    try {
      await client.query("SET LOCAL search_path = acme; SET LOCAL statement_timeout = '10s'");
      return await client.query(sql);
    } finally {
      await client.query('ROLLBACK');
    }
  }

  for (const [name, { sql }] of Object.entries(ANALYTICS)) {
    it(name, async () => {
      const r = await accepted(sql);
      await runReadOnly(r.sql);
    });
  }

  it('the LIMIT wrapper caps rows, and tolerates duplicate column names and trailing comments', async () => {
    const r = await accepted('SELECT o.id, c.id FROM orders o JOIN customers c ON c.id = o.customer_id ORDER BY o.id -- all of them');
    const res = await runReadOnly(r.sql);
    assert.equal(res.rowCount, OPTS.maxRows);
  });

  it('a wrapped WITH ... UNION query runs', async () => {
    const r = await accepted('WITH t AS (SELECT id FROM orders) SELECT id FROM t UNION SELECT id FROM customers;');
    const res = await runReadOnly(r.sql);
    assert.ok(res.rowCount! > 0 && res.rowCount! <= OPTS.maxRows);
  });
});
