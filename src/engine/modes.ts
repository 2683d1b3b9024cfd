/**
 * The proxy modes pryx serves, as typed after `-m`. The flag's help, the mode option's help
 * and check, and the listener's error all read this list, so a new mode is added once.
 */
export const MODES = ["regular", "upstream:URL", "reverse:URL", "socks5", "dns"] as const;

/** "regular, upstream:URL, reverse:URL, socks5 or dns": for help texts and errors. */
export function describeModes(last = "or"): string {
  return `${MODES.slice(0, -1).join(", ")} ${last} ${MODES.at(-1) ?? ""}`;
}

const PLAIN = MODES.filter((m) => !m.endsWith(":URL"));
const WITH_URL = MODES.filter((m) => m.endsWith(":URL")).map((m) => m.slice(0, -":URL".length));
const MODE_SPEC = new RegExp(`^(${PLAIN.join("|")}|(${WITH_URL.join("|")}):[a-z]+://\\S+)(@\\d+)?$`);

/** A mode as `-m` takes it: one of MODES (a URL where it says URL), optionally `@PORT`. */
export function isModeSpec(spec: string): boolean {
  return MODE_SPEC.test(spec);
}

/** Splits `-m socks5@1080` into the mode and its own port (undefined: the listen_port). */
export function parseModeSpec(spec: string): { mode: string; port: number | undefined } {
  const at = /@(\d+)$/.exec(spec);
  return at ? { mode: spec.slice(0, at.index), port: Number(at[1]) } : { mode: spec, port: undefined };
}

/**
 * Two modes given the same port (`-m regular -m socks5`, both on listen_port) cannot both
 * listen: the second would fail with "address in use", which reads as another program's fault.
 * dns listens on UDP, so it may share a port with a TCP mode. Port 0 picks a free port each time.
 */
export function samePortClash(modes: readonly string[], listenPort: number): string | undefined {
  const seen = new Map<string, string>();
  for (const spec of modes) {
    const { mode, port = listenPort } = parseModeSpec(spec);
    if (port === 0) continue;
    const key = `${mode === "dns" ? "udp" : "tcp"}:${port}`;
    const other = seen.get(key);
    if (other !== undefined) return `modes ${other} and ${spec} both listen on port ${port}: give one of them its own port, e.g. -m ${mode}@${port + 1}`;
    seen.set(key, spec);
  }
  return undefined;
}
