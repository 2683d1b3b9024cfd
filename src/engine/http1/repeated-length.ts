/**
 * A head with Content-Length more than once. llhttp refuses any repeat, whatever its lenient
 * flags; RFC 9110 8.6 lets a recipient take repeated identical values as one (mitmproxy does,
 * for requests and responses), and only differing ones leave the body's length unknown. So a
 * head llhttp refused for a repeat is looked at here: identical repeats are handed back to
 * llhttp under a stand-in name (and their names restored in the head it delivers), differing
 * ones are the error, naming the values.
 */
const LF = 0x0a;
const CR = 0x0d;
/** Whose field llhttp reads as any other; it never leaves the parser (the real name is put back). */
const STAND_IN = Buffer.from("X-Pryx-Repeated-Content-Length", "latin1");

export type RepeatedLength =
  /** `bytes` with each repeat after the first renamed; `names` maps those fields' indexes (in the head's order) to the names sent. */
  | { kind: "same"; bytes: Buffer; names: Map<number, string> }
  | { kind: "conflict"; values: string[] };

/**
 * Looks at the head at the start of `bytes` (its start line, then its fields): undefined while
 * the blank line that ends it has not arrived.
 */
export function readRepeatedLength(bytes: Buffer): RepeatedLength | undefined {
  const lengths: { field: number; nameStart: number; nameEnd: number; value: string }[] = [];
  let field = -1;
  let at = 0;
  for (;;) {
    const lf = bytes.indexOf(LF, at);
    if (lf === -1) return undefined;
    const end = lf > at && bytes[lf - 1] === CR ? lf - 1 : lf;
    if (end === at) break;
    // The start line, and lines folded onto the field before them (obs-fold), are no fields of their own.
    const folded = bytes[at] === 0x20 || bytes[at] === 0x09;
    if (at > 0 && !folded) {
      field++;
      const colon = bytes.indexOf(0x3a, at);
      if (colon !== -1 && colon < end && bytes.toString("latin1", at, colon).toLowerCase() === "content-length") {
        lengths.push({ field, nameStart: at, nameEnd: colon, value: bytes.toString("latin1", colon + 1, end).replace(/^[ \t]+|[ \t]+$/g, "") });
      }
    }
    at = lf + 1;
  }
  const values = lengths.map((l) => l.value);
  if (values.some((v) => v !== values[0])) return { kind: "conflict", values };
  const names = new Map<number, string>();
  const pieces: Buffer[] = [];
  let from = 0;
  for (const l of lengths.slice(1)) {
    names.set(l.field, bytes.toString("latin1", l.nameStart, l.nameEnd));
    pieces.push(bytes.subarray(from, l.nameStart), STAND_IN);
    from = l.nameEnd;
  }
  pieces.push(bytes.subarray(from));
  return { kind: "same", bytes: Buffer.concat(pieces), names };
}

/** Whether llhttp refused a head for a Content-Length given more than once. */
export function isRepeatedLength(code: string, reason: string): boolean {
  return code === "HPE_UNEXPECTED_CONTENT_LENGTH" && /duplicate/i.test(reason);
}
