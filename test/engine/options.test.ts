import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Options, OptionError } from "../../src/engine/options.ts";
import { registerCoreOptions } from "../../src/engine/core-options.ts";
import { Engine } from "../../src/engine/engine.ts";
import { MODES, modePort, parseModeSpec, samePortClash } from "../../src/engine/modes.ts";

function coreOptions(): Options {
  const o = new Options();
  registerCoreOptions(o);
  return o;
}

/** assert.throws with an OptionError whose message matches every pattern. */
function throwsOption(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof OptionError, `expected an OptionError, got ${String(err)}`);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
}

test("an unknown option is an error naming it, with near names suggested", () => {
  const o = coreOptions();
  throwsOption(() => o.setText("listen_prot", "1"), /unknown option "listen_prot"/, /listen_port/);
  throwsOption(() => o.get("nosuch"), /unknown option "nosuch"/);
  throwsOption(() => o.setValues({ nosuch: 1 }), /nosuch/);
});

test("a repeated flag's values: each item whole for a list option, the last one for any other", () => {
  const o = coreOptions();
  o.update({ ignore_hosts: [String.raw`^10\.\d{1,3}\.`, " b "], listen_port: ["8081", "8082"] });
  assert.deepEqual(o.get("ignore_hosts"), [String.raw`^10\.\d{1,3}\.`, "b"]);
  assert.equal(o.get("listen_port"), 8082);
  // The console counts entries from `items`: the text joins them with commas, which a regex may hold too.
  assert.deepEqual(o.info("ignore_hosts").items, [String.raw`^10\.\d{1,3}\.`, "b"]);
  assert.equal(o.info("listen_port").items, undefined);
  // The same list typed as text (--set, :set, the options editor): the regex's own comma stays in it.
  o.setText("ignore_hosts", String.raw`^10\.\d{1,3}\.,b`);
  assert.deepEqual(o.get("ignore_hosts"), [String.raw`^10\.\d{1,3}\.`, "b"]);
  assert.equal(o.info("ignore_hosts").value, String.raw`^10\.\d{1,3}\.,b`);
  throwsOption(() => o.update({ ignore_hosts: ["ok", "(unclosed"] }), /option ignore_hosts/, /invalid regex/);
});

test("a value of the wrong type names the option, the expected type and the value", () => {
  const o = coreOptions();
  throwsOption(() => o.setText("listen_port", "eighty"), /option listen_port/, /an integer/, /"eighty"/);
  throwsOption(() => o.setText("ssl_insecure", "maybe"), /option ssl_insecure/, /true or false/);
  throwsOption(() => o.setText("intercept_on_exit", "explode"), /option intercept_on_exit/, /kill, resume/);
  throwsOption(() => o.setText("view_filter", "~q & ("), /option view_filter/, /filter expression/);
  throwsOption(() => o.setText("ignore_hosts", "ok,(unclosed"), /option ignore_hosts/, /invalid regex/);
  throwsOption(() => o.setText("mode", "bogus"), /^option mode: invalid mode "bogus": expected regular, transparent, upstream:URL, reverse:URL, socks5 or dns, each optionally @PORT or @HOST:PORT$/);
  throwsOption(() => o.setText("mode", "regular,wireguard"), /^option mode: mode "wireguard": pryx has no WireGuard server; .* -m transparent$/);
  throwsOption(() => o.setText("mode", "local:curl"), /^option mode: mode "local:curl": pryx has no per-process redirector/);
  // Taken as an http proxy before, silently; mitmproxy refuses it too.
  throwsOption(() => o.setText("mode", "upstream:ftp://127.0.0.1:2121"), /^option mode: mode "upstream:ftp:\/\/127\.0\.0\.1:2121": an upstream proxy is http:\/\/ or https:\/\/, not ftp:\/\/$/);
  throwsOption(() => o.setText("mode", "upstream:socks5://127.0.0.1:1080"), /not socks5:\/\/ \(pryx does not chain to SOCKS proxies\)/);
});

test("validation beyond the type names the option and why", () => {
  const o = coreOptions();
  throwsOption(() => o.setText("listen_port", "70000"), /option listen_port/, /0 to 65535/);
  assert.equal(o.get("listen_port"), 8080);
});

test("values are parsed to their types", () => {
  const o = coreOptions();
  o.update({ listen_port: " 9090 ", ssl_insecure: "yes", ignore_hosts: "a\\.test, b\\.test,", intercept: "~m POST", save_stream_file: "" });
  assert.equal(o.get("listen_port"), 9090);
  assert.equal(o.get("ssl_insecure"), true);
  assert.deepEqual(o.get("ignore_hosts"), ["a\\.test", "b\\.test"]);
  assert.equal(o.get("intercept"), "~m POST");
  assert.equal(o.get("save_stream_file"), undefined);
  o.setText("ssl_insecure", "toggle");
  assert.equal(o.get("ssl_insecure"), false);
  o.setText("intercept", "");
  assert.equal(o.get("intercept"), undefined);
});

