/** mitmproxy's escaped text, shared by the console's grids and the engine's rule options. */

const SIMPLE_ESCAPES: Record<string, string> = { "\\": "\\", t: "\t", n: "\n", r: "\r", "0": "\0", "'": "'", '"': '"' };

/**
 * Typed text (a grid cell, a rule's value) back to the byte string it stands for, one char per
 * byte (mitmproxy's escaped_str_to_bytes): \xNN is that byte, \\ a backslash, \t \r \n \0
 * those bytes (the engine refuses CR, LF and NUL in a header with its message); any other
 * backslash stays. Typed non-ASCII text is UTF-8, as mitmproxy sends it:
 * taken as Latin-1, "ü" went out as the single byte 0xfc and "€" as its low byte only.
 */
export function escapedToBytes(cell: string): string {
  let out = "";
  const utf8 = new TextEncoder();
  for (let i = 0; i < cell.length; i++) {
    const ch = cell[i]!;
    if (ch === "\\" && i + 1 < cell.length) {
      const next = cell[i + 1]!;
      const hex = next === "x" ? /^[0-9a-fA-F]{2}$/.exec(cell.slice(i + 2, i + 4)) : null;
      if (hex) {
        out += String.fromCharCode(parseInt(hex[0], 16));
        i += 3;
        continue;
      }
      const simple = SIMPLE_ESCAPES[next];
      if (simple !== undefined) {
        out += simple;
        i += 1;
        continue;
      }
    }
    const code = cell.charCodeAt(i);
    if (code < 0x80) out += ch;
    else {
      // Whole code points: a surrogate pair is one character of four UTF-8 bytes.
      const cp = cell.codePointAt(i)!;
      if (cp > 0xffff) i++;
      for (const b of utf8.encode(String.fromCodePoint(cp))) out += String.fromCharCode(b);
    }
  }
  return out;
}

const PYTHON_BYTE_ESCAPES: Record<number, string> = { 0x09: "\\t", 0x0a: "\\n", 0x0d: "\\r", 0x5c: "\\\\" };

/** Python's repr of bytes (`b'ping'`), as mitmproxy's log lines quote a payload. */
export function pythonBytesRepr(bytes: Uint8Array): string {
  // Python quotes with ' unless the bytes hold a ' and no ".
  const quote = bytes.includes(0x27) && !bytes.includes(0x22) ? '"' : "'";
  let out = `b${quote}`;
  for (const b of bytes) {
    const escape = PYTHON_BYTE_ESCAPES[b];
    if (escape) out += escape;
    else if (b === quote.charCodeAt(0)) out += `\\${quote}`;
    else if (b < 0x20 || b >= 0x7f) out += `\\x${b.toString(16).padStart(2, "0")}`;
    else out += String.fromCharCode(b);
  }
  return out + quote;
}
