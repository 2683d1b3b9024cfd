/**
 * Answers requests for one URL from the proxy, without sending anything to the server
 * (mitmproxy's examples/addons/http-reply-from-proxy.py): a stand-in for an endpoint that is
 * down or not written yet. Every other request goes through.
 *
 *   pryx dump -s addons/reply-from-proxy.ts --set reply_from_proxy_url=http://example.com/path
 */
import { http, type Addon, type Loader } from "pryx";

class ReplyFromProxy implements Addon {
  readonly name = "reply-from-proxy";
  private loader: Loader | undefined;

  load(loader: Loader): void {
    this.loader = loader;
    loader.add_option("reply_from_proxy_url", "str", "http://example.com/path", "The URL the reply-from-proxy addon answers itself, with 200 Hello World.");
  }

  request(flow: http.HTTPFlow): void {
    if (flow.request.pretty_url === this.loader?.options["reply_from_proxy_url"])
      flow.response = http.Response.make(200, "Hello World", { "Content-Type": "text/html" });
  }
}

export default new ReplyFromProxy();
