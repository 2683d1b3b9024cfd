import type { Loader } from "../hooks/loader.ts";
import type { OptionValue } from "../options.ts";
import type { Client } from "../flow/connection.ts";
import type { Log } from "../log.ts";
import { addressKind } from "./address-kind.ts";

/**
 * mitmproxy's Block: refuses clients from public addresses (`block_global`, on by default) and,
 * with `block_private`, from private ones. Loopback and link-local clients are always served.
 */
export class BlockAddon {
  readonly name = "block_clients";
  private options: Readonly<Record<string, OptionValue>> = {};

  constructor(private readonly log: Log) {}

  load(loader: Loader): void {
    loader.add_option("block_global", "bool", true, "Block connections from public IP addresses.");
    loader.add_option(
      "block_private",
      "bool",
      false,
      "Block connections from local (private) IP addresses. This option does not affect loopback addresses (connections from the local machine), which are always permitted.",
    );
    this.options = loader.options;
  }

  client_connected(client: Client): void {
    const address = client.peername[0];
    const kind = addressKind(address);
    const option = kind === "private" && this.options.block_private ? "block_private" : kind === "global" && this.options.block_global ? "block_global" : undefined;
    if (!option) return;
    this.log.warn(`Client connection from ${address} killed by ${option} option.`);
    client.error = `Connection killed by ${option}.`;
  }
}
