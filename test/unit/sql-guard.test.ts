import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guardSql, MAX_SQL_CHARS, type GuardOptions, type GuardResult } from '../../activities/sql/sql-guard.ts';
import { ANALYTICS, OPTS } from '../helpers/sql-guard-cases.ts';

async function accepted(sql: string, opts: GuardOptions = OPTS): Promise<{ sql: string; tables: string[] }> {
  const r = await guardSql(sql, opts);
  assert.ok(r.ok, `expected acceptance of ${JSON.stringify(sql)}, got: ${r.ok ? '' : r.reason}`);
  return r;
}

async function refused(sql: string, reasonPattern: RegExp, opts: GuardOptions = OPTS): Promise<string> {
  const r: GuardResult = await guardSql(sql, opts);
  assert.ok(!r.ok, `expected refusal of ${JSON.stringify(sql)}, got: ${r.ok ? r.sql : ''}`);
  assert.match(r.reason, reasonPattern, `reason for ${JSON.stringify(sql)}`);
  return r.reason;
}

const wrapped = (inner: string, n = OPTS.maxRows) => `SELECT * FROM (\n${inner}\n) AS capped LIMIT ${n}`;

describe('guardSql: accepted analytics queries', () => {
  for (const [name, { sql, tables }] of Object.entries(ANALYTICS)) {
    it(name, async () => {
      const r = await accepted(sql);
      assert.equal(r.sql, sql, 'a query with an acceptable LIMIT is kept as written');
      assert.deepEqual(r.tables, tables);
    });
  }

  it('accepts pg_catalog-qualified ordinary functions and built-in casts', async () => {
    await accepted('SELECT pg_catalog.sum(total_cents)::numeric(12,2), pg_catalog.now(), id::text FROM orders GROUP BY id LIMIT 5');
  });

  it('accepts TABLESAMPLE with a built-in method', async () => {
    await accepted('SELECT count(*) FROM orders TABLESAMPLE bernoulli (10) REPEATABLE (42) LIMIT 1');
  });

  it('accepts harmless session info (current_user, current_date) and VALUES', async () => {
    await accepted('SELECT current_user, session_user, current_date, v.x FROM (VALUES (1), (2)) AS v(x) LIMIT 2');
  });

  it('accepts a CTE that shadows a table name, and does not report it as a base table', async () => {
    const r = await accepted('WITH orders AS (SELECT 1 AS id) SELECT * FROM orders LIMIT 1');
    assert.deepEqual(r.tables, []);
  });

  it('accepts a CTE referenced from a nested subquery', async () => {
    const r = await accepted('WITH big AS (SELECT id FROM orders WHERE total_cents > 1000) SELECT count(*) FROM customers WHERE id IN (SELECT id FROM big) LIMIT 1');
    assert.deepEqual(r.tables, ['customers', 'orders']);
  });

  it('trims trailing semicolons, whitespace and comments after the statement', async () => {
    assert.equal((await accepted('  select id from orders limit 3 ;;  \n')).sql, 'select id from orders limit 3');
    assert.equal((await accepted('select id from orders limit 3; -- that is all')).sql, 'select id from orders limit 3');
  });

  it('cuts the statement by UTF-8 byte offsets correctly around non-ASCII text', async () => {
    assert.equal((await accepted("select 'Müller – café' AS n from customers limit 1; -- ünïcode")).sql, "select 'Müller – café' AS n from customers limit 1");
  });

  it('lists distinct base tables, unqualified and sorted', async () => {
    const r = await accepted('SELECT 1 FROM acme.reviews r, reviews r2, acme.categories, orders LIMIT 1');
    assert.deepEqual(r.tables, ['categories', 'orders', 'reviews']);
  });
});

