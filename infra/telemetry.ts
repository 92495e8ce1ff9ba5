// Traces (OpenTelemetry): one trace per turn, from the API's HTTP request through the workflow and each activity
// to every model call. On when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set: spans
// leave in batches by OTLP/HTTP. Off otherwise, and then it costs nothing: no SDK is loaded or registered, no
// interceptor is installed, HTTP is not hooked, and workers run the plain workflow bundle.
//
// The pieces, all from here: the tracer provider and its exporter; HTTP instrumentation (the API request is
// the root span); Temporal's interceptors (the client's puts the span context in a workflow's headers, the
// workflow's run in its bundle and hand their spans to a sink, the activities' continue from their headers);
// and the model-call spans (infra/llm/traced-provider.ts) around every provider the worker calls.
import { createRequire } from 'node:module';
import type { Attributes, Tracer } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ClientInterceptors } from '@temporalio/client';
import type { OpenTelemetryWorkflowExporter } from '@temporalio/interceptors-opentelemetry/lib/workflow/definitions.js';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import type { Config } from './config.ts';
import type { Embedder } from './llm/embeddings.ts';
import type { ChatProvider, ProviderName } from './llm/provider.ts';
import type { Logger } from './logger.ts';

/** What a worker adds to trace its workflows and activities. */
export interface WorkerTracing {
  /** A span per activity run, continued from the workflow's `StartActivity` span; model calls under it carry its attempt. */
  activityInterceptors: ActivityInterceptorsFactory[];
  /** Where the workflow interceptors' spans leave the sandbox (workflow code cannot export). */
  sinks: InjectedSinks<{ exporter: OpenTelemetryWorkflowExporter }>;
  /** Bundled with the workflows: Temporal's workflow interceptors (they add no command: histories replay the same). */
  workflowInterceptorModules: string[];
}

/** Tracing of one process, on or off. */
export interface Telemetry {
  readonly enabled: boolean;
  /** For every Temporal client that starts workflows: the active span's context travels in the start's headers. */
  readonly clientInterceptors: ClientInterceptors | undefined;
  /** For a worker of this process. */
  readonly worker: WorkerTracing | undefined;
  /** The providers with a span around each call; the same object when off. */
  traceProviders(providers: Partial<Record<ProviderName, ChatProvider>>): Partial<Record<ProviderName, ChatProvider>>;
  /** The embedder with a span around each call to its provider; the same object when off. */
  traceEmbedder(embedder: Embedder): Embedder;
  /** Flushes the spans still buffered (bounded) and stops tracing; safe to call twice. */
  shutdown(): Promise<void>;
}

/** Tracing off: nothing registered, nothing wrapped. */
export const TELEMETRY_OFF: Telemetry = Object.freeze<Telemetry>({
  enabled: false,
  clientInterceptors: undefined,
  worker: undefined,
  traceProviders: (p) => p,
  traceEmbedder: (e) => e,
  shutdown: async () => {},
});

/** The configuration rows tracing reads (the exporter reads the other OTEL_EXPORTER_OTLP_* variables itself, e.g. its headers). */
export type TelemetryConfig = Pick<Config, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' | 'OTEL_SERVICE_NAME' | 'OTEL_SDK_DISABLED'>;

