import fs from "node:fs";
import path from "node:path";
import { makeDirectories } from "./make-directories.ts";
import { formatForPath, sniffFlowFile, type FileContent, type FlowFileFormat } from "./flow-file-format.ts";

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The strftime codes a file name takes (mitmproxy expands save paths with Python's strftime), in local time. */
export function strftime(pattern: string, t: Date): string {
  const dayOfYear = Math.floor((Date.UTC(t.getFullYear(), t.getMonth(), t.getDate()) - Date.UTC(t.getFullYear(), 0, 1)) / 86_400_000) + 1;
  const codes: Record<string, string> = {
    Y: String(t.getFullYear()),
    y: pad(t.getFullYear() % 100),
    m: pad(t.getMonth() + 1),
    d: pad(t.getDate()),
    H: pad(t.getHours()),
    I: pad(t.getHours() % 12 || 12),
    M: pad(t.getMinutes()),
    S: pad(t.getSeconds()),
    p: t.getHours() < 12 ? "AM" : "PM",
    j: pad(dayOfYear, 3),
    a: DAYS[t.getDay()] as string,
    b: MONTHS[t.getMonth()] as string,
    s: String(Math.floor(t.getTime() / 1000)),
    "%": "%",
  };
  return pattern.replace(/%(.)/g, (whole, code: string) => codes[code] ?? whole);
}

/**
 * Where a save path (-w, save.file) writes, as mitmproxy takes one: a leading "+" appends, strftime
 * codes are the time now (`-w 'caps/%Y-%m-%d.pryx'`), missing directories are made; and in which
 * format (see formatForPath). Throws, with the reason, for a place nothing can be written, and for
 * appending to a file of another format: pryx's lines after a mitmproxy capture (or a HAR), or
 * mitmproxy's records after pryx's lines, make a file no tool reads whole.
 */
export function savePath(spec: string, now = new Date()): { file: string; append: boolean; format: FlowFileFormat } {
  const append = spec.startsWith("+");
  const raw = append ? spec.slice(1) : spec;
  const file = raw.includes("%") ? strftime(raw, now) : raw;
  try {
    makeDirectories(path.dirname(path.resolve(file)));
  } catch (err) {
    throw new Error(`cannot save flows to ${file}: ${(err as Error).message}`);
  }
  const format = formatForPath(file);
  if (append) {
    const kind = existingKind(file);
    if (kind && kind.format !== format) {
      const records = format === "pryx" ? "pryx's flow lines" : "mitmproxy's flow records";
      throw new Error(`cannot append to ${file}: it is ${kind.label}, and ${records} after it would make it unreadable; save to a new file`);
    }
  }
  return { file, append, format };
}

/** What an existing file holds; undefined for an empty one or none. */
function existingKind(file: string): { label: string; format?: FlowFileFormat } | undefined {
  let head: Buffer;
  try {
    const fd = fs.openSync(file, "r");
    try {
      head = Buffer.alloc(64);
      head = head.subarray(0, fs.readSync(fd, head, 0, 64, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const labels: Record<FileContent, string> = { pryx: "a pryx flow file", mitmproxy: "a mitmproxy flow file", har: "a HAR file", other: "not a flow file", empty: "" };
  const content = sniffFlowFile(head);
  if (content === "empty") return undefined;
  return { label: labels[content], ...(content === "pryx" || content === "mitmproxy" ? { format: content } : {}) };
}
