import type net from "node:net";
import { createRequire } from "node:module";
import type { HTTPFlow } from "../flow/http.ts";
import { WebSocketData, WebSocketMessage } from "../flow/websocket.ts";
import { FlowError } from "../flow/flow.ts";
import type { ProxyContext } from "./context.ts";
import { waitIfIntercepted } from "./paused.ts";
import { endWhenIdle } from "./idle-timeout.ts";
import { formatAddress } from "../flow/connection.ts";
import { pythonBytesRepr } from "../../escapes.ts";
import { now } from "../flow/now.ts";
import { serverClosed } from "./upstream.ts";

/** The parts of ws's framing classes pryx uses (ws exports them, its typings do not). */
interface Receiver {
  write(chunk: Buffer): boolean;
  on(ev: "message", fn: (data: Buffer, isBinary: boolean) => void): this;
  on(ev: "ping" | "pong", fn: (data: Buffer) => void): this;
  on(ev: "conclude", fn: (code: number, reason: Buffer) => void): this;
  on(ev: "error", fn: (err: Error) => void): this;
}
interface Sender {
  send(data: Buffer, opts: { binary: boolean; fin: boolean; mask: boolean; compress: boolean }, cb?: (err?: Error) => void): void;
  close(code: number | undefined, reason: Buffer | string, mask: boolean, cb?: (err?: Error) => void): void;
  ping(data: Buffer, mask: boolean, cb?: (err?: Error) => void): void;
  pong(data: Buffer, mask: boolean, cb?: (err?: Error) => void): void;
}
/** An extension header's offers or answer, by extension name: each a list of parameter sets (values as strings, or true). */
type ExtensionOffers = Record<string, Record<string, (string | true)[]>[]>;
interface PerMessageDeflate {
  /** The agreed parameters: set by accept, read by the inflater. */
  params: Record<string, number | true> | null;
  accept(configurations: Record<string, (string | true)[]>[]): Record<string, number | true>;
  cleanup(): void;
}
interface WsInternals {
  Receiver: new (opts: { isServer: boolean; maxPayload: number; extensions?: Record<string, PerMessageDeflate> }) => Receiver;
  Sender: new (socket: net.Socket) => Sender;
  PerMessageDeflate: (new (opts: { isServer: boolean; maxPayload: number }) => PerMessageDeflate) & { extensionName: string };
  extension: { parse(header: string): ExtensionOffers; format(offers: ExtensionOffers): string };
}

const { Receiver, Sender, PerMessageDeflate, extension } = createRequire(import.meta.url)("ws") as WsInternals;
const DEFLATE = PerMessageDeflate.extensionName;

/**
 * The Sec-WebSocket-Extensions a client's handshake may send on: its permessage-deflate offers
 * alone, the one extension pryx can read (undefined: the header goes, as for none at all).
 */
function relayableExtensions(offered: string): string | undefined {
  try {
    const offers = extension.parse(offered)[DEFLATE];
    return offers ? extension.format({ [DEFLATE]: offers }) : undefined;
  } catch {
    return undefined;
  }
}

/** A WebSocket handshake's header fields with its Sec-WebSocket-Extensions cut to what pryx can read, in its place. */
export function withRelayableExtensions(fields: [string, string][]): [string, string][] {
  const named = (n: string): boolean => n.toLowerCase() === "sec-websocket-extensions";
  const offered = fields.filter(([n]) => named(n)).map(([, v]) => v);
  const relayable = offered.length ? relayableExtensions(offered.join(", ")) : undefined;
  let placed = false;
  return fields.flatMap(([n, v]): [string, string][] => {
    if (!named(n)) return [[n, v]];
    if (placed || relayable === undefined) return [];
    placed = true;
    return [[n, relayable]];
  });
}

/**
 * The inflaters for what each side sends, set as the 101's permessage-deflate says (a receiver
 * without one refuses a compressed frame). pryx sends every message uncompressed, which the
 * extension allows message by message, so only reading needs the agreed parameters.
 */
