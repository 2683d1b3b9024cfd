import type { Packet, Answer, Question } from "dns-packet";
import { Flow } from "./flow.ts";

/** A DNS message (mitmproxy's `dns.Message`), over dns-packet's decoded form. */
export class DNSMessage {
  constructor(public packet: Packet) {}

  get questions(): Question[] {
    return this.packet.questions ?? [];
  }

  get question(): Question | undefined {
    return this.questions[0];
  }

  get answers(): Answer[] {
    return this.packet.answers ?? [];
  }

  set answers(value: Answer[]) {
    this.packet.answers = value;
  }

  toString(): string {
    const q = this.questions.map((x) => `${x.name} ${x.type}`).join(", ");
    const a = this.answers.map((x) => `${x.name} ${x.type} ${JSON.stringify("data" in x ? x.data : "")}`).join(", ");
    return a ? `${q} -> ${a}` : q;
  }
}

export class DNSFlow extends Flow {
  readonly type = "dns" as const;
  request: DNSMessage;
  response: DNSMessage | undefined = undefined;

  constructor(client: ConstructorParameters<typeof Flow>[0], server: ConstructorParameters<typeof Flow>[1], request: DNSMessage) {
    super(client, server);
    this.request = request;
  }

  protected getState(): { request: Packet; response: Packet | undefined } {
    return { request: structuredClone(this.request.packet), response: this.response && structuredClone(this.response.packet) };
  }

  protected setState(state: unknown): void {
    const s = state as { request: Packet; response: Packet | undefined };
    this.request = new DNSMessage(s.request);
    this.response = s.response && new DNSMessage(s.response);
  }
}
