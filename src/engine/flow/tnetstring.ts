/**
 * tnetstrings as mitmproxy writes its flow files: `<len>:<payload><tag>`, with `,` bytes,
 * `;` UTF-8 text (mitmproxy's extension), `#` int, `^` float, `!` bool, `~` null, `]` list and
 * `}` dict (keys text, or bytes in very old files).
 */
export type TValue = Buffer | string | number | boolean | null | TValue[] | { [key: string]: TValue };

export class TnetstringError extends Error {}

/** Whether `head` (a file's first bytes) starts like a tnetstring: a length of at most 12 digits and a colon. */
export function looksLikeTnetstring(head: Buffer): boolean {
  return /^\d{1,12}:/.test(head.toString("latin1", 0, 13));
}

/**
 * The tnetstring at `at` in `buf`: its value and where the next one starts, or undefined when
 * `buf` ends before it does (read more and try again). Errors name bytes counted from `origin`
 * (where `buf` starts in the file, when it holds only part of it).
 */
export function parseTnetstring(buf: Buffer, at = 0, origin = 0): { value: TValue; end: number } | undefined {
  return parseAt(buf, at, origin);
}

/** As `parseTnetstring`, in a buffer that starts `origin` bytes into what the errors count from. */
function parseAt(buf: Buffer, at: number, origin: number): { value: TValue; end: number } | undefined {
  const colon = buf.indexOf(0x3a, at);
  if (colon < 0 || colon - at > 12) {
    if (colon < 0 && buf.length - at <= 12) return undefined;
    throw new TnetstringError(`not a tnetstring at byte ${origin + at}: expected a length and ':'`);
  }
  const lenText = buf.toString("latin1", at, colon);
  if (!/^\d+$/.test(lenText)) throw new TnetstringError(`not a tnetstring at byte ${origin + at}: bad length ${JSON.stringify(lenText)}`);
  const start = colon + 1;
  const end = start + Number(lenText);
  if (end >= buf.length) return undefined;
  const tag = String.fromCharCode(buf[end] as number);
  const payload = buf.subarray(start, end);
  // Errors inside name the byte in the whole buffer (the file), not in the payload they are in.
  return { value: decodePayload(payload, tag, origin + start, origin + end), end: end + 1 };
}

/** `at`: where the payload starts in the whole buffer; `tagAt`: where its type byte is. */
function decodePayload(payload: Buffer, tag: string, at: number, tagAt: number): TValue {
  switch (tag) {
    case ",":
      return Buffer.from(payload);
    case ";":
      return payload.toString("utf8");
    case "#":
    case "^": {
      const n = Number(payload.toString("latin1"));
      if (Number.isNaN(n)) throw new TnetstringError(`bad number ${JSON.stringify(payload.toString("latin1"))} at byte ${at}`);
      return n;
    }
    case "!":
      return payload.toString("latin1") === "true";
    case "~":
      return null;
    case "]":
      return items(payload, at);
    case "}": {
      const list = items(payload, at);
      const obj: { [key: string]: TValue } = {};
      for (let i = 0; i + 1 < list.length; i += 2) {
        const k = list[i];
        obj[Buffer.isBuffer(k) ? k.toString("utf8") : String(k)] = list[i + 1] as TValue;
      }
      return obj;
    }
    default:
      throw new TnetstringError(`unknown tnetstring type ${JSON.stringify(tag)} at byte ${tagAt}`);
  }
}

function items(payload: Buffer, at: number): TValue[] {
  const out: TValue[] = [];
  for (let i = 0; i < payload.length; ) {
    const r = parseAt(payload, i, at);
    if (!r) throw new TnetstringError(`truncated list or dict at byte ${at + i}`);
    out.push(r.value);
    i = r.end;
  }
  return out;
}

/** A number to write as a float (`^`): JavaScript has one number type, tnetstrings two, and mitmproxy checks which. */
export class TFloat {
  constructor(readonly value: number) {}
}

/** What `dumpTnetstring` writes: bytes as Buffer, text as string, an integer as number, a float as TFloat. */
export type TOut = Buffer | string | number | TFloat | boolean | null | readonly TOut[] | { readonly [key: string]: TOut };

const frame = (payload: Buffer, tag: string): Buffer[] => [Buffer.from(`${payload.length}:`, "latin1"), payload, Buffer.from(tag, "latin1")];

/** A float as Python's repr writes it, which always has a point or an exponent. */
function floatText(n: number): string {
  if (!Number.isFinite(n)) throw new TnetstringError(`a flow file cannot hold the float ${n}`);
  const s = String(n);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

function dumpParts(v: TOut): Buffer[] {
  if (v === null) return frame(Buffer.alloc(0), "~");
  if (typeof v === "boolean") return frame(Buffer.from(String(v), "latin1"), "!");
  if (typeof v === "string") return frame(Buffer.from(v, "utf8"), ";");
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) throw new TnetstringError(`${v} is not an integer: write a float as TFloat`);
    return frame(Buffer.from(String(v), "latin1"), "#");
  }
  if (v instanceof TFloat) return frame(Buffer.from(floatText(v.value), "latin1"), "^");
  if (Buffer.isBuffer(v)) return frame(v, ",");
  const items = Array.isArray(v) ? (v as readonly TOut[]).flatMap(dumpParts) : Object.entries(v).flatMap(([k, x]) => [...dumpParts(k), ...dumpParts(x)]);
  return frame(Buffer.concat(items), Array.isArray(v) ? "]" : "}");
}

/** One value as a tnetstring. */
export function dumpTnetstring(v: TOut): Buffer {
  return Buffer.concat(dumpParts(v));
}
