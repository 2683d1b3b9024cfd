import { test } from "node:test";
import assert from "node:assert/strict";
import { lineArray, lineTextAt, renderContent, type ViewResult } from "../../../src/tui/contentviews/index.ts";
import { BodyRenderer, type BodyRendering } from "../../../src/tui/render/body-renderer.ts";
import { OFF_THREAD_BYTES, WholeBodies } from "../../../src/tui/render/whole-bodies.ts";
import type { MessageDetail } from "../../../src/protocol.ts";

const WHOLE = Number.MAX_SAFE_INTEGER;

function jsonBody(items: number): Uint8Array {
  return Buffer.from(JSON.stringify(Array.from({ length: items }, (_, i) => ({ id: i, name: `item ${i}`, tags: ["a", "b"] }))));
}

function message(body: Uint8Array, bodySize = body.length): MessageDetail {
  return { headers: [], body, bodySize, bodyOffset: 0, contentType: "application/json", encoding: undefined };
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}

test("the body renderer's thread gives the lines the content view gives here", { timeout: 30_000 }, async () => {
  const body = jsonBody(40_000);
  const renderer = new BodyRenderer();
  try {
    const there = await renderer.render({ body, contentType: "application/json", mode: "auto", maxLines: WHOLE, query: [] });
    const here = renderContent(body, "application/json", "auto", { maxLines: WHOLE });
    assert.equal(there.name, "JSON");
    assert.equal(there.lines.length, here.lines.length);
    assert.deepEqual(lineArray(there.lines), lineArray(here.lines));
    // A second body on the same thread, in another view.
    const hex = await renderer.render({ body: body.subarray(0, 64), contentType: undefined, mode: "hex", maxLines: WHOLE, query: [] });
    assert.match(lineTextAt(hex.lines, 0), /^00000000  5b 7b 22 69 64 22/);
  } finally {
    await renderer.close();
  }
});

test("a large body shown whole: its first lines at once, all of them once rendered, kept for the next time", async () => {
  const body = jsonBody(60_000);
  assert.ok(body.length > OFF_THREAD_BYTES);
  const jobs: ((r: ViewResult) => void)[] = [];
  const held: BodyRendering = { render: () => new Promise((done) => jobs.push(done)), close: () => Promise.resolve() };
  let done = 0;
  const whole = new WholeBodies(() => 100, 64 << 20, () => done++, () => assert.fail("no error"), held);
  const m = message(body);
  const first = whole.render(m, "auto", { maxLines: WHOLE });
  assert.equal(first.pending, true);
  assert.equal(first.lines.length, 101);
  assert.match(lineTextAt(first.lines, 100), /^Rendering all 2\.\dm of it…$/);
  // Asked again while it renders (a redraw, another tab): no second job.
  whole.render(m, "auto", { maxLines: WHOLE });
  assert.equal(jobs.length, 1);
  jobs[0]!(renderContent(body, m.contentType, "auto", { maxLines: WHOLE }));
  await until(() => done === 1);
  const all = whole.render(m, "auto", { maxLines: WHOLE });
  assert.equal(all.pending, undefined);
  assert.equal(all.lines.length, 60_000 * 8 + 2);
  // Cut by lines again (f), the body renders here as before; whole again, the lines kept are used.
  assert.equal(whole.render(m, "auto", { maxLines: 100 }).lines.length, 101);
  assert.equal(whole.render(m, "auto", { maxLines: WHOLE }), all);
  assert.equal(jobs.length, 1);
});

test("a body the engine cut waits for the whole of it; a small one renders here; a failed render falls back to here", async () => {
  const body = jsonBody(60_000);
  const errors: string[] = [];
  let done = 0;
  const failing: BodyRendering = { render: () => Promise.reject(new Error("the body renderer stopped (exit code 1)")), close: () => Promise.resolve() };
  const whole = new WholeBodies(() => 100, 64 << 20, () => done++, (e) => errors.push(e), failing);
  const cut = whole.render(message(body.subarray(0, 1024 * 1024), body.length), "auto", { maxLines: WHOLE });
  assert.equal(cut.pending, true);
  assert.match(lineTextAt(cut.lines, cut.lines.length - 1), /^Loading all 2\.\dm of it…$/);
  assert.equal(done, 0, "nothing was rendered for a cut body");
  const small = jsonBody(10);
  assert.equal(whole.render(message(small), "auto", { maxLines: WHOLE }).pending, undefined);
  const m = message(body);
  assert.equal(whole.render(m, "auto", { maxLines: WHOLE }).pending, true);
  await until(() => done === 1);
  assert.deepEqual(errors, ["the body renderer stopped (exit code 1); rendering here instead"]);
  assert.equal(whole.render(m, "auto", { maxLines: WHOLE }).lines.length, 60_000 * 8 + 2);
});

test("a large binary body shown whole in hex is not sent to the worker: its rows are made as they are read", () => {
  let jobs = 0;
  const counting: BodyRendering = { render: () => (jobs++, new Promise(() => undefined)), close: () => Promise.resolve() };
  const whole = new WholeBodies(() => 100, 64 << 20, () => undefined, () => assert.fail("no error"), counting);
  const body = Buffer.alloc(4 * 1024 * 1024, 0x90);
  const m = { ...message(body), contentType: "application/octet-stream" };
  const r = whole.render(m, "auto", { maxLines: WHOLE });
  assert.equal(r.name, "Hex");
  assert.equal(r.pending, undefined);
  assert.equal(r.lines.length, 4 * 1024 * 1024 / 16);
  assert.equal(jobs, 0);
});

test("the body renderer's worker stops once idle and starts again for the next body", { timeout: 30_000 }, async () => {
  const renderer = new BodyRenderer(100);
  try {
    const job = { body: jsonBody(100), contentType: "application/json", mode: "auto" as const, maxLines: WHOLE, query: [] };
    assert.equal(renderer.running, false);
    assert.equal((await renderer.render(job)).lines.length, 100 * 8 + 2);
    assert.equal(renderer.running, true);
    await until(() => !renderer.running, 5000);
    assert.equal((await renderer.render(job)).lines.length, 100 * 8 + 2);
  } finally {
    await renderer.close();
  }
});
