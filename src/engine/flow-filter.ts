import type { Flow } from "./flow/flow.ts";
import { compileFilter, type FilterableFlow } from "./filter/index.ts";

/** A filter option's value (view_filter, save_stream_filter, readfile_filter) as a predicate over flows; undefined when unset. */
export function flowFilter(expr: string | undefined): ((flow: Flow) => boolean) | undefined {
  if (!expr) return undefined;
  const pred = compileFilter(expr);
  return (flow) => pred(flow as unknown as FilterableFlow);
}
