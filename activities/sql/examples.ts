// Example question -> SQL pairs (tables unqualified: queries run with the tenant's schema as search_path):
// the built-in ones over the product's schema, shared by every tenant, and each tenant's own, made from its
// users' feedback (activities/feedback/) and seen by that tenant only. The agent shows the model the three
// closest to the question, by embedding.
import pgvector from 'pgvector/pg';
import type { Queryable } from '../../infra/db.ts';
import type { Embedder } from '../../infra/llm/embeddings.ts';

const SOLD = "o.status NOT IN ('cancelled', 'returned')";

/** The examples, written by hand from DESIGN.md's definitions. */
export const SQL_EXAMPLES: { question: string; sql: string }[] = [
  {
    question: 'What was our revenue last month?',
    sql: `SELECT round(sum(oi.quantity * oi.unit_price_cents) / 100.0, 2) AS revenue FROM orders o JOIN order_items oi ON oi.order_id = o.id WHERE ${SOLD} AND o.ordered_at >= '2026-05-01' AND o.ordered_at < '2026-06-01' LIMIT 1`,
  },
  {
    question: 'Revenue by category this year',
    sql: `SELECT c.name AS category, round(sum(oi.quantity * oi.unit_price_cents) / 100.0, 2) AS revenue FROM orders o JOIN order_items oi ON oi.order_id = o.id JOIN products p ON p.id = oi.product_id JOIN categories c ON c.id = p.category_id WHERE ${SOLD} AND o.ordered_at >= '2026-01-01' AND o.ordered_at < '2027-01-01' GROUP BY c.name ORDER BY revenue DESC LIMIT 100`,
  },
  {
    question: 'How many orders did we get per month in 2025?',
    sql: `SELECT to_char(date_trunc('month', o.ordered_at), 'YYYY-MM') AS month, count(DISTINCT o.id) AS orders FROM orders o WHERE o.ordered_at >= '2025-01-01' AND o.ordered_at < '2026-01-01' GROUP BY 1 ORDER BY 1 LIMIT 100`,
  },
  {
    question: 'Top 5 products by units sold last quarter',
    sql: `SELECT p.name AS product, sum(oi.quantity) AS units FROM orders o JOIN order_items oi ON oi.order_id = o.id JOIN products p ON p.id = oi.product_id WHERE ${SOLD} AND o.ordered_at >= '2026-01-01' AND o.ordered_at < '2026-04-01' GROUP BY p.name ORDER BY units DESC LIMIT 5`,
  },
  {
    question: 'Average order value by channel',
    sql: `SELECT o.channel, round(sum(oi.quantity * oi.unit_price_cents) / 100.0 / count(DISTINCT o.id), 2) AS aov FROM orders o JOIN order_items oi ON oi.order_id = o.id WHERE ${SOLD} GROUP BY o.channel ORDER BY aov DESC LIMIT 10`,
  },
  {
    question: 'How many customers ordered in Europe last week?',
    sql: `SELECT count(DISTINCT o.customer_id) AS customers FROM orders o JOIN customers cu ON cu.id = o.customer_id WHERE cu.region = 'Europe' AND o.ordered_at >= '2026-06-22' AND o.ordered_at < '2026-06-29' LIMIT 1`,
  },
  {
    question: 'Average rating by category',
    sql: `SELECT c.name AS category, round(avg(r.rating)::numeric, 2) AS rating FROM reviews r JOIN products p ON p.id = r.product_id JOIN categories c ON c.id = p.category_id GROUP BY c.name ORDER BY rating DESC LIMIT 100`,
  },
  {
    question: 'Revenue by region and segment for business customers',
    sql: `SELECT cu.region, round(sum(oi.quantity * oi.unit_price_cents) / 100.0, 2) AS revenue FROM orders o JOIN order_items oi ON oi.order_id = o.id JOIN customers cu ON cu.id = o.customer_id WHERE ${SOLD} AND cu.segment = 'business' GROUP BY cu.region ORDER BY revenue DESC LIMIT 10`,
  },
  {
    question: 'How many orders were returned each quarter?',
    sql: `SELECT to_char(date_trunc('quarter', o.ordered_at), 'YYYY-"Q"Q') AS quarter, count(*) AS returns FROM orders o WHERE o.status = 'returned' GROUP BY 1 ORDER BY 1 LIMIT 100`,
  },
  {
    question: 'Worst 3 categories by revenue in the mobile channel',
    sql: `SELECT c.name AS category, round(sum(oi.quantity * oi.unit_price_cents) / 100.0, 2) AS revenue FROM orders o JOIN order_items oi ON oi.order_id = o.id JOIN products p ON p.id = oi.product_id JOIN categories c ON c.id = p.category_id WHERE ${SOLD} AND o.channel = 'mobile' GROUP BY c.name ORDER BY revenue ASC LIMIT 3`,
  },
];

/** An example as the SQL prompt shows it. */
export interface SqlExample {
  question: string;
  sql: string;
}

/**
 * Stores the built-in examples' embeddings for this embedder, once (idempotent); and embeds with it the
 * tenants' own examples that only another embedder has indexed (a deployment that changed embedders keeps
 * what its tenants taught it).
 */
