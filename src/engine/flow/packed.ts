/**
 * A finished HTTP flow kept by the console, packed into a handful of heap objects.
 *
 * A stored HTTPFlow is about 28 objects (flow, messages, two Headers, their arrays, boxed
 * timestamps, strings). The console keeps every flow of a session, and each of those objects
 * is copied by the young-generation collector when it survives and walked again by every
 * full collection after: with 100,000 flows held, the garbage collector's threads cost the
 * proxy a fifth of its throughput. Packed, a flow is one record, one flat string holding all
 * its text, its numbers in a shared Float64Array, its body buffers as they were, and its
 * connections shared with the other flows of the same connection.
 *
 * Only what round-trips exactly is packed: a flow with trailers, a WebSocket, an edit backup,
 * metadata that is not plain JSON, or a NUL in any text stays an object (see `packable`).
 */
import { plainJson } from "./plain-json.ts";
import { FlowError, SEQ } from "./flow.ts";
import { HTTPFlow, Request, Response } from "./http.ts";
import { Headers } from "./headers.ts";
import type { Message } from "./message.ts";
import { SLAB_MAX_BODY } from "./body-slab.ts";
import { SpilledBody } from "./body-spill.ts";
import { CLIENT_FIELDS, UnpackableValue, packClient, packServer, unpackClient, unpackServer } from "./packed-connection.ts";
import {
  F_CLIENT_PACKED, F_ERROR, F_METADATA, F_REQ_STREAM, F_RES_STREAM, F_RESPONSE, F_SERVER_PACKED, N_CLIENT, N_CREATED, N_ERROR_TS, N_FLAGS,
  N_PORT, N_REQ_BODY, N_REQ_END, N_REQ_HEADERS, N_REQ_START, N_RES_BODY, N_RES_END, N_RES_HEADERS, N_RES_START, N_SERVER,
  N_STATUS, PackArena, PackedHTTPFlow, REQ_HEADERS, SEP, getBody, type LargeBody,
} from "./packed-layout.ts";

export { PackArena, PackedHTTPFlow } from "./packed-layout.ts";
export { PackedView } from "./packed-view.ts";

function hasMetadata(flow: HTTPFlow): boolean {
  for (const _ in flow.metadata) return true;
  return false;
}

/** Whether a flow packs and unpacks to an equal flow. */
export function packable(flow: unknown): flow is HTTPFlow {
  return (
    flow instanceof HTTPFlow &&
    !flow.live &&
    !flow.intercepted &&
    !flow.modified() &&
    flow.websocket === undefined &&
    flow.request.trailers === undefined &&
    flow.response?.trailers === undefined &&
    // Addons' metadata (mitmproxy scripts set it often) packs as JSON when it is plain JSON.
    (!hasMetadata(flow) || plainJson(flow.metadata))
  );
}

function pushHeaders(parts: string[], m: Message): number {
  const flat = m.plainHeaders.flat;
  const fields = flat.length >> 1;
  for (let i = 0; i < fields * 2; i++) parts.push(flat[i] as string);
  return fields;
}

/** A large body to the spill file, or, read back from it and unchanged, where it still is. */
function spill(body: Uint8Array, arena: PackArena): SpilledBody {
  const there = arena.unspilled.get(body);
  return there && arena.spill.retain(there) ? there : arena.spill.append(body);
}

/** Copies a small body into the slab and returns undefined; returns a large one to keep (spilled, with `spill_bodies`), or an absent one. */
function putBody(body: Uint8Array | undefined, arena: PackArena, n: Float64Array, at: number): LargeBody | undefined {
  n[at + 2] = -1;
  if (body === undefined) return undefined;
  if (body.length > SLAB_MAX_BODY) return arena.spillBodies ? spill(body, arena) : body;
  n[at + 2] = body.length;
  if (body.length > 0) arena.bodies.put(body, n, at);
  return undefined;
}

/** Gives back a packed flow's slot and body bytes: it was unpacked for good, or removed. */
export function releasePacked(p: PackedHTTPFlow, arena: PackArena): void {
  for (const body of [p.requestBody, p.responseBody]) if (body instanceof SpilledBody) arena.spill.release(body);
  const n = arena.numbers.page(p.slot);
  const at = arena.numbers.base(p.slot);
  for (const body of [N_REQ_BODY, N_RES_BODY]) {
    const length = n[at + body + 2] as number;
    if (length > 0) arena.bodies.release(n[at + body] as number, length);
  }
  arena.numbers.release(p.slot);
}

