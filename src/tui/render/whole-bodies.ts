/**
 * Large bodies shown whole (`f`), rendered on the body renderer's thread. Until a body's lines
 * arrive its first lines are shown, rendered here, with a line saying the rest is on its way;
 * the lines are kept with the body (per view mode), so `f` twice, or another tab and back, does
 * not render them again.
 */
import { renderContent, rendersLazily, type RenderOptions, type ViewName, type ViewResult } from "../contentviews/index.ts";
import { bodyCut, type BodyRender } from "../detail-lines.ts";
import type { MessageDetail } from "../../protocol.ts";
import { humanSize } from "../format.ts";
import { BodyRenderer, type BodyRendering } from "./body-renderer.ts";

/** Smaller bodies render in tens of milliseconds at most: on the console's thread, at once. */
export const OFF_THREAD_BYTES = 1024 * 1024;

type Rendered = ViewResult | "pending" | Error;

export class WholeBodies {
  private readonly byBody = new WeakMap<Uint8Array, Map<ViewName, Rendered>>();

  constructor(
    /** Lines shown while a body renders: content_view_lines_cutoff. */
    private readonly firstLines: () => number,
    /** The most of a body the console asks the engine for, to show it whole. */
    private readonly fetchLimit: number,
    /** A body's lines arrived (or its render failed): the screens showing it render again. */
    private readonly onDone: () => void,
    private readonly onError: (message: string) => void,
    private readonly renderer: BodyRendering = new BodyRenderer(),
  ) {}

  /** A `BodyRender` for the flow view's tabs. */
  readonly render: BodyRender = (m, mode, opts) => {
    const whole = opts.maxLines === undefined || opts.maxLines > this.firstLines();
    // A protobuf schema is code (protobufjs types): it cannot cross to the worker. Lines made as
    // they are read (hex) cost nothing up front.
    if (!whole || m.body.length < OFF_THREAD_BYTES || opts.schema || rendersLazily(m.body, m.contentType, mode)) return renderContent(m.body, m.contentType, mode, opts);
    // Cut short by the engine, the whole body is on its way (f fetches it again): rendering the cut would be work thrown away.
    const coming = bodyCut(m) && m.body.length < this.fetchLimit;
    if (coming) return this.firstOf(m, mode, opts, "Loading");
    let byMode = this.byBody.get(m.body);
    if (!byMode) {
      byMode = new Map();
      this.byBody.set(m.body, byMode);
    }
    const done = byMode.get(mode);
    // The worker failed: render here after all, slow as it is, rather than not at all.
    if (done instanceof Error) return renderContent(m.body, m.contentType, mode, opts);
    if (done !== undefined && done !== "pending") return done;
    if (done === undefined) this.start(byMode, m, mode, opts);
    return this.firstOf(m, mode, opts, "Rendering");
  };

  /** The body's first lines, and a line that says the rest is `doing` ("Loading", "Rendering"). */
  private firstOf(m: MessageDetail, mode: ViewName, opts: RenderOptions, doing: string): ViewResult {
    const first = renderContent(m.body, m.contentType, mode, { ...opts, maxLines: this.firstLines(), cutNotice: `${doing} all ${humanSize(m.bodySize)} of it…` });
    return { ...first, pending: true };
  }

  private start(byMode: Map<ViewName, Rendered>, m: MessageDetail, mode: ViewName, opts: RenderOptions): void {
    byMode.set(mode, "pending");
    const job = { body: m.body, contentType: m.contentType, mode, maxLines: opts.maxLines ?? Number.MAX_SAFE_INTEGER, query: opts.query ?? [] };
    this.renderer.render(job).then(
      (r) => {
        byMode.set(mode, r);
        this.onDone();
      },
      (err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        byMode.set(mode, error);
        this.onError(`${error.message}; rendering here instead`);
        this.onDone();
      },
    );
  }

  close(): Promise<void> {
    return this.renderer.close();
  }
}
