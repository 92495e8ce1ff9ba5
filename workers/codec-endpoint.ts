// `npm run codec-endpoint -- <API base URL>`: prints the codec endpoints of a deployment with this environment's
// payload keys (PAYLOAD_KEYS, or the development key in DATA_DIR): the CLI's, and the Web UI's, whose path carries
// the secret token (CODEC_UI_TOKEN, or derived from the first key), so an operator can configure the Web UI.
import { ConfigError, loadConfig } from '../infra/config.ts';
import { CODEC_PATH, codecUiEndpoint, codecUiToken, resolvePayloadKeys } from '../infra/payload-keys.ts';

const base = (process.argv[2] ?? `http://127.0.0.1:${process.env.PORT || 3000}`).replace(/\/+$/, '');
if (!/^https?:\/\/[^/]+$/.test(base)) {
  console.error('usage: npm run codec-endpoint -- <API base URL, e.g. https://chat-api.example.com>');
  process.exit(2);
}
let config;
try {
  config = loadConfig();
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(2);
}
const { keys, source, file } = resolvePayloadKeys(config);
console.log(`payload keys   ${source === 'env' ? 'PAYLOAD_KEYS' : `development key in ${file}`} (ids: ${keys.map((k) => k.id).join(', ')}; the first encrypts)`);
console.log(`CLI            temporal workflow show --workflow-id <id> --codec-endpoint ${base}${CODEC_PATH} --codec-auth 'Bearer <admin key>'`);
if (config.CODEC_CORS_ORIGINS.length === 0) {
  console.log('Web UI         off: set CODEC_CORS_ORIGINS to the Web UI\'s origin on the API');
} else {
  console.log(`Web UI         ${codecUiEndpoint(base, codecUiToken(config, keys))}`);
  console.log(`               (a secret: it decodes every turn; allowed origins: ${config.CODEC_CORS_ORIGINS.join(', ')})`);
}