/** Packs a `packable` flow, or returns undefined when one of its strings holds the separator. */
export function packFlow(flow: HTTPFlow, seq: number, arena: PackArena): PackedHTTPFlow | undefined {
  const slab = arena.numbers;
  const req = flow.request;
  const res = flow.response;
  // pretty_url first: it is what filters read most (~u, and a bare word), found with one indexOf.
  const parts: string[] = [req.pretty_url, flow.id, flow.marked, flow.comment, flow.is_replay ?? "", flow.error?.msg ?? ""];
  parts.push(req.method, req.scheme, req.host, req.path, req.authority, req.http_version);
  const reqFields = pushHeaders(parts, req);
  let resFields = 0;
  if (res) {
    parts.push(res.reason, res.http_version);
    resFields = pushHeaders(parts, res);
  }
  const slot = slab.alloc();
  const n = slab.page(slot);
  const at = slab.base(slot);
  const client = flow.client_conn.closed ? undefined : flow.client_conn;
  const server = flow.server_conn.closed ? undefined : flow.server_conn;
  try {
    if (!client) packClient(flow.client_conn, parts, n, at + N_CLIENT);
    if (!server) packServer(flow.server_conn, parts, n, at + N_SERVER);
  } catch (err) {
    if (!(err instanceof UnpackableValue)) throw err;
    slab.release(slot);
    return undefined;
  }
  const metadata = hasMetadata(flow);
  if (metadata) parts.push(JSON.stringify(flow.metadata));
  for (let i = 0; i < parts.length; i++) {
    if ((parts[i] as string).includes(SEP)) {
      slab.release(slot);
      return undefined;
    }
  }
  n[at + N_CREATED] = flow.timestamp_created;
  n[at + N_PORT] = req.port;
  n[at + N_REQ_START] = req.timestamp_start;
  n[at + N_REQ_END] = req.timestamp_end ?? NaN;
  n[at + N_STATUS] = res?.status_code ?? 0;
  n[at + N_RES_START] = res?.timestamp_start ?? NaN;
  n[at + N_RES_END] = res?.timestamp_end ?? NaN;
  n[at + N_ERROR_TS] = flow.error?.timestamp ?? NaN;
  n[at + N_FLAGS] = (req.stream ? F_REQ_STREAM : 0) | (res?.stream ? F_RES_STREAM : 0) | (res ? F_RESPONSE : 0) | (flow.error ? F_ERROR : 0) |
    (client ? 0 : F_CLIENT_PACKED) | (server ? 0 : F_SERVER_PACKED) | (metadata ? F_METADATA : 0);
  n[at + N_REQ_HEADERS] = reqFields;
  n[at + N_RES_HEADERS] = resFields;
  const requestBody = putBody(req.raw_content, arena, n, at + N_REQ_BODY);
  const responseBody = putBody(res?.raw_content, arena, n, at + N_RES_BODY);
  return new PackedHTTPFlow(seq, slot, parts.join(SEP), requestBody, responseBody, client, server, flow.marked !== "");
}

function orUndefined(n: number): number | undefined {
  return Number.isNaN(n) ? undefined : n;
}

/** A new HTTPFlow equal to the one packed; the record stays valid. */
export function unpackFlow(p: PackedHTTPFlow, arena: PackArena): HTTPFlow {
  const s = p.text.split(SEP);
  const n = arena.numbers.page(p.slot);
  const at = arena.numbers.base(p.slot);
  const flags = n[at + N_FLAGS] as number;
  let i = REQ_HEADERS;
  const reqEnd = i + 2 * (n[at + N_REQ_HEADERS] as number);
  const request = new Request({
    method: s[6] as string,
    scheme: s[7] as string,
    host: s[8] as string,
    port: n[at + N_PORT] as number,
    path: s[9] as string,
    authority: s[10] as string,
    http_version: s[11] as string,
    headers: Headers.adopt(s.slice(i, reqEnd)),
    content: getBody(p.requestBody, arena, n, at + N_REQ_BODY),
    timestamp_start: n[at + N_REQ_START] as number,
  });
  request.timestamp_end = orUndefined(n[at + N_REQ_END] as number);
  request.stream = (flags & F_REQ_STREAM) !== 0;
  i = reqEnd;
  const resEnd = flags & F_RESPONSE ? i + 2 + 2 * (n[at + N_RES_HEADERS] as number) : i;
  const client = p.client ?? unpackClient(s, resEnd, n, at + N_CLIENT);
  const server = p.server ?? unpackServer(s, p.client ? resEnd : resEnd + CLIENT_FIELDS, n, at + N_SERVER);
  const flow = new HTTPFlow(client, server, request, s[1]);
  if (flags & F_RESPONSE) {
    const response = new Response({
      status_code: n[at + N_STATUS] as number,
      reason: s[i] as string,
      http_version: s[i + 1] as string,
      headers: Headers.adopt(s.slice(i + 2, resEnd)),
      content: getBody(p.responseBody, arena, n, at + N_RES_BODY),
      timestamp_start: n[at + N_RES_START] as number,
    });
    response.timestamp_end = orUndefined(n[at + N_RES_END] as number);
    response.stream = (flags & F_RES_STREAM) !== 0;
    flow.response = response;
  }
  flow.marked = s[2] as string;
  flow.comment = s[3] as string;
  if (flags & F_METADATA) flow.metadata = JSON.parse(s[s.length - 1] as string) as Record<string, unknown>;
  flow.is_replay = (s[4] || null) as HTTPFlow["is_replay"];
  if (flags & F_ERROR) flow.error = new FlowError(s[5] as string, n[at + N_ERROR_TS] as number);
  flow.timestamp_created = n[at + N_CREATED] as number;
  flow.live = false;
  flow[SEQ] = p.seq;
  return flow;
}
