import { condition, defineSignal, proxyLocalActivities, setHandler, sleep } from '@temporalio/workflow';
const go = defineSignal('go');
const { mark } = proxyLocalActivities<{ mark(): Promise<number> }>({ startToCloseTimeout: '5s' });
export async function pinned(): Promise<string> {
  let ok = false;
  setHandler(go, () => void (ok = true));
  await sleep(10); // a new command before the wait: incompatible with A's histories
  await condition(() => ok);
  return 'B';
}
export async function quick(): Promise<number> { return mark(); }
