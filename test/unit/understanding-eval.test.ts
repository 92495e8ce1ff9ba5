// The product path measured on the labelled sets: capture, detect and the reconcile pass through the real
// activities and SDKs (answered by the offline model), and the semantic cache's hit decision (embedding
// similarity through the embeddings endpoint, plus the slot signature) on paraphrases and near misses.
// Prints the figures the README reports; asserts the floors we promise (no false semantic hit, ever).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { createUnderstandingActivities } from '../../activities/understanding/activities.ts';
import { slotSignature } from '../../activities/understanding/rules.ts';
import { createAnthropicProvider } from '../../infra/llm/anthropic-provider.ts';
import { createOpenAIEmbedder } from '../../infra/llm/embeddings.ts';
import { LOCAL_EMBEDDING_DIMENSIONS, LOCAL_EMBEDDING_MODEL } from '../../infra/llm/local-embedder.ts';
import { startOfflineModel, ZERO_LATENCY_PROFILE, type OfflineModel } from '../../infra/dev/offline-model/server.ts';
import { DEFAULT_TENANT_SETTINGS } from '../../workflows/shared/tenant-settings.ts';
import type { SessionContext, Slots } from '../../workflows/shared/understanding.ts';
import { reconcileReasons, slotKeys } from '../../workflows/turn/reconcile.ts';
import { activityRunner } from '../helpers/activity-env.ts';
import { productRules } from '../../workers/offline-rules.ts';

interface GoldenCase {
  id: string;
  today: string;
  message: string;
  previous: SessionContext | null;
  expect: { intent: string; slots: Partial<Slots> };
}
interface Pair {
  a: string;
  b: string;
  label: 'paraphrase' | 'near_miss' | 'unrelated';
}

const golden = JSON.parse(readFileSync(new URL('../golden/understanding.json', import.meta.url), 'utf8')) as GoldenCase[];
const pairs = JSON.parse(readFileSync(new URL('../golden/semantic-pairs.json', import.meta.url), 'utf8')) as Pair[];

