// Where the payload keys come from: PAYLOAD_KEYS, or (outside production) a development key generated once
// and kept in DATA_DIR, so `npm start`, split dev processes on one machine and restarts all read the same
// histories. Also the codec endpoint's Web UI token, which is derived from the keys unless set.
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { PayloadCodec } from '@temporalio/common';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { createPayloadCodec, formatPayloadKeys, parsePayloadKeys, type PayloadKey } from './payload-codec.ts';

/** File under DATA_DIR holding the development key (`id:base64`, mode 0600). */
export const DEV_KEY_FILE = 'payload-keys';

/** Path of the codec endpoint the CLI calls with `--codec-auth 'Bearer <admin key>'`. */
export const CODEC_PATH = '/v1/codec';
/** Prefix of the Web UI's codec endpoint: `/v1/codec/ui/<token>` (the browser cannot send a Bearer key). */
export const CODEC_UI_PATH = '/v1/codec/ui';

/** The deployment's payload keys, their codec, and where the keys came from (for logs, never the keys). */
export interface PayloadKeys {
  keys: readonly PayloadKey[];
  codec: PayloadCodec;
  source: 'env' | 'dev-file';
  /** The development key file, when that is the source. */
  file?: string;
}

/**
 * PAYLOAD_KEYS, or outside production the development key in `DATA_DIR/payload-keys`, made on first use.
 * (Production without PAYLOAD_KEYS never gets here: loadConfig refuses it.)
 */
export function resolvePayloadKeys(config: Config, log?: Logger): PayloadKeys {
  if (config.PAYLOAD_KEYS) {
    log?.info({ keyIds: config.PAYLOAD_KEYS.map((k) => k.id) }, 'payloads encrypted in Temporal (PAYLOAD_KEYS)');
    return { keys: config.PAYLOAD_KEYS, codec: createPayloadCodec(config.PAYLOAD_KEYS), source: 'env' };
  }
  if (config.NODE_ENV === 'production') throw new Error('PAYLOAD_KEYS is required in production');
  const file = path.join(config.DATA_DIR, DEV_KEY_FILE);
  const keys = readOrCreateDevKey(file);
  log?.warn({ keyIds: keys.map((k) => k.id), file }, 'payloads encrypted with a DEVELOPMENT key kept in DATA_DIR; set PAYLOAD_KEYS in production');
  return { keys, codec: createPayloadCodec(keys), source: 'dev-file', file };
}

function readOrCreateDevKey(file: string): PayloadKey[] {
  mkdirSync(path.dirname(file), { recursive: true });
  const generated: PayloadKey = { id: `dev-${randomBytes(4).toString('hex')}`, key: randomBytes(32) };
  try {
    // `wx`: of two processes starting at once, one writes and the other reads what it wrote.
    writeFileSync(file, formatPayloadKeys([generated]) + '\n', { flag: 'wx', mode: 0o600 });
    return [generated];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  let content = readFileSync(file, 'utf8').trim();
  // A reader racing the writer may see the file before its line is written.
  for (let i = 0; !content && i < 50; i++) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    content = readFileSync(file, 'utf8').trim();
  }
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  try {
    return parsePayloadKeys(content);
  } catch (err) {
    throw new Error(`${file} (the development payload key) is invalid: ${(err as Error).message}; delete it only if no history encrypted with it matters`, { cause: err });
  }
}

/**
 * The secret path segment of the Web UI's codec endpoint: CODEC_UI_TOKEN, or an HMAC of the first key (so every
 * API replica with the same keys serves the same URL, and the URL reveals nothing about the key).
 */
export function codecUiToken(config: Pick<Config, 'CODEC_UI_TOKEN'>, keys: readonly PayloadKey[]): string {
  if (config.CODEC_UI_TOKEN) return config.CODEC_UI_TOKEN;
  return createHmac('sha256', keys[0]!.key).update('turnflow codec web-ui endpoint v1').digest('base64url');
}

/** The codec endpoint the Web UI is given (`--ui-codec-endpoint`), for an API at `apiBaseUrl`. */
export function codecUiEndpoint(apiBaseUrl: string, token: string): string {
  return `${apiBaseUrl.replace(/\/+$/, '')}${CODEC_UI_PATH}/${token}`;
}
