// `npm run replay -- <workflowId>`: fetches a turn's history from the configured Temporal (TEMPORAL_ADDRESS, or
// the dev server on TEMPORAL_DEV_PORT) and replays it against the workflow code of this checkout, decoding the
// payloads with this environment's keys (PAYLOAD_KEYS, or the development key in DATA_DIR). It says whether the
// current code makes the same decisions, and where it diverges when it does not. Exit 0: replays; 1: diverges;
// 2: usage, configuration, or the history could not be fetched or decrypted.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { loadConfigOrExit } from '../infra/process-entry.ts';
import { resolvePayloadKeys } from '../infra/payload-keys.ts';
import { FAILURE_CONVERTER_PATH, workflowBundle } from './runtime.ts';
import { installTemporalRuntime } from './temporal-runtime.ts';

const USAGE = `usage: npm run replay -- <workflowId> [--run <runId>] [--out <file.json>] [--workflows <workflows module>]

  <workflowId>        e.g. turn-acme-3f2a9c1e-… (the Web UI, GET /v1/turns/:id, or done.workflowId)
  --run <runId>       a run other than the latest
  --out <file.json>   also write the fetched history (payloads as stored: encrypted with your keys)
  --workflows <file>  replay against another workflows module than workflows/index.ts (a branch's change)

Temporal: TEMPORAL_ADDRESS (default the dev server on 127.0.0.1:$TEMPORAL_DEV_PORT), TEMPORAL_NAMESPACE.
Payloads are decoded with PAYLOAD_KEYS (default: the development key in DATA_DIR, as npm start uses).`;

const { config } = loadConfigOrExit('replay');
let args;
try {
  args = parseArgs({ allowPositionals: true, options: { run: { type: 'string' }, out: { type: 'string' }, workflows: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
} catch (err) {
  console.error(`${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
const workflowId = args.positionals[0];
if (args.values.help || !workflowId || args.positionals.length > 1) {
  console.error(USAGE);
  process.exit(args.values.help ? 0 : 2);
}

// The SDK's core would log the failed workflow task a divergence is: this command reports it itself.
installTemporalRuntime('ERROR');
const address = config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_DEV_PORT}`;
const { codec } = resolvePayloadKeys(config);

let history: temporal.api.history.v1.IHistory;
let connection: Connection | undefined;
try {
  connection = await Connection.connect({ address, connectTimeout: '5 seconds' });
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  history = await client.workflow.getHandle(workflowId, args.values.run).fetchHistory();
} catch (err) {
  const notFound = err instanceof WorkflowNotFoundError || (err as { code?: number }).code === 5;
  const why = notFound ? `no workflow ${workflowId}${args.values.run ? ` (run ${args.values.run})` : ''} in namespace ${config.TEMPORAL_NAMESPACE} at ${address}` : `could not fetch the history from Temporal at ${address}: ${(err as Error).message}`;
  console.error(why);
  process.exit(2);
} finally {
  await connection?.close().catch(() => {});
}

const events = history.events ?? [];
const started = events[0]?.workflowExecutionStartedEventAttributes;
const closed = events.at(-1);
console.log(`history   ${workflowId}: ${started?.workflowType?.name ?? '?'}, ${events.length} events, ${closed ? eventName(closed) : 'empty'}`);
if (args.values.out) {
  writeFileSync(args.values.out, JSON.stringify(JSON.parse(historyToJSON(history)), null, 2));
  console.log(`saved     ${args.values.out}`);
}

// Keys first: a history these keys cannot decrypt is a configuration problem, not a divergence.
const input = started?.input?.payloads ?? [];
try {
  await codec.decode(input);
} catch (err) {
  console.error(`cannot decrypt the history's payloads with this environment's keys (${(err as Error).message}); set PAYLOAD_KEYS to the deployment's keys`);
  process.exit(2);
}

const bundle = await workflowBundle(undefined, args.values.workflows ? path.resolve(args.values.workflows) : undefined);
console.log(`code      ${args.values.workflows ? path.relative(process.cwd(), path.resolve(args.values.workflows)) : 'workflows/index.ts'} of this checkout`);

try {
  await Worker.runReplayHistory({ workflowBundle: bundle, dataConverter: { payloadCodecs: [codec], failureConverterPath: FAILURE_CONVERTER_PATH } }, history, workflowId);
  console.log('replays   the current code makes the same decisions at every step of this history');
  process.exit(0);
} catch (err) {
  const e = err as Error;
  // Core's own sentence (`[TMPRL1100] Nondeterminism error: …`) says it best; the rest is the failure's wrapping.
  const cause = /message: "((?:[^"\\]|\\.)*)"/.exec(e.message)?.[1] ?? e.message;
  console.log(`diverges  ${e.name}: ${cause}`);
  console.log('\nThe history, step by step (the current code must issue the same commands in this order):');
  for (const line of stepLines(events, cause)) console.log(line);
  console.log(
    '\nA change that must reach running or replayed turns goes behind patched() (README: "Changing the workflow: a patch\'s life").',
  );
  process.exit(1);
}

/** `WorkflowExecutionCompleted` from `EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED`. */
function eventName(e: temporal.api.history.v1.IHistoryEvent): string {
  const key = Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k]);
  return key ? key.replace(/EventAttributes$/, '').replace(/^./, (c) => c.toUpperCase()) : String(e.eventType);
}

