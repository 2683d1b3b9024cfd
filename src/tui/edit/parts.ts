/**
 * What `e` offers to edit, and how each part turns into the text the user edits and back into a
 * FlowPatch. Pure: the FlowEditor fetches the detail, these functions read and write it.
 */
import type { FlowDetail, FlowPatch, FlowSummary } from "../../protocol.ts";
import type { Row } from "./grid.ts";

/** mitmproxy's names, in the order a request then its response is read. */
export const HTTP_PARTS = [
  "method",
  "url",
  "path",
  "query",
  "request-headers",
  "request-body",
  "urlencoded form",
  "status_code",
  "reason",
  "response-headers",
  "response-body",
  "comment",
] as const;

export type EditPart = (typeof HTTP_PARTS)[number];
export type ValuePart = "method" | "url" | "path" | "status_code" | "reason" | "comment";
export type GridPart = "query" | "request-headers" | "response-headers" | "urlencoded form";
export type BodyPart = "request-body" | "response-body";

const VALUE_PARTS: ReadonlySet<string> = new Set<ValuePart>(["method", "url", "path", "status_code", "reason", "comment"]);
const GRID_PARTS: ReadonlySet<string> = new Set<GridPart>(["query", "request-headers", "response-headers", "urlencoded form"]);

export function isValuePart(p: EditPart): p is ValuePart {
  return VALUE_PARTS.has(p);
}

export function isGridPart(p: EditPart): p is GridPart {
  return GRID_PARTS.has(p);
}

export function isBodyPart(p: EditPart): p is BodyPart {
  return p === "request-body" || p === "response-body";
}

/** Other spellings a user may type after `console.edit.focus`. */
const ALIASES: Record<string, EditPart> = {
  form: "urlencoded form",
  "urlencoded-form": "urlencoded form",
  "urlencoded_form": "urlencoded form",
  status: "status_code",
  "status-code": "status_code",
};

export function parsePart(s: string): EditPart | undefined {
  const t = s.trim();
  return (HTTP_PARTS as readonly string[]).includes(t) ? (t as EditPart) : ALIASES[t];
}

/** The engine edits HTTP flows only; for other flows a comment is all there is (as mitmproxy, which refuses DNS). */
export function partsFor(flow: FlowSummary): EditPart[] {
  return flow.type === "http" ? [...HTTP_PARTS] : ["comment"];
}

/** The prompt label for a single value. */
export function valueLabel(p: ValuePart): string {
  return p === "status_code" ? "status code: " : `${p}: `;
}

/**
 * The current value the prompt starts with. A response part of a flow without a response shows
 * what the engine will create (mitmproxy's `Response.make()`: 200 OK).
 */
export function currentValue(p: ValuePart, d: FlowDetail): string {
  switch (p) {
    case "method":
      return d.request?.method ?? d.summary.method;
    case "url":
      return d.request?.url ?? d.summary.url;
    case "path":
      return d.request?.path ?? d.summary.path;
    case "status_code":
      return String(d.response?.status ?? 200);
    case "reason":
      return d.response?.reason ?? "OK";
    case "comment":
      return d.summary.comment;
  }
}

export class EditInputError extends Error {}

/** The patch for a typed value; only what the console itself can know is checked here, the engine checks the rest. */
export function valuePatch(p: ValuePart, text: string): FlowPatch {
  switch (p) {
    case "method":
      return { method: text.trim() };
    case "url":
      return { url: text.trim() };
    case "path":
      return { path: text.trim() };
    case "status_code": {
      const t = text.trim();
      if (!/^\d+$/.test(t)) throw new EditInputError(`invalid status code ${JSON.stringify(text)}: expected a number such as 200`);
      return { statusCode: Number(t) };
    }
    case "reason":
      return { reason: text };
    case "comment":
      return { comment: text };
  }
}

export function gridTitle(p: GridPart): string {
  switch (p) {
    case "query":
      return "Edit Query";
    case "request-headers":
      return "Edit Request Headers";
    case "response-headers":
      return "Edit Response Headers";
    case "urlencoded form":
      return "Edit UrlEncoded Form";
  }
}

export const GRID_COLUMNS: readonly string[] = ["Key", "Value"];

const FORM_TYPE = "application/x-www-form-urlencoded";

function isForm(contentType: string | undefined): boolean {
  return (contentType ?? "").toLowerCase().includes(FORM_TYPE);
}

export function queryOf(path: string): [string, string][] {
  const q = path.indexOf("?");
  return q < 0 ? [] : [...new URLSearchParams(path.slice(q + 1))];
}

/** The rows a grid starts with. The form needs the full request body in the detail. */
export function gridRows(p: GridPart, d: FlowDetail): Row[] {
  switch (p) {
    case "request-headers":
      return (d.request?.headers ?? []).map(([k, v]) => [k, v]);
    case "response-headers":
      return (d.response?.headers ?? []).map(([k, v]) => [k, v]);
    case "query":
      return queryOf(d.request?.path ?? d.summary.path);
    case "urlencoded form": {
      const r = d.request;
      if (!r || !isForm(r.contentType)) return [];
      return [...new URLSearchParams(new TextDecoder().decode(r.body))];
    }
  }
}

/** Why a form grid starts empty although the request has a body: saving it replaces that body. */
export function formWarning(d: FlowDetail): string | undefined {
  const r = d.request;
  if (!r || r.bodySize === 0 || isForm(r.contentType)) return undefined;
  return `the request body is ${r.contentType ?? "not a form"}; saving the form replaces it`;
}

const pairs = (rows: readonly Row[]): [string, string][] => rows.map((r) => [r[0] ?? "", r[1] ?? ""]);

/** One patch for the whole grid, as mitmproxy writes a grid back when it is closed. */
export function gridPatch(p: GridPart, rows: readonly Row[], d: FlowDetail): FlowPatch {
  switch (p) {
    case "request-headers":
      return { requestHeaders: pairs(rows) };
    case "response-headers":
      return { responseHeaders: pairs(rows) };
    case "query":
      return { query: pairs(rows) };
    case "urlencoded form": {
      const body = new TextEncoder().encode(new URLSearchParams(pairs(rows)).toString());
      const headers = d.request?.headers ?? [];
      // As mitmproxy's urlencoded_form setter: the body is only a form if the request says so.
      if (isForm(d.request?.contentType)) return { requestBody: body };
      const kept = headers.filter(([k]) => k.toLowerCase() !== "content-type").map(([k, v]): [string, string] => [k, v]);
      return { requestHeaders: [...kept, ["content-type", FORM_TYPE]], requestBody: body };
    }
  }
}

/** A file name extension for the editor, so it can highlight the body. */
export function extensionFor(contentType: string | undefined): string {
  const t = (contentType ?? "").toLowerCase();
  if (t.includes("json")) return ".json";
  if (t.includes("html")) return ".html";
  if (t.includes("xml")) return ".xml";
  if (t.includes("css")) return ".css";
  if (t.includes("javascript") || t.includes("ecmascript")) return ".js";
  if (t.includes("yaml")) return ".yaml";
  return ".txt";
}