describe('guardSql: LIMIT enforcement', () => {
  const cases: Record<string, string> = {
    'no LIMIT': 'SELECT id FROM orders ORDER BY id',
    'LIMIT above maxRows': 'SELECT id FROM orders LIMIT 100000',
    'LIMIT ALL': 'SELECT id FROM orders LIMIT ALL',
    'LIMIT $1': 'SELECT id FROM orders LIMIT $1',
    'LIMIT (subquery)': 'SELECT id FROM orders LIMIT (SELECT count(*) FROM customers)',
    'LIMIT as an expression': 'SELECT id FROM orders LIMIT 10 + 10',
    'LIMIT as a non-integer': 'SELECT id FROM orders LIMIT 10.5',
    'LIMIT beyond int32': 'SELECT id FROM orders LIMIT 99999999999',
    'OFFSET only': 'SELECT id FROM orders OFFSET 10',
    'FETCH ... WITH TIES (can exceed the count)': 'SELECT id FROM orders ORDER BY status FETCH FIRST 5 ROWS WITH TIES',
    'LIMIT only inside a UNION branch': '(SELECT id FROM orders LIMIT 5) UNION (SELECT id FROM customers LIMIT 5)',
    'LIMIT only inside a subquery': 'SELECT * FROM (SELECT id FROM orders LIMIT 5) s',
  };
  for (const [name, sql] of Object.entries(cases)) {
    it(`wraps: ${name}`, async () => {
      const r = await accepted(sql);
      assert.equal(r.sql, wrapped(sql));
      const again = await accepted(r.sql);
      assert.equal(again.sql, r.sql, 'the wrapped query passes the guard unchanged');
      assert.deepEqual(again.tables, r.tables);
    });
  }

  it('wraps WITH queries and UNIONs without the trailing semicolon', async () => {
    const sql = 'WITH t AS (SELECT id FROM orders) SELECT id FROM t UNION SELECT id FROM customers;';
    assert.equal((await accepted(sql)).sql, wrapped(sql.slice(0, -1)));
  });

  it('keeps the closing parenthesis out of a trailing line comment', async () => {
    const r = await accepted('SELECT id FROM orders -- newest first?');
    assert.equal(r.sql, wrapped('SELECT id FROM orders -- newest first?'));
    assert.ok((await guardSql(r.sql, OPTS)).ok);
  });

  it('keeps LIMIT exactly maxRows and LIMIT 0 as written', async () => {
    assert.equal((await accepted('SELECT id FROM orders LIMIT 500')).sql, 'SELECT id FROM orders LIMIT 500');
    assert.equal((await accepted('SELECT id FROM orders LIMIT 0')).sql, 'SELECT id FROM orders LIMIT 0');
  });

  it('honours a custom maxRows', async () => {
    const opts = { ...OPTS, maxRows: 10 };
    assert.equal((await accepted('SELECT id FROM orders LIMIT 11', opts)).sql, wrapped('SELECT id FROM orders LIMIT 11', 10));
  });

  it('refuses a negative LIMIT', async () => {
    await refused('SELECT id FROM orders LIMIT -1', /negative/);
  });
});

