// The pure Raft core's public surface. Drivers (src/owner, test/sim) import from here.
export * from './types.js';
export * from './errors.js';
export { RawNode, bootstrap } from './rawnode.js';
export type { Ready, SoftState, Status } from './rawnode.js';
export { StateType } from './raft.js';
export type { Config, ReadState } from './raft.js';
export { MemoryStorage, EMPTY_CONF_STATE, emptySnapshot } from './storage.js';
export type { Storage, InitialState } from './storage.js';
export { ConfChangeType, encodeConfChange, decodeConfChange, applyConfChange } from './confchange.js';
export type { ConfChange } from './confchange.js';
export { ProgressState } from './progress.js';
export { mulberry32, randInt } from '../../util/rand.js';