describe('understanding and semantic cache, measured on the labelled sets', () => {
  let model: OfflineModel;
  let acts: ReturnType<typeof createUnderstandingActivities>;
  const run = activityRunner();
  before(async () => {
    model = await startOfflineModel({ product: productRules,  profiles: { anthropic: ZERO_LATENCY_PROFILE, openai: ZERO_LATENCY_PROFILE } });
    const anthropic = createAnthropicProvider({ apiKey: 'offline', baseURL: `${model.url}/anthropic`, models: { fast: 'claude-haiku-4-5', strong: 'claude-sonnet-4-6' } });
    acts = createUnderstandingActivities({ providers: { anthropic }, settings: { understandingTimeoutMs: 5000, understandingProvider: 'anthropic' } });
  });
  after(() => model.close());

  /** What the workflow would conclude for a message: capture ∥ detect, then reconcile as the workflow decides. */
  async function understand(message: string, today: string, previous: SessionContext | null) {
    const [capture, first] = await Promise.all([
      run(acts.captureSlots, { message, today, timeZone: 'UTC', previous }),
      run(acts.detectIntent, { message, pass: 1 as const }),
    ]);
    // As the workflow decides: only when the slots give the second pass something the first did not see.
    const reasons = slotKeys(capture.slots).length > 0 ? reconcileReasons(first, capture, DEFAULT_TENANT_SETTINGS.understanding) : [];
    const detect = reasons.length ? await run(acts.detectIntent, { message, slots: capture.slots, pass: 2 as const, reasons }) : first;
    return { capture, detect, reasons, source: capture.source === 'model' && detect.source === 'model' };
  }

  it('golden set: capture and detect accuracy, and the reconcile rate', async () => {
    let detectOk = 0;
    let captureOk = 0;
    let reconciled = 0;
    let viaModel = 0;
    const misses: string[] = [];
    for (const c of golden) {
      const u = await understand(c.message, c.today, c.previous);
      if (u.detect.intent === c.expect.intent) detectOk++;
      else misses.push(`${c.id} intent ${u.detect.intent} ≠ ${c.expect.intent}`);
      const slotsOk = Object.entries(c.expect.slots ?? {}).every(([k, v]) => isDeepStrictEqual(u.capture.slots[k as keyof Slots], v));
      if (slotsOk) captureOk++;
      else misses.push(`${c.id} slots ${JSON.stringify(u.capture.slots)}`);
      if (u.reasons.length) reconciled++;
      if (u.source) viaModel++;
    }
    const pct = (n: number) => `${((100 * n) / golden.length).toFixed(1)}%`;
    console.log(
      `understanding (model path, offline model): ${golden.length} cases, detect ${pct(detectOk)}, capture ${pct(captureOk)}, reconcile rate ${pct(reconciled)}, answered by the model ${pct(viaModel)}`,
    );
    if (misses.length) console.log(misses.join('\n'));
    assert.equal(viaModel, golden.length, 'every case went through the SDK and the model, none fell back');
    // Floors just under the measured figures (detect 113/113, capture 112/113 on 2026-12-05): the set is
    // deterministic, so one more miss is a regression.
    assert.ok(detectOk / golden.length >= 0.995, `detect accuracy ${detectOk}/${golden.length}`);
    assert.ok(captureOk / golden.length >= 0.99, `capture accuracy ${captureOk}/${golden.length}`);
  });

  it('semantic pairs: no near miss ever hits; paraphrase recall and precision', async () => {
    const embedder = createOpenAIEmbedder({ apiKey: 'offline', baseURL: `${model.url}/openai/v1`, model: LOCAL_EMBEDDING_MODEL, dimensions: LOCAL_EMBEDDING_DIMENSIONS });
    const { threshold } = DEFAULT_TENANT_SETTINGS.semanticCache;
    const today = '2026-06-30';
    const signature = async (message: string) => {
      const u = await understand(message, today, null);
      return slotSignature(u.detect.intent, u.capture.slots);
    };
    const counts = { paraphrase: 0, paraphraseHits: 0, falseHits: 0, nearMissSameSignature: 0 };
    const falseHits: string[] = [];
    for (const p of pairs) {
      const [va, vb] = await embedder.embed([p.a, p.b]);
      const similarity = va!.reduce((s, x, i) => s + x * vb![i]!, 0);
      const [sa, sb] = await Promise.all([signature(p.a), signature(p.b)]);
      const hit = similarity >= threshold && sa === sb;
      if (p.label === 'paraphrase') {
        counts.paraphrase++;
        if (hit) counts.paraphraseHits++;
      } else {
        if (sa === sb) counts.nearMissSameSignature++;
        if (hit) {
          counts.falseHits++;
          falseHits.push(`${p.a} | ${p.b} (${similarity.toFixed(3)})`);
        }
      }
    }
    const hits = counts.paraphraseHits + counts.falseHits;
    console.log(
      `semantic cache on ${pairs.length} labelled pairs (threshold ${threshold}): paraphrase recall ${counts.paraphraseHits}/${counts.paraphrase} ` +
        `(${((100 * counts.paraphraseHits) / counts.paraphrase).toFixed(1)}%), precision ${hits ? ((100 * counts.paraphraseHits) / hits).toFixed(1) : '100.0'}%, ` +
        `false hits ${counts.falseHits}; near misses with an equal slot signature ${counts.nearMissSameSignature} (kept apart by similarity alone)`,
    );
    assert.deepEqual(falseHits, [], 'a near miss must never be served a cached answer');
    assert.equal(counts.nearMissSameSignature, 0, 'every near miss differs in its slot signature, not only in similarity');
    // Measured 32/38 (84.2 %): one paraphrase fewer fails.
    assert.ok(counts.paraphraseHits / counts.paraphrase >= 0.84, `paraphrase recall ${counts.paraphraseHits}/${counts.paraphrase}`);
  });
});
