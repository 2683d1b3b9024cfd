import { test } from "node:test";
import assert from "node:assert/strict";
import { KEY, defaultKeymap, focusedLine, press, renderConsole, runAtPrompt, until, waitForText, type Harness } from "./helpers/tui.tsx";
import { helpLines } from "../../src/tui/controller.ts";
import { columns } from "../../src/tui/format.ts";
import { FakeEngine, makeFlows } from "./helpers/fake-engine.ts";
import { OPERATORS } from "../../src/engine/filter/operators.ts";
import { themeFromEnv } from "../../src/tui/theme.ts";

test("? shows help for the current view from the keymap, then global keys; q returns", async () => {
  // Tall enough for both sections: a long command takes rows of its own under its help.
  const h = await renderConsole({ height: 90 });
  try {
    const f = await press(h, "?");
    assert.match(f, /Keys for this view \(flowlist\)/);
    assert.match(f, /m +Toggle mark on this flow +flow\.mark\.toggle @focus/);
    assert.match(f, /f +Set view filter/);
    assert.match(f, /Global keys/);
    assert.match(f, /j +Down/);
    // A global key shadowed by the view's own binding is listed once, under the view.
    assert.equal(f.match(/^ +f +/gm)?.length, 1);
    const back = await press(h, "?");
    assert.match(back, /No flows yet/);

    h.engine.add(makeFlows(1));
    await waitForText(h, "/1]");
    await press(h, KEY.enter);
    const fv = await press(h, "?");
    assert.match(fv, /Keys for this view \(flowview\)/);
    assert.match(fv, /m +Set flow view mode/);
    assert.doesNotMatch(fv, /Toggle mark on this flow/);
    await press(h, "q");
    assert.match(h.lastFrame(), /\[Request\]/);
  } finally {
    h.unmount();
  }
});

test("? at 80 columns: the view's keys and the global keys share one key column and one help column", async () => {
  // Tall enough for both sections on one screen.
  const h = await renderConsole({ width: 80, height: 120 });
  try {
    const f = await press(h, "?");
    const rows = f.split("\n");
    const at = (title: RegExp) => rows.findIndex((l) => title.test(l));
    const own = at(/^Keys for this view \(flowlist\)/);
    const global = at(/^Global keys/);
    const end = at(/^Filter expressions/);
    assert.ok(own >= 0 && global > own && end > global, f);
    // Where the help starts on each key's row (after the key and its padding).
    const helpStarts = (from: number, to: number) => new Set(rows.slice(from + 1, to).flatMap((l) => /^ {2}\S+ +/.exec(l)?.[0].length ?? []));
    assert.deepEqual([...helpStarts(own, global)], [...helpStarts(global, end)], f);
    assert.equal(helpStarts(own, end).size, 1, f);
    // The commands too start at one column in both sections.
    const commandAt = (command: string) => rows.find((l) => l.endsWith(command))!.indexOf(command);
    assert.equal(commandAt("flow.resume @all"), commandAt("console.view.help"), f);
  } finally {
    h.unmount();
  }
});

test("help follows a user's keybindings", async () => {
  const { Keymap, parseBindings } = await import("../../src/tui/keymap.ts");
  const { defaultKeymap } = await import("./helpers/tui.tsx");
  const user = parseBindings([{ key: "J", context: "flowlist", command: "console.nav.down", help: "Down, my way" }], "user.json", () => true);
  const h = await renderConsole({ keymap: new Keymap([...defaultKeymap().all(), ...user]), height: 60 });
  try {
    assert.match(await press(h, "?"), /J +Down, my way/);
  } finally {
    h.unmount();
  }
});

