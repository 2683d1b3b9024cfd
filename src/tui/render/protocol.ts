/** The messages between the console and the thread that renders large bodies (see body-renderer.ts). */
import type { LineChunk } from "../contentviews/line-list.ts";
import type { ViewName } from "../contentviews/index.ts";

export interface RenderRequest {
  readonly id: number;
  readonly body: Uint8Array;
  readonly contentType: string | undefined;
  readonly mode: ViewName;
  readonly maxLines: number;
  readonly query: [string, string][];
}

export type RenderReply =
  | { readonly id: number; readonly name: string; readonly error: string | undefined; readonly truncated: boolean; readonly chunks: LineChunk[] }
  | { readonly id: number; readonly failure: string };
