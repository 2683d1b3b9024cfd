import type { ContentView, Line, LineSink, Segment, SegmentStyle } from "./types.ts";
import { MAX_LINE_BYTES } from "./text.ts";

/**
 * A pretty printer driven by a tokenizer over the raw bytes rather than JSON.parse + stringify:
 * numbers are shown exactly as sent (no precision lost on 64-bit ids), duplicate keys and key order survive,
 * and a cut-off view stops tokenizing once enough lines are produced.
 */

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    /** The input ended too early; a sniffed prefix with only this error is still plausibly JSON. */
    readonly atEnd: boolean,
  ) {
    super(message);
    this.name = "JsonSyntaxError";
  }
}

const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const INDENT = "  ";

// JSON.stringify leaves DEL and C1 controls raw; a terminal may act on 8-bit CSI, so they are escaped too.
function escapeExtraControls(s: string): string {
  return s.replace(/[\x7f-\x9f]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

// Parser states (plain constants rather than an enum so the file stays erasable TypeScript).
const State = { Value: 0, Key: 1, Colon: 2, CommaOrClose: 3, End: 4 } as const;
type State = (typeof State)[keyof typeof State];

const OBJECT = 0x7b;
const ARRAY = 0x5b;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The byte at `p`, or -1 from `end` on, so a sniffed prefix never reads bytes beyond its cut. */
function byteAt(b: Uint8Array, p: number, end: number): number {
  return p < end ? b[p]! : -1;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Formats `b[0, end)` into `sink`, or only checks syntax when `sink` is null.
 * Throws JsonSyntaxError on malformed input (as far as it got before the sink filled).
 */
export function formatJson(b: Uint8Array, sink: LineSink | null, end = b.length): void {
  let pos = end >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  const stack: number[] = [];
  let state: State = State.Value;
  let cur: Line | null = null;

  const fail = (what: string): never => {
    if (pos >= end) throw new JsonSyntaxError(`Unexpected end of data while reading ${what}`, pos, true);
    const c = b[pos]!;
    const shown = c >= 0x20 && c < 0x7f ? JSON.stringify(String.fromCharCode(c)) : `byte 0x${c.toString(16).padStart(2, "0")}`;
    throw new JsonSyntaxError(`Unexpected ${shown} at byte ${pos} while reading ${what}`, pos, false);
  };
  const add = (seg: Segment): void => {
    if (!sink) return;
    if (!cur) cur = stack.length ? [{ text: INDENT.repeat(stack.length) }] : [];
    cur.push(seg);
  };
  // A huge string (say an inlined base64 file) continues on further lines, one step deeper, so no
  // single display line grows without bound.
  const addLong = (text: string, style: SegmentStyle): void => {
    if (!sink || text.length <= MAX_LINE_BYTES) {
      add({ text, style });
      return;
    }
    for (let i = 0; i < text.length && !sink.truncated; ) {
      let j = Math.min(text.length, i + MAX_LINE_BYTES);
      if (j < text.length && /[\ud800-\udbff]/.test(text[j - 1]!)) j--;
      if (i > 0) {
        flush();
        cur = [{ text: INDENT.repeat(stack.length + 1) }];
      }
      add({ text: text.slice(i, j), style });
      i = j;
    }
  };
  const flush = (): void => {
    if (sink && cur) sink.push(cur);
    cur = null;
  };
  const skipWs = (): void => {
    while (pos < end && isWs(b[pos]!)) pos++;
  };

  const readString = (): string => {
    const start = pos;
    let plain = true;
    let i = pos + 1;
    for (;;) {
      if (i >= end) {
        pos = end;
        fail("a string");
      }
      const c = b[i]!;
      if (c === 0x22) break;
      if (c === 0x5c) {
        plain = false;
        i += 2;
        continue;
      }
      if (c < 0x20 || c >= 0x7f) plain = false;
      i++;
    }
    pos = i + 1;
    const raw = decoder.decode(b.subarray(start, pos));
    // Printable ASCII without escapes is already in the form JSON.stringify would produce.
    if (plain) return raw;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new JsonSyntaxError(`Invalid string at byte ${start}`, start, false);
    }
    return escapeExtraControls(JSON.stringify(value));
  };

  // Once per body, not per number: a function made per call costs more than the number's digits.
  const digits = (): void => {
    if (!isDigit(byteAt(b, pos, end))) fail("a number");
    while (isDigit(byteAt(b, pos, end))) pos++;
  };

  const readNumber = (): string => {
    const start = pos;
    if (byteAt(b, pos, end) === 0x2d) pos++;
    if (byteAt(b, pos, end) === 0x30) pos++;
    else digits();
    if (byteAt(b, pos, end) === 0x2e) {
      pos++;
      digits();
    }
    const e = byteAt(b, pos, end);
    if (e === 0x65 || e === 0x45) {
      pos++;
      const sign = byteAt(b, pos, end);
      if (sign === 0x2b || sign === 0x2d) pos++;
      digits();
    }
    return decoder.decode(b.subarray(start, pos));
  };

  const readLiteral = (word: string): void => {
    for (let k = 0; k < word.length; k++, pos++) {
      if (pos >= end || b[pos] !== word.charCodeAt(k)) fail(word);
    }
  };

  const afterValue = (): State => (stack.length ? State.CommaOrClose : State.End);

  while (!sink?.truncated) {
    skipWs();
    if (state === State.End) {
      if (pos < end) fail("the end of data (extra data after the top-level value)");
      flush();
      return;
    }
    if (pos >= end) fail(state === State.Key ? "an object key" : state === State.Value ? "a value" : "',' or a closing bracket");
    const c = b[pos]!;
    switch (state) {
      case State.Value: {
        if (c === OBJECT || c === ARRAY) {
          const close = c + 2;
          pos++;
          skipWs();
          if (pos < end && b[pos] === close) {
            pos++;
            add({ text: String.fromCharCode(c, close), style: "punct" });
            state = afterValue();
          } else {
            add({ text: String.fromCharCode(c), style: "punct" });
            flush();
            stack.push(c);
            state = c === OBJECT ? State.Key : State.Value;
          }
        } else if (c === 0x22) {
          addLong(readString(), "string");
          state = afterValue();
        } else if (c === 0x2d || isDigit(c)) {
          add({ text: readNumber(), style: "number" });
          state = afterValue();
        } else if (c === 0x74 || c === 0x66) {
          const word = c === 0x74 ? "true" : "false";
          readLiteral(word);
          add({ text: word, style: "boolean" });
          state = afterValue();
        } else if (c === 0x6e) {
          readLiteral("null");
          add({ text: "null", style: "null" });
          state = afterValue();
        } else fail("a value");
        break;
      }
      case State.Key:
        if (c !== 0x22) fail("an object key");
        addLong(readString(), "key");
        state = State.Colon;
        break;
      case State.Colon:
        if (c !== 0x3a) fail("':'");
        pos++;
        add({ text: ": ", style: "punct" });
        state = State.Value;
        break;
      case State.CommaOrClose: {
        const top = stack[stack.length - 1]!;
        if (c === 0x2c) {
          pos++;
          add({ text: ",", style: "punct" });
          flush();
          state = top === OBJECT ? State.Key : State.Value;
        } else if (c === top + 2) {
          pos++;
          flush();
          stack.pop();
          add({ text: String.fromCharCode(c), style: "punct" });
          state = afterValue();
        } else fail("',' or a closing bracket");
        break;
      }
    }
  }
}

export const jsonView: ContentView = {
  title: "JSON",
  render(body, _ctx, sink) {
    formatJson(body, sink);
  },
};

const SNIFF_LIMIT = 64 * 1024;

/**
 * Whether a body with no telling content type looks like JSON: starts with { or [ and its first 64 KiB
 * tokenize cleanly (running out at the cut is fine), so sniffing a huge body costs a bounded amount.
 */
export function sniffJson(b: Uint8Array): boolean {
  let i = b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  while (i < b.length && i < SNIFF_LIMIT && isWs(b[i]!)) i++;
  if (b[i] !== OBJECT && b[i] !== ARRAY) return false;
  const end = Math.min(b.length, SNIFF_LIMIT);
  try {
    formatJson(b, null, end);
    return true;
  } catch (e) {
    return e instanceof JsonSyntaxError && e.atEnd && end < b.length;
  }
}
