import type { Flow } from "./flow/flow.ts";
import { compileFilter, type FilterableFlow } from "./filter/index.ts";

/** A flow as the filter reads it. Flow's classes have every field the filter reads; the filter's types only say so structurally. */
export function filterable(flow: Flow): FilterableFlow {
  return flow as unknown as FilterableFlow;
}

/** A filter option's value (view_filter, save_stream_filter, readfile_filter) as a predicate over flows; undefined when unset. */
export function flowFilter(expr: string | undefined): ((flow: Flow | FilterableFlow) => boolean) | undefined {
  if (!expr) return undefined;
  const pred = compileFilter(expr);
  return (flow) => pred(flow as FilterableFlow);
}
