// Promise helpers for ports whose in-process implementation answers at once.

/** Runs `fn` now and returns its result, or what it threw, as a settled promise. */
export function attempt<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}
