// The key that signs chart URLs. Production takes it from CHART_URL_SECRET (every API replica the same);
// development makes one on first start and keeps it in DATA_DIR, so URLs handed out before a restart still
// work after it.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, type Config } from './config.ts';

/** File name of the development key in DATA_DIR. */
export const CHART_URL_SECRET_FILE = 'chart-url-secret';

/**
 * The chart URL signing key: CHART_URL_SECRET, or (outside production) the one kept in
 * DATA_DIR/chart-url-secret, made on first use with mode 0600. Production without it is a ConfigError.
 */
export function chartUrlSecret(config: Pick<Config, 'CHART_URL_SECRET' | 'NODE_ENV' | 'DATA_DIR'>): string {
  if (config.CHART_URL_SECRET) return config.CHART_URL_SECRET;
  if (config.NODE_ENV === 'production') {
    const msg =
      'CHART_URL_SECRET: required when NODE_ENV=production (the key that signs chart URLs; at least 32 characters, ' +
      'the same on every API replica), e.g. CHART_URL_SECRET=$(openssl rand -base64 48)';
    throw new ConfigError(msg, [msg]);
  }
  const file = path.join(config.DATA_DIR, CHART_URL_SECRET_FILE);
  mkdirSync(config.DATA_DIR, { recursive: true });
  try {
    writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { flag: 'wx', mode: 0o600 });
  } catch (err) {
    // Made by an earlier start (or a process starting beside this one): keep it.
    if ((err as { code?: string }).code !== 'EEXIST') throw err;
  }
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  const secret = readFileSync(file, 'utf8').trim();
  if (secret.length < 32) throw new ConfigError(`${file}: the chart URL key is shorter than 32 characters; delete the file to make a new one`, []);
  return secret;
}