test(": opens the prompt; Tab completes command and option names; Enter runs; Esc aborts", async () => {
  const h = await renderConsole();
  try {
    let f = await press(h, ":");
    assert.match(f, /^: *$/m);
    await press(h, "flow.re");
    f = await press(h, KEY.tab);
    assert.match(f, /flow\.resume +flow\.revert/, "candidates listed");
    assert.match(f, /^: flow\.resume flows$/m, "the candidate, then the argument it takes");
    f = await press(h, KEY.tab);
    assert.match(f, /^: flow\.revert flows$/m);
    await press(h, KEY.esc);
    assert.doesNotMatch(h.lastFrame(), /^: /m);

    await press(h, ":");
    await press(h, "set view_ord");
    f = await press(h, KEY.tab);
    assert.match(f, /^: set view_order +\[value\]$/m);
    f = await press(h, KEY.tab);
    assert.match(f, /^: set view_order_reversed +\[value\]$/m);
    await press(h, KEY.esc);

    await press(h, ":");
    await press(h, "set ssl_in");
    f = await press(h, KEY.tab);
    assert.match(f, /^: set ssl_insecure +\[value\]$/m);
    await press(h, "tr");
    f = await press(h, KEY.tab);
    assert.match(f, /^: set ssl_insecure true$/m);
    await press(h, KEY.enter);
    assert.ok(await until(() => h.engine.commandLines().includes("set ssl_insecure true")));
    await waitForText(h, "ssl_insecure = true");
  } finally {
    h.unmount();
  }
});

test("the prompt keeps a history (up/down), and shows command errors in the status bar", async () => {
  const h = await renderConsole();
  try {
    await press(h, ":");
    await press(h, "no.such.command x");
    await press(h, KEY.enter);
    await waitForText(h, 'unknown command "no.such.command"');
    await press(h, ":");
    await press(h, "set listen_port 9090");
    await press(h, KEY.enter);
    await press(h, ":");
    let f = await press(h, KEY.up);
    assert.match(f, /^: set listen_port 9090$/m);
    f = await press(h, KEY.up);
    assert.match(f, /^: no\.such\.command x$/m);
    f = await press(h, KEY.down);
    assert.match(f, /^: set listen_port 9090$/m);
    f = await press(h, KEY.down);
    assert.match(f, /^: *$/m);
    // Editing keys work through the keymap.
    await press(h, "abc def");
    f = await press(h, "\x17"); // ctrl w
    assert.match(f, /^: abc$/m);
    await press(h, KEY.backspace);
    await press(h, KEY.left);
    f = await press(h, "X");
    assert.match(f, /^: abXc$/m);
    await press(h, KEY.esc);
  } finally {
    h.unmount();
  }
});

/** `O`, down to the intercept option, and Enter: its value being edited in place. */
async function editIntercept(h: Harness): Promise<void> {
  await press(h, "O");
  const names = h.ctrl.optionList().map((o) => o.name);
  for (let i = 0; i < names.indexOf("intercept"); i++) await press(h, "j");
  assert.match(focusedLine(h.lastFrame())!, /intercept/);
  await press(h, KEY.enter);
}

test("Tab in a filter option's value on the options screen completes the operator at the cursor, as the prompt does", async () => {
  const h = await renderConsole({ height: 30 });
  try {
    await editIntercept(h);
    await press(h, "~web");
    let f = await press(h, KEY.tab);
    assert.match(focusedLine(f)!, /intercept +~websocket/);
    await press(h, "& ~b");
    f = await press(h, KEY.tab);
    // Several fit: the status line lists them with their help, and the first (~b itself) is taken.
    assert.match(f, /~b regex: Body {2}~bq regex: Request body {2}~bs regex: Response body/);
    await press(h, "q");
    await press(h, KEY.enter);
    assert.ok(await until(() => h.engine.requests.some((r) => r.op === "setOption" && r.name === "intercept" && r.value === "~websocket & ~bq")));
  } finally {
    h.unmount();
  }
});

