/**
 * Keys typed ahead: over SSH, or from a fast typist, a key that opens a chooser and the key that
 * answers it arrive together. They must be handled in the order typed, the second by the chooser.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { KEY, focusedLine, press, renderConsole, until, waitForText, type Harness } from "./helpers/tui.tsx";
import { FakeEngine, makeFlows } from "./helpers/fake-engine.ts";
import { KEY_HOLD_MS } from "../../src/tui/controller.ts";

/** A reply the test sends when it chooses: the engine is "still thinking" until then. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** An engine whose answers to the given commands wait for the test. */
function slowEngine(slow: readonly string[]): { engine: FakeEngine; replies: Map<string, ReturnType<typeof deferred<string | undefined>>> } {
  const engine = new FakeEngine();
  const replies = new Map(slow.map((name) => [name, deferred<string | undefined>()]));
  engine.onCommand = (line) => replies.get(line.split(" ")[0]!)?.promise;
  return { engine, replies };
}

async function flowList(h: Harness): Promise<void> {
  h.engine.add(makeFlows(3, (i) => ({ seq: 1 + i, path: `/v1/items/${1 + i}` })));
  await waitForText(h, "/3]");
}

test("m3 in one read picks the third content view (hex, as in mitmproxy) in the chooser m opens", async () => {
  const h = await renderConsole();
  try {
    await flowList(h);
    await press(h, KEY.enter);
    await press(h, KEY.tab);
    await waitForText(h, '"name": "item 1"');
    const f = await press(h, "m3");
    await waitForText(h, "[m:hex]");
    assert.doesNotMatch(h.lastFrame(), /Set contentview/, f);
  } finally {
    h.unmount();
  }
});

for (const [name, writes] of [
  ["in one read", ["x1"]],
  ["in two reads", ["x", "1"]],
] as const) {
  test(`x1 ${name} before the engine lists the formats picks the first format`, async () => {
    const { engine, replies } = slowEngine(["export.formats"]);
    const h = await renderConsole({ engine });
    try {
      await flowList(h);
      for (const w of writes) h.stdin.write(w);
      await until(() => engine.commandLines().includes("export.formats"));
      // Nothing has happened on screen yet: the 1 waits for the chooser.
      assert.doesNotMatch(h.lastFrame(), /Export as|export\.file/);
      replies.get("export.formats")!.resolve("curl,httpie,raw");
      const f = await waitForText(h, ": export.file curl @focus");
      assert.doesNotMatch(f, /Export as/);
    } finally {
      h.unmount();
    }
  });
}

test("keys typed after the chooser's pick go to the prompt it opens", async () => {
  const { engine, replies } = slowEngine(["export.formats"]);
  const h = await renderConsole({ engine });
  try {
    await flowList(h);
    h.stdin.write("x3");
    h.stdin.write(`${KEY.backspace.repeat("@focus ".length)}/tmp/out.txt`);
    await until(() => engine.commandLines().includes("export.formats"));
    replies.get("export.formats")!.resolve("curl,httpie,raw");
    await waitForText(h, ": export.file raw /tmp/out.txt");
  } finally {
    h.unmount();
  }
});

test("a slow engine command holds nothing: j moves while the replay is still unanswered", async () => {
  const { engine, replies } = slowEngine(["replay.client"]);
  const h = await renderConsole({ engine });
  try {
    await flowList(h);
    assert.match(focusedLine(h.lastFrame())!, /items\/1/);
    const t0 = Date.now();
    h.stdin.write("rj");
    await waitForText(h, />>.*items\/2/);
    const waited = Date.now() - t0;
    // Engine commands open nothing in the console, so j is not held for the reply at all (a hold
    // would have lasted KEY_HOLD_MS).
    assert.ok(waited < KEY_HOLD_MS, `j waited ${waited} ms`);
    // The replay still has not answered: j did not wait for it.
    assert.equal(engine.commandLines().filter((l) => l.startsWith("replay.client")).length, 1);
    replies.get("replay.client")!.resolve("replaying 1 flow");
    await waitForText(h, "replaying 1 flow");
    // Once the hold is over, keys go through at once again.
    await press(h, "j");
    assert.match(focusedLine(h.lastFrame())!, /items\/3/);
  } finally {
    h.unmount();
  }
});

test("j right after a view filter's Enter moves the focus before the engine has filtered", async () => {
  const { engine, replies } = slowEngine(["set"]);
  const h = await renderConsole({ engine });
  try {
    await flowList(h);
    await press(h, "f");
    const t0 = Date.now();
    h.stdin.write(`~u items${KEY.enter}j`);
    await waitForText(h, />>.*items\/2/);
    assert.ok(Date.now() - t0 < KEY_HOLD_MS, `j waited ${Date.now() - t0} ms`);
    assert.ok(engine.commandLines().some((l) => l.startsWith("set view_filter")));
    replies.get("set")!.resolve(undefined);
  } finally {
    h.unmount();
  }
});
