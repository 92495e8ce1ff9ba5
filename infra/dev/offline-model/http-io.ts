// HTTP plumbing of the offline model: JSON bodies in and out, SSE, waits that end when the client hangs up.
import type http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

const MAX_BODY_BYTES = 32 * 1024 * 1024;

export function wait(ms: number, signal: AbortSignal): Promise<void> {
  // timers/promises clears its timer on abort, so a hung-up client leaves nothing scheduled.
  return ms > 0 ? sleep(ms, undefined, { signal }) : Promise.resolve();
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  res.writeHead(status, { ...headers, 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export function startSse(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  // Each delta should leave as its own packet, as it would from the real APIs.
  res.socket?.setNoDelay(true);
}

export function safeWrite(res: http.ServerResponse, chunk: string): void {
  if (!res.destroyed && !res.writableEnded) res.write(chunk);
}

export type JsonBody = { ok: true; value: unknown } | { ok: false; status: number; message: string };

export async function readJson(req: http.IncomingMessage): Promise<JsonBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return { ok: false, status: 413, message: `request body exceeds ${MAX_BODY_BYTES} bytes` };
    chunks.push(chunk);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch (err) {
    return { ok: false, status: 400, message: `request body is not valid JSON: ${(err as Error).message}` };
  }
}
