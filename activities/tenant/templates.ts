// Tenant templates: a ready-made shop a new tenant starts from (its analytics rows, its policy documents,
// its settings). The product owns what is done with them (one transaction, the schema, the inserts, the
// indexes, the documents' store); a template only supplies data. The demo tenants are the templates this
// product ships (infra/demo/templates.ts), injected by the wiring: product code never imports them.
import type pg from 'pg';
import type { Queryable } from '../../infra/db.ts';
import { putDocument } from '../knowledge/documents.ts';
import { inTransaction, loadTenantRows, schemaOf, type LoadCounts, type LoadProgress, type TenantRows } from './analytics-schema.ts';

/** A set of templates, by name. */
export interface TenantTemplates {
  /** The template names, e.g. `acme`, `globex`. */
  readonly names: readonly string[];
  /** The template's analytics rows: 24 months of orders up to `anchorDate` (deterministic for a name and day). */
  rows(template: string, opts: { anchorDate: Date }): TenantRows;
  /** The template's policy documents. */
  documents(template: string): readonly { slug: string; title: string; body: string }[];
}

/** What seeding one tenant made. */
export interface SeedSummary extends LoadCounts {
  tenantId: string;
  ms: number;
}

/** The template's name, or an error that names the ones there are. */
export function checkTemplate(templates: TenantTemplates | undefined, template: string): TenantTemplates {
  if (!templates) throw new Error(`no tenant templates in this deployment: "${template}" cannot be used`);
  if (!templates.names.includes(template)) throw new Error(`unknown template ${JSON.stringify(template)}: one of ${templates.names.join(', ')}`);
  return templates;
}

/** Creates the tenant's schema and (re)places its rows with the template's, in one transaction. */
export async function seedTenantData(
  pool: Pick<pg.Pool, 'connect'>,
  tenantId: string,
  templates: TenantTemplates,
  template: string,
  opts: { anchorDate: Date; onProgress?: (p: LoadProgress) => void },
): Promise<SeedSummary> {
  const started = Date.now();
  schemaOf(tenantId); // a bad id fails before a connection is taken
  const rows = checkTemplate(templates, template).rows(template, opts);
  const counts = await inTransaction(pool, (client) => loadTenantRows(client, tenantId, rows, opts.onProgress));
  return { tenantId, ...counts, ms: Date.now() - started };
}

// Distinct from the migrations' (7243001) and the reader roles' (7243003) lock keys.
const SEED_LOCK_KEY = 7243002;

/**
 * Seeds each tenant (with the rows `templates` gives its own name) whose orders table is missing or empty; serialized
 * across processes starting together by an advisory lock held until the seeding commits.
 */
export async function ensureTenantData(
  pool: Pick<pg.Pool, 'connect'>,
  tenants: readonly string[],
  templates: TenantTemplates,
  opts: { anchorDate: Date; onProgress?: (p: LoadProgress) => void },
): Promise<SeedSummary[]> {
  const seeded: SeedSummary[] = [];
  for (const tenantId of tenants) {
    const s = schemaOf(tenantId);
    const started = Date.now();
    const counts = await inTransaction(pool, async (client) => {
      // Held until COMMIT: a second starter waits here, then finds the rows and skips.
      await client.query('SELECT pg_advisory_xact_lock($1)', [SEED_LOCK_KEY]);
      const { rows } = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`${s}.orders`]);
      if (rows[0]?.t) {
        const has = await client.query<{ has: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${s}.orders) AS has`);
        if (has.rows[0]?.has) return null;
      }
      // The template of the tenant's own name (the demo generator gives any other name a shop of its own seed).
      return loadTenantRows(client, tenantId, templates.rows(tenantId, opts), opts.onProgress);
    });
    if (counts) seeded.push({ tenantId, ...counts, ms: Date.now() - started });
  }
  return seeded;
}

/** Adds (or updates) the template's policy documents as the tenant's; returns how many. */
export async function seedTenantDocuments(db: Queryable, tenantId: string, templates: TenantTemplates, template: string): Promise<number> {
  const docs = checkTemplate(templates, template).documents(template);
  for (const doc of docs) await putDocument(db, tenantId, doc.slug, { title: doc.title, body: doc.body });
  return docs.length;
}
