// The one rule for reads answered from a view that may trail changes made elsewhere (a cluster
// frontend's metadata cache, fed by the metadata leader's Watch stream): a lookup that misses —
// "not found", "refused", "unknown user" — may only mean the view has not applied a change another
// frontend already acknowledged. Such a miss waits once for the read point (MetaPort.sync: the
// view has applied everything committed before the call) and the lookup runs again; that second
// answer is final. Hits never wait, and where there is no read point (the embedded broker: the
// view is the state) nothing changes.
//
// Contract for callers: `read` must do nothing before its lookups can miss (no effect to repeat),
// so that running it again is running it once.

/** Waits until the view has applied every change committed before the call. */
export type Sync = () => Promise<void>;

/**
 * Runs `read`; when it throws (or rejects with) an error `isMiss` accepts and there is a read
 * point, waits for it and runs `read` once more, whose outcome is final. Any other failure comes
 * out as `read` gave it (thrown or rejected), and a `read` that is synchronous and hits stays
 * synchronous (no allocation either), so a hot path is as it was. `read` is told whether its run
 * is the final one (no read point, or the run at it), for a miss only it can recognise.
 */
export function readFresh<T>(sync: Sync | undefined, isMiss: (err: unknown) => boolean, read: (final: boolean) => T): T | Promise<Awaited<T>> {
  if (sync === undefined) return read(true);
  const again = (): Promise<Awaited<T>> => sync().then(() => read(true)) as Promise<Awaited<T>>;
  let first: T;
  try {
    first = read(false);
  } catch (err) {
    if (!isMiss(err)) throw err;
    return again();
  }
  if (!(first instanceof Promise)) return first;
  return first.catch((err: unknown) => {
    if (!isMiss(err)) throw err;
    return again();
  }) as Promise<Awaited<T>>;
}

/**
 * The read point of one operation (an HTTP request: its login, then its lookups): waited for at
 * most once; later calls share that wait, since the view is then at least as new as the operation.
 */
export function syncOnce(sync: Sync | undefined): Sync | undefined {
  if (sync === undefined) return undefined;
  let done: Promise<void> | undefined;
  return () => (done ??= sync());
}
