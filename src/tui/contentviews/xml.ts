import { Buffer } from "node:buffer";
import type { ContentView, Line, LineSink, Segment } from "./types.ts";
import { MAX_LINE_BYTES, decodeLenient, pushTextLines, visible } from "./text.ts";

/**
 * Re-indents markup one tag per line. Not a parser: it never rejects input, it only tracks which
 * elements are open so that closing tags line up, and it tolerates HTML's unclosed and void elements.
 */

type TokenKind = "text" | "open" | "close" | "empty" | "comment" | "decl" | "cdata";
interface Token {
  kind: TokenKind;
  start: number;
  end: number;
  /** Lower-cased tag name for open/close/empty tags. */
  name: string;
}

const VOID_ELEMENTS = new Set([
  "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
]);
// Their content is not markup: "<" inside a script must not start a tag.
const RAW_TEXT_ELEMENTS = new Set(["script", "style"]);
const INDENT = "  ";
/** Longer text stays on its own line instead of being folded between its tags. */
const INLINE_TEXT_LIMIT = 100;
/** Only text this small (in bytes, whitespace included) is considered for folding. */
const FOLD_CANDIDATE_BYTES = 4096;

const LT = 0x3c;
const GT = 0x3e;

function isNameStart(c: number | undefined): boolean {
  return c !== undefined && ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a || c === 0x5f || c === 0x3a || c >= 0x80);
}

class Tokenizer {
  pos = 0;
  /** Set after <script>/<style> in HTML: the next text runs to this element's closing tag. */
  rawUntil: string | null = null;
  readonly buf: Buffer;

  constructor(body: Uint8Array) {
    this.buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  }

  private find(needle: string, from: number): number {
    const i = this.buf.indexOf(needle, from, "latin1");
    return i < 0 ? this.buf.length : i + needle.length;
  }

  private findRawEnd(from: number, name: string): number {
    const want = "</" + name;
    for (let i = this.buf.indexOf("</", from, "latin1"); i >= 0; i = this.buf.indexOf("</", i + 2, "latin1")) {
      if (this.buf.toString("latin1", i, i + want.length).toLowerCase() === want) return i;
    }
    return this.buf.length;
  }

  /** End of a tag starting at `from`, skipping ">" inside quotes (and inside [...] for a DOCTYPE's subset); -1 if unterminated. */
  private tagEnd(from: number, brackets: boolean): number {
    let quote = 0;
    let depth = 0;
    for (let i = from; i < this.buf.length; i++) {
      const c = this.buf[i]!;
      if (quote) {
        if (c === quote) quote = 0;
      } else if (c === 0x22 || c === 0x27) quote = c;
      else if (brackets && c === 0x5b) depth++;
      else if (brackets && c === 0x5d) depth--;
      else if (c === GT && depth <= 0) return i + 1;
    }
    return -1;
  }

  private nameAt(from: number): string {
    let i = from;
    while (i < this.buf.length && !/[\s/>]/.test(String.fromCharCode(this.buf[i]!))) i++;
    return this.buf.toString("latin1", from, i).toLowerCase();
  }

  next(): Token | undefined {
    const b = this.buf;
    const start = this.pos;
    if (start >= b.length) return undefined;
    if (this.rawUntil !== null) {
      const end = this.findRawEnd(start, this.rawUntil);
      this.rawUntil = null;
      if (end > start) return this.take("text", start, end);
    }
    if (b[start] === LT) {
      const head = b.toString("latin1", start, start + 9);
      if (head.startsWith("<!--")) return this.take("comment", start, this.find("-->", start + 4));
      if (head === "<![CDATA[") return this.take("cdata", start, this.find("]]>", start + 9));
      if (head.startsWith("<?")) return this.take("decl", start, this.find("?>", start + 2));
      if (head.startsWith("<!")) {
        const end = this.tagEnd(start + 2, true);
        return this.take("decl", start, end < 0 ? b.length : end);
      }
      const closing = b[start + 1] === 0x2f;
      if (isNameStart(b[start + (closing ? 2 : 1)])) {
        const end = this.tagEnd(start + 1, false);
        if (end >= 0) {
          const name = this.nameAt(start + (closing ? 2 : 1));
          if (closing) return this.take("close", start, end, name);
          return this.take(b[end - 2] === 0x2f ? "empty" : "open", start, end, name);
        }
      }
    }
    // Text runs to the next "<"; a "<" that starts no tag (as in "a < b") is text too.
    let end = b.indexOf(LT, start + 1);
    if (end < 0) end = b.length;
    return this.take("text", start, end);
  }

  private take(kind: TokenKind, start: number, end: number, name = ""): Token {
    this.pos = end;
    return { kind, start, end, name };
  }

  text(t: Token): string {
    return decodeLenient(this.buf.subarray(t.start, t.end));
  }
}

