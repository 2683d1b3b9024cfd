/**
 * Content views: pure formatters turning a message body into display lines for the detail view.
 * No React or Ink here, so they can be tested and reused (search, export) without a terminal.
 */
import { CONTENT_VIEWS } from "../../console-choices.ts";
import type { ContentView, Line, ViewContext, ViewName, ViewResult } from "./types.ts";
import { LineSink } from "./types.ts";
import { FirstLines, JoinedLines } from "./line-list.ts";
import { cssView } from "./css.ts";
import { queryView, urlencodedView } from "./form.ts";
import { hexView } from "./hex.ts";
import { imageView } from "./image.ts";
import { jsonView, sniffJson } from "./json.ts";
import { multipartView } from "./multipart.ts";
import { javascriptView, rawView } from "./raw.ts";
import { decodeLenient, inUtf8, isMostlyBinary, parseContentType, visible } from "./text.ts";
import { xmlView } from "./xml.ts";
import { grpcView, protobufView } from "./protobuf.ts";
import type { MessageSchema } from "../../proto-definitions.ts";
import { dnsView } from "./dns.ts";
import { graphqlView, sniffGraphql } from "./graphql.ts";
import { msgpackView } from "./msgpack.ts";
import { sniffZip, zipView } from "./zip.ts";
import { sniffSocketIo, socketioView } from "./socketio.ts";
import { mqttView, sniffMqtt } from "./mqtt.ts";

export type { Line, Segment, SegmentStyle, ViewName, ViewResult } from "./types.ts";
export { lineText, markMatches, searchLines, sliceLine, type MarkedSegment } from "./search.ts";
export { FirstLines, JoinedLines, PackedLines, lineArray, lineColumnsAt, lineTextAt, lineUnits, lineUnitsAt, linesOf, type LineList } from "./line-list.ts";
export { protoDefinitions, type MessageSchema } from "../../proto-definitions.ts";

/** Like mitmproxy's `content_view_lines_cutoff`. */
export const DEFAULT_MAX_LINES = 512;

export const VIEW_NAMES: readonly ViewName[] = CONTENT_VIEWS;

const VIEWS: Record<ConcreteView, ContentView> = {
  raw: rawView,
  hex: hexView,
  json: jsonView,
  urlencoded: urlencodedView,
  multipart: multipartView,
  image: imageView,
  xml: xmlView,
  css: cssView,
  javascript: javascriptView,
  query: queryView,
  protobuf: protobufView,
  grpc: grpcView,
  dns: dnsView,
  graphql: graphqlView,
  msgpack: msgpackView,
  zip: zipView,
  socketio: socketioView,
  mqtt: mqttView,
};

/** Display name of a view, for a status bar or a view picker. */
export function viewTitle(name: ViewName): string {
  return name === "auto" ? "Auto" : VIEWS[name].title;
}

export interface RenderOptions {
  /** Lines to show before the cut-off notice; Infinity shows everything. Default 512. */
  maxLines?: number;
  /** The request's URL query, for the Query view (and auto on an empty body). */
  query?: [string, string][];
  /** The line after a cut-off body; the console's names its key for the rest. */
  cutNotice?: string;
  /** The message type of a protobuf or gRPC body, from protobuf_definitions. */
  schema?: MessageSchema | undefined;
}

function sniffMarkup(body: Uint8Array): boolean {
  const head = decodeLenient(body.subarray(0, 256)).trimStart().toLowerCase();
  return head.startsWith("<?xml") || head.startsWith("<!doctype html") || head.startsWith("<html");
}

type ConcreteView = Exclude<ViewName, "auto">;

const MARKUP_TYPES = new Set(["text/html", "text/xml", "application/xml", "application/xhtml+xml"]);
const ZIP_TYPES = new Set(["application/zip", "application/x-zip-compressed", "application/java-archive", "application/vnd.android.package-archive"]);
const PROTOBUF_TYPES = new Set(["application/protobuf", "application/x-protobuf", "application/x-google-protobuf", "application/vnd.google.protobuf", "application/x-protobuffer"]);

