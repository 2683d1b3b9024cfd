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
import type { HTTPFlow } from "../flow/http.ts";
import type { Flow } from "../flow/flow.ts";

export interface BuiltinDeps {
  log: Log;
  /** Sends a flow's request again (client replay). */
  replay: (flow: HTTPFlow) => Promise<HTTPFlow>;
  noServer: boolean;
  /** The flows a spec names (@marked, an id, a filter), for commands that take flows. */
  resolve: (spec: string) => Flow[];
}

type Builtin = BlockAddon | AntiCacheAddon | AntiCompAddon | BodySizeAddon | BlockListAddon | MapRemoteAddon | MapLocalAddon | ModifyBodyAddon | ModifyHeadersAddon | ServerPlaybackAddon | ClientPlaybackAddon | StickyAuthAddon | StickyCookieAddon;

/**
 * pryx's share of mitmproxy's default addons, in mitmproxy's order: `before` run ahead of the
 * scripts, `after` behind them (as mitmproxy's rule addons come after its ScriptLoader).
 */
export function builtinAddons({ log, replay, noServer, resolve }: BuiltinDeps): { before: Builtin[]; after: Builtin[] } {
  return {
    before: [new BlockAddon(log), new BlockListAddon(), new AntiCacheAddon(), new AntiCompAddon(), new ClientPlaybackAddon(log, replay, noServer, resolve), new StickyAuthAddon(), new StickyCookieAddon(), new BodySizeAddon()],
    after: [new ServerPlaybackAddon(log, resolve), new MapRemoteAddon(), new MapLocalAddon(), new ModifyBodyAddon(log), new ModifyHeadersAddon(log)],
  };
}
