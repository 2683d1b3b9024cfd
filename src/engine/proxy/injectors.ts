/**
 * Live WebSocket, TCP and UDP relays that accept messages pryx makes up (mitmproxy's
 * `inject.websocket`, `inject.tcp` and `inject.udp`), by flow id, for as long as they relay.
 */
export type RelayKind = "websocket" | "tcp" | "udp";
const KIND_NAMES: Record<RelayKind, string> = { websocket: "WebSocket", tcp: "TCP", udp: "UDP" };
export type Inject = (toClient: boolean, content: Buffer, isText: boolean) => void;

export class Injectors {
  private readonly byFlow = new Map<string, { kind: RelayKind; inject: Inject }>();

  add(flowId: string, kind: RelayKind, inject: Inject): void {
    this.byFlow.set(flowId, { kind, inject });
  }

  delete(flowId: string): void {
    this.byFlow.delete(flowId);
  }

  /** Sends `content` on the flow's relay, or says why it cannot. */
  inject(flowId: string, kind: RelayKind, toClient: boolean, content: Buffer, isText: boolean): void {
    const relay = this.byFlow.get(flowId);
    if (!relay) throw new Error(`flow ${flowId} has no open ${KIND_NAMES[kind]} connection to inject into`);
    if (relay.kind !== kind) throw new Error(`flow ${flowId} is a ${KIND_NAMES[relay.kind]} flow: use inject.${relay.kind}`);
    relay.inject(toClient, content, isText);
  }
}
