import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Engine } from "../../src/engine/engine.ts";
import { MITMPROXY_ONLY, parseOptions, saveOptionsFile } from "../../src/engine/options-file.ts";
import { registerCoreOptions } from "../../src/engine/core-options.ts";
import { OptionError, Options } from "../../src/engine/options.ts";
import { waitUntil } from "../helpers/wait.ts";

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-config-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const run = (e: Engine, line: string) => e.handle({ op: "command", line });

/** A mitmproxy config.yaml as its users write them. */
const MITMPROXY_CONFIG = `# written for mitmproxy
proxy_debug: true
ssl_insecure: true
listen_port: 8081
ignore_hosts:
  - '^(.+\\.)?apple\\.com:443$'
  - 'pinned\\.example:443'
view_order: size
intercept: null
upstream_cert: false
web_port: 8082
`;

test("a mitmproxy config.yaml parses to option texts: lists item by item, booleans and numbers as text, null as none; mitmproxy-only names are set aside", () => {
  const { values, skipped } = parseOptions(MITMPROXY_CONFIG, "config.yaml");
  assert.deepEqual(values, {
    proxy_debug: "true",
    ssl_insecure: "true",
    listen_port: "8081",
    ignore_hosts: ["^(.+\\.)?apple\\.com:443$", "pinned\\.example:443"],
    view_order: "size",
    intercept: "",
  });
  assert.deepEqual(skipped, ["upstream_cert", "web_port"]);
  assert.deepEqual(parseOptions("", "empty.yaml"), { values: {}, skipped: [] });
  assert.deepEqual(parseOptions("# only a comment\n", "c.yaml").values, {});
});

test("a file that is not options is an error naming the file, and the line for bad YAML", () => {
  const fails = (text: string, re: RegExp): void => assert.throws(() => parseOptions(text, "/c/config.yaml"), (err: Error) => err instanceof OptionError && re.test(err.message));
  fails("listen_port: 8081\nignore_hosts: [a\n  b: c\n", /^\/c\/config\.yaml:2:\d+: not valid YAML: /);
  fails("- a\n- b\n", /^\/c\/config\.yaml: expected option: value lines, found a list/);
  fails("just words\n", /found a single value/);
  fails("modify_headers:\n  name: x\n", /option modify_headers holds a mapping/);
});

test("<confdir>/config.yaml sets options at start-up, under the command line; a relative path is taken from the file's directory", { timeout: 10_000 }, async (t) => {
  const confdir = tempDir(t);
  fs.writeFileSync(path.join(confdir, "flows.txt"), "");
  fs.writeFileSync(path.join(confdir, "config.yaml"), `${MITMPROXY_CONFIG}save_stream_file: flows.out\nhardump: run.har\n`);
  // config.yml is read after config.yaml: what it sets wins.
  fs.writeFileSync(path.join(confdir, "config.yml"), "view_order: url\n");
  const logs: string[] = [];
  const e = new Engine({ options: { confdir, ssl_insecure: "false" }, keepFlows: true, noServer: true }, (ev) => {
    if (ev.t === "batch") logs.push(...ev.logs.map((l) => l.msg));
  });
  t.after(() => e.stop());
  await e.start();
  assert.equal(e.options.get("listen_port"), 8081);
  assert.deepEqual(e.options.get("ignore_hosts"), ["^(.+\\.)?apple\\.com:443$", "pinned\\.example:443"]);
  assert.equal(e.options.get("ssl_insecure"), false, "the command line wins over the file");
  assert.equal(e.options.get("view_order"), "url", "config.yml is read after config.yaml");
  assert.equal(e.options.get("save_stream_file"), path.join(confdir, "flows.out"));
  // hardump is a built-in addon's option, added after the file is read: its path is the file's too.
  assert.equal(e.options.get("hardump"), path.join(confdir, "run.har"));
  const skipped = `${path.join(confdir, "config.yaml")}: upstream_cert is a mitmproxy option pryx does not have: skipped`;
  await waitUntil(() => logs.includes(skipped) || undefined, `the warning in the event log: ${logs.join("\n")}`, 3000);
  // Only options pryx has not are skipped: one it has since gained (proxy_debug was listed) is set.
  assert.deepEqual([...MITMPROXY_ONLY].filter((name) => e.options.has(name)), []);
  assert.equal(e.options.get("proxy_debug"), true);
});

