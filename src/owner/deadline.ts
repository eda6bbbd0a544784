// One timer armed for the earliest deadline a queue machine reported (TTL, x-expires): re-arming
// for a later deadline keeps the earlier timer; firing clears it so the next arm() sets a new one.
// Time enters the machine only as the nowMs of the tick the callback applies or proposes.
export class DeadlineTimer {
  private timer: NodeJS.Timeout | undefined;
  private atMs = Infinity;

  constructor(private readonly now: () => number, private readonly fire: () => void) {}

  /** Makes sure the timer fires by `atMs` (undefined: nothing pending). */
  arm(atMs: number | undefined): void {
    if (atMs === undefined || atMs >= this.atMs) return;
    if (this.timer) clearTimeout(this.timer);
    this.atMs = atMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.atMs = Infinity;
      this.fire();
    }, Math.max(0, atMs - this.now()) + 1);
    this.timer.unref();
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.atMs = Infinity;
  }
}
