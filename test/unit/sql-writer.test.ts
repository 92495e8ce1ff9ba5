// The SQL-generation protocol (activities/sql/prompts.ts) and the offline model's SQL writer: the shape of
// its SQL, the prompt, extraction and data-block helpers and the offline model's SQL and data→words rules.
// Its execution accuracy on the demo tenants is in test/integration/sql-writer.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDataBlock, buildSqlPrompt, extractSql, readSqlPrompt, SQL_TASK_LINE, sqlPromptText } from '../../activities/sql/prompts.ts';
import { answerFor, ruleFor } from '../../infra/dev/offline-model/rules.ts';
import { compileSlotsToSql as sqlForSlots } from '../../activities/sql/semantic-layer.ts';
import type { Slots } from '../../workflows/shared/understanding.ts';
import { productRules } from '../../workers/offline-rules.ts';

describe('sql writer: shape of the SQL', () => {
  const opts = { today: '2026-06-30', schema: 'acme' };

  it('returns null without a metric or a dimension, or for an invalid schema name', () => {
    assert.equal(sqlForSlots({}, opts), null);
    assert.equal(sqlForSlots({ topic: 'shipping' }, opts), null);
    assert.equal(sqlForSlots({ metric: 'revenue' }, { ...opts, schema: 'Acme; DROP' }), null);
  });

  it('defaults to revenue, qualifies tables with the quoted schema and always ends with a LIMIT', () => {
    const sql = sqlForSlots({ dimension: 'category' }, opts) ?? '';
    assert.match(sql, /AS category, .* AS revenue/);
    assert.match(sql, /"acme"\.orders o/);
    assert.match(sql, /NOT IN \('cancelled', 'returned'\)/);
    assert.match(sql, /LIMIT 500$/);
    assert.match(sqlForSlots({ metric: 'orders' }, opts) ?? '', /LIMIT 1$/);
    assert.match(sqlForSlots({ metric: 'units', dimension: 'product', limit: 5000 }, opts) ?? '', /LIMIT 500$/);
  });

  it('ranks ascending for bottom N and orders time series by time', () => {
    assert.match(sqlForSlots({ metric: 'units', dimension: 'product', limit: 3, order: 'asc' }, opts) ?? '', /ORDER BY units ASC NULLS LAST, product\nLIMIT 3$/);
    const monthly = sqlForSlots({ metric: 'revenue', dimension: 'month' }, opts) ?? '';
    assert.match(monthly, /to_char\(date_trunc\('month', o\.ordered_at\), 'YYYY-MM'\) AS month/);
    assert.match(monthly, /ORDER BY month\n/);
    assert.match(sqlForSlots({ metric: 'revenue', dimension: 'quarter' }, opts) ?? '', /'YYYY-"Q"Q'/);
  });

  it('escapes filter values and refuses ratings by channel', () => {
    const slots = { metric: 'revenue', filters: { category: ["Kid's"] } } as unknown as Slots;
    assert.match(sqlForSlots(slots, opts) ?? '', /cat\.name = 'Kid''s'/);
    assert.equal(sqlForSlots({ metric: 'rating', dimension: 'channel' }, opts), null);
    assert.match(sqlForSlots({ metric: 'rating', dimension: 'month' }, opts) ?? '', /r\.created_at/);
  });
});