test("--set of a mitmproxy option pryx has not (a mitmdump command copied into CI) is skipped with a warning, as config.yaml's is; a typo still stops the start", { timeout: 10_000 }, async (t) => {
  const confdir = tempDir(t);
  const logs: string[] = [];
  const e = new Engine({ options: { confdir, upstream_cert: "false", web_port: "8081", anticache: "true" }, keepFlows: false, noServer: true }, (ev) => {
    if (ev.t === "batch") logs.push(...ev.logs.filter((l) => l.level === "warn").map((l) => l.msg));
  });
  t.after(() => e.stop());
  await e.start();
  e.flush();
  assert.equal(e.options.get("anticache"), true);
  assert.deepEqual(logs.filter((l) => l.startsWith("--set")), ["--set upstream_cert: a mitmproxy option pryx does not have: skipped", "--set web_port: a mitmproxy option pryx does not have: skipped"]);
  const typo = new Engine({ options: { confdir, upstream_certs: "false" }, keepFlows: false, noServer: true }, () => undefined);
  await assert.rejects(typo.start(), /unknown option "upstream_certs"/);
});

test("pathsRelativeTo: relative paths from the file's directory; ~ and absolute ones as they are; certs' [domain=]path entries and save_stream_file's [+]path by their path", async () => {
  const { pathsRelativeTo } = await import("../../src/engine/options.ts");
  assert.equal(pathsRelativeTo("/conf", "a.har"), "/conf/a.har");
  assert.deepEqual(pathsRelativeTo("/conf", ["x.ts", "/abs/y.ts", "~/z.ts", ""]), ["/conf/x.ts", "/abs/y.ts", "~/z.ts", ""]);
  assert.deepEqual(pathsRelativeTo("/conf", ["localhost=own.pem", "*.test=/abs/o.pem", "all.pem"], "after="), ["localhost=/conf/own.pem", "*.test=/abs/o.pem", "/conf/all.pem"]);
  assert.equal(pathsRelativeTo("/conf", "+flows.pryx", "after+"), "+/conf/flows.pryx");
  assert.equal(pathsRelativeTo("/conf", "+/abs/flows.pryx", "after+"), "+/abs/flows.pryx");
  assert.equal(pathsRelativeTo("/conf", "flows.pryx", "after+"), "/conf/flows.pryx");
});

test("an unknown option or a bad value in config.yaml stops the start with an error naming the file", { timeout: 10_000 }, async (t) => {
  const confdir = tempDir(t);
  const file = path.join(confdir, "config.yaml");
  fs.writeFileSync(file, "listen_prot: 8081\n");
  const typo = new Engine({ options: { confdir }, keepFlows: false, noServer: true }, () => undefined);
  await assert.rejects(typo.start(), (err: Error) => err.message === `${file}: unknown option "listen_prot" (did you mean listen_port?)`);
  await typo.stop();
  fs.writeFileSync(file, "listen_port: many\n");
  const bad = new Engine({ options: { confdir }, keepFlows: false, noServer: true }, () => undefined);
  await assert.rejects(bad.start(), (err: Error) => err.message.startsWith(`${file}: option listen_port expects an integer`));
  await bad.stop();
});

test("a script's own option in config.yaml waits for the script to add it", { timeout: 10_000 }, async (t) => {
  const confdir = tempDir(t);
  const script = path.join(confdir, "tagger.ts");
  fs.writeFileSync(script, `export default { load(l: { add_option(...a: unknown[]): void }) { l.add_option("my_tag", "str", "none", "a tag"); } };\n`);
  fs.writeFileSync(path.join(confdir, "config.yaml"), `scripts: [tagger.ts]\nmy_tag: from-the-file\n`);
  const e = new Engine({ options: { confdir }, keepFlows: false, noServer: true }, () => undefined);
  t.after(() => e.stop());
  await e.start();
  assert.deepEqual(e.options.get("scripts"), [script], "the script's path is taken from the file's directory");
  assert.equal(e.options.get("my_tag"), "from-the-file");
});

