import { MockActivityEnvironment } from '@temporalio/testing';

/** Runs an activity in a MockActivityEnvironment with its result type kept (the SDK's generic loses it). */
export function activityRunner(env = new MockActivityEnvironment()) {
  return <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> => env.run(fn, ...args) as Promise<R>;
}
