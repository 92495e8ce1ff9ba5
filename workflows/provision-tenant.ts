// A new tenant's data, provisioned durably: the API creates the tenant and its key, then starts this
// workflow (id `provision-<tenant>`), so seeding that takes seconds survives a worker restart and shows
// its progress in the Web UI (the seeding activity's heartbeat details).
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { ProvisionTenantInput, ProvisionTenantResult } from '../activities/tenant/provision.ts';

/** Seeding runs for seconds on a real Postgres and longer on PGlite: a generous bound, heartbeats per table batch. */
const provisioning = proxyActivities<Pick<Activities, 'seedTenantData' | 'seedTenantDocuments'>>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 3, initialInterval: '2 seconds', nonRetryableErrorTypes: ['InvalidTenant'] },
});

/** Provisions a tenant: its shop data (from a demo template), reader role and documents, indexed. */
export async function provisionTenant(input: ProvisionTenantInput): Promise<ProvisionTenantResult> {
  const [data, documents] = await Promise.all([provisioning.seedTenantData(input), provisioning.seedTenantDocuments(input)]);
  return { ...data, ...documents };
}
