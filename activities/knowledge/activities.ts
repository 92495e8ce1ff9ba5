// Knowledge retrieval for policy questions: the tenant's documents, kept indexed, searched by meaning and
// by words, fused; the result is cached 30 minutes per tenant generation (a document change retires it).
import { createHash } from 'node:crypto';
import { beforeDeadline } from '../deadline.ts';
import type { ActivityDeps } from '../deps.ts';
import { normalizeQuestion } from '../caches/exact-key.ts';
import { redactPii } from '../guardrails/rules.ts';
import { indexTenantDocuments, retrieveChunks, type RetrievedChunk } from './store.ts';

/** Retrieved chunks stay cached this long (the RAG write-up's 30 minutes). */
export const RETRIEVAL_TTL_SECONDS = 1800;

/** What retrieval needs; `deadlineAt` (epoch ms) is the data phase's budget: past it the answer goes without documents. */
interface RetrieveInput {
  tenantId: string;
  generation: number;
  question: string;
  topK: number;
  /** The captured policy topic, if any: its document ranks first. */
  topic?: string;
  vector?: number[];
  model?: string;
}

/** The knowledge activities. */
export function createKnowledgeActivities(deps: Pick<ActivityDeps, 'appDb' | 'kv' | 'embedder'>) {
  // Generations whose documents this process has already checked for staleness (one query per change).
  const checked = new Map<string, number>();
  const ensureIndexed = async (tenantId: string, generation: number) => {
    if (checked.get(tenantId) === generation) return;
    await indexTenantDocuments(deps.appDb, deps.embedder, tenantId);
    checked.set(tenantId, generation);
  };

  const retrieve = async (input: RetrieveInput): Promise<{ chunks: RetrievedChunk[]; cached: boolean }> => {
    const question = redactPii(input.question).text;
    const key = `kb:v1:${input.tenantId}:${input.generation}:${input.topK}:${input.topic ?? ''}:${createHash('sha256').update(normalizeQuestion(question)).digest('hex')}`;
    const hit = await deps.kv.get(key);
    if (hit) return { chunks: JSON.parse(hit) as RetrievedChunk[], cached: true };
    await ensureIndexed(input.tenantId, input.generation);
    const vector = input.vector && input.model === deps.embedder.model ? input.vector : (await deps.embedder.embed([question]))[0];
    if (!vector) throw new Error('the embedder returned no vector');
    const chunks = await retrieveChunks(deps.appDb, { tenantId: input.tenantId, embedder: deps.embedder.model, vector, question, topK: input.topK, topic: input.topic });
    await deps.kv.set(key, JSON.stringify(chunks), RETRIEVAL_TTL_SECONDS);
    return { chunks, cached: false };
  };

  return {
    /**
     * The tenant's top-k chunks for the question (ids, titles, scores; the texts stay in the store). Reuses
     * the question's embedding from the semantic search when there is one.
     */
    async retrieveKnowledge(input: RetrieveInput & { deadlineAt?: number }): Promise<{ chunks: RetrievedChunk[]; cached: boolean }> {
      return beforeDeadline(retrieve(input), input.deadlineAt, 'knowledge retrieval');
    },
  };
}
