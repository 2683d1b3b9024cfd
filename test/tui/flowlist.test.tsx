import { test } from "node:test";
import assert from "node:assert/strict";
import { KEY, focusedLine, press, renderConsole, runAtPrompt, until, waitForText, type Harness } from "./helpers/tui.tsx";
import { makeFlow, makeFlows } from "./helpers/fake-engine.ts";

test("rows appear after a batch, with method, URL, status, type, size and duration", async () => {
  const h = await renderConsole();
  try {
    assert.match(h.lastFrame(), /No flows yet/);
    h.engine.add([
      makeFlow({ seq: 1, method: "GET", host: "api.example.com", path: "/v1/users?id=7", status: 200, contentType: "application/json", respSize: 2048, duration: 0.125 }),
      makeFlow({ seq: 2, method: "POST", host: "auth.example.org", path: "/login", status: 302, contentType: "text/html", respSize: 0, duration: 0.01 }),
      makeFlow({ seq: 3, method: "GET", host: "cdn.example.net", path: "/missing.png", status: 404, contentType: "text/plain", respSize: 10 }),
      makeFlow({ seq: 4, method: "GET", host: "down.example.com", path: "/", status: undefined, error: "connection refused", respSize: undefined, duration: undefined }),
    ]);
    const frame = await waitForText(h, "auth.example.org");
    const lines = frame.split("\n");
    assert.match(lines[0]!, /^>>\d\d:\d\d:\d\d +HTTPS GET +api\.example\.com\/v1\/users\?id=7 +200 json +2\.0k +125ms/);
    assert.match(lines[1]!, /^ {2}.*POST +auth\.example\.org\/login +302 text\/html +0b +10ms/);
    assert.match(lines[2]!, /404/);
    // Why it failed where the answer's type goes, as mitmproxy's row names its error.
    assert.match(lines[3]!, /down\.example\.com\/ +err connection…/);
    // Where the focus is among the flows, as mitmproxy's [idx/total].
    assert.match(frame, /\[1\/4\]/);
    assert.match(frame, /127\.0\.0\.1:8080/);
    assert.match(await press(h, "j"), /\[2\/4\]/);
    assert.match(await press(h, "G"), /\[4\/4\]/);
  } finally {
    h.unmount();
  }
});

test("a long host with a short path keeps as much of the host as the URL column holds", async () => {
  const h = await renderConsole();
  try {
    const host = "localhost.localdomain.very-long-subdomain.example-with-a-really-long-name.test";
    h.engine.add([makeFlow({ seq: 1, host, path: "/p" })]);
    const row = focusedLine(await waitForText(h, "/1]"))!;
    // The path takes 2 columns and the host all the rest, cut at its start: no blank room before the status.
    assert.match(row, / …[a-z]+\.example-with-a-really-long-name\.test\/p 200 /);
  } finally {
    h.unmount();
  }
});

test("j/k, arrows, G/g, PgDn/PgUp move the focus marker", async () => {
  const h = await renderConsole();
  try {
    h.engine.add(makeFlows(60, (i) => ({ seq: 1 + i, path: `/item/${1 + i}` })));
    await waitForText(h, "/item/1 ");
    assert.match(focusedLine(h.lastFrame())!, /\/item\/1 /);
    await press(h, "j");
    assert.match(focusedLine(h.lastFrame())!, /\/item\/2 /);
    await press(h, KEY.down);
    assert.match(focusedLine(h.lastFrame())!, /\/item\/3 /);
    await press(h, "k");
    assert.match(focusedLine(h.lastFrame())!, /\/item\/2 /);
    let f = await press(h, "G");
    assert.match(focusedLine(f)!, /\/item\/60 /);
    assert.ok(!f.includes("/item/1 "), "the window scrolled to the end");
    f = await press(h, "g");
    assert.match(focusedLine(f)!, /\/item\/1 /);
    f = await press(h, KEY.pageDown);
    assert.match(focusedLine(f)!, /\/item\/23 /);
    f = await press(h, " ");
    assert.match(focusedLine(f)!, /\/item\/45 /);
    f = await press(h, KEY.ctrlB);
    assert.match(focusedLine(f)!, /\/item\/23 /);
    f = await press(h, KEY.end);
    assert.match(focusedLine(f)!, /\/item\/60 /);
    f = await press(h, KEY.home);
    assert.match(focusedLine(f)!, /\/item\/1 /);
  } finally {
    h.unmount();
  }
});

