// The send time carried in the first 8 bytes of every bench message: an IEEE-754 float64,
// big-endian, holding Unix-epoch milliseconds with a sub-millisecond fraction (a double has
// ~0.25 µs resolution at today's epoch). Epoch-based rather than process.hrtime() so that a
// producer and a consumer in different processes on one host (or NTP-synced hosts) agree.

export function nowEpochMs(): number {
  return performance.timeOrigin + performance.now();
}

export function writeSendTime(body: Buffer, epochMs: number): void {
  body.writeDoubleBE(epochMs, 0);
}

/** NaN when the body is too short to carry a timestamp (not one of ours). */
export function readSendTime(body: Buffer): number {
  return body.length >= 8 ? body.readDoubleBE(0) : Number.NaN;
}
