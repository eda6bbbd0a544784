// Public surface of the queue state machine (DESIGN.md §5). See docs/queue-machine.md.
export { QueueCore, QueueMachine, queueMessageModel, wholeMessageModel } from './machine.js';
export { parseQueueArgs, parseExpirationMs, MAX_EXPIRY_MS, MAX_SUPPORTED_PRIORITY } from './args.js';
export { deadLetter, isDeathCycle } from './deadletter.js';
export type * from './types.js';
