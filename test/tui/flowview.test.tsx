import { test } from "node:test";
import assert from "node:assert/strict";
import { KEY, press, renderConsole, runAtPrompt, until, waitForText } from "./helpers/tui.tsx";
import { FakeEngine, makeDetail, makeFlow, makeFlows } from "./helpers/fake-engine.ts";
import type { FlowDetail, FlowSummary } from "../../src/protocol.ts";
import { certificateDetail } from "../../src/engine/flow/certificate-detail.ts";
import { selfSignedCert } from "../../bench/cert.ts";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import { renderContent, type ViewResult } from "../../src/tui/contentviews/index.ts";
import type { BodyRenderJob, BodyRendering } from "../../src/tui/render/body-renderer.ts";

/** The fake engine answers `f`'s detail with `text` as its plain-text response body. */
function answerWithText(e: FakeEngine, f: FlowSummary, text: string): void {
  const body = new TextEncoder().encode(text);
  const origRequest = e.request.bind(e);
  e.request = (async (req: Parameters<typeof origRequest>[0]) => {
    if (req.op !== "detail") return origRequest(req);
    const d: FlowDetail = makeDetail(f);
    d.response = { ...d.response!, headers: [["Content-Type", "text/plain"]], body, bodySize: body.length, contentType: "text/plain" };
    e.requests.push(req);
    return d;
  }) as typeof e.request;
}

test("Enter opens the flow with its request headers, fetched only then; Tab shows the response; q returns", async () => {
  const h = await renderConsole();
  try {
    h.engine.add(makeFlows(3, (i) => ({ seq: 1 + i, path: `/v1/items/${1 + i}` })));
    await waitForText(h, "/v1/items/3");
    assert.equal(h.engine.requests.filter((r) => r.op === "detail").length, 0);
    await press(h, "j");
    await press(h, KEY.enter);
    const f = await waitForText(h, "User-Agent: curl/8.5.0");
    const detailReqs = h.engine.requests.filter((r) => r.op === "detail");
    assert.equal(detailReqs.length, 1);
    assert.equal(detailReqs[0]!.op === "detail" && detailReqs[0]!.id, h.engine.flows.get([...h.engine.flows.keys()][1]!)!.id);
    assert.match(f, /\[Request\] +Response +Detail/);
    assert.match(f, /GET https:\/\/api\.example\.com\/v1\/items\/2 HTTP\/1\.1/);
    assert.match(f, /Host: api\.example\.com/);
    assert.match(f, /Accept: \*\/\*/);

    const r = await press(h, KEY.tab);
    assert.match(r, /Request +\[Response\] +Detail/);
    assert.match(r, /HTTP\/1\.1 200 OK/);
    assert.match(r, /Content-Type: application\/json/);
    assert.match(r, /"name": "item 2"/);

    const d = await press(h, KEY.right);
    assert.match(d, /\[Detail\]/);
    assert.match(d, /Server Connection:/);
    assert.match(d, /TLS Version: TLSv1\.3/);
    assert.match(d, /ALPN: http\/1\.1 \(offered: h2, http\/1\.1\)/, "what the client offered, beside what was agreed");
    assert.match(await press(h, "G"), /Response complete/);
    assert.match(await press(h, KEY.left), /\[Response\]/);

    const back = await press(h, "q");
    assert.match(back, /\/v1\/items\/3/);
    assert.match(back.split("\n").find((l) => l.startsWith(">>"))!, /\/v1\/items\/2/);
  } finally {
    h.unmount();
  }
});

test("m picks the content view for the current tab, kept with its flow as mitmproxy does", async () => {
  const h = await renderConsole();
  try {
    h.engine.add(makeFlows(2, (i) => ({ seq: 1 + i })));
    await waitForText(h, "/2]");
    await press(h, KEY.enter);
    await press(h, KEY.tab);
    await waitForText(h, '"name": "item 1"');
    const c = await press(h, "m");
    assert.match(c, /Set contentview\.\.\./);
    assert.match(c, /auto \*/);
    const hexKey = /(\w) hex/.exec(c)![1]!;
    const hex = await press(h, hexKey);
    assert.match(hex, /\[m:hex\]/);
    assert.match(hex, /7b 22 69 64/);
    // The request tab keeps its own mode.
    const req = await press(h, KEY.shiftTab);
    assert.match(req, /\[m:auto\]/);
    await press(h, KEY.tab);
    // The next flow opens in its own (default) view; stepping back finds hex again.
    await press(h, " ");
    const next = await waitForText(h, '"name": "item 2"');
    assert.match(next, /\[m:auto\]/);
    await press(h, "p");
    assert.match(await waitForText(h, "[m:hex]"), /7b 22 69 64 22 3a 31/, "flow 1's body ({\"id\":1) in hex again");
  } finally {
    h.unmount();
  }
});

