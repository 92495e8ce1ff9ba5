// The semantic cache in pgvector: tenant-scoped in the query itself, one embedder's rows at a time, and a
// hit only with an equal slot signature ("sales last week" never answers "sales last month").
import type { Queryable } from '../../infra/db.ts';
import pgvector from 'pgvector/pg';
import type { Embedder } from '../../infra/llm/embeddings.ts';
import { redactPii } from '../guardrails/rules.ts';
import type { CachedAnswer } from './exact-key.ts';

/** Where a search looks: one tenant, its current generation, one embedder's vectors. */
export interface SemanticQuery {
  tenantId: string;
  generation: number;
  embedder: string;
  vector: number[];
  /** Candidates below this similarity are not returned. */
  suggestThreshold: number;
  /** Candidates at or above this come with their cached answer. */
  threshold: number;
}

/** A cached question near the asked one; the caller decides whether it is a hit (same signature). */
export interface SemanticCandidate {
  similarity: number;
  signature: string;
  question: string;
  /** Only for candidates at or above the hit threshold: the rest can at most be suggested. */
  answer?: CachedAnswer;
}

// Candidates read per lookup: the nearest few, so that one with the right signature just behind a
// same-looking near miss is still found.
const CANDIDATES = 5;

/** The nearest live entries of the tenant at or above the suggest threshold, nearest first. */
/**
 * The vector a question is looked up (and later stored) by: the redacted question's embedding, rounded so
 * it stays small in the turn's history. The same for the API's lookup and the workflow's.
 */
export async function embedQuestion(embedder: Pick<Embedder, 'embed'>, text: string, signal: AbortSignal): Promise<number[]> {
  const [raw] = await embedder.embed([redactPii(text).text], signal);
  if (!raw) throw new Error('the embedder returned no vector');
  return raw.map((x) => Math.round(x * 1e5) / 1e5);
}

export async function findSemantic(db: Queryable, q: SemanticQuery): Promise<SemanticCandidate[]> {
  const { rows } = await db.query<{ signature: string; question: string; answer: CachedAnswer; similarity: number }>(
    `SELECT signature, question, answer, 1 - (embedding <=> $2::vector) AS similarity
       FROM semantic_cache
      WHERE tenant_id = $1 AND generation = $3 AND embedder = $4 AND expires_at > now()
      ORDER BY embedding <=> $2::vector
      LIMIT ${CANDIDATES}`,
    [q.tenantId, pgvector.toSql(q.vector), q.generation, q.embedder],
  );
  return rows
    .map((r) => ({ ...r, similarity: Math.round(Number(r.similarity) * 10_000) / 10_000 }))
    .filter((r) => r.similarity >= q.suggestThreshold)
    .map((r) => ({ similarity: r.similarity, signature: r.signature, question: r.question, ...(r.similarity >= q.threshold ? { answer: r.answer } : {}) }));
}

/** What a write stores. */
export interface SemanticEntry {
  tenantId: string;
  generation: number;
  embedder: string;
  vector: number[];
  signature: string;
  intent: string;
  question: string;
  answer: CachedAnswer;
  ttlSeconds: number;
}

/** Stores an answer; expired rows of the tenant are swept on the way. */
export async function storeSemantic(db: Queryable, e: SemanticEntry): Promise<void> {
  await db.query('DELETE FROM semantic_cache WHERE tenant_id = $1 AND expires_at <= now()', [e.tenantId]);
  await db.query(
    `INSERT INTO semantic_cache (tenant_id, generation, embedder, embedding, signature, intent, question, answer, expires_at)
     VALUES ($1, $2, $3, $4::vector, $5, $6, $7, $8, now() + make_interval(secs => $9))`,
    [e.tenantId, e.generation, e.embedder, pgvector.toSql(e.vector), e.signature, e.intent, e.question, JSON.stringify(e.answer), e.ttlSeconds],
  );
}
