// Barrel for the worker's `workflowsPath`: every workflow the chat-turn worker runs.
export { chatTurn } from './chat-turn.ts';
export { provisionTenant } from './provision-tenant.ts';
