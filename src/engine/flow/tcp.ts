import { Flow } from "./flow.ts";
import { Server } from "./connection.ts";
import { now } from "./now.ts";
import { BytesMessage } from "./message-bytes.ts";

/** One chunk of a raw TCP (or UDP) stream, as it arrived. */
export class TCPMessage extends BytesMessage {
  constructor(
    readonly from_client: boolean,
    content: Uint8Array | string,
    /** When it arrived; a flow read from a file passes the recorded one. */
    readonly timestamp = now(),
  ) {
    super(content);
  }

  protected fieldName(field: "content" | "text"): string {
    return `TCPMessage.${field} (or UDPMessage.${field})`;
  }
}

/** One UDP datagram: the same fields as a TCP chunk (mitmproxy's UDPMessage). */
export { TCPMessage as UDPMessage };

/** A raw stream's flow: TCP chunks, or UDP datagrams, as they arrived. */
export abstract class StreamFlow extends Flow {
  abstract override readonly type: "tcp" | "udp";
  messages: TCPMessage[] = [];

  protected abstract blank(server: Server): StreamFlow;

  /** A copy with each message's bytes and arrival time, and no connection state. */
  copy(): StreamFlow {
    const f = this.blank(new Server(this.server_conn.address));
    f.messages = this.messages.map((m) => new TCPMessage(m.from_client, Buffer.from(m.content), m.timestamp));
    return this.copiedTo(f);
  }

  /** What an edit can change: each message's content, by its place. */
  protected getState(): Uint8Array[] {
    return this.messages.map((m) => Uint8Array.from(m.content));
  }

  /**
   * Puts the contents back into the same message objects: a relay holding one sends what it
   * holds, and messages that arrived after the edit stay.
   */
  protected setState(state: unknown): void {
    (state as Uint8Array[]).forEach((content, i) => {
      const m = this.messages[i];
      if (m) m.content = content;
    });
  }
}

export class TCPFlow extends StreamFlow {
  readonly type = "tcp" as const;
  protected blank(server: Server): TCPFlow {
    return new TCPFlow(this.client_conn, server);
  }
}

/** A UDP "connection": the datagrams between one client address and its server, until it goes idle. */
export class UDPFlow extends StreamFlow {
  readonly type = "udp" as const;
  protected blank(server: Server): UDPFlow {
    return new UDPFlow(this.client_conn, server);
  }
}
