// The admission checks on Redis, as a split deployment's API replicas share them: the same contract as the
// in-process store (test/helpers/admission-contract.ts), each run under a prefix of its own.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createRedisAdmissionStore } from '../../activities/admission/redis-store.ts';
import { admissionContract } from '../helpers/admission-contract.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

admissionContract('Redis', async () => {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const prefix = `test:admit:${randomUUID().slice(0, 8)}:`;
  return {
    store: createRedisAdmissionStore(redis, prefix),
    close: async () => {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length) await redis.unlink(...keys);
      } while (cursor !== '0');
      redis.disconnect();
    },
  };
});
