/**
 * Bodies are edited in the user's editor, as mitmproxy does: the body goes to a private temp file,
 * the editor runs on it with the terminal handed over, and the file is read back.
 */
import { spawnSync, type StdioOptions } from "node:child_process";
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TerminalHandover } from "./terminal.ts";

export type EditorChoice = { readonly kind: "external"; readonly command: string } | { readonly kind: "inline" };

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

export function onPath(cmd: string, pathVar: string | undefined): boolean {
  return (pathVar ?? "").split(path.delimiter).some((dir) => dir !== "" && isExecutable(path.join(dir, cmd)));
}

/**
 * PRYX_EDITOR (like MITMPROXY_EDITOR; `inline` asks for the built-in editor), then $EDITOR, then
 * $VISUAL, then nano or vi when installed; with none of them, the inline editor.
 */
export function chooseEditor(env: NodeJS.ProcessEnv, exists: (cmd: string) => boolean = (c) => onPath(c, env["PATH"])): EditorChoice {
  const pryx = env["PRYX_EDITOR"]?.trim();
  if (pryx === "inline") return { kind: "inline" };
  for (const v of [pryx, env["EDITOR"]?.trim(), env["VISUAL"]?.trim()]) if (v) return { kind: "external", command: v };
  for (const c of ["nano", "vi"]) if (exists(c)) return { kind: "external", command: c };
  return { kind: "inline" };
}

export class EditorError extends Error {}

export interface RunEditorOptions {
  command: string;
  terminal: TerminalHandover;
  /** The temp file's extension with its dot (`.json`), so the editor can highlight the body. */
  extension?: string;
  env?: NodeJS.ProcessEnv;
  /** The editor's stdio; a real terminal's by default. */
  stdio?: StdioOptions;
}

/** Runs `use` on a private temp file holding `content` (bodies carry cookies and tokens), then removes it. */
function withTempFile<T>(content: Uint8Array, extension: string | undefined, use: (file: string) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), "pryx-body-"));
  const file = path.join(dir, `body${extension ?? ".txt"}`);
  try {
    writeFileSync(file, content, { mode: 0o600 });
    return use(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs `o.command` on `file` with the terminal handed over, by the shell with the file as its
 * argument, as git runs $EDITOR, so `EDITOR="code --wait"` works. Throws EditorError naming the
 * program (`what`) when it cannot start or exits with a failure.
 */
function runOnFile(file: string, o: RunEditorOptions, what: "editor" | "viewer", consequence: string): void {
  const r = o.terminal.run(() => spawnSync("sh", ["-c", `${o.command} "$@"`, "sh", file], { stdio: o.stdio ?? "inherit", env: o.env ?? process.env }));
  if (r.error) throw new EditorError(`cannot run the ${what} ${JSON.stringify(o.command)}: ${r.error.message}`);
  if (r.status !== 0) {
    // The shell says 127 when it cannot find the command.
    const how = r.signal ? `was killed by ${r.signal}` : r.status === 127 ? "was not found (status 127)" : `exited with status ${r.status}`;
    throw new EditorError(`the ${what} ${JSON.stringify(o.command)} ${how}${consequence}`);
  }
}

/**
 * Edits bytes in an external editor and returns what it saved. Throws EditorError when the
 * editor cannot start or exits with a failure: the body then stays.
 */
export function editInExternalEditor(content: Uint8Array, o: RunEditorOptions): Uint8Array {
  return withTempFile(content, o.extension, (file) => {
    runOnFile(file, o, "editor", "; nothing was changed");
    return new Uint8Array(readFileSync(file));
  });
}

/** Shows bytes in an external viewer (mitmproxy's console.bodyview); nothing is read back. */
export function viewInExternalViewer(content: Uint8Array, o: RunEditorOptions): void {
  withTempFile(content, o.extension, (file) => runOnFile(file, o, "viewer", ""));
}

/**
 * The viewer for console.bodyview, as mitmproxy falls back from mailcap: $PAGER, then less or
 * more when installed, then the external editor; undefined when there is none of them.
 */
export function chooseViewer(env: NodeJS.ProcessEnv, exists: (cmd: string) => boolean = (c) => onPath(c, env["PATH"])): string | undefined {
  const pager = env["PAGER"]?.trim();
  if (pager) return pager;
  for (const c of ["less", "more"]) if (exists(c)) return c;
  const editor = chooseEditor(env, exists);
  return editor.kind === "external" ? editor.command : undefined;
}
