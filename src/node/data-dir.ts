// What a data directory records about itself (`<dataDir>/warren.json`): the partition count fixed
// when it was created. A directory made by another count keeps its own: queues are placed by it.
import { existsSync, readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';

export interface DataDirInfo {
  readonly partitions: number;
}

const FILE = 'warren.json';

export function openDataDir(dir: string, partitions: number): DataDirInfo {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, FILE);
  if (existsSync(path)) {
    const info = JSON.parse(readFileSync(path, 'utf8')) as Partial<DataDirInfo>;
    if (typeof info.partitions !== 'number' || !Number.isInteger(info.partitions) || info.partitions < 1) {
      throw new Error(`${path}: no valid partition count`);
    }
    return { partitions: info.partitions };
  }
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1024) throw new Error(`invalid partition count ${partitions}`);
  const info: DataDirInfo = { partitions };
  writeFileSync(`${path}.tmp`, JSON.stringify(info) + '\n');
  renameSync(`${path}.tmp`, path);
  return info;
}