test("flow keys send the engine their command with @focus replaced", async () => {
  const h = await renderConsole();
  try {
    const flows = makeFlows(3, (i) => ({ seq: 1 + i }));
    h.engine.add(flows);
    await waitForText(h, "/3]");
    await press(h, "j");
    const id = flows[1]!.id;
    for (const [key, line] of [
      ["a", `flow.resume ${id}`],
      ["A", "flow.resume @all"],
      ["X", `flow.kill ${id}`],
      ["m", `flow.mark.toggle ${id}`],
      ["r", `replay.client ${id}`],
      ["D", `view.flows.duplicate ${id}`],
      ["V", `flow.revert ${id}`],
      ["d", `view.flows.remove ${id}`],
    ] as const) {
      h.stdin.write(key);
      assert.ok(await until(() => h.engine.commandLines().includes(line)), `${key} should send ${line}; sent ${JSON.stringify(h.engine.commandLines())}`);
    }
  } finally {
    h.unmount();
  }
});

test("D focuses the copy the engine made, not another client's flow that arrives before it", async () => {
  const h = await renderConsole();
  try {
    const original = makeFlow({ seq: 1, path: "/original" });
    h.engine.add([original]);
    await waitForText(h, "/1]");
    h.engine.onCommand = (line) => {
      if (line !== `view.flows.duplicate ${original.id}`) return undefined;
      const other = makeFlow({ seq: 2, path: "/another-client" });
      const copy = makeFlow({ seq: 3, path: "/original" });
      setTimeout(() => h.engine.add([other]), 5);
      setTimeout(() => h.engine.add([copy]), 40);
      return { said: "duplicated 1 flow", ids: [copy.id] };
    };
    await press(h, "D");
    const f = await waitForText(h, "[3/3]");
    assert.match(focusedLine(f)!, /\/original /, "the copy has the focus");
    assert.match(f, /duplicated 1 flow/);
  } finally {
    h.unmount();
  }
});

test("marking shows a marker; M shows marked flows only", async () => {
  const h = await renderConsole();
  try {
    const flows = makeFlows(3, (i) => ({ seq: 1 + i, path: `/m/${i}` }));
    h.engine.add(flows);
    await waitForText(h, "/m/2");
    h.engine.update([{ ...flows[1]!, marker: ":default:" }]);
    const f = await waitForText(h, /●/);
    assert.match(f.split("\n").find((l) => l.includes("/m/1"))!, /●/);
    const m = await press(h, "M");
    assert.ok(!m.includes("/m/0") && m.includes("/m/1"), m);
    assert.match(m, /⇩ M \[1\/1 of 3\]/);
    const all = await press(h, "M");
    assert.ok(all.includes("/m/0"));
    // The engine resolves @shown and @hidden: it is told each time.
    assert.ok(await until(() => h.engine.commandLines().filter((l) => l.startsWith("view.properties.marked.set")).length === 2));
    assert.deepEqual(h.engine.commandLines().filter((l) => l.startsWith("view.properties.marked.set")), ["view.properties.marked.set true", "view.properties.marked.set false"]);
  } finally {
    h.unmount();
  }
});

