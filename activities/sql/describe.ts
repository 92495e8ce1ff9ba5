// What a result measures, in the words the answer uses: the metric's unit, the period named with its
// dates, and the business definition behind the figure.
import type { Slots } from '../../workflows/shared/understanding.ts';
import type { DataBlockInput } from './prompts.ts';
import type { StoredResult } from './activities.ts';

const MONEY = new Set(['revenue', 'aov']);
const DEFINITIONS: Record<string, string> = {
  revenue: 'Revenue counts the items of orders that were not cancelled or returned.',
  units: 'Units sold count the items of orders that were not cancelled or returned.',
  aov: 'Average order value is revenue divided by the number of orders that were not cancelled or returned.',
  orders: 'Orders count every order placed, whatever its status.',
  customers: 'Customers count the distinct customers who placed an order.',
};

/** The day before an exclusive ISO end date. */
function lastDay(end: string): string {
  const d = new Date(`${end}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

/** The data block's description of a stored result. */
export function describeResult(result: StoredResult, slots: Slots): DataBlockInput {
  const metric = slots.metric ?? (result.columns.includes('revenue') ? 'revenue' : undefined);
  const t = slots.timeRange;
  return {
    metric,
    unit: metric && MONEY.has(metric) ? 'usd' : metric === 'rating' ? 'stars' : 'count',
    ...(t ? { period: `${t.label}: ${t.start} to ${lastDay(t.end)}` } : {}),
    columns: result.columns,
    rows: result.rows,
    rowCount: result.rowCount,
    capped: result.capped,
    ...(metric && DEFINITIONS[metric] ? { definition: DEFINITIONS[metric] } : {}),
  };
}