describe('guardSql: refused statements', () => {
  const cases: [string, string, RegExp][] = [
    ['a syntax error', 'SELEC id FROM orders', /^syntax error: .*SELEC/],
    ['an unterminated string', "SELECT 'oops FROM orders", /^syntax error: /],
    ['multiple statements', 'select 1; drop table acme.orders', /exactly one statement.*found 2/],
    ['two harmless SELECTs', 'SELECT 1; SELECT 2', /exactly one statement/],
    ['INSERT', "INSERT INTO orders (id) VALUES (1)", /only a single SELECT.*INSERT/],
    ['UPDATE', "UPDATE orders SET status = 'x'", /only a single SELECT.*UPDATE/],
    ['DELETE', 'DELETE FROM orders', /only a single SELECT.*DELETE/],
    ['MERGE', 'MERGE INTO orders o USING customers c ON o.customer_id = c.id WHEN MATCHED THEN DELETE', /only a single SELECT.*MERGE/],
    ['DROP TABLE', 'DROP TABLE acme.orders', /only a single SELECT.*DROP/],
    ['CREATE TABLE AS', 'CREATE TABLE x AS SELECT * FROM orders', /only a single SELECT/],
    ['TRUNCATE', 'TRUNCATE orders', /only a single SELECT.*TRUNCATE/],
    ['COPY', "COPY orders TO '/tmp/x'", /only a single SELECT.*COPY/],
    ['SET', 'SET search_path = globex', /only a single SELECT/],
    ['DO', "DO $$ BEGIN PERFORM 1; END $$", /only a single SELECT.*DO/],
    ['CALL', 'CALL some_proc()', /only a single SELECT.*CALL/],
    ['EXPLAIN ANALYZE', 'EXPLAIN ANALYZE SELECT * FROM orders', /only a single SELECT.*EXPLAIN/],
    ['transaction control', 'BEGIN', /only a single SELECT.*TRANSACTION/],
    ['data-modifying CTE', 'WITH x AS (DELETE FROM orders RETURNING *) SELECT * FROM x LIMIT 1', /DELETE statement inside/],
    ['data-modifying CTE nested in a subquery', 'SELECT * FROM (WITH x AS (UPDATE orders SET status = status RETURNING id) SELECT id FROM x) s LIMIT 1', /UPDATE statement inside/],
    ['SELECT INTO', 'SELECT * INTO stolen FROM orders LIMIT 1', /INTO/],
    ['FOR UPDATE', 'SELECT * FROM orders LIMIT 1 FOR UPDATE', /locking/],
    ['FOR SHARE inside a CTE', 'WITH x AS (SELECT * FROM orders FOR SHARE) SELECT * FROM x LIMIT 1', /locking/],
  ];
  for (const [name, sql, reason] of cases) it(name, async () => void (await refused(sql, reason)));

  it('is not fooled by a comment hiding a second statement', async () => {
    const r = await accepted('select 1 -- ; drop table orders');
    assert.equal(r.sql, wrapped('select 1 -- ; drop table orders'));
    await refused('select 1 /* ; */ ; drop table orders', /exactly one statement/);
  });

  it('is not fooled by a statement hidden in a string or dollar quote', async () => {
    assert.deepEqual((await accepted("SELECT 'x; DROP TABLE orders' AS s, $q$; DELETE FROM orders$q$ AS t LIMIT 1")).tables, []);
  });

  it('refuses empty and comment-only input', async () => {
    await refused('', /empty/);
    await refused('  -- nothing here\n', /no SQL statement/);
  });

  it(`refuses input over ${MAX_SQL_CHARS} characters without parsing`, async () => {
    const huge = `SELECT id FROM orders WHERE status IN (${Array.from({ length: 6000 }, (_, i) => `'s${i}'`).join(',')}) LIMIT 1`;
    assert.ok(huge.length > 30_000);
    await refused(huge, /too long/);
  });

  it('never throws, whatever it is given', async () => {
    await refused(null as unknown as string, /string/);
    await refused('SELECT 1', /maxRows/, { ...OPTS, maxRows: 0 });
    // Parentheses alone add no tree depth; a chain of operators does (one node level per `+`).
    await refused(`SELECT ${'1+'.repeat(5000)}1`, /nested too deeply/);
    await refused(`SELECT ${'(SELECT '.repeat(2000)}1${')'.repeat(2000)}`, /./);
  });
});

describe('guardSql: refused tables', () => {
  const cases: [string, string, RegExp][] = [
    ["another tenant's schema", 'SELECT * FROM globex.orders LIMIT 1', /globex\.orders.*only tables of schema acme/],
    ["another tenant's schema in a join", 'SELECT * FROM orders o JOIN globex.customers c ON c.id = o.customer_id LIMIT 1', /globex\.customers/],
    ['a public table', 'SELECT * FROM public.secrets LIMIT 1', /public\.secrets/],
    ['a pg_catalog table', 'SELECT * FROM pg_catalog.pg_authid LIMIT 1', /pg_catalog\.pg_authid/],
    ['information_schema', 'SELECT * FROM information_schema.tables LIMIT 1', /information_schema\.tables/],
    ['an unqualified system table', 'SELECT usename, passwd FROM pg_shadow LIMIT 1', /system table pg_shadow/],
    ['an unqualified system view in a subquery', 'SELECT (SELECT count(*) FROM pg_stat_activity) LIMIT 1', /system table pg_stat_activity/],
    ['a database-qualified name', 'SELECT * FROM turnflow.acme.orders LIMIT 1', /database-qualified/],
    ['an unknown tenant table', 'SELECT * FROM payment_methods LIMIT 1', /payment_methods is not allowed; available tables: categories, customers/],
    ['a table hidden in ORDER BY', 'SELECT id FROM orders ORDER BY (SELECT max(oid) FROM pg_class) LIMIT 1', /pg_class/],
    ['a table via TABLE syntax', 'TABLE globex.orders', /globex\.orders/],
    ['a CTE name used outside its scope', 'SELECT * FROM (WITH pg_roles AS (SELECT 1) SELECT * FROM pg_roles) a, pg_roles LIMIT 1', /system table pg_roles/],
    ['a CTE referencing a later sibling without RECURSIVE', 'WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a LIMIT 1', /table b is not allowed/],
    ['a schema-qualified name that only matches a CTE', 'WITH x AS (SELECT 1) SELECT * FROM public.x LIMIT 1', /public\.x/],
    ['a table function other than generate_series/unnest', "SELECT * FROM json_each('{}') LIMIT 1", /json_each is not allowed in FROM/],
    ['a non-function expression in FROM', 'SELECT * FROM current_date LIMIT 1', /not allowed in FROM/],
  ];
  for (const [name, sql, reason] of cases) it(name, async () => void (await refused(sql, reason)));
});