/** Where spans are sent: the traces endpoint as given, or `<endpoint>/v1/traces` (the OTLP/HTTP rule); undefined: tracing is off. */
export function tracesUrl(config: TelemetryConfig): string | undefined {
  if (config.OTEL_SDK_DISABLED) return undefined;
  if (config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}

/** The workflow interceptor modules tracing bundles with the workflows (Temporal's: spans for runs, activities and signals). */
export function workflowTracingModules(): string[] {
  return [createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')];
}

/** Of a workflow's info, what its spans carry: its identity. Never its memo or search attributes (a session id is the caller's; the memo holds a hash of the message). */
const WORKFLOW_INFO_ON_SPANS = ['workflowId', 'runId', 'workflowType', 'taskQueue', 'namespace', 'attempt'] as const;

/** Attributes never exported: who called (their address, their user agent) and a URL's query (a chart URL's signature). */
const DROPPED_ATTRIBUTES = ['http.user_agent', 'user_agent.original', 'http.client_ip', 'client.address', 'net.peer.ip', 'net.peer.port', 'network.peer.address', 'network.peer.port', 'url.query'];
/** URL attributes exported without their query string. */
const URL_ATTRIBUTES = ['http.url', 'http.target', 'url.full'];

/** Removes what must not leave the process from a span's attributes (in place: the span has ended, nothing else reads it). */
export function scrubAttributes(attributes: Attributes): void {
  for (const key of DROPPED_ATTRIBUTES) delete attributes[key];
  for (const key of URL_ATTRIBUTES) {
    const value = attributes[key];
    if (typeof value === 'string' && value.includes('?')) attributes[key] = value.slice(0, value.indexOf('?'));
  }
}

/** A span processor that scrubs every span (the API's, the workflow's, the activities') before it is exported. */
function scrubbing(next: SpanProcessor): SpanProcessor {
  return {
    onStart: (span, ctx) => next.onStart(span, ctx),
    onEnd: (span: ReadableSpan) => {
      scrubAttributes(span.attributes);
      next.onEnd(span);
    },
    forceFlush: () => next.forceFlush(),
    shutdown: () => next.shutdown(),
  };
}

/** How long shutdown waits for the last spans to leave (a collector that is down must not hold the process). */
const SHUTDOWN_FLUSH_MS = 5000;

/**
 * Starts tracing for this process when an OTLP endpoint is configured (or `spanProcessor` is given: tests export
 * to memory); otherwise returns `TELEMETRY_OFF` having loaded nothing. `service` is the default `service.name`
 * (OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override it). Call it once per process, before serving.
 */
export async function startTelemetry(opts: { config: TelemetryConfig; service: string; log: Logger; spanProcessor?: SpanProcessor }): Promise<Telemetry> {
  const url = tracesUrl(opts.config);
  if (!url && !opts.spanProcessor) return TELEMETRY_OFF;
  const [api, { registerInstrumentations }, { HttpInstrumentation }, { OTLPTraceExporter }, resources, base, { NodeTracerProvider }, client, worker, traced] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/instrumentation'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/sdk-trace-node'),
    import('@temporalio/interceptors-opentelemetry/lib/client/index.js'),
    import('@temporalio/interceptors-opentelemetry/lib/worker/index.js'),
    import('./llm/traced-provider.ts'),
  ]);
  const { context, propagation, trace } = api;

  // service.name: ours by default, OTEL_RESOURCE_ATTRIBUTES over it, OTEL_SERVICE_NAME over both.
  const resource = resources.Resource.default()
    .merge(new resources.Resource({ 'service.name': opts.service }))
    .merge(resources.envDetectorSync.detect())
    .merge(opts.config.OTEL_SERVICE_NAME ? new resources.Resource({ 'service.name': opts.config.OTEL_SERVICE_NAME }) : resources.Resource.empty());
  let lastExportError = 0;
  api.diag.setLogger(
    {
      // The exporter reports a collector it cannot reach here, every few seconds while it is down: say so once a minute.
      error: (message) => {
        if (Date.now() - lastExportError < 60_000) return;
        lastExportError = Date.now();
        opts.log.warn({ detail: message }, 'traces could not be exported (is the OTLP endpoint up?)');
      },
      warn: () => {},
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    api.DiagLogLevel.ERROR,
  );
  // OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION and the OTEL_BSP_* batch settings are read by the exporter and the processor.
  const processor = scrubbing(opts.spanProcessor ?? new base.BatchSpanProcessor(new OTLPTraceExporter({ url })));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  // The global provider (Temporal's interceptors use it), the AsyncLocalStorage context manager, W3C trace context.
  provider.register();
  const tracer: Tracer = provider.getTracer('turnflow');

  const http = new HttpInstrumentation({
    // Model SDKs use fetch, which this does not see; the exporter's own requests are not traced.
    disableOutgoingRequestInstrumentation: true,
    // Scrapes and probes are not turns.
    ignoreIncomingRequestHook: (req) => ['/metrics', '/healthz'].includes((req.url ?? '').split('?')[0]!),
    // Named by the Express route's pattern (ids stay out of span names), as the request metrics are.
    applyCustomAttributesOnSpan: (span, request) => {
      const req = request as { method?: string; baseUrl?: string; route?: { path?: unknown } };
      if (req.route?.path === undefined) return;
      const route = `${req.baseUrl ?? ''}${String(req.route.path)}`;
      span.setAttribute('http.route', route);
      span.updateName(`${req.method ?? 'GET'} ${route}`);
    },
  });
  registerInstrumentations({ instrumentations: [http], tracerProvider: provider });
  // This process runs as ES modules: `import 'node:http'` never passes through require, where the instrumentation
  // hooks in. Requiring it once now applies the patch to http.Server's prototype, which every server shares,
  // whenever it was created (no loader flag needed).
  createRequire(import.meta.url)('node:http');

  const workerTracing: WorkerTracing = {
    activityInterceptors: [
      (ctx) => ({ inbound: new worker.OpenTelemetryActivityInboundInterceptor(ctx), outbound: new worker.OpenTelemetryActivityOutboundInterceptor(ctx) }),
      // Inside the activity's span: its attempt on the span, and in the context for the model calls it makes.
      (ctx) => ({
        inbound: {
          execute: (input, next) => {
            trace.getActiveSpan()?.setAttribute('turnflow.activity.attempt', ctx.info.attempt);
            return context.with(traced.withActivityAttempt(context.active(), ctx.info.attempt), () => next(input));
          },
        },
      }),
    ],
    sinks: { exporter: workflowSpanSink(worker.makeWorkflowExporter(processor, resource)) },
    workflowInterceptorModules: workflowTracingModules(),
  };

  let stopped: Promise<void> | undefined;
  opts.log.info({ service: resource.attributes['service.name'], endpoint: url ? new URL(url).origin : 'in memory' }, 'traces on: exported by OTLP/HTTP');
  return {
    enabled: true,
    clientInterceptors: { workflow: [new client.OpenTelemetryWorkflowClientInterceptor()] },
    worker: workerTracing,
    traceProviders: (providers) => Object.fromEntries(Object.entries(providers).map(([name, p]) => [name, traced.tracedProvider(p, tracer)])),
    traceEmbedder: (embedder) => traced.tracedEmbedder(embedder, tracer),
    shutdown: () => {
      stopped ??= (async () => {
        const flushed = await Promise.race([
          provider.shutdown().then(
            () => 'flushed',
            (err: unknown) => err,
          ),
          new Promise<'late'>((r) => setTimeout(r, SHUTDOWN_FLUSH_MS, 'late').unref()),
        ]);
        if (flushed === 'late') opts.log.warn({ ms: SHUTDOWN_FLUSH_MS }, 'traces still buffered at shutdown were not all sent in time');
        else if (flushed !== 'flushed') opts.log.warn({ err: flushed }, 'traces still buffered at shutdown could not be exported (is the OTLP endpoint up?)');
        http.disable();
        trace.disable();
        context.disable();
        propagation.disable();
      })();
      return stopped;
    },
  };
}

/** The workflow span sink, with only the workflow's identity from its info put on its spans. */
function workflowSpanSink(sink: WorkerTracing['sinks']['exporter']): WorkerTracing['sinks']['exporter'] {
  return {
    export: {
      ...sink.export,
      fn: (info, spans) => {
        const identity = Object.fromEntries(WORKFLOW_INFO_ON_SPANS.map((k) => [k, info[k]])) as Partial<WorkflowInfo>;
        // Temporal's sink copies every key of the info it is given onto each span's attributes.
        return sink.export.fn(identity as WorkflowInfo, spans);
      },
    },
  };
}
