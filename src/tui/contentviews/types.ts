import type { MessageSchema } from "../../proto-definitions.ts";
import type { CONTENT_VIEWS } from "../../console-choices.ts";
import { PackedLines, type LineList } from "./line-list.ts";

export type ViewName = (typeof CONTENT_VIEWS)[number];

export type SegmentStyle =
  | "key"
  | "string"
  | "number"
  | "boolean"
  | "null"
  | "punct"
  | "offset"
  | "dim"
  | "heading"
  | "error";

export interface Segment {
  text: string;
  style?: SegmentStyle;
}

/** One display line, already split: no segment contains "\n". */
export type Line = Segment[];

export interface ViewResult {
  /** The view's display name for the status bar, e.g. "JSON", "Raw", "PNG Image". */
  name: string;
  lines: LineList;
  /** Set only when auto's pick failed and it fell back to Raw, e.g. "[failed to parse as JSON]". */
  error?: string;
  /** The lines stopped at maxLines; the last line is the notice that says so. */
  truncated?: true;
  /** The whole body is still being rendered on another thread; these are its first lines. */
  pending?: true;
}

/** What a view may know about the message besides its body. */
export interface ViewContext {
  /** Lower-cased media type without parameters, "" when unknown. */
  mime: string;
  /** Content-Type parameters, lower-cased names, unquoted values. */
  params: ReadonlyMap<string, string>;
  query: readonly (readonly [string, string])[];
  /** The message type protobuf_definitions names for this body (gRPC and protobuf views). */
  schema?: MessageSchema | undefined;
}

/**
 * Collects lines up to a cap. Views ask `more()` before building each line so that a cut
 * body costs work proportional to what is shown, not to its size.
 */
export class LineSink {
  readonly lines = new PackedLines();
  /** True once a view had more to show than the cap allowed. */
  truncated = false;

  constructor(readonly max: number) {}

  more(): boolean {
    if (this.lines.length < this.max) return true;
    this.truncated = true;
    return false;
  }

  push(line: Line): boolean {
    if (!this.more()) return false;
    this.lines.push(line);
    return true;
  }
}

export interface ContentView {
  /** Display name; also used in "[failed to parse as <title>]". */
  title: string;
  /** May throw on malformed input. Returns a more specific name when the body tells one (e.g. "PNG Image"). */
  render(body: Uint8Array, ctx: ViewContext, sink: LineSink): string | void;
  /** The lines made one by one as they are read, for a view whose every line stands alone (hex): used in place of `render`. */
  lines?(body: Uint8Array): LineList;
}
