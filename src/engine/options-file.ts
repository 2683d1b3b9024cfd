/**
 * Options in YAML files, as mitmproxy keeps them: `<confdir>/config.yaml` (and `config.yml`)
 * read at start-up, `options.load PATH` and `options.save PATH` at any time. A mitmproxy user's
 * config file works as it is: one `name: value` per option, lists as YAML sequences, booleans
 * and numbers as YAML has them.
 */
import fs from "node:fs";
import path from "node:path";
import { Document, isMap, isScalar, parseDocument } from "yaml";
import { OptionError, pathsRelativeTo, type OptionText, type OptionValue, type Options } from "./options.ts";

/** The files read at start-up, in order: a later one wins. */
export const CONFIG_FILES = ["config.yaml", "config.yml"];

/**
 * mitmproxy options pryx does not have. A config file written for mitmproxy names them: they
 * are skipped with a warning rather than stopping pryx, where an unknown name is an error.
 */
export const MITMPROXY_ONLY: ReadonlySet<string> = new Set([
  // Certificates: pryx makes host certificates from the client's SNI, not the server's.
  "add_upstream_certs_to_client_chain", "upstream_cert",
  // Protocols pryx has not: HTTP/3 and UDP.
  "http3", "udp_hosts",
  "normalize_outbound_headers",
  // mitmweb's.
  "web_columns", "web_debug", "web_host", "web_open_browser", "web_password", "web_port", "web_static_viewer", "web_theme",
]);

export interface OptionsFile {
  /** Option name → its value as option text (lists item by item). */
  values: Record<string, OptionText>;
  /** mitmproxy's options that pryx has not, skipped. */
  skipped: string[];
}

function textOf(file: string, name: string, v: unknown): OptionText {
  if (v === null) return "";
  if (Array.isArray(v)) return v.map((item) => textOf(file, name, item) as string);
  if (typeof v === "object") throw new OptionError(`${file}: option ${name} holds a mapping; expected a value or a list`);
  return String(v);
}

/** A YAML document of `file`, or an error naming the file and where its first fault is. */
function yamlDocument(text: string, file: string, consequence = ""): Document {
  const doc = parseDocument(text);
  const err = doc.errors[0];
  if (!err) return doc;
  const at = err.linePos?.[0];
  throw new OptionError(`${file}${at ? `:${at.line}:${at.col}` : ""}: not valid YAML: ${(err.message.split("\n")[0] as string).replace(/:$/, "")}${consequence}`);
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new OptionError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** The options of a YAML file's text; `file` names it in errors. */
export function parseOptions(text: string, file: string): OptionsFile {
  const data: unknown = yamlDocument(text, file).toJS();
  if (data === null || data === undefined) return { values: {}, skipped: [] };
  if (typeof data !== "object" || Array.isArray(data)) throw new OptionError(`${file}: expected option: value lines, found ${Array.isArray(data) ? "a list" : "a single value"}`);
  const values: Record<string, OptionText> = {};
  const skipped: string[] = [];
  for (const [name, v] of Object.entries(data as Record<string, unknown>)) {
    if (MITMPROXY_ONLY.has(name)) skipped.push(name);
    else values[name] = textOf(file, name, v);
  }
  return { values, skipped };
}

/**
 * A file's options, with relative paths in `options`' path options taken from the file's
 * directory, as mitmproxy does (without `options`, the texts as they are written).
 */
export function readOptionsFile(file: string, options?: Options): OptionsFile {
  const parsed = parseOptions(readText(file), file);
  if (!options) return parsed;
  const dir = path.dirname(path.resolve(file));
  for (const [name, v] of Object.entries(parsed.values)) {
    if (options.has(name) && options.isPathOption(name)) parsed.values[name] = pathsRelativeTo(dir, v, options.pathForm(name));
  }
  return parsed;
}

/** The start-up files of `confdir` that exist, in the order they are read. */
export function configFiles(confdir: string): string[] {
  return CONFIG_FILES.map((name) => path.join(confdir, name)).filter((file) => fs.existsSync(file));
}

/**
 * The command line's option texts over those of `confdir`'s start-up files: what the main
 * thread reads for itself (dump's verbosity, whether to serve) before the engine has them.
 */
export function startupTexts(cli: Record<string, OptionText>, confdir: string): Record<string, OptionText> {
  const merged: Record<string, OptionText> = {};
  for (const file of configFiles(confdir)) Object.assign(merged, readOptionsFile(file).values);
  return { ...merged, ...cli };
}

function yamlValue(v: OptionValue): unknown {
  return v === undefined ? null : v;
}

/**
 * The `yaml` package keeps a file's opening comment as its first key's: deleting that option
 * (back at its default) took the file's header with it. The header goes to the document instead.
 */
function keepHeaderComment(doc: Document, name: string): void {
  const map = doc.contents;
  if (!isMap(map)) return;
  const first = map.items[0];
  if (!first || !isScalar(first.key) || first.key.value !== name || !first.key.commentBefore) return;
  doc.commentBefore = [doc.commentBefore, first.key.commentBefore].filter(Boolean).join("\n");
  first.key.commentBefore = undefined;
}

/**
 * Writes the options that differ from their defaults to `file`. An existing file is changed in
 * place: its comments stay, and so do names no option has now (an addon's that is not loaded).
 * Returns how many options were written.
 */
export function saveOptionsFile(file: string, options: Options): number {
  const doc = fs.existsSync(file) ? yamlDocument(readText(file), file, "; not overwritten") : new Document({});
  // An empty file is no document yet; anything else but `name: value` lines is not ours to replace.
  if (doc.contents === null) doc.contents = doc.createNode({});
  else if (!isMap(doc.contents)) throw new OptionError(`${file} holds no option: value lines; not overwritten`);
  let written = 0;
  for (const name of options.names()) {
    if (options.isDefault(name)) {
      keepHeaderComment(doc, name);
      doc.delete(name);
      continue;
    }
    doc.set(name, yamlValue(options.get(name)));
    written++;
  }
  fs.writeFileSync(file, String(doc));
  return written;
}
