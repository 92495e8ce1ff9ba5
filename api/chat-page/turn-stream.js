// One chat turn over the API's SSE contract, for the browser (and Node, where its tests run): POST /v1/turns
// read as a stream with fetch (EventSource cannot send the Authorization header), and when the connection
// drops before the turn's `done` or `error`, GET /v1/turns/:turnId/events with Last-Event-ID until it ends.
// No DOM here: the page gets each event once, in order, through `onEvent`.

/** The API answered with its JSON error shape (or something else that is not a stream). */
export class ApiRequestError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {number | undefined} [retryAfterSeconds]
   */
  constructor(status, code, message, retryAfterSeconds) {
    super(message);
    this.name = 'ApiRequestError';
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Reads an error response into an ApiRequestError: `{ error: { code, message } }`, or the status line. */
export async function apiError(response) {
  const retryAfter = Number(response.headers.get('retry-after'));
  const retryAfterSeconds = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined;
  let body;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const err = body && typeof body === 'object' ? body.error : undefined;
  if (err && typeof err.message === 'string') return new ApiRequestError(response.status, String(err.code ?? 'error'), err.message, retryAfterSeconds);
  return new ApiRequestError(response.status, 'http_' + response.status, `The API answered ${response.status} ${response.statusText}`.trim(), retryAfterSeconds);
}

/**
 * An incremental parser of the text/event-stream format: `push` text as it arrives (split anywhere, even
 * inside a CRLF), get back the complete events. Comments are dropped; `retry:` comes back as `{ retry }`.
 * @returns {{ push(text: string): Array<{ id?: string, event: string, data: string } | { retry: number }> }}
 */
export function createSseParser() {
  let buffer = '';
  let lastEventId;
  let type = '';
  let data = [];
  return {
    push(text) {
      buffer += text;
      const out = [];
      for (;;) {
        const end = /\r\n|\r|\n/.exec(buffer);
        if (!end) break;
        // A lone CR at the end may be the first half of a CRLF whose LF is in the next chunk.
        if (end[0] === '\r' && end.index === buffer.length - 1) break;
        const line = buffer.slice(0, end.index);
        buffer = buffer.slice(end.index + end[0].length);
        if (line === '') {
          if (data.length) out.push({ ...(lastEventId !== undefined ? { id: lastEventId } : {}), event: type || 'message', data: data.join('\n') });
          type = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') type = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id' && !value.includes('\0')) lastEventId = value;
        else if (field === 'retry' && /^\d+$/.test(value)) out.push({ retry: Number(value) });
      }
      return out;
    },
  };
}

/** Yields the events of an SSE response body as they arrive; throws what the connection throws when it drops. */
export async function* sseEvents(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = createSseParser();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    yield* parser.push(decoder.decode());
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** The connection dropped (or ended) before the turn did: the stream is read again from where it was. */
class DroppedError extends Error {
  constructor(message, cause) {
    super(message);
    this.name = 'DroppedError';
    this.cause = cause;
  }
}

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });

/**
 * Asks one question and follows its turn to the end.
 *
 * `onEvent(type, data, id)` is called once per event of the turn, in stream order: `turn`, `step`, `token`,
 * `sql`, `chart`, then `done` or `error`. Tokens are joined by the caller in order and never taken back; a
 * token this stream already delivered (same `attempt:at`, sent again after a reconnect) is not delivered again.
 * `onStatus('streaming' | 'reconnecting')` says whether the connection is up.
 *
 * Resolves with the terminal event (`{ type: 'done' | 'error', data }`); rejects with an ApiRequestError when
 * the API refuses the question (401, 400, 429…), or with an Error when the connection was lost before the turn
 * was known or could not be restored.
 *
 * @param {{
 *   apiKey: string, sessionId: string, message: string,
 *   onEvent: (type: string, data: any, id?: string) => void,
 *   onStatus?: (status: 'streaming' | 'reconnecting', detail?: { attempt: number, error?: unknown }) => void,
 *   signal?: AbortSignal, fetch?: typeof fetch, baseUrl?: string,
 *   reconnect?: { firstDelayMs?: number, maxDelayMs?: number, maxAttempts?: number },
 * }} opts
 */