test("Tab again in a filter option's value goes on to the next operator that fits, as the prompt's does; one filled in before a space adds none", async () => {
  const h = await renderConsole({ height: 30 });
  try {
    await editIntercept(h);
    await press(h, "~b");
    await press(h, KEY.tab);
    assert.match(focusedLine(await press(h, KEY.tab))!, /intercept +~bq$/);
    assert.match(focusedLine(await press(h, KEY.tab))!, /intercept +~bs$/);
    await press(h, " & ~web & ~q");
    for (let i = 0; i < " & ~q".length; i++) await press(h, KEY.left);
    assert.match(focusedLine(await press(h, KEY.tab))!, /intercept +~bs & ~websocket & ~q$/);
    await press(h, KEY.enter);
    assert.ok(await until(() => h.engine.requests.some((r) => r.op === "setOption" && r.name === "intercept" && r.value === "~bs & ~websocket & ~q")));
  } finally {
    h.unmount();
  }
});

test("O shows every option with value and type; Enter edits in place and sends setOption; bools toggle; errors show", async () => {
  const h = await renderConsole({ height: 30 });
  try {
    let f = await press(h, "O");
    assert.match(f, /Options/);
    assert.match(f, /intercept +\(none\) +filter/);
    assert.match(f, /listen_port +8080 +int/);
    assert.match(f, /view_order +time +choice/);
    // Move to listen_port and edit it.
    // As the options editor lists them: the engine's and the console's own, sorted.
    const names = h.ctrl.optionList().map((o) => o.name);
    // A list option says how its entries are written: its value column shows them joined.
    for (let i = 0; i < names.indexOf("ignore_hosts"); i++) await press(h, "j");
    assert.match(h.lastFrame(), /^type str\[\], entries separated by commas \(\\, for a comma inside one\), default none$/m);
    for (let i = names.indexOf("ignore_hosts"); i < names.indexOf("listen_port"); i++) await press(h, "j");
    assert.match(focusedLine(h.lastFrame())!, /listen_port/);
    assert.match(h.lastFrame(), /Proxy port \(0 picks a free port\)\./);
    assert.match(h.lastFrame(), /^Options .*d reset, D reset all, q back$/m, "both resets named");
    await press(h, KEY.enter);
    // While typing, the title says how to end it: Enter sets, Esc cancels (q is a letter of the value).
    assert.match(h.lastFrame(), /^Options .*⏎ set, esc cancel$/m);
    for (let i = 0; i < 4; i++) await press(h, KEY.backspace);
    await press(h, "9191");
    await press(h, KEY.enter);
    assert.ok(await until(() => h.engine.requests.some((r) => r.op === "setOption" && r.name === "listen_port" && r.value === "9191")));
    f = await waitForText(h, /listen_port +9191/);

    // A bad value: the engine's error shows, and the editor stays open.
    await press(h, KEY.enter);
    for (let i = 0; i < 4; i++) await press(h, KEY.backspace);
    await press(h, "abc");
    await press(h, KEY.enter);
    await waitForText(h, "option listen_port expects an integer");
    await press(h, KEY.esc);

    // A bool toggles on Enter.
    for (let i = names.indexOf("listen_port"); i < names.indexOf("ssl_insecure"); i++) await press(h, "j");
    assert.match(focusedLine(h.lastFrame())!, /ssl_insecure/);
    await press(h, KEY.enter);
    await waitForText(h, /ssl_insecure +true/);
    assert.ok(h.engine.requests.some((r) => r.op === "setOption" && r.name === "ssl_insecure" && r.value === "true"));

    // A choice opens the chooser.
    for (let i = names.indexOf("ssl_insecure"); i < names.indexOf("view_order"); i++) await press(h, "j");
    f = await press(h, KEY.enter);
    assert.match(f, /Set view_order/);
    await press(h, "2");
    await waitForText(h, /view_order +method/);
    // d resets the focused option, and says so.
    await press(h, "d");
    await waitForText(h, /view_order +time/);
    await waitForText(h, "view_order reset to its default: time");
    const back = await press(h, "q");
    assert.match(back, /No flows yet/);
  } finally {
    h.unmount();
  }
});

