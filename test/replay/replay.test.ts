// Every committed history must replay against the current workflow code; a reordered workflow must not.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { workflowTracingModules } from '../../infra/telemetry.ts';
import { workflowBundle } from '../../workers/runtime.ts';
import { installTemporalRuntime } from '../../workers/temporal-runtime.ts';
import { testPayloadCodec } from '../helpers/test-payload-keys.ts';

const DIR = path.join(import.meta.dirname, 'histories');
/** The histories' payloads are encrypted (recorded with the TEST ONLY key): the replayer decodes them as a worker does. */
const dataConverter = { payloadCodecs: [testPayloadCodec()] };

/** Every committed history (the scenarios `npm run record-histories` records with the current workflow). */
function histories() {
  return readdirSync(DIR, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ workflowId: f.replace(/\.json$/, ''), history: historyFromJSON(JSON.parse(readFileSync(path.join(DIR, f), 'utf8'))) }));
}

describe('workflow replay', () => {
  installTemporalRuntime();

  it('has recorded histories to replay', () => {
    const names = histories().map((h) => h.workflowId);
    const current = names;
    for (const scenario of ['exact-hit-from-api', 'cached-turns-record', 'race-slow-primary', 'provider-fallback', 'stall-failover', 'canned-answer', 'retry-after', 'deadline-simplified', 'cancelled']) {
      assert.ok(current.includes(scenario), `run \`npm run record-histories\` to record ${scenario}`);
    }
  });

  it('replays every committed history without non-determinism', async () => {
    const results = Worker.runReplayHistories({ workflowBundle: await workflowBundle(), dataConverter }, histories());
    let replayed = 0;
    for await (const r of results) {
      assert.equal(r.error, undefined, `${r.workflowId}: ${r.error}`);
      replayed++;
    }
    assert.equal(replayed, histories().length);
  });

  it('replays every committed history with the tracing interceptors bundled: they add no command, and export nothing on replay', async () => {
    let exported = 0;
    const sinks = { exporter: { export: { fn: () => void exported++ } } };
    const bundle = await workflowBundle({ workflowInterceptorModules: workflowTracingModules() });
    assert.ok(bundle.code.includes('OpenTelemetryInboundInterceptor') && !(await workflowBundle()).code.includes('OpenTelemetryInboundInterceptor'), 'only the traced bundle has the interceptors');
    let replayed = 0;
    for await (const r of Worker.runReplayHistories({ workflowBundle: bundle, dataConverter, sinks }, histories())) {
      assert.equal(r.error, undefined, `${r.workflowId}: ${r.error}`);
      replayed++;
    }
    assert.equal(replayed, histories().length);
    assert.equal(exported, 0, 'a replayed run exports no span again');
  });

  it('holds the histories encrypted (TEST ONLY key): without the codec they neither read nor replay', async () => {
    const miss = histories().find((h) => h.workflowId === 'miss')!;
    const raw = readFileSync(path.join(DIR, 'miss.json'), 'utf8');
    const input = miss.history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    assert.equal(Buffer.from(input.metadata!.encoding!).toString(), 'binary/encrypted', 're-record with `npm run record-histories`');
    assert.ok(!Buffer.from(input.data!).toString('latin1').includes('What can you do') && !raw.includes(Buffer.from('What can you do').toString('base64').slice(0, 12)));
    let error: unknown;
    for await (const r of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, [miss])) error = r.error;
    assert.ok(error, 'a replay without the codec cannot read the payloads');
  });

  it('fails when the workflow changes the order of its steps', async () => {
    // The turns' histories (a batch record of cached turns has no steps to reorder).
    const turns = histories().filter((h) => h.history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name === 'chatTurn');
    assert.ok(turns.length > 0);
    const bundle = await bundleWorkflowCode({ workflowsPath: path.join(import.meta.dirname, 'fixtures', 'reordered-workflows.ts') });
    const results = Worker.runReplayHistories({ workflowBundle: bundle, dataConverter }, turns);
    let failed = 0;
    for await (const r of results) {
      if (r.error) {
        assert.match(String(r.error.name ?? r.error), /DeterminismViolation/);
        failed++;
      }
    }
    assert.equal(failed, turns.length);
  });
});
