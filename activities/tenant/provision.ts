// Provisioning a new tenant's data (the `provisionTenant` workflow's activities): its shop's analytics
// schema, seeded from a demo template so a new shop (or a benchmark's copy of one) has data to ask about,
// the reader role its generated SQL runs as, and its policy documents, indexed for retrieval.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { seedKnowledgeBase } from '../../infra/demo/kb-documents.ts';
import { DEMO_TENANTS, seedTenant, tenantSchemaSql } from '../../infra/demo/demo-data.ts';
import { TENANT_ID_PATTERN } from '../../workflows/shared/contract.ts';
import type { ActivityDeps } from '../deps.ts';
import { indexTenantDocuments } from '../knowledge/store.ts';
import { ensureReaderRole } from '../sql/executor.ts';

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

function check(input: ProvisionTenantInput): void {
  if (!TENANT_ID_PATTERN.test(input.tenantId)) throw ApplicationFailure.nonRetryable(`invalid tenant id ${JSON.stringify(input.tenantId)}`, 'InvalidTenant');
  if (input.template !== null && !(DEMO_TENANTS as readonly string[]).includes(input.template)) {
    throw ApplicationFailure.nonRetryable(`unknown template ${JSON.stringify(input.template)}: one of ${DEMO_TENANTS.join(', ')}`, 'InvalidTenant');
  }
}

/** The tenant provisioning activities. */
export function createProvisioningActivities(deps: Pick<ActivityDeps, 'tenantDb' | 'appDb' | 'embedder'>) {
  return {
    /** Creates the tenant's analytics schema (seeded from the template, in one transaction) and its reader role. */
    async seedTenantData(input: ProvisionTenantInput): Promise<Pick<ProvisionTenantResult, 'orders' | 'customers' | 'products'>> {
      check(input);
      const ctx = Context.current();
      let counts = { orders: 0, customers: 0, products: 0 };
      if (input.template) {
        const summary = await seedTenant(deps.tenantDb, input.tenantId, {
          anchorDate: new Date(`${input.anchorDate}T00:00:00Z`),
          template: input.template,
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
      check(input);
      const documents = input.template ? await seedKnowledgeBase(deps.appDb, input.tenantId, input.template) : 0;
      const chunks = await indexTenantDocuments(deps.appDb, deps.embedder, input.tenantId);
      return { documents, chunks };
    },
  };
}
