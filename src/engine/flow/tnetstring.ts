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
