import { AntiCacheAddon } from "./anticache.ts";
import { AntiCompAddon } from "./anticomp.ts";

/** pryx's share of mitmproxy's default addons, in mitmproxy's order. */
export function builtinAddons(): (AntiCacheAddon | AntiCompAddon)[] {
  return [new AntiCacheAddon(), new AntiCompAddon()];
}
