import { EDIT_IN_PROGRESS, type FlowPatch } from "../../protocol.ts";
import { Headers, validateHeaderField } from "./headers.ts";
import { HTTPFlow, Response, validateMethod, validateStatus, HttpEditError } from "./http.ts";
import type { Flow } from "./flow.ts";
import { StreamFlow } from "./tcp.ts";

/**
 * Applies a console edit to any flow: an HTTP flow's parts (`applyPatch`), a message of a
 * WebSocket, TCP or UDP flow, a comment. A held message goes on with the new content when the
 * flow is resumed: the relay sends the very message object edited here.
 */
export function applyFlowPatch(flow: Flow, patch: FlowPatch): void {
  const { message, ...rest } = patch;
  const messages = flow instanceof StreamFlow ? flow.messages : flow instanceof HTTPFlow ? flow.websocket?.messages : undefined;
  if (message) {
    if (!messages) throw new HttpEditError(`a ${flow.type} flow${flow instanceof HTTPFlow ? " without a WebSocket" : ""} has no messages to edit`);
    if (!messages[message.index]) throw new HttpEditError(`the flow has no message ${message.index + 1} (it has ${messages.length})`);
  }
  const http = Object.keys(rest).some((k) => k !== "comment");
  if (http && !(flow instanceof HTTPFlow)) throw new HttpEditError(`cannot edit the HTTP parts of a ${flow.type} flow`);
  // Edited while it runs, unpaused, the exchange overwrites it (the server's response replaces an
  // edited one) or has sent what it had already: the edit would be lost without a word.
  if (http && flow instanceof HTTPFlow && flow.live && !flow.intercepted && !flow.websocket) {
    throw new HttpEditError(EDIT_IN_PROGRESS);
  }
  if (flow instanceof HTTPFlow) applyPatch(flow, rest);
  else flow.backupState();
  if (rest.comment !== undefined) flow.comment = rest.comment;
  if (message && messages) (messages[message.index] as { content: Uint8Array }).content = message.content;
}

/**
 * Applies a console edit to a flow. Everything is validated before anything changes, so a
 * bad value (a header with CR/LF, an invalid method or status) leaves the flow as it was.
 */
export function applyPatch(flow: HTTPFlow, patch: FlowPatch): void {
  if (patch.method !== undefined) validateMethod(patch.method);
  if (patch.statusCode !== undefined) validateStatus(patch.statusCode);
  if (patch.reason !== undefined && /[\r\n]/.test(patch.reason)) throw new HttpEditError("the reason phrase cannot contain CR or LF");
  for (const [n, v] of [...(patch.requestHeaders ?? []), ...(patch.responseHeaders ?? [])]) validateHeaderField(n, v);
  if (patch.url !== undefined) {
    try {
      new URL(patch.url);
    } catch {
      throw new HttpEditError(`invalid URL ${JSON.stringify(patch.url)}`);
    }
  }
  if (patch.path !== undefined && (!patch.path.startsWith("/") || /[\s]/.test(patch.path))) throw new HttpEditError(`invalid path ${JSON.stringify(patch.path)}: must start with / and contain no spaces`);

  flow.backupState();
  const req = flow.request;
  if (patch.method !== undefined) req.method = patch.method;
  if (patch.url !== undefined) req.url = patch.url;
  if (patch.path !== undefined) req.path = patch.path;
  if (patch.query !== undefined) req.query = patch.query;
  if (patch.requestHeaders !== undefined) req.headers = Headers.fromBytes(patch.requestHeaders);
  if (patch.requestBody !== undefined) req.content = patch.requestBody;
  const touchesResponse = patch.statusCode !== undefined || patch.reason !== undefined || patch.responseHeaders !== undefined || patch.responseBody !== undefined;
  if (touchesResponse && !flow.response) flow.response = Response.make(200);
  const res = flow.response;
  if (res) {
    if (patch.statusCode !== undefined) {
      res.status_code = patch.statusCode;
      if (patch.reason === undefined) res.reason = new Response({ status_code: patch.statusCode }).reason;
    }
    if (patch.reason !== undefined) res.reason = patch.reason;
    if (patch.responseHeaders !== undefined) res.headers = Headers.fromBytes(patch.responseHeaders);
    if (patch.responseBody !== undefined) res.content = patch.responseBody;
  }
  if (patch.comment !== undefined) flow.comment = patch.comment;
}
