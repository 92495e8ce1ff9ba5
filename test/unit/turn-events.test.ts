import { createMemoryTurnEventBus } from '../../activities/turn-events/bus.ts';
import { turnEventBusContract } from '../helpers/contracts.ts';

turnEventBusContract('in-process', () => createMemoryTurnEventBus(3600));
