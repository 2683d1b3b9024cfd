import type { ContentView, LineSink } from "./types.ts";
import { formatJson } from "./json.ts";
import { pushTextLines } from "./text.ts";

/**
 * GraphQL requests, as mitmproxy's GraphQL view shows them: the request's other fields
 * (operationName, variables, extensions) as JSON, a `---` line, then the query as written, so
 * a query sent on one line inside a JSON string becomes readable. A batch shows each in turn.
 */

/** Larger bodies are not parsed just to choose a view. */
const SNIFF_LIMIT = 1024 * 1024;

type Operation = { query: string } & Record<string, unknown>;

const isOperation = (v: unknown): v is Operation => typeof v === "object" && v !== null && !Array.isArray(v) && typeof (v as { query?: unknown }).query === "string";

function operations(body: Uint8Array): Operation[] | undefined {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
  } catch {
    return undefined;
  }
  const list = Array.isArray(data) ? data : [data];
  return list.length > 0 && list.every(isOperation) ? list : undefined;
}

/** Whether a JSON body is a GraphQL request (or a batch of them). */
export function sniffGraphql(body: Uint8Array): boolean {
  // Most JSON has no "query" key: those are passed over without a parse.
  if (body.length > SNIFF_LIMIT || Buffer.from(body.buffer, body.byteOffset, body.byteLength).indexOf('"query"') === -1) return false;
  return operations(body) !== undefined;
}

function pushOperation(op: Operation, sink: LineSink): void {
  const { query, ...rest } = op;
  formatJson(Buffer.from(JSON.stringify(rest)), sink);
  if (!sink.push([{ text: "---", style: "punct" }])) return;
  const text = Buffer.from(query);
  pushTextLines(text, 0, text.length, sink);
}

export const graphqlView: ContentView = {
  title: "GraphQL",
  render(body, _ctx, sink) {
    const ops = operations(body);
    if (!ops) throw new Error("not a GraphQL request: expected JSON with a \"query\" string (or a list of them)");
    ops.forEach((op, i) => {
      if (i > 0 && !sink.push([{ text: "===", style: "punct" }])) return;
      pushOperation(op, sink);
    });
  },
};
