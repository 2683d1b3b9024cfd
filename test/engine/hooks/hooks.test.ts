import { test } from "node:test";
import assert from "node:assert/strict";
import { HOOK_CLASSES, HOOK_NAMES, hookNameOf, isHookName, type Addon } from "../../../src/engine/hooks/hooks.ts";

/** DESIGN.md's list, by group; mitmproxy's names, so addons port line by line. */
const DESIGN_HOOKS = {
  lifecycle: ["load", "configure", "running", "done", "update"],
  http: ["requestheaders", "request", "responseheaders", "response", "error"],
  connect: ["http_connect", "http_connect_upstream"],
  connections: ["client_connected", "client_disconnected", "server_connect", "server_connected", "server_disconnected", "server_connect_error"],
  websocket: ["websocket_start", "websocket_message", "websocket_end"],
  tcp: ["tcp_start", "tcp_message", "tcp_end", "tcp_error"],
  dns: ["dns_request", "dns_response", "dns_error"],
};

/** mitmproxy's hooks beyond DESIGN.md's list (REFERENCE 1.13 calls its list a subset), each with the same name. */
const MITMPROXY_HOOKS_BEYOND_DESIGN = {
  lifecycle: ["add_log"],
  connect: ["http_connected", "http_connect_error"],
  layers: ["next_layer"],
  tls: ["tls_clienthello", "tls_start_client", "tls_start_server", "tls_established_client", "tls_failed_client", "tls_established_server", "tls_failed_server"],
  udp: ["udp_start", "udp_message", "udp_end", "udp_error"],
  socks5: ["socks5_auth"],
};

test("every hook in DESIGN.md is defined, and no other but mitmproxy's own beyond it", () => {
  const expected = [...Object.values(DESIGN_HOOKS), ...Object.values(MITMPROXY_HOOKS_BEYOND_DESIGN)].flat().sort();
  assert.deepEqual([...HOOK_NAMES].sort(), expected);
  for (const n of expected) assert.ok(isHookName(n), n);
  assert.ok(!isHookName("requset"));
});

test("each hook's name derives from its class name by the seed's rule", () => {
  assert.equal(hookNameOf("ServerConnectErrorHook"), "server_connect_error");
  assert.equal(hookNameOf("HttpConnectUpstreamHook"), "http_connect_upstream");
  assert.equal(hookNameOf("RequestheadersHook"), "requestheaders");
  for (const [key, cls] of Object.entries(HOOK_CLASSES)) {
    // The class's own name, not only the table key, gives the hook name.
    assert.equal(cls.name, key);
    assert.ok(isHookName(hookNameOf(cls.name)), `${cls.name} → ${hookNameOf(cls.name)}`);
  }
});

test("hook classes carry their arguments", () => {
  const h = new HOOK_CLASSES.ConfigureHook(new Set(["a"]));
  assert.deepEqual([...h.args[0]], ["a"]);
});

test("the Addon type is derived from the hooks (checked by tsc)", () => {
  const ok = {
    configure(updated: Set<string>) {
      void updated;
    },
    async request() {},
  } satisfies Addon;
  // @ts-expect-error a misspelt hook name is not an Addon method
  const misspelt: Addon = { requset() {} };
  // @ts-expect-error a hook with the wrong argument type does not type-check
  const wrongArgs: Addon = { configure(updated: number) { void updated; } };
  assert.ok(ok && misspelt && wrongArgs);
});