test("O's in-place editor reads a chunk of keys one by one: held Backspace erases, a typed value + Enter submits", async () => {
  const h = await renderConsole({ height: 30 });
  try {
    await press(h, "O");
    // As the options editor lists them: the engine's and the console's own, sorted.
    const names = h.ctrl.optionList().map((o) => o.name);
    // A list option says how its entries are written: its value column shows them joined.
    for (let i = 0; i < names.indexOf("ignore_hosts"); i++) await press(h, "j");
    assert.match(h.lastFrame(), /^type str\[\], entries separated by commas \(\\, for a comma inside one\), default none$/m);
    for (let i = names.indexOf("ignore_hosts"); i < names.indexOf("listen_port"); i++) await press(h, "j");
    await press(h, KEY.enter);
    // One read from the terminal: four Backspaces, the new value and Enter (a paste, key repeat, or SSH).
    await press(h, "\x7f\x7f\x7f\x7f9191\r");
    assert.ok(await until(() => h.engine.requests.some((r) => r.op === "setOption" && r.name === "listen_port" && r.value === "9191")), JSON.stringify(h.engine.requests.filter((r) => r.op === "setOption")));
    const f = await waitForText(h, /listen_port +9191 +int/);
    assert.doesNotMatch(f, /\r/);
    // The editor closed: j moves the focus again instead of being typed.
    await press(h, "j");
    assert.match(focusedLine(h.lastFrame())!, new RegExp(names[names.indexOf("listen_port") + 1]!));
  } finally {
    h.unmount();
  }
});

test("console_eventlog_verbosity (mitmproxy's option) hides debug lines by default and shows them when set to debug; error hides the rest", async () => {
  const h = await renderConsole();
  try {
    h.engine.log(
      { ts: 1_700_000_000, level: "debug", msg: "tls: sent ClientHello for api.test" },
      { ts: 1_700_000_001, level: "info", msg: "client 127.0.0.1:5000 connected" },
      { ts: 1_700_000_002, level: "error", msg: "addon x.ts: boom" },
    );
    let f = await press(h, "E");
    await waitForText(h, "client 127.0.0.1:5000 connected");
    assert.doesNotMatch(h.lastFrame(), /ClientHello/);
    assert.match(h.lastFrame(), /Events +2 entries/, "the title counts what is shown");
    await runAtPrompt(h, "set console_eventlog_verbosity debug");
    f = await waitForText(h, "ClientHello");
    assert.match(f, /Events +3 entries/);
    assert.match(f, /client 127\.0\.0\.1:5000 connected/);
    await runAtPrompt(h, "set console_eventlog_verbosity error");
    f = await waitForText(h, "boom");
    assert.ok(await until(() => !h.lastFrame().includes("connected")), h.lastFrame());
  } finally {
    h.unmount();
  }
});

test("an alert (a save's report) is in the event log at the default verbosity, where its status line sends the user", async () => {
  // mitmproxy's log_tier puts alert level with info: `w` reports there, and its long line says "more in event log".
  const h = await renderConsole({ width: 60 });
  try {
    h.engine.log({ ts: 1_700_000_000, level: "alert", msg: "saved 3 flows to /tmp/a.flows in pryx's format (mitmproxy reads a file named .mitm)" });
    assert.match(await waitForText(h, "(more in event log)"), /saved 3 flows/);
    await press(h, "E");
    const f = await waitForText(h, /Events +1 entr/);
    assert.match(f, /alert +saved 3 flows/);
    await runAtPrompt(h, "set console_eventlog_verbosity warn");
    assert.ok(await until(() => !h.lastFrame().includes("saved 3 flows")), h.lastFrame());
  } finally {
    h.unmount();
  }
});

