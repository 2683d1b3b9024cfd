/**
 * One shared copy per distinct short string, for data a console keeps for the whole session
 * (the engine's stored flows that are not packed).
 * Every parsed message brings fresh copies of the same header values (content types, server
 * names, user agents); stored flows that share one copy keep fewer objects alive for the
 * garbage collector to walk. Bounded: when the table fills up it starts over.
 */
const MAX_STRINGS = 50_000;
/** Longer values (cookies, tokens) are rarely repeated; hashing them would only cost. */
const MAX_LENGTH = 200;

export class StringPool {
  private readonly strings = new Map<string, string>();

  constructor(private readonly maxStrings = MAX_STRINGS) {}

  share<T extends string | undefined>(s: T): T {
    if (s === undefined || s.length > MAX_LENGTH) return s;
    const known = this.strings.get(s);
    if (known !== undefined) return known as T;
    if (this.strings.size >= this.maxStrings) this.strings.clear();
    this.strings.set(s, s);
    return s;
  }
}
