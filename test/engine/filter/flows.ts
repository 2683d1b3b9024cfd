// Plain-object flows for filter tests: the filter only needs FilterableFlow,
// so tests do not depend on the real flow classes.
import type {
  FilterableDNSFlow,
  FilterableHTTPFlow,
  FilterableMessage,
  FilterableStreamFlow,
} from "../../../src/engine/filter/index.ts";

type Body = string | Uint8Array;

export interface BaseOptions {
  marked?: string;
  is_replay?: "request" | "response" | null;
  comment?: string;
  metadata?: Record<string, unknown>;
  error?: string;
  intercepted?: boolean;
  peername?: [string, number] | undefined;
  address?: [string, number] | undefined;
}

export interface HttpOptions extends BaseOptions {
  method?: string;
  url?: string;
  host?: string;
  pretty_host?: string;
  headers?: [string, string][];
  body?: Body;
  response?: {
    status_code?: number;
    headers?: [string, string][];
    body?: Body;
  };
  websocket?: { from_client: boolean; content: Body }[];
}

const encoder = new TextEncoder();

export function bytes(body: Body | undefined): Uint8Array | undefined {
  return typeof body === "string" ? encoder.encode(body) : body;
}

function base(o: BaseOptions) {
  return {
    marked: o.marked ?? "",
    is_replay: o.is_replay ?? null,
    comment: o.comment ?? "",
    metadata: o.metadata ?? {},
    error: o.error === undefined ? undefined : { msg: o.error },
    intercepted: o.intercepted ?? false,
    client_conn: { peername: "peername" in o ? o.peername : (["127.0.0.1", 51234] as [string, number]) },
    server_conn: { address: "address" in o ? o.address : (["93.184.216.34", 443] as [string, number]) },
  };
}

/** A body getter that gives these bytes. */
function always(body: Uint8Array | undefined): () => Uint8Array | undefined {
  return () => body;
}

function messages(list: { from_client: boolean; content: Body }[]): FilterableMessage[] {
  return list.map((m) => ({ from_client: m.from_client, content: bytes(m.content) ?? new Uint8Array() }));
}

export function httpFlow(o: HttpOptions = {}): FilterableHTTPFlow {
  const host = o.host ?? "example.com";
  return {
    ...base(o),
    type: "http",
    request: {
      method: o.method ?? "GET",
      pretty_url: o.url ?? `https://${host}/index.html`,
      host,
      pretty_host: o.pretty_host ?? host,
      headers: o.headers ?? [
        ["Host", host],
        ["User-Agent", "curl/8.5.0"],
      ],
      get_content: always(bytes(o.body)),
    },
    response: o.response && {
      status_code: o.response.status_code ?? 200,
      headers: o.response.headers ?? [["Content-Type", "text/html; charset=utf-8"]],
      get_content: always(bytes(o.response.body)),
    },
    websocket: o.websocket && { messages: messages(o.websocket) },
  };
}

export function streamFlow(
  type: "tcp" | "udp",
  msgs: { from_client: boolean; content: Body }[] = [],
  o: BaseOptions = {},
): FilterableStreamFlow {
  return { ...base(o), type, messages: messages(msgs) };
}

export interface DnsOptions extends BaseOptions {
  questions?: string[];
  /** The answer address; omit for a flow without a response. */
  answer?: string;
}

export function dnsFlow(o: DnsOptions = {}): FilterableDNSFlow {
  const questions = (o.questions ?? ["example.com"]).map((name) => ({ name }));
  const answer = o.answer;
  return {
    ...base(o),
    type: "dns",
    request: {
      questions,
      toString: () => `query ${questions.map((q) => `${q.name} A`).join(", ")}`,
    },
    response:
      answer === undefined
        ? undefined
        : { toString: () => `answer ${questions.map((q) => `${q.name} A ${answer}`).join(", ")}` },
  };
}