test("E shows the event log, newest last; errors flash in the status bar", async () => {
  const h = await renderConsole();
  try {
    h.engine.log(
      { ts: 1_700_000_000, level: "info", msg: "regular proxy listening at 127.0.0.1:8080" },
      { ts: 1_700_000_001, level: "warn", msg: "addon counter.ts: slow hook request (120 ms)" },
    );
    await waitForText(h, "slow hook request");
    h.engine.log({ ts: 1_700_000_002, level: "error", msg: "addon block.ts: TypeError: x is undefined\n    at request (block.ts:3:5)" });
    await waitForText(h, "addon block.ts: TypeError: x is undefined (more in event log)");
    const f = await press(h, "E");
    assert.match(f, /Events/);
    const lines = f.split("\n");
    const i1 = lines.findIndex((l) => l.includes("listening at"));
    const i2 = lines.findIndex((l) => l.includes("slow hook"));
    const i3 = lines.findIndex((l) => l.includes("TypeError"));
    assert.ok(i1 >= 0 && i1 < i2 && i2 < i3, f);
    assert.match(lines[i3]!, /error +addon block\.ts/);
    // A long entry wraps between words, under its text, not under the time.
    h.engine.log({ ts: 1_700_000_003, level: "warn", msg: "client TLS handshake failed for a-rather-long-host-name.example.com: certificate unknown — is the pryx CA trusted by the client?" });
    const wrapped = (await waitForText(h, "trusted by")).split("\n");
    const w1 = wrapped.findIndex((l) => l.includes("client TLS handshake"));
    const text = wrapped.slice(w1, w1 + 4).map((l) => l.trimEnd());
    assert.ok(text.slice(1).every((l) => /^ {15}\S/.test(l) || l === ""), text.join("\n"));
    const words = "client TLS handshake failed for a-rather-long-host-name.example.com: certificate unknown — is the pryx CA trusted by the client?".split(" ");
    const shown = text.join(" ").replace(/^\S+ warn +/, "").split(/ +/).filter(Boolean);
    assert.deepEqual(shown.slice(0, words.length), words, text.join("\n"));
    // New entries appear at the bottom while following.
    h.engine.log({ ts: 1_700_000_003, level: "info", msg: "client disconnected" });
    await waitForText(h, "client disconnected");
    await press(h, "z");
    await press(h, "y");
    await waitForText(h, "No events yet.");
  } finally {
    h.unmount();
  }
});

test("E shows a multi-line entry whole, wrapped at the width, so what the status bar sends the user there for is readable", async () => {
  const h = await renderConsole({ width: 80, height: 20 });
  try {
    const long = "option intercept expects a filter expression (empty for none), got \"~q (\": Invalid filter expression at column 5: expected an expression";
    h.engine.log({ ts: 1_700_000_000, level: "error", msg: `${long}\n  ~q (\n      ^` });
    await waitForText(h, "option intercept expects");
    const f = await press(h, "E");
    const lines = f.split("\n");
    const first = lines.findIndex((l) => l.includes("error option intercept"));
    assert.ok(first >= 0, f);
    const indent = lines[first]!.indexOf("option");
    // The expression and its caret are rows of their own, indented alike, so the caret keeps its column.
    const expr = lines.findIndex((l) => l.endsWith("~q ("));
    // The long line goes on under the message's start, broken between words, and nothing of it is lost.
    const rows = lines.slice(first, expr).map((l) => l.slice(indent).trimEnd());
    assert.ok(rows.length > 1 && rows.slice(1).every((l, i) => lines[first + 1 + i]!.slice(0, indent).trim() === ""), f);
    assert.equal(rows.join(" "), long, f);
    assert.equal(lines[expr]!.slice(indent), "  ~q (", f);
    assert.equal(lines[expr + 1]!.slice(indent), "      ^", f);
    assert.doesNotMatch(f, /⏎/);
  } finally {
    h.unmount();
  }
});

test("C lists commands and K key bindings", async () => {
  const h = await renderConsole({ height: 40 });
  try {
    let f = await press(h, "C");
    assert.match(f, /Command Reference/);
    assert.match(f, /console\.command\.set/);
    await press(h, "q");
    f = await press(h, "K");
    assert.match(f, /Key Bindings/);
    assert.match(f, /global +console\.command +Command prompt/);
  } finally {
    h.unmount();
  }
});