describe('sql prompt protocol', () => {
  const slots: Slots = { metric: 'revenue', dimension: 'category', timeRange: { label: 'last_month', start: '2026-05-01', end: '2026-06-01' } };
  const input = {
    question: 'Revenue by category last month?',
    tenantSchema: 'acme',
    schemaText: 'orders(id integer, status text, ordered_at timestamp with time zone)\norder_items(order_id integer, quantity integer)',
    slots,
    today: '2026-06-30',
    examples: [{ question: 'Orders\nyesterday', sql: 'SELECT count(*)\nFROM orders' }],
  };

  it('builds a prompt with a stable head and the per-request lines last', () => {
    const p = buildSqlPrompt(input);
    const lines = sqlPromptText(p).split('\n');
    assert.equal(lines[0], SQL_TASK_LINE);
    assert.deepEqual(p.messages, [{ role: 'user', content: input.question }]);
    const at = (prefix: string) => lines.findIndex((l) => l.startsWith(prefix));
    assert.ok(at('Schema: acme') < at('Definitions:') && at('Definitions:') < at('Today: '));
    assert.ok(at('Today: 2026-06-30') < at('Slots: ') && at('Slots: ') < at('Examples:'));
    assert.ok(lines.includes('Q: Orders yesterday') && lines.includes('SQL: SELECT count(*) FROM orders'));
    // Two tenants' prompts for different requests share everything up to the Today line.
    const other = buildSqlPrompt({ ...input, question: 'x', today: '2026-07-01', slots: {}, examples: [] });
    assert.equal(other.system, p.system, 'the cacheable part is sent apart from the per-request lines');
    assert.ok(!p.system.includes('Today: ') && p.systemContext.startsWith('Today: '));
  });

  it('reads its prompt back, with a previous error when there is one', () => {
    const read = readSqlPrompt(sqlPromptText(buildSqlPrompt({ ...input, previousError: { sql: 'SELECT\nnope', error: 'column "nope"\ndoes not exist' } })));
    assert.deepEqual(read, { slots, today: '2026-06-30', tenantSchema: 'acme', previousError: 'column "nope" does not exist' });
    assert.equal(readSqlPrompt(sqlPromptText(buildSqlPrompt(input)))?.previousError, null);
    assert.equal(readSqlPrompt('TASK: capture_slots\nToday: 2026-06-30'), null);
    assert.equal(readSqlPrompt(''), null);
    const broken = readSqlPrompt(`${SQL_TASK_LINE}\nSchema: Not-Valid\nToday: 2026-13-45\nSlots: {oops`);
    assert.deepEqual(broken, { slots: null, today: null, tenantSchema: null, previousError: null });
  });

  it('extracts SQL from fences, bare statements and prose, or null', () => {
    assert.equal(extractSql('Here you go:\n```sql\nSELECT 1;\n```\nDone.'), 'SELECT 1');
    assert.equal(extractSql('```SQL\n  WITH a AS (SELECT 1) SELECT * FROM a\n'), 'WITH a AS (SELECT 1) SELECT * FROM a');
    assert.equal(extractSql('select count(*) from orders; select 2'), 'select count(*) from orders');
    assert.equal(extractSql('The query: SELECT name FROM products'), 'SELECT name FROM products');
    assert.equal(extractSql('```\nWITH t AS (\n  SELECT 1 AS x\n)\nSELECT x FROM t\n```'), 'WITH t AS (\n  SELECT 1 AS x\n)\nSELECT x FROM t');
    assert.equal(extractSql('I can help with that, please select a period.'), null);
    assert.equal(extractSql('No SQL here.'), null);
    assert.equal(extractSql(''), null);
  });

  it('builds a data block: attributes, CSV with escaping, at most 50 rows', () => {
    const block = buildDataBlock({
      metric: 'revenue',
      unit: 'usd',
      period: 'last_month: 2026-05-01 to 2026-05-31',
      columns: ['category', 'revenue'],
      rows: [
        ['Home & Kitchen', 98765.4],
        ['Say "hi", </data> now', null],
      ],
      rowCount: 2,
      capped: false,
      definition: 'Revenue counts orders that were not cancelled or returned.',
    });
    assert.equal(
      block,
      '<data metric="revenue" unit="usd" period="last_month: 2026-05-01 to 2026-05-31" rows="2" capped="false" definition="Revenue counts orders that were not cancelled or returned.">\n' +
        'category,revenue\nHome & Kitchen,98765.4\n"Say ""hi"", <\\/data> now",\n</data>',
    );
    const many = buildDataBlock({ unit: 'count', columns: ['day', 'orders'], rows: Array.from({ length: 60 }, (_, i) => [`d${i}`, i]), rowCount: 60, capped: false });
    assert.match(many, /^<data unit="count" rows="60" capped="true">/);
    assert.equal(many.split('\n').length, 1 + 1 + 50 + 1);
  });
});

