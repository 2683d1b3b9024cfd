import { test } from "node:test";
import assert from "node:assert/strict";
import { Options, OptionError } from "../../../src/engine/options.ts";
import { AddonManager } from "../../../src/engine/hooks/addon-manager.ts";
import { CommandRegistry } from "../../../src/engine/commands.ts";
import { Log } from "../../../src/engine/log.ts";
import { BodySizeAddon, MAX_HELD_BODY, bodySizes, parseSize, sizeVerdict } from "../../../src/engine/builtins/body-size.ts";

test("sizes are bytes or k/m/g/t multiples of 1024, as mitmproxy's parse_size", () => {
  assert.equal(parseSize("0"), 0);
  assert.equal(parseSize("1500"), 1500);
  assert.equal(parseSize("512k"), 512 * 1024);
  assert.equal(parseSize("1m"), 1024 * 1024);
  assert.equal(parseSize("3M"), 3 * 1024 * 1024);
  assert.equal(parseSize("2g"), 2 * 1024 ** 3);
  assert.equal(parseSize("10b"), 10);
  for (const bad of ["12q", "", "k", "1.5m", "-1", "1 mb"]) assert.throws(() => parseSize(bad), /size/, bad);
});

async function optionsWithAddon(): Promise<Options> {
  const options = new Options();
  await new AddonManager(options, new CommandRegistry(), new Log()).add(new BodySizeAddon(), "body_size");
  return options;
}

test("a bad size is an OptionError naming the option, from --set before the addon loads too", async () => {
  const options = await optionsWithAddon();
  assert.throws(
    () => options.setText("stream_large_bodies", "12q"),
    (err: unknown) => err instanceof OptionError && /option stream_large_bodies/.test(err.message) && /"12q"/.test(err.message) && /k, m or g/.test(err.message),
  );
  assert.throws(() => options.setText("body_size_limit", "lots"), (err: unknown) => err instanceof OptionError && /option body_size_limit/.test(err.message));
  // --set arrives before the built-ins are added: the bad value waits, then is refused at start-up.
  const early = new Options();
  early.updateDeferring({ stream_large_bodies: "12q" });
  await new AddonManager(early, new CommandRegistry(), new Log()).add(new BodySizeAddon(), "body_size");
  assert.throws(() => early.rejectDeferred(), (err: unknown) => err instanceof OptionError && /option stream_large_bodies/.test(err.message));
});

test("the verdict: over body_size_limit first, then over stream_large_bodies; unknown or empty sizes pass", async () => {
  const options = await optionsWithAddon();
  // Unset, a body streams only when it is larger than pryx can hold (one Buffer's limit).
  assert.deepEqual(bodySizes(options), { stream: MAX_HELD_BODY, limit: undefined });
  options.update({ stream_large_bodies: "1k", body_size_limit: "4k" });
  const sizes = bodySizes(options);
  assert.deepEqual(sizes, { stream: 1024, limit: 4096 });
  assert.equal(sizeVerdict(sizes, undefined), undefined);
  assert.equal(sizeVerdict(sizes, 0), undefined);
  assert.equal(sizeVerdict(sizes, 1024), undefined);
  assert.equal(sizeVerdict(sizes, 1025), "stream");
  assert.equal(sizeVerdict(sizes, 4096), "stream");
  assert.equal(sizeVerdict(sizes, 4097), "limit");
});

test("a body larger than one Buffer can hold streams, whatever the options say, rather than fail to be joined", async () => {
  const huge = MAX_HELD_BODY + 1;
  assert.equal(sizeVerdict(bodySizes(new Options()), huge), "stream", "before the body_size addon is loaded");
  const options = await optionsWithAddon();
  assert.equal(sizeVerdict(bodySizes(options), huge), "stream");
  assert.equal(sizeVerdict(bodySizes(options), MAX_HELD_BODY), undefined);
  options.update({ stream_large_bodies: "100g" });
  assert.equal(bodySizes(options).stream, MAX_HELD_BODY);
  // body_size_limit still comes first: such a body over it is refused.
  options.update({ body_size_limit: "5g" });
  assert.equal(sizeVerdict(bodySizes(options), 6 * 1024 ** 3), "limit");
});