test("update is all or nothing: one bad value leaves every option as it was", () => {
  const o = coreOptions();
  const seen: Set<string>[] = [];
  o.onChange((u) => seen.push(u));
  throwsOption(() => o.update({ listen_port: "1234", ssl_insecure: "perhaps" }), /ssl_insecure/);
  assert.equal(o.get("listen_port"), 8080);
  assert.equal(seen.length, 0);
});

test("listeners hear only the names whose values changed", () => {
  const o = coreOptions();
  const seen: string[][] = [];
  o.onChange((u) => seen.push([...u].sort()));
  o.update({ listen_port: "8080", listen_host: "0.0.0.0", ssl_insecure: "true" });
  o.setText("listen_host", "0.0.0.0");
  assert.deepEqual(seen, [["listen_host", "ssl_insecure"]]);
});

test("an addon's option is typed like a core one; re-adding it (a reload) keeps the user's value, and a value never set follows the new default and type", () => {
  const o = coreOptions();
  o.add({ name: "counter_log_every", type: "int", default: 0, help: "" });
  throwsOption(() => o.setText("counter_log_every", "often"), /option counter_log_every expects an integer/);
  o.setText("counter_log_every", "5");
  o.add({ name: "counter_log_every", type: "int", default: 1, help: "again" });
  assert.equal(o.get("counter_log_every"), 5);
  // The script edited: a new default for an option the user left alone is what the new code runs with (mitmproxy overrides it too).
  o.add({ name: "reload_tag", type: "str", default: "v1-default", help: "" });
  o.add({ name: "reload_tag", type: "str", default: "v9-default", help: "" });
  assert.equal(o.get("reload_tag"), "v9-default");
  // A new type: the user's 5 is no string, so the new default; a value the new type takes stays.
  o.add({ name: "counter_log_every", type: "str", default: "often", help: "" });
  assert.equal(o.get("counter_log_every"), "often");
  o.setText("counter_log_every", "daily");
  o.add({ name: "counter_log_every", type: "optional str", default: undefined, help: "" });
  assert.equal(o.get("counter_log_every"), "daily");
});

test("ctx.options from an addon: a value of the wrong type is refused with the option's expectation and changes nothing; update sets several at once, all or none", () => {
  const o = coreOptions();
  o.add({ name: "so_level", type: "int", default: 0, help: "" });
  // As the built-in addons add them.
  o.add({ name: "stream_large_bodies", type: "optional str", default: undefined, help: "" });
  o.add({ name: "anticache", type: "bool", default: false, help: "" });
  const view = o.view(true) as Record<string, unknown> & { update(values: Record<string, unknown>): Set<string> };
  const configured: string[][] = [];
  o.onChange((u) => configured.push([...u].sort()));
  throwsOption(() => (view.stream_large_bodies = 5), /^option stream_large_bodies expects a string \(empty for none\), got 5 \(number\)$/);
  throwsOption(() => (view.so_level = "notint"), /^option so_level expects an integer, got "notint" \(string\)$/);
  throwsOption(() => (view.anticache = "false"), /^option anticache expects true or false .*, got "false" \(string\)$/);
  throwsOption(() => (view.console_layout = "diagonal"), /^option console_layout expects one of the choices \(single, vertical, horizontal\), got "diagonal"/);
  throwsOption(() => (view.ignore_hosts = "a.test"), /^option ignore_hosts expects a comma-separated list .*, got "a.test" \(string\)$/);
  assert.equal(o.get("stream_large_bodies"), undefined);
  assert.equal(o.get("so_level"), 0);
  view.stream_large_bodies = "1m";
  view.so_level = 5;
  view.ignore_hosts = ["a\\.test"];
  assert.deepEqual([o.get("stream_large_bodies"), o.get("so_level"), o.get("ignore_hosts")], ["1m", 5, ["a\\.test"]]);
  throwsOption(() => view.update({ so_level: 7, anticache: "yes" }), /option anticache expects true or false/);
  assert.equal(o.get("so_level"), 5, "all or none");
  view.update({ so_level: 7, anticache: true });
  assert.deepEqual([o.get("so_level"), o.get("anticache")], [7, true]);
  assert.deepEqual(configured, [["stream_large_bodies"], ["so_level"], ["ignore_hosts"], ["anticache", "so_level"]]);
});

