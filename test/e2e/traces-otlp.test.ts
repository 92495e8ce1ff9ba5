// Traces leave by OTLP/HTTP (README, "Traces"): `npm start` with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a tiny
// receiver on loopback answers a turn and is stopped; its spans arrive, the last ones flushed at shutdown.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { startNpmStart, type NpmStart } from '../helpers/npm-start.ts';
import { readSse } from '../helpers/sse.ts';

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: OtlpValue }[];
}
interface OtlpRequest {
  resourceSpans: { resource: { attributes: { key: string; value: OtlpValue }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
}

/** A receiver of OTLP/HTTP JSON on 127.0.0.1: what each POST /v1/traces carried, and its headers. */
async function otlpReceiver() {
  const requests: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') requests.push({ headers: req.headers, body });
      res.writeHead(req.url === '/v1/traces' ? 200 : 404, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, close: () => new Promise((r) => server.close(r)) };
}

describe('traces over OTLP/HTTP', () => {
  let app: NpmStart | undefined;
  let receiver: Awaited<ReturnType<typeof otlpReceiver>> | undefined;
  after(async () => {
    await app?.close();
    await receiver?.close();
  });

  it('npm start exports a turn’s spans to OTLP_ENDPOINT/v1/traces, with the configured headers, flushed when it stops', async () => {
    receiver = await otlpReceiver();
    app = await startNpmStart({
      logLevel: 'warn',
      offlineProfiles: '{"anthropic":{"ttftMs":0,"tokensPerSec":0,"jitterMs":0}}',
      tmpPrefix: 'turnflow-otlp-',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-token=collector-test-token' },
    });
    const res = await fetch(`http://127.0.0.1:${app.port}/v1/turns`, {
      method: 'POST',
      headers: { authorization: 'Bearer dev-acme-key', 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ sessionId: 'otlp', message: 'Hello! What can you do?' }),
    });
    const events = await readSse(res);
    const workflowId = events.find((e) => e.event === 'turn')!.data.workflowId as string;
    assert.ok(events.some((e) => e.event === 'done'));
    // The workflow's last spans end when it completes (after `done`: persistence, caches).
    const connection = await Connection.connect({ address: `127.0.0.1:${app.temporalPort}` });
    const running = async () =>
      (await connection.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId } })).workflowExecutionInfo?.status ===
      proto.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
    for (let i = 0; i < 100 && (await running()); i++) await new Promise((r) => setTimeout(r, 100));
    await connection.close();
    // Stopped at once, before the batch's 5 s delay: shutdown flushes what is buffered.
    await app.stop();

    assert.ok(receiver.requests.length > 0, `spans arrived:\n${app.output().slice(-2000)}`);
    for (const r of receiver.requests) {
      assert.match(String(r.headers['content-type']), /application\/json/);
      assert.equal(r.headers['x-collector-token'], 'collector-test-token', 'OTEL_EXPORTER_OTLP_HEADERS reach the collector');
    }
    const batches = receiver.requests.map((r) => JSON.parse(r.body) as OtlpRequest);
    const services = new Set(batches.flatMap((b) => b.resourceSpans.map((rs) => rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue)));
    assert.deepEqual([...services], ['turnflow'], 'npm start’s service name');
    const spans = batches.flatMap((b) => b.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
    const attr = (s: OtlpSpan, key: string) => s.attributes?.find((a) => a.key === key)?.value;
    const start = spans.find((s) => s.name === 'StartWorkflow:chatTurn' && attr(s, 'temporalWorkflowId')?.stringValue === workflowId);
    assert.ok(start, spans.map((s) => s.name).join(', '));
    const turn = spans.filter((s) => s.traceId === start.traceId);
    const names = turn.map((s) => s.name);
    for (const name of ['POST /v1/turns', 'RunWorkflow:chatTurn', 'StartActivity:generateAnswer', 'RunActivity:generateAnswer']) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    const call = turn.find((s) => attr(s, 'gen_ai.operation.name')?.stringValue === 'chat');
    assert.ok(call, 'a model-call span');
    assert.equal(attr(call, 'gen_ai.system')?.stringValue, 'anthropic');
    assert.equal(attr(call, 'turnflow.model_call.outcome')?.stringValue, 'ok');
    const all = receiver.requests.map((r) => r.body).join('\n');
    for (const secret of ['dev-acme-key', 'What can you do']) assert.ok(!all.includes(secret), `no span carries ${secret}`);
  });
});