test("scrolling by line and page, and / search with n and N", async () => {
  const engine = (await import("./helpers/fake-engine.ts")).FakeEngine;
  const e = new engine();
  const h = await renderConsole({ engine: e });
  try {
    const f = makeFlow({ seq: 1 });
    e.add([f]);
    const lines = Array.from({ length: 120 }, (_, i) => `line number ${i}${i === 70 ? " needle" : ""}${i === 100 ? " needle" : ""}`).join("\n");
    answerWithText(e, f, lines);
    await waitForText(h, "/1]");
    await press(h, KEY.enter);
    await press(h, KEY.tab);
    let fr = await waitForText(h, "line number 0");
    fr = await press(h, "j");
    assert.ok(!fr.includes("HTTP/1.1 200 OK"), "scrolled one line");
    fr = await press(h, KEY.pageDown);
    assert.match(fr, /line number 2\d/);
    fr = await press(h, "g");
    assert.match(fr, /HTTP\/1\.1 200 OK/);
    fr = await press(h, "G");
    assert.match(fr, /line number 119/);
    await press(h, "g");
    fr = await press(h, "/");
    assert.match(fr, /Search for:/);
    await press(h, "needle");
    fr = await press(h, KEY.enter);
    assert.match(fr, /line number 70 needle/);
    fr = await press(h, "n");
    assert.match(fr, /line number 100 needle/);
    fr = await press(h, "N");
    assert.match(fr, /line number 70 needle/);
    // The view marks the term's matches (drawn inverse: see resize-color.test.tsx).
    const top = h.ctrl.state.stack.at(-1)!;
    assert.equal(top.kind === "flowview" && top.match, "needle");
  } finally {
    h.unmount();
  }
});

test("the open flow is refetched when it changes, and the view closes when it is removed", async () => {
  const h = await renderConsole();
  try {
    const f = makeFlow({ seq: 1, status: undefined, respSize: undefined, live: true, intercepted: true, interceptedAt: "request" });
    h.engine.add([f]);
    await waitForText(h, "/1]");
    await press(h, KEY.enter);
    const fr = await waitForText(h, "Request intercepted");
    assert.match(await press(h, KEY.tab), /the request is intercepted/);
    await press(h, "a");
    assert.ok(await until(() => h.engine.commandLines().includes(`flow.resume ${f.id}`)));
    h.engine.update([{ ...f, status: 200, respSize: 51, live: false, intercepted: false, interceptedAt: undefined }]);
    await waitForText(h, '"name": "item 1"');
    assert.ok(h.engine.requests.filter((r) => r.op === "detail").length >= 2, fr);
    h.engine.remove([f.id]);
    await waitForText(h, "the flow was removed");
    assert.match(h.lastFrame(), /No flows yet/);
  } finally {
    h.unmount();
  }
});

test("space and p step to the next and previous flow inside the flow view", async () => {
  const h = await renderConsole();
  try {
    h.engine.add(makeFlows(3, (i) => ({ seq: 1 + i, path: `/step/${1 + i}` })));
    await waitForText(h, "/step/3");
    await press(h, KEY.enter);
    await waitForText(h, "GET https://api.example.com/step/1 HTTP/1.1");
    await press(h, " ");
    await waitForText(h, "GET https://api.example.com/step/2 HTTP/1.1");
    await press(h, "p");
    await waitForText(h, "GET https://api.example.com/step/1 HTTP/1.1");
  } finally {
    h.unmount();
  }
});

/** Adds one flow whose response is `lines` of plain text, and waits for it in the list. */
async function addTextResponse(h: Awaited<ReturnType<typeof renderConsole>>, lines: string[]): Promise<void> {
  const f = makeFlow({ seq: 1 });
  const body = new TextEncoder().encode(lines.join("\n"));
  const d = makeDetail(f);
  d.response = { ...d.response!, headers: [["Content-Type", "text/plain"]], body, bodySize: body.length, contentType: "text/plain" };
  h.engine.details.set(f.id, d);
  h.engine.add([f]);
  await waitForText(h, "/1]");
}

test("f on a body of hundreds of thousands of lines shows all of them (no stack overflow)", async () => {
  const h = await renderConsole();
  try {
    // 200,000 lines: pretty-printing a 2 MB minified JSON array gives as many.
    await addTextResponse(h, Array.from({ length: 200_000 }, (_, i) => `row ${i}`));
    await press(h, KEY.enter);
    await press(h, KEY.tab);
    await waitForText(h, "row 0");
    await press(h, "f");
    await waitForText(h, "showing full contents", 20_000);
    // Rendered on the console's body-rendering thread: the tab bar says so until the lines arrive.
    assert.ok(await until(() => !h.lastFrame().includes("rendering…"), 20_000), "the whole body arrived");
    assert.match(await press(h, "G", 20_000), /row 199999/);
  } finally {
    h.unmount();
  }
});

