/**
 * The time for flow timestamps, in seconds since the epoch to the microsecond, as mitmproxy's
 * time.time(): Date.now() has only milliseconds, so the requests of a keep-alive connection got
 * the same timestamps, and a .mitm file showed them as if rounded.
 *
 * The monotonic clock gives the fraction. It stops while the machine sleeps and does not follow
 * the wall clock when that is set, so it is moved back onto the wall clock whenever the two are
 * more than a few milliseconds apart; between those moves the times never go backwards.
 */
const DRIFT_MS = 4;
let offset = performance.timeOrigin;

export function now(): number {
  const mono = performance.now();
  let ms = offset + mono;
  const wall = Date.now();
  // Date.now() truncates: a clock in step reads up to a millisecond ahead of it.
  if (ms < wall - DRIFT_MS || ms > wall + DRIFT_MS) {
    offset = wall - mono;
    ms = wall;
  }
  return Math.round(ms * 1000) / 1e6;
}
