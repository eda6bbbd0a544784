// Oracle for "no unbounded allocation from a length field": while armed, any Buffer allocation
// larger than the limit throws AllocationTooLarge (not an AmqpError, so the targets report it as a
// finding) instead of allocating. The codec must check a 4 GiB table/longstr/frame length against
// the bytes it actually has before it allocates anything for it; every legitimate allocation while
// decoding n input bytes is O(n) (views, copies of what arrived, replies to it).
//
// Buffer.concat with an explicit totalLength is checked too (the frame parser's reassembly); typed
// arrays created directly (new Uint8Array(n)) are not, since the codec never does that.

export class AllocationTooLarge extends Error {
  override readonly name = 'AllocationTooLarge';
}

let limitBytes = Infinity;
const alloc = Buffer.alloc;
const allocUnsafe = Buffer.allocUnsafe;
const allocUnsafeSlow = Buffer.allocUnsafeSlow;
const concat = Buffer.concat;

function check(size: number, what: string): void {
  if (size > limitBytes) throw new AllocationTooLarge(`${what}(${size}) exceeds the ${limitBytes}-byte bound for this input`);
}

Buffer.alloc = (size, fill, encoding) => { check(size, 'Buffer.alloc'); return alloc(size, fill, encoding); };
Buffer.allocUnsafe = (size) => { check(size, 'Buffer.allocUnsafe'); return allocUnsafe(size); };
Buffer.allocUnsafeSlow = (size) => { check(size, 'Buffer.allocUnsafeSlow'); return allocUnsafeSlow(size); };
Buffer.concat = (list, totalLength) => {
  if (totalLength !== undefined) check(totalLength, 'Buffer.concat');
  return concat(list, totalLength);
};

/** Runs `fn` with allocations bounded to a generous linear function of `inputBytes`. */
export function withAllocationBound<T>(inputBytes: number, fn: () => T): T {
  const previous = limitBytes;
  limitBytes = 1024 * 1024 + 4 * inputBytes;
  try {
    return fn();
  } finally {
    limitBytes = previous;
  }
}

/** Async variant for the connection target (the bound stays armed across awaits of that run only). */
export async function withAllocationBoundAsync<T>(inputBytes: number, fn: () => Promise<T>): Promise<T> {
  const previous = limitBytes;
  limitBytes = 1024 * 1024 + 4 * inputBytes;
  try {
    return await fn();
  } finally {
    limitBytes = previous;
  }
}
