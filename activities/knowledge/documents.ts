// A tenant's knowledge-base documents: list, add or replace, delete. A change bumps the tenant's cache
// generation (a trigger on kb_documents), which retires cached answers and retrieved chunks; the next
// knowledge turn re-chunks and re-embeds the changed document.
import { z } from 'zod';
import type { Queryable } from '../../infra/db.ts';

/** A document as a tenant sends it. */
export const documentBody = z
  .object({
    title: z.string().trim().min(1, 'title must not be empty').max(200),
    body: z.string().trim().min(1, 'body must not be empty').max(100_000, 'body must be at most 100000 characters'),
  })
  .strict();

/** Slugs in paths: lower-case words joined by dashes. */
export const DOCUMENT_SLUG = /^[a-z0-9][a-z0-9-]{0,79}$/;

/** A document's listing entry. */
export interface DocumentInfo {
  slug: string;
  title: string;
  chars: number;
  updatedAt: string;
  chunks: number;
}

/** The tenant's documents, with how many chunks each has been indexed into. */
export async function listDocuments(db: Queryable, tenantId: string): Promise<DocumentInfo[]> {
  const { rows } = await db.query<{ slug: string; title: string; chars: number; updated_at: Date; chunks: string }>(
    `SELECT d.slug, d.title, length(d.body) AS chars, d.updated_at,
            (SELECT count(*) FROM kb_chunks c WHERE c.tenant_id = d.tenant_id AND c.slug = d.slug) AS chunks
       FROM kb_documents d WHERE d.tenant_id = $1 ORDER BY d.slug`,
    [tenantId],
  );
  return rows.map((r) => ({ slug: r.slug, title: r.title, chars: Number(r.chars), updatedAt: new Date(r.updated_at).toISOString(), chunks: Number(r.chunks) }));
}

/** Adds or replaces a document; returns whether it was created (false: replaced or unchanged). */
export async function putDocument(db: Queryable, tenantId: string, slug: string, doc: z.infer<typeof documentBody>): Promise<{ created: boolean }> {
  const { rows } = await db.query<{ created: boolean }>(
    `INSERT INTO kb_documents (tenant_id, slug, title, body) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, slug) DO UPDATE SET title = EXCLUDED.title, body = EXCLUDED.body, updated_at = now()
       WHERE kb_documents.title IS DISTINCT FROM EXCLUDED.title OR kb_documents.body IS DISTINCT FROM EXCLUDED.body
     RETURNING (xmax = 0) AS created`,
    [tenantId, slug, doc.title, doc.body],
  );
  return { created: rows[0]?.created === true };
}

/** Deletes a document (and its chunks); false when there was none. */
export async function deleteDocument(db: Queryable, tenantId: string, slug: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM kb_documents WHERE tenant_id = $1 AND slug = $2', [tenantId, slug]);
  return (rowCount ?? 0) > 0;
}
