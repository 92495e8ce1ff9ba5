// The semantic cache in pgvector: tenant-scoped in the query itself, one embedder's rows at a time, and a
// hit only with an equal slot signature ("sales last week" never answers "sales last month").
import type { Queryable } from '../../infra/db.ts';
import pgvector from 'pgvector/pg';
import type { CachedAnswer } from './exact-key.ts';

/** What a lookup is compared against. */
export interface SemanticQuery {
  tenantId: string;
  generation: number;
  embedder: string;
  vector: number[];
  signature: string;
  threshold: number;
  suggestThreshold: number;
}

/** A lookup's outcome: a hit, or perhaps a close question to suggest. */
export interface SemanticMatch {
  hit: (CachedAnswer & { similarity: number }) | null;
  suggestion: { question: string; similarity: number } | null;
}

// Candidates read per lookup: the nearest few, so that one with the right signature just behind a
// same-looking near miss is still found.
const CANDIDATES = 5;

/** Finds the nearest live entries of the tenant and applies the threshold and signature rules. */
export async function findSemantic(db: Queryable, q: SemanticQuery): Promise<SemanticMatch> {
  const { rows } = await db.query<{ signature: string; question: string; answer: CachedAnswer; similarity: number }>(
    `SELECT signature, question, answer, 1 - (embedding <=> $2::vector) AS similarity
       FROM semantic_cache
      WHERE tenant_id = $1 AND generation = $3 AND embedder = $4 AND expires_at > now()
      ORDER BY embedding <=> $2::vector
      LIMIT ${CANDIDATES}`,
    [q.tenantId, pgvector.toSql(q.vector), q.generation, q.embedder],
  );
  const candidates = rows.map((r) => ({ ...r, similarity: Math.round(Number(r.similarity) * 10_000) / 10_000 }));
  const hit = candidates.find((r) => r.similarity >= q.threshold && r.signature === q.signature);
  if (hit) return { hit: { ...hit.answer, similarity: hit.similarity }, suggestion: null };
  const close = candidates.find((r) => r.similarity >= q.suggestThreshold);
  return { hit: null, suggestion: close ? { question: close.question, similarity: close.similarity } : null };
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
