/**
 * Rewrites text in response bodies: every `FROM` becomes `TO` (option `rewrite_body`, as
 * FROM/TO), in text responses only (text/*, JSON, JavaScript, XML), so images and downloads
 * pass untouched. Working on `flow.response.text`, the body is decompressed, decoded in its
 * charset, and written back compressed again with a right Content-Length. mitmproxy's docs
 * show this as `flow.response.content = flow.response.content.replace(b"foo", b"bar")` in a
 * response hook; its examples/addons/http-modify-form.py does the same for a request.
 *
 *   pryx dump -s addons/rewrite-body.ts --set rewrite_body='Example Domain/Pryx Domain'
 */
import type { Addon, Loader, http } from "pryx";

const TEXT_TYPE = /^(text\/|application\/([\w.+-]+\+)?(json|javascript|xml)\b)/i;

class RewriteBody implements Addon {
  readonly name = "rewrite-body";
  private loader: Loader | undefined;

  load(loader: Loader): void {
    this.loader = loader;
    loader.add_option("rewrite_body", "str", "", "FROM/TO: text the rewrite-body addon replaces in text response bodies (empty: off).", undefined, {
      validate: (v) => {
        if (typeof v === "string" && v !== "" && v.indexOf("/") <= 0) throw new Error(`${JSON.stringify(v)} is not FROM/TO with a non-empty FROM`);
      },
    });
  }

  response(flow: http.HTTPFlow): void {
    const spec = String(this.loader?.options["rewrite_body"] ?? "");
    const response = flow.response;
    if (!spec || !response || !TEXT_TYPE.test(response.headers.get("content-type") ?? "")) return;
    const cut = spec.indexOf("/");
    const text = response.text;
    if (text !== undefined) response.text = text.replaceAll(spec.slice(0, cut), spec.slice(cut + 1));
  }
}

export default new RewriteBody();
