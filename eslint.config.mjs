// Lint: TypeScript rules everywhere, and determinism rules for workflow code (as in Temporal's samples):
// workflows/ may import only @temporalio/workflow, @temporalio/common, its own shared folder and
// `import type` from activities/ — never Node builtins, infra/, api/ or workers/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert', 'async_hooks', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises',
  'http', 'http2', 'https', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream', 'timers', 'tls', 'url',
  'util', 'v8', 'vm', 'worker_threads', 'zlib',
];

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
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.flatMap((m) => [
            { name: m, message: 'Workflow code is deterministic and sandboxed: no Node builtins.' },
            { name: `node:${m}`, message: 'Workflow code is deterministic and sandboxed: no Node builtins.' },
          ]),
          patterns: [
            { group: ['**/infra/**', '**/api/**', '**/workers/**'], message: 'Workflows must not import infra/, api/ or workers/ (I/O, clients).' },
            { group: ['**/activities/**'], allowTypeImports: true, message: 'Workflows may only `import type` from activities/.' },
            { group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity', 'pg', 'ioredis', 'express', 'openai', '@anthropic-ai/sdk'], message: 'Not in workflow code.' },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'No process.env in workflows: pass configuration as input.' }, { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' }],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'Not deterministic: use uuid4() or workflowRandom.' }, { object: 'console', property: 'log', message: 'Use log from @temporalio/workflow.' }],
    },
  },
  {
    // The offline model is a stand-in for the providers: only wiring (workers/) and tests may start or import it.
    files: ['activities/**/*.ts', 'api/**/*.ts', 'infra/**/*.ts'],
    ignores: ['infra/offline-model/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/offline-model/**'], message: 'Only workers/ (wiring) and test/ import the offline model.' }] }],
    },
  },
  {
    // The API process loads no worker code: no Temporal worker, no worker wiring, no seeding, no offline model.
    files: ['api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/workers/**', '**/infra/seed/**', '**/offline-model/**'], message: 'The API must not load worker code (workers/, seeding, the offline model).' },
            { group: ['@temporalio/worker', '@temporalio/testing'], message: 'The API must not load the Temporal worker.' },
            { group: ['**/activities/index.ts', '**/activities/*/activities.ts'], allowTypeImports: true, message: 'The API may use capability stores and pure logic, not the activities.' },
          ],
        },
      ],
    },
  },
);
