/**
 * Logs the flows that match a filter expression (mitmproxy's examples/addons/filter-flows.py):
 * the `flowfilter` option takes the console's filter syntax (`~u /api & ~c 500`); empty logs
 * nothing. A filter that does not parse is refused when set, and the old one stays.
 *
 *   pryx dump -s addons/filter-flows.ts --set flowfilter='~u /api & ~c 500'
 */
import { ctx, flowfilter, type Addon, type FlowMatcher, type Loader, type http } from "pryx";

class FilterFlows implements Addon {
  readonly name = "filter-flows";
  private filter: FlowMatcher | undefined;

  load(loader: Loader): void {
    loader.add_option("flowfilter", String, "", "Log the flows that match this filter (empty: none).");
  }

  configure(updated: Set<string>): void {
    if (!updated.has("flowfilter")) return;
    const expr = String(ctx.options["flowfilter"] ?? "");
    // A syntax error throws here, which refuses the value (mitmproxy's parse raises the same way).
    this.filter = expr ? flowfilter.parse(expr) : undefined;
  }

  response(flow: http.HTTPFlow): void {
    if (this.filter && flowfilter.match(this.filter, flow))
      ctx.log.info(`Flow matches filter: ${flow.request.method} ${flow.request.pretty_url} ${flow.response?.status_code ?? ""}`);
  }
}

export default new FilterFlows();
