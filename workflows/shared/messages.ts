import { defineQuery } from '@temporalio/workflow';
import type { TurnResult } from './contract.ts';

/** The turn's result once its `done` event is published (null before). */
export const turnResultQuery = defineQuery<TurnResult | null>('turnResult');
