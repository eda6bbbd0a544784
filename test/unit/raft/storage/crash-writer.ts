// Child process for level.test.ts: appends entries to group 3 forever, printing each index once
// its save has resolved (is durable). The parent kills it with SIGKILL mid-stream.
import { LevelRaftStorage } from '../../../../src/raft/storage/level.js';
import { ents } from './contract.js';

const storage = await LevelRaftStorage.open(process.argv[2]!);
const store = storage.group(3);
await store.load();
let next = 1;
for (;;) {
  const batch: Array<Promise<void>> = [];
  for (let k = 0; k < 10; k++, next++) {
    const index = next;
    batch.push(store.save({ entries: ents(index, index, 1), hardState: { term: 1, vote: 1, commit: index } })
      .then(() => { process.stdout.write(`${index}\n`); }));
  }
  await Promise.all(batch);
}