function agreedDeflate(answer: string | undefined): { fromClient: PerMessageDeflate; fromServer: PerMessageDeflate } | undefined {
  const agreed = answer ? extension.parse(answer)[DEFLATE] : undefined;
  if (!agreed) return undefined;
  const fromServer = new PerMessageDeflate({ isServer: false, maxPayload: MAX_PAYLOAD });
  fromServer.accept(agreed);
  const fromClient = new PerMessageDeflate({ isServer: true, maxPayload: MAX_PAYLOAD });
  fromClient.params = fromServer.params;
  return { fromClient, fromServer };
}

/** The largest message pryx relays (mitmproxy holds any): it is kept whole in memory, once for the flow and once being framed. */
const MAX_PAYLOAD = 1024 * 1024 * 1024;

/** Whether a request asks for a WebSocket upgrade. */
export function isWebSocketUpgrade(headers: { get(name: string): string | undefined }): boolean {
  return (headers.get("upgrade") ?? "").toLowerCase() === "websocket";
}

/**
 * A WebSocket connection after the 101: frames are decoded on both sides with ws's
 * receiver, each message recorded in `flow.websocket.messages` and shown to
 * websocket_message hooks (which may change or drop it) before it is re-framed for the
 * other side. Pings and pongs pass through, logged as mitmproxy logs them, in their place among
 * the messages. Compressed messages (permessage-deflate) are recorded and hooked inflated and sent
 * on uncompressed. websocket_end (then the flow ends) once both sides have closed.
 */
