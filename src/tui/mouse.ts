/**
 * Mouse reports, as a terminal sends them once asked to (`console_mouse`): SGR sequences
 * `ESC [ < button ; x ; y M` for a press and `m` for a release, x and y counted from 1. Ink hands
 * them to useInput without the ESC.
 */
export type MouseReport =
  | { kind: "wheel"; up: boolean; x: number; y: number }
  | { kind: "press" | "release"; button: number; x: number; y: number }
  /** A sideways wheel, a drag: reported, and nothing the console does with it. */
  | { kind: "other"; x: number; y: number };

const SGR = /^\x1b?\[<(\d+);(\d+);(\d+)([Mm])$/;

/** The report an input holds, or undefined when it is a key. */
export function parseMouse(input: string): MouseReport | undefined {
  const m = SGR.exec(input);
  if (!m) return undefined;
  const code = Number(m[1]);
  const x = Number(m[2]);
  const y = Number(m[3]);
  // The low two bits name the button; 4, 8 and 16 are Shift, Alt and Ctrl; 32 a drag; 64 the wheel
  // (64 up, 65 down; 66 and 67 sideways).
  if (code & 32) return { kind: "other", x, y };
  if (code & 64) return (code & 2) === 0 ? { kind: "wheel", up: (code & 1) === 0, x, y } : { kind: "other", x, y };
  return { kind: m[4] === "M" ? "press" : "release", button: code & 3, x, y };
}
