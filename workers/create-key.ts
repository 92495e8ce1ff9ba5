// `npm run create-key -- <tenant> [label]`: creates an API key for a tenant; prints it once, stores its hash.
// `npm run create-key -- --admin [label]`: creates an admin key (every tenant's GET /v1/stats, no tenant route).
import { tenantExists } from '../activities/tenant/store.ts';
import { createAdminKey, createTenantKey } from '../infra/api-keys.ts';
import { loadConfig } from '../infra/config.ts';
import { migrate } from '../infra/db.ts';
// DATABASE_URL, or the embedded store `npm start` uses (DATA_DIR) on a development machine.
import { openAppStore } from '../infra/dev/embedded-store.ts';
import { createLogger } from '../infra/logger.ts';

const args = process.argv.slice(2);
const admin = args[0] === '--admin';
const [tenantId, label = admin ? 'admin key created by create-key' : 'created by create-key'] = admin ? [undefined, ...args.slice(1)] : args;
if (!admin && (!tenantId || tenantId.startsWith('-'))) {
  console.error('usage: npm run create-key -- <tenant id> [label]\n       npm run create-key -- --admin [label]');
  process.exit(2);
}
const config = loadConfig();
const log = createLogger('warn');
const store = await openAppStore(config, log);
try {
  await migrate(store.pool, log);
  if (admin) {
    console.log(await createAdminKey(store.pool, label));
  } else {
    if (!(await tenantExists(store.pool, tenantId!))) {
      console.error(`unknown tenant "${tenantId}"`);
      process.exitCode = 1;
    } else {
      console.log(await createTenantKey(store.pool, tenantId!, label));
    }
  }
} finally {
  await store.close();
}
