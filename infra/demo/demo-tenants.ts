// The demo tenants the product ships with (acme, globex): names, starting settings and, outside
// production, their documented development keys (registered by the workers' wiring).

/** The demo tenants seeded at startup; each gets its own Postgres schema of the same name. */
export const DEMO_TENANTS = ['acme', 'globex'] as const;

/**
 * Settings the demo tenants start with (validated by the tenant settings schema when applied): their shop's
 * time zone, and each other's name as a denied topic, to show per-tenant guardrails.
 */
export const DEMO_TENANT_SETTINGS: Record<string, object> = {
  acme: { timeZone: 'America/New_York', guardrails: { deniedTopics: [{ name: 'competitors', phrases: ['globex', 'globex market'] }] } },
  globex: { timeZone: 'Europe/Berlin', guardrails: { deniedTopics: [{ name: 'competitors', phrases: ['acme', 'acme outfitters'] }] } },
};

/** The demo tenants and, outside production, their documented dev keys. */
export const DEMO_TENANT_NAMES: Record<string, string> = { acme: 'Acme Outfitters', globex: 'Globex Market' };
export const DEV_KEYS: Record<string, string> = { acme: 'dev-acme-key', globex: 'dev-globex-key' };
/** The documented development admin key (every tenant's stats), registered only outside production. */
export const DEV_ADMIN_KEY = 'dev-admin-key';
