// The demo shops as tenant templates (the shape of `TenantTemplates` in activities/tenant/templates.ts,
// checked where the wiring injects them): the start-up seeding of the demo tenants and
// `POST /v1/admin/tenants` with a `template` both use them. Nothing of activities/ is imported here.
import { DEMO_TENANTS } from './demo-tenants.ts';
import { generateTenantData } from './generator.ts';
import { kbDocumentsFor } from './kb-documents.ts';

/** acme and globex: generated shop data (same name and anchor day, same rows) and six policy documents each. */
export const demoTemplates = {
  names: DEMO_TENANTS,
  rows: (template: string, opts: { anchorDate: Date }) => generateTenantData(template, opts),
  documents: (template: string) => kbDocumentsFor(template),
};
