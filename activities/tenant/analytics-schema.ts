// The tenant analytics schema, the contract every tenant's data follows (DESIGN.md: categories, products,
// customers, orders, order_items, reviews; column names exact): its DDL, its column types, and loading a
// whole set of rows into it. The SQL agent reads it; provisioning and the start-up seeding write it.
import type pg from 'pg';
import { TENANT_ID_PATTERN } from '../../workflows/shared/contract.ts';

/** The six tables' rows, column-oriented (one array per column; timestamps as ISO strings). */
export interface TenantRows {
  categories: { id: number[]; name: string[] };
  products: { id: number[]; sku: string[]; name: string[]; category_id: number[]; price_cents: number[]; created_at: string[] };
  customers: { id: number[]; name: string[]; email: string[]; country: string[]; region: string[]; segment: string[]; signup_at: string[] };
  orders: { id: number[]; customer_id: number[]; status: string[]; channel: string[]; ordered_at: string[]; total_cents: number[] };
  order_items: { order_id: number[]; product_id: number[]; quantity: number[]; unit_price_cents: number[] };
  reviews: { id: number[]; product_id: number[]; customer_id: number[]; rating: number[]; title: string[]; body: string[]; created_at: string[] };
}

/** Progress of one table's inserts. */
export interface LoadProgress {
  tenantId: string;
  table: string;
  rows: number;
  done: boolean;
}

/** Row counts of a load. */
export interface LoadCounts {
  categories: number;
  products: number;
  customers: number;
  orders: number;
  orderItems: number;
  reviews: number;
}

const INSERT_CHUNK = 10_000;

export function assertTenantId(tenantId: string): void {
  if (!TENANT_ID_PATTERN.test(tenantId)) throw new Error(`invalid tenant id ${JSON.stringify(tenantId)}: expected ${TENANT_ID_PATTERN}`);
}

/** The tenant's schema as a quoted identifier; the id pattern leaves nothing to escape. */
export function schemaOf(tenantId: string): string {
  assertTenantId(tenantId);
  return `"${tenantId}"`;
}

function tablesSql(s: string): string {
  return `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.categories (
  id    int PRIMARY KEY,
  name  text NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS ${s}.products (
  id           int PRIMARY KEY,
  sku          text NOT NULL UNIQUE,
  name         text NOT NULL,
  category_id  int NOT NULL REFERENCES ${s}.categories(id),
  price_cents  int NOT NULL CHECK (price_cents > 0),
  created_at   timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS ${s}.customers (
  id         int PRIMARY KEY,
  name       text NOT NULL,
  email      text NOT NULL,
  country    text NOT NULL,
  region     text NOT NULL CHECK (region IN ('North America', 'Europe', 'Asia Pacific', 'Latin America')),
  segment    text NOT NULL CHECK (segment IN ('consumer', 'business')),
  signup_at  timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS ${s}.orders (
  id           int PRIMARY KEY,
  customer_id  int NOT NULL REFERENCES ${s}.customers(id),
  status       text NOT NULL CHECK (status IN ('placed', 'shipped', 'delivered', 'cancelled', 'returned')),
  channel      text NOT NULL CHECK (channel IN ('web', 'mobile', 'store')),
  ordered_at   timestamptz NOT NULL,
  total_cents  int NOT NULL
);
CREATE TABLE IF NOT EXISTS ${s}.order_items (
  order_id          int NOT NULL REFERENCES ${s}.orders(id),
  product_id        int NOT NULL REFERENCES ${s}.products(id),
  quantity          int NOT NULL CHECK (quantity > 0),
  unit_price_cents  int NOT NULL,
  PRIMARY KEY (order_id, product_id)
);
CREATE TABLE IF NOT EXISTS ${s}.reviews (
  id           int PRIMARY KEY,
  product_id   int NOT NULL REFERENCES ${s}.products(id),
  customer_id  int NOT NULL REFERENCES ${s}.customers(id),
  rating       int NOT NULL CHECK (rating BETWEEN 1 AND 5),
  title        text NOT NULL,
  body         text NOT NULL,
  created_at   timestamptz NOT NULL
);`;
}

