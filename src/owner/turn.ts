// One setImmediate per event-loop turn for every partition of a node: the commands asked for in a
// turn are proposed together, after the turn's I/O callbacks, so each partition makes one log entry
// of them and the write loop (group-commit.ts) writes all partitions' entries in one batch.

export class Turn {
  private readonly due = new Set<() => void>();
  private scheduled = false;

  /** Runs `fn` once at the end of this turn (again only if added again after that). */
  add(fn: () => void): void {
    this.due.add(fn);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.run);
  }

  private readonly run = (): void => {
    this.scheduled = false;
    const fns = [...this.due];
    this.due.clear();
    for (const fn of fns) fn();
  };
}