export function pickAutoView(
  body: Uint8Array,
  contentType: string | undefined,
  opts?: { query?: [string, string][] },
): ConcreteView {
  if (body.length === 0) return opts?.query?.length ? "query" : "raw";
  const { mime, params } = parseContentType(contentType);
  if (mime === "application/json" || mime === "application/json-rpc" || mime === "text/json" || mime.endsWith("+json")) return sniffGraphql(body) ? "graphql" : "json";
  if (mime === "application/x-www-form-urlencoded") return "urlencoded";
  if (mime === "multipart/form-data" && params.get("boundary")) return "multipart";
  // SVG is markup, not pixels: its text is what there is to read (mitmproxy's image view leaves it out too).
  if (MARKUP_TYPES.has(mime) || mime.endsWith("+xml")) return "xml";
  if (mime.startsWith("image/")) return "image";
  if (mime === "text/css") return "css";
  if (mime === "application/grpc" || mime.startsWith("application/grpc+") || mime.startsWith("application/grpc-web")) return mime.includes("json") ? "json" : "grpc";
  if (PROTOBUF_TYPES.has(mime)) return "protobuf";
  if (mime === "application/dns-message") return "dns";
  if (ZIP_TYPES.has(mime) || mime.endsWith("+zip")) return "zip";
  if (mime === "application/msgpack" || mime === "application/x-msgpack" || mime === "application/vnd.msgpack") return "msgpack";
  if (mime.includes("javascript") || mime.includes("ecmascript")) return "javascript";
  // As mitmproxy's auto view, a declared type (text/plain) is not second-guessed into JSON; a body with
  // none (a WebSocket or TCP message, a response without Content-Type) is sniffed, which mitmproxy does not.
  if (mime === "" && sniffJson(body)) return sniffGraphql(body) ? "graphql" : "json";
  if ((mime === "" || mime === "text/plain") && sniffSocketIo(body)) return "socketio";
  if (sniffMarkup(body)) return "xml";
  if (sniffZip(body) && (mime === "" || mime === "application/octet-stream")) return "zip";
  // A WebSocket's binary message or a TCP chunk has no type: MQTT when it is exactly MQTT packets.
  if (mime === "" && sniffMqtt(body)) return "mqtt";
  if (isMostlyBinary(body)) return "hex";
  return "raw";
}

/** Whether a body's lines in this mode are made as they are read (nothing to render up front, nor off the console's thread). */
export function rendersLazily(body: Uint8Array, contentType: string | undefined, mode: ViewName): boolean {
  const name = mode === "auto" || !Object.hasOwn(VIEWS, mode) ? pickAutoView(inUtf8(body, contentType), contentType) : (mode as ConcreteView);
  return VIEWS[name].lines !== undefined;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function run(name: ConcreteView, body: Uint8Array, ctx: ViewContext, maxLines: number, cutNotice: string | undefined): ViewResult {
  const view = VIEWS[name];
  const notice: Line = [{ text: cutNotice ?? `Stopped displaying data after ${maxLines} lines. Press f to load all data.`, style: "dim" }];
  if (view.lines) {
    const all = view.lines(body);
    if (all.length <= maxLines) return { name: view.title, lines: all };
    return { name: view.title, lines: new JoinedLines([new FirstLines(all, maxLines), [notice]]), truncated: true };
  }
  const sink = new LineSink(maxLines);
  const specific = view.render(body, ctx, sink);
  const lines = sink.lines;
  if (sink.truncated) lines.push(notice);
  return { name: specific || view.title, lines, ...(sink.truncated ? { truncated: true } : {}) };
}

export function renderContent(
  body: Uint8Array,
  contentType: string | undefined,
  mode: ViewName,
  opts: RenderOptions = {},
): ViewResult {
  const requested = opts.maxLines;
  const maxLines = requested === undefined || Number.isNaN(requested) ? DEFAULT_MAX_LINES : Math.max(0, Math.floor(requested));
  const { mime, params } = parseContentType(contentType);
  const ctx: ViewContext = { mime, params, query: opts.query ?? [], schema: opts.schema };
  // Hex shows the bytes as sent; every other view reads text in the charset the type names.
  if (mode !== "hex") body = inUtf8(body, contentType);
  // A name from a saved option may not be a view this build has; auto is the sensible stand-in.
  if (mode === "auto" || !Object.hasOwn(VIEWS, mode)) {
    const picked = pickAutoView(body, contentType, opts);
    try {
      return run(picked, body, ctx, maxLines, opts.cutNotice);
    } catch {
      // Like mitmproxy: a body that does not match its declared type is still shown, with a note why.
      return { ...run("raw", body, ctx, maxLines, opts.cutNotice), error: `[failed to parse as ${VIEWS[picked].title}]` };
    }
  }
  try {
    return run(mode, body, ctx, maxLines, opts.cutNotice);
  } catch (e) {
    // The user asked for this view explicitly, so say why it failed, then show the body raw, as
    // mitmproxy does ("falling back to Raw"): the message alone hid the content until the mode changed.
    const messages = [`Couldn't parse as ${VIEWS[mode].title}: falling back to Raw`, ...errorText(e).split(/\r?\n/).map((l) => visible(l))];
    const notice: Line[] = messages.map((text) => [{ text, style: "error" }]);
    const raw = run("raw", body, ctx, maxLines, opts.cutNotice);
    return { name: VIEWS[mode].title, lines: new JoinedLines([notice, raw.lines]), ...(raw.truncated ? { truncated: true } : {}) };
  }
}
