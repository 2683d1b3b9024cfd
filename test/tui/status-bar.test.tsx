import { test } from "node:test";
import assert from "node:assert/strict";
import { KEY, press, renderConsole, runAtPrompt, until, waitForText } from "./helpers/tui.tsx";
import { FakeEngine, makeFlow } from "./helpers/fake-engine.ts";
import { Engine } from "../../src/engine/engine.ts";
import { fitFlags, infoSides, statusFlags } from "../../src/tui/components/status-bar.tsx";
import { FILTER_BUSY_MS, type ConsoleState } from "../../src/tui/controller.ts";
import type { OptionInfo } from "../../src/protocol.ts";

const statusLine = (frame: string): string => frame.split("\n").at(-1)!;

test("a long error at 80 columns is cut short so that its event-log hint stays visible", async () => {
  // The real engine's wording for a bad intercept filter: the message, the expression, a caret.
  const real = new Engine({ options: {}, keepFlows: true, noServer: true }, () => undefined);
  const engine = new FakeEngine();
  engine.onCommand = async (line) => (await real.handle({ op: "command", line })) ?? undefined;
  const h = await renderConsole({ engine, width: 80 });
  try {
    await press(h, ":");
    await press(h, 'set intercept "~q ("');
    await press(h, KEY.enter);
    const f = await waitForText(h, "(more in event log)");
    const line = statusLine(f);
    assert.ok(line.length <= 80, line);
    assert.match(line, /^intercept: Invalid filter expression at column 5: .*… \(more in event log\)$/);
    // The rest is where the hint says.
    assert.match(await press(h, "E"), /~q \(\n.*\^/);
  } finally {
    h.unmount();
  }
});

test("a long engine log error at 80 columns keeps its hint too; a short one is not padded or cut", async () => {
  const h = await renderConsole({ width: 80 });
  try {
    const long = `addon block.ts: TypeError: cannot read properties of undefined (reading '${"x".repeat(40)}')`;
    h.engine.log({ ts: 1_700_000_000, level: "error", msg: `${long}\n    at request (block.ts:3:5)` });
    const line = statusLine(await waitForText(h, "(more in event log)"));
    assert.ok(line.length <= 80, line);
    assert.equal(line, `${long.slice(0, 80 - " (more in event log)".length - 1)}… (more in event log)`);
    h.engine.log({ ts: 1_700_000_001, level: "error", msg: "addon block.ts: boom\n    at request (block.ts:3:5)" });
    assert.equal(statusLine(await waitForText(h, "boom")), "addon block.ts: boom (more in event log)");
  } finally {
    h.unmount();
  }
});

const infoLine = (frame: string): string => frame.split("\n").at(-2)!;

test("the info line counts every mode, regular included, and names a lone mode unless it is the default", async () => {
  const cases: [string[], RegExp][] = [
    [["regular", "dns", "socks5"], /\[modes:3\]/],
    [["regular", "dns"], /\[modes:2\]/],
    [["dns"], /\[dns\]/],
  ];
  for (const [modes, want] of cases) {
    const h = await renderConsole({ ready: { modes } });
    try {
      assert.match(infoLine(await waitForText(h, "127.0.0.1:8080")), want, modes.join(" "));
    } finally {
      h.unmount();
    }
  }
  const h = await renderConsole({ ready: { modes: ["regular"] } });
  try {
    assert.doesNotMatch(infoLine(await waitForText(h, "127.0.0.1:8080")), /\[(modes:\d+|regular)\]/);
  } finally {
    h.unmount();
  }
});

test("the info line follows the listeners when they move (listen_port or mode set while running), its [mode] too", async () => {
  const h = await renderConsole();
  try {
    await waitForText(h, "127.0.0.1:8080");
    h.engine.emit({ t: "listening", listen: ["127.0.0.1:9191"], modes: ["regular@9191"] });
    const frame = await waitForText(h, "127.0.0.1:9191");
    assert.doesNotMatch(infoLine(frame), /8080/);
    h.engine.emit({ t: "listening", listen: ["127.0.0.1:9191", "dns://127.0.0.1:5353"], modes: ["regular@9191", "dns@5353"] });
    assert.match(infoLine(await waitForText(h, "[modes:2]")), /\[modes:2\]/);
    h.engine.emit({ t: "listening", listen: ["socks5://127.0.0.1:1080"], modes: ["socks5@1080"] });
    const socks = infoLine(await waitForText(h, "[socks5@1080]"));
    assert.doesNotMatch(socks, /modes:2/);
  } finally {
    h.unmount();
  }
});

test("the info line names the options that change traffic, in mitmproxy's order, so a forgotten rule is in sight", () => {
  // A list option counts its entries, not the commas of its text: b{1,3} is one regex.
  const lists: Record<string, string[]> = { ignore_hosts: ["a\\.test", "b{1,3}\\.test"], scripts: ["fix.ts"] };
  const options = new Map(
    Object.entries({ modify_headers: "/~q/X/1", modify_body: "", server_replay: "c.pryx", ignore_hosts: "a\\.test,b{1,3}\\.test", anticache: "true", anticomp: "false", stream_large_bodies: "1m", scripts: "fix.ts", save_stream_file: "out.pryx", intercept: "~q", stickycookie: "~d app.test" }).map(([name, value]) => [
      name,
      { name, type: lists[name] ? "str[]" : "str", value, default: "", help: "", choices: undefined, ...(lists[name] ? { items: lists[name] } : {}) } as OptionInfo,
    ]),
  );
  const state = { options, viewFilter: "", modes: ["regular"], replay: { client: 0, server: 3 } } as unknown as ConsoleState;
  const flags = statusFlags(state, { shown: 2, total: 3, intercepted: 0, focus: 0 }, { reversed: false, markedOnly: false, follow: false, order: "time" }, { up: "^", down: "v" });
  assert.deepEqual(flags, ["v [1/2 of 3]", "[Headers]", "[splayback:3]", "[Ignore:2]", "[i:~q]", "[t:~d app.test]", "[anticache:1m]", "[scripts:1]", "[W:out.pryx]"]);
});

test("the info line says when bodies show in another content view than auto, and when replayed responses keep their recorded dates, as mitmproxy's does", () => {
  const options = new Map(
    Object.entries({ console_default_contentview: "hex", anticache: "true", server_replay_refresh: "false", stream_large_bodies: "1m" }).map(([name, value]) => [name, { name, type: "str", value, default: "", help: "", choices: undefined } as OptionInfo]),
  );
  const state = { options, viewFilter: "", modes: ["regular"], replay: { client: 0, server: 0 } } as unknown as ConsoleState;
  const flags = statusFlags(state, { shown: 1, total: 1, intercepted: 0, focus: 0 }, { reversed: false, markedOnly: false, follow: false, order: "size" }, { up: "^", down: "v" });
  assert.deepEqual(flags, ["v [1/1]", "[contentview:hex]", "[o:size]", "[anticache:norefresh:1m]"]);
  options.set("console_default_contentview", { ...options.get("console_default_contentview")!, value: "auto" });
  options.set("server_replay_refresh", { ...options.get("server_replay_refresh")!, value: "true" });
  const plain = statusFlags(state, { shown: 1, total: 1, intercepted: 0, focus: 0 }, { reversed: false, markedOnly: false, follow: false, order: "time" }, { up: "^", down: "v" });
  assert.deepEqual(plain, ["v [1/1]", "[anticache:1m]"]);
});

test("the status line shows [splayback:N] and [cplayback:N] from the engine's replay counts, after a replay command and while they fall", async () => {
  const engine = new FakeEngine();
  const counts = { "replay.client.count": "0", "replay.server.count": "0" };
  engine.onCommand = async (line) => {
    if (line in counts) return counts[line as keyof typeof counts];
    if (line === "replay.server @marked") counts["replay.server.count"] = "2";
    if (line.startsWith("replay.client ")) counts["replay.client.count"] = "1";
    return "ok";
  };
  engine.commands.push({ name: "replay.client.count", signature: "replay.client.count", help: "" }, { name: "replay.server.count", signature: "replay.server.count", help: "" });
  const h = await renderConsole({ engine });
  try {
    assert.doesNotMatch(h.lastFrame(), /playback/);
    await runAtPrompt(h, "replay.server @marked");
    await waitForText(h, "[splayback:2]");
    await runAtPrompt(h, "replay.client @all");
    await waitForText(h, "[cplayback:1] [splayback:2]");
    // The client replay finishes on its own: a later poll (once a second) drops its flag.
    counts["replay.client.count"] = "0";
    assert.ok(await until(() => !h.lastFrame().includes("cplayback"), 3000), "the finished replay's flag goes");
    assert.match(h.lastFrame(), /\[splayback:2\]/);
  } finally {
    h.unmount();
  }
});

test("a view filter the engine takes long over says [filtering…] until it answers; a fast one never flickers it", async () => {
  const h = await renderConsole();
  try {
    h.engine.add([makeFlow({ seq: 1 })]);
    await waitForText(h, "/1]");
    let release: () => void = () => undefined;
    h.engine.onCommand = (line) => (line.startsWith("set view_filter") ? new Promise<undefined>((r) => (release = () => r(undefined))) : Promise.resolve(undefined));
    void runAtPrompt(h, "set view_filter ~u slow");
    await waitForText(h, "[filtering…]");
    release();
    assert.ok(await until(() => !h.lastFrame().includes("[filtering…]")), "cleared once the engine answered");
    const frames: string[] = [];
    h.engine.onCommand = async () => undefined;
    await runAtPrompt(h, "set view_filter ~u fast");
    frames.push(h.lastFrame());
    await new Promise((r) => setTimeout(r, FILTER_BUSY_MS + 50));
    frames.push(h.lastFrame());
    for (const f of frames) assert.doesNotMatch(f, /filtering/);
  } finally {
    h.unmount();
  }
});

test("with several listen addresses, the info line gives the filters their room first: the addresses shrink to the first and a count", async () => {
  const { listenText } = await import("../../src/tui/components/status-bar.tsx");
  const three = ["127.0.0.1:48180", "127.0.0.1:48153", "127.0.0.1:48181"];
  assert.equal(listenText(three, 20, 100), three.join(", "), "room for all");
  assert.equal(listenText(three, 40, 80), "127.0.0.1:48180 +2");
  assert.equal(listenText(["127.0.0.1:8080"], 200, 80), "127.0.0.1:8080", "one address is kept whole");
  assert.equal(listenText([], 0, 80), "not listening");
});

// At 80 columns, three addresses (49 columns) and flags of 29 to 33: whether all the addresses fit
// beside the flags depends on measuring the filter in columns, not UTF-16 units.
for (const [what, filter, addresses] of [
  // 4 characters, 8 columns: the flags take 33 columns, so the addresses shrink and the filter stays whole.
  ["CJK characters, 2 columns each", "日本語の", /\[f:~b 日本語の\] \[modes:3\] +127\.0\.0\.1:48180 \+2$/],
  // 4 characters, 8 UTF-16 units, 4 columns: the flags take 29 columns, and every address fits.
  ["characters beyond the BMP, a surrogate pair but 1 column each", "𝐀𝐁𝐂𝐃", /\[f:~b 𝐀𝐁𝐂𝐃\] \[modes:3\] +127\.0\.0\.1:48180, 127\.0\.0\.1:48153, 127\.0\.0\.1:48181$/],
] as const) {
  test(`with several listen addresses and a view filter of ${what}, the info line at 80 columns keeps the filter whole and as many addresses as fit`, async () => {
    const h = await renderConsole({ width: 80 });
    try {
      h.engine.emit({ t: "listening", listen: ["127.0.0.1:48180", "127.0.0.1:48153", "127.0.0.1:48181"], modes: ["regular@48180", "regular@48153", "regular@48181"] });
      await waitForText(h, "[modes:3]");
      await runAtPrompt(h, `set view_filter ~b ${filter}`);
      const line = infoLine(await waitForText(h, `~b ${filter.slice(0, 2)}`));
      assert.match(line, addresses);
      assert.match(line, /^⇩ \[0\/0\] \[f:/);
    } finally {
      h.unmount();
    }
  });
}

test("a view filter of CJK text leaves the listen address whole: the info line is padded by columns, not characters", async () => {
  const h = await renderConsole({ width: 120, height: 20 });
  try {
    h.engine.add([makeFlow({ seq: 1 })]);
    await waitForText(h, "/1]");
    await runAtPrompt(h, "set view_filter ~b 日本語のテキスト");
    const line = (await waitForText(h, "[f:~b 日本語のテキスト]")).split("\n").find((l) => l.includes("[f:"))!;
    assert.match(line, /127\.0\.0\.1:8080$/);
  } finally {
    h.unmount();
  }
});

test("flags too long for the line: the longest are cut first, so the view filter and the file after a long intercept filter stay in sight", async () => {
  const h = await renderConsole({ width: 60 });
  try {
    h.engine.add([makeFlow({ seq: 1, path: "/api/a" })]);
    await runAtPrompt(h, "set intercept '~u /api/v1/some/long/path & ~m POST'");
    await runAtPrompt(h, "set view_filter '~u /api/'");
    await runAtPrompt(h, "set save_stream_file /home/someone/captures/today/session.pryx");
    const line = infoLine(await waitForText(h, "[W:"));
    assert.ok(line.length <= 60, line);
    assert.match(line, /^⇩ \[1\/1\] \[i:~u \/ap…\] \[f:~u \/api\/\] \[W:\/home\/s…\] +127\.0\.0\.1:8080$/);
  } finally {
    h.unmount();
  }
});

test("fitFlags cuts the longest flags first, never the first; infoSides gives the address's room to flags that do not fit beside it", () => {
  assert.equal(fitFlags(["⇩ [1/2]", "[i:~q]"], 40, "…"), "⇩ [1/2] [i:~q]");
  assert.equal(fitFlags(["⇩ [1/2]", "[i:~u aaaaaaaaaaaaaaaa]", "[f:~s]"], 30, "…"), "⇩ [1/2] [i:~u aaaaaaa…] [f:~s]");
  assert.equal(fitFlags(["⇩ [100/200 of 300]"], 10, "…"), "⇩ [100/200 of 300]");
  assert.equal(fitFlags(["⇩ [1/2]", "[i:~u aaaaaaaaaaaaaaaa]", "[f:~u bbbbbbbbbbbbbbb]", "[anticache]"], 30, "…"), "⇩ [1/2] [i:~u aa…] [f:~u bb…] [anticache]");
  const flags = ["⇩ [0/0]", "[i:~u /api/v1/some/long/path & ~m POST]", "[f:~u gzip | ~u example]", "[anticache]", "[W:/tmp/x/saved.pryx]"];
  const sides = infoSides(flags, "127.0.0.1:28710", 60, "…");
  assert.deepEqual(sides, { left: "⇩ [0/0] [i:~u /api…] [f:~u gzip…] [anticache] [W:/tmp/x/s…]", listen: "", room: 60 });
  assert.deepEqual(infoSides(flags.slice(0, 2), "127.0.0.1:28710", 60, "…"), { left: "⇩ [0/0] [i:~u /api/v1/some/long/path & ~m…]", listen: "127.0.0.1:28710", room: 44 });
});

test("a one-line error too long for the status line says where to read it whole; one that fits does not", async () => {
  const h = await renderConsole({ width: 80 });
  try {
    const long = "tag.flows (from tagger) failed: cannot read properties of undefined (reading 'headers') in tagger.ts";
    h.engine.onCommand = (line) => {
      throw new Error(line === "long" ? long : "short failure");
    };
    await runAtPrompt(h, "long");
    const line = statusLine(await waitForText(h, "(more in event log)"));
    assert.ok(line.length <= 80, line);
    assert.match(line, /^tag\.flows \(from tagger\) failed: cannot read properties of u… \(more in event log\)$/);
    assert.ok(h.ctrl.logs.all().some((e) => e.msg === long), "the event log has it whole");
    await runAtPrompt(h, "short");
    assert.equal(statusLine(await waitForText(h, "short failure")), "short failure");
    // The engine's own warnings flash the same way.
    h.engine.log({ ts: 1_700_000_000, level: "warn", msg: `127.0.0.1:5000: client TLS handshake failed for localhost: tlsv1 alert unknown ca — is the pryx CA trusted by the client?` });
    assert.match(statusLine(await waitForText(h, "handshake failed")), /… \(more in event log\)$/);
  } finally {
    h.unmount();
  }
});

test("a message cut short has no space before its ellipsis, logged or not", async () => {
  const engine = new FakeEngine();
  const text = "cannot replay TCP flows: only HTTP requests are replayed";
  engine.onCommand = async () => {
    throw new Error(text);
  };
  // Room for "cannot replay " and the ellipsis before the hint: the cut falls right after the space.
  const h = await renderConsole({ engine, width: "cannot replay ".length + 1 + " (more in event log)".length });
  try {
    await runAtPrompt(h, "replay.client @all");
    assert.equal(statusLine(await waitForText(h, "(more in event log)")), "cannot replay… (more in event log)");
    // A message that is not in the event log is cut by the console too, not left to Ink's cut.
    const word = "x".repeat(h.width - 2);
    h.ctrl.message(`${word} and more`, "info");
    assert.equal(statusLine(await waitForText(h, word)), `${word}…`);
  } finally {
    h.unmount();
  }
});
