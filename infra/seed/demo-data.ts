// Deterministic demo data for the e-commerce tenants (DESIGN.md "Demo tenants and data"):
// generated in memory from a seeded PRNG and an anchor day, then inserted with a few large
// `unnest` statements per table so it takes seconds on Postgres and on PGlite alike.
import { createHash } from 'node:crypto';
import type pg from 'pg';

/** The demo tenants; each gets its own schema. */
export const DEMO_TENANTS = ['acme', 'globex'] as const;

/** Progress of a seeding run, per table. */
export interface SeedProgress {
  tenantId: string;
  table: string;
  rows: number;
  done: boolean;
}

/** Options of a seeding run. */
export interface SeedOptions {
  anchorDate: Date;
  baseSeed?: number;
  onProgress?: (p: SeedProgress) => void;
}

/** What a seeding run inserted. */
export interface SeedSummary {
  tenantId: string;
  categories: number;
  products: number;
  customers: number;
  orders: number;
  orderItems: number;
  reviews: number;
  ms: number;
}

/** All rows of one tenant, column arrays per table (the shape `unnest` wants). */
export interface GeneratedTenantData {
  categories: { id: number[]; name: string[] };
  products: { id: number[]; sku: string[]; name: string[]; category_id: number[]; price_cents: number[]; created_at: string[] };
  customers: { id: number[]; name: string[]; email: string[]; country: string[]; region: string[]; segment: string[]; signup_at: string[] };
  orders: { id: number[]; customer_id: number[]; status: string[]; channel: string[]; ordered_at: string[]; total_cents: number[] };
  order_items: { order_id: number[]; product_id: number[]; quantity: number[]; unit_price_cents: number[] };
  reviews: { id: number[]; product_id: number[]; customer_id: number[]; rating: number[]; title: string[]; body: string[]; created_at: string[] };
}

const DAY = 86_400_000;
const TENANT_ID = /^[a-z][a-z0-9_]{0,62}$/;

