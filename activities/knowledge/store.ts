// The knowledge base in the app store: documents, their chunks (embedded, full-text indexed), indexing
// of changed documents, and hybrid retrieval fused by reciprocal rank. Every query is tenant-scoped.
import pgvector from 'pgvector/pg';
import type { Queryable } from '../../infra/db.ts';
import type { Embedder } from '../../infra/llm/embeddings.ts';
import { chunkDocument } from './chunker.ts';

/** A retrieved chunk (its text stays in the store; the workflow carries ids). */
export interface RetrievedChunk {
  id: number;
  slug: string;
  title: string;
  score: number;
}

/** A chunk with its text, for the answer's context. */
export interface ChunkText {
  id: number;
  slug: string;
  title: string;
  body: string;
}

/**
 * (Re)builds the chunks of the tenant's documents that changed since they were last indexed with this
 * embedder; returns how many documents were indexed. Safe to run concurrently (idempotent upserts).
 */
export function indexTenantDocuments(db: Queryable, embedder: Pick<Embedder, 'model' | 'embed'>, tenantId: string): Promise<number> {
  // One indexing per tenant at a time in this process: the start-up indexer and a first knowledge turn
  // share the run instead of embedding the same documents twice.
  const key = `${tenantId}\u0000${embedder.model}`;
  let run = indexing.get(key);
  if (!run) {
    run = indexStale(db, embedder, tenantId).finally(() => indexing.delete(key));
    indexing.set(key, run);
  }
  return run;
}

const indexing = new Map<string, Promise<number>>();

async function indexStale(db: Queryable, embedder: Pick<Embedder, 'model' | 'embed'>, tenantId: string): Promise<number> {
  const { rows: stale } = await db.query<{ slug: string; title: string; body: string }>(
    `SELECT d.slug, d.title, d.body FROM kb_documents d
      WHERE d.tenant_id = $1
        AND NOT EXISTS (SELECT 1 FROM kb_chunks c
                         WHERE c.tenant_id = d.tenant_id AND c.slug = d.slug AND c.embedder = $2 AND c.indexed_at >= d.updated_at)`,
    [tenantId, embedder.model],
  );
  for (const doc of stale) {
    const chunks = chunkDocument(doc.body);
    // The title travels with each chunk's text into the embedding: "returns" matches the returns policy.
    const vectors = await embedder.embed(chunks.map((c) => `${doc.title}\n${c.body}`));
    await db.query('DELETE FROM kb_chunks WHERE tenant_id = $1 AND slug = $2 AND (ordinal >= $3 OR embedder <> $4)', [tenantId, doc.slug, chunks.length, embedder.model]);
    await db.query(
      `INSERT INTO kb_chunks (tenant_id, slug, ordinal, title, body, embedder, embedding, indexed_at)
       SELECT $1, $2, o, $3, b, $4, e::vector, now() FROM unnest($5::int[], $6::text[], $7::text[]) AS t(o, b, e)
       ON CONFLICT (tenant_id, slug, ordinal) DO UPDATE
         SET title = EXCLUDED.title, body = EXCLUDED.body, embedder = EXCLUDED.embedder, embedding = EXCLUDED.embedding, indexed_at = now()`,
      [tenantId, doc.slug, doc.title, embedder.model, chunks.map((c) => c.ordinal), chunks.map((c) => c.body), vectors.map((v) => pgvector.toSql(v))],
    );
  }
  return stale.length;
}

// Reciprocal rank fusion's damping constant (Cormack et al.): ranks beyond the first few count little.
const RRF_K = 60;
// Candidates each ranking contributes before fusion.
const CANDIDATES = 20;

/** The question's words as an OR query: a chunk matching some of them still ranks, by how well it matches. */
export function orQuery(question: string): string {
  const words = question.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words)].slice(0, 30).join(' or ');
}

/**
 * The tenant's top-k chunks for a question: vector similarity, full-text rank and, when capture found a
 * policy topic, the document of that topic, fused by reciprocal rank.
 */
export async function retrieveChunks(
  db: Queryable,
  q: { tenantId: string; embedder: string; vector: number[]; question: string; topK: number; topic?: string },
): Promise<RetrievedChunk[]> {
  if (q.topK <= 0) return [];
  const [byVector, byText, byTopic] = await Promise.all([
    db.query<{ id: string; slug: string; title: string; ordinal: number }>(
      `SELECT id, slug, title, ordinal FROM kb_chunks WHERE tenant_id = $1 AND embedder = $2
        ORDER BY embedding <=> $3::vector, slug, ordinal LIMIT ${CANDIDATES}`,
      [q.tenantId, q.embedder, pgvector.toSql(q.vector)],
    ),
    db.query<{ id: string; slug: string; title: string; ordinal: number }>(
      `SELECT id, slug, title, ordinal FROM kb_chunks
        WHERE tenant_id = $1 AND embedder = $2 AND tsv @@ websearch_to_tsquery('english', $3)
        ORDER BY ts_rank_cd(tsv, websearch_to_tsquery('english', $3)) DESC, slug, ordinal LIMIT ${CANDIDATES}`,
      [q.tenantId, q.embedder, orQuery(q.question)],
    ),
    // The topic's own document, in its order: a question about returns starts from the returns policy.
    q.topic
      ? db.query<{ id: string; slug: string; title: string; ordinal: number }>(
          `SELECT id, slug, title, ordinal FROM kb_chunks WHERE tenant_id = $1 AND embedder = $2 AND (slug = $3 OR title ILIKE '%' || $3 || '%')
            ORDER BY slug, ordinal LIMIT ${CANDIDATES}`,
          [q.tenantId, q.embedder, q.topic],
        )
      : Promise.resolve({ rows: [] as { id: string; slug: string; title: string; ordinal: number }[] }),
  ]);
  const fused = new Map<string, RetrievedChunk & { ordinal: number }>();
  for (const ranking of [byVector.rows, byText.rows, byTopic.rows]) {
    ranking.forEach((r, rank) => {
      const entry = fused.get(r.id) ?? { id: Number(r.id), slug: r.slug, title: r.title, ordinal: r.ordinal, score: 0 };
      entry.score += 1 / (RRF_K + rank + 1);
      fused.set(r.id, entry);
    });
  }
  // Ties go to the earlier passage of a document (by name, then position), never to an insertion order.
  return [...fused.values()]
    .sort((a, b) => b.score - a.score || a.slug.localeCompare(b.slug) || a.ordinal - b.ordinal)
    .slice(0, q.topK)
    .map(({ ordinal: _ordinal, ...c }) => ({ ...c, score: Math.round(c.score * 1e5) / 1e5 }));
}

/** The texts of chunks by id, only the tenant's own (an id of another tenant yields nothing). */
export async function chunkTexts(db: Queryable, tenantId: string, ids: number[]): Promise<ChunkText[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<{ id: string; slug: string; title: string; body: string }>(
    'SELECT id, slug, title, body FROM kb_chunks WHERE tenant_id = $1 AND id = ANY($2::bigint[])',
    [tenantId, ids],
  );
  const byId = new Map(rows.map((r) => [Number(r.id), { ...r, id: Number(r.id) }]));
  // In retrieval order, best first.
  return ids.flatMap((id) => byId.get(id) ?? []);
}
