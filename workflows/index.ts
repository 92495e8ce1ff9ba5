// Barrel for the worker's `workflowsPath`: every workflow the chat-turn worker runs.
export { chatTurn } from './chat-turn.ts';
export { provisionTenant } from './provision-tenant.ts';
export { recordCachedTurns } from './record-cached-turns.ts';
