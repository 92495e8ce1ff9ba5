// The demo tenants the product ships with (acme, globex): their rows in the app store and, outside
// production, their documented development keys.
import type pg from 'pg';
import { hashApiKey } from '../api-keys.ts';
import type { Config } from '../config.ts';

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

/** Creates the demo tenants; registers dev keys (the tenants' and the admin's) only outside production. */
export async function ensureDemoTenants(pool: pg.Pool, config: Config): Promise<void> {
  if (config.NODE_ENV !== 'production') {
    await pool.query(
      `INSERT INTO admin_keys (key_hash, label, dev) VALUES ($1, 'development admin key', true) ON CONFLICT (key_hash) DO NOTHING`,
      [hashApiKey(DEV_ADMIN_KEY)],
    );
  }
  for (const [id, name] of Object.entries(DEMO_TENANT_NAMES)) {
    await pool.query('INSERT INTO tenants (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [id, name]);
    const devKey = DEV_KEYS[id];
    if (config.NODE_ENV !== 'production' && devKey) {
      await pool.query(
        `INSERT INTO api_keys (key_hash, tenant_id, label, dev) VALUES ($1, $2, 'development key', true)
         ON CONFLICT (key_hash) DO NOTHING`,
        [hashApiKey(devKey), id],
      );
    }
  }
}
