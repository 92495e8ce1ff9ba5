// Admission counts in Redis, shared by every API replica and worker of a split deployment: one Lua script
// decides and records a turn atomically (one round trip), another frees it when its terminal event is written.
// Keys (prefix `turnflow:admit:`): `run:all`, `run:t:<tenant>`, `run:k:<tenant>:<key id>`, `run:p:<process>`
// (sorted sets of workflow ids scored by expiry: a lapsed member is dropped before counting), `tat:t:<tenant>`,
// `tat:k:<tenant>:<key id>` (GCRA), `budget:<tenant>:<UTC day>` (hash: tokens, cost; kept 2 days),
// `ticket:<workflow id>` (whose slots a turn holds), `workers` (hash: worker id → "<bound> <expiry ms>").
// The release script names keys it derives from the ticket, so this needs one Redis node (or a cluster with
// every key on one slot), as the rest of the product's Redis use does.
import type { Redis } from 'ioredis';
import { msUntilNextUtcDay, utcDay, type AdmissionStore, type AdmitRequest, type AdmitResult, type LimitName } from './limits.ts';

/** The default key prefix (tests use one of their own). */
export const ADMISSION_KEY_PREFIX = 'turnflow:admit:';

const BUDGET_TTL_MS = 2 * 86_400_000;
/** A GCRA state lapses after a minute at most (its time is at most a minute ahead); two, for clock skew. */
const TAT_TTL_MS = 120_000;

// KEYS: run:all, run:t, run:k, run:p, tat:t, tat:k, budget, ticket, workers.
// ARGV: now, workflow id, expiry, maxInFlight, maxRunning, dailyTokens, dailyCost, tenant concurrency, key
// concurrency, tenant rate, key rate, ticket, ticket ttl (ms); -1 = no limit.
// Returns false (admitted), {'held'} (the workflow id already holds its slots), or {limit, value, retry-after
// ms (-1: the next UTC day)}. Every check reads before anything is written: a refusal records nothing.
// Mirrors createMemoryAdmissionStore and deploymentCapacity (limits.ts); the shared contract tests hold both.
const ADMIT_LUA = `
local now = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[8]) == 1 then return {'held'} end
for i = 1, 4 do redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now) end
local function full(key, max)
  return max >= 0 and redis.call('ZCARD', key) >= max
end
if full(KEYS[4], tonumber(ARGV[4])) then return {'process.inFlight', ARGV[4], '1000'} end
local live, sum, unbounded = 0, 0, false
local workers = redis.call('HGETALL', KEYS[9])
for i = 1, #workers, 2 do
  local bound, expires = string.match(workers[i + 1], '^(%d+) (%d+)$')
  if not bound or tonumber(expires) <= now then
    redis.call('HDEL', KEYS[9], workers[i])
  else
    live = live + 1
    if tonumber(bound) == 0 then unbounded = true else sum = sum + tonumber(bound) end
  end
end
local capacity = -1
if live > 0 and not unbounded then capacity = sum end
local cap = tonumber(ARGV[5])
if cap >= 0 and (capacity < 0 or cap < capacity) then capacity = cap end
if full(KEYS[1], capacity) then return {'deployment.running', tostring(capacity), '1000'} end
local tokens = tonumber(redis.call('HGET', KEYS[7], 'tokens') or '0')
local cost = tonumber(redis.call('HGET', KEYS[7], 'cost') or '0')
if tonumber(ARGV[6]) >= 0 and tokens >= tonumber(ARGV[6]) then return {'tenant.dailyTokens', ARGV[6], '-1'} end
if tonumber(ARGV[7]) >= 0 and cost >= tonumber(ARGV[7]) then return {'tenant.dailyCostUsd', ARGV[7], '-1'} end
if full(KEYS[2], tonumber(ARGV[8])) then return {'tenant.concurrentTurns', ARGV[8], '1000'} end
if full(KEYS[3], tonumber(ARGV[9])) then return {'key.concurrentTurns', ARGV[9], '1000'} end
local function gcra(key, rate)
  if rate < 0 then return -1, 0 end
  local interval = 60000 / rate
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  if tat - now > 60000 - interval then return -1, tat - now - (60000 - interval) end
  return tat + interval, 0
end
local tenantTat, tenantWait = gcra(KEYS[5], tonumber(ARGV[10]))
if tenantWait > 0 then return {'tenant.turnsPerMinute', ARGV[10], tostring(math.ceil(tenantWait))} end
local keyTat, keyWait = gcra(KEYS[6], tonumber(ARGV[11]))
if keyWait > 0 then return {'key.turnsPerMinute', ARGV[11], tostring(math.ceil(keyWait))} end
if tenantTat >= 0 then redis.call('SET', KEYS[5], string.format('%.3f', tenantTat), 'PX', ${TAT_TTL_MS}) end
if keyTat >= 0 then redis.call('SET', KEYS[6], string.format('%.3f', keyTat), 'PX', ${TAT_TTL_MS}) end
for i = 1, 4 do
  redis.call('ZADD', KEYS[i], ARGV[3], ARGV[2])
  if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[13]) then redis.call('PEXPIRE', KEYS[i], ARGV[13]) end
end
redis.call('SET', KEYS[8], ARGV[12], 'PX', ARGV[13])
return false`;

