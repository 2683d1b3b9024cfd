import fs from "node:fs";
import path from "node:path";
import { makeDirectories } from "../make-directories.ts";
import type { Loader } from "../hooks/loader.ts";
import type { OptionValue } from "../options.ts";
import type { Log } from "../log.ts";
import { HTTPFlow } from "../flow/http.ts";
import type { Flow } from "../flow/flow.ts";
import { FinishedFlows } from "../finished-flows.ts";
import { toHar } from "../flow/har.ts";

/**
 * mitmproxy's `hardump`: every HTTP flow of the run (those matching save_stream_filter, if it
 * is set) is written as one HAR file when pryx exits; `-` prints it. The flows are kept for
 * it from the moment the option is set, so it costs the memory of a console's store.
 */
export class HarDumpAddon extends FinishedFlows {
  readonly name = "hardump";
  private options: Readonly<Record<string, OptionValue>> = {};
  private flows: HTTPFlow[] = [];

  constructor(
    private readonly log: Log,
    private readonly print: (text: string) => void,
  ) {
    super();
  }

  load(loader: Loader): void {
    // Checked when set, as save_stream_file is: written only at exit, a path nothing can write to lost the run's flows unsaid.
    loader.add_option("hardump", "str", "", "Save every HTTP flow of the run as a HAR file on exit (- prints it); save_stream_filter selects which.", undefined, { paths: true, validate: writableTarget });
    this.options = loader.options;
  }

  configure(updated: Set<string>): void {
    if (updated.has("save_stream_filter")) this.setFilter(this.options.save_stream_filter as string | undefined);
  }

  protected finished(flow: Flow): void {
    if (this.options.hardump && flow instanceof HTTPFlow) this.flows.push(flow);
  }

  done(): void {
    const target = this.options.hardump as string;
    if (!target) return;
    const har = toHar(this.flows);
    if (target === "-") {
      this.print(`${har}\n`);
      return;
    }
    try {
      fs.writeFileSync(target, har);
      this.log.info(`saved ${this.flows.length} flow${this.flows.length === 1 ? "" : "s"} as HAR to ${target}`);
    } catch (err) {
      this.log.error(`cannot write the HAR file ${target}: ${(err as Error).message}`);
    }
  }
}

/** A file the HAR can be written to at exit: its directory made now if missing, and writable. */
function writableTarget(v: OptionValue): void {
  if (typeof v !== "string" || !v || v === "-") return;
  const dir = path.dirname(path.resolve(v));
  try {
    makeDirectories(dir);
    if (!fs.statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    throw new Error(`cannot write the HAR file ${v} there: ${(err as Error).message}`);
  }
}
