import { condition, defineSignal, proxyLocalActivities, setHandler } from '@temporalio/workflow';
const go = defineSignal('go');
const { mark } = proxyLocalActivities<{ mark(): Promise<number> }>({ startToCloseTimeout: '5s' });
export async function pinned(): Promise<string> {
  let ok = false;
  setHandler(go, () => void (ok = true));
  await condition(() => ok);
  return 'A';
}
export async function quick(): Promise<number> { return mark(); }