test("options.save writes YAML that options.load and mitmproxy read; saving again keeps the file's comments and names no option has", async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, "opts.yaml");
  const e = new Engine({ options: {}, keepFlows: true, noServer: true }, () => undefined);
  await run(e, "set ssl_insecure true");
  await run(e, "set view_order size");
  await run(e, "set ignore_hosts ^a\\.test:443$,^b\\.test:443$");
  assert.equal(await run(e, `options.save ${file}`), `saved 3 option(s) to ${file}`);
  assert.equal(fs.readFileSync(file, "utf8"), "ignore_hosts:\n  - ^a\\.test:443$\n  - ^b\\.test:443$\nssl_insecure: true\nview_order: size\n");
  await run(e, "options.reset");
  assert.equal(e.options.get("ssl_insecure"), false);
  assert.equal(await run(e, `options.load ${file}`), `loaded 3 option(s) from ${file}`);
  assert.equal(e.options.get("view_order"), "size");
  assert.deepEqual(e.options.get("ignore_hosts"), ["^a\\.test:443$", "^b\\.test:443$"]);

  fs.writeFileSync(file, "# my proxy settings\nssl_insecure: true # for the lab\nmy_addon_flag: yes\nview_order: size\n");
  await run(e, "options.reset.one view_order");
  await run(e, `options.save ${file}`);
  const saved = fs.readFileSync(file, "utf8");
  assert.match(saved, /^# my proxy settings\n/);
  assert.match(saved, /ssl_insecure: true # for the lab\n/);
  assert.match(saved, /my_addon_flag: yes\n/, "an option no addon has now is kept");
  assert.doesNotMatch(saved, /view_order/, "an option back at its default is taken out");

  assert.equal(await run(e, `options.load ${file}`), `loaded 2 option(s) from ${file}; not known yet, kept for an addon: my_addon_flag`);
  fs.writeFileSync(file, "view_ordr: size\nssl_insecure: true\n");
  assert.equal(await run(e, `options.load ${file}`), `loaded 1 option(s) from ${file}; not known yet, kept for an addon: view_ordr (did you mean view_order?)`);
  fs.writeFileSync(file, "view_order: sideways\n");
  await assert.rejects(run(e, `options.load ${file}`), new RegExp(`^Error: ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: option view_order expects one of the choices`));
  await assert.rejects(run(e, `options.load ${path.join(dir, "missing.yaml")}`), /cannot read .*missing\.yaml/);
  // A file that is not option lines is the user's: never replaced. An empty one is filled.
  fs.writeFileSync(file, "- a\n- b\n");
  await assert.rejects(run(e, `options.save ${file}`), /holds no option: value lines; not overwritten/);
  assert.equal(fs.readFileSync(file, "utf8"), "- a\n- b\n");
  fs.writeFileSync(file, "ignore_hosts: [a\n");
  await assert.rejects(run(e, `options.save ${file}`), /:\d+:\d+: not valid YAML: .*; not overwritten/);
  fs.writeFileSync(file, "");
  assert.match(await run(e, `options.save ${file}`) as string, /^saved \d+ option\(s\)/);
  assert.match(fs.readFileSync(file, "utf8"), /^ignore_hosts:/m);
});

test("options.save into a file keeps its opening comment when its first option is back at its default (the comment went with that option)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-options-save-"));
  try {
    const file = path.join(dir, "c.yaml");
    fs.writeFileSync(file, "# Team proxy settings - do not remove\n# owner: alice\nssl_insecure: true\nlisten_port: 9000\n");
    const options = new Options();
    registerCoreOptions(options);
    options.setText("listen_port", "9000");
    saveOptionsFile(file, options);
    assert.equal(fs.readFileSync(file, "utf8"), "# Team proxy settings - do not remove\n# owner: alice\n\nlisten_port: 9000\n");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