test("o opens the order chooser; picking url reorders through the engine's option", async () => {
  const h = await renderConsole();
  try {
    h.engine.add([makeFlow({ seq: 1, host: "b.test", path: "/" }), makeFlow({ seq: 2, host: "a.test", path: "/" }), makeFlow({ seq: 3, host: "c.test", path: "/" })].map((f) => ({ ...f, url: `https://${f.host}/` })));
    await waitForText(h, "c.test");
    const chooser = await press(h, "o");
    assert.match(chooser, /Order flows by\.\.\./);
    // Sorted, as mitmproxy's chooser lists them.
    assert.match(chooser, /3 time \*/);
    assert.match(chooser, /4 url/);
    const f = await press(h, "4");
    assert.ok(h.engine.commandLines().includes("set view_order url"));
    const after = await waitForText(h, "[o:url]");
    const hosts = after.split("\n").slice(0, 3).map((l) => /([abc])\.test/.exec(l)?.[1]);
    assert.deepEqual(hosts, ["a", "b", "c"], f);
    // v reverses.
    await press(h, "v");
    const rev = await waitForText(h, "⇧");
    assert.deepEqual(rev.split("\n").slice(0, 3).map((l) => /([abc])\.test/.exec(l)?.[1]), ["c", "b", "a"]);
  } finally {
    h.unmount();
  }
});

test("F toggles follow mode: the focus jumps to each new flow", async () => {
  const h = await renderConsole();
  try {
    h.engine.add(makeFlows(3, (i) => ({ seq: 1 + i, path: `/f/${1 + i}` })));
    await waitForText(h, "/f/3");
    await press(h, "F");
    await waitForText(h, "[follow]");
    h.engine.add([makeFlow({ seq: 4, path: "/f/4" })]);
    await until(() => /\/f\/4/.test(focusedLine(h.lastFrame()) ?? ""));
    assert.match(focusedLine(h.lastFrame())!, /\/f\/4/);
  } finally {
    h.unmount();
  }
});

test("a prompt's @focus is the flow in focus when it opened: a flow that takes the focus while the user types (follow mode) does not get the command", async () => {
  const h = await renderConsole();
  try {
    h.engine.add(makeFlows(2, (i) => ({ seq: 1 + i, path: `/p/${1 + i}` })));
    await waitForText(h, "/p/2");
    await press(h, "F");
    await waitForText(h, "[follow]");
    await press(h, "k");
    assert.match(focusedLine(h.lastFrame())!, /\/p\/1/);
    assert.match(await press(h, ";"), /: flow\.comment @focus ''/);
    h.engine.add([makeFlow({ seq: 3, path: "/p/3" })]);
    await until(() => /\/p\/3/.test(focusedLine(h.lastFrame()) ?? ""));
    await press(h, "note");
    await press(h, KEY.enter);
    const first = makeFlow({ seq: 1 });
    await until(() => h.engine.commandLines().some((l) => l.startsWith("flow.comment")));
    assert.deepEqual(h.engine.commandLines().filter((l) => l.startsWith("flow.comment")), [`flow.comment ${first.id} 'note'`]);
  } finally {
    h.unmount();
  }
});

test("f opens the prompt on `set view_filter '…'` with the cursor in the quotes; Enter sets it in the engine", async () => {
  const h = await renderConsole();
  try {
    h.engine.add([makeFlow({ seq: 1, path: "/alpha" }), makeFlow({ seq: 2, path: "/beta" })]);
    await waitForText(h, "/beta");
    const p = await press(h, "f");
    assert.match(p, /: set view_filter ''/);
    await press(h, "~u alpha");
    assert.match(h.lastFrame(), /: set view_filter '~u alpha'/);
    await press(h, KEY.enter);
    assert.ok(h.engine.commandLines().includes("set view_filter '~u alpha'"));
    const f = await waitForText(h, "[f:~u alpha]");
    assert.match(f, /\[1\/1 of 2\]/);
    assert.ok(!f.includes("/beta"));
    // The prompt opens again pre-filled with the current filter.
    const again = await press(h, "f");
    assert.match(again, /: set view_filter '~u alpha'/);
    // ctrl-u clears the filter inside its quotes (readline would take the command with it).
    assert.match(await press(h, "\x15"), /: set view_filter ''/);
    await press(h, KEY.enter);
    assert.ok(h.engine.commandLines().includes("set view_filter ''"));
    // With no filter set, ctrl-u (by habit) then a filter typed still sets that filter.
    await press(h, "f");
    await press(h, "\x15");
    await press(h, "~u beta");
    assert.match(h.lastFrame(), /: set view_filter '~u beta'/);
    await press(h, KEY.enter);
    assert.ok(h.engine.commandLines().includes("set view_filter '~u beta'"), h.engine.commandLines().join("\n"));
  } finally {
    h.unmount();
  }
});