/**
 * The events that record the workflow's commands (activities, local activities, timers, child workflows, signals
 * sent, markers), one per line with its event id; names the error mentions are marked, so the diverging step
 * stands out.
 */
function stepLines(list: temporal.api.history.v1.IHistoryEvent[], message: string): string[] {
  const lines: string[] = [];
  // The names the error quotes (`recorded marker 'openTurn' does not match … command 'checkInputGuardrails'`): the
  // first step recording one of them is where the code and the history part.
  const named = [...message.matchAll(/'([A-Za-z0-9_.-]{3,})'/g)].map((m) => m[1]!);
  // …or its sequence number (`Missing associated machine for LocalActivity(2)`): the nth step of that kind.
  const seq = /\b(LocalActivity|Activity|Timer)\((\d+)\)/.exec(message);
  const counts: Record<string, number> = {};
  let marked = false;
  for (const e of list) {
    let what: string | undefined;
    if (e.activityTaskScheduledEventAttributes) what = `activity ${e.activityTaskScheduledEventAttributes.activityType?.name}`;
    else if (e.markerRecordedEventAttributes) what = `marker ${e.markerRecordedEventAttributes.markerName}${localActivityType(e.markerRecordedEventAttributes)}`;
    else if (e.timerStartedEventAttributes) what = `timer ${e.timerStartedEventAttributes.timerId}`;
    else if (e.startChildWorkflowExecutionInitiatedEventAttributes) what = `child workflow ${e.startChildWorkflowExecutionInitiatedEventAttributes.workflowType?.name}`;
    else if (e.workflowTaskFailedEventAttributes) what = `workflow task failed (${e.workflowTaskFailedEventAttributes.cause})`;
    else if (e.upsertWorkflowSearchAttributesEventAttributes) what = 'search attributes upserted';
    else if (e.workflowPropertiesModifiedEventAttributes) what = 'memo modified';
    else if (e.workflowExecutionCompletedEventAttributes || e.workflowExecutionFailedEventAttributes || e.workflowExecutionCanceledEventAttributes) what = eventName(e);
    if (!what) continue;
    const line = what;
    const kind = line.includes('(local activity ') ? 'LocalActivity' : line.startsWith('activity ') ? 'Activity' : line.startsWith('timer ') ? 'Timer' : '';
    if (kind) counts[kind] = (counts[kind] ?? 0) + 1;
    const bySeq = seq !== null && kind === seq[1] && counts[kind] === Number(seq[2]);
    const mark: boolean = !marked && (bySeq || named.some((n) => new RegExp(`\\b${n.replace(/[.-]/g, '\\$&')}\\b`).test(line)));
    marked ||= mark;
    lines.push(`  ${mark ? '>' : ' '} ${String(e.eventId).padStart(4)}  ${what}`);
  }
  return lines;
}

/** A local activity's marker carries its type in core's own JSON (not a codec payload): ` (openTurn)`. */
function localActivityType(m: temporal.api.history.v1.IMarkerRecordedEventAttributes): string {
  const data = m.details?.data?.payloads?.[0];
  if (!data?.data) return '';
  try {
    const parsed = JSON.parse(Buffer.from(data.data).toString('utf8')) as { activity_type?: string; activityType?: string };
    const type = parsed.activity_type ?? parsed.activityType;
    return type ? ` (local activity ${type})` : '';
  } catch {
    return '';
  }
}
