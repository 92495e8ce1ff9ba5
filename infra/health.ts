// A process's view of its dependencies, for /healthz and the turnflow_dependency_up gauge.

/** Runs each probe with a 2 s bound: `ok`, or `down: <why>`. */
export async function probeAll(probes: Record<string, () => Promise<unknown>>): Promise<Record<string, string>> {
  const checks: Record<string, string> = {};
  await Promise.all(
    Object.entries(probes).map(async ([name, fn]) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([fn(), new Promise((_, rej) => (timer = setTimeout(() => rej(new Error('timeout')), 2000)))]);
        checks[name] = 'ok';
      } catch (err) {
        checks[name] = `down: ${(err as Error).message}`;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return checks;
}
