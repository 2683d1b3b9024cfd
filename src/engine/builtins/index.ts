import type { Log } from "../log.ts";
import { AntiCacheAddon } from "./anticache.ts";
import { AntiCompAddon } from "./anticomp.ts";
import { BlockAddon } from "./block.ts";
import { BodySizeAddon } from "./body-size.ts";

/** pryx's share of mitmproxy's default addons, in mitmproxy's order. */
export function builtinAddons(log: Log): (BlockAddon | AntiCacheAddon | AntiCompAddon | BodySizeAddon)[] {
  return [new BlockAddon(log), new AntiCacheAddon(), new AntiCompAddon(), new BodySizeAddon()];
}
