// Example question -> SQL pairs over the demo schema (tables unqualified: queries run with the tenant's
// schema as search_path). The agent shows the model the three closest to the question, by embedding.
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

/** Stores the examples' embeddings for this embedder, once (idempotent). */
export async function indexSqlExamples(db: Queryable, embedder: Pick<Embedder, 'model' | 'embed'>): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM sql_examples WHERE embedder = $1', [embedder.model]);
  if (Number(rows[0]?.n ?? 0) >= SQL_EXAMPLES.length) return 0;
  const vectors = await embedder.embed(SQL_EXAMPLES.map((e) => e.question));
  await db.query(
    `INSERT INTO sql_examples (question, sql, embedder, embedding)
     SELECT q, s, $1, e::vector FROM unnest($2::text[], $3::text[], $4::text[]) AS t(q, s, e)
     ON CONFLICT (question, embedder) DO UPDATE SET sql = EXCLUDED.sql, embedding = EXCLUDED.embedding`,
    [embedder.model, SQL_EXAMPLES.map((e) => e.question), SQL_EXAMPLES.map((e) => e.sql), vectors.map((v) => pgvector.toSql(v))],
  );
  return SQL_EXAMPLES.length;
}

/** The `k` examples closest to the question's embedding. */
export async function nearestSqlExamples(db: Queryable, embedder: string, vector: number[], k = 3): Promise<{ question: string; sql: string }[]> {
  const { rows } = await db.query<{ question: string; sql: string }>(
    'SELECT question, sql FROM sql_examples WHERE embedder = $1 ORDER BY embedding <=> $2::vector, id LIMIT $3',
    [embedder, pgvector.toSql(vector), k],
  );
  return rows;
}
