/**
 * Adds a header to every response (mitmproxy's examples/addons/http-add-header.py).
 *
 *   pryx dump -s addons/add-header.ts
 */
import { type Addon, type http } from "pryx";

export default {
  name: "add-header",
  response(flow: http.HTTPFlow) {
    flow.response?.headers.set("X-Pryx", "seen");
  },
} satisfies Addon;
