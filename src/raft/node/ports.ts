// What the driver needs from its environment besides the core, the store and the network: a way
// to run work later in the same turn's aftermath (coalescing), and timers. Production uses Node's
// event loop; the simulator (test/sim) injects virtual time so a seed replays exactly.

export interface Timer {
  cancel(): void;
}

export interface DriverPorts {
  /** Runs `fn` soon, after the current work (setImmediate): coalesces many inputs into one drain. */
  defer(fn: () => void): void;
  /**
   * Runs `fn` right after the current callback (a microtask), for work someone waits on: a
   * proposal is written in the same event-loop turn it was made. Absent: defer.
   */
  soon?(fn: () => void): void;
  /** Runs `fn` after `ms` unless cancelled; never keeps the process alive. */
  after(ms: number, fn: () => void): Timer;
}

export const nodePorts: DriverPorts = {
  defer: (fn) => {
    setImmediate(fn);
  },
  soon: (fn) => {
    queueMicrotask(fn);
  },
  after: (ms, fn) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};