test("f on a large body keeps the console answering keys while the body renders elsewhere, then shows all of it", async () => {
  // A renderer held by the test: the body is "still rendering" for as long as the test wants.
  const jobs: { job: BodyRenderJob; done: (r: ViewResult) => void }[] = [];
  const bodyRenderer: BodyRendering = {
    render: (job) => new Promise((done) => jobs.push({ job, done })),
    close: () => Promise.resolve(),
  };
  const h = await renderConsole({ bodyRenderer });
  try {
    const rows = Array.from({ length: 150_000 }, (_, i) => `row ${i}`);
    await addTextResponse(h, rows);
    await press(h, KEY.enter);
    await press(h, KEY.tab);
    await waitForText(h, "row 0");
    let fr = await press(h, "f");
    assert.match(fr, /\[Response\] Detail  rendering…/);
    // The whole body is fetched (the view had its first MiB), then rendered elsewhere.
    assert.ok(await until(() => jobs.length === 1));
    assert.equal(jobs[0]!.job.body.length, Buffer.byteLength(rows.join("\n")));
    // The first lines stay, and keys act on them while the rest is on its way.
    fr = await press(h, KEY.pageDown);
    assert.match(fr, /row 2\d/);
    fr = await press(h, "G");
    assert.match(fr, /Rendering all 1\.\dm of it…/);
    jobs[0]!.done(renderContent(jobs[0]!.job.body, jobs[0]!.job.contentType, jobs[0]!.job.mode, { maxLines: jobs[0]!.job.maxLines }));
    // The view stays where the user is; the rest is there to go to.
    assert.ok(await until(() => !h.lastFrame().includes("rendering…"), 5000), "the whole body arrived");
    assert.match(h.lastFrame(), /row 512\n/);
    assert.match(await press(h, "G"), /row 149999/);
    // f twice: the lines rendered are kept, not asked for again.
    await press(h, "f");
    await press(h, "f");
    assert.match(await press(h, "G"), /row 149999/);
    assert.equal(jobs.length, 1);
  } finally {
    h.unmount();
  }
});

/** Shows the only flow `f` with detail `d`, opens it, waits for `ready` and moves two tabs right: that frame. */
async function openThirdTab(h: Awaited<ReturnType<typeof renderConsole>>, f: FlowSummary, d: FlowDetail, ready: string): Promise<string> {
  h.engine.details.set(f.id, d);
  h.engine.add([f]);
  await waitForText(h, "/1]");
  await press(h, KEY.enter);
  await waitForText(h, ready);
  await press(h, KEY.tab);
  return press(h, KEY.tab);
}

/** A WebSocket flow (101) with text `messages` ([from client, text]), opened on its WebSocket Messages tab: that frame. */
async function messagesFrame(over: Partial<FlowSummary>, messages: [boolean, string][], closed?: FlowDetail["closed"], tags: Partial<Record<number, { dropped?: true; injected?: true }>> = {}): Promise<string> {
  const h = await renderConsole();
  try {
    const f = makeFlow({ seq: 1, scheme: "http", status: 101, reason: "Switching Protocols", contentType: undefined, messages: messages.length, ...over });
    const d = makeDetail(f);
    d.messages = messages.map(([fromClient, text], i) => ({ fromClient, type: "text", content: new TextEncoder().encode(text), timestamp: f.ts + 0.1 * (i + 1), ...tags[i] }));
    if (closed) d.closed = closed;
    const fr = await openThirdTab(h, f, d, "WebSocket Messages");
    assert.match(fr, /\[WebSocket Messages\]/);
    return fr;
  } finally {
    h.unmount();
  }
}

test("the WebSocket Messages tab ends with who closed the connection, the code and the reason", async () => {
  const fr = await messagesFrame({}, [[true, "hi there"], [false, "echo: hi there"]], { byClient: true, code: 1000, reason: "bye" });
  assert.match(fr, /⇐ echo: hi there\n⇒ Connection closed: 1000 bye/);
});

test("a message an addon dropped or injected is tagged so in the WebSocket Messages tab", async () => {
  const fr = await messagesFrame({}, [[true, "secret"], [false, "made up"], [true, "plain"]], undefined, { 0: { dropped: true }, 1: { injected: true } });
  assert.match(fr, /⇒ \[dropped\] secret\n⇐ \[injected\] made up\n⇒ plain/);
});

