// Outgoing bytes of one connection. Frames are queued and written once per microtask checkpoint
// (one writev for everything a burst of incoming frames or deliveries produced), which is what
// makes small-message throughput possible. Order is preserved: frames reach the socket in the
// order send() was called.
import type { Socket } from 'node:net';

/** Above this many buffered bytes the connection counts as congested and consumers are paused. */
export const CONGESTED_BYTES = 4 * 1024 * 1024;

export class Output {
  private pending: Buffer[] = [];
  private scheduled = false;
  /** Bytes sent since the heartbeat timer last looked (any traffic counts as a heartbeat). */
  sentSinceCheck = false;

  constructor(private readonly socket: Socket) {}

  send(frame: Buffer): void {
    if (this.socket.destroyed) return;
    this.pending.push(frame);
    this.sentSinceCheck = true;
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flush);
    }
  }

  readonly flush = (): void => {
    this.scheduled = false;
    const frames = this.pending;
    if (frames.length === 0 || this.socket.destroyed) return;
    this.pending = [];
    if (frames.length === 1) {
      this.socket.write(frames[0] as Buffer);
      return;
    }
    this.socket.cork();
    for (const f of frames) this.socket.write(f);
    this.socket.uncork();
  };

  get congested(): boolean {
    return this.socket.writableLength > CONGESTED_BYTES;
  }
}
