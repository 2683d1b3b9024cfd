import { test } from "node:test";
import assert from "node:assert/strict";
import { startDump, type Pryx } from "../helpers/cli.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { startHttpOrigin, viaProxy } from "../helpers/origin.ts";
import { waitUntil } from "../helpers/wait.ts";

const confdir = tempDir("pryx-dump-jsonl-");

async function dump(t: { after(fn: () => Promise<void>): void }, args: string[]): Promise<Pryx> {
  const p = await startDump(args, { confdir });
  t.after(async () => void (await p.stop("SIGKILL")));
  return p;
}

test("pryx dump --jsonl --flow-detail 2 adds the request and response with their headers, the connections and timings; 3 adds the bodies, text or base64", { timeout: 30_000 }, async (t) => {
  const o = await startHttpOrigin((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.url === "/bin") {
        res.writeHead(200, { "content-type": "application/octet-stream", "x-kind": "bin" });
        res.end(Buffer.from([0xff, 0x00, 0xfe]));
      } else res.writeHead(201, { "content-type": "application/json", "x-kind": "json" }).end('{"ok":true}');
    });
  });
  t.after(() => o.close());
  const base = `http://127.0.0.1:${o.port}`;
  const parse = (p: Pryx) => p.stdoutLines().map((l) => JSON.parse(l) as Record<string, any>).sort((a, b) => String(a["url"]).localeCompare(String(b["url"])));

  const headersOnly = await dump(t, ["--jsonl", "--flow-detail", "2"]);
  await viaProxy(headersOnly.port, `${base}/json`, { method: "POST", body: "hi", headers: { "x-sent": "yes" } });
  await waitUntil(() => headersOnly.stdoutLines().length >= 1 || undefined, "a JSON line");
  const [h] = parse(headersOnly);
  assert.deepEqual(h?.["request"]["headers"].find(([k]: string[]) => k === "x-sent"), ["x-sent", "yes"]);
  assert.equal(h?.["request"]["method"], "POST");
  assert.equal(h?.["response"]["status"], 201);
  assert.deepEqual(h?.["response"]["headers"].find(([k]: string[]) => k === "x-kind"), ["x-kind", "json"]);
  assert.equal(h?.["response"]["body"], undefined, "no bodies below --flow-detail 3");
  assert.equal(h?.["serverConn"]["address"], `127.0.0.1:${o.port}`);
  assert.ok(h?.["timings"].some((x: { name: string }) => x.name === "Server conn. initiated"));
  for (const consoleOnly of ["seq", "live", "shown"]) assert.equal(consoleOnly in h!, false, consoleOnly);

  const bodies = await dump(t, ["--jsonl", "--flow-detail", "3"]);
  await viaProxy(bodies.port, `${base}/json`, { method: "POST", body: "hi" });
  await viaProxy(bodies.port, `${base}/bin`);
  await waitUntil(() => bodies.stdoutLines().length >= 2 || undefined, "two JSON lines");
  const [bin, json] = parse(bodies);
  assert.equal(json?.["request"]["body"], "hi");
  assert.equal(json?.["response"]["body"], '{"ok":true}');
  assert.equal(json?.["response"]["bodySize"], 11);
  assert.equal(bin?.["response"]["bodyBase64"], "/wD+");
  assert.equal(bin?.["response"]["body"], undefined);
});
