/**
 * Writes the console bench's flow file: `count` realistic HTTP flows in pryx's own format, built
 * with the engine's flow classes and `encodeFlow`, so `pryx -r` reads them as it reads a saved
 * session. Run as a child of bench/run.ts (the orchestrator stays small and idle while measuring).
 *
 * Every flow's path carries its index as a six-digit segment (`/000123`), which is how the bench
 * tells from the screen which flow has the focus. Exactly the flows whose index is a multiple of
 * ten have `/alpha` in their URL, and no other flow has it anywhere, so `~u /alpha` shows 10%.
 * A seeded generator makes every run read the same file.
 */
import fs from "node:fs";
import { Client, Server } from "../../src/engine/flow/connection.ts";
import { encodeFlow } from "../../src/engine/flow/codec.ts";
import { FlowError } from "../../src/engine/flow/flow.ts";
import type { HeaderField } from "../../src/engine/flow/headers.ts";
import { HTTPFlow, Request, Response } from "../../src/engine/flow/http.ts";

export interface FlowFileRequest {
  type: "flowfile";
  file: string;
  count: number;
}

export interface FlowFileDone {
  type: "done";
  flows: number;
  bytes: number;
  /** Flows whose URL holds `/alpha`: what `~u /alpha` must show. */
  alpha: number;
  avgResponseBody: number;
}

/** The marker the bench reads back from a row: the flow's index, six digits, as a path segment. */
export const ID_DIGITS = 6;
export const ALPHA_EVERY = 10;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTS = [
  "api.example.com",
  "www.example.com",
  "cdn.shopfront.io",
  "static.newsroom.org",
  "accounts.login-service.net",
  "telemetry.metrics.dev",
  "images.photocdn.com",
  "graphql.social-app.com",
  "payments.checkout.io",
  "search.docs-portal.org",
  "ws.chat-service.net",
  "updates.desktop-app.com",
  "maps.tiles-server.net",
  "ads.tracker-network.com",
  "fonts.typeface-cdn.com",
  "m.video-stream.tv",
  "auth.identity.cloud",
  "storage.bucket-host.io",
  "status.uptime-monitor.dev",
  "feeds.rss-reader.org",
];

const AGENTS = [
  "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
  "okhttp/4.12.0",
  "curl/8.5.0",
  "python-requests/2.32.3",
];

const WORDS = ["orders", "users", "items", "cart", "profile", "settings", "feed", "comments", "likes", "inbox", "report", "billing", "events", "photos", "tags"];

type Kind = "json" | "html" | "js" | "css" | "png" | "empty";