test("help lists every operator of the filter language, from the engine's own table, with mitmproxy's examples", async () => {
  const h = await renderConsole({ height: 200 });
  try {
    const frame = await press(h, "?");
    for (const op of OPERATORS) assert.match(frame, new RegExp(`^ +~${op.code}\\b`, "m"), `~${op.code} is listed`);
    assert.match(frame, /~websocket +Match WebSocket flows/);
    assert.match(frame, /~dst regex +Match destination address/);
    assert.match(frame, /!\(~q & ~t "text\/html"\)/);
  } finally {
    h.unmount();
  }
});

test("a prompt command's result the status line cannot hold opens in the data viewer; q goes back", async () => {
  const engine = new FakeEngine();
  const curl = `curl -X POST 'http://api.example.com/${"long/".repeat(30)}' -H 'content-type: application/json'`;
  engine.onCommand = (line) => (line.startsWith("cut ") ? "Host: api.example.com\r\nAccept: */*\r\nX-Tab: a\tb\r\n" : line.startsWith("export curl ") ? curl : line === "short" ? "one line" : line === "row" ? "GET,http://x.test/\r\n" : line.startsWith("set view_filter ") ? `view_filter = ${line.slice(16)}` : undefined);
  engine.commands = [...engine.commands, { name: "cut", signature: "cut flows cuts", help: "" }, { name: "export", signature: "export format flow", help: "" }, { name: "short", signature: "short", help: "" }, { name: "row", signature: "row", help: "" }];
  const h = await renderConsole({ engine, width: 80 });
  try {
    h.engine.add(makeFlows(2));
    await waitForText(h, "/2]");
    await runAtPrompt(h, "cut @focus request.headers");
    const viewer = await waitForText(h, "Data viewer");
    assert.match(viewer, /^Host: api\.example\.com$/m);
    assert.match(viewer, /^Accept: \*\/\*$/m);
    // A control character is shown escaped, not sent to the terminal.
    assert.match(viewer, /^X-Tab: a\\x09b$/m);
    assert.doesNotMatch(await press(h, "q"), /Data viewer/);
    // Wider than the screen: wrapped at 80 columns (between words where they can be), nothing cut.
    await runAtPrompt(h, "export curl @focus");
    const long = await waitForText(h, "Data viewer");
    assert.ok(long.replace(/\s/g, "").includes(curl.replace(/\s/g, "")), "the whole export is there");
    assert.ok(long.split("\n").every((l) => l.length <= 80));
    await press(h, "q");
    // What fits stays in the status line.
    await runAtPrompt(h, "short");
    const short = await waitForText(h, "one line");
    assert.doesNotMatch(short, /Data viewer/);
    // A one-row cut of several columns: its CSV line end is no part of what is said.
    await runAtPrompt(h, "row");
    const row = await waitForText(h, "GET,http://x.test/");
    assert.doesNotMatch(row, /\\x0d/);
    // set's answer only confirms what was typed: a filter longer than the screen stays in the status line, cut to fit.
    await runAtPrompt(h, `set view_filter ~u /${"segment/".repeat(12)}`);
    const set = await waitForText(h, "view_filter = ~u /segment/");
    assert.doesNotMatch(set, /Data viewer/);
  } finally {
    h.unmount();
  }
});

test("console_layout_headers off (mitmproxy's option) gives the screens' title row to their contents; on brings it back", async () => {
  const h = await renderConsole({ width: 80, height: 12 });
  try {
    h.engine.log(...Array.from({ length: 30 }, (_, i) => ({ ts: 1_700_000_000 + i, level: "info" as const, msg: `entry ${i}` })));
    await press(h, "E");
    let f = await waitForText(h, "entry 29");
    assert.match(f.split("\n")[0]!, /^Events/);
    const shown = (frame: string) => frame.split("\n").filter((l) => /entry \d+/.test(l)).length;
    const withTitle = shown(f);
    await runAtPrompt(h, "set console_layout_headers false");
    f = await waitForText(h, /^\S+ info +entry/);
    assert.doesNotMatch(f, /^Events/m);
    assert.equal(shown(f), withTitle + 1, f);
    assert.match(f, /entry 29/, "still following the newest");
    await runAtPrompt(h, "set console_layout_headers true");
    f = await waitForText(h, /^Events/);
    assert.equal(shown(f), withTitle);
  } finally {
    h.unmount();
  }
});

