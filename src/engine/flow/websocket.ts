/** One WebSocket message (mitmproxy's `WebSocketMessage`). */
export class WebSocketMessage {
  dropped = false;
  /** Made up by pryx (inject.websocket), not sent by the peer it is recorded from. */
  injected = false;
  constructor(
    readonly type: "text" | "binary",
    readonly from_client: boolean,
    public content: Uint8Array,
    /** When it arrived; a flow read from a file passes the recorded one. */
    readonly timestamp = Date.now() / 1000,
  ) {}

  get is_text(): boolean {
    return this.type === "text";
  }

  get text(): string {
    return Buffer.from(this.content).toString("utf8");
  }

  set text(value: string) {
    this.content = Buffer.from(value, "utf8");
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
}