interface Shape {
  path: (id: string, r: () => number) => string;
  kind: Kind;
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

const SHAPES: Shape[] = [
  { path: (id, r) => `/api/v2/${pick(r, WORDS)}/${id}?page=${1 + Math.floor(r() * 9)}&limit=50`, kind: "json" },
  { path: (id, r) => `/v1/${pick(r, WORDS)}/${id}/${pick(r, WORDS)}`, kind: "json" },
  { path: (id) => `/static/js/${id}.chunk.js`, kind: "js" },
  { path: (id) => `/assets/css/${id}.min.css`, kind: "css" },
  { path: (id, r) => `/img/${id}/${pick(r, WORDS)}-thumb.png`, kind: "png" },
  { path: (id, r) => `/news/${id}/${pick(r, WORDS)}-${pick(r, WORDS)}.html`, kind: "html" },
  { path: (id, r) => `/graphql/${id}?op=${pick(r, WORDS)}Query`, kind: "json" },
  { path: (id) => `/beacon/${id}?v=3&t=pageview`, kind: "empty" },
];
const ALPHA_SHAPE: Shape = { path: (id, r) => `/alpha/${id}/${pick(r, WORDS)}?ref=home`, kind: "json" };

const CONTENT_TYPES: Record<Kind, string> = {
  json: "application/json; charset=utf-8",
  html: "text/html; charset=utf-8",
  js: "application/javascript",
  css: "text/css",
  png: "image/png",
  empty: "text/plain",
};

function text(r: () => number, bytes: number): string {
  const out: string[] = [];
  let n = 0;
  while (n < bytes) {
    const w = pick(r, WORDS);
    out.push(w);
    n += w.length + 1;
  }
  return out.join(" ");
}

function body(kind: Kind, r: () => number, id: string): Uint8Array {
  switch (kind) {
    case "json": {
      const items = Array.from({ length: 1 + Math.floor(r() * 6) }, (_, i) => ({ id: Number(id) * 10 + i, name: pick(r, WORDS), score: Math.round(r() * 1000) / 10, note: text(r, 40 + Math.floor(r() * 80)) }));
      return Buffer.from(JSON.stringify({ ok: true, request: id, items, next: r() < 0.5 ? null : `/page/${Math.floor(r() * 50)}` }));
    }
    case "html":
      return Buffer.from(`<!doctype html><html><head><title>${text(r, 30)}</title></head><body><article><h1>${text(r, 40)}</h1><p>${text(r, 600 + Math.floor(r() * 1200))}</p></article></body></html>`);
    case "js":
      return Buffer.from(`"use strict";(self.webpackChunk=self.webpackChunk||[]).push([[${Number(id)}],{${Array.from({ length: 6 + Math.floor(r() * 20) }, (_, i) => `${i}:function(e,t,n){n.d(t,{${pick(r, WORDS)}:function(){return ${pick(r, WORDS)}}})}`).join(",")}}]);`);
    case "css":
      return Buffer.from(Array.from({ length: 8 + Math.floor(r() * 20) }, () => `.${pick(r, WORDS)}-${pick(r, WORDS)}{margin:${Math.floor(r() * 20)}px;color:#${Math.floor(r() * 0xffffff).toString(16).padStart(6, "0")}}`).join(""));
    case "png": {
      const b = Buffer.alloc(200 + Math.floor(r() * 1600));
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256);
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b);
      return b;
    }
    case "empty":
      return new Uint8Array(0);
  }
}

const STATUS: [number, number][] = [
  [200, 0.82],
  [201, 0.03],
  [204, 0.02],
  [301, 0.02],
  [304, 0.05],
  [404, 0.03],
  [500, 0.015],
  [503, 0.015],
];

function status(r: () => number): number {
  let x = r();
  for (const [code, p] of STATUS) {
    if (x < p) return code;
    x -= p;
  }
  return 200;
}

function method(r: () => number, kind: Kind): string {
  if (kind !== "json") return "GET";
  const x = r();
  return x < 0.62 ? "GET" : x < 0.85 ? "POST" : x < 0.92 ? "PUT" : x < 0.96 ? "DELETE" : x < 0.98 ? "PATCH" : "OPTIONS";
}