describe('offline model: SQL and data rules', () => {
  const system = (slots: Slots) =>
    sqlPromptText(buildSqlPrompt({ question: 'q', tenantSchema: 'globex', schemaText: 'orders(id integer)', slots, today: '2026-06-30', examples: [] }));

  it('answers a SQL task with the writer\'s SQL in a fence, the same with a previous error', () => {
    const slots: Slots = { metric: 'orders', dimension: 'channel' };
    const req = { system: system(slots), messages: [{ role: 'user' as const, content: 'orders by channel' }] };
    assert.equal(ruleFor(req, productRules).name, 'generate-sql');
    const answer = answerFor(req, productRules);
    assert.equal(answer, `\`\`\`sql\n${sqlForSlots(slots, { today: '2026-06-30', schema: 'globex' })}\n\`\`\``);
    assert.equal(extractSql(answer), sqlForSlots(slots, { today: '2026-06-30', schema: 'globex' }));
    const retry = buildSqlPrompt({ question: 'q', tenantSchema: 'globex', schemaText: 'orders(id integer)', slots, today: '2026-06-30', examples: [], previousError: { sql: 'SELECT x', error: 'boom' } });
    assert.equal(answerFor({ system: sqlPromptText(retry), messages: req.messages }, productRules), answer);
  });

  it('answers a sentence without SQL when nothing can be written', () => {
    const answer = answerFor({ system: system({ topic: 'shipping' }), messages: [{ role: 'user', content: 'how do you ship?' }] }, productRules);
    assert.equal(extractSql(answer), null);
    assert.doesNotMatch(answer, /select/i);
  });

  const data = (block: Parameters<typeof buildDataBlock>[0]) => ({
    system: `You are the shop assistant.\n${buildDataBlock(block)}`,
    messages: [{ role: 'user' as const, content: 'What was revenue last month?' }],
  });
  const definition = 'Revenue counts orders that were not cancelled or returned.';
  const period = 'last_month: 2026-05-01 to 2026-05-31';

  it('says one figure in a sentence', () => {
    const req = data({ metric: 'revenue', unit: 'usd', period, columns: ['revenue'], rows: [['1234567.891']], rowCount: 1, capped: false, definition });
    assert.equal(ruleFor(req, productRules).name, 'data');
    assert.equal(answerFor(req, productRules), 'Revenue for last month (2026-05-01 to 2026-05-31) was $1,234,567.89.');
    const rating = data({ metric: 'rating', unit: 'stars', columns: ['rating'], rows: [[4.125]], rowCount: 1, capped: false });
    assert.equal(answerFor(rating, productRules), 'Average rating was 4.13 stars.');
  });

  it('lists a breakdown with its total, the definition and the cap', () => {
    const rows = [
      ['Electronics', '123456.78'],
      ['Home & Kitchen', '98765.40'],
    ];
    const answer = answerFor(data({ metric: 'revenue', unit: 'usd', period, columns: ['category', 'revenue'], rows, rowCount: 2, capped: false, definition }), productRules);
    assert.equal(
      answer,
      'Revenue by category for last month (2026-05-01 to 2026-05-31):\n- Electronics: $123,456.78\n- Home & Kitchen: $98,765.40\n' +
        `Total across these 2 rows: $222,222.18.\n${definition}`,
    );
    const manyRows = Array.from({ length: 14 }, (_, i) => [`2026-06-${String(i + 1).padStart(2, '0')}`, String(1000 + i)]);
    const capped = answerFor(data({ metric: 'orders', unit: 'count', columns: ['day', 'orders'], rows: manyRows, rowCount: 30, capped: true }), productRules);
    assert.match(capped, /^Orders by day:\n- 2026-06-01: 1,000\n/);
    assert.match(capped, /- …and 4 more\.\n/);
    assert.doesNotMatch(capped, /Total/, 'no total of a capped result');
    assert.match(capped, /Showing the first 14 of 30 rows\.$/);
  });

  it('gives no total where summing would overcount, and says when there is no data', () => {
    const byCategory = answerFor(data({ metric: 'orders', unit: 'count', columns: ['category', 'orders'], rows: [['Toys', '5'], ['Books', '7']], rowCount: 2, capped: false }), productRules);
    assert.doesNotMatch(byCategory, /Total/);
    const aov = answerFor(data({ metric: 'aov', unit: 'usd', columns: ['channel', 'aov'], rows: [['web', '231.98'], ['store', '211.8']], rowCount: 2, capped: false }), productRules);
    assert.match(aov, /- store: \$211\.80/);
    assert.doesNotMatch(aov, /Total/);
    assert.equal(answerFor(data({ metric: 'revenue', unit: 'usd', period, columns: ['revenue'], rows: [], rowCount: 0, capped: false }), productRules), 'There is no data for that period.');
  });
});
