// An in-memory stand-in for the accepted TCP socket a Connection reads and writes, so the connection
// fuzz target runs thousands of sessions a second without the kernel.
//
// It is a real net.Socket without a handle: Connection and Output only use write/cork/uncork/end/
// destroy, pause/resume, the 'data'/'close'/'drain' events and a few properties, and the overrides
// below keep every byte written in `written`. The peer address is loopback (guest may log in).
import { Socket } from 'node:net';

export class MemorySocket extends Socket {
  /** Everything the server wrote, in order. */
  readonly written: Buffer[] = [];
  /** True once the server ended or destroyed the socket. */
  ended = false;

  constructor() {
    super();
    Object.defineProperty(this, 'remoteAddress', { value: '127.0.0.1' });
    Object.defineProperty(this, 'remotePort', { value: 40000 });
  }

  /** Delivers client bytes to the server, as the kernel would with a 'data' event. */
  receive(chunk: Buffer): void {
    if (!this.ended) this.emit('data', chunk);
  }

  override write(chunk: unknown, ...rest: unknown[]): boolean {
    if (this.ended) return false;
    if (typeof chunk === 'string') this.written.push(Buffer.from(chunk));
    else if (chunk instanceof Uint8Array) this.written.push(Buffer.from(chunk));
    const cb = rest.find((x) => typeof x === 'function');
    if (typeof cb === 'function') queueMicrotask(() => cb());
    return true;
  }

  override end(...args: unknown[]): this {
    const chunk = args[0];
    if (typeof chunk === 'string' || chunk instanceof Uint8Array) this.write(chunk);
    this.close();
    return this;
  }

  /** net.Socket's own destroy emits 'close' (there is no handle to release). */
  override destroy(error?: Error): this {
    this.ended = true;
    return super.destroy(error);
  }

  override setNoDelay(): this {
    return this;
  }

  /** After end() the peer's FIN would follow; destroying reports 'close' on the next tick, once. */
  private close(): void {
    if (this.ended) return;
    super.destroy();
    this.ended = true;
  }
}
