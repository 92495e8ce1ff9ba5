// Charts for analytics answers: when the question asks for one, or the result's shape calls for one
// (a breakdown of at least two rows), render it from the stored result, store it content-addressed,
// and put a `chart` event on the stream. Runs beside the answer's generation.
import type { Slots } from '../../workflows/shared/understanding.ts';
import type { ActivityDeps } from '../deps.ts';
import { readResult } from '../sql/activities.ts';
import { chartWanted } from './chart-spec.ts';
import { ensureChart } from './ensure-chart.ts';

/** Where a turn's chart is served. */
export interface ChartLinks {
  id: string;
  svgUrl: string;
  pngUrl: string;
}

/** URLs of a stored chart (immutable: the id is a hash of what it shows). */
export function chartLinks(id: string): ChartLinks {
  return { id, svgUrl: `/v1/charts/${id}.svg`, pngUrl: `/v1/charts/${id}.png` };
}

/** What a chart is drawn from: the stored result by reference, and the slots that say what it measures. */
export interface ChartRequest {
  stream: string;
  tenantId: string;
  resultRef: string;
  slots: Slots;
  title?: string;
}

/** Renders the chart a result calls for (identical charts are rendered once) and announces it; null when none fits. */
export async function renderChartFor(deps: Pick<ActivityDeps, 'appDb' | 'kv' | 'events'>, input: ChartRequest): Promise<ChartLinks | null> {
  const result = await readResult(deps.kv, input.tenantId, input.resultRef);
  if (!result || !chartWanted(input.slots, result.rowCount)) return null;
  const chart = await ensureChart(deps.appDb, input.tenantId, {
    columns: result.columns,
    rows: result.rows,
    metric: input.slots.metric,
    dimension: input.slots.dimension,
    title: input.title,
  });
  if (!chart) return null;
  const links = chartLinks(chart.id);
  await deps.events.publish(input.stream, { type: 'chart', data: { ...links, spec: chart.spec } });
  return links;
}