test("T turns the view filter off, showing every flow and the filter it keeps, and on again", async () => {
  const h = await renderConsole();
  try {
    h.engine.add([makeFlow({ seq: 1, path: "/alpha" }), makeFlow({ seq: 2, path: "/beta" })]);
    await waitForText(h, "/beta");
    // Nothing to turn off yet: said so, and nothing is sent.
    await press(h, "T");
    assert.match(await waitForText(h, /no view filter to turn off/), /set one with f/);
    await runAtPrompt(h, "set view_filter '~u alpha'");
    assert.match(await waitForText(h, "[f:~u alpha]"), /\[1\/1 of 2\]/);

    await press(h, "T");
    const off = await waitForText(h, "[f off:~u alpha]");
    assert.match(off, /\/2\]/);
    assert.match(off, /\/beta/);
    assert.match(off, /view filter off: ~u alpha/);
    assert.equal(h.engine.options.find((o) => o.name === "view_filter")?.value, "");

    await press(h, "T");
    const on = await waitForText(h, "[f:~u alpha]");
    assert.match(on, /\[1\/1 of 2\]/);
    assert.ok(!on.includes("/beta"));
    assert.ok(!on.includes("f off:"));
    assert.equal(h.engine.options.find((o) => o.name === "view_filter")?.value, "~u alpha");
  } finally {
    h.unmount();
  }
});

/** Flows /alpha and /beta, and the view filter `~u alpha` set at the prompt. */
async function showAlphaOnly(h: Harness): Promise<void> {
  h.engine.add([makeFlow({ seq: 1, path: "/alpha" }), makeFlow({ seq: 2, path: "/beta" })]);
  await waitForText(h, "/beta");
  await runAtPrompt(h, "set view_filter '~u alpha'");
  await waitForText(h, "[f:~u alpha]");
}

test("f while the view filter is toggled off offers the parked filter to edit; clearing it there clears it for good", async () => {
  const h = await renderConsole();
  try {
    await showAlphaOnly(h);
    await press(h, "T");
    await waitForText(h, "[f off:~u alpha]");
    await press(h, "f");
    assert.match(h.lastFrame(), /^: set view_filter '~u alpha'$/m);
    await press(h, KEY.esc);
    await runAtPrompt(h, "set view_filter ''");
    const cleared = await waitForText(h, "view_filter =");
    assert.ok(!cleared.includes("f off:"), "no parked filter left");
    await press(h, "T");
    assert.match(await waitForText(h, /no view filter to turn off/), /set one with f/);
  } finally {
    h.unmount();
  }
});

test("the parked filter stays parked whenever the engine reports T's own change, and a filter an addon sets replaces it", async () => {
  const h = await renderConsole();
  try {
    await showAlphaOnly(h);
    // The engine's report of an option change coming after its reply to the change, not before.
    const emit = h.engine.emit.bind(h.engine);
    h.engine.emit = (ev) => (ev.t === "options" ? void setTimeout(() => emit(ev), 20) : emit(ev));
    await press(h, "T");
    await waitForText(h, "[f off:~u alpha]");
    await new Promise((r) => setTimeout(r, 60));
    assert.match(h.lastFrame(), /\[f off:~u alpha\]/);
    h.engine.emit = emit;
    const viewFilter = h.engine.options.find((o) => o.name === "view_filter")!;
    h.engine.emit({ t: "options", changed: [{ ...viewFilter, value: "~u beta" }] });
    const replaced = await waitForText(h, "[f:~u beta]");
    assert.ok(!replaced.includes("f off:"), replaced);
  } finally {
    h.unmount();
  }
});

