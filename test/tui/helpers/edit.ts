/**
 * Steps the edit tests share: flows put in the list, and a part chosen from the `e` chooser.
 */
import type { FlowSummary } from "../../../src/protocol.ts";
import { press, waitForText, type Harness } from "./tui.tsx";

/** Adds the flows as one batch and waits until the list shows them all (`[n/n]`); the frame. */
export async function showFlows(h: Harness, flows: FlowSummary[]): Promise<string> {
  h.engine.add(flows);
  return waitForText(h, `/${flows.length}]`);
}

/** `e`, then the chooser's one-key shortcut for a part (`1` method, `5` request-headers, …); the frame after. */
export async function editPart(h: Pick<Harness, "stdin" | "lastFrame">, shortcut: string): Promise<string> {
  await press(h, "e");
  return press(h, shortcut);
}
