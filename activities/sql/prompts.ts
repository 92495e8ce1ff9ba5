// The wire protocol between the product and any model for SQL generation, and the `<data>` block that
// carries query results into the answer prompt. The first line names the task (the offline model
// dispatches on it); the per-request lines (today, slots, examples, a previous failure) come last, so
// everything above them is a per-tenant stable prefix that providers can cache. Both directions live
// here: building a prompt, and reading one back (for the offline model, which answers from the slots).
import { captureOutputSchema } from '../understanding/schemas.ts';
import type { Slots } from '../../workflows/shared/understanding.ts';

/** First line of the SQL-generation prompt. */
export const SQL_TASK_LINE = 'TASK: generate_sql';

/** Everything `buildSqlPrompt` needs: the question, the tenant's schema and what understanding captured. */
export interface SqlPromptInput {
  question: string;
  /** Postgres schema of the tenant's shop data (a validated identifier such as `acme`). */
  tenantSchema: string;
  /** The schema's tables and columns as text (e.g. `orders(id integer, …)` lines). */
  schemaText: string;
  slots: Slots;
  /** YYYY-MM-DD in the tenant's time zone. */
  today: string;
  examples: { question: string; sql: string }[];
  /** The attempt before this one and why Postgres rejected it; the model should fix, not repeat, it. */
  previousError?: { sql: string; error: string };
}

/** A prompt ready for `ChatProvider.complete()`: `system` is the per-tenant stable part (a prompt-cache breakpoint), `systemContext` the per-request lines. */
export interface SqlPrompt {
  system: string;
  systemContext: string;
  messages: { role: 'user'; content: string }[];
}

const INSTRUCTIONS = [
  "Write one PostgreSQL query answering the user's question about their shop's data.",
  'Rules:',
  '- Exactly one read-only SELECT statement (WITH … SELECT is fine); never INSERT, UPDATE, DELETE, DDL, or more than one statement.',
  '- Use only the tables and columns of the schema below; write table names unqualified or qualified with that schema, nothing else.',
  '- Revenue and units sold exclude cancelled and returned orders and are computed from order_items (quantity × unit_price_cents), never from orders.total_cents.',
  '- Money is in dollars (cents / 100), rounded to 2 decimals.',
  '- Name output columns plainly after what they hold, e.g. category, month, revenue, orders.',
  '- Always add an ORDER BY and a LIMIT (at most 500 rows).',
  '- The slots below were captured from the question: time range dates are ISO, start inclusive, end exclusive; follow them.',
  'Reply with only the SQL in a ```sql fence.',
];

const DEFINITIONS = [
  'Definitions:',
  '- revenue = sum(order_items.quantity * order_items.unit_price_cents) / 100 over orders whose status is not cancelled or returned',
  '- units = sum(order_items.quantity) over the same orders',
  '- orders = count(distinct orders.id); customers = count(distinct orders.customer_id); neither excludes a status unless asked',
  '- aov (average order value) = revenue / number of orders, both over orders that were not cancelled or returned',
  '- rating = avg(reviews.rating), over reviews.created_at for time',
  "- returns = orders with status 'returned'; cancellations = orders with status 'cancelled'",
  '- order time is orders.ordered_at',
];

// Prompt lines are line-oriented: a value with a newline would start a line that is not its own.
const oneLine = (text: string) => text.replace(/\s*[\r\n]+\s*/g, ' ').trim();

/** The SQL prompt: instructions, schema and definitions (stable per tenant), then today, slots, examples and any previous failure. */
export function buildSqlPrompt(p: SqlPromptInput): SqlPrompt {
  const head = [SQL_TASK_LINE, ...INSTRUCTIONS, `Schema: ${p.tenantSchema}`, p.schemaText.trim(), ...DEFINITIONS];
  const lines = [
    `Today: ${p.today}`,
    `Slots: ${JSON.stringify(p.slots)}`,
    'Examples:',
    ...p.examples.flatMap((e) => [`Q: ${oneLine(e.question)}`, `SQL: ${oneLine(e.sql)}`]),
  ];
  if (p.previousError) {
    lines.push(`Previous attempt failed: ${oneLine(p.previousError.error)}`, `Previous SQL: ${oneLine(p.previousError.sql)}`);
  }
  return { system: head.join('\n'), systemContext: lines.join('\n'), messages: [{ role: 'user', content: p.question }] };
}

/** A prompt's whole system text, as a model (and `readSqlPrompt`) sees it: the stable part, then the per-request lines. */
export function sqlPromptText(p: Pick<SqlPrompt, 'system' | 'systemContext'>): string {
  return `${p.system}\n${p.systemContext}`;
}