test("info renders value and default as editable text", () => {
  const o = coreOptions();
  o.setText("ignore_hosts", "a,b");
  const info = o.info("ignore_hosts");
  assert.equal(info.type, "str[]");
  assert.equal(info.value, "a,b");
  assert.equal(info.default, "");
  assert.deepEqual(o.info("intercept_on_exit").choices, ["kill", "resume"]);
});

test("the options the console gets say which hold paths (the built-in addons' too), and how certs' and save_stream_file's write theirs", { timeout: 10_000 }, async (t) => {
  const confdir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-opt-"));
  t.after(() => fs.rmSync(confdir, { recursive: true, force: true }));
  const engine = new Engine({ options: { confdir }, keepFlows: false, noServer: true }, () => undefined);
  t.after(() => engine.stop());
  const { options } = await engine.start();
  const pathsOf = (name: string) => options.find((o) => o.name === name)?.paths;
  for (const name of ["confdir", "scripts", "rfile", "client_replay", "server_replay"]) assert.equal(pathsOf(name), true, name);
  assert.equal(pathsOf("certs"), "after=");
  assert.equal(pathsOf("save_stream_file"), "after+");
  assert.equal(pathsOf("listen_host"), undefined);
  assert.equal(pathsOf("intercept"), undefined);
});

test("Engine init options: an unknown name or a bad value fails start, naming the option", { timeout: 10_000 }, async (t) => {
  const confdir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-opt-"));
  t.after(() => fs.rmSync(confdir, { recursive: true, force: true }));
  const start = (options: Record<string, string>): Promise<unknown> => new Engine({ options: { confdir, ...options }, keepFlows: false, noServer: true }, () => undefined).start();
  await assert.rejects(start({ nosuch: "1" }), /unknown option "nosuch"/);
  await assert.rejects(start({ listen_port: "x" }), /option listen_port expects an integer, got "x"/);
  await assert.rejects(start({ flow_detail: "lots" }), /option flow_detail expects an integer/);
});

test("a value for an option not registered yet waits for it: the addon's first configure already has it", () => {
  const o = coreOptions();
  const changes: string[][] = [];
  o.onChange((u) => changes.push([...u]));
  o.updateDeferring({ my_tag: "x", listen_port: "9000", my_count: "many" });
  assert.equal(o.get("listen_port"), 9000);
  o.add({ name: "my_tag", type: "str", default: "default-tag", help: "" });
  assert.equal(o.get("my_tag"), "x");
  o.add({ name: "my_count", type: "int", default: 0, help: "" });
  assert.equal(o.get("my_count"), 0);
  // Only listen_port changed an option that existed: a deferred value is not a change event.
  assert.deepEqual(changes, [["listen_port"]]);
  throwsOption(() => o.rejectDeferred(), /option my_count expects an integer, got "many"/);
  o.updateDeferring({ never_added: "1" });
  throwsOption(() => o.rejectDeferred(), /unknown option "never_added"/);
});

test("Engine: -s script + --set of its option: one configure, and running, see the --set value", { timeout: 10_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-opt-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const script = path.join(dir, "my.ts");
  // The script runs in this process: it reports what it saw through a global.
  fs.writeFileSync(
    script,
    `const seen = ((globalThis as Record<string, unknown>).__pryxSeen ??= []) as string[];
let loader: { options: Record<string, unknown> };
export default {
  load(l: typeof loader & { add_option(...a: unknown[]): void }) { loader = l; l.add_option("my_tag", "str", "default-tag", "a tag"); },
  configure(updated: Set<string>) { if (updated.has("my_tag")) seen.push("configure " + String(loader.options.my_tag)); },
  running() { seen.push("running " + String(loader.options.my_tag)); },
};
`,
  );
  const seen: string[] = [];
  (globalThis as Record<string, unknown>)["__pryxSeen"] = seen;
  const engine = new Engine({ options: { confdir: dir, scripts: [script], my_tag: "x" }, keepFlows: false, noServer: true }, () => undefined);
  await engine.start();
  await engine.stop();
  assert.deepEqual(seen, ["configure x", "running x"]);
  const bad = new Engine({ options: { confdir: dir, scripts: [script], my_tag: "x", my_tga: "y" }, keepFlows: false, noServer: true }, () => undefined);
  await assert.rejects(bad.start(), /unknown option "my_tga" \(did you mean my_tag\?\)/);
  await bad.stop();
});

