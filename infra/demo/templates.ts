// The demo shops as tenant templates (activities/tenant/templates.ts): the start-up seeding of the demo
// tenants and `POST /v1/admin/tenants` with a `template` both use them, injected by the wiring.
import type { TenantTemplates } from '../../activities/tenant/templates.ts';
import { DEMO_TENANTS } from './demo-tenants.ts';
import { generateTenantData } from './generator.ts';
import { kbDocumentsFor } from './kb-documents.ts';

/** acme and globex: generated shop data (same name and anchor day, same rows) and six policy documents each. */
export const demoTemplates: TenantTemplates = {
  names: DEMO_TENANTS,
  rows: (template, opts) => generateTenantData(template, opts),
  documents: (template) => kbDocumentsFor(template),
};
