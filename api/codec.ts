// The codec endpoint (Temporal's remote codec protocol): operators read turns' encrypted payloads in the Web UI
// and with `temporal workflow show --codec-endpoint`. POST <endpoint>/decode and /encode take and return
// `{ payloads: [{ metadata: { key: base64 }, data: base64 }] }`.
//   - the CLI (and scripts): `/v1/codec`, with `Authorization: Bearer <admin key>` (`--codec-auth`);
//   - the Web UI, which cannot send a Bearer key: `/v1/codec/ui/<token>`, the token a secret derived from the payload
//     keys (or CODEC_UI_TOKEN), callable from a browser only from the configured origins (CODEC_CORS_ORIGINS).
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { Router, type Request, type RequestHandler } from 'express';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { PayloadDecryptionError, UnknownPayloadKeyError } from '../infra/payload-codec.ts';
import { CODEC_PATH, CODEC_UI_PATH } from '../infra/payload-keys.ts';
import type { TenantKeyStore } from './auth.ts';
import { ApiError } from './errors.ts';

/** What the codec endpoint needs. */
export interface CodecRoutesDeps {
  codec: PayloadCodec;
  keys: TenantKeyStore;
  /** Secret path segment of the Web UI's endpoint; absent: that endpoint is off. */
  uiToken?: string;
  /** Browser origins allowed (the Temporal Web UI's); empty: no browser may call. */
  corsOrigins: readonly string[];
  /** Body limit: the Web UI sends a page of events' payloads at once. */
  bodyLimit?: string;
}

/** Default body limit: Temporal's own blob limit is 2 MB per payload, base64 makes it 2.7 MB. */
export const CODEC_BODY_LIMIT = '4mb';

const base64 = z.string().max(8_000_000).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');
const codecBody = z
  .object({
    payloads: z
      .array(z.object({ metadata: z.record(z.string().max(256), base64).nullish(), data: base64.nullish() }).strip())
      .max(10_000),
  })
  .strip();

type JsonPayload = z.infer<typeof codecBody>['payloads'][number];

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});

const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** POST /v1/codec/{encode,decode} (admin key) and /v1/codec/ui/<token>/{encode,decode} (the Web UI), with CORS for the Web UI. */
export function codecRoutes(deps: CodecRoutesDeps): Router {
  const router = Router();
  const allowed = new Set(deps.corsOrigins);

  const cors: RequestHandler = (req, res, next) => {
    const origin = req.get('origin');
    if (origin === undefined) return next();
    if (!allowed.has(origin)) return next(new ApiError(403, 'origin_not_allowed', `Origin ${origin} may not call the codec endpoint (CODEC_CORS_ORIGINS)`));
    res.set({
      'Access-Control-Allow-Origin': origin,
      Vary: 'Origin',
      'Access-Control-Allow-Methods': 'POST, OPTIONS',
      'Access-Control-Allow-Headers': 'Content-Type, Authorization, X-Namespace',
      'Access-Control-Max-Age': '600',
    });
    if (req.method === 'OPTIONS') {
      // A page on loopback (the embedded Web UI) calling loopback needs no private-network grant; one elsewhere may.
      if (req.get('access-control-request-private-network') === 'true') res.set('Access-Control-Allow-Private-Network', 'true');
      res.status(204).end();
      return;
    }
    next();
  };

  const adminOnly: RequestHandler = async (req, _res, next) => {
    const challenge = { 'WWW-Authenticate': 'Bearer realm="codec"' };
    const match = /^Bearer\s+(\S{1,512})$/i.exec(req.get('authorization') ?? '');
    if (!match?.[1]) return next(new ApiError(401, 'unauthorized', "Missing or malformed Authorization: Bearer <admin key> (temporal: --codec-auth 'Bearer <admin key>')", undefined, challenge));
    const principal = await deps.keys.principalFor(match[1]);
    if (!principal) return next(new ApiError(401, 'unauthorized', 'Unknown or revoked API key', undefined, challenge));
    if (principal.kind !== 'admin') return next(new ApiError(403, 'admin_only', 'The codec endpoint decrypts every tenant\'s turns: it needs an admin key (npm run create-key -- --admin)'));
    next();
  };

  const expected = deps.uiToken ? sha256(deps.uiToken) : undefined;
  const uiToken: RequestHandler = (req, _res, next) => {
    // Compared as hashes in constant time: the token is the Web UI endpoint's only credential.
    const given = sha256(String(req.params.token ?? ''));
    if (!expected || !timingSafeEqual(given, expected)) return next(new ApiError(404, 'not_found', `No route for ${req.method} ${req.path}`));
    next();
  };

  const parse = express.json({ limit: deps.bodyLimit ?? CODEC_BODY_LIMIT, type: 'application/json' });
  const json: RequestHandler = (req, res, next) =>
    parse(req, res, (err?: unknown) => {
      // A body refused by its size is left unread: close the connection, or a keep-alive client's next request
      // would queue behind megabytes the server never reads.
      if ((err as { type?: string } | undefined)?.type === 'entity.too.large') res.set('Connection', 'close');
      next(err);
    });
  const handle: RequestHandler = async (req: Request, res) => {
    const op = String(req.params.op);
    if (op !== 'encode' && op !== 'decode') throw new ApiError(404, 'not_found', `No route for ${req.method} ${req.path}`);
    if (!req.is('application/json')) throw new ApiError(415, 'unsupported_media_type', 'Send the body as Content-Type: application/json');
    const body = codecBody.parse(req.body ?? {});
    const payloads = body.payloads.map(fromJson);
    try {
      const out = op === 'encode' ? await deps.codec.encode(payloads) : await deps.codec.decode(payloads);
      // An audit line per CLI call (an admin key read turns); the Web UI calls on every page, so only at debug.
      const via = req.params.token ? 'web-ui' : 'admin-key';
      req.log?.[via === 'web-ui' ? 'debug' : 'info']({ op, payloads: payloads.length, via, namespace: req.get('x-namespace')?.slice(0, 100) }, 'codec endpoint used');
      res.set('Cache-Control', 'no-store').json({ payloads: out.map(toJson) });
    } catch (err) {
      if (err instanceof UnknownPayloadKeyError) throw new ApiError(400, 'unknown_payload_key', err.message, { keyId: err.keyId });
      if (err instanceof PayloadDecryptionError) throw new ApiError(400, 'payload_decryption_failed', err.message, { keyId: err.keyId });
      throw new ApiError(400, 'invalid_payload', `A payload could not be ${op}d: ${(err as Error).message}`);
    }
  };

  router.options(`${CODEC_PATH}/:op`, cors);
  router.post(`${CODEC_PATH}/:op`, cors, adminOnly, json, handle);
  if (deps.uiToken && allowed.size > 0) {
    router.options(`${CODEC_UI_PATH}/:token/:op`, uiToken, cors);
    router.post(`${CODEC_UI_PATH}/:token/:op`, uiToken, cors, json, handle);
  }
  return router;
}
