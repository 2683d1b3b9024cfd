import { test } from "node:test";
import assert from "node:assert/strict";
import optionsConfigure from "../../addons/options-configure.ts";
import { startProxy } from "../helpers/proxy.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { closeAfter } from "../helpers/close-after.ts";

test("options-configure adds the addheader header only while the option is set, and refuses a value over 100", { timeout: 10_000 }, async (t) => {
  const origin = await startHttpOrigin((_req, res) => res.end("ok"));
  const proxy = await startProxy({ addons: [optionsConfigure] });
  closeAfter(t, proxy, origin);
  const header = async (): Promise<string | string[] | undefined> => (await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/`)).headers["addheader"];
  const set = (value: string): Promise<unknown> => proxy.engine.handle({ op: "setOption", name: "addheader", value });

  assert.equal(await header(), undefined, "unset by default");
  await set("42");
  assert.equal(await header(), "42");
  await assert.rejects(set("101"), /addheader: options-configure refused "101": addheader must be <= 100, got 101; it stays 42/);
  assert.equal(await header(), "42");
  await assert.rejects(set("many"), /option addheader expects an integer \(empty for none\), got "many"/);
  await set("");
  assert.equal(await header(), undefined, "unset again");
});
