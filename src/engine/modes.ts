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