/** mulberry32: small, fast, good enough for demo data, and the same on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seedFor(tenantId: string, baseSeed: number): number {
  return createHash('sha256').update(`${baseSeed}:${tenantId}`).digest().readUInt32BE(0);
}

const CATEGORIES: { name: string; min: number; max: number; nouns: string[]; adjectives: string[] }[] = [
  { name: 'Electronics', min: 1500, max: 120000, nouns: ['Headphones', 'Speaker', 'Charger', 'Smartwatch', 'Tablet', 'Keyboard', 'Webcam', 'Power Bank', 'Monitor', 'Earbuds'], adjectives: ['Wireless', 'Pro', 'Compact', 'Ultra', 'Smart', 'Noise-Cancelling'] },
  { name: 'Home & Kitchen', min: 800, max: 40000, nouns: ['Blender', 'Skillet', 'Knife Set', 'Coffee Maker', 'Toaster', 'Cutting Board', 'Kettle', 'Dutch Oven', 'Mixing Bowls', 'Air Fryer'], adjectives: ['Stainless', 'Cast-Iron', 'Ceramic', 'Deluxe', 'Everyday', 'Nonstick'] },
  { name: 'Apparel', min: 1200, max: 25000, nouns: ['Jacket', 'T-Shirt', 'Jeans', 'Hoodie', 'Sneakers', 'Rain Coat', 'Sweater', 'Chinos', 'Dress', 'Socks (3-pack)'], adjectives: ['Classic', 'Slim-Fit', 'Organic Cotton', 'Waterproof', 'Merino', 'Relaxed'] },
  { name: 'Beauty', min: 500, max: 9000, nouns: ['Moisturizer', 'Serum', 'Shampoo', 'Lip Balm', 'Sunscreen', 'Face Mask', 'Conditioner', 'Body Lotion', 'Cleanser', 'Eye Cream'], adjectives: ['Hydrating', 'Gentle', 'Vitamin C', 'Fragrance-Free', 'Botanical', 'Daily'] },
  { name: 'Sports & Outdoors', min: 1000, max: 60000, nouns: ['Tent', 'Yoga Mat', 'Water Bottle', 'Backpack', 'Dumbbells', 'Bike Helmet', 'Running Belt', 'Camp Stove', 'Sleeping Bag', 'Trekking Poles'], adjectives: ['Lightweight', 'Trail', 'All-Weather', 'Insulated', 'Ultralight', 'Adjustable'] },
  { name: 'Toys', min: 600, max: 15000, nouns: ['Building Set', 'Puzzle', 'Plush Bear', 'RC Car', 'Board Game', 'Art Kit', 'Train Set', 'Dollhouse', 'Science Kit', 'Kite'], adjectives: ['Junior', 'Family', 'Deluxe', 'Wooden', 'Glow', 'Classic'] },
  { name: 'Books', min: 700, max: 6000, nouns: ['Cookbook', 'Mystery Novel', 'Travel Guide', 'Biography', 'Sci-Fi Saga', 'Garden Handbook', 'Poetry Collection', 'History Atlas', 'Kids Picture Book', 'Business Playbook'], adjectives: ['Illustrated', 'Bestselling', 'Pocket', 'Collector’s', 'Updated', 'Annotated'] },
  { name: 'Grocery', min: 200, max: 4000, nouns: ['Coffee Beans', 'Olive Oil', 'Granola', 'Green Tea', 'Dark Chocolate', 'Pasta', 'Honey', 'Trail Mix', 'Hot Sauce', 'Maple Syrup'], adjectives: ['Organic', 'Single-Origin', 'Artisan', 'Family-Size', 'Fair-Trade', 'Small-Batch'] },
];

const REGIONS: { region: string; countries: string[]; weight: number }[] = [
  { region: 'North America', countries: ['US', 'US', 'US', 'CA'], weight: 0.45 },
  { region: 'Europe', countries: ['GB', 'DE', 'FR', 'NL', 'ES'], weight: 0.3 },
  { region: 'Asia Pacific', countries: ['AU', 'JP', 'SG', 'NZ'], weight: 0.15 },
  { region: 'Latin America', countries: ['MX', 'BR', 'AR', 'CL'], weight: 0.1 },
];

const FIRST = ['Ava', 'Liam', 'Noah', 'Emma', 'Olivia', 'Mia', 'Lucas', 'Sofia', 'Mateo', 'Chloe', 'Hana', 'Kenji', 'Priya', 'Arjun', 'Lena', 'Jonas', 'Clara', 'Diego', 'Valentina', 'Omar', 'Zoe', 'Ethan', 'Isla', 'Leo', 'Maya', 'Felix', 'Aisha', 'Tom', 'Elena', 'Marco'];
const LAST = ['Smith', 'Garcia', 'Müller', 'Tanaka', 'Silva', 'Brown', 'Martin', 'Rossi', 'Kim', 'Nguyen', 'Patel', 'Dubois', 'Jansen', 'López', 'Wilson', 'Sato', 'Costa', 'Fischer', 'Taylor', 'Novak', 'Khan', 'Murphy', 'Schmidt', 'Moreau', 'Reyes'];

const REVIEW_TEXT: Record<number, { titles: string[]; bodies: string[] }> = {
  1: { titles: ['Disappointed', 'Not as described', 'Broke quickly'], bodies: ['Stopped working after a week and support was slow to answer.', 'Quality is far below what the photos suggest.', 'Would not buy again.'] },
  2: { titles: ['Meh', 'Could be better', 'Underwhelming'], bodies: ['It works, but the finish feels cheap.', 'Shipping was fine, the product is average at best.', 'Expected more for the price.'] },
  3: { titles: ['Okay', 'Does the job', 'Decent'], bodies: ['Nothing special, does what it says.', 'Fair value. A few small flaws.', 'Fine for everyday use.'] },
  4: { titles: ['Very good', 'Happy with it', 'Solid buy'], bodies: ['Good quality and arrived on time.', 'Works well; one minor quibble with the packaging.', 'Would recommend to friends.'] },
  5: { titles: ['Excellent!', 'Love it', 'Perfect'], bodies: ['Exceeded my expectations in every way.', 'Great quality, fast delivery, will buy again.', 'Exactly what I needed.'] },
};

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)]!;
}

function int(rnd: () => number, min: number, max: number): number {
  return min + Math.floor(rnd() * (max - min + 1));
}

/** Pure generator (no I/O): every row of one tenant for a seed and an anchor day. */
export function generateTenantData(tenantId: string, opts: { anchorDate: Date; baseSeed?: number }): GeneratedTenantData {
  const rnd = prng(seedFor(tenantId, opts.baseSeed ?? 20260101));
  const anchor = Date.UTC(opts.anchorDate.getUTCFullYear(), opts.anchorDate.getUTCMonth(), opts.anchorDate.getUTCDate());
  const windowStart = Date.UTC(opts.anchorDate.getUTCFullYear() - 2, opts.anchorDate.getUTCMonth(), opts.anchorDate.getUTCDate());
  const span = anchor - windowStart;
  const iso = (ms: number) => new Date(ms).toISOString();

  const data: GeneratedTenantData = {
    categories: { id: [], name: [] },
    products: { id: [], sku: [], name: [], category_id: [], price_cents: [], created_at: [] },
    customers: { id: [], name: [], email: [], country: [], region: [], segment: [], signup_at: [] },
    orders: { id: [], customer_id: [], status: [], channel: [], ordered_at: [], total_cents: [] },
    order_items: { order_id: [], product_id: [], quantity: [], unit_price_cents: [] },
    reviews: { id: [], product_id: [], customer_id: [], rating: [], title: [], body: [], created_at: [] },
  };

  CATEGORIES.forEach((c, i) => {
    data.categories.id.push(i + 1);
    data.categories.name.push(c.name);
  });

  // Products: a few hundred, unique names, created before the order window opens.
  const productCount = int(rnd, 260, 340);
  const usedNames = new Set<string>();
  const prices: number[] = [];
  const popularity: number[] = [];
  for (let id = 1; id <= productCount; id++) {
    const ci = Math.floor(rnd() * CATEGORIES.length);
    const c = CATEGORIES[ci]!;
    let name = `${pick(rnd, c.adjectives)} ${pick(rnd, c.nouns)}`;
    for (let n = 2; usedNames.has(name); n++) name = `${name.replace(/ \d+$/, '')} ${n}`;
    usedNames.add(name);
    // Log-uniform prices, rounded to .99 as shops do.
    const price = Math.round(Math.exp(Math.log(c.min) + rnd() * (Math.log(c.max) - Math.log(c.min))) / 100) * 100 - 1;
    prices.push(Math.max(99, price));
    popularity.push(1 / (1 + Math.floor(rnd() * 40))); // a long tail of slow sellers
    data.products.id.push(id);
    data.products.sku.push(`${tenantId.slice(0, 3).toUpperCase()}-${c.name.slice(0, 2).toUpperCase()}-${String(id).padStart(5, '0')}`);
    data.products.name.push(name);
    data.products.category_id.push(ci + 1);
    data.products.price_cents.push(Math.max(99, price));
    data.products.created_at.push(iso(windowStart - int(rnd, 1, 365) * DAY - int(rnd, 0, DAY / 1000 - 1) * 1000));
  }
  const popTotal = popularity.reduce((a, b) => a + b, 0);
  const popCumulative: number[] = [];
  popularity.reduce((acc, p, i) => (popCumulative[i] = acc + p / popTotal), 0);
  const pickProduct = (): number => {
    const r = rnd();
    let lo = 0;
    let hi = popCumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (popCumulative[mid]! < r) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };

  // Customers: region and segment first; signup set later from their first order.
  const customerCount = int(rnd, 4200, 5800);
  for (let id = 1; id <= customerCount; id++) {
    let r = rnd();
    const region = REGIONS.find((x) => (r -= x.weight) < 0) ?? REGIONS[0]!;
    const first = pick(rnd, FIRST);
    const last = pick(rnd, LAST);
    const local = `${first}.${last}`.toLowerCase().normalize('NFD').replace(/[^a-z.]/g, '');
    data.customers.id.push(id);
    data.customers.name.push(`${first} ${last}`);
    data.customers.email.push(`${local}${id}@example.com`);
    data.customers.country.push(pick(rnd, region.countries));
    data.customers.region.push(region.region);
    data.customers.segment.push(rnd() < 0.78 ? 'consumer' : 'business');
    data.customers.signup_at.push('');
  }

  // Order times: growth over the two years, weekend and November/December peaks (rejection sampling).
  const orderCount = int(rnd, 22_000, 26_000);
  const times: number[] = [];
  while (times.length < orderCount) {
    const t = rnd();
    const ms = windowStart + Math.floor(t * span);
    const d = new Date(ms);
    const month = d.getUTCMonth();
    const weekday = d.getUTCDay();
    const weight = (1 + 0.9 * t) * (month === 10 ? 1.6 : month === 11 ? 1.8 : 1) * (weekday === 0 || weekday === 6 ? 1.2 : 1);
    if (rnd() * 3.4 < weight) times.push(ms);
  }
  times.sort((a, b) => a - b);

  const firstOrder = new Array<number>(customerCount + 1).fill(Infinity);
  let reviewId = 0;
  for (let i = 0; i < orderCount; i++) {
    const id = i + 1;
    const at = times[i]!;
    // Repeat buyers: a skewed pick makes low ids loyal customers.
    const customerId = 1 + Math.floor(customerCount * rnd() ** 1.6);
    firstOrder[customerId] = Math.min(firstOrder[customerId]!, at);
    const ageDays = (anchor - at) / DAY;
    const r = rnd();
    let status: string;
    if (ageDays < 3) status = r < 0.55 ? 'placed' : r < 0.95 ? 'shipped' : 'cancelled';
    else if (ageDays < 10) status = r < 0.1 ? 'placed' : r < 0.5 ? 'shipped' : r < 0.95 ? 'delivered' : 'cancelled';
    else status = r < 0.05 ? 'cancelled' : r < 0.09 ? 'returned' : 'delivered';
    const c = rnd();
    const channel = c < 0.55 ? 'web' : c < 0.9 ? 'mobile' : 'store';

    const lines = 1 + Math.floor(rnd() ** 2 * 4);
    const productsInOrder = new Set<number>();
    let total = 0;
    while (productsInOrder.size < lines) {
      const productId = pickProduct();
      if (productsInOrder.has(productId)) continue;
      productsInOrder.add(productId);
      const quantity = rnd() < 0.8 ? 1 : int(rnd, 2, 3);
      const list = prices[productId - 1]!;
      const unit = rnd() < 0.1 ? Math.round(list * (0.8 + rnd() * 0.1)) : list;
      total += quantity * unit;
      data.order_items.order_id.push(id);
      data.order_items.product_id.push(productId);
      data.order_items.quantity.push(quantity);
      data.order_items.unit_price_cents.push(unit);
    }
    data.orders.id.push(id);
    data.orders.customer_id.push(customerId);
    data.orders.status.push(status);
    data.orders.channel.push(channel);
    data.orders.ordered_at.push(iso(at));
    data.orders.total_cents.push(total);

    // About one delivered order in six gets a review, a week or few after delivery.
    if (status === 'delivered' && rnd() < 0.16) {
      const reviewedAt = at + int(rnd, 5, 30) * DAY;
      if (reviewedAt <= anchor) {
        const rr = rnd();
        const rating = rr < 0.05 ? 1 : rr < 0.12 ? 2 : rr < 0.27 ? 3 : rr < 0.6 ? 4 : 5;
        const text = REVIEW_TEXT[rating]!;
        data.reviews.id.push(++reviewId);
        data.reviews.product_id.push([...productsInOrder][0]!);
        data.reviews.customer_id.push(customerId);
        data.reviews.rating.push(rating);
        data.reviews.title.push(pick(rnd, text.titles));
        data.reviews.body.push(pick(rnd, text.bodies));
        data.reviews.created_at.push(iso(reviewedAt));
      }
    }
  }

  // Sign-ups precede each customer's first order; customers who never ordered signed up any time.
  for (let id = 1; id <= customerCount; id++) {
    const first = firstOrder[id]!;
    const signup = Number.isFinite(first) ? first - int(rnd, 0, 240) * DAY - int(rnd, 1, 86_399) * 1000 : windowStart + Math.floor(rnd() * span);
    data.customers.signup_at[id - 1] = iso(signup);
  }
  return data;
}

