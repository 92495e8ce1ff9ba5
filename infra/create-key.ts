// `npm run create-key -- <tenant> [label]`: creates an API key for a tenant; prints it once, stores its hash.
import { randomBytes } from 'node:crypto';
import { hashApiKey, migrate, openAppStore } from './app-store.ts';
import { loadConfig } from './config.ts';
import { createLogger } from './logger.ts';

const [tenantId, label = 'created by create-key'] = process.argv.slice(2);
if (!tenantId) {
  console.error('usage: npm run create-key -- <tenant id> [label]');
  process.exit(2);
}
const config = loadConfig();
const log = createLogger('warn');
const store = await openAppStore(config, log);
try {
  await migrate(store.pool, log);
  const tenant = await store.pool.query('SELECT 1 FROM tenants WHERE id = $1', [tenantId]);
  if (!tenant.rowCount) {
    console.error(`unknown tenant "${tenantId}"`);
    process.exitCode = 1;
  } else {
    // Prefix "tf_" so keys are recognisable in secret scanners; never "dev-", which production refuses.
    const key = `tf_${randomBytes(24).toString('base64url')}`;
    await store.pool.query('INSERT INTO api_keys (key_hash, tenant_id, label) VALUES ($1, $2, $3)', [hashApiKey(key), tenantId, label]);
    console.log(key);
  }
} finally {
  await store.close();
}