test("i opens the intercept prompt; the status bar shows the filter and the intercepted count", async () => {
  const h = await renderConsole();
  try {
    await press(h, "i");
    assert.match(h.lastFrame(), /: set intercept ''/);
    await press(h, "~q");
    await press(h, KEY.enter);
    await waitForText(h, "[i:~q]");
    h.engine.add([makeFlow({ seq: 1, intercepted: true, interceptedAt: "request", status: undefined, live: true })]);
    const f = await waitForText(h, "[intercepted:1]");
    assert.match(focusedLine(f)!, /!/);
  } finally {
    h.unmount();
  }
});

test("d typed ahead deletes one flow per press: the list lets go of a flow as its removal is sent, before the engine says so", async () => {
  const h = await renderConsole();
  try {
    const flows = makeFlows(5);
    h.engine.add(flows);
    await waitForText(h, "/5]");
    h.stdin.write("ddd");
    assert.ok(await until(() => h.engine.commandLines().filter((l) => l.startsWith("view.flows.remove")).length === 3));
    assert.deepEqual(h.engine.commandLines().filter((l) => l.startsWith("view.flows.remove")), flows.slice(0, 3).map((f) => `view.flows.remove ${f.id}`));
    await waitForText(h, "/2]");
  } finally {
    h.unmount();
  }
});

test("a d the engine refuses puts the flow back in the list", async () => {
  const h = await renderConsole();
  try {
    h.engine.add(makeFlows(2));
    await waitForText(h, "/2]");
    h.engine.onCommand = (line) => {
      if (line.startsWith("view.flows.remove")) throw new Error("the engine said no");
      return undefined;
    };
    await press(h, "d");
    await waitForText(h, "the engine said no");
    assert.match(h.lastFrame(), /\/2\]/);
  } finally {
    h.unmount();
  }
});

test("z asks before clearing; y sends view.flows.remove @all", async () => {
  const h = await renderConsole();
  try {
    h.engine.add(makeFlows(2));
    await waitForText(h, "/2]");
    const f = await press(h, "z");
    assert.match(f, /Delete all flows\? \(y\/n\)/);
    await press(h, "n");
    assert.ok(!h.engine.commandLines().some((l) => l.startsWith("view.flows.remove")));
    await press(h, "z");
    await press(h, "y");
    assert.ok(await until(() => h.engine.commandLines().includes("view.flows.remove @all")));
  } finally {
    h.unmount();
  }
});

test("q on the flow list asks to quit, n stays, y quits; Q quits at once", async () => {
  const h = await renderConsole();
  try {
    const f = await press(h, "q");
    assert.match(f, /Quit pryx\? \(y\/n\)/);
    await press(h, "n");
    assert.equal(h.exits.length, 0);
    assert.ok(!h.lastFrame().includes("Quit pryx?"));
    await press(h, "q");
    await press(h, "y");
    assert.equal(h.exits.length, 1);
  } finally {
    h.unmount();
  }
  const h2 = await renderConsole();
  try {
    await press(h2, "Q");
    assert.equal(h2.exits.length, 1);
    assert.equal(h2.exits[0], undefined);
  } finally {
    h2.unmount();
  }
});