test("a WebSocket flow held at a message says so under its messages", async () => {
  const fr = await messagesFrame({ scheme: "ws", live: true, intercepted: true, interceptedAt: "message" }, [[true, "held one"]]);
  assert.match(fr, /⇒ held one\nThe last message is intercepted: it goes on when the flow is resumed \(a\)/);
});

test("a peer's escape sequences never reach the terminal: the flow view's title row escapes the server's reason phrase, the status line a warning that quotes a client's SNI", async () => {
  const h = await renderConsole();
  try {
    h.engine.add([makeFlow({ seq: 1, status: 200, reason: "OK\x1b]52;c;cm0K\x07" })]);
    await waitForText(h, "/1]");
    await press(h, KEY.enter);
    const frame = await waitForText(h, "[Request]");
    assert.ok(!frame.includes("\x1b]52"), JSON.stringify(frame.split("\n")[0]));
    assert.match(frame.split("\n")[0]!, /200 OK\\x1b\]52;c;cm0K\\x07/);
    h.ctrl.message("client TLS handshake failed for sni\x1b]0;T\x07x.test", "warn");
    const warned = await waitForText(h, "handshake failed");
    assert.ok(!warned.includes("\x1b]0;"), "no raw OSC in the status line");
    assert.match(warned, /for sni\\x1b\]0;T\\x07x\.test/);
  } finally {
    h.unmount();
  }
});

test("a long error message leaves the flow view's header line room for the URL", async () => {
  const h = await renderConsole();
  try {
    const host = "localhost.localdomain.very-long-subdomain.example.test";
    const f = makeFlow({ seq: 1, host, path: "/p", status: undefined, respSize: undefined, duration: undefined, error: `cannot resolve ${host}: getaddrinfo ENOTFOUND ${host}` });
    h.engine.add([f]);
    await waitForText(h, "/1]");
    await press(h, KEY.enter);
    const header = (await waitForText(h, "[Request]")).split("\n")[0]!;
    assert.match(header, /^GET https:\/\/localhost\.localdomain\.very-long/);
    assert.match(header, /error: cannot resolve localhost/);
  } finally {
    h.unmount();
  }
});

test("a decoded body says which Content-Encoding it was decoded from", async () => {
  const h = await renderConsole();
  try {
    const f = makeFlow({ seq: 1 });
    const d = makeDetail(f);
    d.response = { ...d.response!, headers: [...d.response!.headers, ["Content-Encoding", "gzip"]], encoding: "decoded gzip" };
    h.engine.details.set(f.id, d);
    h.engine.add([f]);
    await waitForText(h, "/1]");
    await press(h, KEY.enter);
    await press(h, KEY.tab);
    assert.match(await waitForText(h, '"name": "item 1"'), /JSON \d+b \[decoded gzip\] \[m:auto\]/);
  } finally {
    h.unmount();
  }
});

test("the flow view's title: a DNS flow's rcode by name and no size, a finished TCP flow and a request with no answer to come no pending '…'", async () => {
  const h = await renderConsole();
  try {
    h.engine.add([
      makeFlow({ seq: 1, type: "dns", scheme: "dns", method: "A", host: "named.test", url: "dns://named.test", path: "", port: 0, status: 0, reason: "NOERROR", reqSize: 1, respSize: 2, contentType: undefined, duration: 0.002 }),
      makeFlow({ seq: 2, type: "tcp", scheme: "tcp", method: "", host: "127.0.0.1", url: "tcp://127.0.0.1:7", path: "", port: 7, status: undefined, reason: undefined, reqSize: 5, respSize: 5, contentType: undefined, live: false, duration: 0.5 }),
      // As view.flows.create makes one: a request alone, not live.
      makeFlow({ seq: 3, method: "POST", host: "made.test", path: "/new", status: undefined, reason: undefined, respSize: undefined, contentType: undefined, live: false, duration: undefined }),
    ]);
    await waitForText(h, "named.test");
    await press(h, "g");
    const dns = (await press(h, KEY.enter)).split("\n")[0] ?? "";
    assert.match(dns, /NOERROR +2ms$/);
    assert.doesNotMatch(dns, / 0 NOERROR|3b|2b/);
    await press(h, "q");
    await press(h, "j");
    const tcp = (await press(h, KEY.enter)).split("\n")[0] ?? "";
    assert.match(tcp, /10b +500ms$/);
    await press(h, "q");
    await press(h, "j");
    const made = (await press(h, KEY.enter)).split("\n")[0] ?? "";
    assert.match(made, /POST https:\/\/made\.test\/new/);
    assert.doesNotMatch(made, /…/);
  } finally {
    h.unmount();
  }
});

