import { Router, type Request } from 'express';
import { deleteDocument, DOCUMENT_SLUG, documentBody, listDocuments, putDocument } from '../activities/knowledge/documents.ts';
import { forgetTenantContext } from '../activities/tenant/store.ts';
import type { Queryable } from '../infra/db.ts';
import type { KvCache } from '../infra/kv-cache.ts';
import { tenantOf } from './auth.ts';
import { ApiError } from './errors.ts';

/** What the knowledge routes need. */
export interface KnowledgeRoutesDeps {
  appDb: Queryable;
  kv: Pick<KvCache, 'delete'>;
}


function slugOf(req: Request): string {
  const slug = String(req.params.slug ?? '');
  if (!DOCUMENT_SLUG.test(slug)) throw new ApiError(400, 'invalid_slug', 'A document slug is 1-80 characters of a-z, 0-9 and -, starting with a letter or digit');
  return slug;
}

/**
 * GET /v1/knowledge, PUT and DELETE /v1/knowledge/:slug: the calling tenant's documents. A change retires
 * the tenant's cached answers at once; the next knowledge turn re-chunks and re-embeds the document.
 */
export function knowledgeRoutes(deps: KnowledgeRoutesDeps): Router {
  const router = Router();

  router.get('/v1/knowledge', async (req, res) => {
    res.json({ documents: await listDocuments(deps.appDb, tenantOf(req)) });
  });

  router.put('/v1/knowledge/:slug', async (req, res) => {
    const tenantId = tenantOf(req);
    const slug = slugOf(req);
    if (!req.is('application/json')) throw new ApiError(415, 'unsupported_media_type', 'Send the body as Content-Type: application/json');
    const doc = documentBody.parse(req.body ?? {});
    const { created } = await putDocument(deps.appDb, tenantId, slug, doc);
    // The document trigger bumped the generation; drop the cached one so every process sees it now.
    await forgetTenantContext(deps.kv, tenantId);
    req.log?.info({ tenantId, slug, created }, 'knowledge document saved');
    res.status(created ? 201 : 200).json({ slug, title: doc.title, created });
  });

  router.delete('/v1/knowledge/:slug', async (req, res) => {
    const tenantId = tenantOf(req);
    const slug = slugOf(req);
    if (!(await deleteDocument(deps.appDb, tenantId, slug))) throw new ApiError(404, 'document_not_found', 'No such document');
    await forgetTenantContext(deps.kv, tenantId);
    req.log?.info({ tenantId, slug }, 'knowledge document deleted');
    res.status(204).end();
  });

  return router;
}
