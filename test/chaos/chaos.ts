// `npm run chaos`: starts the split deployment on loopback (test/chaos/deployment.ts), runs each fault with
// a few slow turns in flight (test/chaos/faults.ts) and prints the table. Bounded: about 90 s per fault at
// most, and every process it started is stopped at the end. `npm run chaos -- redis worker` runs some.
import { parseArgs } from 'node:util';
import { chaosTable, FAULTS, runFault, slowAnswers, type FaultName, type FaultRow } from './faults.ts';
import { startSplitDeployment } from './deployment.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { turns: { type: 'string', default: '4' }, outage: { type: 'string', default: '3000' }, logs: { type: 'string' } },
});
const all = Object.keys(FAULTS) as FaultName[];
const faults = positionals.length ? (positionals as FaultName[]) : all;
for (const f of faults) {
  if (!all.includes(f)) {
    console.error(`unknown fault "${f}"; one of: ${all.join(', ')}`);
    process.exit(2);
  }
}

console.log(`starting the split deployment (Redis, Temporal, PGlite, offline model, 2 workers, API) on loopback...`);
const dep = await startSplitDeployment(values.logs ? { logDir: values.logs } : {});
const rows: FaultRow[] = [];
try {
  await slowAnswers(dep);
  for (const fault of faults) {
    process.stdout.write(`fault: ${FAULTS[fault].label} ... `);
    const endedTurn = rows.at(-1)?.turnRefs[0];
    const row = await runFault(dep, fault, { turns: Number(values.turns), outageMs: Number(values.outage), ...(endedTurn ? { endedTurn } : {}) });
    rows.push(row);
    console.log(row.ok ? `ok (longest pause ${row.maxPauseMs} ms)` : `NOT OK: ${row.problems.join('; ')}`);
  }
} finally {
  await dep.close();
}
console.log(`\n${chaosTable(rows)}\n`);
console.log(`${rows.filter((r) => r.ok).length} passed, ${rows.filter((r) => !r.ok).length} failed`);
process.exit(rows.every((r) => r.ok) ? 0 : 1);
