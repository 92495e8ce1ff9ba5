// Signed, expiring chart URLs: what lets a browser's <img> load a tenant's chart without an API key.
// Stored results, cached answers and events keep the unsigned path (`/v1/charts/<id>.svg`); the API signs on
// the way out (the relay, GET /v1/turns/:id), so an answer replayed from a cache tomorrow gets a fresh URL.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TurnEventBus } from '../activities/turn-events/bus.ts';
import type { StoredTurnEvent, TurnEvent, TurnResult } from '../workflows/shared/contract.ts';

/** Why a signed URL was refused. */
export type ChartUrlVerdict = 'ok' | 'missing' | 'expired' | 'invalid';

/** Signs and checks chart URLs: HMAC-SHA256 over tenant, chart id and expiry. */
export interface ChartUrlSigner {
  /** The chart's URLs for this tenant, valid until now + the TTL. */
  links(tenantId: string, id: string): { svgUrl: string; pngUrl: string };
  /** Whether `exp`/`sig` (as they came in the query) sign this tenant's chart and have not expired. */
  verify(tenantId: string, id: string, exp: unknown, sig: unknown): ChartUrlVerdict;
  /** Seconds until `exp` (0 when past or malformed): how long a response may be kept. */
  secondsLeft(exp: unknown): number;
}

const EXP = /^\d{1,12}$/;
// base64url of a 32-byte HMAC, unpadded.
const SIG = /^[A-Za-z0-9_-]{43}$/;

/** A signer with the deployment's key (CHART_URL_SECRET) and URL lifetime (CHART_URL_TTL_SECONDS). */
export function createChartUrlSigner(opts: { secret: string; ttlSeconds: number; now?: () => number }): ChartUrlSigner {
  const now = opts.now ?? Date.now;
  const mac = (tenantId: string, id: string, exp: string) =>
    // Versioned and newline-separated: tenant ids and chart ids cannot contain a newline, so no two inputs collide.
    createHmac('sha256', opts.secret).update(`turnflow-chart-url:v1\n${tenantId}\n${id}\n${exp}`).digest();
  const nowSeconds = () => Math.floor(now() / 1000);
  return {
    links(tenantId, id) {
      const exp = String(nowSeconds() + opts.ttlSeconds);
      const query = `?exp=${exp}&sig=${mac(tenantId, id, exp).toString('base64url')}`;
      return { svgUrl: `/v1/charts/${id}.svg${query}`, pngUrl: `/v1/charts/${id}.png${query}` };
    },
    verify(tenantId, id, exp, sig) {
      if (exp === undefined && sig === undefined) return 'missing';
      if (typeof exp !== 'string' || typeof sig !== 'string' || !EXP.test(exp) || !SIG.test(sig)) return 'invalid';
      const given = Buffer.from(sig, 'base64url');
      const expected = mac(tenantId, id, exp);
      // Constant time: how much of a guess matches must not show in the response time.
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
      return Number(exp) > nowSeconds() ? 'ok' : 'expired';
    },
    secondsLeft(exp) {
      if (typeof exp !== 'string' || !EXP.test(exp)) return 0;
      return Math.max(0, Number(exp) - nowSeconds());
    },
  };
}

type ChartLinks = { id: string; svgUrl: string; pngUrl: string };

function signed<T extends ChartLinks>(signer: ChartUrlSigner, tenantId: string, links: T): T {
  return { ...links, ...signer.links(tenantId, links.id) };
}

/** A turn's result with its chart's URLs signed (GET /v1/turns/:id, and `done`). */
export function signResult<T extends Pick<TurnResult, 'chart'>>(signer: ChartUrlSigner, tenantId: string, result: T): T {
  return result.chart ? { ...result, chart: signed(signer, tenantId, result.chart) } : result;
}

/** An event as it leaves the API: `chart` and `done.chart` URLs signed, everything else as it is. */
export function signEvent<E extends TurnEvent | StoredTurnEvent>(signer: ChartUrlSigner, tenantId: string, event: E): E {
  if (event.type === 'chart') return { ...event, data: signed(signer, tenantId, event.data) };
  if (event.type === 'done' && event.data.chart) return { ...event, data: signResult(signer, tenantId, event.data) };
  return event;
}

/**
 * The bus as the relay reads it for one tenant: what it yields has its chart URLs signed; appends go to the
 * bus unchanged (stored events keep the unsigned path).
 */
export function signingEvents(bus: TurnEventBus, signer: ChartUrlSigner, tenantId: string): TurnEventBus {
  return {
    publish: (stream, event, writer) => bus.publish(stream, event, writer),
    publishTerminal: (stream, event, writer) => bus.publishTerminal(stream, event, writer),
    claim: (stream, writer) => bus.claim(stream, writer),
    exists: (stream) => bus.exists(stream),
    close: () => bus.close(),
    async *subscribe(stream, afterId, opts) {
      for await (const item of bus.subscribe(stream, afterId, opts)) {
        yield item.type === 'idle' ? item : signEvent(signer, tenantId, item);
      }
    },
  };
}
