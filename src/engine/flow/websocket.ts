import { now } from "./now.ts";
import { BytesMessage } from "./message-bytes.ts";

/** One WebSocket message (mitmproxy's `WebSocketMessage`). */
export class WebSocketMessage extends BytesMessage {
  dropped = false;
  /** Made up by pryx (inject.websocket), not sent by the peer it is recorded from. */
  injected = false;
  constructor(
    readonly type: "text" | "binary",
    readonly from_client: boolean,
    content: Uint8Array | string,
    /** When it arrived; a flow read from a file passes the recorded one. */
    readonly timestamp = now(),
  ) {
    super(content);
  }

  protected fieldName(field: "content" | "text"): string {
    return `WebSocketMessage.${field}`;
  }

  get is_text(): boolean {
    return this.type === "text";
  }

  /** Keeps the message from being forwarded. */
  drop(): void {
    this.dropped = true;
  }
}

export class WebSocketData {
  messages: WebSocketMessage[] = [];
  closed_by_client: boolean | undefined = undefined;
  close_code: number | undefined = undefined;
  close_reason: string | undefined = undefined;
  timestamp_end: number | undefined = undefined;

  /** A copy with copies of its messages (a duplicated flow's are its own to edit). */
  clone(): WebSocketData {
    const ws = new WebSocketData();
    ws.messages = this.messages.map((m) => {
      const copy = new WebSocketMessage(m.type, m.from_client, Buffer.from(m.content), m.timestamp);
      copy.dropped = m.dropped;
      copy.injected = m.injected;
      return copy;
    });
    ws.closed_by_client = this.closed_by_client;
    ws.close_code = this.close_code;
    ws.close_reason = this.close_reason;
    ws.timestamp_end = this.timestamp_end;
    return ws;
  }
}
