/**
 * An option that may be unset, checked when it is set (mitmproxy's
 * examples/addons/options-configure.py): with `addheader` set to a number, every response gets
 * an `addheader` header holding it; unset (the default), none. A value over 100 is refused by
 * `configure`, and the option keeps the value it had.
 *
 *   pryx dump -s addons/options-configure.ts --set addheader=42
 */
import { ctx, type Addon, type Loader, type http } from "pryx";

class AddHeader implements Addon {
  readonly name = "options-configure";

  load(loader: Loader): void {
    // "optional int" is mitmproxy's typing.Optional[int]: a number, or nothing (empty text).
    loader.add_option({ name: "addheader", typespec: "optional int", default: undefined, help: "Add a header to responses" });
  }

  configure(updated: Set<string>): void {
    const value = ctx.options["addheader"];
    if (updated.has("addheader") && typeof value === "number" && value > 100) throw new Error(`addheader must be <= 100, got ${value}`);
  }

  response(flow: http.HTTPFlow): void {
    const value = ctx.options["addheader"];
    if (value !== undefined) flow.response?.headers.set("addheader", String(value));
  }
}

export default new AddHeader();
