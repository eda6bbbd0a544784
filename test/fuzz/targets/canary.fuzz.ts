// Not a real target: the smoke test runs it to prove the fuzzing pipeline reports a finding (non-zero
// exit, crash file written). It throws on any input starting with "AMQ", which its seed does.
export function fuzz(data: Buffer): void {
  if (data.length >= 3 && data[0] === 0x41 && data[1] === 0x4d && data[2] === 0x51) throw new Error('canary: planted finding');
}