const ATTR = /\s*([^\s=/>]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?/y;

function tagSegments(src: string): Segment[] {
  const m = /^<(\/?)([^\s/>]*)([\s\S]*?)(\/?)>$/.exec(src);
  if (!m) return [{ text: visible(src), style: "key" }];
  const segs: Segment[] = [
    { text: "<" + m[1], style: "punct" },
    { text: visible(m[2]!), style: "key" },
  ];
  const attrs = m[3]!;
  ATTR.lastIndex = 0;
  let last = 0;
  for (let a = ATTR.exec(attrs); a; a = ATTR.exec(attrs)) {
    segs.push({ text: " " + visible(a[1]!) });
    if (a[2] !== undefined) {
      segs.push({ text: "=", style: "punct" });
      segs.push({ text: visible(a[2]), style: "string" });
    }
    last = ATTR.lastIndex;
  }
  const rest = attrs.slice(last).trim();
  if (rest) segs.push({ text: " " + visible(rest) });
  segs.push({ text: m[4] + ">", style: "punct" });
  return segs;
}

/** Strips blank edges and the common indentation, so text keeps its inner shape at the new indent. */
function dedent(text: string, keepBlank: boolean): string[] {
  let lines = text.split(/\r?\n/).map((l) => l.replace(/\s+$/, ""));
  if (!keepBlank) lines = lines.filter((l) => l !== "");
  while (lines.length && lines[0] === "") lines.shift();
  while (lines.length && lines[lines.length - 1] === "") lines.pop();
  const indentOf = (l: string): number => /^[ \t]*/.exec(l)![0].length;
  // Text that starts right after its tag ("<script>var a;\n    b();") has an unindented first line
  // that says nothing about the rest's indentation.
  const from = lines.length > 1 && indentOf(lines[0]!) === 0 ? 1 : 0;
  let common = Infinity;
  for (let i = from; i < lines.length; i++) if (lines[i] !== "") common = Math.min(common, indentOf(lines[i]!));
  if (common === Infinity || common === 0) return lines;
  return lines.map((l, i) => (i < from ? l : l.slice(common)));
}

function pushAt(sink: LineSink, depth: number, segs: Segment[]): boolean {
  const line: Line = depth > 0 ? [{ text: INDENT.repeat(depth) }, ...segs] : segs;
  return sink.push(line);
}

function pushBlock(sink: LineSink, depth: number, lines: string[], style?: "dim"): boolean {
  for (const l of lines) {
    const text = visible(l, depth * INDENT.length);
    if (!pushAt(sink, depth, [style ? { text, style } : { text }])) return false;
  }
  return true;
}

export const xmlView: ContentView = {
  title: "XML/HTML",
  render(body, ctx, sink) {
    const html = !ctx.mime.includes("xml");
    const tk = new Tokenizer(body);
    const open: string[] = [];
    let pending: Token | undefined;
    const next = (): Token | undefined => {
      if (pending) {
        const t = pending;
        pending = undefined;
        return t;
      }
      return tk.next();
    };

    // A token bigger than one display line is shown line by line as it is decoded, so that an
    // enormous text node or attribute costs no more than the lines actually shown.
    const isLarge = (t: Token): boolean => t.end - t.start > MAX_LINE_BYTES;
    const pushLarge = (t: Token, depth: number, style?: "dim"): void =>
      pushTextLines(tk.buf, t.start, t.end, sink, INDENT.repeat(depth), style, true);
    const pushTag = (t: Token, depth: number): void => {
      if (isLarge(t)) pushLarge(t, depth);
      else pushAt(sink, depth, tagSegments(tk.text(t)));
    };

    for (let t = next(); t && !sink.truncated; t = next()) {
      const depth = open.length;
      if (isLarge(t) && (t.kind === "text" || t.kind === "comment" || t.kind === "decl" || t.kind === "cdata")) {
        pushLarge(t, depth, t.kind === "comment" || t.kind === "decl" ? "dim" : undefined);
        continue;
      }
      switch (t.kind) {
        case "text":
          pushBlock(sink, depth, dedent(tk.text(t), html && RAW_TEXT_ELEMENTS.has(open[open.length - 1] ?? "")));
          break;
        case "comment":
        case "decl":
          pushBlock(sink, depth, dedent(tk.text(t), false), "dim");
          break;
        case "cdata":
          pushBlock(sink, depth, dedent(tk.text(t), true));
          break;
        case "empty":
          pushTag(t, depth);
          break;
        case "close": {
          const at = open.lastIndexOf(t.name);
          // A stray closing tag leaves the nesting alone rather than unwinding unrelated elements.
          if (at >= 0) open.length = at;
          pushTag(t, open.length);
          break;
        }
        case "open": {
          const isVoid = html && VOID_ELEMENTS.has(t.name);
          if (!isVoid && html && RAW_TEXT_ELEMENTS.has(t.name)) tk.rawUntil = t.name;
          if (isVoid || isLarge(t)) {
            pushTag(t, depth);
            if (!isVoid) open.push(t.name);
            break;
          }
          const segs = tagSegments(tk.text(t));
          // Fold `<a>short text</a>` and `<a></a>` onto one line.
          let inner = tk.next();
          let text: string | undefined;
          if (inner?.kind === "text") {
            if (inner.end - inner.start > FOLD_CANDIDATE_BYTES) {
              pushAt(sink, depth, segs);
              open.push(t.name);
              pending = inner;
              break;
            }
            const lines = dedent(tk.text(inner), false);
            if (lines.length === 0) {
              text = "";
              inner = tk.next();
            } else if (lines.length === 1 && lines[0]!.length <= INLINE_TEXT_LIMIT) {
              text = lines[0]!.trim();
              inner = tk.next();
            }
          } else text = "";
          if (text !== undefined && inner?.kind === "close" && inner.name === t.name) {
            const mid: Segment[] = text ? [{ text: visible(text) }] : [];
            const closeSegs = isLarge(inner) ? [{ text: visible(tk.text(inner)) }] : tagSegments(tk.text(inner));
            pushAt(sink, depth, [...segs, ...mid, ...closeSegs]);
            break;
          }
          pushAt(sink, depth, segs);
          open.push(t.name);
          if (text) pushAt(sink, depth + 1, [{ text: visible(text) }]);
          pending = inner;
          break;
        }
      }
    }
  },
};