test("content_view_lines_cutoff: a body shows that many lines until f shows all of them", async () => {
  const h = await renderConsole();
  try {
    await addTextResponse(h, Array.from({ length: 20 }, (_, i) => `line ${i}`));
    await runAtPrompt(h, "set content_view_lines_cutoff 5");
    assert.ok(await until(() => h.engine.options.find((o) => o.name === "content_view_lines_cutoff")?.value === "5"));
    await press(h, KEY.enter);
    await press(h, KEY.tab);
    const cut = await waitForText(h, "line 4");
    assert.doesNotMatch(cut, /line 5\b/, cut);
    await press(h, "f");
    await waitForText(h, "line 5");
    assert.match(await press(h, "G"), /line 19/);
  } finally {
    h.unmount();
  }
});

test("the Detail tab summarizes the server's certificate as mitmproxy does, and says why when it cannot", async () => {
  const { certPem } = selfSignedCert("shop.test", [], ["shop.test", "cdn.shop.test"]);
  for (const [pem, expect, further] of [
    [certPem, [/Server Certificate:/, /Type: RSA, 2048 bits/, /SHA256: [0-9a-f]{64}\n/, /Valid from: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/], [/Subject: CN=shop\.test/, /Alt names: shop\.test, cdn\.shop\.test/]],
    ["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", [/Server Certificate:\n\s+unreadable certificate: /], []],
  ] as const) {
    const h = await renderConsole();
    try {
      const f = makeFlow({ seq: 1 });
      const d = makeDetail(f);
      d.server = { ...d.server, certificate: certificateDetail(pem, 1) };
      const fr = await openThirdTab(h, f, d, "User-Agent");
      assert.match(fr, /\[Detail\]/);
      for (const re of expect) assert.match(fr, re);
      assert.doesNotMatch(fr, /BEGIN CERTIFICATE/);
      const end = await press(h, "G");
      for (const re of further) assert.match(end, re);
    } finally {
      h.unmount();
    }
  }
});

