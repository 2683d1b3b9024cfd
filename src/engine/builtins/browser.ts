import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Loader } from "../hooks/loader.ts";
import type { Log } from "../log.ts";
import { CommandError } from "../commands.ts";

/** How much of a browser's stderr is kept, to say why it exited. */
const STDERR_KEPT = 2048;

/** Chromium-family browsers, as mitmproxy's browser addon looks for them, in its order. */
const CANDIDATES = ["chrome", "google-chrome", "google-chrome-stable", "chromium", "chromium-browser", "microsoft-edge", "microsoft-edge-stable"];
const MAC_APPS = ["/Applications/Google Chrome.app/Contents/MacOS/Google Chrome", "/Applications/Chromium.app/Contents/MacOS/Chromium", "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge"];

/** The first Chromium-family browser on PATH (or in /Applications), or undefined. */
export function findBrowser(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env["PATH"] ?? "").split(path.delimiter).filter(Boolean)) {
    for (const name of CANDIDATES) {
      const file = path.join(dir, name);
      try {
        fs.accessSync(file, fs.constants.X_OK);
        return file;
      } catch {
        // Not here.
      }
    }
  }
  return process.platform === "darwin" ? MAC_APPS.find((f) => fs.existsSync(f)) : undefined;
}

/**
 * The command line of a browser that uses the proxy, in a profile of its own. Every host
 * certificate pryx makes in a run shares one key, so naming that key's SPKI hash lets the
 * browser accept them without the CA installed (mitmproxy's browser asks the user to install it).
 */
export function browserArgs(proxy: string, profileDir: string, leafSpkiSha256: string | undefined, asRoot = process.getuid?.() === 0): string[] {
  return [
    `--user-data-dir=${profileDir}`,
    // Chromium refuses to start as root with its sandbox ("Running as root without --no-sandbox
    // is not supported"), as in a container or a root SSH session.
    ...(asRoot ? ["--no-sandbox"] : []),
    `--proxy-server=${proxy}`,
    // Chromium sends localhost straight to the server, past any proxy; a local dev server is
    // much of what such a browser is for.
    "--proxy-bypass-list=<-loopback>",
    ...(leafSpkiSha256 ? [`--ignore-certificate-errors-spki-list=${leafSpkiSha256}`] : []),
    "--disable-fre",
    "--no-default-browser-check",
    "--no-first-run",
    "--disable-extensions",
    "about:blank",
  ];
}

/** mitmproxy's `browser.start` (`B`): a browser attached to the proxy, closed when pryx stops. */
export class BrowserAddon {
  readonly name = "browser";
  private readonly started: { child: ChildProcess; profile: string }[] = [];

  constructor(
    private readonly log: Log,
    private readonly leafSpkiSha256: () => string | undefined,
    private readonly proxyAddress: () => string | undefined,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  load(loader: Loader): void {
    loader.add_command("browser.start", () => this.start(), "Start a Chromium-family browser that uses this proxy, in a profile of its own; it is closed when pryx stops.", "browser.start");
  }

  private start(): string {
    const browser = findBrowser(this.env);
    if (!browser) throw new CommandError(`no Chrome, Chromium or Edge found on PATH (looked for ${CANDIDATES.join(", ")}); install one, e.g. apt-get install chromium`);
    const proxy = this.proxyAddress();
    if (!proxy) throw new CommandError("pryx is not listening as a regular, upstream or SOCKS5 proxy: a browser has nothing to use");
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), "pryx-browser-"));
    const child = spawn(browser, browserArgs(proxy, profile, this.leafSpkiSha256()), { stdio: ["ignore", "ignore", "pipe"], env: this.env });
    const entry = { child, profile };
    this.started.push(entry);
    // What it says as it fails (no display over SSH, a sandbox refused): the last words only.
    let said = "";
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      said = (said + chunk).slice(-STDERR_KEPT);
    });
    const gone = (): void => {
      fs.rmSync(profile, { recursive: true, force: true });
      const i = this.started.indexOf(entry);
      if (i >= 0) this.started.splice(i, 1);
    };
    child.on("error", (err) => {
      this.log.error(`browser ${browser} failed to start: ${err.message}`);
      gone();
    });
    child.on("exit", (code) => {
      const closedByPryx = !this.started.includes(entry);
      gone();
      if (closedByPryx || code === 0) return;
      // The last line: what a browser says last is why it gave up (wrapper scripts chatter before it).
      const last = said.trim().split("\n").filter((l) => l.trim()).at(-1) ?? "";
      this.log.error(`browser ${path.basename(browser)} exited with code ${code ?? "?"}${last ? `: ${last}` : ""}`);
    });
    return `started ${path.basename(browser)} using the proxy at ${proxy}`;
  }

  done(): void {
    for (const { child, profile } of this.started.splice(0)) {
      child.kill();
      fs.rmSync(profile, { recursive: true, force: true });
    }
  }
}