test("every supported mode is named by the mode option's help and error", () => {
  const o = coreOptions();
  const listed = (text: string): void => {
    for (const m of MODES) assert.ok(text.includes(m), `${m} missing from: ${text}`);
  };
  listed(o.info("mode").help);
  assert.throws(() => o.setText("mode", "quic"), (err: Error) => (listed(err.message), true));
  for (const m of ["regular", "socks5@1080", "dns@5353", "upstream:http://up:3128", "reverse:https://example.com@8443"]) o.setText("mode", m);
});

test("two TCP modes on one port are a clear error before listening; dns (UDP), @PORT and port 0 are not", () => {
  assert.match(samePortClash(["regular", "regular"], 8080) ?? "", /modes regular and regular both listen on port 8080: .* -m regular@8081/);
  assert.match(samePortClash(["regular", "socks5@8080"], 8080) ?? "", /regular and socks5@8080/);
  // The port suggested is free: not the one -p gives another mode.
  assert.match(samePortClash(["regular@9000", "reverse:http://o.test", "reverse:http://o.test@9000"], 9001) ?? "", /both listen on port 9000: .* -m reverse:http:\/\/o\.test@9002$/);
  assert.equal(samePortClash(["regular", "dns"], 8080), undefined);
  assert.equal(samePortClash(["regular", "socks5@1080"], 8080), undefined);
  assert.equal(samePortClash(["regular", "socks5"], 0), undefined);
  // As in mitmproxy: with listen_port at its default, socks5 and dns take their own (1080, 53); a -p given is every mode's.
  assert.equal(samePortClash(["regular", "socks5"], 8080), undefined);
  assert.deepEqual(["regular", "socks5", "dns", "reverse:dns://1.1.1.1", "socks5@9999"].map((m) => modePort(m, 8080)), [8080, 1080, 53, 53, 9999]);
  assert.deepEqual(["regular", "socks5", "dns"].map((m) => modePort(m, 9000)), [9000, 9000, 9000]);
  assert.match(samePortClash(["regular", "socks5"], 9000) ?? "", /both listen on port 9000/);
  // mitmproxy's @HOST:PORT: a listener on its own address.
  assert.deepEqual(parseModeSpec("socks5@127.0.0.1:1080"), { mode: "socks5", port: 1080, host: "127.0.0.1" });
  assert.deepEqual(parseModeSpec("regular@[::1]:8080"), { mode: "regular", port: 8080, host: "::1" });
  // Without brackets too, as mitmproxy splits it at the last colon.
  assert.deepEqual(parseModeSpec("regular@::1:8080"), { mode: "regular", port: 8080, host: "::1" });
  assert.deepEqual(parseModeSpec("socks5@fe80::1:1080"), { mode: "socks5", port: 1080, host: "fe80::1" });
  assert.deepEqual(parseModeSpec("upstream:127.0.0.1:3128@8081"), { mode: "upstream:127.0.0.1:3128", port: 8081, host: undefined });
  assert.deepEqual(parseModeSpec("regular@*:8080"), { mode: "regular", port: 8080, host: "0.0.0.0" });
  const o = coreOptions();
  o.setText("mode", "regular@0.0.0.0:8080,socks5@127.0.0.1:1080");
  assert.deepEqual(o.get("mode"), ["regular@0.0.0.0:8080", "socks5@127.0.0.1:1080"]);
});

test("a script path that does not exist is refused up front, naming it", () => {
  const o = coreOptions();
  throwsOption(() => o.setText("scripts", "/nonexistent/typo.ts"), /option scripts/, /no such script: \/nonexistent\/typo\.ts/);
  assert.deepEqual(o.get("scripts"), []);
  o.setText("scripts", new URL(import.meta.url).pathname);
  assert.deepEqual(o.get("scripts"), [new URL(import.meta.url).pathname]);
});

test("the console's own options are the engine's too, so --set console_layout=… is accepted at start (mitmproxy's names and choices)", () => {
  const o = coreOptions();
  o.setText("console_layout", "vertical");
  o.setText("console_default_contentview", "hex");
  assert.equal(o.get("console_layout"), "vertical");
  assert.equal(o.get("console_default_contentview"), "hex");
  throwsOption(() => o.setText("console_layout", "diagonal"), /option console_layout expects one of the choices \(single, vertical, horizontal\)/);
  throwsOption(() => o.setText("console_default_contentview", "yaml"), /console_default_contentview/, /auto, raw, hex, graphql, json/);
});