export function makeFlow(i: number, r: () => number, t0: number): HTTPFlow {
  const id = String(i).padStart(ID_DIGITS, "0");
  const shape = i % ALPHA_EVERY === 0 ? ALPHA_SHAPE : pick(r, SHAPES);
  const host = pick(r, HOSTS);
  const tls = r() < 0.8;
  const scheme = tls ? "https" : "http";
  const port = r() < 0.03 ? 8443 : tls ? 443 : 80;
  const m = method(r, shape.kind);
  const path = shape.path(id, r);
  const start = t0 + i * 0.036 + r() * 0.01;
  const reqHeaders: HeaderField[] = [
    ["Host", port === 443 || port === 80 ? host : `${host}:${port}`],
    ["User-Agent", pick(r, AGENTS)],
    ["Accept", shape.kind === "json" ? "application/json" : "*/*"],
    ["Accept-Encoding", "gzip, deflate, br"],
    ["Accept-Language", "en-US,en;q=0.9"],
  ];
  if (r() < 0.4) reqHeaders.push(["Cookie", `session=${Math.floor(r() * 1e12).toString(36)}; theme=dark`]);
  if (r() < 0.3) reqHeaders.push(["Authorization", `Bearer ${Math.floor(r() * 1e15).toString(36)}.${Math.floor(r() * 1e15).toString(36)}`]);
  let reqBody: Uint8Array = new Uint8Array(0);
  if (m === "POST" || m === "PUT" || m === "PATCH") {
    reqBody = Buffer.from(JSON.stringify({ request: id, action: pick(r, WORDS), value: text(r, 20 + Math.floor(r() * 120)) }));
    reqHeaders.push(["Content-Type", "application/json"], ["Content-Length", String(reqBody.length)]);
  }
  const client = new Client(["10.0.0." + (2 + (i % 40)), 40000 + (i % 20000)], ["127.0.0.1", 8080]);
  client.timestamp_start = start - 0.002;
  client.tls = tls;
  client.sni = tls ? host : undefined;
  client.alpn = tls ? "http/1.1" : undefined;
  client.tls_version = tls ? "TLSv1.3" : undefined;
  const server = new Server([host, port]);
  server.timestamp_start = start;
  server.tls = tls;
  server.sni = tls ? host : undefined;
  server.alpn = tls ? "http/1.1" : undefined;
  server.tls_version = tls ? "TLSv1.3" : undefined;
  const req = new Request({ method: m, scheme, host, port, path, headers: reqHeaders, content: reqBody, timestamp_start: start });
  req.timestamp_end = start + 0.0005;
  const flow = new HTTPFlow(client, server, req);
  flow.timestamp_created = start;
  flow.live = false;
  if (r() < 0.005) {
    flow.error = new FlowError(pick(r, ["Connection refused", "Server disconnected.", "TLS handshake failed: certificate verify failed", "Connection timed out"]));
    return flow;
  }
  const drawn = m === "OPTIONS" ? 204 : status(r);
  // Only a conditional GET is answered 304.
  const code = drawn === 304 && m !== "GET" ? 200 : drawn;
  const noBody = code === 204 || code === 304 || m === "DELETE";
  const content = noBody ? new Uint8Array(0) : code >= 300 && code < 400 ? Buffer.from("") : code >= 400 ? Buffer.from(`{"error":"${code}","request":"${id}"}`) : body(shape.kind, r, id);
  const ct = code >= 400 ? "application/json" : CONTENT_TYPES[shape.kind];
  const respHeaders: HeaderField[] = [
    ["Date", new Date(start * 1000).toUTCString()],
    ["Server", pick(r, ["nginx/1.25.4", "cloudflare", "envoy", "gws", "Apache/2.4.59"])],
    ["Content-Length", String(content.length)],
  ];
  if (!noBody) respHeaders.push(["Content-Type", ct]);
  respHeaders.push(["Cache-Control", shape.kind === "json" ? "no-store" : "public, max-age=31536000, immutable"]);
  if (code === 301) respHeaders.push(["Location", `https://${host}${path}/`]);
  if (r() < 0.15) respHeaders.push(["Set-Cookie", `tracking=${Math.floor(r() * 1e12).toString(36)}; Path=/; Secure; HttpOnly`]);
  if (r() < 0.5) respHeaders.push(["X-Request-Id", `${id}-${Math.floor(r() * 1e9).toString(16)}`]);
  const duration = 0.004 + r() * r() * 0.8;
  const resp = new Response({ status_code: code, headers: respHeaders, content, timestamp_start: start + duration * 0.8 });
  resp.timestamp_end = start + duration;
  flow.response = resp;
  return flow;
}

function write(file: string, count: number): FlowFileDone {
  const r = mulberry32(0x5eed);
  const t0 = Math.floor(Date.now() / 1000) - Math.ceil(count * 0.036) - 60;
  const fd = fs.openSync(file, "w");
  let bytes = 0;
  let alpha = 0;
  let bodies = 0;
  let responses = 0;
  try {
    let chunk: string[] = [];
    for (let i = 0; i < count; i++) {
      const f = makeFlow(i, r, t0);
      if (f.request.url.includes("/alpha")) alpha++;
      if (f.response) {
        responses++;
        bodies += f.response.raw_content?.length ?? 0;
      }
      chunk.push(encodeFlow(f));
      if (chunk.length === 1000 || i === count - 1) {
        const s = `${chunk.join("\n")}\n`;
        bytes += fs.writeSync(fd, s);
        chunk = [];
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return { type: "done", flows: count, bytes, alpha, avgResponseBody: responses ? bodies / responses : 0 };
}

if (process.send) {
  process.once("message", (m: FlowFileRequest) => {
    const done = write(m.file, m.count);
    process.send?.(done, () => process.exit(0));
  });
  process.on("disconnect", () => process.exit(0));
}
