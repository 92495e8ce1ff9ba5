// `npm run measure -- [--url http://127.0.0.1:3000] [--turns 20] [--key dev-acme-key]`:
// drives a running API over HTTP (loopback only) and reports end-to-end and first-token times of
// cache-missing turns (each message is unique) and of exact-cache hits. Start the API with
// OFFLINE_MODEL_PROFILES='{"anthropic":{"ttftMs":0,"tokensPerSec":0,"jitterMs":0}}' to measure the
// orchestration's own cost.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:3000' },
    turns: { type: 'string', default: '20' },
    key: { type: 'string', default: 'dev-acme-key' },
  },
});
const base = new URL(values.url!);
if (!['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname)) {
  console.error('measure only drives an API on this machine (127.0.0.1/localhost)');
  process.exit(2);
}
const turns = Math.min(500, Math.max(1, Number(values.turns)));

async function turn(message: string): Promise<{ totalMs: number; ttftMs: number | null; cache: string }> {
  const t0 = performance.now();
  const res = await fetch(new URL('/v1/turns', base), {
    method: 'POST',
    headers: { authorization: `Bearer ${values.key}`, 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ sessionId: `measure-${randomUUID().slice(0, 8)}`, message }),
    signal: AbortSignal.timeout(60_000),
  });
  if (res.status !== 200 || !res.body) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  let ttft: number | null = null;
  let buffer = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    if (ttft === null && buffer.includes('event: token')) ttft = performance.now() - t0;
    const done = /event: done\ndata: (.*)\n/.exec(buffer);
    if (done) return { totalMs: performance.now() - t0, ttftMs: ttft, cache: JSON.parse(done[1]!).cache };
    if (buffer.includes('event: error')) throw new Error(`turn failed: ${buffer.slice(-300)}`);
  }
  throw new Error('stream ended without done');
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const fmt = (xs: number[]) => `median ${pct(xs, 50).toFixed(1)} ms · p95 ${pct(xs, 95).toFixed(1)} ms · min ${Math.min(...xs).toFixed(1)} ms`;

await turn(`warm-up ${randomUUID()}`); // first turn pays for connection set-up and JIT
const miss = { total: [] as number[], ttft: [] as number[] };
const hit = { total: [] as number[], ttft: [] as number[] };
for (let i = 0; i < turns; i++) {
  const message = `Hello! What can you do? (${randomUUID().slice(0, 8)})`;
  const m = await turn(message);
  if (m.cache !== 'none') throw new Error(`expected a miss, got ${m.cache}`);
  miss.total.push(m.totalMs);
  if (m.ttftMs !== null) miss.ttft.push(m.ttftMs);
  const h = await turn(message);
  if (h.cache !== 'exact') throw new Error(`expected an exact hit, got ${h.cache}`);
  hit.total.push(h.totalMs);
  if (h.ttftMs !== null) hit.ttft.push(h.ttftMs);
}
console.log(`${turns} turns against ${base.origin}`);
console.log(`miss  end-to-end   ${fmt(miss.total)}`);
console.log(`miss  first token  ${fmt(miss.ttft)}`);
console.log(`exact end-to-end   ${fmt(hit.total)}`);
console.log(`exact first token  ${fmt(hit.ttft)}`);
