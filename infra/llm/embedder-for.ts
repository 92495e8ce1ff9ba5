// The deployment's embedder, chosen from its configuration the same way in every process that embeds (the
// workers for the caches and retrieval, the API for the semantic lookup it makes before starting a turn):
// OpenAI's embeddings with a key; without one, the offline model's (over the same SDK) when one is set, else
// the local embedder in this process. The same text gets the same vector in every process.
import type { Config } from '../config.ts';
import { createOpenAIEmbedder, type Embedder } from './embeddings.ts';
import { embedText, LOCAL_EMBEDDING_DIMENSIONS, LOCAL_EMBEDDING_MODEL } from './local-embedder.ts';

/** The local embedder in this process, for deployments with an Anthropic key but no embeddings provider. */
export function inProcessEmbedder(): Embedder {
  return { model: LOCAL_EMBEDDING_MODEL, dimensions: LOCAL_EMBEDDING_DIMENSIONS, embed: async (texts) => texts.map(embedText) };
}

/** The embedder for `config`; `offlineUrl`: the offline model this deployment answers with, when it has no key. */
export function embedderFor(config: Pick<Config, 'OPENAI_API_KEY' | 'OPENAI_BASE_URL' | 'OPENAI_EMBEDDING_MODEL' | 'offline'>, offlineUrl?: string): Embedder {
  if (config.OPENAI_API_KEY) {
    return createOpenAIEmbedder({ apiKey: config.OPENAI_API_KEY, baseURL: config.OPENAI_BASE_URL, model: config.OPENAI_EMBEDDING_MODEL, dimensions: LOCAL_EMBEDDING_DIMENSIONS });
  }
  // The same product path as with OpenAI: the SDK's embeddings call, answered by the offline model's local embedder.
  if (config.offline && offlineUrl) return createOpenAIEmbedder({ apiKey: 'offline', baseURL: `${offlineUrl}/openai/v1`, model: LOCAL_EMBEDDING_MODEL, dimensions: LOCAL_EMBEDDING_DIMENSIONS });
  return inProcessEmbedder();
}
