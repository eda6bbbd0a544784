// Small promise helpers shared by the run (main thread) and the workers.

/** Like Promise.all, but if one open fails the others are closed rather than leaked. */
export async function openAll<T extends { close(): Promise<void> }>(opening: Promise<T>[], closeTimeoutMs: number): Promise<T[]> {
  const settled = await Promise.allSettled(opening);
  const opened = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(opened.map((x) => withTimeout(x.close(), closeTimeoutMs)));
    throw failed.reason;
  }
  return opened;
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) { resolve(); return; }
    const onAbort = (): void => { clearTimeout(t); resolve(); };
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Waits for `p` (ignoring its failure) at most `ms`. */
export async function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => {}), new Promise<void>((resolve) => { t = setTimeout(resolve, ms); })]);
  clearTimeout(t);
}
