/**
 * useSyncExternalStore with a selector and an equality test, so a component re-renders only when
 * the part it reads changes (not on every batch the store applies).
 */
import { useRef, useSyncExternalStore } from "react";

export function useSelector<S, T>(
  subscribe: (fn: () => void) => () => void,
  getState: () => S,
  select: (s: S) => T,
  isEqual: (a: T, b: T) => boolean = Object.is,
): T {
  const cache = useRef<{ s: S; v: T } | undefined>(undefined);
  const selectRef = useRef(select);
  // The latest selector, so one that closes over props (a width) is never stale.
  if (selectRef.current !== select) {
    selectRef.current = select;
    cache.current = undefined;
  }
  const getSnapshot = (): T => {
    const s = getState();
    const c = cache.current;
    if (c && c.s === s) return c.v;
    const v = selectRef.current(s);
    if (c && isEqual(c.v, v)) {
      cache.current = { s, v: c.v };
      return c.v;
    }
    cache.current = { s, v };
    return v;
  };
  return useSyncExternalStore(subscribe, getSnapshot);
}

export function shallowEqual<T extends object>(a: T, b: T): boolean {
  if (a === b) return true;
  const ka = Object.keys(a) as (keyof T)[];
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!Object.is(a[k], b[k])) return false;
  return true;
}
