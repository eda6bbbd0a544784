// Publisher-confirm bookkeeping for one channel in confirm mode. Pure: no I/O, no clock.
//
// Sequence numbers start at 1 with the first publish after confirm.select. The broker settles them with
// basic.ack / basic.nack, either one tag or (multiple=true) every unsettled tag up to and including it.
// Single settlements may arrive out of order (a message routed to several queues), so tags settled
// above the lowest unsettled one are kept in a set until the gap below them closes.

export class ConfirmTracker {
  private nextSeq = 1;
  /** Lowest sequence number not yet settled. */
  private lowest = 1;
  /** Tags above `lowest` already settled individually. Small in practice. */
  private readonly settledAbove = new Set<number>();

  /** Published and not yet acked or nacked. */
  get outstanding(): number {
    return this.nextSeq - this.lowest - this.settledAbove.size;
  }

  /** The sequence number the next publish will get. */
  get nextPublishSeqNo(): number {
    return this.nextSeq;
  }

  /** Records one publish; returns its sequence number. */
  publish(): number {
    return this.nextSeq++;
  }

  /**
   * Applies an ack or nack; returns how many publishes it settled (0 for a tag never published or
   * already settled, which a correct broker does not send).
   */
  settle(tag: number, multiple: boolean): number {
    if (!Number.isInteger(tag) || tag >= this.nextSeq || tag < this.lowest) return 0;
    if (multiple) {
      let settled = tag - this.lowest + 1;
      for (const s of this.settledAbove) {
        if (s <= tag) {
          settled -= 1;
          this.settledAbove.delete(s);
        }
      }
      this.lowest = tag + 1;
      this.advance();
      return settled;
    }
    if (tag === this.lowest) {
      this.lowest += 1;
      this.advance();
      return 1;
    }
    if (this.settledAbove.has(tag)) return 0;
    this.settledAbove.add(tag);
    return 1;
  }

  private advance(): void {
    while (this.settledAbove.delete(this.lowest)) this.lowest += 1;
  }
}
