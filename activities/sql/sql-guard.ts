// Gatekeeper for model-written analytics SQL. The text is parsed by the real Postgres parser (libpg_query compiled
// to WASM), so what we inspect is exactly what the server will see: no regex can be fooled by comments, quoting or
// dollar strings. The parse tree (JSON) is then walked generically, every object and array, so a forbidden table
// or function is caught wherever the grammar lets it appear (subqueries, CTEs, LATERAL, ORDER BY, casts…).
// The guard is the policy layer; the executor still runs the result in a READ ONLY transaction as the second wall.
import { parse } from 'libpg-query';

/** What a tenant's generated SQL may touch. */
export interface GuardOptions {
  tenantSchema: string;
  allowedTables: string[];
  maxRows: number;
}

/** A query cleared to run (LIMIT enforced), or the reason it was refused (fed back to the model). */
export type GuardResult = { ok: true; sql: string; tables: string[] } | { ok: false; reason: string };

/** Longest SQL text the guard will look at; anything bigger is refused before parsing. */
export const MAX_SQL_CHARS = 20_000;

// Far beyond any sane analytics query, and well short of the JS stack when recursing over the parse tree.
const MAX_TREE_DEPTH = 1_000;

// Table functions in FROM: both only produce values from their arguments, which are walked like any expression.
const ALLOWED_TABLE_FUNCTIONS = new Set(['generate_series', 'unnest']);

// Matched as name prefixes: each family reads files, reaches other databases, runs SQL text of its own
// (query_to_xml, ts_stat…), dumps whole tables (table_to_xml takes any regclass), touches server state, or
// mutates something (sequences, large objects, BRIN summaries) — none of which a chart question needs.
const DENIED_FUNCTION_PREFIXES = [
  'pg_', 'dblink', 'lo_', 'txid_', 'query_to_xml', 'table_to_xml', 'cursor_to_xml', 'database_to_xml',
  'schema_to_xml', 'copy_', 'binary_upgrade_', 'brin_',
];
const DENIED_FUNCTIONS = new Set([
  'set_config', 'current_setting', 'loread', 'lowrite', 'nextval', 'setval', 'currval', 'lastval',
  'ts_stat', 'ts_rewrite', 'gin_clean_pending_list',
]);

