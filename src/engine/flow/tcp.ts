import { Flow } from "./flow.ts";

/** One chunk of a raw TCP (or UDP) stream, as it arrived. */
export class TCPMessage {
  constructor(
    readonly from_client: boolean,
    public content: Uint8Array,
    /** When it arrived; a flow read from a file passes the recorded one. */
    readonly timestamp = Date.now() / 1000,
  ) {}

  get text(): string {
    return Buffer.from(this.content).toString("utf8");
  }

  set text(value: string) {
    this.content = Buffer.from(value, "utf8");
  }
}

export class TCPFlow extends Flow {
  readonly type = "tcp" as const;
  messages: TCPMessage[] = [];

  protected getState(): TCPMessage[] {
    return this.messages.map((m) => new TCPMessage(m.from_client, Uint8Array.from(m.content)));
  }

  protected setState(state: unknown): void {
    this.messages = state as TCPMessage[];
  }
}
