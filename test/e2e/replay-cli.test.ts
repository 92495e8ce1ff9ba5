// `npm run replay -- <workflowId>` on a turn that just ran on the test's Temporal: the current code replays it;
// a reordered workflow diverges and the command says where; an unknown id is a clear error.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../../infra/config.ts';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { TEST_PAYLOAD_KEYS } from '../helpers/test-payload-keys.ts';
import { runTurn } from '../helpers/turns.ts';

function replay(stack: TestStack, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'workers', 'replay.ts'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, TEMPORAL_ADDRESS: stack.temporal.address, TEMPORAL_NAMESPACE: stack.temporal.namespace, PAYLOAD_KEYS: TEST_PAYLOAD_KEYS, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

describe('npm run replay -- <workflowId>', () => {
  let stack: TestStack;
  let workflowId: string;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'turnflow-replay-'));
  before(async () => {
    stack = await startStack();
    ({ workflowId } = await runTurn(stack, 'What was our revenue last month by category?'));
  });
  after(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('replays a finished turn against the current code, decoding its encrypted payloads', async () => {
    const out = path.join(dir, 'turn.json');
    const r = await replay(stack, [workflowId, '--out', out]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`history   ${workflowId}: chatTurn, \\d+ events, WorkflowExecutionCompleted`));
    assert.match(r.out, /replays {3}the current code makes the same decisions/);
    const saved = JSON.parse(readFileSync(out, 'utf8')) as { events: unknown[] };
    assert.ok(saved.events.length > 5);
  });

  it('cannot read the payloads with another key', async () => {
    const r = await replay(stack, [workflowId], { PAYLOAD_KEYS: 'other:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' });
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /cannot decrypt the history's payloads with this environment's keys/);
    assert.doesNotMatch(r.out, /diverges/);
  });

  it('says where a changed workflow diverges, and exits 1', async () => {
    const r = await replay(stack, [workflowId, '--workflows', 'test/replay/fixtures/reordered-workflows.ts']);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /diverges {2}\w*(Nondeterminism|Determinism)\w*/i);
    assert.match(r.out, /The history, step by step/);
    assert.match(r.out, /^ {2}> +\d+ +.+/m, 'a step the error names is marked');
  });

  it('names what is wrong with an unknown workflow id or no id', async () => {
    const unknown = await replay(stack, ['turn-acme-no-such-turn']);
    assert.equal(unknown.code, 2, unknown.out);
    assert.match(unknown.out, /no workflow turn-acme-no-such-turn in namespace/);
    const none = await replay(stack, []);
    assert.equal(none.code, 2);
    assert.match(none.out, /usage: npm run replay -- <workflowId>/);
  });
});
