// Provisioning a new tenant's data (the `provisionTenant` workflow's activities): its shop's analytics
// schema, seeded from a demo template so a new shop (or a benchmark's copy of one) has data to ask about,
// the reader role its generated SQL runs as, and its policy documents, indexed for retrieval.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { TENANT_ID_PATTERN } from '../../workflows/shared/contract.ts';
import type { ActivityDeps } from '../deps.ts';
import { indexTenantDocuments } from '../knowledge/store.ts';
import { ensureReaderRole } from '../sql/executor.ts';
import { tenantSchemaSql } from './analytics-schema.ts';
import { seedTenantData, seedTenantDocuments, type TenantTemplates } from './templates.ts';

/** Input of the provisioning activities. */
export interface ProvisionTenantInput {
  tenantId: string;
  /** A demo tenant (`acme`, `globex`) whose shop data and documents the new tenant starts with; null: empty tables, no documents. */
  template: string | null;
  /** YYYY-MM-DD: the last day of the template's 24 months of orders. */
  anchorDate: string;
}

/** What provisioning made. */
export interface ProvisionTenantResult {
  orders: number;
  customers: number;
  products: number;
  documents: number;
  chunks: number;
}

function check(input: ProvisionTenantInput, templates: TenantTemplates | undefined): void {
  if (!TENANT_ID_PATTERN.test(input.tenantId)) throw ApplicationFailure.nonRetryable(`invalid tenant id ${JSON.stringify(input.tenantId)}`, 'InvalidTenant');
  if (input.template === null) return;
  if (!templates) throw ApplicationFailure.nonRetryable(`this deployment has no tenant templates: "${input.template}" cannot be used`, 'InvalidTenant');
  if (!templates.names.includes(input.template)) {
    throw ApplicationFailure.nonRetryable(`unknown template ${JSON.stringify(input.template)}: one of ${templates.names.join(', ')}`, 'InvalidTenant');
  }
}

/** The tenant provisioning activities. */
export function createProvisioningActivities(deps: Pick<ActivityDeps, 'tenantDb' | 'appDb' | 'embedder' | 'templates'>) {
  return {
    /** Creates the tenant's analytics schema (seeded from the template, in one transaction) and its reader role. */
    async seedTenantData(input: ProvisionTenantInput): Promise<Pick<ProvisionTenantResult, 'orders' | 'customers' | 'products'>> {
      check(input, deps.templates);
      const ctx = Context.current();
      let counts = { orders: 0, customers: 0, products: 0 };
      if (input.template) {
        const summary = await seedTenantData(deps.tenantDb, input.tenantId, deps.templates!, input.template, {
          anchorDate: new Date(`${input.anchorDate}T00:00:00Z`),
          // Progress for the operator (the activity's heartbeat details in the Web UI) and liveness for Temporal.
          onProgress: (p) => ctx.heartbeat({ table: p.table, rows: p.rows }),
        });
        counts = { orders: summary.orders, customers: summary.customers, products: summary.products };
      } else {
        await deps.tenantDb.query(tenantSchemaSql(input.tenantId));
      }
      await ensureReaderRole(deps.tenantDb, input.tenantId);
      return counts;
    },

    /** Copies the template's policy documents to the tenant and indexes them (chunks, embeddings, full text). */
    async seedTenantDocuments(input: ProvisionTenantInput): Promise<Pick<ProvisionTenantResult, 'documents' | 'chunks'>> {
      check(input, deps.templates);
      const documents = input.template ? await seedTenantDocuments(deps.appDb, input.tenantId, deps.templates!, input.template) : 0;
      const chunks = await indexTenantDocuments(deps.appDb, deps.embedder, input.tenantId);
      return { documents, chunks };
    },
  };
}