function indexesSql(s: string): string {
  return `
CREATE INDEX IF NOT EXISTS orders_ordered_at_idx ON ${s}.orders (ordered_at);
CREATE INDEX IF NOT EXISTS orders_customer_id_idx ON ${s}.orders (customer_id);
CREATE INDEX IF NOT EXISTS order_items_product_id_idx ON ${s}.order_items (product_id);
CREATE INDEX IF NOT EXISTS products_category_id_idx ON ${s}.products (category_id);
CREATE INDEX IF NOT EXISTS reviews_product_id_idx ON ${s}.reviews (product_id);`;
}

/** DDL for one tenant schema (CREATE SCHEMA IF NOT EXISTS + tables + indexes); idempotent. */
export function tenantSchemaSql(tenantId: string): string {
  const s = schemaOf(tenantId);
  return `${tablesSql(s)}\n${indexesSql(s)}\n`;
}

// Insert order respects the foreign keys; the types drive the unnest casts.
const TABLE_TYPES: readonly (readonly [keyof TenantRows, Record<string, string>])[] = [
  ['categories', { id: 'int', name: 'text' }],
  ['products', { id: 'int', sku: 'text', name: 'text', category_id: 'int', price_cents: 'int', created_at: 'timestamptz' }],
  ['customers', { id: 'int', name: 'text', email: 'text', country: 'text', region: 'text', segment: 'text', signup_at: 'timestamptz' }],
  ['orders', { id: 'int', customer_id: 'int', status: 'text', channel: 'text', ordered_at: 'timestamptz', total_cents: 'int' }],
  ['order_items', { order_id: 'int', product_id: 'int', quantity: 'int', unit_price_cents: 'int' }],
  ['reviews', { id: 'int', product_id: 'int', customer_id: 'int', rating: 'int', title: 'text', body: 'text', created_at: 'timestamptz' }],
];

type Columns = Record<string, (string | number)[]>;

async function insertTable(
  client: pg.PoolClient,
  s: string,
  tenantId: string,
  table: string,
  types: Record<string, string>,
  data: Columns,
  onProgress?: (p: LoadProgress) => void,
): Promise<number> {
  const names = Object.keys(types);
  const total = data[names[0]!]!.length;
  const casts = names.map((n, i) => `$${i + 1}::${types[n]}[]`).join(', ');
  const sql = `INSERT INTO ${s}.${table} (${names.join(', ')}) SELECT * FROM unnest(${casts})`;
  let from = 0;
  do {
    const to = Math.min(total, from + INSERT_CHUNK);
    if (to > from) await client.query(sql, names.map((n) => data[n]!.slice(from, to)));
    onProgress?.({ tenantId, table, rows: to, done: to === total });
    from = to;
  } while (from < total);
  return total;
}

/**
 * Creates the tenant's tables if missing and replaces their rows with `rows`, inside the caller's open
 * transaction; indexes are built after the rows and the tables analysed.
 */
export async function loadTenantRows(client: pg.PoolClient, tenantId: string, rows: TenantRows, onProgress?: (p: LoadProgress) => void): Promise<LoadCounts> {
  const s = schemaOf(tenantId);
  await client.query(tablesSql(s));
  await client.query(`TRUNCATE ${TABLE_TYPES.map(([t]) => `${s}.${t}`).join(', ')}`);
  for (const [table, types] of TABLE_TYPES) {
    await insertTable(client, s, tenantId, table, types, rows[table] as Columns, onProgress);
  }
  // Indexes after the rows (one build instead of per-row upkeep); ANALYZE so the first analytics
  // queries get sane plans without waiting for autovacuum, which PGlite does not run.
  await client.query(`${indexesSql(s)}\nANALYZE ${TABLE_TYPES.map(([t]) => `${s}.${t}`).join(', ')};`);
  return {
    categories: rows.categories.id.length,
    products: rows.products.id.length,
    customers: rows.customers.id.length,
    orders: rows.orders.id.length,
    orderItems: rows.order_items.order_id.length,
    reviews: rows.reviews.id.length,
  };
}

/** Runs `fn` in one transaction on a client of its own: all or nothing. */
export async function inTransaction<T>(pool: Pick<pg.Pool, 'connect'>, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  } finally {
    client.release();
  }
}