/** Validates generated SQL with the Postgres parser: exactly one SELECT (CTEs, UNION, subqueries allowed), only the tenant's own tables, no dangerous functions, a LIMIT of at most maxRows. */
export async function guardSql(sql: string, opts: GuardOptions): Promise<GuardResult> {
  try {
    return await guard(sql, opts);
  } catch (err) {
    // A refusal is the expected way out; anything else (a stack overflow on a pathological tree, a WASM
    // failure) still must not escape to the caller, and must not let the query through.
    if (err instanceof Refusal) return { ok: false, reason: err.message };
    return { ok: false, reason: `query could not be validated: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** Thrown from deep inside the walk to stop at the first violation. */
class Refusal extends Error {}

function refuse(reason: string): never {
  throw new Refusal(reason);
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function guard(sql: unknown, opts: GuardOptions): Promise<GuardResult> {
  if (typeof sql !== 'string') refuse('query must be a string');
  if (sql.length > MAX_SQL_CHARS) refuse(`query is too long (${sql.length} characters, limit ${MAX_SQL_CHARS})`);
  if (!Number.isSafeInteger(opts.maxRows) || opts.maxRows < 1) refuse('guard misconfigured: maxRows must be a positive integer');
  if (!opts.tenantSchema) refuse('guard misconfigured: tenantSchema is empty');
  if (sql.trim() === '') refuse('empty query');

  const stmt = await parseSingleSelect(sql);
  const tables = new Set<string>();
  walk(stmt.body, { opts, tables, ctes: new Set(), depth: 0 });

  const text = statementText(sql, stmt.location, stmt.length);
  const limit = topLevelLimit(stmt.body);
  if (typeof limit === 'number' && limit < 0) refuse('LIMIT must not be negative');
  const fits = typeof limit === 'number' && limit <= opts.maxRows;
  // The newlines matter: a trailing `-- comment` in the original would otherwise swallow the closing parenthesis.
  const out = fits ? text : `SELECT * FROM (\n${text}\n) AS capped LIMIT ${opts.maxRows}`;
  if (!fits) {
    // Belt and braces: the wrapped text must still be one SELECT, or the splice went wrong somewhere.
    const again = await parseSingleSelect(out);
    if (topLevelLimit(again.body) !== opts.maxRows) refuse('query could not be capped with a LIMIT');
  }
  return { ok: true, sql: out, tables: [...tables].sort() };
}

interface ParsedStatement {
  body: Json;
  location: number;
  length: number | undefined;
}

async function parseSingleSelect(sql: string): Promise<ParsedStatement> {
  let tree: unknown;
  try {
    tree = await parse(sql);
  } catch (err) {
    refuse(`syntax error: ${err instanceof Error ? err.message : String(err)}`);
  }
  const stmts = isObject(tree) && Array.isArray(tree.stmts) ? tree.stmts : [];
  if (stmts.length === 0) refuse('no SQL statement found (only comments or semicolons?)');
  if (stmts.length > 1) refuse(`exactly one statement is allowed, found ${stmts.length}`);
  const raw = stmts[0];
  const node = isObject(raw) && isObject(raw.stmt) ? raw.stmt : undefined;
  const kind = node ? Object.keys(node)[0] : undefined;
  if (!node || kind !== 'SelectStmt' || !isObject(node.SelectStmt)) {
    refuse(`only a single SELECT is allowed, got ${kind ? describeStmt(kind) : 'an unknown statement'}`);
  }
  const location = isObject(raw) && typeof raw.stmt_location === 'number' ? raw.stmt_location : 0;
  const length = isObject(raw) && typeof raw.stmt_len === 'number' && raw.stmt_len > 0 ? raw.stmt_len : undefined;
  return { body: node.SelectStmt, location, length };
}

// The parser reports statement bounds in UTF-8 bytes; cutting by them drops the `;` and anything after it.
function statementText(sql: string, location: number, length: number | undefined): string {
  const bytes = Buffer.from(sql, 'utf8');
  const end = length === undefined ? bytes.length : location + length;
  return bytes.subarray(location, end).toString('utf8').trim().replace(/;+$/, '').trim();
}

function describeStmt(kind: string): string {
  const words = kind.replace(/Stmt$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
  return `a ${words} statement`;
}

/** The top-level LIMIT as a number, or undefined when absent or not a plain integer constant. */
function topLevelLimit(select: Json): number | undefined {
  // WITH TIES can return more rows than the count, so it is treated like no limit at all.
  if (select.limitOption !== 'LIMIT_OPTION_COUNT') return undefined;
  const count = select.limitCount;
  if (!isObject(count) || !isObject(count.A_Const)) return undefined;
  const ival = count.A_Const.ival;
  // Protobuf JSON omits zero values, so `LIMIT 0` arrives as `{ ival: {} }`.
  if (!isObject(ival)) return undefined;
  return typeof ival.ival === 'number' ? ival.ival : 0;
}

interface WalkContext {
  opts: GuardOptions;
  tables: Set<string>;
  /** CTE names visible at this point of the tree (scoped, so a CTE cannot mask a real table elsewhere). */
  ctes: ReadonlySet<string>;
  depth: number;
}

function walk(node: unknown, ctx: WalkContext): void {
  if (ctx.depth > MAX_TREE_DEPTH) refuse('query is nested too deeply');
  if (Array.isArray(node)) {
    for (const item of node) walk(item, { ...ctx, depth: ctx.depth + 1 });
    return;
  }
  if (!isObject(node)) return;

  checkNode(node, ctx);

  let inner = ctx;
  if (isObject(node.withClause)) inner = { ...ctx, ctes: walkWithClause(node.withClause, ctx) };
  for (const [key, value] of Object.entries(node)) {
    if (key === 'withClause') continue;
    checkKey(key, value);
    walk(value, { ...inner, depth: ctx.depth + 1 });
  }
}

/** Walks the CTE bodies with the right visibility and returns the names visible to the rest of the query. */
function walkWithClause(withClause: Json, ctx: WalkContext): Set<string> {
  const entries: unknown[] = Array.isArray(withClause.ctes) ? withClause.ctes : [];
  const cteNames = entries.map((c) => (isObject(c) && isObject(c.CommonTableExpr) && typeof c.CommonTableExpr.ctename === 'string' ? c.CommonTableExpr.ctename : ''));
  const all = new Set([...ctx.ctes, ...cteNames]);
  const recursive = withClause.recursive === true;
  // The entries are walked whole (not just their ctequery), so a node of an unexpected shape is still inspected.
  entries.forEach((cte, i) => {
    // Without RECURSIVE a CTE sees only the ones before it; with it, all of them (itself included).
    const visible = recursive ? all : new Set([...ctx.ctes, ...cteNames.slice(0, i)]);
    walk(cte, { ...ctx, ctes: visible, depth: ctx.depth + 1 });
  });
  for (const [key, value] of Object.entries(withClause)) {
    if (key !== 'ctes') walk(value, { ...ctx, depth: ctx.depth + 1 });
  }
  return all;
}

// Node-level checks recognise nodes by shape as well as by wrapper key, because the JSON leaves nodes
// unwrapped where the C struct field has a concrete type (IntoClause.rel, SelectStmt.larg, TypeCast.typeName…).
function checkNode(node: Json, ctx: WalkContext): void {
  if (typeof node.relname === 'string') checkRangeVar(node, ctx);
  if (Array.isArray(node.funcname)) checkFunctionName(names(node.funcname), 'function');
  if (isObject(node.RangeFunction)) checkRangeFunction(node.RangeFunction);
  // TABLESAMPLE names a sampling-method function; the built-in ones are unqualified (system, bernoulli).
  if (isObject(node.RangeTableSample) && Array.isArray(node.RangeTableSample.method)) {
    checkFunctionName(names(node.RangeTableSample.method), 'TABLESAMPLE method');
  }
  // Postgres reads `o.f` (and `(o).f`) as `f(o)` when f is not a column, so these names are functions too.
  const fieldNames = isObject(node.ColumnRef) ? node.ColumnRef.fields : isObject(node.A_Indirection) ? node.A_Indirection.indirection : undefined;
  if (Array.isArray(fieldNames)) {
    for (const field of names(fieldNames)) {
      if (isDeniedFunction(field)) refuse(`${field} is not allowed (a function name, callable as o.${field})`);
    }
  }
  if (typeof node.kind === 'string' && node.kind.startsWith('AEXPR_') && Array.isArray(node.name)) {
    // OPERATOR(other_schema.+) would call whatever function that schema's operator is bound to.
    const op = names(node.name);
    if (op.length > 1 && op[0] !== 'pg_catalog') refuse(`operator ${op.join('.')} is not allowed (schema-qualified operators)`);
  }
  if (Array.isArray(node.names) && 'typemod' in node) {
    // Casting to a type of another schema runs that type's input function.
    const type = names(node.names);
    if (type.length > 2 || (type.length === 2 && type[0] !== 'pg_catalog' && type[0] !== ctx.opts.tenantSchema)) {
      refuse(`type ${type.join('.')} is not allowed (only built-in types and the tenant's own)`);
    }
  }
}

function checkKey(key: string, value: unknown): void {
  // Any statement node other than SELECT nested anywhere is a data-modifying CTE or worse.
  if (key.endsWith('Stmt') && key !== 'SelectStmt') refuse(`only SELECT is allowed, found ${describeStmt(key)} inside the query`);
  if (key === 'intoClause' && value) refuse('SELECT ... INTO is not allowed (it creates a table)');
  if (key === 'lockingClause' && Array.isArray(value) && value.length > 0) refuse('FOR UPDATE/SHARE locking clauses are not allowed');
}

function names(list: unknown[]): string[] {
  return list.map((n) => (isObject(n) && isObject(n.String) && typeof n.String.sval === 'string' ? n.String.sval : '?'));
}

function checkRangeVar(rv: Json, ctx: WalkContext): void {
  const { tenantSchema, allowedTables } = ctx.opts;
  const rel = rv.relname as string;
  const schema = typeof rv.schemaname === 'string' ? rv.schemaname : undefined;
  const full = [rv.catalogname, schema, rel].filter((p) => typeof p === 'string').join('.');
  if (typeof rv.catalogname === 'string') refuse(`table ${full} is not allowed (no database-qualified names)`);
  if (schema !== undefined && schema !== tenantSchema) {
    refuse(`table ${full} is not allowed: only tables of schema ${tenantSchema} may be queried`);
  }
  // A qualified name never resolves to a CTE, so only bare names are looked up among them.
  if (schema === undefined && ctx.ctes.has(rel)) return;
  if (rel.toLowerCase().startsWith('pg_')) refuse(`system table ${full} is not allowed`);
  if (!allowedTables.includes(rel)) {
    refuse(`table ${full} is not allowed; available tables: ${[...allowedTables].sort().join(', ')}`);
  }
  ctx.tables.add(rel);
}

function checkFunctionName(parts: string[], what: string): void {
  const full = parts.join('.');
  const name = parts[parts.length - 1] ?? '';
  if (parts.length > 2 || (parts.length === 2 && parts[0] !== 'pg_catalog')) {
    refuse(`${what} ${full} is not allowed (only built-in functions, unqualified or pg_catalog.)`);
  }
  if (isDeniedFunction(name)) refuse(`${what} ${full} is not allowed`);
}

function isDeniedFunction(name: string): boolean {
  const n = name.toLowerCase();
  return DENIED_FUNCTIONS.has(n) || DENIED_FUNCTION_PREFIXES.some((p) => n.startsWith(p));
}

function checkRangeFunction(rf: Json): void {
  const functions = Array.isArray(rf.functions) ? rf.functions : [];
  for (const entry of functions) {
    // Each entry is a List of [function expression, column definitions].
    const items = isObject(entry) && isObject(entry.List) && Array.isArray(entry.List.items) ? entry.List.items : [];
    const call = items[0];
    const parts = isObject(call) && isObject(call.FuncCall) && Array.isArray(call.FuncCall.funcname) ? names(call.FuncCall.funcname) : undefined;
    const name = parts?.[parts.length - 1];
    if (!parts || !name || !ALLOWED_TABLE_FUNCTIONS.has(name)) {
      refuse(`function ${parts ? parts.join('.') : 'expression'} is not allowed in FROM (only ${[...ALLOWED_TABLE_FUNCTIONS].join(', ')})`);
    }
  }
}