export async function indexSqlExamples(db: Queryable, embedder: Pick<Embedder, 'model' | 'embed'>): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM sql_examples WHERE embedder = $1 AND tenant_id IS NULL', [embedder.model]);
  let indexed = 0;
  if (Number(rows[0]?.n ?? 0) < SQL_EXAMPLES.length) {
    const vectors = await embedder.embed(SQL_EXAMPLES.map((e) => e.question));
    await db.query(
      `INSERT INTO sql_examples (question, sql, embedder, embedding)
       SELECT q, s, $1, e::vector FROM unnest($2::text[], $3::text[], $4::text[]) AS t(q, s, e)
       ON CONFLICT (question, embedder) WHERE tenant_id IS NULL DO UPDATE SET sql = EXCLUDED.sql, embedding = EXCLUDED.embedding`,
      [embedder.model, SQL_EXAMPLES.map((e) => e.question), SQL_EXAMPLES.map((e) => e.sql), vectors.map((v) => pgvector.toSql(v))],
    );
    indexed += SQL_EXAMPLES.length;
  }
  const missing = await db.query<{ tenant_id: string; question: string; sql: string; turn_id: string | null }>(
    `SELECT DISTINCT ON (tenant_id, question) tenant_id, question, sql, turn_id FROM sql_examples e
      WHERE tenant_id IS NOT NULL AND embedder <> $1
        AND NOT EXISTS (SELECT 1 FROM sql_examples x WHERE x.tenant_id = e.tenant_id AND x.question = e.question AND x.embedder = $1)
      ORDER BY tenant_id, question, created_at DESC`,
    [embedder.model],
  );
  for (let i = 0; i < missing.rows.length; i += 256) {
    const batch = missing.rows.slice(i, i + 256);
    const vectors = await embedder.embed(batch.map((e) => e.question));
    await db.query(
      `INSERT INTO sql_examples (tenant_id, question, sql, turn_id, embedder, embedding)
       SELECT t, q, s, u, $1, e::vector FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS r(t, q, s, u, e)
       ON CONFLICT (tenant_id, question, embedder) WHERE tenant_id IS NOT NULL DO NOTHING`,
      [embedder.model, batch.map((e) => e.tenant_id), batch.map((e) => e.question), batch.map((e) => e.sql), batch.map((e) => e.turn_id), vectors.map((v) => pgvector.toSql(v))],
    );
    indexed += batch.length;
  }
  return indexed;
}

/**
 * The `k` examples closest to the question's embedding among the built-ins and the tenant's own (never
 * another tenant's). Ranked exactly: the built-ins are few and a tenant's own rows are found by index.
 */
export async function nearestSqlExamples(db: Queryable, q: { tenantId: string; embedder: string; vector: number[]; k?: number }): Promise<SqlExample[]> {
  const { rows } = await db.query<SqlExample>(
    `WITH candidates AS MATERIALIZED (
       SELECT id, question, sql, embedding FROM sql_examples WHERE embedder = $1 AND (tenant_id IS NULL OR tenant_id = $2)
     )
     SELECT question, sql FROM candidates ORDER BY embedding <=> $3::vector, id LIMIT $4`,
    [q.embedder, q.tenantId, pgvector.toSql(q.vector), q.k ?? 3],
  );
  return rows;
}

/**
 * Stores a tenant's example (its question embedded with `embedder`); a tenant's example of the same
 * question is replaced, under every embedder that indexed it. `added`: the tenant had no example of this
 * question; `updated`: it had one, now with this SQL.
 */
export async function saveTenantExample(
  db: Queryable,
  e: { tenantId: string; turnId: string; question: string; sql: string; embedder: string; vector: number[] },
): Promise<'added' | 'updated'> {
  const { rows } = await db.query<{ inserted: boolean }>(
    `INSERT INTO sql_examples (tenant_id, turn_id, question, sql, embedder, embedding) VALUES ($1, $2, $3, $4, $5, $6::vector)
     ON CONFLICT (tenant_id, question, embedder) WHERE tenant_id IS NOT NULL
     DO UPDATE SET sql = EXCLUDED.sql, turn_id = EXCLUDED.turn_id, embedding = EXCLUDED.embedding, created_at = now()
     RETURNING (xmax = 0) AS inserted`,
    [e.tenantId, e.turnId, e.question, e.sql, e.embedder, pgvector.toSql(e.vector)],
  );
  // The same example under other embedders (a deployment that changed embedders): the question, hence its
  // embedding, is the same; only the SQL and its source change.
  await db.query(
    'UPDATE sql_examples SET sql = $3, turn_id = $4 WHERE tenant_id = $1 AND question = $2 AND embedder <> $5',
    [e.tenantId, e.question, e.sql, e.turnId, e.embedder],
  );
  return rows[0]?.inserted ? 'added' : 'updated';
}

/** Deletes the tenant's example that came from this turn's feedback (not one a later turn replaced); true when there was one. */
export async function deleteTenantExample(db: Queryable, q: { tenantId: string; turnId: string }): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM sql_examples WHERE tenant_id = $1 AND turn_id = $2', [q.tenantId, q.turnId]);
  return (rowCount ?? 0) > 0;
}