describe('guardSql: refused functions', () => {
  const cases: [string, string, RegExp][] = [
    ['pg_sleep', 'SELECT pg_sleep(10)', /pg_sleep/],
    ['pg_sleep_for hidden in WHERE', "SELECT id FROM orders WHERE pg_sleep_for('5 seconds') IS NOT NULL LIMIT 1", /pg_sleep_for/],
    ['pg_catalog.pg_sleep', 'SELECT pg_catalog.pg_sleep(1)', /pg_catalog\.pg_sleep/],
    ['dblink', "SELECT * FROM orders WHERE id IN (SELECT x FROM unnest(dblink('host=evil', 'select 1')) x) LIMIT 1", /dblink/],
    ['pg_read_file', "SELECT pg_read_file('/etc/passwd')", /pg_read_file/],
    ['pg_ls_dir in a CTE', "WITH f AS (SELECT pg_ls_dir('.') AS n) SELECT * FROM f LIMIT 1", /pg_ls_dir/],
    ['set_config', "SELECT set_config('search_path', 'globex', false)", /set_config/],
    ['pg_catalog.set_config', "SELECT pg_catalog.set_config('role', 'postgres', true)", /set_config/],
    ['current_setting', "SELECT current_setting('data_directory')", /current_setting/],
    ['lo_import', "SELECT lo_import('/etc/passwd')", /lo_import/],
    ['lo_export in ORDER BY', "SELECT id FROM orders ORDER BY lo_export(1, '/tmp/x') LIMIT 1", /lo_export/],
    ['pg_terminate_backend', 'SELECT pg_terminate_backend(1)', /pg_terminate_backend/],
    ['pg_advisory_lock', 'SELECT pg_advisory_lock(42)', /pg_advisory_lock/],
    ['query_to_xml (runs SQL text)', "SELECT query_to_xml('select * from globex.orders', true, false, '')", /query_to_xml/],
    ['table_to_xml (dumps any table)', "SELECT table_to_xml('globex.orders'::regclass, true, false, '')", /table_to_xml/],
    ['txid_current', 'SELECT txid_current()', /txid_current/],
    ['nextval (mutates a sequence)', "SELECT nextval('acme.orders_id_seq')", /nextval/],
    ['a public-schema user function', 'SELECT public.f(1)', /public\.f.*only built-in functions/],
    ["another tenant's function", 'SELECT globex.revenue() FROM orders LIMIT 1', /globex\.revenue/],
    ['a tenant-schema function (could be anything)', 'SELECT acme.f()', /acme\.f/],
    ['any other pg_ function', "SELECT pg_relation_size('orders')", /pg_relation_size/],
    ['a function inside a window frame and a cast', "SELECT sum(id) OVER (ORDER BY pg_backend_pid()) FROM orders LIMIT 1", /pg_backend_pid/],
    ['a schema-qualified operator', 'SELECT 1 OPERATOR(public.+) 2', /operator public\.\+/],
    ['a cast to another schema’s type', "SELECT 'x'::globex.mood", /type globex\.mood/],
    ['a denied function in column notation (o.f means f(o))', 'SELECT o.pg_column_size FROM orders o LIMIT 1', /pg_column_size.*callable as/],
    ['a denied function in field selection notation', 'SELECT (o).txid_current FROM orders o LIMIT 1', /txid_current/],
    ['a schema-qualified TABLESAMPLE method', 'SELECT * FROM orders TABLESAMPLE public.evil(10) LIMIT 1', /TABLESAMPLE method public\.evil/],
  ];
  for (const [name, sql, reason] of cases) it(name, async () => void (await refused(sql, reason)));
});
