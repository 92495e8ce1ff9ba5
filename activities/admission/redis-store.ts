// Admission counts in Redis, shared by every API replica of a split deployment: one Lua script decides and
// records a turn atomically (one round trip), another frees it when its terminal event is written.
// Keys (prefix `turnflow:admit:`): `run:all`, `run:t:<tenant>`, `run:k:<key id>`, `run:p:<process>` (sorted
// sets of workflow ids scored by expiry), `tat:t:<tenant>`, `tat:k:<key id>` (GCRA), `budget:<tenant>:<day>`
// (hash: tokens, cost), `ticket:<workflow id>`. The scripts name keys they derive, so this needs one Redis
// node (or a cluster with every key on one slot), as the rest of the product's Redis use does.
import type { Redis } from 'ioredis';
import { msUntilNextUtcDay, utcDay, type AdmissionStore, type AdmitRequest, type AdmitResult, type LimitName } from './limits.ts';

const PREFIX = 'turnflow:admit:';

// ARGV: now, workflow id, expiry, maxInFlight, maxRunning, dailyTokens, dailyCost, tenant concurrency, key
// concurrency, tenant rate, key rate, ticket, ticket ttl (ms); -1 = no limit. Returns false (admitted) or
// {limit, value, retry-after ms (-1: the next UTC day)}.
const ADMIT_LUA = `
local now = tonumber(ARGV[1])
for i = 1, 4 do redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now) end
local function full(key, max)
  return max >= 0 and redis.call('ZCARD', key) >= max
end
if full(KEYS[4], tonumber(ARGV[4])) then return {'process.inFlight', ARGV[4], '1000'} end
if full(KEYS[1], tonumber(ARGV[5])) then return {'deployment.running', ARGV[5], '1000'} end
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
if tenantTat >= 0 then redis.call('SET', KEYS[5], string.format('%.3f', tenantTat), 'PX', 120000) end
if keyTat >= 0 then redis.call('SET', KEYS[6], string.format('%.3f', keyTat), 'PX', 120000) end
for i = 1, 4 do
  redis.call('ZADD', KEYS[i], ARGV[3], ARGV[2])
  redis.call('PEXPIRE', KEYS[i], ARGV[13])
end
redis.call('SET', KEYS[8], ARGV[12], 'PX', ARGV[13])
return false`;

// KEYS: ticket. ARGV: workflow id, tokens, cost, day, prefix. Frees the slots named by the ticket.
const RELEASE_LUA = `
local ticket = redis.call('GET', KEYS[1])
if not ticket then return 0 end
local tenant, key, process = string.match(ticket, '^(.-)\\n(.-)\\n(.*)$')
local p = ARGV[5]
redis.call('ZREM', p .. 'run:all', ARGV[1])
redis.call('ZREM', p .. 'run:t:' .. tenant, ARGV[1])
redis.call('ZREM', p .. 'run:k:' .. key, ARGV[1])
redis.call('ZREM', p .. 'run:p:' .. process, ARGV[1])
redis.call('DEL', KEYS[1])
if tonumber(ARGV[2]) > 0 or tonumber(ARGV[3]) > 0 then
  local budget = p .. 'budget:' .. tenant .. ':' .. ARGV[4]
  redis.call('HINCRBY', budget, 'tokens', ARGV[2])
  redis.call('HINCRBYFLOAT', budget, 'cost', ARGV[3])
  redis.call('PEXPIRE', budget, 172800000)
end
return 1`;

const num = (x: number | null) => String(x ?? -1);

/** The store on a Redis connection (the API's own; the scripts are loaded once and run by their SHA). */
export function createRedisAdmissionStore(redis: Redis, prefix = PREFIX): AdmissionStore {
  redis.defineCommand('turnflowAdmit', { numberOfKeys: 8, lua: ADMIT_LUA });
  redis.defineCommand('turnflowRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
  const r = redis as Redis & {
    turnflowAdmit(...args: (string | number)[]): Promise<[string, string, string] | null>;
    turnflowRelease(...args: (string | number)[]): Promise<number>;
  };
  return {
    async admit(q: AdmitRequest): Promise<AdmitResult> {
      const l = q.limits;
      const ticketTtl = Math.max(1000, q.expiresAt - q.now);
      const out = await r.turnflowAdmit(
        `${prefix}run:all`,
        `${prefix}run:t:${q.tenantId}`,
        `${prefix}run:k:${q.keyId}`,
        `${prefix}run:p:${q.processId}`,
        `${prefix}tat:t:${q.tenantId}`,
        `${prefix}tat:k:${q.keyId}`,
        `${prefix}budget:${q.tenantId}:${utcDay(q.now)}`,
        `${prefix}ticket:${q.workflowId}`,
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
      if (!out) return { ok: true };
      const wait = Number(out[2]);
      return { ok: false, limit: out[0] as LimitName, value: Number(out[1]), retryAfterMs: wait < 0 ? msUntilNextUtcDay(q.now) : wait };
    },

    async release(workflowId, used, now) {
      const n = await r.turnflowRelease(`${prefix}ticket:${workflowId}`, workflowId, Math.round(used?.tokens ?? 0), used?.costUsd ?? 0, utcDay(now), prefix);
      return n === 1;
    },

    async usage(tenantId, now) {
      const [[, , ], [, running], [, budget]] = (await redis
        .multi()
        .zremrangebyscore(`${prefix}run:t:${tenantId}`, '-inf', now)
        .zcard(`${prefix}run:t:${tenantId}`)
        .hgetall(`${prefix}budget:${tenantId}:${utcDay(now)}`)
        .exec()) as [[Error | null, unknown], [Error | null, number], [Error | null, Record<string, string>]];
      return { running, tokensToday: Number(budget?.tokens ?? 0), costUsdToday: Number(budget?.cost ?? 0) };
    },
  };
}
