import { test } from "node:test";
import assert from "node:assert/strict";
import { Options } from "../../../src/engine/options.ts";
import { registerCoreOptions } from "../../../src/engine/core-options.ts";
import { upstreamTls } from "../../../src/engine/proxy/tls-settings.ts";

test("the upstream pool key and TLS context follow every TLS option change, and stay the same without one", () => {
  const options = new Options();
  registerCoreOptions(options);
  const first = upstreamTls(options, "a.test");
  assert.equal(upstreamTls(options, "a.test").key, first.key);
  assert.equal(first.connection().options.rejectUnauthorized, true);
  assert.equal(upstreamTls(options, "a.test").connection().options.secureContext, first.connection().options.secureContext, "one context for every connection with these settings");

  // An unrelated option leaves the key as it was.
  options.setText("view_filter", "~u /x");
  assert.equal(upstreamTls(options, "a.test").key, first.key);

  options.setText("ssl_insecure", "true");
  const insecure = upstreamTls(options, "a.test");
  assert.notEqual(insecure.key, first.key, "a connection made with verification is not reused under -k");
  assert.equal(insecure.connection().options.rejectUnauthorized, false);

  options.setText("ciphers_server", "ECDHE-RSA-AES128-GCM-SHA256");
  const ciphers = upstreamTls(options, "a.test");
  assert.notEqual(ciphers.key, insecure.key);
  assert.notEqual(ciphers.connection().contextName, insecure.connection().contextName, "the cipher list is the context's");

  // Back to the first settings: the first key again, so idle connections made under them match.
  options.setText("ciphers_server", "");
  options.setText("ssl_insecure", "false");
  assert.equal(upstreamTls(options, "a.test").key, first.key);
});