function quoteIdent(tenantId: string): string {
  if (!TENANT_ID.test(tenantId)) throw new Error(`invalid tenant id ${JSON.stringify(tenantId)}`);
  return `"${tenantId}"`;
}

/** DDL for one tenant schema: tables as the contract names them, plus the indexes analytics needs. */
export function tenantSchemaSql(tenantId: string): string {
  const s = quoteIdent(tenantId);
  return `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.categories (id int PRIMARY KEY, name text UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.products (
  id int PRIMARY KEY, sku text UNIQUE NOT NULL, name text NOT NULL,
  category_id int NOT NULL REFERENCES ${s}.categories(id), price_cents int NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.customers (
  id int PRIMARY KEY, name text NOT NULL, email text NOT NULL, country text NOT NULL, region text NOT NULL,
  segment text NOT NULL, signup_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.orders (
  id int PRIMARY KEY, customer_id int NOT NULL REFERENCES ${s}.customers(id),
  status text NOT NULL CHECK (status IN ('placed','shipped','delivered','cancelled','returned')),
  channel text NOT NULL CHECK (channel IN ('web','mobile','store')),
  ordered_at timestamptz NOT NULL, total_cents int NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.order_items (
  order_id int NOT NULL REFERENCES ${s}.orders(id), product_id int NOT NULL REFERENCES ${s}.products(id),
  quantity int NOT NULL, unit_price_cents int NOT NULL, PRIMARY KEY (order_id, product_id));
CREATE TABLE IF NOT EXISTS ${s}.reviews (
  id int PRIMARY KEY, product_id int NOT NULL REFERENCES ${s}.products(id), customer_id int NOT NULL REFERENCES ${s}.customers(id),
  rating int NOT NULL CHECK (rating BETWEEN 1 AND 5), title text NOT NULL, body text NOT NULL, created_at timestamptz NOT NULL);
CREATE INDEX IF NOT EXISTS orders_ordered_at_idx ON ${s}.orders (ordered_at);
CREATE INDEX IF NOT EXISTS orders_customer_idx ON ${s}.orders (customer_id);
CREATE INDEX IF NOT EXISTS order_items_product_idx ON ${s}.order_items (product_id);
CREATE INDEX IF NOT EXISTS reviews_product_idx ON ${s}.reviews (product_id);
`;
}