export class WebSocketRelay {
  private ended = false;
  private closes = 0;
  /** Messages in their hooks or held by the intercept filter, both directions. */
  private held = 0;
  /**
   * The messages that pass the hooks, both ways in one queue: while the intercept filter holds
   * one, the other side's wait behind it rather than joining the list past it (mitmproxy's held
   * message stops the whole connection), so the held message is the flow's last.
   */
  private chain = Promise.resolve();
  private deflate: ReturnType<typeof agreedDeflate>;
  private senders: { toServer: Sender; toClient: Sender } | undefined;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly flow: HTTPFlow,
    private readonly client: net.Socket,
    private readonly server: net.Socket,
  ) {}

  async start(clientRest: Buffer | undefined, serverRest: Buffer | undefined): Promise<void> {
    const { flow, ctx } = this;
    // Set before the 101's response hook; a relay started otherwise makes its own.
    flow.websocket ??= new WebSocketData();
    flow.live = true;
    ctx.notify(flow);
    // Framers for each way, made before websocket_start so that its hook can already inject.
    const toServer = new Sender(this.server);
    const toClient = new Sender(this.client);
    this.senders = { toServer, toClient };
    // inject.websocket: a message pryx makes up, recorded as the peer it seems to come from sent
    // it, and passed through websocket_message like a received one (`injected` tells them apart),
    // as in mitmproxy: an addon rewriting messages rewrites these too.
    ctx.injectors.add(flow.id, "websocket", (toClientSide, content, isText) => {
      const msg = new WebSocketMessage(isText ? "text" : "binary", !toClientSide, content);
      msg.injected = true;
      this.pass(msg, toClientSide ? toClient : toServer, undefined);
    });
    await ctx.addons.trigger("websocket_start", flow);
    // X on the open connection (not held at a message) drops it at once.
    flow.onKill(() => this.end(new Error("killed")));
    try {
      this.deflate = agreedDeflate(flow.response?.headers.get("sec-websocket-extensions"));
    } catch (err) {
      // The server's answer is one its client refuses too; its compressed frames are errors then.
      ctx.log.warn(`${formatAddress(flow.client_conn.peername)}: WebSocket: the server's permessage-deflate answer is invalid: ${(err as Error).message}`);
    }
    this.wire(this.client, true, clientRest, toServer);
    this.wire(this.server, false, serverRest, toClient);
    endWhenIdle(this.client, this.server, ctx.options.get<number>("tcp_timeout"), () => this.held > 0, (err) => this.end(err));
  }

  /**
   * One message, received or injected, to the other side through `sender` (the framer writing
   * there). With no hook that has work (no script, no intercept filter) and none in the hooks, it
   * goes straight through; otherwise every message passes websocket_message and the intercept
   * filter, in order, while `src` (what sent it) waits.
   */
  private pass(msg: WebSocketMessage, sender: Sender, src: net.Socket | undefined): void {
    const { flow, ctx } = this;
    const ws = flow.websocket as WebSocketData;
    const dst = msg.from_client ? this.server : this.client;
    // Frames pryx sends to the server must be masked, as a client's are.
    const send = (): void => sender.send(Buffer.from(msg.content), { binary: msg.type === "binary", fin: true, mask: msg.from_client, compress: false });
    if (this.held === 0 && !ctx.addons.wants("websocket_message")) {
      ws.messages.push(msg);
      send();
      ctx.notify(flow);
      return;
    }
    this.held++;
    src?.pause();
    this.chain = this.chain.then(async () => {
      // Hooks see the message as the last of the list, so it joins the list when its turn comes.
      ws.messages.push(msg);
      await ctx.addons.trigger("websocket_message", flow);
      try {
        await waitIfIntercepted(ctx, flow);
      } catch {
        // Killed while the message was held: the connection goes, as in mitmproxy.
        this.end(new Error("killed"));
        return;
      } finally {
        this.held--;
      }
      if (!msg.dropped && !dst.destroyed) send();
      ctx.notify(flow);
      src?.resume();
    });
  }

  /** Relays what `src` sends through `sender`, the framer writing to the other side. */
  private wire(src: net.Socket, fromClient: boolean, rest: Buffer | undefined, sender: Sender): void {
    const dst = fromClient ? this.server : this.client;
    // Frames from the client are masked; frames pryx sends to the server must be masked too.
    const inflater = fromClient ? this.deflate?.fromClient : this.deflate?.fromServer;
    const receiver = new Receiver({ isServer: fromClient, maxPayload: MAX_PAYLOAD, ...(inflater ? { extensions: { [DEFLATE]: inflater } } : {}) });
    const mask = fromClient;
    receiver.on("message", (data, isBinary) => this.pass(new WebSocketMessage(isBinary ? "binary" : "text", fromClient, Buffer.from(data)), sender, src));
    const control = (kind: "ping" | "pong") => (payload: Buffer): void => {
      this.ctx.log.info(`${formatAddress(this.flow.client_conn.peername)}: Received WebSocket ${kind} from ${fromClient ? "client" : "server"} (payload: ${pythonBytesRepr(payload)})`);
      const relay = (): void => void (dst.destroyed || sender[kind](payload, mask));
      // Behind the messages still in their hooks: a pong must not overtake the message before it.
      if (this.held === 0) relay();
      else this.chain = this.chain.then(relay);
    };
    receiver.on("ping", control("ping"));
    receiver.on("pong", control("pong"));
    receiver.on("conclude", (code, reason) => {
      void this.chain.then(() => {
        this.recordClose(code, reason.toString(), fromClient);
        if (!dst.destroyed) sender.close(code === 1005 ? undefined : code, reason, mask, () => undefined);
        if (++this.closes >= 2) this.end();
      });
    });
    // A frame pryx cannot read ends the connection with that reason, whatever close was under way.
    // As wsproto has mitmproxy do, both sides get a close frame with the code RFC 6455 gives it
    // (1002, 1007 for bad text or compressed data) and the reason; they saw a dropped connection (1006).
    receiver.on("error", (err: Error & { code?: string }) => {
      const side = fromClient ? "client" : "server";
      const tooLarge = /max payload/i.test(err.message);
      const reason = err.message.replace(/^Invalid WebSocket frame: /, "");
      const code = tooLarge ? 1009 : closeCodeFor(err);
      this.recordClose(code, reason, fromClient);
      if (!this.client.destroyed) this.senders?.toClient.close(code, reason, false, () => undefined);
      if (!this.server.destroyed) this.senders?.toServer.close(code, reason, true, () => undefined);
      const said = tooLarge ? `a WebSocket message from the ${side} is over ${MAX_PAYLOAD / 2 ** 20} MiB, more than pryx holds` : `the ${side} sent an invalid WebSocket frame: ${reason}`;
      this.end(new Error(said), true, true);
    });
    src.on("data", (d: Buffer) => receiver.write(d));
    // Node's "read ECONNRESET" names neither side.
    src.on("error", (err: Error & { code?: string }) => this.end(err.code === "ECONNRESET" ? new Error(`the ${fromClient ? "client" : "server"} reset the WebSocket connection (ECONNRESET)`) : err));
    src.on("close", () => {
      // Give the other side's close frame a moment to be relayed before tearing down.
      setTimeout(() => this.end(this.closes >= 2 ? undefined : new Error(`${fromClient ? "client" : "server"} closed the WebSocket connection without a close frame`)), 50).unref();
    });
    if (rest?.length) receiver.write(rest);
    src.resume();
  }

  /**
   * pryx is shutting down: both sides get a close frame, 1001 (going away), as mitmproxy's
   * peers get a clean close, rather than a dropped connection (1006) they may take for a fault.
   */
  goAway(reason: string): void {
    if (this.ended) return;
    this.recordClose(1001, reason, false);
    if (!this.client.destroyed) this.senders?.toClient.close(1001, reason, false, () => undefined);
    if (!this.server.destroyed) this.senders?.toServer.close(1001, reason, true, () => undefined);
    this.end();
  }

  /** `err`: why the connection ended otherwise than by both close frames; `always`: recorded even after a close frame. */
  /** The first close is the flow's: who closed, with what code and reason. */
  private recordClose(code: number, reason: string, byClient: boolean): void {
    const ws = this.flow.websocket;
    if (!ws || ws.close_code !== undefined) return;
    ws.close_code = code;
    ws.close_reason = reason;
    ws.closed_by_client = byClient;
  }

  /** `flushed`: the sockets are ended, not dropped, so the close frames just sent reach the peers. */
  private end(err?: Error, always = false, flushed = false): void {
    if (this.ended) return;
    this.ended = true;
    const { flow, ctx } = this;
    ctx.injectors.delete(flow.id);
    flow.onKill(undefined);
    this.deflate?.fromClient.cleanup();
    this.deflate?.fromServer.cleanup();
    if (err && !flow.error && (always || flow.websocket?.close_code === undefined)) flow.error = new FlowError(err.message);
    // A message held by the intercept filter goes nowhere now: let its relay chain end.
    if (flow.intercepted) flow.resume();
    if (flow.websocket) flow.websocket.timestamp_end = now();
    for (const sock of [this.client, this.server]) closeSocket(sock, err !== undefined && !flushed);
    // mitmproxy closes both before websocket_end, and saves the flow so.
    flow.client_conn.connected = flow.server_conn.connected = false;
    flow.live = false;
    ctx.notify(flow);
    // The server connection is reported closed after websocket_end, as mitmproxy orders them.
    void ctx.addons.trigger("websocket_end", flow).then(() => serverClosed(ctx, flow.client_conn, flow.server_conn));
  }
}

/** RFC 6455 7.4.1's close code for a frame ws's receiver refused: 1007 for text that is no UTF-8 or data that does not inflate, 1008 for too many parts, else 1002 (a protocol error). */
function closeCodeFor(err: { code?: string }): number {
  if (err.code === "WS_ERR_INVALID_UTF8" || err.code?.startsWith("Z_")) return 1007;
  if (err.code === "WS_ERR_TOO_MANY_BUFFERED_PARTS") return 1008;
  if (err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH" || err.code === "WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH") return 1009;
  return 1002;
}

/** How long a cleanly closed WebSocket's sockets may take to flush before they are destroyed. */
const FLUSH_MS = 1000;

/**
 * After an error, drops the socket. After a clean close, ends it instead: the close frame
 * just relayed may still be queued (a TLS socket encrypts and writes it asynchronously), and
 * destroy() would discard it, leaving the peer with 1006 instead of the close code.
 */
function closeSocket(sock: net.Socket, abort: boolean): void {
  if (abort || sock.destroyed) {
    sock.destroy();
    return;
  }
  sock.end();
  setTimeout(() => sock.destroy(), FLUSH_MS).unref();
}
