import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
// Colour support is decided when chalk loads: forced before Ink is imported, so the frames carry the codes' colours.
process.env["FORCE_COLOR"] = "3";
process.env["COLORTERM"] = "truecolor";
const { KEY, press, renderConsole, runAtPrompt, waitForText } = await import("./helpers/tui.tsx");
const { UNICODE_GLYPHS } = await import("../../src/tui/format.ts");
const { paletteColors } = await import("../../src/tui/palettes.ts");
const { startProxy } = await import("../helpers/proxy.ts");
const { startHttpOrigin, viaProxy } = await import("../helpers/origin.ts");
const { deadPort } = await import("../helpers/wait.ts");

const colourTheme = { noColor: false, glyphs: UNICODE_GLYPHS, palette: paletteColors("dark") };
// eslint-disable-next-line no-control-regex
const plain = (frame: string): string => frame.replace(/\x1b\[[0-9;]*m/g, "");
const GREEN = "\x1b[32m";
const RED = "\x1b[31m";

/** The SGR sequences in force where `text` starts on the frame's line that holds `line`. */
function colourOf(frame: string, line: RegExp, text: string): string {
  const raw = frame.split("\n").find((l) => line.test(plain(l))) ?? "";
  const at = raw.indexOf(text);
  assert.ok(at >= 0, `${text} in ${JSON.stringify(raw)}`);
  // eslint-disable-next-line no-control-regex
  return [...raw.slice(0, at).matchAll(/\x1b\[[0-9;]*m/g)].map((m) => m[0]).join("");
}

/**
 * A real engine's flows for a server that sent a 200 head and then closed mid-body, and (second)
 * for one that never answered, fed to the console with their details.
 */
async function realFlows(t: TestContext) {
  const o = await startHttpOrigin((req, res) => {
    res.writeHead(200, { "Content-Length": "100", "Content-Type": "text/plain" }).write("only ten b");
    setTimeout(() => req.socket.destroy(), 50);
  });
  t.after(() => o.close());
  const proxy = await startProxy();
  t.after(() => proxy.stop());
  await viaProxy(proxy.port, `http://127.0.0.1:${o.port}/cut`).catch(() => undefined);
  await proxy.waitFinished(1);
  const dead = await deadPort();
  await viaProxy(proxy.port, `http://127.0.0.1:${dead}/gone`).catch(() => undefined);
  const flows = await proxy.waitFinished(2);
  const h = await renderConsole({ width: 80, height: 24, theme: colourTheme });
  t.after(() => h.unmount());
  for (const f of flows) {
    const detail = await proxy.engine.handle({ op: "detail", id: f.id, bodyLimit: 1 << 20 });
    assert.ok(detail);
    h.engine.details.set(f.id, detail);
  }
  h.engine.add(flows);
  await waitForText(h, "/gone");
  return { h, originPort: o.port, dead };
}

test("at 80 columns (the table layout, pryx's default) the row of a flow whose body the server cut short shows its 200, green, and the error marked after it, red", { timeout: 30_000 }, async (t) => {
  const { h } = await realFlows(t);
  const frame = h.lastFrame();
  const lines = plain(frame).split("\n");
  assert.match(lines.find((l) => l.includes("/cut"))!, /\/cut +200 err: serv… +$/);
  assert.ok(colourOf(frame, /\/cut/, "200").endsWith(GREEN), "the code in its 2xx colour");
  assert.ok(colourOf(frame, /\/cut/, "err:").endsWith(RED), "the error in red");
  // A server that never answered still has only its error.
  assert.match(lines.find((l) => l.includes("/gone"))!, /\/gone +err cannot co… +$/);
  assert.ok(lines.every((l) => l.length <= 80), lines.join("\n"));
});

test("in the list layout at 80 columns the answer line shows the 200, green, then the error, red", { timeout: 30_000 }, async (t) => {
  const { h, originPort, dead } = await realFlows(t);
  await runAtPrompt(h, "set console_flowlist_layout list");
  const frame = await waitForText(h, /⇐ \x1b\[32m200/);
  const lines = plain(frame).split("\n");
  const answer = lines[lines.findIndex((l) => l.includes("/cut")) + 1]!;
  assert.match(answer, new RegExp(`^ +⇐ 200 error: server 127\\.0\\.0\\.1:${originPort} closed the connection before the res.*…$`), answer);
  assert.ok(lines.every((l) => l.length <= 80), lines.join("\n"));
  assert.ok(colourOf(frame, /⇐ 200 error/, "200").endsWith(GREEN), "the code in its 2xx colour");
  assert.ok(colourOf(frame, /⇐ 200 error/, "error:").endsWith(RED), "the error in red");
  // A server that never answered still has only its error.
  const gone = lines[lines.findIndex((l) => l.includes("/gone")) + 1]!;
  assert.match(gone, new RegExp(`^ +⇐ cannot connect to 127\\.0\\.0\\.1:${dead}`), gone);
});

test("the flow view's line, Response and Detail tabs show the response that came and the error", { timeout: 30_000 }, async (t) => {
  const { h, originPort } = await realFlows(t);
  let frame = plain(await press(h, KEY.enter));
  const raw = h.lastFrame();
  assert.match(frame.split("\n")[0]!, /^GET http:\/\/127\.0\.0\.1:\d+\/cut +200 OK error: server 127\.0\.0\.1:\d+ c.*…$/);
  assert.ok(colourOf(raw, /^GET /, "200 OK").endsWith(GREEN), "the code in its 2xx colour");
  assert.ok(colourOf(raw, /^GET /, "error:").endsWith(RED), "the error in red");
  frame = plain(await press(h, KEY.tab));
  assert.match(frame, /\[Response\]/);
  assert.match(frame, new RegExp(`^Error: server 127\\.0\\.0\\.1:${originPort} closed the connection before the response was`, "m"));
  assert.match(frame, /^HTTP\/1\.1 200 OK$/m);
  assert.match(frame, /^Content-Length: 100$/m);
  assert.match(frame, /^\[content missing\]$/m);
  frame = plain(await press(h, KEY.tab));
  assert.match(frame, /\[Detail\]/);
  assert.match(frame, /^ {2}Response: 200 OK\n {2}Error: server 127\.0\.0\.1:\d+ closed the connection before the response was$/m);
});