export async function streamTurn(opts) {
  const doFetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const base = opts.baseUrl ?? '';
  const headers = { authorization: `Bearer ${opts.apiKey}`, accept: 'text/event-stream' };
  const firstDelayMs = opts.reconnect?.firstDelayMs ?? 250;
  const maxAttempts = opts.reconnect?.maxAttempts ?? 30;
  let maxDelayMs = opts.reconnect?.maxDelayMs ?? 2000;

  let turnId;
  let lastEventId;
  const seenIds = new Set();
  const seenTokens = new Set();

  /** Delivers a response's events; returns the terminal event, or throws DroppedError when the stream breaks off. */
  const follow = async (response) => {
    opts.onStatus?.('streaming', { attempt: 0 });
    try {
      for await (const item of sseEvents(response.body)) {
        if ('retry' in item) {
          // The server's reconnection delay bounds ours (it asks for 2 s).
          maxDelayMs = Math.max(firstDelayMs, item.retry);
          continue;
        }
        let data;
        try {
          data = JSON.parse(item.data);
        } catch {
          continue;
        }
        // The relay lost the event bus under it: not the turn's end, read on from where we were.
        if (item.event === 'error' && data?.code === 'stream_unavailable') throw new DroppedError(data.message ?? 'The event stream was interrupted');
        if (item.id !== undefined) {
          if (seenIds.has(item.id)) continue;
          seenIds.add(item.id);
          lastEventId = item.id;
        }
        if (item.event === 'token' && data && data.at !== undefined) {
          const key = `${data.attempt ?? 0}:${data.at}`;
          if (seenTokens.has(key)) continue;
          seenTokens.add(key);
        }
        if (item.event === 'turn' && data?.turnId) turnId = data.turnId;
        opts.onEvent(item.event, data, item.id);
        if (item.event === 'done' || item.event === 'error') return { type: item.event, data };
      }
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      if (err instanceof DroppedError) throw err;
      throw new DroppedError('The connection dropped', err);
    }
    throw new DroppedError('The stream ended before the turn did');
  };

  const checkStream = async (response) => {
    if (!response.ok) throw await apiError(response);
    if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      throw new ApiRequestError(response.status, 'not_a_stream', 'The API did not answer with an event stream');
    }
    return response;
  };

  let dropped;
  try {
    const response = await doFetch(`${base}/v1/turns`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ sessionId: opts.sessionId, message: opts.message }),
      signal: opts.signal,
    });
    return await follow(await checkStream(response));
  } catch (err) {
    if (!(err instanceof DroppedError)) throw err;
    dropped = err;
  }

  // Without the turn's id there is nothing to resume (the question may or may not have started a turn).
  for (let attempt = 1; ; attempt++) {
    if (turnId === undefined) throw new Error('The connection dropped before the turn started; ask again.', { cause: dropped });
    if (attempt > maxAttempts) throw new Error(`Could not reconnect to the answer after ${maxAttempts} tries.`, { cause: dropped });
    opts.onStatus?.('reconnecting', { attempt, error: dropped.cause ?? dropped });
    await sleep(Math.min(maxDelayMs, firstDelayMs * 2 ** (attempt - 1)), opts.signal);
    let response;
    try {
      response = await doFetch(`${base}/v1/turns/${encodeURIComponent(turnId)}/events`, {
        headers: { ...headers, ...(lastEventId !== undefined ? { 'last-event-id': lastEventId } : {}) },
        signal: opts.signal,
      });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      dropped = new DroppedError('Could not reach the API', err);
      continue;
    }
    // A server that is restarting or briefly without its event bus: try again; anything else is final.
    if (response.status >= 500) {
      dropped = new DroppedError(`The API answered ${response.status}`, await apiError(response));
      continue;
    }
    const heardBefore = seenIds.size;
    try {
      return await follow(await checkStream(response));
    } catch (err) {
      if (!(err instanceof DroppedError)) throw err;
      dropped = err;
      // It was flowing again: a later drop starts the count afresh.
      if (seenIds.size > heardBefore) attempt = 0;
    }
  }
}
