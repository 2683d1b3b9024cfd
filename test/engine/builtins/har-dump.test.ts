import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startProxy } from "../../helpers/proxy.ts";

test("hardump is checked when set, as save_stream_file is: a path nothing can write to is refused then, not lost at exit; a missing directory is made", { timeout: 10_000 }, async (t) => {
  const proxy = await startProxy();
  t.after(() => proxy.stop());
  // A file where a directory would have to be: no HAR can go under it.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-hardump-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const blocker = path.join(dir, "a-file");
  fs.writeFileSync(blocker, "x");
  assert.throws(() => proxy.engine.options.setText("hardump", path.join(blocker, "run.har")), /hardump.*cannot write the HAR file .*a-file\/run\.har there/);
  assert.equal(proxy.engine.options.get("hardump"), "");
  const nested = path.join(dir, "new", "run.har");
  proxy.engine.options.setText("hardump", nested);
  assert.ok(fs.existsSync(path.dirname(nested)), "its directory made");
  proxy.engine.options.setText("hardump", "-");
});
