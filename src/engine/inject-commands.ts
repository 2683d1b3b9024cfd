/**
 * mitmproxy's inject.websocket and inject.tcp: send a message pryx makes up into a live
 * connection, to the client or to the server. From the prompt the message is text; from an
 * addon (`ctx.master.commands.call("inject.websocket", flow, true, bytes)`, as mitmproxy's
 * example script does) it may be bytes, and a flow that cannot take it is a warning in the
 * event log rather than an error thrown into the script, as in mitmproxy.
 */
import { CommandError, type CommandRegistry } from "./commands.ts";
import type { Flow } from "./flow/flow.ts";
import type { Log } from "./log.ts";
import type { Injectors, RelayKind } from "./proxy/injectors.ts";
import { resolveFlows } from "./flow-commands.ts";
import type { FlowStore } from "./store.ts";
import { boolText } from "./options.ts";
import { escapedToBytes } from "../escapes.ts";

export interface InjectDeps {
  store: FlowStore;
  injectors: Injectors;
  log: Log;
}

function flag(v: unknown, name: string): boolean {
  const b = typeof v === "boolean" ? v : typeof v === "string" ? boolText(v) : undefined;
  if (b === undefined) throw new CommandError(`${name} must be true or false, got ${JSON.stringify(v)}`);
  return b;
}

/**
 * The message to send. Typed at the prompt (`typed`), it is escaped text as mitmproxy's `bytes`
 * arguments are: `'PING\r\n'`, `'\x00\x01'` (a line protocol's command needs its CRLF). An
 * addon's string is sent as it is, in UTF-8.
 */
function bytes(v: unknown, typed: boolean): Buffer {
  if (typeof v === "string") return typed ? Buffer.from(escapedToBytes(v), "latin1") : Buffer.from(v, "utf8");
  if (v instanceof Uint8Array) return Buffer.from(v);
  throw new CommandError(`the message must be text or bytes, got ${typeof v}`);
}

export function registerInjectCommands(commands: CommandRegistry, deps: InjectDeps): void {
  const flowsOf = (v: unknown): Flow[] => {
    if (typeof v === "string") return resolveFlows(deps.store, v);
    if (Array.isArray(v)) return v as Flow[];
    if (v !== null && typeof v === "object" && typeof (v as Flow).id === "string") return [v as Flow];
    throw new CommandError("inject needs a flow (an id, @focus from the console, or a filter)");
  };
  const add = (kind: RelayKind, signature: string, help: string): void => {
    const inject = (args: readonly unknown[], fromAddon: boolean): string => {
      const [spec, toClient, message, isText] = args;
      if (spec === undefined || toClient === undefined || message === undefined) throw new CommandError(`usage: ${signature}`);
      const flows = flowsOf(spec);
      const to = flag(toClient, "to_client");
      const content = bytes(message, !fromAddon);
      const text = isText === undefined ? kind === "websocket" : flag(isText, "is_text");
      for (const f of flows) {
        try {
          deps.injectors.inject(f.id, kind, to, content, text);
        } catch (err) {
          if (!fromAddon) throw new CommandError((err as Error).message);
          deps.log.warn(`inject.${kind}: ${(err as Error).message}`);
        }
      }
      return `injected ${content.length} bytes to the ${to ? "client" : "server"} of ${flows.length} flow${flows.length === 1 ? "" : "s"}`;
    };
    commands.add({ name: `inject.${kind}`, signature, help, run: (args) => inject(args, false), call: (args) => inject(args, true) });
  };
  add("websocket", "inject.websocket flow to_client message [is_text]", "Inject a WebSocket message into a live flow, to the client (true) or to the server (false); text unless is_text is false.");
  add("tcp", "inject.tcp flow to_client message", "Inject bytes into a live TCP flow, to the client (true) or to the server (false).");
  add("udp", "inject.udp flow to_client message", "Inject a datagram into a live UDP flow, to the client (true) or to the server (false).");
}