// KEYS: ticket. ARGV: workflow id, tokens, cost, UTC day, prefix. Frees the slots the ticket names and adds
// what the turn used to its tenant's day; 0 when the ticket is gone (released already, or lapsed).
const RELEASE_LUA = `
local ticket = redis.call('GET', KEYS[1])
if not ticket then return 0 end
local tenant, key, process = string.match(ticket, '^(.-)\\n(.-)\\n(.*)$')
local p = ARGV[5]
redis.call('ZREM', p .. 'run:all', ARGV[1])
redis.call('ZREM', p .. 'run:t:' .. tenant, ARGV[1])
redis.call('ZREM', p .. 'run:k:' .. tenant .. ':' .. key, ARGV[1])
redis.call('ZREM', p .. 'run:p:' .. process, ARGV[1])
redis.call('DEL', KEYS[1])
if tonumber(ARGV[2]) > 0 or tonumber(ARGV[3]) > 0 then
  local budget = p .. 'budget:' .. tenant .. ':' .. ARGV[4]
  redis.call('HINCRBY', budget, 'tokens', ARGV[2])
  redis.call('HINCRBYFLOAT', budget, 'cost', ARGV[3])
  redis.call('PEXPIRE', budget, ${BUDGET_TTL_MS})
end
return 1`;

const num = (x: number | null) => String(x ?? -1);

/** Live workers' bounds from the `workers` hash ("<bound> <expiry ms>"); lapsed entries are skipped. */
function liveBounds(entries: Record<string, string> | null | undefined, now: number): number[] {
  const bounds: number[] = [];
  for (const value of Object.values(entries ?? {})) {
    const [bound, expires] = value.split(' ').map(Number);
    if (Number.isInteger(bound) && Number(expires) > now) bounds.push(bound!);
  }
  return bounds;
}

type Replies<T extends unknown[]> = { [K in keyof T]: [Error | null, T[K]] };

/** Runs a MULTI and returns its replies, throwing the first command's error. */
async function exec<T extends unknown[]>(multi: ReturnType<Redis['multi']>): Promise<T> {
  const replies = (await multi.exec()) as Replies<T> | null;
  if (!replies) throw new Error('Redis MULTI was discarded');
  for (const [err] of replies) if (err) throw err;
  return replies.map(([, value]) => value) as T;
}

/** The store on a Redis connection (the process's own; the scripts are loaded once and run by their SHA). */
export function createRedisAdmissionStore(redis: Redis, prefix = ADMISSION_KEY_PREFIX): AdmissionStore {
  redis.defineCommand('turnflowAdmit', { numberOfKeys: 9, lua: ADMIT_LUA });
  redis.defineCommand('turnflowRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
  const r = redis as Redis & {
    turnflowAdmit(...args: (string | number)[]): Promise<string[] | null>;
    turnflowRelease(...args: (string | number)[]): Promise<number>;
  };
  const workersKey = `${prefix}workers`;
  return {
    async admit(q: AdmitRequest): Promise<AdmitResult> {
      const l = q.limits;
      const ticketTtl = Math.max(1000, q.expiresAt - q.now);
      const out = await r.turnflowAdmit(
        `${prefix}run:all`,
        `${prefix}run:t:${q.tenantId}`,
        `${prefix}run:k:${q.tenantId}:${q.keyId}`,
        `${prefix}run:p:${q.processId}`,
        `${prefix}tat:t:${q.tenantId}`,
        `${prefix}tat:k:${q.tenantId}:${q.keyId}`,
        `${prefix}budget:${q.tenantId}:${utcDay(q.now)}`,
        `${prefix}ticket:${q.workflowId}`,
        workersKey,
        q.now,
        q.workflowId,
        q.expiresAt,
        num(q.maxInFlight),
        num(q.maxRunning),
        num(l.dailyTokens),
        num(l.dailyCostUsd),
        num(l.concurrentTurns),
        num(l.perKey.concurrentTurns),
        num(l.turnsPerMinute),
        num(l.perKey.turnsPerMinute),
        `${q.tenantId}\n${q.keyId}\n${q.processId}`,
        ticketTtl,
      );
      if (!out) return { ok: true, held: false };
      if (out[0] === 'held') return { ok: true, held: true };
      const wait = Number(out[2]);
      return { ok: false, limit: out[0] as LimitName, value: Number(out[1]), retryAfterMs: wait < 0 ? msUntilNextUtcDay(q.now) : wait };
    },

    async release(workflowId, used, now) {
      const n = await r.turnflowRelease(`${prefix}ticket:${workflowId}`, workflowId, Math.round(used?.tokens ?? 0), used?.costUsd ?? 0, utcDay(now), prefix);
      return n === 1;
    },

    async usage(tenantId, now) {
      const running = `${prefix}run:t:${tenantId}`;
      const [, count, budget] = await exec<[number, number, Record<string, string>]>(
        redis.multi().zremrangebyscore(running, '-inf', now).zcard(running).hgetall(`${prefix}budget:${tenantId}:${utcDay(now)}`),
      );
      return { running: count, tokensToday: Number(budget?.tokens ?? 0), costUsdToday: Number(budget?.cost ?? 0) };
    },

    async load(processId, now) {
      const mine = `${prefix}run:p:${processId}`;
      const all = `${prefix}run:all`;
      const [, inFlight, , running, workers] = await exec<[number, number, number, number, Record<string, string>]>(
        redis.multi().zremrangebyscore(mine, '-inf', now).zcard(mine).zremrangebyscore(all, '-inf', now).zcard(all).hgetall(workersKey),
      );
      return { inFlight, running, workerBounds: liveBounds(workers, now) };
    },

    async registerWorker(workerId, maxTurns, now, ttlMs) {
      // The hash outlives its last live worker by one TTL at most; each entry carries its own expiry.
      await exec(redis.multi().hset(workersKey, workerId, `${maxTurns} ${now + ttlMs}`).pexpire(workersKey, ttlMs));
    },

    async unregisterWorker(workerId) {
      await redis.hdel(workersKey, workerId);
    },
  };
}