test("O and C show the focused option's or command's whole help, wrapped under the list, with its type or signature", async () => {
  const h = await renderConsole({ width: 60, height: 24 });
  try {
    const long = "Show the Host header's host in the flow list and URLs; off: the host pryx connected to (mitmproxy's showhost, whose default is off).";
    h.engine.options = [...h.engine.options, { name: "showhost", type: "bool", value: "true", default: "true", help: long, choices: undefined } as unknown as (typeof h.engine.options)[number]];
    let f = await press(h, "O");
    const names = h.ctrl.optionList().map((o) => o.name);
    for (let i = 0; i < names.indexOf("showhost"); i++) f = await press(h, "j");
    assert.match(focusedLine(f)!, /showhost/);
    // The help's end, which a one-line pane cut off, is on screen, between words.
    assert.match(f.replace(/\s+/g, " "), /\(mitmproxy's showhost, whose default is off\)\./);
    await press(h, "q");
    f = await press(h, "C");
    const sig = h.ctrl.commandList()[0]!;
    assert.ok(f.includes(sig.signature), `the focused command's signature ${sig.signature} is shown`);
  } finally {
    h.unmount();
  }
});

test("? at 60 columns puts a binding's command under its help rather than cutting both", async () => {
  const h = await renderConsole({ width: 60, height: 60 });
  try {
    const f = await press(h, "?");
    const lines = f.split("\n");
    const at = lines.findIndex((l) => /^ +m +Toggle mark on this flow/.test(l));
    assert.ok(at >= 0, f);
    assert.match(lines[at + 1]!, /^ +flow\.mark\.toggle @focus$/);
    assert.ok(lines.every((l) => !l.includes("…")), "nothing is cut");
  } finally {
    h.unmount();
  }
});

test("help rows fit the screen when a binding's help is longer than the help column (the grid editor's r)", () => {
  for (const width of [80, 100]) {
    const rows = helpLines(defaultKeymap(), "grideditor", width).map((l) => l.map((s) => s.text).join(""));
    const r = rows.findIndex((l) => /^ +r +Read unescaped data/.test(l));
    assert.ok(r >= 0, rows.join("\n"));
    for (const row of rows) assert.ok(columns(row) <= width, `${width} columns: ${row}`);
    assert.match(rows.slice(r, r + 3).join("\n"), /^ +console\.command console\.grideditor\.load *$/m, "the command whole, on a row of its own");
  }
});

test("under a locale without UTF-8 (LANG=C) the options, commands and key bindings screens and the choosers draw in ASCII", async (t) => {
  const h = await renderConsole({ width: 100, height: 30, theme: themeFromEnv({ LANG: "C", NO_COLOR: "1" }) });
  t.after(() => h.unmount());
  const notAscii = /[^\x00-\x7f]/;
  let f = await press(h, "O");
  f = await waitForText(h, /^Options.*enter edit or toggle/m);
  assert.doesNotMatch(f, notAscii, f);
  f = await press(h, "q");
  f = await runAtPrompt(h, "console.view.commands");
  f = await waitForText(h, /Command Reference.*enter to run/);
  assert.doesNotMatch(f, notAscii, f);
  f = await press(h, "q");
  f = await press(h, "K");
  f = await waitForText(h, /Key Bindings.*enter edit/);
  assert.doesNotMatch(f, notAscii, f);
  f = await press(h, "q");
  f = await press(h, "o");
  f = await waitForText(h, /\(key or enter to pick, esc to cancel\)/);
  assert.doesNotMatch(f, notAscii, f);
  assert.match(f, /^\+-+\+$/m, "the chooser's box in ASCII");
});
