/**
 * Live WebSocket and TCP relays that accept messages pryx makes up (mitmproxy's
 * `inject.websocket` and `inject.tcp`), by flow id, for as long as they relay.
 */
export type RelayKind = "websocket" | "tcp";
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
    if (!relay) throw new Error(`flow ${flowId} has no open ${kind === "websocket" ? "WebSocket" : "TCP"} connection to inject into`);
    if (relay.kind !== kind) throw new Error(`flow ${flowId} is a ${relay.kind === "websocket" ? "WebSocket" : "TCP"} flow: use inject.${relay.kind}`);
    relay.inject(toClient, content, isText);
  }
}
