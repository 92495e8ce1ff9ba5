// Payloads are encrypted in Temporal: a real turn on the real dev server, its history fetched raw (what the
// server stores and the Web UI shows without the codec) holds none of the question, the answer or the SQL rows;
// decoded with the codec, it holds all of them. Failure messages are encrypted too.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { fresh, startStack, type TestStack } from '../helpers/stack.ts';
import { runTurn } from '../helpers/turns.ts';

type History = temporal.api.history.v1.IHistory;

/** Every string and every byte field of a history (bytes read as UTF-8): what a reader of the raw history can see. */
function visibleText(node: unknown, out: string[] = [], seen = new Set<unknown>()): string[] {
  if (node === null || node === undefined) return out;
  if (typeof node === 'string') out.push(node);
  else if (node instanceof Uint8Array) out.push(Buffer.from(node).toString('utf8'));
  else if (typeof node === 'object' && !seen.has(node)) {
    seen.add(node);
    for (const value of Object.values(node)) visibleText(value, out, seen);
  }
  return out;
}

/** The history with every payload decoded by the codec (as the Web UI and the CLI show it with the codec endpoint). */
async function decodedHistory(stack: TestStack, history: History): Promise<unknown> {
  const isPayload = (v: unknown): v is Payload => typeof v === 'object' && v !== null && 'metadata' in v && 'data' in v && (v as Payload).metadata?.encoding instanceof Uint8Array;
  const walk = async (node: unknown): Promise<unknown> => {
    if (node === null || typeof node !== 'object' || node instanceof Uint8Array) return node;
    if (isPayload(node)) return (await stack.codec.decode([node]))[0];
    if (Array.isArray(node)) return Promise.all(node.map(walk));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = await walk(v);
    return out;
  };
  return walk(history);
}

/** A run of the text without characters JSON escapes (quotes, newlines), so it reads the same inside a JSON payload. */
const plainRun = (text: string) => (text.match(/[A-Za-z0-9 ,.$%()*_'=<>-]{24,}/g) ?? []).sort((a, b) => b.length - a.length)[0]!.slice(0, 80);

describe('payload encryption in Temporal history', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  it('stores the question, the answer, the slots and the SQL rows only as ciphertext', async () => {
    const message = fresh('What was our revenue by category in March 2026?');
    const { result, events, workflowId } = await runTurn(stack, message, { userId: 'encrypted-history-user' });
    assert.equal(result.intent, 'analytics');
    const sql = events.find((e) => e.type === 'sql')?.data as { sql: string; rows: unknown[][]; columns: string[] } | undefined;
    assert.ok(sql && sql.rows.length >= 2, 'the turn read rows');
    // Figures of the rows as the model saw them: each category's revenue (e.g. "123456.78").
    const figures = sql.rows.map((r) => String(r[1])).filter((v) => v.length >= 5);
    assert.ok(figures.length >= 2, `row figures to look for: ${JSON.stringify(sql.rows.slice(0, 3))}`);
    // The rows travel by reference (never in history); the query that read them, the slots and the answer do travel.
    const needles = { question: message, nonce: message.slice(-10), answer: plainRun(result.answer), sql: plainRun(sql.sql), metricSlot: `"metric":"${result.slots.metric}"` };

    const raw = await stack.client.workflow.getHandle(workflowId).fetchHistory();
    const rawText = visibleText(raw).join('\n');
    assert.ok(rawText.includes('binary/encrypted'), 'payloads are marked encrypted');
    for (const [what, needle] of Object.entries(needles)) assert.ok(!rawText.includes(needle), `the raw history shows the ${what}: ${needle}`);
    for (const figure of figures) assert.ok(!rawText.includes(figure), `the raw history shows a row figure: ${figure}`);

    const decoded = visibleText(await decodedHistory(stack, raw)).join('\n');
    for (const [what, needle] of Object.entries(needles)) assert.ok(decoded.includes(needle), `the decoded history shows the ${what}`);
  });

  it('encrypts failure messages: an error quoting the question is not readable in the raw history', async () => {
    const secret = fresh('my order for the purple telescope never arrived');
    const failing = {
      checkInputGuardrails: async () => {
        throw new Error(`guardrail service refused the text "${secret}"`);
      },
    };
    await stack.withWorker(failing, async (taskQueue) => {
      const { workflowId } = await runTurn(stack, secret, { taskQueue });
      const raw = await stack.client.workflow.getHandle(workflowId).fetchHistory();
      const failures = (raw.events ?? []).filter((e) => e.activityTaskFailedEventAttributes || e.markerRecordedEventAttributes?.failure);
      assert.ok(failures.length > 0, 'the failing step is in the history');
      assert.ok(!visibleText(raw).join('\n').includes('purple telescope'), 'the failure message is ciphertext');
      assert.ok(visibleText(await decodedHistory(stack, raw)).join('\n').includes('guardrail service refused the text'), 'the codec reads the failure message');
    });
  });
});