test("allow_hosts and ignore_hosts exclude each other, as in mitmproxy: set together, or one while the other is set, is an error and nothing changes", () => {
  const o = new Options();
  registerCoreOptions(o);
  assert.throws(() => o.update({ ignore_hosts: "a", allow_hosts: "b" }), /the allow_hosts and ignore_hosts options are mutually exclusive/);
  o.update({ ignore_hosts: "a" });
  assert.throws(() => o.setValues({ allow_hosts: ["b"] }), /mutually exclusive/);
  assert.deepEqual(o.get("allow_hosts"), []);
  // Emptying one and setting the other at once is a switch, not a conflict.
  o.update({ ignore_hosts: "", allow_hosts: "b" });
  assert.deepEqual([o.get("ignore_hosts"), o.get("allow_hosts")], [[], ["b"]]);
});

test("a TLS version minimum newer than the maximum is refused when set, naming both (every handshake would fail); set together in order, they are taken", () => {
  const o = new Options();
  registerCoreOptions(o);
  o.setText("tls_version_server_max", "TLS1_2");
  assert.throws(() => o.setText("tls_version_server_min", "TLS1_3"), /tls_version_server_min TLS1_3 is newer than tls_version_server_max TLS1_2: no TLS version would be left for pryx's connections to servers/);
  assert.equal(o.get("tls_version_server_min"), "TLS1_2");
  o.update({ tls_version_server_min: "TLS1_3", tls_version_server_max: "TLS1_3" });
  assert.deepEqual([o.get("tls_version_server_min"), o.get("tls_version_server_max")], ["TLS1_3", "TLS1_3"]);
  // The client side is its own pair.
  o.setText("tls_version_client_min", "TLS1_3");
});

test("a string option refused for what it says names the option and the reason, not a type it has (any text is a string)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-str-refusal-"));
  const file = path.join(dir, "notes.mitm");
  fs.writeFileSync(file, "just some notes\n");
  const o = new Options();
  registerCoreOptions(o);
  assert.throws(() => o.update({ save_stream_file: `+${file}` }), /option save_stream_file: cannot append to .*notes\.mitm: it is not a flow file/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("values that could only fail later are refused when set: flow_detail outside 0..4, a name server that is no IP[:PORT], an empty onboarding_host; a number out of range says its range, not that it expects an integer", () => {
  const o = new Options();
  registerCoreOptions(o);
  throwsOption(() => o.setText("flow_detail", "9"), /^option flow_detail: must be from 0 \(quiet\) to 4 \(full bodies\) \(given "9"\)$/);
  throwsOption(() => o.setText("dns_name_servers", "1.1.1.1,x"), /option dns_name_servers: invalid name server "x": expected IP or IP:PORT/);
  throwsOption(() => o.setText("onboarding_host", " "), /option onboarding_host: must name a host/);
  o.setText("dns_name_servers", "1.1.1.1,[::1]:5353");
  assert.deepEqual(o.get("dns_name_servers"), ["1.1.1.1", "[::1]:5353"]);
  o.setText("flow_detail", "4");
});

test("reset() goes back to the start-up values markStarted took; one named resets to its default; a start value of another type than a reloaded script's option gives way to the default", () => {
  const o = new Options();
  o.add({ name: "tag", type: "str", default: "none", help: "" });
  o.add({ name: "port", type: "int", default: 8080, help: "" });
  o.setValues({ tag: "from-cli", port: 9000 });
  o.markStarted(o.names());
  o.setValues({ tag: "later", port: 9100 });
  o.reset();
  assert.equal(o.get("tag"), "from-cli");
  assert.equal(o.get("port"), 9000);
  assert.deepEqual(o.startedNames(), ["port", "tag"]);
  o.reset(["port"]);
  assert.equal(o.get("port"), 8080);
  // The script that added `tag` was edited: now an int.
  o.add({ name: "tag", type: "int", default: 3, help: "" });
  o.reset();
  assert.equal(o.get("tag"), 3);
});

test("an optional int (mitmproxy's Optional[int]) is a number or none: empty text is none, other text is refused, from code undefined or an integer", () => {
  const o = new Options();
  o.add({ name: "addheader", type: "optional int", default: undefined, help: "" });
  assert.equal(o.get("addheader"), undefined);
  o.setText("addheader", "42");
  assert.equal(o.get("addheader"), 42);
  throwsOption(() => o.setText("addheader", "4x"), /^option addheader expects an integer \(empty for none\), got "4x"$/);
  o.setText("addheader", "");
  assert.equal(o.get("addheader"), undefined);
  const view = o.view(true);
  view["addheader"] = 7;
  assert.equal(o.get("addheader"), 7);
  throwsOption(() => (view["addheader"] = "7"), /^option addheader expects an integer \(empty for none\), got "7" \(string\)$/);
  view["addheader"] = undefined;
  assert.equal(o.get("addheader"), undefined);
});
