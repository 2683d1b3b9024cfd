/** A CSV cell (RFC 4180 quoting, as Python's csv module writes). */
function csvCell(v: string | Uint8Array): string {
  const text = typeof v === "string" ? v : Buffer.from(v).toString("utf8");
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Rows as CSV lines ending in CRLF, as Python's csv writer ends them. */
export function csvRows(rows: readonly (readonly (string | Uint8Array)[])[]): string {
  return rows.map((r) => `${r.map(csvCell).join(",")}\r\n`).join("");
}
