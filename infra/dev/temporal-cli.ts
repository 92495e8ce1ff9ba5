import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger.ts';

/** The last tag installable with `go install` (later tags carry a replace directive). */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const GO_PACKAGE = `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`;

export interface FindCliOptions {
  /** `$TEMPORAL_CLI`: an explicit binary. */
  explicitPath?: string;
  /** Folder for the cached build. */
  cacheDir: string;
  log: Logger;
  /** Allow `go install` when nothing else is found (default true). */
  build?: boolean;
}

/** Where to find the CLI, or `null` when only the SDK's own download is left. */
export type CliLocation = { path: string; source: 'env' | 'path' | 'cache' | 'built' } | null;

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function goBinary(): string | undefined {
  return onPath('go') ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
}

/** The cached build's path for a cache folder. */
export function cachedCliPath(cacheDir: string): string {
  return path.join(cacheDir, `temporal-cli-${TEMPORAL_CLI_VERSION}`, 'temporal');
}

/**
 * Finds the `temporal` CLI: `$TEMPORAL_CLI`, then `temporal` on PATH, then a cached build,
 * then builds it with `go install` (minutes the first time; progress is logged).
 */
export async function findOrBuildTemporalCli(opts: FindCliOptions): Promise<CliLocation> {
  const { log } = opts;
  if (opts.explicitPath) {
    if (!isExecutable(opts.explicitPath)) throw new Error(`TEMPORAL_CLI=${opts.explicitPath} is not an executable file`);
    return { path: opts.explicitPath, source: 'env' };
  }
  const fromPath = onPath('temporal');
  if (fromPath) return { path: fromPath, source: 'path' };
  const cached = cachedCliPath(opts.cacheDir);
  if (isExecutable(cached)) return { path: cached, source: 'cache' };
  if (opts.build === false) return null;
  const go = goBinary();
  if (!go) {
    log.warn('no temporal CLI and no Go toolchain: falling back to the SDK download (needs internet)');
    return null;
  }
  await goInstall(go, cached, log);
  return { path: cached, source: 'built' };
}

async function goInstall(go: string, target: string, log: Logger): Promise<void> {
  mkdirSync(path.dirname(target), { recursive: true });
  // Build into a temp folder next to the target and rename, so a killed build never leaves a half binary.
  const tmp = mkdtempSync(path.join(path.dirname(target), '.build-'));
  log.info({ package: GO_PACKAGE, target }, 'building the temporal CLI with go install (first run only; takes a few minutes)');
  const started = Date.now();
  let downloaded = 0;
  let compiled = 0;
  const child = spawn(go, ['install', '-v', GO_PACKAGE], {
    env: { ...process.env, GOBIN: tmp, GOFLAGS: process.env.GOFLAGS ?? '-mod=mod' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const onLine = (line: string) => {
    if (line.startsWith('go: downloading')) downloaded++;
    else if (line.trim()) compiled++;
    tail = (tail + line + '\n').slice(-4000);
  };
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buf += chunk;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      lines.forEach(onLine);
    });
  }
  const ticker = setInterval(() => {
    const s = Math.round((Date.now() - started) / 1000);
    log.info({ seconds: s, modulesDownloaded: downloaded, packagesCompiled: compiled }, 'still building the temporal CLI');
  }, 10_000);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', resolve);
    });
    if (code !== 0) throw new Error(`go install ${GO_PACKAGE} failed (exit ${code}):\n${tail}`);
    renameSync(path.join(tmp, 'temporal'), target);
    log.info({ seconds: Math.round((Date.now() - started) / 1000), target }, 'temporal CLI built and cached');
  } finally {
    clearInterval(ticker);
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Version line of a CLI binary, for logs. */
export function cliVersion(cli: string): string {
  try {
    return execFileSync(cli, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Default cache folder: `$TEMPORAL_CLI_CACHE_DIR` or `<repo>/.tools` (git-ignored). */
export function defaultCliCacheDir(repoRoot: string, configured?: string): string {
  return configured ? path.resolve(configured) : path.join(repoRoot, '.tools');
}
