// A small SSE client over fetch, for tests: parses frames into { id, event, data }.

export interface SseEvent {
  id?: string;
  event: string;
  data: any;
}

/** Parses a complete SSE text (frames separated by blank lines); comments and `retry:` are skipped. */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const frame of text.split(/\n\n/)) {
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    for (const line of frame.split('\n')) {
      if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length) events.push({ id, event, data: JSON.parse(data.join('\n')) });
  }
  return events;
}

/** Reads an SSE response until the stream ends or `stopAfter` returns true for an event (then aborts). */
export async function readSse(
  response: Response,
  opts: { stopAfter?: (e: SseEvent, all: SseEvent[]) => boolean; abort?: AbortController } = {},
): Promise<SseEvent[]> {
  if (!response.body) throw new Error('no body');
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      const cut = buffer.lastIndexOf('\n\n');
      if (cut < 0) continue;
      const complete = buffer.slice(0, cut + 2);
      buffer = buffer.slice(cut + 2);
      for (const e of parseSse(complete)) {
        events.push(e);
        if (opts.stopAfter?.(e, events)) {
          opts.abort?.abort();
          await reader.cancel().catch(() => {});
          return events;
        }
      }
    }
  } catch (err) {
    if (!opts.abort?.signal.aborted) throw err;
  }
  return events;
}

/** Joins the text of `token` events the way a client should: in order, never taken back (a retried answer continues the text). */
export function answerFromTokens(events: SseEvent[]): string {
  let text = '';
  for (const e of events) {
    if (e.event === 'token') text += e.data.text;
  }
  return text;
}