test("q with flows paused says what quitting does to them (intercept_on_exit: killed, or resumed)", async () => {
  const h = await renderConsole();
  try {
    h.engine.add([1, 2].map((seq) => makeFlow({ seq, intercepted: true, interceptedAt: "request", status: undefined, live: true })));
    await waitForText(h, "/2]");
    assert.match(await press(h, "q"), /Quit pryx\? 2 paused flows will be killed\. \(y\/n\)/);
    await press(h, "n");
    await h.ctrl.run("set intercept_on_exit resume");
    assert.match(await press(h, "q"), /Quit pryx\? 2 paused flows will be resumed\. \(y\/n\)/);
    await press(h, "n");
    // Ctrl-C, pressed by reflex, asks too (mitmproxy's console asks on it), from any screen.
    await press(h, KEY.enter);
    assert.match(await press(h, KEY.ctrlC), /Quit pryx\? 2 paused flows will be resumed\. \(y\/n\)/);
    await press(h, "n");
    assert.equal(h.exits.length, 0);
  } finally {
    h.unmount();
  }
});

test("engine errors show in the status bar", async () => {
  const h = await renderConsole();
  try {
    h.engine.add(makeFlows(1));
    await waitForText(h, "/1]");
    h.engine.onCommand = () => {
      throw new Error("flow is not intercepted");
    };
    await press(h, "a");
    await waitForText(h, "flow is not intercepted");
  } finally {
    h.unmount();
  }
});

test("80x24 stays usable: every line fits and the URL still shows", async () => {
  const h = await renderConsole({ width: 80, height: 24 });
  try {
    h.engine.add(makeFlows(40, (i) => ({ seq: 1 + i, host: "www.example.com", path: `/static/js/app.${i}.bundle.js?v=123456789` })));
    const f = await waitForText(h, "/40]");
    const lines = f.split("\n");
    assert.equal(lines.length, 24);
    for (const l of lines) assert.ok(l.length <= 80, `too wide: ${l}`);
    assert.match(lines[0]!, /www\.example\.com\/static\/js/);
  } finally {
    h.unmount();
  }
});

test("an empty list over hidden flows says they are hidden, not that there are none", async () => {
  const h = await renderConsole();
  try {
    h.engine.add(makeFlows(2));
    await waitForText(h, "/2]");
    await press(h, "M");
    const frame = await waitForText(h, "None of the 2 flows is shown: M shows all flows again.");
    assert.doesNotMatch(frame, /No flows yet/);
  } finally {
    h.unmount();
  }
});

