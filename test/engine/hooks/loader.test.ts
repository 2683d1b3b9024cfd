import { test } from "node:test";
import assert from "node:assert/strict";
import { Options } from "../../../src/engine/options.ts";
import { CommandRegistry } from "../../../src/engine/commands.ts";
import { Loader } from "../../../src/engine/hooks/loader.ts";

function loader(): { l: Loader; options: Options; registry: CommandRegistry } {
  const options = new Options();
  const registry = new CommandRegistry();
  return { l: new Loader(options, registry, "my-addon"), options, registry };
}

test("add_option takes mitmproxy's keyword call as one object, and Array as a list type; a name that is no string or an unknown type is a TypeError naming the addon (the console drew nothing)", () => {
  const { l, options } = loader();
  l.add_option({ name: "addheader", typespec: Boolean, default: false, help: "Add a header" });
  assert.equal(options.info("addheader").type, "bool");
  assert.equal(options.info("addheader").help, "Add a header");
  l.add_option("hosts", Array, [], "Hosts");
  assert.equal(options.info("hosts").type, "str[]");
  l.add_option("label", String, "x", "A label");
  assert.equal(options.info("label").type, "str");
  assert.throws(() => l.add_option({ typespec: Boolean, default: false } as unknown as string), { name: "TypeError", message: "addon my-addon: add_option needs the option's name as a string, got undefined" });
  assert.throws(() => l.add_option("when", Date as unknown as StringConstructor, 0, ""), /addon my-addon: option when has unknown type Date \(give Boolean, Number, String, Array, or one of bool, /);
});

test("add_command without a signature takes the function's parameter names for one, so a flows parameter gets flows, as mitmproxy's typed parameters do", async () => {
  const { l, registry } = loader();
  const flow = { id: "f1" };
  // As the engine's: an empty spec is an empty filter expression, an error.
  registry.resolveFlowsWith((spec) => {
    if (spec === "") throw new Error("Invalid filter expression at column 1: empty filter expression");
    return spec === "@all" ? [flow] : [];
  });
  const got: unknown[] = [];
  l.add_command("mark.some", (flows: unknown, header: string) => void got.push(flows, header));
  assert.equal(registry.list().find((c) => c.name === "mark.some")?.signature, "mark.some flows header");
  await registry.run("mark.some @all x-seen");
  assert.deepEqual(got, [[flow], "x-seen"]);
  // commands.call with flow objects, and with an empty list: no flows, as in mitmproxy (it was read as an empty filter).
  got.length = 0;
  await registry.call("mark.some", [flow], "a");
  await registry.call("mark.some", [], "b");
  assert.deepEqual(got, [[flow], "a", [], "b"]);
});

test("an addon whose configure throws refuses a value set by the user: it is set back, configure runs again, and the error says whose refusal it was (mitmproxy's options-configure example)", async () => {
  const { startProxy } = await import("../../helpers/proxy.ts");
  const seen: number[] = [];
  const addon = {
    name: "addheader",
    load(l: Loader) {
      l.add_option("addheader", Number, 0, "A header value to add, at most 100");
    },
    configure(updated: Set<string>) {
      if (!updated.has("addheader")) return;
      const value = proxy.engine.options.get<number>("addheader");
      seen.push(value);
      if (value > 100) throw new Error("addheader must be <= 100");
    },
  };
  const proxy = await startProxy({ addons: [addon] });
  try {
    await assert.rejects(proxy.engine.handle({ op: "command", line: "set addheader=200" }), { message: 'option addheader: addheader refused "200": addheader must be <= 100; it stays 0' });
    assert.equal(proxy.engine.options.get("addheader"), 0);
    assert.deepEqual(seen.slice(-2), [200, 0], "configure saw the refused value, then the one set back");
    await assert.rejects(proxy.engine.handle({ op: "setOption", name: "addheader", value: "300" }), /refused "300"/);
    assert.equal(await proxy.engine.handle({ op: "command", line: "set addheader=50" }), "addheader = 50");
  } finally {
    await proxy.stop();
  }
});
