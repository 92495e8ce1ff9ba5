// Queries shared by the guard's unit tests and the run on the real Postgres (test/integration/sql-guard.test.ts).
import type { GuardOptions } from '../../activities/sql/sql-guard.ts';

export const OPTS: GuardOptions = {
  tenantSchema: 'acme',
  allowedTables: ['categories', 'products', 'customers', 'orders', 'order_items', 'reviews'],
  maxRows: 500,
};

// Realistic analytics questions over the demo schema, each already carrying a LIMIT within maxRows.
export const ANALYTICS: Record<string, { sql: string; tables: string[] }> = {
  'revenue by month (date_trunc, GROUP BY, ORDER BY)': {
    sql: `SELECT date_trunc('month', ordered_at) AS month, sum(total_cents) / 100.0 AS revenue
          FROM orders WHERE status <> 'cancelled' GROUP BY 1 ORDER BY 1 LIMIT 24`,
    tables: ['orders'],
  },
  'top products via joins, qualified with the tenant schema': {
    sql: `SELECT p.name, c.name AS category, sum(oi.quantity) AS units
          FROM acme.order_items oi JOIN acme.products p ON p.id = oi.product_id
          JOIN categories c ON c.id = p.category_id
          GROUP BY p.name, c.name ORDER BY units DESC LIMIT 10`,
    tables: ['categories', 'order_items', 'products'],
  },
  'CTE plus window function': {
    sql: `WITH monthly AS (
            SELECT c.region, date_trunc('month', o.ordered_at) AS m, sum(o.total_cents) AS cents
            FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY 1, 2)
          SELECT region, m, cents, rank() OVER (PARTITION BY m ORDER BY cents DESC) AS rnk,
                 cents - lag(cents) OVER (PARTITION BY region ORDER BY m) AS delta
          FROM monthly ORDER BY m, rnk LIMIT 100`,
    tables: ['customers', 'orders'],
  },
  'subqueries in WHERE and SELECT, EXISTS': {
    sql: `SELECT c.name, (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) AS n
          FROM customers c
          WHERE c.id IN (SELECT customer_id FROM orders WHERE total_cents > 50000)
            AND EXISTS (SELECT 1 FROM reviews r WHERE r.customer_id = c.id AND r.rating <= 2)
          ORDER BY n DESC LIMIT 20`,
    tables: ['customers', 'orders', 'reviews'],
  },
  'UNION ALL with a LIMIT over the whole set': {
    sql: `SELECT 'web' AS source, count(*) FROM orders WHERE channel = 'web'
          UNION ALL SELECT 'other', count(*) FROM orders WHERE channel <> 'web' LIMIT 2`,
    tables: ['orders'],
  },
  'extract, coalesce, nullif, round, to_char, CASE, FILTER': {
    sql: `SELECT extract(year FROM ordered_at)::int AS yr, to_char(ordered_at, 'Mon') AS mon,
                 round(avg(total_cents) / 100.0, 2) AS aov,
                 coalesce(sum(total_cents) FILTER (WHERE status = 'refunded'), 0) AS refunded,
                 count(*) / nullif(count(DISTINCT customer_id), 0) AS per_customer,
                 CASE WHEN count(*) > 100 THEN 'busy' ELSE 'quiet' END AS load
          FROM orders WHERE ordered_at >= now() - interval '90 days' AND ordered_at < current_date
          GROUP BY 1, 2 ORDER BY 1, 2 LIMIT 50`,
    tables: ['orders'],
  },
  'string functions, greatest/least, abs, string_agg, concat, date_part': {
    sql: `SELECT lower(p.name), upper(p.sku), greatest(p.price_cents, 0), least(p.price_cents, 100000),
                 abs(p.price_cents - 5000), string_agg(DISTINCT r.title, '; ' ORDER BY r.title) AS titles,
                 concat(p.sku, ' - ', p.name), date_part('dow', p.created_at)
          FROM products p LEFT JOIN reviews r ON r.product_id = p.id
          GROUP BY p.id ORDER BY p.id LIMIT 5`,
    tables: ['products', 'reviews'],
  },
  'generate_series calendar with LATERAL and a left join': {
    sql: `SELECT d::date AS day, count(o.id) AS orders
          FROM generate_series(current_date - 13, current_date, interval '1 day') AS d
          LEFT JOIN LATERAL (SELECT id FROM orders WHERE ordered_at::date = d::date) o ON true
          GROUP BY 1 ORDER BY 1 LIMIT 14`,
    tables: ['orders'],
  },
  'unnest of an array literal and a recursive CTE': {
    sql: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3)
          SELECT s, i FROM unnest(ARRAY['pending', 'shipped']) AS s, n LIMIT 6`,
    tables: [],
  },
  'FETCH FIRST n ROWS ONLY, OFFSET, HAVING': {
    sql: `SELECT customer_id, count(*) FROM orders GROUP BY customer_id HAVING count(*) > 3
          ORDER BY 2 DESC OFFSET 5 FETCH FIRST 10 ROWS ONLY`,
    tables: ['orders'],
  },
};
