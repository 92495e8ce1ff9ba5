// Lint: TypeScript rules everywhere, determinism rules for workflow code (as in Temporal's samples), and
// the layout's import rules: who may load the dev runtime (infra/dev/), the demo content (infra/demo/) and
// worker code. Flat config replaces a rule per file rather than merging it, so every file group below gets
// exactly one `no-restricted-imports`, built from the restrictions that apply to it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert', 'async_hooks', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises',
  'http', 'http2', 'https', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream', 'timers', 'tls', 'url',
  'util', 'v8', 'vm', 'worker_threads', 'zlib',
];

// The dev runtime (offline model, Temporal CLI build and dev server, embedded PGlite) is for `npm start`,
// the split recipe's helpers and tests: loaded only by workers/dev.ts, dev-runtime.ts, offline-model.ts,
// create-key.ts and test/.
const noDevRuntime = {
  group: ['**/infra/dev/**', './dev/**', '../dev/**'],
  message: 'The dev runtime (infra/dev/) is loaded only by workers/dev*.ts, the dev tools and tests.',
};
// Demo content (infra/demo/) is loaded by the workers' wiring, which seeds an empty store at start-up;
// product logic gets templates injected and never imports it.
const noDemo = { group: ['**/infra/demo/**'], message: 'Demo content is injected by the wiring (workers/), not imported by product code.' };
// infra/ sits below the product: no arrow runs back up into activities/, api/ or workers/ (what the offline
// model needs of the product, its understanding rules and prompt readers, is passed in by the wiring), not even
// a type: the shapes it needs are declared where they are used and checked where the wiring passes them.
const noUpFromInfra = {
  group: ['**/activities/**', '**/api/**', '**/workers/**'],
  message: 'infra/ sits below the product: take what you need as a parameter.',
};

const restrictImports = (patterns, paths = []) => ({ 'no-restricted-imports': ['error', { paths, patterns }] });

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', '.tools/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // workflows/ may import only @temporalio/workflow, @temporalio/common, its own shared folder and
    // `import type` from activities/ — never Node builtins, infra/ (dev runtime and demo included), api/ or workers/.
    files: ['workflows/**/*.ts'],
    rules: {
      ...restrictImports(
        [
          { group: ['**/infra/**', '**/api/**', '**/workers/**'], message: 'Workflows must not import infra/, api/ or workers/ (I/O, clients).' },
          { group: ['**/activities/**'], allowTypeImports: true, message: 'Workflows may only `import type` from activities/.' },
          { group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity', 'pg', 'ioredis', 'express', 'openai', '@anthropic-ai/sdk'], message: 'Not in workflow code.' },
        ],
        nodeBuiltins.flatMap((m) => [
          { name: m, message: 'Workflow code is deterministic and sandboxed: no Node builtins.' },
          { name: `node:${m}`, message: 'Workflow code is deterministic and sandboxed: no Node builtins.' },
        ]),
      ),
      'no-restricted-globals': ['error', { name: 'process', message: 'No process.env in workflows: pass configuration as input.' }, { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' }],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'Not deterministic: use uuid4() or workflowRandom.' }, { object: 'console', property: 'log', message: 'Use log from @temporalio/workflow.' }],
    },
  },
  {
    files: ['activities/**/*.ts'],
    rules: restrictImports([noDevRuntime, noDemo]),
  },
  {
    // The API process loads no worker code: no Temporal worker, no worker wiring, no seeding, no dev runtime,
    // no chart renderer.
    files: ['api/**/*.ts'],
    rules: restrictImports([
      { group: ['**/workers/**'], message: 'The API must not load worker code.' },
      noDevRuntime,
      noDemo,
      { group: ['**/charts/render.ts'], message: "The API serves stored charts; rendering (vega, resvg) is the worker's." },
      { group: ['@temporalio/worker', '@temporalio/testing'], message: 'The API must not load the Temporal worker.' },
      { group: ['**/activities/index.ts', '**/activities/*/activities.ts'], allowTypeImports: true, message: 'The API may use capability stores and pure logic, not the activities.' },
    ]),
  },
  {
    // The chat page's scripts run in the browser as plain ES modules (no build step): browser globals only.
    files: ['api/chat-page/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        ['window', 'document', 'sessionStorage', 'fetch', 'crypto', 'AbortController', 'TextDecoder', 'setTimeout', 'clearTimeout', 'Intl', 'Node']
          .map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    files: ['infra/**/*.ts'],
    ignores: ['infra/dev/**'],
    rules: restrictImports([noDevRuntime, noUpFromInfra]),
  },
  {
    files: ['infra/dev/**/*.ts'],
    rules: restrictImports([noUpFromInfra]),
  },
  {
    // The production worker's entry and wiring.
    files: ['workers/worker.ts', 'workers/runtime.ts', 'workers/messaging.ts', 'workers/temporal-runtime.ts'],
    rules: restrictImports([noDevRuntime]),
  },
);
