import type { Loader } from "../hooks/loader.ts";
import type { OptionValue } from "../options.ts";
import type { HTTPFlow } from "../flow/http.ts";

/** Every `host:port` an Alt-Svc entry names (`h3="example.com:443"`, `h2=":443"`). */
const ALTERNATIVE = /[a-zA-Z0-9.-]*:\d{1,5}/g;

/**
 * mitmproxy's UpdateAltSvc. In reverse mode the client knows only pryx: an Alt-Svc header from
 * the server would send it to the server itself (HTTP/3 over UDP, past the proxy) for the next
 * requests. Each alternative is pointed at the port the client reached pryx on instead, unless
 * `keep_alt_svc_header` is on.
 */
export class UpdateAltSvcAddon {
  readonly name = "update_alt_svc";
  private options: Readonly<Record<string, OptionValue>> = {};
  /** Read when it changes: this hook runs for every response, and options are read through a Proxy. */
  private keep = false;

  load(loader: Loader): void {
    loader.add_option(
      "keep_alt_svc_header",
      "bool",
      false,
      "Reverse Proxy: Keep Alt-Svc headers as-is, even if they do not point to mitmproxy. Enabling this option may cause clients to bypass the proxy.",
    );
    this.options = loader.options;
  }

  configure(updated: Set<string>): void {
    if (updated.has("keep_alt_svc_header")) this.keep = this.options.keep_alt_svc_header === true;
  }

  responseheaders(flow: HTTPFlow): void {
    // Reverse mode first: it is the rare case, and the cheapest test.
    if (!flow.client_conn.proxy_mode.startsWith("reverse:") || this.keep) return;
    const response = flow.response;
    if (!response) return;
    const headers = response.plainHeaders;
    const values = headers.getAll("alt-svc");
    if (values.length === 0) return;
    const port = flow.client_conn.sockname[1];
    headers.setAll("alt-svc", values.map((v) => v.replace(ALTERNATIVE, `:${port}`)));
  }
}
