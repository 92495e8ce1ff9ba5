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

async function turn(message: string): Promise<{ totalMs: number; ttftMs: number | null; cache: string; reconciled: boolean }> {
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
    if (done) {
      const d = JSON.parse(done[1]!);
      return { totalMs: performance.now() - t0, ttftMs: ttft, cache: d.cache, reconciled: d.understanding?.reconciled === true };
    }
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
// A unique, unambiguous analytics question per turn (a different day each time): a miss whose intent is
// clear at once, so detect is not re-run. The small-talk misses below carry a random tag, which makes
// detect unsure and exercises the reconcile pass.
const clear = { total: [] as number[], ttft: [] as number[], reconciled: 0 };
let reconciled = 0;
for (let i = 0; i < turns; i++) {
  const day = new Date(Date.UTC(2025, 0, 1) + Math.floor(Math.random() * 500) * 86_400_000).toISOString().slice(0, 10);
  const a = await turn(`What was our revenue on ${day} in ${['Europe', 'Asia Pacific', 'North America', 'Latin America'][i % 4]}? (${randomUUID().slice(0, 4)})`);
  clear.total.push(a.totalMs);
  if (a.ttftMs !== null) clear.ttft.push(a.ttftMs);
  if (a.reconciled) clear.reconciled++;
  const message = `Hello! What can you do? (${randomUUID().slice(0, 8)})`;
  const m = await turn(message);
  if (m.cache !== 'none') throw new Error(`expected a miss, got ${m.cache}`);
  miss.total.push(m.totalMs);
  if (m.reconciled) reconciled++;
  if (m.ttftMs !== null) miss.ttft.push(m.ttftMs);
  const h = await turn(message);
  if (h.cache !== 'exact') throw new Error(`expected an exact hit, got ${h.cache}`);
  hit.total.push(h.totalMs);
  if (h.ttftMs !== null) hit.ttft.push(h.ttftMs);
}
console.log(`${turns} turns against ${base.origin}`);
console.log(`miss  end-to-end   ${fmt(miss.total)}   (small talk; reconciled ${reconciled}/${turns})`);
console.log(`miss  first token  ${fmt(miss.ttft)}`);
console.log(`clear end-to-end   ${fmt(clear.total)}   (analytics; reconciled ${clear.reconciled}/${turns})`);
console.log(`clear first token  ${fmt(clear.ttft)}`);
console.log(`exact end-to-end   ${fmt(hit.total)}`);
console.log(`exact first token  ${fmt(hit.ttft)}`);
