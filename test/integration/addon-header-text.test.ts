// Header values as an addon sees them: UTF-8 decoded, as mitmproxy's str API gives them, while the
// wire keeps the exact bytes (a byte that is no UTF-8 reads as U+DC00+byte and goes back as itself).
import { test } from "node:test";
import assert from "node:assert/strict";
import { startProxy } from "../helpers/proxy.ts";
import { rawExchange, startRawOrigin } from "../helpers/origin.ts";
import { closeAfter } from "../helpers/close-after.ts";
import type { Addon } from "../../src/engine/hooks/hooks.ts";
import type { HTTPFlow } from "../../src/engine/flow/http.ts";

/** The request or response head's header lines as bytes (one char per byte), without the first line. */
function headerLines(raw: Buffer): string[] {
  const text = raw.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  assert.ok(end !== -1, `no complete head in ${JSON.stringify(text)}`);
  return text.slice(0, end).split("\r\n").slice(1);
}

/** A text's UTF-8 bytes as one char per byte, as headerLines gives them. */
const utf8 = (s: string): string => Buffer.from(s, "utf8").toString("latin1");

const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/** Sends `head` (header lines as bytes) through the proxy to a raw origin answering `answer`; gives what each end received. */
async function exchange(t: Parameters<typeof closeAfter>[0], addon: Addon | undefined, lines: string[], answer = OK): Promise<{ atOrigin: string[]; atClient: string[] }> {
  const origin = await startRawOrigin(() => Buffer.from(answer, "latin1"));
  const proxy = await startProxy({ addons: addon ? [addon] : [] });
  closeAfter(t, proxy, origin);
  const head = `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n${lines.map((l) => `${l}\r\n`).join("")}\r\n`;
  const got = await rawExchange(proxy.port, Buffer.from(head, "latin1"), { until: (b) => b.toString("latin1").endsWith("ok") });
  assert.match(got.toString("latin1"), /^HTTP\/1\.1 200 OK\r\n/);
  return { atOrigin: headerLines(origin.received[0] as Buffer).slice(1), atClient: headerLines(got) };
}

test("an addon reads a UTF-8 request header as its text, through get, [], get_all, fields and iteration", { timeout: 10_000 }, async (t) => {
  const seen: unknown[] = [];
  const addon: Addon = {
    request(f: HTTPFlow) {
      const h = f.request.headers;
      seen.push(h.get("x-name"), h["X-Name"], h.get_all("X-Name"), h.fields.find(([n]) => n === "X-Name")?.[1], [...h].find(([n]) => n === "Content-Disposition")?.[1]);
    },
  };
  const lines = [`X-Name: ${utf8("José")}`, `Content-Disposition: ${utf8('attachment; filename="résumé.pdf"')}`];
  const { atOrigin } = await exchange(t, addon, lines);
  assert.deepEqual(seen, ["José", "José", ["José"], "José", 'attachment; filename="résumé.pdf"']);
  assert.deepEqual(atOrigin, lines, "read only: the bytes go on as they came");
});

test("a UTF-8 header value an addon sets reaches the client as its UTF-8 bytes, é included", { timeout: 10_000 }, async (t) => {
  const addon: Addon = {
    response(f: HTTPFlow) {
      const h = f.response!.headers;
      h["X-Name"] = "José";
      h.add("X-Added", "naïve 日本");
      h.insert(0, "X-First", "ü");
      h.set_all("X-All", ["café", "thé"]);
    },
  };
  const { atClient } = await exchange(t, addon, []);
  assert.deepEqual(atClient.filter((l) => l.startsWith("X-")), [`X-First: ${utf8("ü")}`, `X-Name: ${utf8("José")}`, `X-Added: ${utf8("naïve 日本")}`, `X-All: ${utf8("café")}`, `X-All: ${utf8("thé")}`]);
});

test("a header byte that is no UTF-8 (0xFF) passes through untouched when no addon changes it", { timeout: 10_000 }, async (t) => {
  const lines = ["X-Bin: a\xffb\xc3(", `X-Name: ${utf8("José")}`];
  const answer = `HTTP/1.1 200 OK\r\nX-Raw: \xff\xfe\xe9\r\nContent-Length: 2\r\n\r\nok`;
  let read: string | undefined;
  const addon: Addon = {
    request(f: HTTPFlow) {
      read = f.request.headers.get("X-Bin");
    },
  };
  const { atOrigin, atClient } = await exchange(t, addon, lines, answer);
  assert.deepEqual(atOrigin, lines);
  assert.deepEqual(atClient.slice(0, 1), ["X-Raw: \xff\xfe\xe9"]);
  assert.equal(read, "a\udcffb\udcc3(", "each byte that is no UTF-8 reads as U+DC00+byte, Python's surrogateescape");
});

test("an addon that reads a header that is no UTF-8 and writes it back leaves its bytes unchanged", { timeout: 10_000 }, async (t) => {
  const lines = ["X-Bin: a\xffb\xc3(", `X-Mixed: ${utf8("é")}\xe9`, "X-Dup: \xfe", "X-Dup: \xfd", "X-More: \xff"];
  const answer = `HTTP/1.1 200 OK\r\nX-Raw: \xff\xfe\xe9\r\nContent-Length: 2\r\n\r\nok`;
  const addon: Addon = {
    request(f: HTTPFlow) {
      const h = f.request.headers;
      h.set("X-Bin", h.get("X-Bin") as string);
      h["X-Mixed"] = h["X-Mixed"] as string;
      h.set_all("X-Dup", h.get_all("X-Dup"));
      // Text added to such a value: the old bytes stay, the new text goes as UTF-8.
      h.set("X-More", `${h.get("X-More") as string} ✓`);
    },
    response(f: HTTPFlow) {
      const h = f.response!.headers;
      h.fields = [...h.fields];
    },
  };
  const { atOrigin, atClient } = await exchange(t, addon, lines, answer);
  assert.deepEqual(atOrigin, [...lines.slice(0, -1), `X-More: \xff ${utf8("✓")}`]);
  assert.deepEqual(atClient.slice(0, 1), ["X-Raw: \xff\xfe\xe9"]);
});