const COLUMN_TYPES: Record<keyof GeneratedTenantData, Record<string, string>> = {
  categories: { id: 'int', name: 'text' },
  products: { id: 'int', sku: 'text', name: 'text', category_id: 'int', price_cents: 'int', created_at: 'timestamptz' },
  customers: { id: 'int', name: 'text', email: 'text', country: 'text', region: 'text', segment: 'text', signup_at: 'timestamptz' },
  orders: { id: 'int', customer_id: 'int', status: 'text', channel: 'text', ordered_at: 'timestamptz', total_cents: 'int' },
  order_items: { order_id: 'int', product_id: 'int', quantity: 'int', unit_price_cents: 'int' },
  reviews: { id: 'int', product_id: 'int', customer_id: 'int', rating: 'int', title: 'text', body: 'text', created_at: 'timestamptz' },
};

const CHUNK = 10_000;

/** Creates the schema and inserts one tenant's data in one transaction (all or nothing). */
export async function seedTenant(pool: pg.Pool, tenantId: string, opts: SeedOptions): Promise<SeedSummary> {
  const started = Date.now();
  const s = quoteIdent(tenantId);
  const data = generateTenantData(tenantId, opts);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(tenantSchemaSql(tenantId));
    await insertAll(client, s, tenantId, data, opts.onProgress);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
  return summarize(tenantId, data, started);
}

