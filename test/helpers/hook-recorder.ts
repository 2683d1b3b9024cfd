import type { Addon, HookName } from "../../src/engine/hooks/hooks.ts";

/** An addon that writes down the name of each of `names` as it fires, in order. */
export function hookRecorder(...names: HookName[]): { addon: Addon; hooks: string[] } {
  const hooks: string[] = [];
  const addon: Record<string, unknown> = { name: "recorder" };
  for (const n of names) addon[n] = () => void hooks.push(n);
  return { addon: addon as Addon, hooks };
}