test("console_flowlist_layout list draws each flow on two lines, request then answer; paging counts flows; default is list below 100 columns only", async () => {
  const h = await renderConsole({ width: 80, height: 24 });
  try {
    h.engine.add([
      makeFlow({ seq: 1, method: "GET", scheme: "https", host: "api.example.com", path: "/v1/users?id=7", status: 200, contentType: "application/json", respSize: 2048, duration: 0.125, httpVersion: "HTTP/2.0" }),
      makeFlow({ seq: 2, method: "GET", host: "down.example.com", path: "/", status: undefined, error: "connection refused", respSize: undefined, duration: undefined }),
      ...makeFlows(40, (i) => ({ seq: 3 + i, path: `/item/${3 + i}` })),
    ]);
    await waitForText(h, "/42]");
    let f = await runAtPrompt(h, "set console_flowlist_layout list");
    const lines = f.split("\n");
    assert.match(lines[0]!, /^>> +GET https:\/\/api\.example\.com\/v1\/users\?id=7 HTTP\/2\.0/);
    assert.match(lines[1]!, /^ +⇐ 200 application\/json 2\.0k 125ms/);
    assert.match(lines[2]!, /^ +GET https:\/\/down\.example\.com\//);
    assert.match(lines[3]!, /^ +⇐ connection refused/);
    // 24 rows less the status and help lines hold 11 flows of two lines: a page moves 11 flows.
    f = await press(h, KEY.pageDown);
    assert.match(focusedLine(f)!, /\/item\/12\b/);
    f = await runAtPrompt(h, "set console_flowlist_layout default");
    assert.match(f.split("\n")[1]!, /⇐/, "default is the list below 100 columns");
    f = await runAtPrompt(h, "set console_flowlist_layout table");
    assert.doesNotMatch(f, /⇐/);
    assert.match(focusedLine(f)!, /\/item\/12 +200 /);
  } finally {
    h.unmount();
  }
});

test("mitmproxy's view.* commands from the prompt: focus.go, order, filter, properties, clear_unmarked", async () => {
  const h = await renderConsole();
  try {
    h.engine.add(makeFlows(10, (i) => ({ seq: 1 + i, path: `/item/${1 + i}${i === 2 ? "/alpha" : ""}` })));
    await waitForText(h, "/10]");
    await runAtPrompt(h, "view.focus.go -1");
    assert.match(focusedLine(h.lastFrame())!, /\/item\/10 /);
    await runAtPrompt(h, "view.focus.go 3");
    assert.match(focusedLine(h.lastFrame())!, /\/item\/4 /);
    await runAtPrompt(h, "view.focus.go x");
    assert.match(await waitForText(h, "needs an index"), /view\.focus\.go needs an index, not "x"/);
    await runAtPrompt(h, "view.properties.length");
    await waitForText(h, /^10 *$/m);
    await runAtPrompt(h, "view.properties.inbounds 10");
    await waitForText(h, /^false *$/m);
    await runAtPrompt(h, "view.order.reverse");
    assert.equal(h.ctrl.option("view_order_reversed"), "true");
    await runAtPrompt(h, "view.order.set url");
    assert.equal(h.ctrl.option("view_order"), "url");
    await runAtPrompt(h, "view.filter.set ~u alpha");
    assert.match(await waitForText(h, "[f:~u alpha]"), /\[1\/1 of 10\]/);
    // Quoted as mitmproxy's key bindings write it: the quotes are no part of the filter, and '' clears it.
    await runAtPrompt(h, "view.filter.set '~u item/2'");
    assert.match(await waitForText(h, "[f:~u item/2]"), /\[1\/1 of 10\]/);
    await runAtPrompt(h, "view.filter.set ''");
    await until(() => h.ctrl.option("view_filter") === "");
    assert.doesNotMatch(h.lastFrame() ?? "", /\[f:/);
    await runAtPrompt(h, "view.filter.set ~u alpha");
    await runAtPrompt(h, "view.clear_unmarked");
    await until(() => h.engine.commandLines().includes("view.flows.remove !~marked"));
    assert.ok(h.engine.commandLines().includes("view.flows.remove !~marked"));
  } finally {
    h.unmount();
  }
});

test("n then Enter names the new flow in the status line, not its id, and focuses it", async () => {
  const h = await renderConsole();
  try {
    h.engine.add([makeFlow({ seq: 1, path: "/first" }), makeFlow({ seq: 2, path: "/second" })]);
    await waitForText(h, "[1/2]");
    const made = makeFlow({ seq: 3, method: "GET", scheme: "https", host: "example.com", path: "/", status: undefined, respSize: undefined });
    h.engine.onCommand = (line) => {
      if (!line.startsWith("view.flows.create")) return undefined;
      // The engine answers with the id; the flow comes in a later batch.
      setTimeout(() => h.engine.add([made]), 5);
      return made.id;
    };
    assert.match(await press(h, "n"), /: view\.flows\.create get https:\/\/example\.com\//);
    const frame = await press(h, KEY.enter);
    assert.match(frame, /new flow: GET https:\/\/example\.com\/ \(e edits it, r sends it\)/);
    assert.doesNotMatch(frame, new RegExp(made.id));
    assert.match(await waitForText(h, "[3/3]"), /\[3\/3\]/, "the new flow has the focus");
    assert.match(focusedLine(h.lastFrame())!, /example\.com\//);
  } finally {
    h.unmount();
  }
});
