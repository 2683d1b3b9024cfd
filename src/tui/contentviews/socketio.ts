import type { ContentView } from "./types.ts";
import { formatJson } from "./json.ts";
import { visible } from "./text.ts";

/**
 * Socket.IO messages (mitmproxy's Socket.IO view), as they cross a WebSocket: an Engine.IO
 * packet type digit, then for a message a Socket.IO packet type, an optional namespace and
 * acknowledgement id, and the JSON payload. Shown as a heading naming the packet and the
 * payload pretty-printed.
 */

const ENGINE_IO = ["open", "close", "ping", "pong", "message", "upgrade", "noop"];
const SOCKET_IO = ["CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"];

/** Engine.IO type, then (for a message) Socket.IO type, binary attachments, namespace, ack id, JSON. */
const PACKET = /^([0-6])(?:([0-6])(?:(\d+)-)?(?:(\/[^,]*),)?(\d+)?)?([\s\S]*)$/;

interface Packet {
  heading: string;
  payload: string;
}

function parse(text: string): Packet | undefined {
  const m = PACKET.exec(text);
  if (!m) return undefined;
  const engine = ENGINE_IO[Number(m[1])] as string;
  if (m[2] === undefined) return { heading: `Engine.IO ${engine}`, payload: m[6] ?? "" };
  const parts = [`Socket.IO ${SOCKET_IO[Number(m[2])]}`];
  if (m[4]) parts.push(`namespace ${m[4]}`);
  if (m[5]) parts.push(`ack ${m[5]}`);
  if (m[3]) parts.push(`${m[3]} binary attachment${m[3] === "1" ? "" : "s"}`);
  return { heading: parts.join(", "), payload: m[6] ?? "" };
}

/** Whether a text message is plainly Socket.IO: an event or ack with a JSON array, or a connect with an object. */
export function sniffSocketIo(body: Uint8Array): boolean {
  if (body.length < 3 || body.length > 1024 * 1024) return false;
  const head = Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, 256)).toString("latin1");
  return /^4[2356](\d+-)?(\/[^,]*,)?\d*\[/.test(head) || /^40(\/[^,]*,)?\{/.test(head) || /^0\{"sid"/.test(head);
}

export const socketioView: ContentView = {
  title: "Socket.IO",
  render(body, _ctx, sink) {
    const packet = parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
    if (!packet) throw new Error("not a Socket.IO packet: it starts with an Engine.IO packet type, 0 to 6");
    if (!sink.push([{ text: visible(packet.heading), style: "heading" }])) return;
    if (packet.payload.trim()) formatJson(Buffer.from(packet.payload), sink);
  },
};
