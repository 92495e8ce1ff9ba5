import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';
import type { Logger } from '../infra/logger.ts';

/** An error the API turns into its JSON error shape `{ error: { code, message, details? } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** True for errors that mean a dependency (Temporal, a database, Redis) cannot be reached. */
export function isUnavailable(err: unknown): boolean {
  const e = err as { name?: string; code?: unknown; cause?: unknown } | undefined;
  if (!e) return false;
  // gRPC 14 = UNAVAILABLE, 4 = DEADLINE_EXCEEDED; the rest are Node socket errors.
  if (e.name === 'ServiceError' || e.code === 14 || e.code === 4) return true;
  // ioredis while Redis is away: a command that gave up reconnecting, or one sent on a closing connection.
  if (e.name === 'MaxRetriesPerRequestError' || (err instanceof Error && err.message === 'Connection is closed.')) return true;
  if (typeof e.code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND'].includes(e.code)) return true;
  return e.cause ? isUnavailable(e.cause) : false;
}

/** 404 for unknown routes, in the JSON error shape. */
export const notFound: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'not_found', `No route for ${req.method} ${req.path}`));
};

/** Any error a route or middleware raised, as the API reports it (unknown errors are logged here). */
export function toApiError(err: unknown, log: Logger, path: string): ApiError {
  const bodyErr = err as { type?: string; status?: number };
  if (err instanceof ApiError) return err;
  if (bodyErr.type === 'entity.too.large') return new ApiError(413, 'payload_too_large', 'Request body is too large');
  if (bodyErr.type === 'entity.parse.failed') return new ApiError(400, 'invalid_json', 'Request body is not valid JSON');
  if (bodyErr.type === 'encoding.unsupported' || bodyErr.type === 'charset.unsupported') return new ApiError(415, 'unsupported_media_type', 'Unsupported body encoding');
  if (err instanceof ZodError) {
    return new ApiError(400, 'invalid_request', 'Request body is invalid', err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  }
  if (isUnavailable(err)) {
    log.warn({ err, path }, 'a backing service is unavailable');
    return new ApiError(503, 'dependency_unavailable', 'A backing service is unavailable; try again shortly', undefined, { 'Retry-After': '2' });
  }
  log.error({ err, path }, 'unhandled error');
  return new ApiError(500, 'internal', 'Internal error');
}

/** The one place errors become HTTP responses (the OpenAI-compatible routes translate theirs: api/chat-completions.ts). */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const apiErr = toApiError(err, log, req.path);
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(apiErr.status).set(apiErr.headers).json({
      error: { code: apiErr.code, message: apiErr.message, ...(apiErr.details !== undefined ? { details: apiErr.details } : {}) },
    });
  };
}