test("the Detail tab shows a comment as written, as mitmproxy does, with only its control characters escaped", async () => {
  const h = await renderConsole();
  try {
    const f = makeFlow({ seq: 1, comment: "ログイン失敗 ✓ naïve\x1b[2J" });
    const fr = await openThirdTab(h, f, makeDetail(f), "User-Agent");
    assert.match(fr, /Comment: ログイン失敗 ✓ naïve\\x1b\[2J/);
  } finally {
    h.unmount();
  }
});

test("the Detail tab shows a client's certificate (request_client_cert) under the client connection", async () => {
  const { certPem } = selfSignedCert("pryx test client", [], ["client.test"]);
  const h = await renderConsole();
  try {
    const f = makeFlow({ seq: 1 });
    const d = makeDetail(f);
    d.client = { ...d.client, certificate: certificateDetail(certPem, 1) };
    await openThirdTab(h, f, d, "User-Agent");
    const end = await press(h, "G");
    assert.match(end, /Address: 127\.0\.0\.1:51234[\s\S]*Client Certificate:[\s\S]*Subject: CN=pryx test client/);
    assert.doesNotMatch(end, /Server Certificate:/);
  } finally {
    h.unmount();
  }
});

test("long header values, URLs and errors wrap at the width between words, so they are read whole; a resize wraps them again", async () => {
  const h = await renderConsole({ terminalSize: true });
  try {
    const cookie = Array.from({ length: 14 }, (_, i) => `pref${i}=value-number-${i}`).join("; ");
    const [f] = makeFlows(1, () => ({ seq: 1, path: "/a" }));
    const base = makeDetail(f!);
    h.engine.add([f!]);
    h.engine.details.set(f!.id, { ...base, request: { ...base.request!, headers: [...base.request!.headers, ["Cookie", cookie]] } });
    await waitForText(h, "/1]");
    const first = await press(h, KEY.enter);
    await waitForText(h, "Cookie:");
    const rowsOf = (frame: string) => {
      const lines = frame.split("\n");
      const at = lines.findIndex((l) => l.startsWith("Cookie: "));
      const rows = [lines[at]!];
      for (let i = at + 1; lines[i]?.startsWith("        "); i++) rows.push(lines[i]!);
      return rows;
    };
    let rows = rowsOf(h.lastFrame());
    assert.ok(first.length > 0 && rows.length > 2, h.lastFrame());
    // Every part of the value is on screen, each row within the 100 columns, no word cut in two.
    assert.equal(rows.map((r) => r.trim()).join(" "), `Cookie: ${cookie}`);
    assert.ok(rows.every((r) => r.length <= 100), rows.join("\n"));
    Object.defineProperty(h.stdout, "columns", { value: 60, configurable: true });
    h.stdout.emit("resize");
    assert.ok(await until(() => rowsOf(h.lastFrame()).length > rows.length), h.lastFrame());
    rows = rowsOf(h.lastFrame());
    assert.equal(rows.map((r) => r.trim()).join(" "), `Cookie: ${cookie}`);
    assert.ok(rows.every((r) => r.length <= 60), rows.join("\n"));
  } finally {
    h.unmount();
  }
});

test("a long escaped header value wraps between escapes, never inside one", async () => {
  const h = await renderConsole();
  try {
    // 7 columns of "X-Bin: ", then 4 an escape: the row's last column falls inside one.
    const value = "\xff\x01".repeat(20) + "\u00e9".repeat(30);
    const [f] = makeFlows(1, () => ({ seq: 1, path: "/a" }));
    const base = makeDetail(f!);
    h.engine.add([f!]);
    h.engine.details.set(f!.id, { ...base, request: { ...base.request!, headers: [...base.request!.headers, ["X-Bin", value]] } });
    await waitForText(h, "/1]");
    await press(h, KEY.enter);
    const lines = (await waitForText(h, "X-Bin:")).split("\n");
    const at = lines.findIndex((l) => l.startsWith("X-Bin: "));
    const rows = [lines[at]!.slice("X-Bin: ".length)];
    for (let i = at + 1; lines[i]?.startsWith("       \\"); i++) rows.push(lines[i]!.trim());
    assert.ok(rows.length > 2, lines.join("\n"));
    assert.equal(rows.join(""), "\\xff\\x01".repeat(20) + "\\xe9".repeat(30));
    for (const r of rows) assert.match(r, /^(?:\\x[0-9a-f]{2})+$/, rows.join("\n"));
  } finally {
    h.unmount();
  }
});

test("with protobuf_definitions the console shows a gRPC flow's bodies by field name", async () => {
  const proto = fileURLToPath(new URL("../fixtures/shop.proto", import.meta.url));
  const h = await renderConsole({ ready: { options: [{ name: "protobuf_definitions", type: "optional str", value: proto, default: "", help: "", choices: undefined }] } });
  try {
    const root = protobuf.loadSync(proto);
    const T = root.lookupType("shop.v1.Order");
    const message = T.encode(T.fromObject({ id: "7", name: "widget", items: [{ sku: "A-1", count: 2 }] })).finish();
    const body = new Uint8Array(5 + message.length);
    new DataView(body.buffer).setUint32(1, message.length);
    body.set(message, 5);
    const [f] = makeFlows(1, () => ({ seq: 1, path: "/shop.v1.Orders/Get", contentType: "application/grpc" }));
    const base = makeDetail(f!);
    h.engine.details.set(f!.id, { ...base, request: { ...base.request!, path: "/shop.v1.Orders/Get" }, response: { ...base.response!, headers: [["Content-Type", "application/grpc"]], body, bodySize: body.length, contentType: "application/grpc" } });
    h.engine.add([f!]);
    await waitForText(h, "/1]");
    await press(h, KEY.enter);
    await press(h, KEY.tab);
    const r = await waitForText(h, '"name": "widget"');
    assert.match(r, /gRPC message 1 \(\d+ bytes\)\n +shop\.v1\.Order\n/);
    assert.match(r, /"sku": "A-1",/);
  } finally {
    h.unmount();
  }
});

/** A console of `width` columns with one flow whose response body is `text`, its Response tab open. */
async function responseShown(width: number, text: string) {
  const engine = (await import("./helpers/fake-engine.ts")).FakeEngine;
  const e = new engine();
  const h = await renderConsole({ engine: e, width, height: 20 });
  const f = makeFlow({ seq: 1 });
  e.add([f]);
  answerWithText(e, f, text);
  await waitForText(h, "/1]");
  await press(h, KEY.enter);
  await press(h, KEY.tab);
  return h;
}

test("/ in a body cut at content_view_lines_cutoff says the term is not in what is shown, and how to show all of it; after f it is found", async () => {
  const h = await responseShown(80, Array.from({ length: 600 }, (_, i) => `line ${i}`).join("\n"));
  try {
    await waitForText(h, "line 0");
    await press(h, "/");
    await press(h, "line 580");
    assert.match(await press(h, KEY.enter), /not found: line 580 \(in what is shown; f shows all\)/);
    await press(h, "f");
    await press(h, "n");
    await waitForText(h, "line 580");
    assert.doesNotMatch(h.lastFrame(), /not found/);
  } finally {
    h.unmount();
  }
});

test("/ finds a phrase the screen's width wrapped across two rows, at any width; a found term clears the last 'not found'", async () => {
  const h = await responseShown(60, "The quick brown fox jumps over the lazy dog and keeps running over a very long line that needs wrapping\nend");
  try {
    await waitForText(h, "The quick brown");
    const shown = h.lastFrame();
    const phrases = ["lazy dog", "keeps running", "needs wrapping", "over a very"];
    assert.ok(phrases.some((p) => !shown.split("\n").some((l) => l.includes(p))), `the width cuts one of the phrases in two:\n${shown}`);
    await press(h, "/");
    await press(h, "nowhere at all");
    let fr = await press(h, KEY.enter);
    assert.match(fr, /not found: nowhere at all/);
    // Each two-word phrase of the line, wherever the width cut it, is found.
    for (const phrase of phrases) {
      await press(h, "/");
      await press(h, phrase);
      fr = await press(h, KEY.enter);
      assert.doesNotMatch(fr, /not found/, `${phrase} found`);
      const top = h.ctrl.state.stack.at(-1)!;
      assert.ok(top.kind === "flowview" && top.highlight !== undefined, `${phrase} highlighted`);
    }
  } finally {
    h.unmount();
  }
});

test("a flow opened from the list opens on the tab the flow view was last on, as mitmproxy's flow view keeps it", async () => {
  const h = await renderConsole();
  try {
    h.engine.add([makeFlow({ seq: 1, path: "/one" }), makeFlow({ seq: 2, path: "/two" })]);
    await waitForText(h, "/2]");
    await press(h, KEY.enter);
    let f = await press(h, KEY.tab);
    assert.match(f, /\[Response\]/);
    await press(h, "q");
    await press(h, "j");
    f = await press(h, KEY.enter);
    assert.match(f, /\/two/);
    assert.match(f, /\[Response\]/, "still on the Response tab");
  } finally {
    h.unmount();
  }
});

test("space on the last flow (p on the first) says there are no more flows, as mitmproxy does", async () => {
  const h = await renderConsole();
  try {
    h.engine.add([makeFlow({ seq: 1, path: "/only" })]);
    await waitForText(h, "/1]");
    await press(h, KEY.enter);
    const f = await press(h, " ");
    assert.match(f, /No more flows/);
  } finally {
    h.unmount();
  }
});

test("the Detail tab lists the flow's metadata (an addon's notes, proxyauth's user), as mitmproxy's does; the engine gives it as text", async () => {
  const { flowDetail } = await import("../../src/engine/flow/detail.ts");
  const { HTTPFlow, Request } = await import("../../src/engine/flow/http.ts");
  const { Client, Server } = await import("../../src/engine/flow/connection.ts");
  const { summarize } = await import("../../src/engine/flow/summary.ts");
  const flow = new HTTPFlow(new Client(["127.0.0.1", 5000], ["127.0.0.1", 8080]), new Server(["api.test", 80]), Request.make("GET", "http://api.test/", "", {}));
  flow.metadata = { proxyauth: ["alice", "pw"], note: "seen twice" };
  const detail = flowDetail(flow, summarize(flow, 1, true), 1000, 0);
  assert.deepEqual(detail.metadata, [["proxyauth", '["alice","pw"]'], ["note", "seen twice"]]);

  const h = await renderConsole();
  try {
    const [f] = makeFlows(1, () => ({ seq: 1 }));
    h.engine.add([f!]);
    const orig = h.engine.request.bind(h.engine);
    h.engine.request = (async (req: Parameters<typeof orig>[0]) => {
      if (req.op !== "detail") return orig(req);
      h.engine.requests.push(req);
      return { ...makeDetail(f!), metadata: detail.metadata };
    }) as typeof h.engine.request;
    await waitForText(h, "/1]");
    await press(h, KEY.enter);
    await press(h, KEY.right);
    const d = await press(h, KEY.right);
    assert.match(d, /\[Detail\]/);
    assert.match(d, /Metadata:\n +proxyauth: \["alice","pw"\]\n +note: seen twice/);
  } finally {
    h.unmount();
  }
});

test("the flow's line keeps its size and duration when the URL has wide characters (CJK, emoji)", async () => {
  const h = await renderConsole({ width: 80 });
  try {
    h.engine.add([makeFlow({ seq: 1, host: "127.0.0.1", port: 18081, scheme: "http", path: "/日本/🎉?x=é", status: 400, reason: "Bad Request", respSize: 0, duration: 0.001 })]);
    await waitForText(h, "[1/1]");
    const f = await press(h, KEY.enter);
    const header = f.split("\n")[0]!;
    assert.match(header, /400 Bad Request {2}0b {2}1ms$/);
    assert.match(header, /^GET http:\/\/127\.0\.0\.1:18081\/日本\/🎉\?x=é +400/);
  } finally {
    h.unmount();
  }
});

for (const [how, send] of [
  ["r", (h: Awaited<ReturnType<typeof renderConsole>>) => press(h, "r")],
  [":replay.client @focus", (h: Awaited<ReturnType<typeof renderConsole>>) => runAtPrompt(h, "replay.client @focus")],
] as const) {
  test(`${how} in the flow view follows the replay the engine started, not another replay of the same request that comes first`, async () => {
    const h = await renderConsole();
    try {
      const a = makeFlow({ seq: 1, path: "/v1/items/1", status: 200, reason: "OK" });
      h.engine.add([a]);
      await waitForText(h, "/v1/items/1");
      h.engine.onCommand = (line) => {
        if (line !== `replay.client ${a.id}`) return undefined;
        // An earlier r's replay (or another client's fetch of the URL, or an addon's replay) comes first.
        const earlier = makeFlow({ seq: 2, path: a.path, status: 418, reason: "I'm a teapot", replay: "request" });
        const copy = makeFlow({ seq: 3, path: a.path, status: 503, reason: "Service Unavailable", replay: "request" });
        setTimeout(() => h.engine.add([earlier]), 5);
        setTimeout(() => h.engine.add([copy]), 40);
        return { said: "replaying 1 flow", ids: [copy.id] };
      };
      await press(h, KEY.enter);
      await waitForText(h, "GET https://api.example.com/v1/items/1 ");
      await send(h);
      await waitForText(h, "replaying 1 flow");
      const f = await waitForText(h, "503 Service Unavailable");
      assert.match(f.split("\n")[0]!, /^GET https:\/\/api\.example\.com\/v1\/items\/1 .*503 Service Unavailable/, "the view shows the replay asked for");
      assert.doesNotMatch(f, /418/);
      await press(h, "q");
      assert.match(h.lastFrame(), /\[3\/3\]/, "that replay has the focus");
    } finally {
      h.unmount();
    }
  });
}

test("a flow with no response and none coming says how to add one, as mitmproxy's flow view does", async () => {
  const h = await renderConsole();
  try {
    h.engine.add([makeFlow({ seq: 1, status: undefined, reason: undefined, live: false, duration: undefined })]);
    await waitForText(h, "[1/1]");
    await press(h, KEY.enter);
    const f = await press(h, KEY.tab);
    assert.match(f, /\[Response\]/);
    assert.match(f, /^No response\. Press e and edit any aspect to add one, or r to send the request\.$/m);
  } finally {
    h.unmount();
  }
});

test("r in the flow view shows the replay once it comes, as mitmproxy's replays in place; r in the list leaves the focus", async () => {
  const h = await renderConsole();
  try {
    const [a, b] = makeFlows(2, (i) => ({ seq: 1 + i, path: `/v1/items/${1 + i}`, status: 200, reason: "OK" }));
    h.engine.add([a!, b!]);
    await waitForText(h, "/v1/items/2");
    let seq = 10;
    h.engine.onCommand = (line) => {
      if (!line.startsWith("replay.client ")) return undefined;
      const of = line.endsWith(a!.id) ? a! : b!;
      // The engine answers at once; the copy comes when its turn in the replay queue does.
      // Another flow arriving first, with another URL, is not it.
      const other = makeFlow({ seq: ++seq, path: "/other", replay: "request" });
      const copy = makeFlow({ seq: ++seq, path: of.path, status: 503, reason: "Service Unavailable", replay: "request" });
      setTimeout(() => h.engine.add([other]), 5);
      setTimeout(() => h.engine.add([copy]), 20);
      return { said: "replaying 1 flow", ids: [copy.id] };
    };
    await press(h, KEY.enter);
    await waitForText(h, "GET https://api.example.com/v1/items/1 ");
    await press(h, "r");
    const f = await waitForText(h, "503 Service Unavailable");
    assert.match(f.split("\n")[0]!, /^GET https:\/\/api\.example\.com\/v1\/items\/1 .*503 Service Unavailable/, "the view shows the replayed copy");
    await press(h, "q");
    assert.match(h.lastFrame(), /\[4\/4\]/, "the copy has the focus, as D's copy does");
    // From the list the focus stays where it is.
    await press(h, "g");
    await press(h, "r");
    await until(() => h.engine.flows.size === 6);
    await waitForText(h, "/6]");
    assert.match(h.lastFrame(), /\[1\/6\]/);
  } finally {
    h.unmount();
  }
});