function summarize(tenantId: string, data: GeneratedTenantData, started: number): SeedSummary {
  return {
    tenantId,
    categories: data.categories.id.length,
    products: data.products.id.length,
    customers: data.customers.id.length,
    orders: data.orders.id.length,
    orderItems: data.order_items.order_id.length,
    reviews: data.reviews.id.length,
    ms: Date.now() - started,
  };
}

async function insertAll(client: pg.PoolClient, schema: string, tenantId: string, data: GeneratedTenantData, onProgress?: (p: SeedProgress) => void) {
  // Parents before children, for the foreign keys.
  for (const table of ['categories', 'products', 'customers', 'orders', 'order_items', 'reviews'] as const) {
    const columns = Object.keys(COLUMN_TYPES[table]);
    const arrays = columns.map((c) => (data[table] as unknown as Record<string, unknown[]>)[c]!);
    const rows = arrays[0]!.length;
    const casts = columns.map((c, i) => `$${i + 1}::${COLUMN_TYPES[table][c]}[]`).join(', ');
    const sql = `INSERT INTO ${schema}.${table} (${columns.join(', ')}) SELECT * FROM unnest(${casts})`;
    for (let from = 0; from < rows; from += CHUNK) {
      await client.query(sql, arrays.map((a) => a.slice(from, from + CHUNK)));
      onProgress?.({ tenantId, table, rows: Math.min(rows, from + CHUNK), done: from + CHUNK >= rows });
    }
  }
}

/** Seeds each tenant whose schema has no orders yet; serialized across processes by an advisory lock. */
export async function ensureTenantData(pool: pg.Pool, tenants: readonly string[], opts: SeedOptions): Promise<SeedSummary[]> {
  const seeded: SeedSummary[] = [];
  for (const tenantId of tenants) {
    const s = quoteIdent(tenantId);
    const client = await pool.connect();
    let needed = false;
    try {
      await client.query('BEGIN');
      // Held to the end of this transaction; a second starter waits, then sees the data.
      await client.query('SELECT pg_advisory_xact_lock(7243002, hashtext($1))', [tenantId]);
      const exists = await client.query('SELECT to_regclass($1) AS t', [`${tenantId}.orders`]);
      if (!exists.rows[0]?.t) needed = true;
      else needed = (await client.query(`SELECT EXISTS (SELECT 1 FROM ${s}.orders) AS any`)).rows[0]?.any !== true;
      if (needed) {
        const started = Date.now();
        const data = generateTenantData(tenantId, opts);
        await client.query(tenantSchemaSql(tenantId));
        await insertAll(client, s, tenantId, data, opts.onProgress);
        seeded.push(summarize(tenantId, data, started));
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }
  return seeded;
}
