import type { Loader } from "../hooks/loader.ts";
import type { OptionValue } from "../options.ts";
import type { HTTPFlow } from "../flow/http.ts";

/**
 * mitmproxy's UpstreamAuth in reverse mode: `upstream_auth` (user:pass) is the reverse target's
 * Basic Authorization on every request, set in requestheaders as mitmproxy sets it, so the flow
 * shows what the server got. (In upstream mode it is the proxy's Proxy-Authorization.)
 */
export class ReverseAuthAddon {
  readonly name = "reverse_auth";
  private options: Readonly<Record<string, OptionValue>> = {};

  load(loader: Loader): void {
    this.options = loader.options;
  }

  /** Without credentials to send, requests do not wait on it. */
  handles(): boolean {
    return typeof this.options.upstream_auth === "string" && this.options.upstream_auth !== "";
  }

  requestheaders(flow: HTTPFlow): void {
    const auth = this.options.upstream_auth;
    if (typeof auth !== "string" || !auth || !flow.client_conn.proxy_mode.startsWith("reverse:")) return;
    flow.request.plainHeaders.set("authorization", `Basic ${Buffer.from(auth, "utf8").toString("base64")}`);
  }
}
