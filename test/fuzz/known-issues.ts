// Bugs the fuzzers found in code outside the fuzzing work's remit, reported to its owner and not yet
// fixed. While listed, the oracles let them pass so long runs keep exploring instead of stopping on
// the same input again. WARREN_FUZZ_STRICT=1 turns the list off (use it to check a fix, and delete the
// entry once the fix is in).

export interface KnownIssue {
  readonly id: string;
  /** Matched against the message of the exception behind the failure. */
  readonly match: RegExp;
  readonly note: string;
}

export const KNOWN_ISSUES: readonly KnownIssue[] = [
  {
    id: 'shortstr-utf8',
    match: /^shortstr '[A-Za-z-]+' is \d+ bytes; the limit is 255$/,
    note: 'generated.ts decodes shortstrs as UTF-8 with U+FFFD replacement, so a 255-byte name that is not UTF-8 '
      + 're-encodes to up to 765 bytes: queue.declare-ok, basic.deliver (routing key) etc. throw RangeError -> 541',
  },
];

const STRICT = process.env['WARREN_FUZZ_STRICT'] === '1';

/** The id of the known issue behind `message`, or undefined when it is a new finding. */
export function knownIssue(message: string): string | undefined {
  if (STRICT) return undefined;
  return KNOWN_ISSUES.find((k) => k.match.test(message))?.id;
}
