import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { commonPrefix, completePath, expandHome, lastPathPart } from "../../src/tui/path-complete.ts";
import { signatureParam } from "../../src/tui/command-line.ts";

function tree(t: { after(fn: () => void): void }): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "pryx-paths-")));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, "capture-1.pryx"), "");
  fs.writeFileSync(path.join(dir, "capture-2.pryx"), "");
  fs.mkdirSync(path.join(dir, "caps"));
  fs.writeFileSync(path.join(dir, "caps", "inner.har"), "");
  fs.writeFileSync(path.join(dir, ".secret"), "");
  fs.symlinkSync(path.join(dir, "caps"), path.join(dir, "link-to-caps"));
  return dir;
}

test("completePath lists the files and directories (with a trailing /) that start with the typed name", async (t) => {
  const dir = tree(t);
  assert.deepEqual(await completePath(`${dir}/ca`), [`${dir}/caps/`, `${dir}/capture-1.pryx`, `${dir}/capture-2.pryx`]);
  assert.deepEqual(await completePath(`${dir}/caps/`), [`${dir}/caps/inner.har`]);
  assert.deepEqual(await completePath(`${dir}/li`), [`${dir}/link-to-caps/`], "a link to a directory is a directory");
  // Dot files only when a dot is typed, as in a shell.
  assert.deepEqual(await completePath(`${dir}/`), [`${dir}/caps/`, `${dir}/capture-1.pryx`, `${dir}/capture-2.pryx`, `${dir}/link-to-caps/`]);
  assert.deepEqual(await completePath(`${dir}/.s`), [`${dir}/.secret`]);
  // Relative to the working directory, and nothing for a directory that is not there.
  assert.deepEqual(await completePath("caps/i", { cwd: dir }), ["caps/inner.har"]);
  assert.deepEqual(await completePath(`${dir}/nope/x`), []);
});

test("~ is the home directory", async (t) => {
  const dir = tree(t);
  assert.equal(expandHome("~", dir), `${dir}/`);
  assert.equal(expandHome("~/caps", `${dir}/`), `${dir}/caps`);
  assert.equal(expandHome("~other/x", dir), "~other/x");
  assert.deepEqual(await completePath("~/caps/", { home: dir }), [`${dir}/caps/inner.har`]);
  assert.deepEqual(await completePath("~", { home: dir }), [`${dir}/caps/`, `${dir}/capture-1.pryx`, `${dir}/capture-2.pryx`, `${dir}/link-to-caps/`]);
});

test("commonPrefix, lastPathPart and signatureParam", () => {
  assert.equal(commonPrefix(["/t/capture-1", "/t/capture-2", "/t/caps/"]), "/t/cap");
  assert.equal(commonPrefix([]), "");
  assert.equal(lastPathPart("/t/caps/"), "caps/");
  assert.equal(lastPathPart("/t/a.pryx"), "a.pryx");
  assert.equal(signatureParam("save.file flows path", 1), "path");
  assert.equal(signatureParam("set option [value]", 1), "value");
  assert.equal(signatureParam("set option [value]", 2), undefined);
  assert.equal(signatureParam("console.command *partial", 3), "partial");
});
