import OpenAI from 'openai';
import { isRetryableStatus, ProviderAbortError, ProviderError, type ProviderName } from './provider.ts';

/** Turns texts into vectors, for the semantic cache; one vector per text, in the texts' order. */
export interface Embedder {
  readonly model: string;
  readonly dimensions: number;
  /** The provider it calls over the network; absent for an embedder in this process. */
  readonly provider?: ProviderName;
  /** Rejects with a `ProviderError` (`ProviderAbortError` when `signal` aborts). */
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
}

/** Options of the OpenAI embedder (also any OpenAI-compatible server, such as the offline model). */
export interface OpenAIEmbedderOptions {
  apiKey: string;
  /** E.g. the offline model's `${url}/openai/v1`; default: the SDK's (api.openai.com or OPENAI_BASE_URL). */
  baseURL?: string;
  /** E.g. `text-embedding-3-small`, or `offline-hash-embedder-v1` against the offline model. */
  model: string;
  /** Sent as `dimensions` (text-embedding-3-* shorten their vectors on request); every vector is checked against it. */
  dimensions: number;
  /** Per-request timeout; default 10 s: an embedding sits in front of every cache lookup. */
  timeoutMs?: number;
}

/** OpenAI's cap on inputs per request; longer lists go out as several requests. */
const MAX_INPUTS_PER_REQUEST = 2048;

function toProviderError(err: unknown, signal: AbortSignal | undefined): Error {
  if (signal?.aborted) return new ProviderAbortError('openai', { cause: err });
  if (err instanceof ProviderError) return err;
  if (err instanceof OpenAI.APIConnectionError) return new ProviderError(`openai embeddings: ${err.message}`, 'openai', null, true, { cause: err });
  if (err instanceof OpenAI.APIError) {
    const status = typeof err.status === 'number' ? err.status : null;
    return new ProviderError(`openai embeddings: ${err.message}`, 'openai', status, status === null || isRetryableStatus(status), { cause: err });
  }
  // Anything else is the transport failing under us: worth another attempt.
  return new ProviderError(`openai embeddings: ${(err as Error)?.message ?? String(err)}`, 'openai', null, true, { cause: err });
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** OpenAI embeddings over the official SDK; the SDK never retries (Temporal owns retries). */
export function createOpenAIEmbedder(opts: OpenAIEmbedderOptions): Embedder {
  const client = new OpenAI({ apiKey: opts.apiKey, baseURL: opts.baseURL, maxRetries: 0, timeout: opts.timeoutMs ?? 10_000 });
  const { model, dimensions } = opts;

  async function batch(input: string[], signal: AbortSignal | undefined): Promise<number[][]> {
    // No encoding_format: the SDK then asks for base64 and decodes it, a quarter of the JSON's size.
    const res = await client.embeddings.create({ model, input, dimensions }, { signal });
    if (res.data.length !== input.length) {
      throw new ProviderError(`openai embeddings: asked for ${input.length} vectors, got ${res.data.length}`, 'openai', null, true);
    }
    const out: (number[] | undefined)[] = input.map(() => undefined);
    for (const item of res.data) {
      if (!Number.isInteger(item.index) || item.index < 0 || item.index >= input.length || out[item.index]) {
        throw new ProviderError(`openai embeddings: unexpected or repeated index ${item.index}`, 'openai', null, true);
      }
      const vector = item.embedding;
      // A model that ignores `dimensions` would poison a vector index sized for it: a configuration error, not transient.
      if (vector.length !== dimensions) {
        throw new ProviderError(`openai embeddings: ${model} returned ${vector.length} dimensions, expected ${dimensions}`, 'openai', null, false);
      }
      out[item.index] = vector.map(round6);
    }
    // Lengths match and no index repeats, so every slot is filled.
    return out as number[][];
  }

  return {
    model,
    dimensions,
    provider: 'openai',
    async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
      if (!texts.length) return [];
      const vectors: number[][] = [];
      try {
        for (let i = 0; i < texts.length; i += MAX_INPUTS_PER_REQUEST) {
          vectors.push(...(await batch(texts.slice(i, i + MAX_INPUTS_PER_REQUEST), signal)));
        }
      } catch (err) {
        throw toProviderError(err, signal);
      }
      return vectors;
    },
  };
}
