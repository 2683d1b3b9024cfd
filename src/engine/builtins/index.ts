import type { Log } from "../log.ts";
import { AntiCacheAddon } from "./anticache.ts";
import { AntiCompAddon } from "./anticomp.ts";
import { BlockAddon } from "./block.ts";
import { BodySizeAddon } from "./body-size.ts";
import { BlockListAddon } from "./block-list.ts";
import { MapRemoteAddon } from "./map-remote.ts";
import { MapLocalAddon } from "./map-local.ts";
import { ModifyBodyAddon } from "./modify-body.ts";
import { ModifyHeadersAddon } from "./modify-headers.ts";
import { ServerPlaybackAddon } from "./server-playback.ts";
import { ClientPlaybackAddon } from "./client-playback.ts";
import { StickyAuthAddon, StickyCookieAddon } from "./sticky.ts";
import { KeepServingAddon } from "./keepserving.ts";
import { HarDumpAddon } from "./har-dump.ts";
import { StripDnsHttpsRecordsAddon } from "./strip-dns-https.ts";
import { UpdateAltSvcAddon } from "./update-alt-svc.ts";
import { BrowserAddon } from "./browser.ts";
import { ProxyDebugAddon } from "./proxy-debug.ts";
import { ConnectionLogAddon } from "./connection-log.ts";
import { ReverseAuthAddon } from "./reverse-auth.ts";
import type { HTTPFlow } from "../flow/http.ts";

export interface BuiltinDeps {
  log: Log;
  /** Sends a flow's request again (client replay), as a new flow with the id given. */
  replay: (flow: HTTPFlow, id: string) => Promise<HTTPFlow>;
  noServer: boolean;
  /** The one-shot work (-r, -C, -S) is done and `keepserving` is off. */
  served: (what: string) => void;
  /** The SPKI hash of the key every host certificate of this run shares (base64 SHA-256), once the CA is loaded. */
  leafSpkiSha256: () => string | undefined;
  /** Where a browser reaches the proxy (`--proxy-server`), once it listens. */
  browserProxy: () => string | undefined;
  /** Writes to dump's standard output, after the flows reported so far. */
  print: (text: string) => void;
}

type Builtin = BlockAddon | AntiCacheAddon | AntiCompAddon | BodySizeAddon | BlockListAddon | MapRemoteAddon | MapLocalAddon | ModifyBodyAddon | ModifyHeadersAddon | ServerPlaybackAddon | ClientPlaybackAddon | StickyAuthAddon | StickyCookieAddon | KeepServingAddon | HarDumpAddon | StripDnsHttpsRecordsAddon | UpdateAltSvcAddon | BrowserAddon | ProxyDebugAddon | ConnectionLogAddon | ReverseAuthAddon;

/**
 * pryx's share of mitmproxy's default addons, in mitmproxy's order: `before` run ahead of the
 * scripts, `after` behind them (as mitmproxy's rule addons come after its ScriptLoader).
 */
export function builtinAddons({ log, replay, noServer, served, leafSpkiSha256, browserProxy, print }: BuiltinDeps): { before: Builtin[]; after: Builtin[] } {
  const clientPlayback = new ClientPlaybackAddon(log, replay, noServer);
  const serverPlayback = new ServerPlaybackAddon(log);
  const keepServing = new KeepServingAddon({ clientReplays: () => clientPlayback.pending(), serverReplays: () => serverPlayback.pending() }, served, noServer);
  return {
    before: [new ConnectionLogAddon(log), new ProxyDebugAddon(log), new BlockAddon(log), new BlockListAddon(), new AntiCacheAddon(), new AntiCompAddon(), clientPlayback, new StickyAuthAddon(), new StickyCookieAddon(), new BodySizeAddon(), new StripDnsHttpsRecordsAddon(log), new ReverseAuthAddon()],
    after: [serverPlayback, new MapRemoteAddon(), new MapLocalAddon(), new ModifyBodyAddon(log), new ModifyHeadersAddon(log), keepServing, new HarDumpAddon(log, print), new UpdateAltSvcAddon(), new BrowserAddon(log, leafSpkiSha256, browserProxy)],
  };
}
