import type { BoundAddresses } from "./own-address.ts";
import type { AddonManager } from "../hooks/addon-manager.ts";
import type { Options } from "../options.ts";
import type { Log } from "../log.ts";
import type { FlowStore } from "../store.ts";
import type { Flow } from "../flow/flow.ts";
import type tls from "node:tls";
import type { EagerServers } from "./eager.ts";
import type { SharedUpstreams } from "./pool.ts";
import type { Injectors } from "./injectors.ts";
import type { FdShortage } from "./fd-shortage.ts";

/** What TLS interception offers the protocol handlers, when a CA is loaded. */
export interface TlsProvider {
  /** A server-side secure context for a host name or IP. */
  contextFor(host: string): tls.SecureContext;
  /** The CA certificate in PEM, for the onboarding page. */
  onboarding(path: string): { status: number; headers: [string, string][]; body: Buffer };
}

/** Everything a connection handler needs from the engine, passed down instead of globals. */
import type { ProxyCredentials } from "./proxy-credentials.ts";

export interface ProxyContext {
  readonly addons: AddonManager;
  readonly options: Options;
  readonly log: Log;
  readonly store: FlowStore;
  readonly tls: TlsProvider | undefined;
  /** Called whenever a flow changed, so the UI learns of it. */
  notify(flow: Flow): void;
  /** Idle server connections clients left behind, for other clients to reuse. */
  readonly sharedUpstreams: SharedUpstreams;
  /** Connections alive now, so shutdown can close them. */
  readonly connections: Set<{ close(reason: string): void }>;
  /** Open WebSocket and TCP relays, for inject.websocket and inject.tcp. */
  readonly injectors: Injectors;
  /** Server connections opened at CONNECT (connection_strategy=eager) for what the tunnel carries. */
  readonly eagerServers: EagerServers;
  /** proxyauth's check, made once per value of the option. */
  readonly credentials: ProxyCredentials;
  /** Where pryx's own TCP listeners are bound, so a request for pryx itself is refused rather than looped. */
  readonly boundAddresses: BoundAddresses;
  /** Running out of file descriptors, said once per burst. */
  readonly fdShortage: FdShortage;
}