/** The SQL of a model's reply: a ```sql fence's content, else the first statement starting with SELECT/WITH; null when none. */
export function extractSql(text: string): string | null {
  // An unclosed fence (a reply cut off by max tokens) still holds the SQL up to the end.
  const fence = /```sql[^\S\n]*\n?([\s\S]*?)(?:```|$)/i.exec(text);
  const fenced = fence ? clean(fence[1] ?? '') : '';
  if (fenced) return fenced;
  // At a line start or after a colon ("Here it is: SELECT …"), so a prose "select a period" does not count;
  // WITH only as a CTE head, since "with" is everywhere in prose.
  const start = /(?:^|\n|:)[^\S\n]*(?:`{1,3}[^\S\n]*)?\b(select\b|with\s+(?:recursive\s+)?"?\w+"?(?:\s*\([^)]*\))?\s+as\s*\()/i.exec(text);
  if (!start) return null;
  const from = start.index + start[0].length - (start[1] ?? '').length;
  const rest = text.slice(from);
  const end = rest.search(/;|`/);
  const sql = clean(end === -1 ? rest : rest.slice(0, end));
  return sql || null;
}

/** Trimmed, without trailing semicolons: callers wrap or run it as exactly one statement. */
function clean(sql: string): string {
  return sql.trim().replace(/[;\s]+$/, '').trim();
}

/** What a SQL prompt says, read back from its system text (malformed lines read as null). */
export interface ReadSqlPrompt {
  slots: Slots | null;
  today: string | null;
  tenantSchema: string | null;
  /** The error of the previous attempt, when the prompt carries one. */
  previousError: string | null;
}

const SCHEMA_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** Reads a SQL prompt back; null when the system text is not one. Never throws. */
export function readSqlPrompt(system: string): ReadSqlPrompt | null {
  try {
    const lines = system.split('\n');
    if (lines[0]?.trim() !== SQL_TASK_LINE) return null;
    // The per-request lines are last, and the schema text above them is free-form: search from the end for
    // them, and from the start for the schema line, so a schema line that looks like one is never read.
    const last = (prefix: string) => {
      for (let i = lines.length - 1; i > 0; i--) if (lines[i]!.startsWith(prefix)) return lines[i]!.slice(prefix.length).trim();
      return null;
    };
    const schema = lines.find((l) => l.startsWith('Schema: '))?.slice('Schema: '.length).trim() ?? '';
    const today = last('Today: ') ?? '';
    return {
      slots: slotsJson(last('Slots: ')),
      today: /^\d{4}-\d{2}-\d{2}$/.test(today) && !Number.isNaN(Date.parse(`${today}T00:00:00Z`)) ? today : null,
      tenantSchema: SCHEMA_NAME.test(schema) ? schema : null,
      previousError: last('Previous attempt failed: ') || null,
    };
  } catch {
    return null;
  }
}

/** Slots from the prompt's JSON line, validated like a capture reply; null for anything malformed. */
function slotsJson(text: string | null): Slots | null {
  if (!text) return null;
  try {
    const parsed = captureOutputSchema.shape.slots.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Query results as the answer prompt shows them. */
export interface DataBlockInput {
  metric?: string;
  unit: 'usd' | 'count' | 'stars';
  /** How the period reads, e.g. `last_month: 2026-05-01 to 2026-05-31`. */
  period?: string;
  columns: string[];
  rows: unknown[][];
  /** How many rows the query returned (may exceed `rows.length`). */
  rowCount: number;
  /** True when the query itself was cut off by its LIMIT. */
  capped: boolean;
  definition?: string;
}

/** Rows a data block shows: enough for any answer, small enough for the prompt budget. */
export const DATA_BLOCK_MAX_ROWS = 50;

/** A `<data …>` block: attributes, then the rows as CSV with a header (at most DATA_BLOCK_MAX_ROWS rows). */
export function buildDataBlock(d: DataBlockInput): string {
  const shown = d.rows.slice(0, DATA_BLOCK_MAX_ROWS);
  const rowCount = Math.max(d.rowCount, d.rows.length);
  const capped = d.capped || shown.length < rowCount;
  const attrs: [string, string | undefined][] = [
    ['metric', d.metric],
    ['unit', d.unit],
    ['period', d.period],
    ['rows', String(rowCount)],
    ['capped', String(capped)],
    ['definition', d.definition],
  ];
  const head = attrs.flatMap(([k, v]) => (v === undefined ? [] : [`${k}="${escapeAttribute(v)}"`])).join(' ');
  const csv = [d.columns, ...shown].map((row) => row.map(csvCell).join(',')).join('\n');
  return `<data ${head}>\n${csv}\n</data>`;
}

/** Escapes what would end or confuse an attribute value (XML-style, so readers know how to undo it). */
function escapeAttribute(value: string): string {
  return oneLine(value).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** One CSV cell: quoted when it holds a comma or quote; one line always; a closing tag in shop data is defused. */
function csvCell(value: unknown): string {
  let text: string;
  if (value === null || value === undefined) text = '';
  else if (value instanceof Date) text = Number.isNaN(value.getTime()) ? '' : value.toISOString();
  else if (typeof value === 'object') text = JSON.stringify(value);
  else text = String(value);
  // Row data comes from the shop's own tables; a product named "</data>" must not end the block early.
  text = text.replace(/[\r\n]+/g, ' ').replace(/<\/(data)/gi, '<\\/$1');
  return /[",]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
