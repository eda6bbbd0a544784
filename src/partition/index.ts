// Public surface of the partition layer (docs/partitions.md): the deterministic application of a
// partition's Raft group, hosting the queue machines of its queues.
export { PartitionMachine } from './machine.js';
export type { ApplyOptions, CheckedOutView, EntryInput, PartitionMachineOptions, QueueView } from './machine.js';
export { PartitionApp, type PartitionResult } from './app.js';
export { decodeBatch, decodeEnqueue, decodeRecord, encodeBatch, encodeEnqueue, type MessageRecord } from './codec.js';
export { deadLetterMessage, deadLetterSession, publishedMessage, storedMessage } from './deadletter.js';
export { readRecord, readRecords } from './read.js';
export { ownerId, splitOwnerId } from './queue.js';
export { AccountingChecker, InvariantError } from './invariants.js';
export { MemoryAppStore, MemoryApplyBatch } from './memory.js';
export type * from './types.js';
