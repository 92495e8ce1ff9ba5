import { Context } from '@temporalio/activity';

/** Heartbeats go out on this timer, not per token: a slow first byte must not look like a dead worker. */
export const HEARTBEAT_EVERY_MS = 400;

/**
 * Runs `work`, heartbeating every `everyMs` while it runs when this is a regular activity (its heartbeat
 * timeout then notices a dead worker within about a second, instead of its start-to-close timeout); a local
 * activity lives and dies with its workflow task, so it only runs `work`.
 */
export async function whileBeating<T>(work: () => Promise<T>, everyMs = HEARTBEAT_EVERY_MS): Promise<T> {
  const ctx = Context.current();
  if (ctx.info.isLocal) return work();
  const timer = setInterval(() => ctx.heartbeat(), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
