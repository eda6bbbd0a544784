import { MemoryLogStore } from '../../../../src/raft/storage/memory.js';
import { runAppContract } from './app-contract.js';
import { runStoreContract } from './contract.js';

const memory = async () => {
  const store = new MemoryLogStore();
  await store.load();
  // A memory store's durable state is the object itself; a "restart" reads it again.
  return { store, reopen: () => Promise.resolve(store), close: () => Promise.resolve() };
};

runStoreContract('memory', memory);
runAppContract('memory', memory);
